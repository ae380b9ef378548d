// The catalog: problem files under `problems/`, found by name, or any `.toml` path.
import Foundation

public enum Catalog {
    /// The `problems/` folder: `$RNNODE_PROBLEMS`, else `./problems`, else found upward from the executable.
    public static func directory() throws -> URL {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["RNNODE_PROBLEMS"], !path.isEmpty {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ProblemError(file: path, message: "RNNODE_PROBLEMS names no folder")
            }
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        let local = URL(fileURLWithPath: fileManager.currentDirectoryPath).appendingPathComponent("problems")
        if holdsProblems(local) { return local }
        var starts: [URL] = []
        if let executable = Bundle.main.executableURL { starts.append(executable.resolvingSymlinksInPath()) }
        if let first = CommandLine.arguments.first, !first.isEmpty {
            starts.append(URL(fileURLWithPath: first).resolvingSymlinksInPath())
        }
        for start in starts {
            var folder = start.deletingLastPathComponent()
            while folder.path != "/" && !folder.path.isEmpty {
                let candidate = folder.appendingPathComponent("problems")
                if holdsProblems(candidate) { return candidate }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw ProblemError(message: "cannot find the problems folder",
                           hint: "run from the repository root or set RNNODE_PROBLEMS=/path/to/problems")
    }

    /// Names of the ODE problems in the catalog, sorted.
    public static func names() throws -> [String] {
        try names(in: directory())
    }

    /// A catalog name (`lorenz`) or a path to a `.toml` file. An unknown name lists the known ones.
    public static func load(_ nameOrPath: String) throws -> Problem {
        let url: URL
        if nameOrPath.hasSuffix(".toml") || nameOrPath.contains("/") {
            url = URL(fileURLWithPath: nameOrPath)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ProblemError(file: nameOrPath, message: "no such file")
            }
        } else {
            let folder = try directory()
            url = folder.appendingPathComponent(nameOrPath + ".toml")
            guard FileManager.default.fileExists(atPath: url.path) else {
                let known = names(in: folder)
                let hint = closest(to: nameOrPath, in: known).map { "did you mean '\($0)'? " } ?? ""
                throw ProblemError(message: "unknown problem '\(nameOrPath)'",
                                   hint: hint + "known problems: " + known.joined(separator: ", "))
            }
        }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ProblemError(file: displayPath(url), message: "cannot read the file: \(error.localizedDescription)")
        }
        var problem = try parse(text, file: displayPath(url))
        problem.file = url
        return problem
    }

    /// Parses problem-file text; `file` is used in error messages.
    public static func parse(_ text: String, file: String) throws -> Problem {
        try Problem(source: ProblemFileReader.read(text, file: file))
    }

    /// The `.toml` files directly in `folder` (not in `eigen/`), by stem.
    static func names(in folder: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
    }

    private static func holdsProblems(_ folder: URL) -> Bool {
        !names(in: folder).isEmpty
    }

    /// The path relative to the current directory when it lies below it (`problems/lorenz.toml`).
    static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
