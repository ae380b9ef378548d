// Data parallelism for training: the thread count (--threads, RNNODE_THREADS, all cores by default), the split
// of a batch into contiguous slices, and a fork-join that runs one slice per thread.
import Foundation

/// The thread count data-parallel training uses; every `Trainer` reads it when it is made.
public enum Parallelism {
    public static let environmentVariable = "RNNODE_THREADS"
    public static let limit = 1...256

    private static let lock = NSLock()
    nonisolated(unsafe) private static var chosen: Int?

    /// The threads a new trainer uses: the last value set, else RNNODE_THREADS when it is valid, else every core.
    public static var threads: Int {
        get { lock.withLock { chosen } ?? ((try? environmentThreads()) ?? nil) ?? ProcessInfo.processInfo.activeProcessorCount }
        set {
            precondition(limit.contains(newValue), "thread count \(newValue) outside \(limit)")
            lock.withLock { chosen = newValue }
        }
    }

    /// RNNODE_THREADS as a thread count; nil when unset; an error naming the variable and the limit when it is
    /// not a whole number in 1…256.
    public static func environmentThreads(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        guard let text = environment[environmentVariable] else { return nil }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)), limit.contains(n) else {
            throw TrainingError("\(environmentVariable)=\(text): expected a whole number of threads in \(limit.lowerBound)…\(limit.upperBound)")
        }
        return n
    }

    /// Sets the thread count from an option (wins) or RNNODE_THREADS; throws for an invalid RNNODE_THREADS.
    public static func configure(option: Int?) throws {
        let fromEnvironment = try environmentThreads()
        if let n = option ?? fromEnvironment { threads = n }
    }

    /// The contiguous slices of `0..<count` for `parts` threads: the first `count % parts` slices hold one
    /// more item. A fixed function of (count, parts), so the reduction order, and the result, is too.
    static func slices(of count: Int, parts: Int) -> [Range<Int>] {
        let p = max(1, min(parts, count)), base = count / p, extra = count % p
        var ranges: [Range<Int>] = [], start = 0
        for k in 0..<p {
            let size = base + (k < extra ? 1 : 0)
            ranges.append(start..<(start + size)); start += size
        }
        return ranges
    }

    /// Runs `body(k)` for k in 0..<count, concurrently on up to `count` threads; returns when all have finished.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }
}

/// A value handed to worker threads that each touch disjoint memory through it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
