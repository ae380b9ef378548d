// Atomic file output: write to a temporary file beside the target, flush it to disk, then rename over it, so a
// reader (or a run that is interrupted half-way, or a full disk) never sees a half-written result.
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicFile {
    /// Writes `data` to `url` atomically (temp file in the same directory, fsync, rename); creates missing
    /// directories. A target that exists and is not a regular file (`/dev/null`, a pipe) is written in place:
    /// renaming over a device would replace it. Failures name the file and the reason of the call that failed.
    public static func write(_ data: Data, to url: URL) throws {
        var status = stat()
        if stat(url.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            guard status.st_mode & S_IFMT != S_IFDIR else {
                throw OutputError(url: url, action: "write", reason: "it is a directory")
            }
            let descriptor = open(url.path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw OutputError(url: url, action: "write", errorNumber: errno) }
            defer { close(descriptor) }
            try writeAll(descriptor, data, url: url)
            return
        }
        let directory = url.deletingLastPathComponent()
        try FileSystem.createDirectories(directory)
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0 ... .max)).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw OutputError(url: url, action: "write", errorNumber: errno) }
        do {
            try writeAll(descriptor, data, url: url)
            // Flushed before the rename, so a crash leaves the old file or the new one, never an empty one.
            if fsync(descriptor) != 0 { throw OutputError(url: url, action: "write", errorNumber: errno) }
            if close(descriptor) != 0 { throw OutputError(url: url, action: "write", errorNumber: errno) }
        } catch {
            close(descriptor)
            unlink(temporary.path)
            throw error
        }
        // rename(2) replaces the target atomically on POSIX file systems.
        if rename(temporary.path, url.path) != 0 {
            let code = errno
            unlink(temporary.path)
            throw OutputError(url: url, action: "write", errorNumber: code)
        }
    }

    /// Writes UTF-8 `text` to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    private static func writeAll(_ descriptor: Int32, _ data: Data, url: URL) throws {
        let failure = data.withUnsafeBytes { Descriptor.writeAll(descriptor, $0) }
        if let failure { throw OutputError(url: url, action: "write", errorNumber: failure.errorNumber) }
    }
}

/// A failure to read or write an output file, naming the file: `cannot write PATH: REASON` for a failed system
/// call (with its errno), `PATH: MESSAGE` for a file whose content is wrong.
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var url: URL
    public var message: String
    /// The errno of the system call that failed, when one did.
    public var errorNumber: Int32?
    /// What was being done (`write`, `read`, `create directory`, …), when a system call failed.
    public var action: String?

    /// A problem with the content of `url`.
    public init(url: URL, message: String) { self.url = url; self.message = message }

    /// A system call on `url` that failed with `errorNumber`.
    public init(url: URL, action: String, errorNumber: Int32) {
        self.url = url; self.action = action; self.errorNumber = errorNumber
        self.message = FileSystem.reason(errorNumber)
    }

    /// An operation on `url` that cannot be done, for a reason in words.
    public init(url: URL, action: String, reason: String) {
        self.url = url; self.action = action; self.message = reason
    }

    public var description: String {
        if let action { return "cannot \(action) \(url.path): \(message)" }
        return "\(url.path): \(message)"
    }
}
