// Readout features (linear, Pathak's squared even units, quadratic) and one input per unit: the fit against the
// exact ridge solution on the features, the state left alone, batched against single steps, and checkpoints.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// F(u, x) as documented on `ReservoirReadout`, written out independently of `advance`.
private func features(_ readout: ReservoirReadout, input u: [Double], state x: [Double]) -> [Double] {
    switch readout {
    case .linear: return [1] + u + x
    case .pathak: return [1] + u + x.indices.map { $0 % 2 == 0 ? x[$0] * x[$0] : x[$0] }
    case .quadratic: return [1] + u + x + x.map { $0 * $0 }
    }
}

/// Targets y_t = W·F(u_t, x_t) for a known W: the fit (λ = 0) must return W within the normal-equations bound on
/// the rows it saw (rows rebuilt here from the states `step` returns, by the formula, not by the library).
@Test(arguments: [ReservoirReadout.pathak, .quadratic, .linear])
func readoutFeaturesFitRecoversAKnownMap(_ readout: ReservoirReadout) throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 2)
    c.size = 30; c.connectivity = 0.2; c.spectralRadius = 0.8; c.leakRate = 0.6; c.biasScaling = 0.3; c.ridge = 0
    c.readout = readout
    let esn = try EchoStateNetwork(configuration: c, seed: 5)
    let p = esn.featureCount, warmup = 10
    #expect(p == features(readout, input: [0, 0], state: esn.makeState()).count)
    var rng = Xoshiro256StarStar(seed: 6)
    let truth = (0..<(p * 2)).map { _ in rng.nextSymmetric(1) }
    var inputs: [[Double]] = [], targets: [[Double]] = [], rows: [Double] = [], rowTargets: [Double] = []
    for _ in 0..<3 {
        let u = (0..<(200 * 2)).map { _ in rng.nextSymmetric(1) }
        var x = esn.makeState(), y: [Double] = []
        for t in 0..<200 {
            let input = Array(u[(2 * t)..<(2 * t + 2)])
            _ = esn.step(input, state: &x)
            let f = features(readout, input: input, state: x)
            let target = naiveMatrixProduct(f, rows: 1, columns: p, truth, rows: p, columns: 2)
            y += target
            if t >= warmup { rows += f; rowTargets += target }
        }
        inputs.append(u); targets.append(y)
    }
    try esn.fit(inputs: inputs, targets: targets, warmup: warmup)
    let bound = leastSquaresErrorBound(x: rows, rows: rows.count / p, columns: p, y: rowTargets, outputs: 2, exact: truth, computed: esn.readout)
    let worst = zip(esn.readout, truth).map { abs($0 - $1) }.max()!
    print("\(readout) readout: worst |Ŵ − W| \(worst), bound \(bound)")
    #expect(worst <= bound)
    #expect(bound < 1e-3, "the bound must stay below a wrong readout's O(1) error")
    // The fitted readout applied to F: one step's output is W_out·F(u, x) within γ_P·Σ|W_out||F| per output.
    var x = esn.makeState()
    for t in 0..<15 {
        let input = [0.1 * Double(t), -0.2]
        let y = esn.step(input, state: &x)
        let f = features(readout, input: input, state: x)
        for o in 0..<2 {
            let exact = (0..<p).map { esn.readout[$0 * 2 + o] * f[$0] }.reduce(0, +)
            let magnitude = (0..<p).map { abs(esn.readout[$0 * 2 + o] * f[$0]) }.reduce(0, +)
            #expect(abs(y[o] - exact) <= 2 * gamma(p) * magnitude, "step \(t), output \(o)")
        }
    }
}

/// The readout changes F only: the reservoir state of a network with squared features is that of the linear one
/// from the same seed, bit for bit.
@Test(arguments: [ReservoirReadout.pathak, .quadratic])
func readoutFeaturesLeaveTheStateAlone(_ readout: ReservoirReadout) throws {
    var c = ReservoirConfiguration(inputSize: 3, outputSize: 1)
    c.size = 40; c.connectivity = 0.15; c.biasScaling = 0.4
    let linear = try EchoStateNetwork(configuration: c, seed: 11)
    c.readout = readout
    let squared = try EchoStateNetwork(configuration: c, seed: 11)
    var a = linear.makeState(), b = squared.makeState()
    for t in 0..<20 {
        let input = [sin(Double(t)), cos(Double(t)), 0.5]
        _ = linear.step(input, state: &a); _ = squared.step(input, state: &b)
        #expect(a == b, "step \(t)")
    }
    #expect(a.contains { $0 < 0 }, "a state with negative units, where squaring would show")
}

/// B trajectories stepped together give the bits of B single steps, for every readout and both W_in patterns.
@Test(arguments: [(ReservoirReadout.pathak, ReservoirInputWeights.dense), (.quadratic, .dense), (.pathak, .one), (.linear, .one)])
func batchedStepsEqualSingleStepsForEveryReadout(_ readout: ReservoirReadout, _ inputWeights: ReservoirInputWeights) throws {
    var c = ReservoirConfiguration(inputSize: 3, outputSize: 2)
    c.size = 50; c.connectivity = 0.1; c.leakRate = 0.8; c.biasScaling = 0.3
    c.readout = readout; c.inputWeights = inputWeights
    let esn = try EchoStateNetwork(configuration: c, seed: 6)
    var rng = Xoshiro256StarStar(seed: 7)
    esn.readout = (0..<(esn.featureCount * 2)).map { _ in rng.nextSymmetric(1) }
    for batch in [3, 9, 13] {
        let group = ReservoirBatch(network: esn, batch: batch)
        group.reset()
        var states = (0..<batch).map { _ in esn.makeState() }
        for step in 0..<15 {
            let inputs = (0..<(batch * 3)).map { _ in rng.nextSymmetric(2) }
            let together = group.step(inputs)
            for b in 0..<batch {
                let alone = esn.step(Array(inputs[(b * 3)..<(b * 3 + 3)]), state: &states[b])
                #expect(Array(together[(b * 2)..<(b * 2 + 2)]) == alone, "batch \(batch), step \(step), trajectory \(b)")
            }
        }
    }
}

/// One input per unit: every row of W_in has exactly one entry in ±scale, each input drives ⌊N/I⌋ or ⌈N/I⌉ units,
/// and the first step from the zero state is tanh(b + W_in·u) computed over the whole row (zeros included).
@Test func oneInputPerUnitDrivesEachUnitFromOneInput() throws {
    var c = ReservoirConfiguration(inputSize: 7, outputSize: 1)
    c.size = 60; c.connectivity = 0.1; c.inputScaling = 0.5; c.biasScaling = 0.2; c.inputWeights = .one
    let esn = try EchoStateNetwork(configuration: c, seed: 3)
    let n = c.size, i = c.inputSize, w = esn.inputWeights
    var perInput = [Int](repeating: 0, count: i)
    for row in 0..<n {
        let entries = (0..<i).filter { w[row * i + $0] != 0 }
        #expect(entries.count == 1, "row \(row): \(entries.count) entries")
        if let j = entries.first { perInput[j] += 1; #expect(abs(w[row * i + j]) <= 0.5) }
    }
    #expect(perInput.allSatisfy { $0 == n / i || $0 == (n + i - 1) / i }, "units per input \(perInput)")
    // Different seeds give different assignments.
    let other = try EchoStateNetwork(configuration: c, seed: 4)
    #expect(other.inputWeights.map { $0 != 0 } != w.map { $0 != 0 })
    let u = (0..<i).map { 0.3 * Double($0) - 1 }
    var x = esn.makeState()
    _ = esn.step(u, state: &x)
    for row in 0..<n {
        var z = esn.bias[row]
        for j in 0..<i { z += w[row * i + j] * u[j] }
        #expect(x[row] == FastTanh.tanh(z), "unit \(row)")
    }
}

/// A network with Pathak's readout and one input per unit survives a checkpoint; a checkpoint written before the
/// readout and W_in options existed (no such keys in its configuration) loads as linear and dense, unchanged.
@Test func readoutAndInputWeightsSurviveCheckpointsAndOldOnesStillLoad() throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 2)
    c.size = 30; c.connectivity = 0.2; c.biasScaling = 0.1; c.readout = .pathak; c.inputWeights = .one
    let esn = try EchoStateNetwork(configuration: c, seed: 9)
    var rng = Xoshiro256StarStar(seed: 10)
    esn.readout = (0..<(esn.featureCount * 2)).map { _ in rng.nextSymmetric(1) }
    let copy = try EchoStateNetwork(checkpoint: Checkpoint.decode(esn.checkpoint().encoded(), file: "pathak.model"))
    #expect(copy.configuration == c)
    var a = esn.makeState(), b = copy.makeState()
    for t in 0..<10 { #expect(esn.step([Double(t) * 0.1, -0.3], state: &a) == copy.step([Double(t) * 0.1, -0.3], state: &b)) }

    var linearConfiguration = c
    linearConfiguration.readout = .linear; linearConfiguration.inputWeights = .dense
    let linear = try EchoStateNetwork(configuration: linearConfiguration, seed: 9)
    linear.readout = (0..<(linear.featureCount * 2)).map { _ in rng.nextSymmetric(1) }
    var old = linear.checkpoint()
    var json = try #require(try JSONSerialization.jsonObject(with: Data(old.strings["reservoir.configuration"]!.utf8)) as? [String: Any])
    #expect(json["readout"] as? String == "linear")
    json["readout"] = nil; json["inputWeights"] = nil
    old.strings["reservoir.configuration"] = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    let restored = try EchoStateNetwork(checkpoint: old)
    #expect(restored.configuration == linearConfiguration)
    var p = linear.makeState(), q = restored.makeState()
    for t in 0..<10 { #expect(linear.step([Double(t) * 0.1, 0.4], state: &p) == restored.step([Double(t) * 0.1, 0.4], state: &q)) }

    // A W_in row with two entries contradicts "one input per unit": a malformed checkpoint, not a trap.
    var broken = esn.checkpoint()
    broken.arrays["reservoir.W_in"]![0] = 0.25; broken.arrays["reservoir.W_in"]![1] = 0.25
    let error = #expect(throws: CheckpointError.self) { try EchoStateNetwork(checkpoint: broken) }
    if case .malformed(let message)? = error?.problem {
        #expect(message.contains("reservoir.W_in"), "\(message)")
    } else {
        Issue.record("expected a malformed checkpoint, got \(String(describing: error))")
    }
    // An unknown readout name is malformed too.
    var unknown = esn.checkpoint()
    unknown.strings["reservoir.configuration"] = unknown.strings["reservoir.configuration"]!.replacingOccurrences(of: "\"pathak\"", with: "\"cubic\"")
    #expect(throws: CheckpointError.self) { try EchoStateNetwork(checkpoint: unknown) }
}
