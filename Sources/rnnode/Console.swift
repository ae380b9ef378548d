// Output of the CLI through write(2): stdout, stderr and streamed files. A failed write (a full disk, /dev/full, a
// closed pipe) is an error naming the target and errno, never a trap; errors of every kind are rendered in words.
import ArgumentParser
import Foundation
import Synchronization

/// A write (or open, create, rename) that failed: the target (a path, `stdout` or `stderr`) and errno.
struct OutputFailure: Error, CustomStringConvertible {
    var action = "write"
    var target: String
    var code: Int32

    /// e.g. `cannot write results/x.csv: No space left on device`
    var description: String { "cannot \(action) \(target): \(String(cString: strerror(code)))" }
}

/// Writes to the standard streams with write(2), each call in full (retried on EINTR and after short writes), so
/// that concurrent callers never interleave inside one message.
///
/// Policy (documented in README): SIGPIPE is ignored (see `RNNode.main`); a closed pipe on stdout (`rnnode
/// reference lorenz | head`) ends the command quietly with status 141, as a shell shows a SIGPIPE death; any other
/// failure on stdout is reported on stderr with status 1; a failure on stderr itself ends with status 1 silently.
enum Console {
    static let standardOutput: Int32 = 1
    static let standardError: Int32 = 2

    /// Set when a message to stderr could not be written by a caller that cannot throw (progress lines).
    static let lostStandardError = Atomic<Bool>(false)

    /// `text` and `terminator` to stdout.
    static func print(_ text: String, terminator: String = "\n") throws(OutputFailure) {
        try write(text + terminator, to: standardOutput, target: "stdout")
    }

    /// `text` (and a newline unless it ends with one) to stderr.
    static func report(_ text: String) throws(OutputFailure) {
        try write(text.hasSuffix("\n") ? text : text + "\n", to: standardError, target: "stderr")
    }

    /// `report` for callers that cannot throw (progress callbacks): a failure is remembered, and the command
    /// exits with status 1 at the end.
    static func reportOrRemember(_ text: String) {
        do { try report(text) } catch { lostStandardError.store(true, ordering: .relaxed) }
    }

    static func write(_ text: String, to descriptor: Int32, target: String) throws(OutputFailure) {
        let bytes = Array(text.utf8)
        var failure: OutputFailure?
        bytes.withUnsafeBytes {
            do throws(OutputFailure) { try writeAll($0, to: descriptor, target: target) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// All of `bytes` to `descriptor`: write(2) again after a short write or EINTR; errno otherwise.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, target: String) throws(OutputFailure) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Foundation.write(descriptor, next, left)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                throw OutputFailure(target: target, code: code)
            }
            // write(2) returns 0 only for a zero count; guard against a loop anyway.
            if written == 0 { throw OutputFailure(target: target, code: EIO) }
            next += written
            left -= written
        }
    }
}

/// A file written in blocks as it is produced: into a temporary file beside the target (`.NAME.PID.RANDOM.tmp`),
/// renamed over the target by `commit`, so a reader never sees half a file. A target that exists and is not a
/// regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written in place. Missing folders are created.
final class StreamedFile {
    let path: String
    /// The file being written (nil when the target is written in place).
    let temporary: String?
    private var descriptor: Int32

    init(path: String) throws(OutputFailure) {
        self.path = path
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            guard status.st_mode & S_IFMT != S_IFDIR else { throw OutputFailure(target: path, code: EISDIR) }
            descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw OutputFailure(action: "open", target: path, code: errno) }
            temporary = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        try Self.createFolders(url.deletingLastPathComponent().path)
        let name = ".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0 ... .max)).tmp"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(name).path
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw OutputFailure(target: path, code: errno) }
        self.temporary = temporary
    }

    deinit { discard() }

    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputFailure) {
        precondition(descriptor >= 0, "write after commit or discard")
        try Console.writeAll(bytes, to: descriptor, target: path)
    }

    /// Closes the file and renames it over the target. On failure the temporary file is removed.
    func commit() throws(OutputFailure) {
        precondition(descriptor >= 0, "commit after commit or discard")
        let closed = close(descriptor)
        let code = errno
        descriptor = -1
        guard let temporary else {
            if closed != 0 { throw OutputFailure(target: path, code: code) }
            return
        }
        if closed != 0 {
            unlink(temporary)
            throw OutputFailure(target: path, code: code)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw OutputFailure(action: "rename a temporary file to", target: path, code: code)
        }
    }

    /// Closes and removes the temporary file (nothing when committed).
    func discard() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        if let temporary { unlink(temporary) }
    }

    /// `mkdir -p`: each missing folder of `folder`, reported by the first one that cannot be made.
    static func createFolders(_ folder: String) throws(OutputFailure) {
        var status = stat()
        if folder.isEmpty || stat(folder, &status) == 0 { return }
        let parent = URL(fileURLWithPath: folder).deletingLastPathComponent().path
        if parent != folder { try createFolders(parent) }
        if mkdir(folder, 0o777) != 0 && errno != EEXIST {
            throw OutputFailure(action: "create the folder", target: folder, code: errno)
        }
    }
}

/// SIGINT or SIGTERM while a trajectory streams: the first asks the run to stop at its next output row (the caller
/// removes its temporary file and exits with 128 + the signal); a second removes the temporary file and exits at once.
enum StreamInterrupt {
    /// The signal received, 0 for none.
    static let received = Atomic<Int32>(0)
    /// The temporary file to remove on a second signal, as a C string allocated before the handler can run.
    nonisolated(unsafe) static var temporaryPath: UnsafeMutablePointer<CChar>?

    static func install(temporary: String?) {
        temporaryPath = temporary.map { strdup($0) }
        _ = received.load(ordering: .relaxed)
        signal(SIGINT, handleStreamSignal)
        signal(SIGTERM, handleStreamSignal)
        // A parent may have started us with these blocked (test runners do): unblock what we now handle.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    static var requested: Int32? {
        let signal = received.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}

/// Async-signal-safe: an atomic exchange, unlink(2) and _exit(2).
private func handleStreamSignal(_ signal: Int32) {
    if StreamInterrupt.received.exchange(signal, ordering: .relaxed) != 0 {
        if let path = StreamInterrupt.temporaryPath { unlink(path) }
        _exit(128 + signal)
    }
}

/// How the CLI shows an error that is not ArgumentParser's own: Foundation's file errors in words
/// (`cannot write results/x.csv: Permission denied`) instead of `NSCocoaErrorDomain Code=512 "(null)"`.
enum ErrorText {
    static func describe(_ error: any Error) -> String {
        if let failure = error as? OutputFailure { return failure.description }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        if let cocoa = error as? CocoaError { return describe(cocoa: cocoa.errorCode, userInfo: cocoa.userInfo) }
        if let ns = foundationError(error) {
            if ns.domain == NSPOSIXErrorDomain { return withPath(ns.userInfo, String(cString: strerror(Int32(ns.code)))) }
            return describe(cocoa: ns.code, userInfo: ns.userInfo)
        }
        return String(describing: error)
    }

    /// Whether `error` is one of Foundation's (Cocoa, POSIX) rather than a Swift error of ours or ArgumentParser's.
    static func isFoundationError(_ error: any Error) -> Bool {
        error is OutputFailure || error is POSIXError || error is CocoaError || foundationError(error) != nil
    }

    private static func foundationError(_ error: any Error) -> NSError? {
        guard type(of: error) is NSError.Type else { return nil }
        let ns = error as NSError
        return ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain ? ns : nil
    }

    /// A Cocoa file error: the action its code stands for, the path, and the reason (errno of the underlying
    /// POSIX error, else the code's meaning).
    static func describe(cocoa code: Int, userInfo: [String: Any]) -> String {
        let read: Set<Int> = [CocoaError.fileReadUnknown.rawValue, CocoaError.fileReadNoPermission.rawValue,
                              CocoaError.fileReadNoSuchFile.rawValue, CocoaError.fileReadCorruptFile.rawValue,
                              CocoaError.fileReadInapplicableStringEncoding.rawValue,
                              CocoaError.fileReadUnknownStringEncoding.rawValue, CocoaError.fileReadTooLarge.rawValue,
                              CocoaError.fileReadInvalidFileName.rawValue]
        let action = read.contains(code) ? "cannot read" : (code >= 512 && code < 1024 ? "cannot write" : "cannot access")
        var reason: String
        // The underlying error comes back as a POSIXError on Linux, as an NSError elsewhere.
        let underlying = userInfo[NSUnderlyingErrorKey]
        let errorNumber: Int32? = (underlying as? POSIXError).map { $0.code.rawValue }
            ?? (underlying as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
        if let errorNumber {
            reason = String(cString: strerror(errorNumber))
        } else {
            switch CocoaError.Code(rawValue: code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = String(cString: strerror(ENOENT))
            case .fileReadNoPermission, .fileWriteNoPermission: reason = String(cString: strerror(EACCES))
            case .fileWriteOutOfSpace: reason = String(cString: strerror(ENOSPC))
            case .fileWriteVolumeReadOnly: reason = String(cString: strerror(EROFS))
            case .fileWriteFileExists: reason = String(cString: strerror(EEXIST))
            case .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding:
                reason = "not text in the expected encoding (UTF-8)"
            case .fileReadTooLarge: reason = "too large to read"
            case .fileReadCorruptFile: reason = "not in the expected format"
            default: reason = "error \(code)"
            }
        }
        if let path = path(in: userInfo) { return "\(action) \(path): \(reason)" }
        return "\(action) a file: \(reason)"
    }

    private static func path(in userInfo: [String: Any]) -> String? {
        if let path = userInfo[NSFilePathErrorKey] as? String { return path }
        if let url = userInfo[NSURLErrorKey] as? URL { return url.path }
        return nil
    }

    private static func withPath(_ userInfo: [String: Any], _ reason: String) -> String {
        path(in: userInfo).map { "\($0): \(reason)" } ?? reason
    }
}

extension RNNode {
    /// Parses and runs the command with our own error rendering and output policy (see `Console`).
    static func main() {
        // A closed pipe comes back from write(2) as EPIPE instead of killing the process without a word.
        signal(SIGPIPE, SIG_IGN)
        var status: Int32
        do {
            var command = try parseAsRoot()
            try command.run()
            status = Console.lostStandardError.load(ordering: .relaxed) ? 1 : 0
        } catch {
            status = render(error)
        }
        Foundation.exit(status)
    }

    /// Prints `error` (stdout for help and version, stderr otherwise) and returns the exit status.
    static func render(_ error: any Error) -> Int32 {
        if let failure = error as? OutputFailure {
            if failure.target == "stdout" && failure.code == EPIPE { return 141 }
            if failure.target == "stderr" { return 1 }
            _ = try? Console.report("Error: \(failure)")
            return 1
        }
        if ErrorText.isFoundationError(error) {
            _ = try? Console.report("Error: \(ErrorText.describe(error))")
            return 1
        }
        let code = exitCode(for: error).rawValue
        let text = fullMessage(for: error)
        guard !text.isEmpty else { return code }
        do {
            if code == 0 { try Console.print(text) } else { try Console.report(text) }
        } catch {
            if error.target == "stdout" && error.code == EPIPE { return 141 }
            if code == 0 { _ = try? Console.report("Error: \(error)") }
            return code == 0 ? 1 : code
        }
        return code
    }
}
