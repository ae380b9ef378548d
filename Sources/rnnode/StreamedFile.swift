// A file written in blocks as it is produced and renamed into place when complete, and the SIGINT/SIGTERM handling
// that stops such a stream without leaving its temporary file behind.
import Foundation
import Synchronization

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
