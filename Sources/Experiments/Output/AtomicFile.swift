// Atomic file output: write to a temporary file beside the target, then rename over it, so a reader (or a run
// that is interrupted half-way) never sees a half-written result.
import Foundation

public enum AtomicFile {
    /// Writes `data` to `url` atomically (temp file in the same directory + rename); creates missing directories.
    /// A target that exists and is not a regular file (`/dev/null`, a pipe) is written in place: renaming over a
    /// device would replace it.
    public static func write(_ data: Data, to url: URL) throws {
        var status = stat()
        if stat(url.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG, status.st_mode & S_IFMT != S_IFDIR {
            do { try data.write(to: url) } catch {
                throw OutputError(url: url, message: "cannot write: \(error.localizedDescription)")
            }
            return
        }
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0 ... .max)).tmp")
        do {
            try data.write(to: temporary)
            // rename(2) replaces the target atomically on POSIX file systems.
            if rename(temporary.path, url.path) != 0 {
                let code = errno
                throw OutputError(url: url, message: "cannot rename temporary file: \(String(cString: strerror(code)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if error is OutputError { throw error }
            throw OutputError(url: url, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Writes UTF-8 `text` to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

/// A failure to write an output file, naming the file.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var url: URL
    public var message: String
    public init(url: URL, message: String) { self.url = url; self.message = message }
    public var description: String { "\(url.path): \(message)" }
}
