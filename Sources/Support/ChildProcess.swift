// Running another program so that it cannot outlive us: its own process group, killed on timeout, on
// cancellation, and when this process dies (through the reaper in CSupport).
import CSupport
import Foundation
import Support

/// A program run to completion in its own process group. Its stdout and stderr go to files or are captured.
public enum ChildProcess {
    /// How a run ended.
    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        /// Killed (with its whole process group) after the time limit.
        case timedOut(seconds: Double)
        /// Stopped because the caller's `cancelled` said so (`stopSignal` to the group, SIGKILL after the grace period).
        case cancelled

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            case .timedOut(let seconds): "stopped after the time limit of \(seconds) s"
            case .cancelled: "stopped on request"
            }
        }
    }

    /// Where an output stream goes.
    public enum Output: Sendable {
        case discard
        /// Read back into `Result` once the program has ended (through an unlinked temporary file: no pipe to fill).
        case capture
        /// Appended to this file (created with mode 0600 when missing).
        case file(String)
    }

    public struct Result: Sendable {
        public var termination: Termination
        public var standardOutput: String
        public var standardError: String
        public var succeeded: Bool { termination == .exited(0) }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The absolute path of `name` on PATH (or `name` itself when it has a slash), if it is an executable file.
    public static func executablePath(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `executable` (a name on PATH or a path) with `arguments` and waits for it.
    /// - Parameters:
    ///   - timeout: seconds before the whole process group is killed (nil: no limit).
    ///   - cancelled: polled while waiting; when it returns true the group gets `stopSignal`, then SIGKILL after
    ///     `grace`.
    ///   - stopSignal: how to ask the program to stop, on cancellation and when this process dies: SIGTERM, or
    ///     SIGINT for a program that saves its state on Ctrl-C (rnnode's own training does).
    ///   - grace: seconds between `stopSignal` and SIGKILL.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           standardOutput: Output = .capture, standardError: Output = .capture,
                           timeout: Double? = nil, grace: Double = 5, stopSignal: Int32 = SIGTERM,
                           cancelled: (() -> Bool)? = nil) throws -> Result {
        guard let path = executablePath(executable) else {
            throw SpawnError(description: "cannot run \(executable): not found on PATH or not executable")
        }
        let out = try open(standardOutput), err = try open(standardError)
        defer { if out.fd >= 0 { close(out.fd) }; if err.fd >= 0 { close(err.fd) } }

        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let pid: pid_t = withCStrings([path] + arguments) { argv in
            withCStrings(environmentLines) { envp in
                rn_spawn_guarded(path, argv, envp, -1, out.fd, err.fd, stopSignal, UInt32(max(1, grace.rounded(.up))))
            }
        }
        guard pid > 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(-pid)))")
        }

        let start = Date()
        var status: Int32 = 0
        var forced: Termination?
        var terminatedAt: Date?
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                throw SpawnError(description: "lost track of \(executable) (pid \(pid)): \(String(cString: strerror(errno)))")
            }
            if forced == nil, let timeout, Date().timeIntervalSince(start) > timeout {
                forced = .timedOut(seconds: timeout)
                kill(-pid, SIGKILL)
            } else if forced == nil, let cancelled, cancelled() {
                forced = .cancelled
                terminatedAt = Date()
                kill(-pid, stopSignal)
            } else if forced == .cancelled, let since = terminatedAt, Date().timeIntervalSince(since) > grace {
                kill(-pid, SIGKILL)
                terminatedAt = nil
            }
            usleep(forced == nil ? 20_000 : 5_000)
        }
        let ending: Termination = forced ?? (status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f))
        return Result(termination: ending, standardOutput: out.read(), standardError: err.read())
    }

    private struct Stream {
        var fd: Int32
        var capture: Bool
        func read() -> String {
            guard capture, fd >= 0 else { return "" }
            lseek(fd, 0, SEEK_SET)
            // Best effort: what could be read of the program's output (a read error keeps nothing back).
            let bytes = (try? Descriptor.readAll(fd).get()) ?? []
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func open(_ output: Output) throws -> Stream {
        switch output {
        case .discard:
            return Stream(fd: -1, capture: false)
        case .file(let path):
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpawnError(description: "cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
            return Stream(fd: fd, capture: false)
        case .capture:
            var template = Array((NSTemporaryDirectory() + "/rnnode-output-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw SpawnError(description: "cannot make a temporary file: \(String(cString: strerror(errno)))") }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            return Stream(fd: fd, capture: true)
        }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
