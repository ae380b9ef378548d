// Output of the CLI through write(2) to stdout and stderr, and the entry point that renders every error. A failed
// write (a full disk, /dev/full, a closed pipe) is an error naming the target and errno, never a trap.
import ArgumentParser
import Foundation
import Support
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
        guard bytes.baseAddress != nil else { return }
        if let failure = Descriptor.writeAll(descriptor, bytes) { throw OutputFailure(target: target, code: failure.errorNumber) }
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
