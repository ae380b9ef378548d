// Ctrl-C during training: the first SIGINT sets a flag (the loop finishes its batch, saves and returns),
// a second one exits at once. Tests request an interrupt programmatically through the same flag.
import Foundation

enum Interrupt {
    /// SIGINTs seen since `install` (written by the signal handler, read by the training loop).
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) private static var previous: (@convention(c) (Int32) -> Void)?
    /// Training loops currently running (the handler stays installed while any is).
    nonisolated(unsafe) private static var users = 0
    private static let lock = NSLock()

    static var requested: Bool { count > 0 }

    static func install() {
        lock.lock(); defer { lock.unlock() }
        users += 1
        if users == 1 { count = 0; previous = signal(SIGINT, handleInterrupt) }
    }

    static func uninstall() {
        lock.lock(); defer { lock.unlock() }
        users -= 1
        if users == 0 { signal(SIGINT, previous ?? SIG_DFL); count = 0 }
    }
}

private let firstMessage: StaticString = "\ninterrupted: finishing this batch and saving the checkpoint (Ctrl-C again to quit now)\n"

/// Async-signal-safe: only an integer store, write(2) and _exit(2).
private func handleInterrupt(_ signal: Int32) {
    if Interrupt.count > 0 { _exit(130) }
    Interrupt.count = 1
    _ = write(2, firstMessage.utf8Start, firstMessage.utf8CodeUnitCount)
}
