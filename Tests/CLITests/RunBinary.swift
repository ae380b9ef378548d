// Runs the built `rnnode` executable (found next to the test bundle in the build products folder) and captures
// its exit status, stdout and stderr; temporary folders for problem files and outputs.
import Foundation

struct CommandResult {
    /// The exit status, or the signal number when `signalled`.
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process was killed by a signal (a trap, an abort) instead of exiting.
    var signalled = false
}

enum RNNodeBinary {
    /// The repository root, from this file's path (Tests/CLITests/RunBinary.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `rnnode` in the same build products folder as the running test bundle; `$RNNODE_BINARY` overrides.
    static var url: URL {
        if let path = ProcessInfo.processInfo.environment["RNNODE_BINARY"] { return URL(fileURLWithPath: path) }
        var folder = Bundle.main.bundleURL
        if folder.pathExtension == "xctest" { folder = folder.deletingLastPathComponent() }
        for candidate in [folder, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap({ $0 }) {
            let binary = candidate.appendingPathComponent("rnnode")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return folder.appendingPathComponent("rnnode")
    }

    /// This process's environment with the repository's catalog: the environment of every rnnode the tests start.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["RNNODE_PROBLEMS"] = repositoryRoot.appendingPathComponent("problems").path
        return environment
    }

    /// Runs `rnnode arguments…` with the repository's catalog, in `directory` (a fresh temporary one by default).
    /// `standardOutput` or `standardError` (e.g. `/dev/full`) replace the captured stream; it is then returned empty.
    static func run(_ arguments: [String], in directory: URL? = nil, standardOutput: String? = nil,
                    standardError: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        let folder = try directory ?? temporaryFolder()
        process.currentDirectoryURL = folder
        // Output goes to files, not pipes, so a large output cannot fill a pipe and stall the child.
        let capture = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: capture) }
        let outURL = capture.appendingPathComponent("stdout"), errURL = capture.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: standardOutput.map { URL(fileURLWithPath: $0) } ?? outURL)
        let err = try FileHandle(forWritingTo: standardError.map { URL(fileURLWithPath: $0) } ?? errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return CommandResult(status: process.terminationStatus,
                             stdout: try String(contentsOf: outURL, encoding: .utf8),
                             stderr: try String(contentsOf: errURL, encoding: .utf8),
                             signalled: process.terminationReason == .uncaughtSignal)
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("rnnode-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
