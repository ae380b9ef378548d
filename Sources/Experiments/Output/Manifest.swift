// The manifest written beside every output: what was run, with which configuration and seed, at which
// revision, with which library and tool versions, and when. JSON, keys sorted, so two manifests diff cleanly.
import Foundation
import Reference

public struct Manifest: Codable, Equatable, Sendable {
    /// The command line or experiment name (`rnnode solve lorenz --model esn`).
    public var command: String
    /// Every setting that determines the result, as text.
    public var configuration: [String: String]
    public var seed: UInt64
    /// `git rev-parse HEAD` of the working directory, when it is a git checkout.
    public var gitRevision: String?
    /// True when the checkout had uncommitted changes (`git status --porcelain` not empty).
    public var gitDirty: Bool?
    public var gslVersion: String?
    /// Tool and platform versions (`swift`, `gnuplot`, `os`, …).
    public var tools: [String: String]
    /// ISO 8601 UTC.
    public var date: String
    /// Files written by the run, relative to the manifest's directory.
    public var outputs: [String]

    public init(command: String, configuration: [String: String], seed: UInt64, gitRevision: String?, gitDirty: Bool?,
                gslVersion: String?, tools: [String: String], date: String, outputs: [String]) {
        self.command = command; self.configuration = configuration; self.seed = seed; self.gitRevision = gitRevision
        self.gitDirty = gitDirty; self.gslVersion = gslVersion; self.tools = tools; self.date = date; self.outputs = outputs
    }

    /// A manifest for now: revision from git (if available), GSL's version, the Swift compiler, gnuplot and OS.
    public static func collect(command: String, configuration: [String: String], seed: UInt64,
                               outputs: [String] = []) -> Manifest {
        var revision: String?
        var dirty: Bool?
        if let git = ExternalTool.find("git"),
           let head = ExternalTool.run(git, arguments: ["rev-parse", "HEAD"]), head.status == 0 {
            revision = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if let status = ExternalTool.run(git, arguments: ["status", "--porcelain", "--untracked-files=no"]), status.status == 0 {
                dirty = !status.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
        }
        var tools = ["swift": swiftCompilerVersion, "os": ProcessInfo.processInfo.operatingSystemVersionString]
        if let gnuplot = ExternalTool.version(of: "gnuplot") { tools["gnuplot"] = gnuplot }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return Manifest(command: command, configuration: configuration, seed: seed, gitRevision: revision, gitDirty: dirty,
                        gslVersion: Reference.gslVersion, tools: tools, date: formatter.string(from: Date()), outputs: outputs)
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(self), to: url)
    }

    public static func read(from url: URL) throws -> Manifest {
        let data = try FileSystem.read(url)
        do { return try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw OutputError(url: url, message: "not a readable manifest: \(FileSystem.describe(decodingError: error))")
        }
    }
}

/// The Swift compiler this binary was built with (to the minor version).
public let swiftCompilerVersion: String = {
    #if compiler(>=6.3)
    return "6.3+"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #else
    return "6.0"
    #endif
}()
