// Every parameter gradient of every cell type against central differences: 1 and 2 layers, full and truncated
// BPTT, batch 3, the loss counted from step 1.
import Testing
import TestSupport
@testable import Recurrent

struct GradientCase: CustomStringConvertible, Sendable {
    var cell: CellKind
    var layers: Int
    var truncation: Int?
    var description: String { "\(cell) × \(layers) layer(s), truncation \(truncation.map(String.init) ?? "none")" }
}

let gradientCases: [GradientCase] = CellKind.allCases.flatMap { cell in
    [1, 2].flatMap { layers in [nil, 2].map { GradientCase(cell: cell, layers: layers, truncation: $0) } }
}

/// A small random regression problem: 3 sequences of 5 steps, 2 inputs, 2 outputs.
func randomDataset(count: Int = 3, steps: Int = 5, inputSize: Int = 2, outputSize: Int = 2, lossFromStep: Int = 1,
                   seed: UInt64 = 7) -> SequenceDataset {
    var rng = Xoshiro256StarStar(seed: seed)
    return SequenceDataset(count: count, steps: steps, inputSize: inputSize, outputSize: outputSize,
                           inputs: (0..<(count * steps * inputSize)).map { _ in rng.nextSymmetric(1) },
                           targets: (0..<(count * steps * outputSize)).map { _ in rng.nextSymmetric(1) },
                           lossFromStep: lossFromStep)
}

@Test(arguments: gradientCases)
func gradientMatchesCentralDifferences(_ c: GradientCase) {
    let data = randomDataset()
    let network = RecurrentNetwork(configuration: .init(cell: c.cell, inputSize: 2, hiddenSize: 3, layers: c.layers, outputSize: 2),
                                   seed: 11)
    let window = c.truncation ?? data.steps
    let workspace = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: data.count, maxSteps: window)
    let indices = Array(0..<data.count)[...]
    var analytic = [Double](repeating: 0, count: network.parameterCount)
    var starts: WindowStartStates = []
    _ = network.parameters.withUnsafeBufferPointer { p in
        analytic.withUnsafeMutableBufferPointer { g in
            workspace.meanSquaredError(data, indices: indices, window: window, parameters: p.baseAddress!,
                                       gradient: g.baseAddress!, record: &starts)
        }
    }
    if c.truncation != nil {
        #expect(starts.count == 3)
        #expect(starts[1].contains { $0 != 0 }, "carried states should be non-zero")
    }
    // the loss with each window's start state held at its recorded value (what truncated BPTT differentiates)
    let numeric = centralDifferenceGradient(at: network.parameters, step: 1e-5) { theta in
        theta.withUnsafeBufferPointer { p in
            workspace.meanSquaredError(data, indices: indices, window: window, parameters: p.baseAddress!,
                                       gradient: nil, startStates: starts)
        }
    }
    let worst = worstGradientEntries(analytic: analytic, numeric: numeric, floor: 1e-4) { network.layout.describe(index: $0) }
    print("gradient check \(c): worst \(worst[0])")
    // Central differences with h = 1e−5 err by h²/6·|L‴| ≈ 2e−11 (truncation, O(1) third derivatives) plus
    // ≈ u·|L|/h ≈ 5e−12 (rounding in L(θ ± h), |L| < 1, any summation order): ≈ 2e−7 relative against the floor
    // 1e−4 at worst, while a wrong term in a backward pass is off by O(1): 1e−6 leaves a 4× margin above the noise.
    #expect(worst[0].relativeError < 1e-6, "\(c): worst entries\n\(worst.map(\.description).joined(separator: "\n"))")
    #expect(analytic.allSatisfy { $0.isFinite })
    #expect(analytic.filter { $0 != 0 }.count > analytic.count * 9 / 10, "most gradient entries should be non-zero")
}

@Test func truncationCutsTheGradient() {
    let data = randomDataset(steps: 6)
    let network = RecurrentNetwork(configuration: .init(cell: .lstm, inputSize: 2, hiddenSize: 3, outputSize: 2), seed: 3)
    func gradient(window: Int) -> [Double] {
        let ws = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: 3, maxSteps: window)
        var g = [Double](repeating: 0, count: network.parameterCount)
        _ = network.parameters.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer {
                ws.meanSquaredError(data, indices: [0, 1, 2][...], window: window, parameters: p.baseAddress!, gradient: $0.baseAddress!)
            }
        }
        return g
    }
    let full = gradient(window: 6), truncated = gradient(window: 2)
    #expect(worstRelativeDifference(full, truncated).value > 1e-3)
    // windows as long as the sequence are full BPTT: with 6 steps, a 10-step window runs the very same calls with
    // the same shapes (one window of 6 steps), so the same kernels and summation orders: equal bit for bit
    #expect(gradient(window: 6) == gradient(window: 10))
}

@Test(arguments: CellKind.allCases)
func trainerGradientEqualsWorkspaceGradientAndLossIsMSE(_ cell: CellKind) {
    let data = randomDataset(lossFromStep: 0)
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 2, hiddenSize: 4, outputSize: 2), seed: 5)
    var options = TrainingOptions(); options.progress = false
    let trainer = Trainer(network: network, options: options)
    trainer.threads = 1   // one slice: the same calls with the same shapes as `predict`
    let loss = network.parameters.withUnsafeBufferPointer { trainer.lossAndGradient(data, indices: [0, 1, 2][...], parameters: $0.baseAddress!) }
    let outputs = network.predict(data.inputs, batch: 3, steps: data.steps)
    let mse = zip(outputs, data.targets).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(outputs.count)
    // `predict` and the training loss run the same forward calls with the same shapes (batch 3, one window of 5
    // steps), so the outputs and the squared errors are the same bits; the means differ only in the order the N = 30
    // squares are summed and in the scaling (1/N rounded, ×count ÷count: ≤ 4 roundings): each within γ_{N+4}·mse of
    // the exact mean (non-negative terms), hence within twice that of each other.
    let bound = 2 * gamma(outputs.count + 4) * mse
    #expect(abs(loss - mse) <= bound)
    #expect(abs(trainer.loss(on: data) - mse) <= bound)
}
