// Data-parallel training: the batch's slices on several threads give the single-threaded loss and gradient to
// rounding, the same bits on every run with one thread count, and one slice is the single-threaded path itself.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// Loss and gradient of the whole of `data` as one batch, on `threads` threads.
private func lossAndGradient(_ network: RecurrentNetwork, _ data: SequenceDataset, threads: Int,
                             truncation: Int?) -> (loss: Double, gradient: [Double]) {
    var options = TrainingOptions(); options.progress = false; options.truncation = truncation
    let trainer = Trainer(network: network, options: options)
    trainer.threads = threads
    let loss = network.parameters.withUnsafeBufferPointer {
        trainer.lossAndGradient(data, indices: Array(0..<data.count)[...], parameters: $0.baseAddress!)
    }
    return (loss, Array(UnsafeBufferPointer(start: trainer.gradient.base, count: trainer.gradient.count)))
}

@Test(arguments: gradientCases)
func dataParallelGradientEqualsSingleThreadedToRounding(_ c: GradientCase) {
    let data = randomDataset(count: 7, steps: 5)
    let network = RecurrentNetwork(configuration: .init(cell: c.cell, inputSize: 2, hiddenSize: 3, layers: c.layers, outputSize: 2),
                                   seed: 13)
    let single = lossAndGradient(network, data, threads: 1, truncation: c.truncation)
    // M_i = Σ_k |g_i^(k)|: the magnitudes of the sequences' own contributions g^(k) (each sequence alone, scaled
    // by 1/7 as in the batch), whose exact sum is the batch gradient
    let window = c.truncation ?? data.steps
    let ws = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: 1, maxSteps: window)
    var magnitude = [Double](repeating: 0, count: network.parameterCount)
    for k in 0..<data.count {
        var g = [Double](repeating: 0, count: network.parameterCount)
        _ = network.parameters.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer {
                ws.meanSquaredError(data, indices: [k][...], window: window, parameters: p.baseAddress!, gradient: $0.baseAddress!,
                                    averagedOver: data.count)
            }
        }
        for i in g.indices { magnitude[i] += abs(g[i]) }
    }
    let largest = magnitude.max()!
    // Both runs evaluate the same expression; they differ only in rounding: the B·T = 35 per-row contributions to
    // each entry are grouped into other partial sums (per slice, then slice after slice), and GEMMs over fewer rows
    // may block differently. Every result is a chain of at most n = T·(B + I + G·H) ≤ 5·(7 + 3 + 12) additions and
    // products, so each lies within γ_n·Σ|terms| of the exact value (Higham, §3.1), hence within 2γ_n·Σ|terms| of
    // each other. Σ|terms| for entry i is M_i for the reduction, plus rounding in the states that feeds every
    // entry, bounded through the largest M. A missing, doubled or wrongly scaled slice is off by O(M_i).
    let n = data.steps * (data.count + 3 + 4 * 3)
    for threads in [2, 3, 7, 9] {
        let parallel = lossAndGradient(network, data, threads: threads, truncation: c.truncation)
        #expect(abs(parallel.loss - single.loss) <= 2 * gamma(n) * single.loss, "\(c), \(threads) threads: loss")
        for i in magnitude.indices {
            let bound = 2 * gamma(n) * (magnitude[i] + largest)
            #expect(abs(parallel.gradient[i] - single.gradient[i]) <= bound,
                    "\(c), \(threads) threads: \(network.layout.describe(index: i)) \(parallel.gradient[i]) vs \(single.gradient[i])")
        }
        // the same thread count gives the same bits, run after run
        let again = lossAndGradient(network, data, threads: threads, truncation: c.truncation)
        #expect(again.loss.bitPattern == parallel.loss.bitPattern && again.gradient.map(\.bitPattern) == parallel.gradient.map(\.bitPattern),
                "\(c), \(threads) threads: not deterministic")
    }
}

@Test func oneSliceIsTheSingleThreadedComputation() {
    let data = randomDataset(count: 5, steps: 6)
    let network = RecurrentNetwork(configuration: .init(cell: .lstm, inputSize: 2, hiddenSize: 4, outputSize: 2), seed: 2)
    let ws = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: 5, maxSteps: 6)
    var g = [Double](repeating: 0, count: network.parameterCount)
    let loss = network.parameters.withUnsafeBufferPointer { p in
        g.withUnsafeMutableBufferPointer {
            ws.meanSquaredError(data, indices: Array(0..<5)[...], window: 6, parameters: p.baseAddress!, gradient: $0.baseAddress!)
        }
    }
    let trainer = lossAndGradient(network, data, threads: 1, truncation: nil)
    #expect(trainer.loss.bitPattern == loss.bitPattern && trainer.gradient.map(\.bitPattern) == g.map(\.bitPattern))
}

@Test func parallelTrainingIsDeterministicPerThreadCount() throws {
    func train(threads: Int) throws -> (parameters: [Double], losses: [Double]) {
        let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 6, outputSize: 1), seed: 4)
        let trainer = Trainer(network: network, options: quietOptions(epochs: 3, batchSize: 6))
        trainer.threads = threads
        let history = try trainer.fit(training: sineDataset(count: 20, steps: 8), validation: sineDataset(count: 5, steps: 8))
        return (network.parameters, history.records.flatMap { [$0.trainingLoss, $0.validationLoss!] })
    }
    let first = try train(threads: 3), second = try train(threads: 3), start = RecurrentNetwork(
        configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 6, outputSize: 1), seed: 4).parameters
    #expect(first.parameters != start, "training should move the weights")
    #expect(first.parameters.map(\.bitPattern) == second.parameters.map(\.bitPattern))
    #expect(first.losses.map(\.bitPattern) == second.losses.map(\.bitPattern))
}

@Test func batchSlicesCoverTheBatchInOrder() {
    for (count, parts) in [(7, 3), (64, 2), (3, 8), (1, 1), (10, 10)] {
        let slices = Parallelism.slices(of: count, parts: parts)
        #expect(slices.count == min(count, parts))
        #expect(slices.first?.lowerBound == 0 && slices.last?.upperBound == count)
        #expect(zip(slices, slices.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(slices.map(\.count).max()! - slices.map(\.count).min()! <= 1)
    }
}

@Test func threadsFromTheEnvironment() throws {
    #expect(try Parallelism.environmentThreads([:]) == nil)
    #expect(try Parallelism.environmentThreads(["RNNODE_THREADS": "4"]) == 4)
    for bad in ["0", "257", "two", "", "-1"] {
        #expect(throws: TrainingError.self) { try Parallelism.environmentThreads(["RNNODE_THREADS": bad]) }
    }
}
