// Rollouts of many test trajectories advanced together: one SpMM/GEMM per step for the whole batch instead of one
// SpMV/GEMV per trajectory, with the per-trajectory semantics of `RolloutRunner.run`.
import Foundation
import Recurrent

/// B independent copies of a learned stepper advancing together: after seeing rows z_0 … z_n of each trajectory,
/// row b of ĝ is trajectory b's prediction of its next normalised increment.
public protocol BatchStepper: AnyObject {
    var batch: Int { get }
    /// Feeds z (B, d) row-major, writes ĝ (B, d) row-major.
    func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>)
}

/// A learned stepper that can step a batch of trajectories together. A stepper that does not conform is rolled
/// out one trajectory at a time by `BatchedRolloutRunner` (the per-trajectory fallback).
public protocol BatchSteppable: LearnedStepper {
    /// A fresh batch (every trajectory's memory empty) whose trajectory b follows what this stepper would do
    /// after `reset()` when fed trajectory b's inputs.
    func makeBatchStepper(batch: Int) -> BatchStepper
    /// Whether separate batch steppers of this model may run on separate threads at once.
    var batchesRunConcurrently: Bool { get }
}

// MARK: Conformances

/// B reservoir states of one ESN: SpMM with the CSR reservoir. Bit-identical to B separate `ReservoirStepper`s.
final class ReservoirBatchStepper: BatchStepper {
    let reservoirs: ReservoirBatch
    init(network: EchoStateNetwork, batch: Int) { reservoirs = ReservoirBatch(network: network, batch: batch) }
    var batch: Int { reservoirs.batch }
    func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) { reservoirs.step(z, into: g) }
}

extension ReservoirStepper: BatchSteppable {
    public func makeBatchStepper(batch: Int) -> BatchStepper { ReservoirBatchStepper(network: network, batch: batch) }
    /// Each batch owns its states and scratch; the network is only read.
    public var batchesRunConcurrently: Bool { true }
}

/// B hidden states of one recurrent network, stepped with `RecurrentNetwork.step` at batch B (GEMM instead of
/// GEMV). Equal to B separate `RecurrentStepper`s up to the rounding of the BLAS kernels chosen for each shape.
final class RecurrentBatchStepper: BatchStepper {
    let network: RecurrentNetwork
    let batch: Int
    private var state: RecurrentState
    private var input: [Double]
    init(network: RecurrentNetwork, batch: Int) {
        self.network = network; self.batch = batch
        state = network.makeState(batch: batch)
        input = [Double](repeating: 0, count: batch * network.configuration.inputSize)
    }
    func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        input.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: z, count: $0.count) }
        let output = network.step(input, state: &state)
        output.withUnsafeBufferPointer { g.update(from: $0.baseAddress!, count: $0.count) }
    }
}

extension RecurrentStepper: BatchSteppable {
    public func makeBatchStepper(batch: Int) -> BatchStepper { RecurrentBatchStepper(network: network, batch: batch) }
    /// The network steps in a workspace it owns: one batch at a time.
    public var batchesRunConcurrently: Bool { false }
}

/// B histories of one NG-RC model: the features of every row, then one GEMM for the readout of the batch
/// (`NextGenerationReservoir.step(batch:…)`). Equal to B separate `NextGenerationStepper`s up to the order of the
/// readout's sums; a history holds inputs only, so those roundings never feed back into the model.
final class NextGenerationBatchStepper: BatchStepper {
    let model: NextGenerationReservoir
    let batch: Int
    private var states: [NextGenerationReservoir.State]
    private var phi: [Double]
    init(model: NextGenerationReservoir, batch: Int) {
        self.model = model; self.batch = batch
        states = (0..<batch).map { _ in model.makeState() }
        phi = [Double](repeating: 0, count: batch * model.featureCount)
    }
    func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
        phi.withUnsafeMutableBufferPointer { model.step(batch: z, states: &states, features: $0.baseAddress!, into: g) }
    }
}

extension NextGenerationStepper: BatchSteppable {
    public func makeBatchStepper(batch: Int) -> BatchStepper { NextGenerationBatchStepper(model: model, batch: batch) }
    /// Each batch owns its histories; the model is only read.
    public var batchesRunConcurrently: Bool { true }
}

// MARK: The runner

public enum BatchedRolloutRunner {
    /// The most trajectories stepped in one batch (bounds the batch's state memory).
    public static let maximumBatch = 256

    /// `RolloutRunner.run` for every trajectory of `references` (each row-major (N, d)), with the same warm-up on
    /// y_0 … y_{s−1}, the same feedback ŷ_{n+1} = ŷ_n + μ_Δ + σ_Δ ĝ_n, and per trajectory the same divergence
    /// test and NaN fill; returns the rollouts in the order of `references`.
    ///
    /// A `BatchSteppable` stepper advances all trajectories together (in batches of at most `maximumBatch`;
    /// concurrent batches split over `threads` when the model allows it); any other stepper runs trajectory by
    /// trajectory. A diverged trajectory stays in its batch fed zeros (columns of the products are independent,
    /// so it cannot disturb the others) and its outputs are ignored.
    ///
    /// Timing: a batch's wall time is shared out step by step: the time of each batched step (warm-up steps
    /// included) is divided equally among the trajectories still running at that step, and `Rollout.seconds` is
    /// a trajectory's sum of its shares. So `seconds` is that trajectory's cost in core-seconds, the sum over a
    /// batch is the batch's time (per thread), and the speed-up against GSL (which solves one trajectory on one
    /// core) compares like with like.
    public static func run(_ stepper: LearnedStepper, references: [[Double]], dimension d: Int, warmUp k: Int, last: Int,
                           normalization: Normalization, lower: [Double], upper: [Double], times: [Double]? = nil,
                           threads: Int = 1) -> [Rollout] {
        run(stepper, references: references, dimension: d, warmUp: k, last: last, normalization: normalization,
            boxes: references.map { _ in (lower, upper) }, times: times, threads: threads)
    }

    /// As above, with its own allowed box for each trajectory of `references` (`Metrics.allowedBox(normalization:…)`).
    public static func run(_ stepper: LearnedStepper, references: [[Double]], dimension d: Int, warmUp k: Int, last: Int,
                           normalization: Normalization, boxes: [(lower: [Double], upper: [Double])], times: [Double]? = nil,
                           threads: Int = 1) -> [Rollout] {
        precondition(threads >= 1, "rollout threads \(threads)")
        precondition(boxes.count == references.count)
        precondition(normalization.forcingPeriod == 0 || (times?.count ?? 0) > last, "a driven problem's rollout needs the times")
        guard let batched = stepper as? BatchSteppable, references.count > 1 else {
            return zip(references, boxes).map { reference, box in
                RolloutRunner.run(stepper, reference: reference, dimension: d, warmUp: k, last: last,
                                  normalization: normalization, lower: box.lower, upper: box.upper, times: times)
            }
        }
        // Contiguous groups: one per thread when batches may run concurrently, each cut to at most maximumBatch.
        let groupCount = batched.batchesRunConcurrently ? min(threads, references.count) : 1
        var groups: [Range<Int>] = []
        for g in 0..<groupCount {
            let range = (g * references.count / groupCount)..<((g + 1) * references.count / groupCount)
            for start in stride(from: range.lowerBound, to: range.upperBound, by: maximumBatch) {
                groups.append(start..<min(start + maximumBatch, range.upperBound))
            }
        }
        let results = UnsafeMutableBufferPointer<Rollout?>.allocate(capacity: references.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let runGroup = { (index: Int) in
            let range = groups[index]
            let rollouts = runBatch(batched.makeBatchStepper(batch: range.count), references: Array(references[range]), dimension: d,
                                    warmUp: k, last: last, normalization: normalization, boxes: Array(boxes[range]), times: times)
            for (offset, rollout) in rollouts.enumerated() { results[range.lowerBound + offset] = rollout }
        }
        if groupCount == 1 {
            for index in groups.indices { runGroup(index) }
        } else {
            // Threads write disjoint slots of `results`.
            Parallelism.forEach(groups.count, runGroup)
        }
        return results.map { $0! }
    }

    /// One batch: trajectory b of `references` is row b of every batched step.
    static func runBatch(_ stepper: BatchStepper, references: [[Double]], dimension d: Int, warmUp k: Int, last: Int,
                         normalization: Normalization, boxes: [(lower: [Double], upper: [Double])], times: [Double]? = nil) -> [Rollout] {
        let b = references.count
        precondition(stepper.batch == b && boxes.count == b && k >= 1 && last >= k && references.allSatisfy { $0.count >= (last + 1) * d })
        let clock = ContinuousClock()
        let steps = last - (k - 1)
        var predicted = references.map { _ in [Double](repeating: .nan, count: (steps + 1) * d) }
        var seconds = [Double](repeating: 0, count: b)
        var diverged = [Int?](repeating: nil, count: b)
        var running = Array(0..<b)
        // Inputs are w = `normalization.inputSize` wide (the state, and the drive's phase when there is one).
        let w = normalization.inputSize
        var z = [Double](repeating: 0, count: b * w), g = [Double](repeating: 0, count: b * d)
        var current = [Double](repeating: 0, count: b * d)
        /// Times one batched step and shares it among the trajectories in `running`.
        func timedAdvance() {
            let started = clock.now
            z.withUnsafeBufferPointer { zp in g.withUnsafeMutableBufferPointer { stepper.advance(zp.baseAddress!, into: $0.baseAddress!) } }
            let share = (clock.now - started).seconds / Double(running.count)
            for j in running { seconds[j] += share }
        }
        for n in 0..<k {
            let started = clock.now
            z.withUnsafeMutableBufferPointer { zp in
                for j in 0..<b {
                    references[j].withUnsafeBufferPointer {
                        normalization.modelInput($0.baseAddress! + n * d, time: times?[n] ?? 0, into: zp.baseAddress! + j * w)
                    }
                }
            }
            let share = (clock.now - started).seconds / Double(b)
            for j in 0..<b { seconds[j] += share }
            timedAdvance()
        }
        for j in 0..<b {
            for i in 0..<d { current[j * d + i] = references[j][(k - 1) * d + i]; predicted[j][i] = current[j * d + i] }
        }
        for r in 1...steps {
            let started = clock.now
            var stillRunning: [Int] = []
            for j in running {
                var outside = false
                let (lower, upper) = boxes[j]
                for i in 0..<d {
                    let c = j * d + i
                    current[c] += normalization.incrementMean[i] + normalization.incrementScale[i] * g[c]
                    if !current[c].isFinite || current[c] < lower[i] || current[c] > upper[i] { outside = true }
                }
                if outside {
                    diverged[j] = r
                    for i in 0..<w { z[j * w + i] = 0 }
                    continue
                }
                for i in 0..<d { predicted[j][r * d + i] = current[j * d + i] }
                stillRunning.append(j)
            }
            if r < steps {
                current.withUnsafeBufferPointer { y in
                    z.withUnsafeMutableBufferPointer { zp in
                        for j in stillRunning {
                            normalization.modelInput(y.baseAddress! + j * d, time: times?[k - 1 + r] ?? 0, into: zp.baseAddress! + j * w)
                        }
                    }
                }
            }
            // The bookkeeping of this step is shared by the trajectories it served.
            let share = (clock.now - started).seconds / Double(running.count)
            for j in running { seconds[j] += share }
            running = stillRunning
            if running.isEmpty || r == steps { break }
            timedAdvance()
        }
        return (0..<b).map { Rollout(predicted: predicted[$0], divergedIndex: diverged[$0], seconds: seconds[$0]) }
    }

    /// Threads for the rollouts: `RNNODE_THREADS` when set (1 … 256, as for training), else every active core.
    public static func defaultThreads() throws -> Int { try EchoStateNetwork.defaultThreads() }
}
