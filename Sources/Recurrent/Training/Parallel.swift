// Data parallelism for training: the thread count (--threads, RNNODE_THREADS, all cores by default), the split
// of a batch into contiguous slices, a fork-join that runs one slice per thread, and the per-slice workspaces and
// gradients of one precision.
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
    /// The caller guarantees that the iterations touch disjoint mutable state.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
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

/// A batch's loss and gradient in the network's precision, for `Trainer` (which keeps parameters and gradient
/// in Double). An enum rather than an existential, so each call reaches the code specialised for its scalar.
enum BatchRunner {
    case double(SliceRunner<Double>)
    case single(SliceRunner<Float>)

    init(_ network: RecurrentNetwork) {
        switch network.precision {
        case .double: self = .double(SliceRunner(network))
        case .single: self = .single(SliceRunner(network))
        }
    }

    var precision: Precision {
        switch self { case .double: .double; case .single: .single }
    }

    var cacheBytes: Int {
        switch self { case .double(let r): r.cacheBytes; case .single(let r): r.cacheBytes }
    }

    /// The mean squared error of sequences `indices` of `data` in windows of `window` steps, split into `threads`
    /// slices; with `gradient`, ∂L/∂θ added to it. With `feedback`, the closed-loop loss (whole sequences).
    func loss(_ data: SequenceDataset, indices: ArraySlice<Int>, window: Int, threads: Int,
              parameters: UnsafePointer<Double>, gradient: Buffer<Double>?, feedback: ClosedLoopFeedback? = nil) -> Double {
        switch self {
        case .double(let r): r.loss(data, indices: indices, window: window, threads: threads, parameters: parameters, gradient: gradient,
                                    feedback: feedback)
        case .single(let r): r.loss(data, indices: indices, window: window, threads: threads, parameters: parameters, gradient: gradient,
                                    feedback: feedback)
        }
    }
}

/// One BPTT workspace per slice, in `Scalar`. In Double, the passes read the parameters and slice 0 writes the
/// gradient in place; in Float, the parameters are rounded into `rounded` first, and the slices' Float gradients,
/// added in slice order, are added to the Double gradient at the end.
final class SliceRunner<Scalar: RecurrentScalar> {
    let configuration: NetworkConfiguration
    let layout: ParameterLayout
    /// One BPTT workspace per slice, each sized for its slice.
    private var workspaces: [BPTTWorkspace<Scalar>] = []
    /// ∂L/∂θ of slices 1, 2, … (slice 0 writes into the caller's gradient in Double, into `ownGradient` in Float).
    private var sliceGradients: [Buffer<Scalar>] = []
    /// Float only: the parameters rounded, and slice 0's gradient.
    private let rounded: Buffer<Scalar>
    private let ownGradient: Buffer<Scalar>
    /// Closed-loop scratch, one per slice (beside `workspaces`).
    private var closedLoopScratch: [ClosedLoopScratch<Scalar>] = []
    private let parameterCount: Int

    init(_ network: RecurrentNetwork) {
        configuration = network.configuration; layout = network.layout; parameterCount = network.parameterCount
        let n = Scalar.self == Double.self ? 0 : network.parameterCount
        rounded = Buffer(count: n); ownGradient = Buffer(count: n)
    }

    var cacheBytes: Int {
        workspaces.reduce(0) { $0 + $1.cacheBytes } + rounded.bytes + ownGradient.bytes + closedLoopScratch.reduce(0) { $0 + $1.bytes }
    }

    /// Slice `k`'s closed-loop scratch, matching its workspace.
    private func scratch(_ k: Int, for w: BPTTWorkspace<Scalar>) -> ClosedLoopScratch<Scalar> {
        if k < closedLoopScratch.count, closedLoopScratch[k].maxBatch == w.maxBatch, closedLoopScratch[k].maxSteps == w.maxSteps {
            return closedLoopScratch[k]
        }
        let s = ClosedLoopScratch(w, parameterCount: parameterCount)  // not the network's parameters: in use by the step
        if k < closedLoopScratch.count { closedLoopScratch[k] = s } else { precondition(k == closedLoopScratch.count); closedLoopScratch.append(s) }
        return s
    }

    /// Slice `k`'s workspace, grown (never shrunk) to hold `batch` sequences of `window` steps.
    func workspace(_ k: Int = 0, batch: Int, window: Int) -> BPTTWorkspace<Scalar> {
        if k < workspaces.count, workspaces[k].maxBatch >= batch, workspaces[k].maxSteps >= window { return workspaces[k] }
        let old = k < workspaces.count ? workspaces[k] : nil
        let w = BPTTWorkspace<Scalar>(configuration: configuration, layout: layout,
                                      maxBatch: max(batch, old?.maxBatch ?? 0), maxSteps: max(window, old?.maxSteps ?? 0))
        if k < workspaces.count { workspaces[k] = w } else { precondition(k == workspaces.count); workspaces.append(w) }
        return w
    }

    func loss(_ data: SequenceDataset, indices: ArraySlice<Int>, window w: Int, threads: Int,
              parameters: UnsafePointer<Double>, gradient target: Buffer<Double>?, feedback: ClosedLoopFeedback?) -> Double {
        let inPlace = Scalar.self == Double.self
        let p: UnsafePointer<Scalar>
        if inPlace {
            p = UnsafeRawPointer(parameters).assumingMemoryBound(to: Scalar.self)
        } else {
            convert(parameters, into: rounded.base, count: rounded.count)
            p = UnsafePointer(rounded.base)
        }
        let gradient: Buffer<Scalar>? = target.map { inPlace ? $0 as! Buffer<Scalar> : ownGradient }
        if !inPlace { gradient?.zero() }
        defer {
            if !inPlace, let target { for k in 0..<target.count { target.base[k] += Double(ownGradient.base[k]) } }
        }
        // Data parallel: slice k of `indices` runs on thread k; the slices' losses and gradients are added in
        // slice order (for one slice, exactly the single-threaded computation).
        let slices = Parallelism.slices(of: indices.count, parts: threads)
        if slices.count == 1 {
            let space = workspace(batch: indices.count, window: w)
            if let feedback {
                return space.closedLoopSquaredError(data, indices: indices, feedback: feedback, parameters: p,
                                                    gradient: gradient?.base, scratch: scratch(0, for: space))
            }
            return space.meanSquaredError(data, indices: indices, window: w, parameters: p, gradient: gradient?.base)
        }
        BLAS.useOneThread()
        let spaces = slices.indices.map { workspace($0, batch: slices[$0].count, window: w) }
        let scratches = feedback == nil ? [] : spaces.indices.map { scratch($0, for: spaces[$0]) }
        if let gradient {
            while sliceGradients.count < slices.count - 1 { sliceGradients.append(Buffer(count: gradient.count)) }
        }
        let gradients = gradient.map { [$0] + sliceGradients } ?? []
        var losses = [Double](repeating: 0, count: slices.count)
        losses.withUnsafeMutableBufferPointer { losses in
            Parallelism.forEach(slices.count) { k in
                if !gradients.isEmpty && k > 0 { gradients[k].zero() }
                let first = indices.startIndex
                let slice = indices[(first + slices[k].lowerBound)..<(first + slices[k].upperBound)]
                if let feedback {
                    losses[k] = spaces[k].closedLoopSquaredError(
                        data, indices: slice, feedback: feedback, parameters: p, gradient: gradients.isEmpty ? nil : gradients[k].base,
                        scratch: scratches[k], averagedOver: indices.count)
                } else {
                    losses[k] = spaces[k].meanSquaredError(
                        data, indices: slice, window: w, parameters: p, gradient: gradients.isEmpty ? nil : gradients[k].base,
                        averagedOver: indices.count)
                }
            }
        }
        if let gradient {
            for k in 1..<slices.count { BLAS.axpy(1, gradients[k].base, gradient.base, count: gradient.count) }
        }
        return losses.reduce(0, +)
    }
}
