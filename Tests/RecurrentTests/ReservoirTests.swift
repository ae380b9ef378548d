// Echo state networks: the requested spectral radius, exact recovery of a linear readout, closed-loop generation.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

@Test func ridgeRegressionRecoversALinearMap() throws {
    var rng = Xoshiro256StarStar(seed: 1)
    let n = 200, p = 6, q = 3
    let x = (0..<(n * p)).map { _ in rng.nextSymmetric(1) }, w = (0..<(p * q)).map { _ in rng.nextSymmetric(2) }
    let y = naiveMatrixProduct(x, rows: n, columns: p, w, rows: p, columns: q)
    let fitted = try ridgeRegression(features: x, rows: n, columns: p, targets: y, outputs: q, ridge: 0)
    #expect(worstRelativeDifference(fitted, w).value < 1e-12)
    // with λ > 0 the solution satisfies (XᵀX + λI) W = XᵀY
    let lambda = 3.0
    let ridge = try ridgeRegression(features: x, rows: n, columns: p, targets: y, outputs: q, ridge: lambda)
    let xtx = naiveMatrixProduct(x, rows: n, columns: p, transposeA: true, x, rows: n, columns: p)
    let lhs = zip(naiveMatrixProduct(xtx, rows: p, columns: p, ridge, rows: p, columns: q), ridge).map { $0 + lambda * $1 }
    let rhs = naiveMatrixProduct(x, rows: n, columns: p, transposeA: true, y, rows: n, columns: q)
    #expect(worstRelativeDifference(lhs, rhs, floor: 1e-9).value < 1e-11)
    // rank-deficient without regularisation: a clear error
    let repeated = (0..<n).flatMap { _ in [1.0, 1.0] }
    #expect(throws: ReservoirError.self) { try ridgeRegression(features: repeated, rows: n, columns: 2, targets: [Double](repeating: 1, count: n), outputs: 1, ridge: 0) }
}

@Test(arguments: [0.5, 0.9, 1.2])
func reservoirHasTheRequestedSpectralRadius(_ radius: Double) throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 1)
    c.size = 120; c.connectivity = 0.1; c.spectralRadius = radius
    let esn = try EchoStateNetwork(configuration: c, seed: 3)
    #expect(abs(esn.measuredSpectralRadius - radius) < 1e-10)
    // independent check (Gelfand): ‖W^k‖^(1/k) → ρ(W)
    var power = esn.reservoir
    let n = c.size
    var logScale = 0.0
    for _ in 0..<9 {  // W^(2^9)
        power = naiveMatrixProduct(power, rows: n, columns: n, power, rows: n, columns: n)
        let norm = power.map { $0 * $0 }.reduce(0, +).squareRoot()
        logScale = 2 * logScale + log(norm); power = power.map { $0 / norm }
    }
    let gelfand = exp(logScale / 512)
    #expect(abs(gelfand - radius) < 0.02 * radius, "Gelfand estimate \(gelfand)")
    let nonZero = esn.reservoir.filter { $0 != 0 }.count
    #expect(abs(Double(nonZero) / Double(n * n) - 0.1) < 0.01)
}

@Test func readoutRecoversAKnownLinearMapOfTheFeatures() throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 2)
    c.size = 40; c.connectivity = 0.2; c.spectralRadius = 0.8; c.leakRate = 0.6; c.biasScaling = 0.3; c.ridge = 0
    let esn = try EchoStateNetwork(configuration: c, seed: 5)
    var rng = Xoshiro256StarStar(seed: 6)
    let p = 1 + 2 + 40, warmup = 10
    let truth = (0..<(p * 2)).map { _ in rng.nextSymmetric(1) }     // W_outᵀ (p, 2)
    var inputs: [[Double]] = [], targets: [[Double]] = []
    for _ in 0..<3 {
        let u = (0..<(150 * 2)).map { _ in rng.nextSymmetric(1) }
        var x = esn.makeState(), y: [Double] = []
        for t in 0..<150 {
            _ = esn.step(Array(u[(2 * t)..<(2 * t + 2)]), state: &x)
            let features = [1] + Array(u[(2 * t)..<(2 * t + 2)]) + x
            y += naiveMatrixProduct(features, rows: 1, columns: p, truth, rows: p, columns: 2)
        }
        inputs.append(u); targets.append(y)
    }
    try esn.fit(inputs: inputs, targets: targets, warmup: warmup)
    #expect(worstRelativeDifference(esn.readout, truth, floor: 1e-3).value < 1e-8)
    // the checkpoint reproduces the network
    let copy = try EchoStateNetwork(checkpoint: esn.checkpoint(metadata: ["scale": [2]]))
    var a = esn.makeState(), b = copy.makeState()
    for t in 0..<20 { #expect(esn.step([Double(t) * 0.1, 0.2], state: &a) == copy.step([Double(t) * 0.1, 0.2], state: &b)) }
    #expect(copy.measuredSpectralRadius == esn.measuredSpectralRadius)
}

@Test func closedLoopGenerationContinuesASine() throws {
    var c = ReservoirConfiguration(inputSize: 1, outputSize: 1)
    c.size = 200; c.connectivity = 0.05; c.spectralRadius = 0.9; c.leakRate = 0.5; c.ridge = 1e-8
    let esn = try EchoStateNetwork(configuration: c, seed: 7)
    let h = 0.2, steps = 600
    let wave = (0...steps + 100).map { sin(h * Double($0)) }
    try esn.fit(inputs: [Array(wave[0..<steps])], targets: [Array(wave[1...steps])], warmup: 100)
    // teacher-forced warm-up, then feed each output back as the next input
    var state = esn.makeState(), y = [0.0]
    for t in 0..<steps { y = esn.step([wave[t]], state: &state) }
    var worst = 0.0
    for t in steps..<(steps + 100) {
        worst = max(worst, abs(y[0] - wave[t]))
        y = esn.step(y, state: &state)
    }
    #expect(worst < 0.05, "closed-loop error \(worst)")
}

@Test func badReservoirConfigurationsAreErrors() {
    var c = ReservoirConfiguration(inputSize: 1, outputSize: 1)
    c.connectivity = 0
    #expect(throws: ReservoirError.self) { try EchoStateNetwork(configuration: c, seed: 1) }
    c.connectivity = 0.1; c.leakRate = 1.5
    #expect(throws: ReservoirError.self) { try EchoStateNetwork(configuration: c, seed: 1) }
    c.leakRate = 1; c.size = 3; c.connectivity = 0.01
    #expect(throws: ReservoirError.self) { try EchoStateNetwork(configuration: c, seed: 1) }  // empty W: radius 0
}
