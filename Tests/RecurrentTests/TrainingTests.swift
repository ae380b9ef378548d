// Each cell learns small deterministic sequence tasks; training is deterministic and resumes exactly.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// Next value of a sine wave: input sin(ωt + φ), target sin(ω(t + 1) + φ); 48 sequences of 24 steps.
func sineDataset(count: Int = 48, steps: Int = 24, seed: UInt64 = 1) -> SequenceDataset {
    var rng = Xoshiro256StarStar(seed: seed)
    var inputs: [Double] = [], targets: [Double] = []
    for _ in 0..<count {
        let omega = 0.3 + 0.2 * rng.nextUniform(), phase = 2 * Double.pi * rng.nextUniform()
        for t in 0..<steps {
            inputs.append(sin(omega * Double(t) + phase)); targets.append(sin(omega * Double(t + 1) + phase))
        }
    }
    return SequenceDataset(count: count, steps: steps, inputSize: 1, outputSize: 1, inputs: inputs, targets: targets, lossFromStep: 4)
}

/// Delayed copy: input uniform in ±1, target the input `delay` steps earlier (loss from step `delay` on).
func delayedCopyDataset(count: Int = 64, steps: Int = 16, delay: Int = 2, seed: UInt64 = 2) -> SequenceDataset {
    var rng = Xoshiro256StarStar(seed: seed)
    var inputs: [Double] = [], targets: [Double] = []
    for _ in 0..<count {
        let x = (0..<steps).map { _ in rng.nextSymmetric(1) }
        inputs += x
        targets += (0..<steps).map { $0 >= delay ? x[$0 - delay] : 0 }
    }
    return SequenceDataset(count: count, steps: steps, inputSize: 1, outputSize: 1, inputs: inputs, targets: targets, lossFromStep: delay)
}

func quietOptions(epochs: Int, learningRate: Double = 1e-2, batchSize: Int = 16) -> TrainingOptions {
    var o = TrainingOptions()
    o.epochs = epochs; o.learningRate = learningRate; o.batchSize = batchSize; o.progress = false; o.seed = 42
    return o
}

@Test(arguments: CellKind.allCases)
func cellLearnsNextValueOfASine(_ cell: CellKind) throws {
    let data = sineDataset()
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 1, hiddenSize: 16, outputSize: 1), seed: 1)
    let trainer = Trainer(network: network, options: quietOptions(epochs: 100, learningRate: 2e-2))
    let before = trainer.loss(on: data)
    let history = try trainer.fit(training: data, validation: nil)
    let after = trainer.loss(on: data)
    print("sine next value, \(cell): MSE \(before) → \(after)")
    // the targets have variance 1/2; predicting the input itself would give ≈ 2(1 − cos ω) / 2 ≈ 0.08. A learning
    // threshold, a stated margin: 1e−3 is 80× below that trivial predictor, and 100 epochs reach 2–4e−4 with each
    // cell whatever the BLAS kernel (rounding-order differences change the losses in their last digits only)
    #expect(after < 1e-3, "\(cell): MSE \(before) → \(after)")
    #expect(history.records.count == 100 && !history.interrupted)
    #expect(abs(history.records.last!.trainingLoss - after) < 0.5 * after + 1e-4)
}

@Test(arguments: CellKind.allCases)
func cellLearnsADelayedCopy(_ cell: CellKind) throws {
    let data = delayedCopyDataset()
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 1, hiddenSize: 16, outputSize: 1), seed: 2)
    let trainer = Trainer(network: network, options: quietOptions(epochs: 80))
    _ = try trainer.fit(training: data, validation: nil)
    let after = trainer.loss(on: data)
    print("delayed copy, \(cell): MSE \(after)")
    // predicting 0 gives the target variance 1/3; 1e−2 is 33× below that and ≈ 20× above what 80 epochs reach
    #expect(after < 1e-2, "\(cell): MSE after training \(after)")
}

@Test func sameSeedGivesBitIdenticalWeightsAndLosses() throws {
    let data = sineDataset(count: 20, steps: 12)
    func run() throws -> ([Double], [Double]) {
        let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 8, layers: 2, outputSize: 1), seed: 9)
        var options = quietOptions(epochs: 3, batchSize: 6); options.truncation = 5
        let history = try Trainer(network: network, options: options).fit(training: data, validation: data)
        return (network.parameters, history.records.map(\.trainingLoss) + history.records.map { $0.validationLoss! })
    }
    let (w1, l1) = try run(), (w2, l2) = try run()
    #expect(w1 == w2)
    #expect(l1 == l2)
    let other = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 8, layers: 2, outputSize: 1), seed: 10)
    #expect(other.parameters != RecurrentNetwork(configuration: other.configuration, seed: 9).parameters)
}

@Test(arguments: [OptimizerKind.adam(), .sgd(momentum: 0.9)])
func resumingAfterAnInterruptEqualsAnUninterruptedRun(_ optimizer: OptimizerKind) throws {
    let data = sineDataset(count: 30, steps: 10), validation = sineDataset(count: 8, steps: 10, seed: 5)
    let configuration = NetworkConfiguration(cell: .lstm, inputSize: 1, hiddenSize: 6, layers: 2, outputSize: 1)
    var options = quietOptions(epochs: 4, batchSize: 7)
    options.optimizer = optimizer; options.schedule = .cosine(minimum: 1e-4); options.patience = 10; options.truncation = 4
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-resume-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }

    let straight = RecurrentNetwork(configuration: configuration, seed: 3)
    let straightHistory = try Trainer(network: straight, options: options).fit(training: data, validation: validation)

    let url = directory.appendingPathComponent("run.ckpt")
    var interruptions = 0
    var history: TrainingHistory
    repeat {  // interrupt every 3 batches (5 batches per epoch), resuming each time from the checkpoint
        let network = RecurrentNetwork(configuration: configuration, seed: 3)
        let trainer = Trainer(network: network, options: options)
        trainer.interruptAfterBatches = 3
        history = try trainer.fit(training: data, validation: validation, checkpoint: url, metadata: ["scale": [2, 3]])
        if history.interrupted { interruptions += 1 }
        if !history.interrupted { #expect(network.parameters == straight.parameters) }
    } while history.interrupted && interruptions < 20
    #expect(interruptions == 6)
    #expect(history.records.map(\.trainingLoss) == straightHistory.records.map(\.trainingLoss))
    #expect(history.records.map(\.validationLoss) == straightHistory.records.map(\.validationLoss))
    // the finished checkpoint holds the final network and the metadata
    let restored = try RecurrentNetwork(checkpoint: try Checkpoint.read(from: url))
    #expect(restored.parameters == straight.parameters)
    #expect(try Checkpoint.read(from: url).arrays["scale"] == [2, 3])
    // a finished run resumed again trains no further
    let again = RecurrentNetwork(configuration: configuration, seed: 3)
    let none = try Trainer(network: again, options: options).fit(training: data, validation: validation, checkpoint: url)
    #expect(none.records.count == 4 && again.parameters == straight.parameters)
}

@Test func earlyStoppingRestoresTheBestWeights() throws {
    let data = sineDataset(count: 16, steps: 10), validation = delayedCopyDataset(count: 8, steps: 10)  // unrelated: val rises
    let network = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 8, outputSize: 1), seed: 4)
    var options = quietOptions(epochs: 200, learningRate: 3e-2, batchSize: 4); options.patience = 3
    let trainer = Trainer(network: network, options: options)
    let history = try trainer.fit(training: data, validation: validation)
    #expect(history.stoppedEarly && history.records.count < 200)
    let best = history.records.compactMap(\.validationLoss).min()!
    #expect(trainer.loss(on: validation) == best)
    let last = history.records.suffix(3).compactMap(\.validationLoss)
    #expect(last.allSatisfy { $0 >= best })
}

@Test func schedulesGiveTheDocumentedRates() {
    #expect(LearningRateSchedule.constant.rate(epoch: 7, of: 10, base: 0.1) == 0.1)
    // 0.1 · 0.5² scales fl(0.1) by a power of two: within one ulp of fl(0.025) (both literals round by ≤ ½ ulp)
    #expect(abs(LearningRateSchedule.step(every: 3, factor: 0.5).rate(epoch: 7, of: 10, base: 0.1) - 0.025) <= 0.025.ulp)
    let cosine = LearningRateSchedule.cosine(minimum: 0.01)
    #expect(cosine.rate(epoch: 0, of: 11, base: 0.1) == 0.1)
    // η_min + (η − η_min)(1 + cos(πe/(E − 1)))/2: five roundings of O(0.05) values (≤ ½ ulp each), cos within 1 ulp
    // of libm's exact value at fl(π)/2 (≈ 6e−17, not 0), the literals within ½ ulp: 4 ulp of the result covers it
    #expect(abs(cosine.rate(epoch: 5, of: 11, base: 0.1) - 0.055) <= 4 * 0.055.ulp)
    #expect(abs(cosine.rate(epoch: 10, of: 11, base: 0.1) - 0.01) <= 4 * 0.01.ulp)
}

@Test func clippingBoundsTheUpdate() throws {
    // SGD without momentum at rate 1: the update is the clipped gradient, so its norm is the clip norm
    let data = randomDataset(count: 4, steps: 6, inputSize: 1, outputSize: 1, lossFromStep: 0)
    let network = RecurrentNetwork(configuration: .init(cell: .lstm, inputSize: 1, hiddenSize: 5, outputSize: 1), seed: 1)
    var options = quietOptions(epochs: 1, learningRate: 1, batchSize: 4)
    options.optimizer = .sgd(momentum: 0); options.clipNorm = 1e-3
    let trainer = Trainer(network: network, options: options)
    let before = network.parameters
    _ = trainer.trainBatch(data, indices: [0, 1, 2, 3])
    #expect(trainer.lastGradientNorm > 1e-3)
    let step = zip(network.parameters, before).map { $0 - $1 }
    // Bound: θ ← θ − 1·g·(c/‖g‖) rounds once per entry (≤ u|θ_new|), the scale c/‖g‖ is within γ_{n+3} of exact
    // (the norm of n squares, a square root and a division), and this test's own norm adds γ_{n+2}: so
    // |‖Δθ‖ − c| ≤ u·‖θ_new‖ + c·(γ_{n+3} + γ_{n+2}), about 1e-16 + 3e-17 here: independent of the BLAS kernel.
    let n = network.parameterCount
    let bound = unitRoundoff * network.parameters.map { $0 * $0 }.reduce(0, +).squareRoot() + 1e-3 * (gamma(n + 3) + gamma(n + 2))
    #expect(abs(step.map { $0 * $0 }.reduce(0, +).squareRoot() - 1e-3) <= bound)
}

@Test func badDataIsAClearError() {
    let network = RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 2, hiddenSize: 3, outputSize: 2), seed: 1)
    let trainer = Trainer(network: network, options: quietOptions(epochs: 1))
    var data = randomDataset()
    data.inputs[7] = .nan
    #expect(throws: TrainingError.self) { try trainer.fit(training: data, validation: nil) }
    #expect(throws: TrainingError.self) { try trainer.fit(training: randomDataset(inputSize: 3), validation: nil) }
    #expect(throws: TrainingError.self) { try trainer.fit(training: randomDataset(lossFromStep: 5), validation: nil) }
}

/// Bound on how much a per-step rounding difference in the pre-activations can move the outputs over `steps` steps
/// of `network` on `inputs` (batch, steps, I) in ±1, to first order:
/// - per step and layer, two implementations that sum z = x·W_x + h·W_h + b in different orders (different GEMM
///   shapes) differ by at most 2·γ_{I+H+1}·M, M = max over gate columns of Σ|W_x| + Σ|W_h| + |b| (+ |b_hn|) (|x|, |h| ≤ 1);
///   a pre-activation change moves the new state by at most as much (σ′ ≤ ¼, tanh′ ≤ 1, gates ≤ 1) — the LSTM's
///   c by up to (1 + |c|/4) times it, so M is scaled by that with |c| ≤ steps;
/// - A: how much a state perturbation at step 0 is amplified at the outputs, measured here by perturbing every
///   state entry by δ = 1e−7 and stepping both copies (max over the horizon of |Δy| / δ, at least 1), taken as the
///   amplification from any step;
/// - the readout (H + 1 terms) adds 2·γ_{H+1}·(Σ|W_y| + |b_y|).
/// Total: steps · layers · A · 2γ·M + readout term.
func rolloutDifferenceBound(_ network: RecurrentNetwork, inputs: [Double], batch: Int, steps: Int) -> Double {
    let c = network.configuration, layout = network.layout, p = network.parameters
    var local = 0.0
    for ranges in layout.layers {
        let width = ranges.width
        var worstColumn = 0.0
        for column in 0..<width {
            var m = abs(p[ranges.bias.lowerBound + column])
            for k in 0..<ranges.inputSize { m += abs(p[ranges.inputWeights.lowerBound + k * width + column]) }
            for k in 0..<ranges.hiddenSize { m += abs(p[ranges.recurrentWeights.lowerBound + k * width + column]) }
            if !ranges.candidateRecurrentBias.isEmpty && column >= 2 * ranges.hiddenSize {
                m += abs(p[ranges.candidateRecurrentBias.lowerBound + column - 2 * ranges.hiddenSize])
            }
            worstColumn = max(worstColumn, m)
        }
        let cellFactor = c.cell == .lstm ? 1 + Double(steps) / 4 : 1
        local = max(local, 2 * gamma(ranges.inputSize + ranges.hiddenSize + 1) * worstColumn * cellFactor)
    }
    var readout = 0.0
    for o in 0..<c.outputSize {
        var m = abs(p[layout.readoutBias.lowerBound + o])
        for k in 0..<c.hiddenSize { m += abs(p[layout.readoutWeights.lowerBound + k * c.outputSize + o]) }
        readout = max(readout, 2 * gamma(c.hiddenSize + 1) * m)
    }
    // amplification of a state perturbation, measured
    let delta = 1e-7
    var plain = network.makeState(batch: batch), perturbed = plain
    perturbed.hidden = perturbed.hidden.map { $0.map { $0 + delta } }
    perturbed.cell = perturbed.cell.map { $0.map { $0 + delta } }
    var amplification = 1.0
    for t in 0..<steps {
        var x: [Double] = []
        for b in 0..<batch { let start = (b * steps + t) * c.inputSize; x += inputs[start..<(start + c.inputSize)] }
        let y = network.step(x, state: &plain), yPerturbed = network.step(x, state: &perturbed)
        amplification = max(amplification, zip(y, yPerturbed).map { abs($0 - $1) / delta }.max()!)
    }
    return Double(steps * c.layers) * amplification * local + readout
}

@Test(arguments: CellKind.allCases)
func steppingEqualsPredicting(_ cell: CellKind) {
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 2, hiddenSize: 5, layers: 2, outputSize: 3), seed: 8)
    let batch = 3, steps = 300  // longer than one prediction window (128 steps)
    var rng = Xoshiro256StarStar(seed: 4)
    let inputs = (0..<(batch * steps * 2)).map { _ in rng.nextSymmetric(1) }
    let predicted = network.predict(inputs, batch: batch, steps: steps)
    var state = network.makeState(batch: batch)
    var worst = 0.0
    for t in 0..<steps {
        var x: [Double] = []
        for b in 0..<batch { let start = (b * steps + t) * 2; x += inputs[start..<(start + 2)] }
        let y = network.step(x, state: &state)
        for b in 0..<batch {
            for k in 0..<3 {
                let reference: Double = predicted[(b * steps + t) * 3 + k]
                worst = max(worst, abs(y[b * 3 + k] - reference))
            }
        }
    }
    // The two paths compute the same function with GEMMs of different shapes (all steps at once vs one step), so
    // OpenBLAS may sum in different orders; a broken state carry at the 128-step window boundary is off by O(0.1).
    let bound = rolloutDifferenceBound(network, inputs: inputs, batch: batch, steps: steps)
    print("stepping vs predicting, \(cell): worst difference \(worst), bound \(bound)")
    #expect(worst <= bound)
    #expect(bound < 1e-6, "the bound must stay far below a broken carry's O(0.1) error")
}

@Test func progressLinesFormatWithoutTrouble() throws {
    // writes one progress line to stderr (a plain line unless stderr is a terminal)
    let reporter = ProgressReporter(enabled: true)
    reporter.update(epoch: 2, of: 10, batch: 3, of: 7, loss: 1.25e-3, validationLoss: 2.5e-3, sequencesPerSecond: 1234,
                    secondsLeft: 3725, force: true)
    reporter.update(epoch: 2, of: 10, batch: 4, of: 7, loss: 1.25e-3, validationLoss: nil, sequencesPerSecond: 1234,
                    secondsLeft: .nan, force: true)
    reporter.finish()
    #expect(ProgressReporter.clock(3725) == "1:02:05" && ProgressReporter.clock(65) == "01:05" && ProgressReporter.clock(.infinity) == "--:--")
    // a short run with progress on completes normally
    let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 4, outputSize: 1), seed: 1)
    var options = quietOptions(epochs: 2, batchSize: 8); options.progress = true
    let history = try Trainer(network: network, options: options).fit(training: sineDataset(count: 16, steps: 8), validation: sineDataset(count: 4, steps: 8))
    #expect(history.records.count == 2)
}
