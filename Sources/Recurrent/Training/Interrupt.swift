// Ctrl-C during training: the first SIGINT sets a flag (the loop finishes its batch, saves and returns),
// a second one exits at once. (Tests stop a run programmatically through Trainer.interruptAfterBatches.)
import Foundation
import Synchronization

enum Interrupt {
    /// SIGINTs seen since `install`: incremented by the signal handler, read by the training loop. An atomic
    /// (lock-free for Int32), so the handler's write and the loop's read are neither torn nor reordered away.
    static let count = Atomic<Int32>(0)
    nonisolated(unsafe) private static var previous: (@convention(c) (Int32) -> Void)?
    /// Training loops currently running (the handler stays installed while any is); guarded by `lock`.
    nonisolated(unsafe) private static var users = 0
    private static let lock = NSLock()

    static var requested: Bool { count.load(ordering: .acquiring) > 0 }

    static func install() {
        lock.lock(); defer { lock.unlock() }
        users += 1
        // The store also initialises `count` here, outside the handler (its lazy initialisation is not
        // async-signal-safe; afterwards the handler only touches the atomic's storage).
        if users == 1 { count.store(0, ordering: .releasing); previous = signal(SIGINT, handleInterrupt) }
    }

    static func uninstall() {
        lock.lock(); defer { lock.unlock() }
        users -= 1
        if users == 0 { signal(SIGINT, previous ?? SIG_DFL); count.store(0, ordering: .releasing) }
    }
}

private let firstMessage: StaticString = "\ninterrupted: finishing this batch and saving the checkpoint (Ctrl-C again to quit now)\n"

/// Async-signal-safe: one lock-free atomic read-modify-write, write(2) and _exit(2).
private func handleInterrupt(_ signal: Int32) {
    let before = Interrupt.count.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
    if before > 0 { _exit(130) }
    _ = write(2, firstMessage.utf8Start, firstMessage.utf8CodeUnitCount)
}
