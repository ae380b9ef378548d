// File-system calls for the output side, through POSIX so that every failure is reported in words with the errno
// of the call that failed ("cannot write results/x/errors.csv: No space left on device"), never an NSError dump.
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileSystem {
    /// The text of an errno value (`strerror`).
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Creates `directory` and its missing parents (mode 0777 less the umask), like `mkdir -p`.
    public static func createDirectories(_ directory: URL) throws {
        let path = directory.standardizedFileURL.path
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw OutputError(url: directory, action: "create directory", reason: "a file of that name is in the way")
            }
            return
        }
        let parent = directory.standardizedFileURL.deletingLastPathComponent()
        if parent.path != path { try createDirectories(parent) }
        if mkdir(path, 0o777) != 0 {
            let code = errno
            // Another process may have made it in between.
            if code == EEXIST, stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return }
            throw OutputError(url: directory, action: "create directory", errorNumber: code)
        }
    }

    /// The whole content of a file, or an error naming it with the reason.
    public static func read(_ url: URL) throws -> Data {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw OutputError(url: url, action: "read", errorNumber: errno) }
        defer { close(descriptor) }
        switch Descriptor.readAll(descriptor) {
        case .success(let bytes): return Data(bytes)
        case .failure(.system(let code)): throw OutputError(url: url, action: "read", errorNumber: code)
        case .failure(.tooLarge): preconditionFailure("no limit was given")
        }
    }

    /// The file's text as UTF-8; invalid bytes are an error naming the byte offset.
    public static func readText(_ url: URL) throws -> String {
        let data = try read(url)
        guard let text = String(validating: data, as: UTF8.self) else {
            let valid = data.withUnsafeBytes { raw in
                var offset = 0
                var decoder = UTF8()
                var iterator = raw.makeIterator()
                loop: while true {
                    switch decoder.decode(&iterator) {
                    case .scalarValue(let scalar): offset += UTF8.width(scalar)
                    case .emptyInput, .error: break loop
                    }
                }
                return offset
            }
            throw OutputError(url: url, message: "not UTF-8 text (invalid byte at offset \(valid))")
        }
        return text
    }

    /// Writes `text` to standard error, ignoring failures (a closed or full stderr must not stop a run).
    public static func warn(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Descriptor.writeAll(2, UnsafeRawBufferPointer($0)) }
    }
}

extension FileSystem {
    /// A JSON decoding failure in words: the key path and what was wrong, without Foundation's debug dump.
    public static func describe(decodingError error: Error) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.isEmpty ? "the top level" : "'" + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)' at \(path(context.codingPath))"
        case DecodingError.typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not a \(type)"
        case DecodingError.valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, expected a \(type)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

extension FileSystem {
    /// The names in `directory` (without `.` and `..`), unsorted.
    public static func contents(of directory: URL) throws -> [String] {
        guard let stream = opendir(directory.path) else { throw OutputError(url: directory, action: "list", errorNumber: errno) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file, or a directory with everything in it (symbolic links are removed, not followed). A path
    /// that does not exist is not an error.
    public static func remove(_ url: URL) throws {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            if errno == ENOENT { return }
            throw OutputError(url: url, action: "remove", errorNumber: errno)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in try contents(of: url) { try remove(url.appendingPathComponent(name)) }
            if rmdir(url.path) != 0 && errno != ENOENT { throw OutputError(url: url, action: "remove", errorNumber: errno) }
        } else if unlink(url.path) != 0 && errno != ENOENT {
            throw OutputError(url: url, action: "remove", errorNumber: errno)
        }
    }
}

extension FileSystem {
    /// Copies a file, or a directory and everything in it, to `target` (which must not exist); symbolic links are
    /// not followed (copied as links).
    public static func copyTree(from source: URL, to target: URL) throws {
        var info = stat()
        guard lstat(source.path, &info) == 0 else { throw OutputError(url: source, action: "copy", errorNumber: errno) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try createDirectories(target)
            for name in try contents(of: source) {
                try copyTree(from: source.appendingPathComponent(name), to: target.appendingPathComponent(name))
            }
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(source.path, &buffer, buffer.count - 1)
            guard count >= 0 else { throw OutputError(url: source, action: "copy", errorNumber: errno) }
            buffer[count] = 0
            guard symlink(buffer, target.path) == 0 else { throw OutputError(url: target, action: "write", errorNumber: errno) }
        default:
            try AtomicFile.write(read(source), to: target)
        }
    }
}
