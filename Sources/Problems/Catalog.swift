// The catalog: problem files under `problems/`, found by name, or any `.toml` path.
import Foundation
import Support

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
        let text = try InputFile.text(atPath: url.path, display: displayPath(url))
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

/// Input files read whole: the size limit checked while reading, UTF-8 checked with the position of the first bad
/// byte, and failures to open or read said in words.
enum InputFile {
    /// The text of the file at `path`; `display` names it in errors.
    static func text(atPath path: String, display: String) throws(ProblemError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ProblemError(file: display, message: "cannot open the file: \(reason(errno))") }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw ProblemError(file: display, message: "is a folder, not a file")
        }
        switch Descriptor.readAll(descriptor, limit: Limits.fileBytes) {
        case .success(let bytes):
            return try decode(bytes, file: display)
        case .failure(.system(let code)):
            throw ProblemError(file: display, message: "cannot read the file: \(reason(code))")
        case .failure(.tooLarge):
            throw ProblemError(file: display, message: "the file is larger than the limit of \(Limits.fileBytes >> 20) MB")
        }
    }

    /// `bytes` as UTF-8 text, or an error naming the line and byte offset of the first byte that is not UTF-8.
    static func decode(_ bytes: [UInt8], file: String) throws(ProblemError) -> String {
        if let offset = firstInvalidUTF8(bytes) {
            let line = bytes[..<offset].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            throw ProblemError(file: file, line: line, message: "not UTF-8 text: byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at byte offset \(offset) cannot start or continue a UTF-8 character")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Offset of the first byte of the first ill-formed UTF-8 sequence (Unicode Table 3-7), nil when well formed.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int, low: UInt8, high: UInt8
            switch b {
            case 0xC2...0xDF: length = 2; low = 0x80; high = 0xBF
            case 0xE0: length = 3; low = 0xA0; high = 0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3; low = 0x80; high = 0xBF
            case 0xED: length = 3; low = 0x80; high = 0x9F
            case 0xF0: length = 4; low = 0x90; high = 0xBF
            case 0xF1...0xF3: length = 4; low = 0x80; high = 0xBF
            case 0xF4: length = 4; low = 0x80; high = 0x8F
            default: return i
            }
            guard i + length <= n, (low...high).contains(bytes[i + 1]) else { return i }
            for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i }
            i += length
        }
        return nil
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EACCES, EPERM: "permission denied"
        case EISDIR: "is a folder, not a file"
        case ENOTDIR: "a part of the path is not a folder"
        case ENAMETOOLONG: "the path is too long"
        case ELOOP: "too many symbolic links on the path"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}

/// A line break of a text file: LF or CRLF (one Character in Swift, so splitting at "\n" alone misses it).
func isLineBreak(_ c: Character) -> Bool { c == "\n" || c == "\r\n" }
