// Finding and running external programs (git, gnuplot) without failing when they are absent.
import Foundation

public enum ExternalTool {
    /// The executable `name` on `PATH`, or nil.
    public static func find(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs a program to completion; returns its exit status and output (stdout and stderr), or nil if it
    /// could not be started.
    public static func run(_ executable: URL, arguments: [String], in directory: URL? = nil)
        -> (status: Int32, output: String, errors: String)?
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // Read before waiting so a chatty program cannot block on a full pipe.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The first line of `name --version` (or of `arguments`), when the tool is installed.
    public static func version(of name: String, arguments: [String] = ["--version"]) -> String? {
        guard let url = find(name), let result = run(url, arguments: arguments), result.status == 0 else { return nil }
        let text = result.output.isEmpty ? result.errors : result.output
        return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
