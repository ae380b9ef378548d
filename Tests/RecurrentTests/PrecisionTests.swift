// Single precision: Float32 gradients against Double's within Float32's rounding, Float32 training, and the
// precision carried through checkpoints (old checkpoints without it read as Double).
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// γ_n = n·u / (1 − n·u) for Float32's unit roundoff u = 2⁻²⁴ (Higham, Lemma 3.1).
private func singleGamma(_ n: Int) -> Double {
    let nu = Double(n) * Precision.single.unitRoundoff
    precondition(nu < 1)
    return nu / (1 - nu)
}

/// `values` rounded to Float32 and back (exact), so the Double and Float32 passes see the same numbers.
private func roundedToSingle(_ values: [Double]) -> [Double] { values.map { Double(Float($0)) } }

/// Loss and gradient of all of `data` as one batch through a trainer on `threads` threads.
private func lossAndGradient(_ network: RecurrentNetwork, _ data: SequenceDataset, threads: Int = 1,
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
func singlePrecisionGradientMatchesDoubleWithinFloatRounding(_ c: GradientCase) {
    let raw = randomDataset(count: 7, steps: 5)
    let data = SequenceDataset(count: raw.count, steps: raw.steps, inputSize: raw.inputSize, outputSize: raw.outputSize,
                               inputs: roundedToSingle(raw.inputs), targets: roundedToSingle(raw.targets),
                               lossFromStep: raw.lossFromStep)
    let configuration = NetworkConfiguration(cell: c.cell, inputSize: 2, hiddenSize: 3, layers: c.layers, outputSize: 2)
    let double = RecurrentNetwork(configuration: configuration, seed: 13)
    double.setParameters(roundedToSingle(double.parameters))
    let single = RecurrentNetwork(configuration: configuration, seed: 0, precision: .single)
    single.setParameters(double.parameters)
    let reference = lossAndGradient(double, data, truncation: c.truncation)

    // M_i = Σ_k |g_i^(k)| over the sequences' own contributions (in Double), as in the data-parallel test
    let window = c.truncation ?? data.steps
    let ws = BPTTWorkspace<Double>(configuration: configuration, layout: double.layout, maxBatch: 1, maxSteps: window)
    var magnitude = [Double](repeating: 0, count: double.parameterCount)
    for k in 0..<data.count {
        var g = [Double](repeating: 0, count: double.parameterCount)
        _ = double.parameters.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer {
                ws.meanSquaredError(data, indices: [k][...], window: window, parameters: p.baseAddress!, gradient: $0.baseAddress!,
                                    averagedOver: data.count)
            }
        }
        for i in g.indices { magnitude[i] += abs(g[i]) }
    }
    let largest = magnitude.max()!
    // Both passes evaluate the same expression on the same (Float-representable) parameters and data; they differ
    // in the unit roundoff of every operation (2⁻²⁴ against 2⁻⁵³) and in the activations' polynomials, each within
    // 2 ulp of its function, so each activation counts as at most 8 roundings. A result is a chain of at most
    // n = T·(B + I + G·H + 8·a) roundings, a = 8 activations and pointwise products per unit and step (forward and
    // backward), so each pass lies within γ_n·Σ|terms| of the exact value (Higham §3.1), and the two within
    // 2γ_n(single)·Σ|terms|; Σ|terms| as in the data-parallel test: M_i plus the largest M for rounding in the states.
    let n = data.steps * (data.count + 2 + 4 * 3 + 8 * 8)
    for threads in [1, 3] {
        let result = lossAndGradient(single, data, threads: threads, truncation: c.truncation)
        #expect(abs(result.loss - reference.loss) <= 2 * singleGamma(n) * reference.loss, "\(c), \(threads) threads: loss")
        for i in magnitude.indices {
            let bound = 2 * singleGamma(n) * (magnitude[i] + largest)
            #expect(abs(result.gradient[i] - reference.gradient[i]) <= bound,
                    "\(c), \(threads) threads: \(double.layout.describe(index: i)) \(result.gradient[i]) vs \(reference.gradient[i]), bound \(bound)")
        }
        // and the Float32 pass really is Float32: it does not reproduce Double's bits everywhere
        #expect(result.gradient.map(\.bitPattern) != reference.gradient.map(\.bitPattern), "\(c): Float32 gave Double's bits")
    }
}

@Test func singlePrecisionRolloutsMatchDoubleWithinFloatRounding() {
    let configuration = NetworkConfiguration(cell: .lstm, inputSize: 2, hiddenSize: 8, layers: 2, outputSize: 2)
    let double = RecurrentNetwork(configuration: configuration, seed: 5)
    double.setParameters(roundedToSingle(double.parameters))
    let single = RecurrentNetwork(configuration: configuration, seed: 0, precision: .single)
    single.setParameters(double.parameters)
    var rng = Xoshiro256StarStar(seed: 3)
    let (batch, steps) = (3, 20)
    let inputs = roundedToSingle((0..<(batch * steps * 2)).map { _ in rng.nextSymmetric(1) })
    let y64 = double.predict(inputs, batch: batch, steps: steps), y32 = single.predict(inputs, batch: batch, steps: steps)
    // Σ|terms| of each output: the readout's |W_y|·|h| + |b_y| ≤ H·max|W_y| + max|b_y| (|h| ≤ 1); each h is the end of
    // a chain of n = T·L·(I + 4H + 8·8) roundings (the activations as in the gradient test).
    let readout = double.layout.readoutWeights, bias = double.layout.readoutBias
    let scale = 8 * double.parameters[readout].map(abs).max()! + double.parameters[bias].map(abs).max()!
    let n = steps * 2 * (8 + 4 * 8 + 8 * 8)
    for k in y64.indices { #expect(abs(y32[k] - y64[k]) <= 2 * singleGamma(n) * scale, "output \(k): \(y32[k]) vs \(y64[k])") }
    #expect(y32 != y64)
    // step by step in Float32 gives the same outputs as predict to rounding
    var state = single.makeState(batch: batch)
    for t in 0..<steps {
        var x: [Double] = []
        for b in 0..<batch {
            let first = (b * steps + t) * 2
            x += inputs[first..<(first + 2)]
        }
        let y = single.step(x, state: &state)
        for b in 0..<batch {
            for o in 0..<2 {
                let k = (b * steps + t) * 2 + o
                #expect(abs(y[b * 2 + o] - y32[k]) <= 2 * singleGamma(n) * scale, "step \(t), sequence \(b)")
            }
        }
    }
}

@Test func singlePrecisionTrainingLowersTheLoss() throws {
    let random = randomDataset(count: 16, steps: 8, seed: 21)
    let data = SequenceDataset(count: 16, steps: 8, inputSize: 2, outputSize: 2, inputs: random.inputs, targets: random.inputs)  // echo the input
    let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 2, hiddenSize: 8, outputSize: 2), seed: 3,
                                   precision: .single)
    var options = TrainingOptions(); options.progress = false; options.epochs = 30; options.batchSize = 8
    options.learningRate = 1e-2
    let trainer = Trainer(network: network, options: options)
    #expect(trainer.precision == .single)
    let before = trainer.loss(on: data)
    let history = try trainer.fit(training: data, validation: nil)
    #expect(history.records.count == 30)
    #expect(trainer.loss(on: data) < 0.8 * before)
}

@Test func checkpointsCarryThePrecision() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("precision-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("net.ckpt")
    let network = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 2, hiddenSize: 5, outputSize: 1), seed: 9,
                                   precision: .single)
    try network.checkpoint().write(to: url)
    let loaded = try RecurrentNetwork(checkpoint: try Checkpoint.read(from: url))
    #expect(loaded.precision == .single)
    let inputs = (0..<12).map { Double($0) / 12 }
    #expect(loaded.predict(inputs, batch: 2, steps: 3).map(\.bitPattern) == network.predict(inputs, batch: 2, steps: 3).map(\.bitPattern))

    // a checkpoint from before precisions were recorded reads as Double
    var old = network.checkpoint(); old.strings["network.precision"] = nil
    #expect(try RecurrentNetwork(checkpoint: old).precision == .double)
    // an unknown precision is an error naming the entry and the choices
    var bad = network.checkpoint(); bad.strings["network.precision"] = "half"
    #expect(throws: CheckpointError.self) { try RecurrentNetwork(checkpoint: bad) }
    do { _ = try RecurrentNetwork(checkpoint: bad) } catch {
        #expect("\(error)".contains("network.precision 'half'") && "\(error)".contains("double or single"))
    }
}
