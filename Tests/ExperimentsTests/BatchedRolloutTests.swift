// Batched rollouts against one-at-a-time rollouts: the same predictions, divergence rows and NaN fill for every
// trajectory (bit for bit where the kernels allow it), whatever the batch split and thread count.
import Foundation
import Testing
import TestSupport
@testable import Experiments
@testable import Recurrent

/// A stepper with memory, exact in any batch: m ← ½·m + ½·z, ĝ = −0.1·m + 0.2·m³ (per component, per trajectory).
/// Trajectories that start beyond |m| ≈ 0.7 run away and leave the box (sooner the higher); the others settle.
private final class DriftStepper: LearnedStepper, BatchSteppable {
    let dimension: Int
    private var memory: [Double]
    init(dimension: Int) { self.dimension = dimension; memory = [Double](repeating: 0, count: dimension) }
    var parameterCount: Int { 0 }
    func reset() { memory = [Double](repeating: 0, count: dimension) }
    func advance(_ z: [Double]) -> [Double] {
        for i in 0..<dimension { memory[i] = 0.5 * memory[i] + 0.5 * z[i] }
        return memory.map { -0.1 * $0 + 0.2 * $0 * $0 * $0 }
    }
    final class Batch: BatchStepper {
        let batch: Int, dimension: Int
        var memory: [Double]
        init(batch: Int, dimension: Int) { self.batch = batch; self.dimension = dimension; memory = [Double](repeating: 0, count: batch * dimension) }
        func advance(_ z: UnsafePointer<Double>, into g: UnsafeMutablePointer<Double>) {
            for k in 0..<(batch * dimension) {
                memory[k] = 0.5 * memory[k] + 0.5 * z[k]
                g[k] = -0.1 * memory[k] + 0.2 * memory[k] * memory[k] * memory[k]
            }
        }
    }
    func makeBatchStepper(batch: Int) -> BatchStepper { Batch(batch: batch, dimension: dimension) }
    var batchesRunConcurrently: Bool { true }
}

/// Smooth reference trajectories (N, 2): damped rotations of different amplitudes.
private func references(count: Int, rows: Int) -> [[Double]] {
    (0..<count).map { j in
        let amplitude = 0.5 + Double(j) * 0.35, phase = Double(j) * 0.7
        return (0..<rows).flatMap { n -> [Double] in
            let t = Double(n) * 0.05
            return [amplitude * exp(-0.01 * t) * cos(t + phase), amplitude * exp(-0.01 * t) * sin(1.3 * t + phase)]
        }
    }
}

private func expectSameRollouts(_ batched: [Rollout], _ single: [Rollout], _ context: String) {
    #expect(batched.count == single.count)
    for (j, (a, b)) in zip(batched, single).enumerated() {
        #expect(a.divergedIndex == b.divergedIndex, "\(context): trajectory \(j) diverged at \(String(describing: a.divergedIndex)) vs \(String(describing: b.divergedIndex))")
        #expect(a.predicted.count == b.predicted.count)
        let same = zip(a.predicted, b.predicted).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        #expect(same, "\(context): trajectory \(j) predictions differ")
        #expect(a.seconds > 0 && a.seconds.isFinite)
    }
}

@Test(arguments: [1, 2, 3])
func batchedRunnerKeepsThePerTrajectorySemantics(_ threads: Int) {
    let d = 2, rows = 120, k = 10, last = 100
    let data = references(count: 7, rows: rows)
    let normalization = Normalization.fit(trajectories: data, dimension: d)
    // A box that the high-amplitude trajectories leave at different rows.
    let lower = [-3.0, -3.0], upper = [3.0, 3.0]
    let stepper = DriftStepper(dimension: d)
    let single = data.map { RolloutRunner.run(stepper, reference: $0, dimension: d, warmUp: k, last: last,
                                              normalization: normalization, lower: lower, upper: upper) }
    let batched = BatchedRolloutRunner.run(stepper, references: data, dimension: d, warmUp: k, last: last,
                                           normalization: normalization, lower: lower, upper: upper, threads: threads)
    expectSameRollouts(batched, single, "drift stepper, \(threads) threads")
    let diverged = single.compactMap(\.divergedIndex)
    print("drift stepper: diverged at rows \(single.map(\.divergedIndex))")
    #expect(!diverged.isEmpty && diverged.count < data.count, "the test needs some diverged and some finished rollouts: \(diverged)")
    #expect(Set(diverged).count > 1, "divergence rows should differ between trajectories: \(diverged)")
}

/// The ESN through the runner: the batched kernels give every trajectory the bits of its own rollout.
@Test(arguments: [1, 2, 3])
func batchedEchoStateRolloutsEqualSingleOnes(_ threads: Int) throws {
    let d = 2, rows = 160, k = 20, last = 150
    let data = references(count: 6, rows: rows)
    let normalization = Normalization.fit(trajectories: data, dimension: d)
    var c = ReservoirConfiguration(inputSize: d, outputSize: d)
    c.size = 70; c.connectivity = 0.1; c.biasScaling = 0.3; c.inputScaling = 0.5; c.ridge = 1e-6
    let network = try EchoStateNetwork(configuration: c, seed: 3)
    let sequences = TeacherForcing.full(trajectories: Array(data.prefix(3)), dimension: d, normalization: normalization)
    try network.fit(inputs: sequences.inputs, targets: sequences.targets, warmup: 20, threads: threads)
    let stepper = ReservoirStepper(network: network)
    for (lower, upper) in [([-Double.infinity, -.infinity], [Double.infinity, .infinity]), ([-1.5, -1.5], [1.5, 1.5])] {
        let single = data.map { RolloutRunner.run(stepper, reference: $0, dimension: d, warmUp: k, last: last,
                                                  normalization: normalization, lower: lower, upper: upper) }
        let batched = BatchedRolloutRunner.run(stepper, references: data, dimension: d, warmUp: k, last: last,
                                               normalization: normalization, lower: lower, upper: upper, threads: threads)
        expectSameRollouts(batched, single, "esn, box \(upper[0]), \(threads) threads")
    }
}

/// A stepper without a batch form runs one trajectory at a time through the same runner.
@Test func steppersWithoutABatchFormFallBackToOneAtATime() throws {
    let d = 2, data = references(count: 4, rows: 80)
    let normalization = Normalization.fit(trajectories: data, dimension: d)
    let linear = try LinearAutoregressiveStepper.fit(TeacherForcing.full(trajectories: data, dimension: d, normalization: normalization), window: 3, ridge: 1e-8)
    #expect(!(linear is BatchSteppable))
    let box = ([-10.0, -10.0], [10.0, 10.0])
    let single = data.map { RolloutRunner.run(linear, reference: $0, dimension: d, warmUp: 5, last: 70,
                                              normalization: normalization, lower: box.0, upper: box.1) }
    let batched = BatchedRolloutRunner.run(linear, references: data, dimension: d, warmUp: 5, last: 70,
                                           normalization: normalization, lower: box.0, upper: box.1, threads: 2)
    expectSameRollouts(batched, single, "linear")
}

/// An Elman network stepped at batch B against batch 1 for a few steps. The two may use different BLAS kernels,
/// so they agree to rounding; per step, with |h| ≤ 1 (tanh) and e the bound on |Δh| so far:
///   |Δz_j| ≤ 2γ_{I+H+1}·(Σ_i |x_i W_x,ij| + Σ_k |W_h,kj| + |b_j|) + Σ_k |W_h,kj|·e_k,   e_j ← |Δz_j| + 8u
///   |Δy_o| ≤ Σ_j |W_y,jo|·e_j + 2γ_{H+1}·(Σ_j |W_y,jo| + |b_y,o|)
/// (tanh within 2 ulp ≤ 4u on each side; Lipschitz 1).
@Test func batchedRecurrentStepsEqualSingleStepsToRounding() {
    let d = 3, h = 12, batch = 5, steps = 6
    let network = RecurrentNetwork(configuration: NetworkConfiguration(cell: .rnn, inputSize: d, hiddenSize: h, layers: 1, outputSize: d), seed: 4)
    let ranges = Dictionary(uniqueKeysWithValues: network.parameterNames.map { ($0.name, $0.range) })
    let wx = Array(network.parameters[ranges["layer0.W_x"]!]), wh = Array(network.parameters[ranges["layer0.W_h"]!])
    let b = Array(network.parameters[ranges["layer0.b"]!]), wy = Array(network.parameters[ranges["readout.W_y"]!])
    let by = Array(network.parameters[ranges["readout.b_y"]!])
    let singles = (0..<batch).map { _ in RecurrentStepper(network: network) }
    let together = RecurrentStepper(network: network).makeBatchStepper(batch: batch)
    var rng = Xoshiro256StarStar(seed: 11)
    var e = [[Double]](repeating: [Double](repeating: 0, count: h), count: batch)   // per trajectory
    let u = unitRoundoff
    for step in 0..<steps {
        let z = (0..<(batch * d)).map { _ in rng.nextSymmetric(2) }
        var g = [Double](repeating: 0, count: batch * d)
        z.withUnsafeBufferPointer { zp in g.withUnsafeMutableBufferPointer { together.advance(zp.baseAddress!, into: $0.baseAddress!) } }
        for j in 0..<batch {
            let x = Array(z[(j * d)..<(j * d + d)])
            let alone = singles[j].advance(x)
            var next = [Double](repeating: 0, count: h)
            for unit in 0..<h {
                let magnitude = (0..<d).map { abs(x[$0] * wx[$0 * h + unit]) }.reduce(0, +)
                    + (0..<h).map { abs(wh[$0 * h + unit]) }.reduce(0, +) + abs(b[unit])
                let carried = (0..<h).map { abs(wh[$0 * h + unit]) * e[j][$0] }.reduce(0, +)
                next[unit] = 2 * gamma(d + h + 1) * magnitude + carried + 8 * u
            }
            for o in 0..<d {
                let bound = (0..<h).map { abs(wy[$0 * d + o]) * next[$0] }.reduce(0, +)
                    + 2 * gamma(h + 1) * ((0..<h).map { abs(wy[$0 * d + o]) }.reduce(0, +) + abs(by[o]))
                #expect(abs(g[j * d + o] - alone[o]) <= bound, "step \(step), trajectory \(j), output \(o): \(g[j * d + o]) vs \(alone[o]) (bound \(bound))")
            }
            e[j] = next
        }
    }
    #expect(e.joined().max()! < 1e-12, "the bound must stay far below a mixed-up state's O(1) error")
}

/// Travelling waves on a ring of `sites` sites (N, sites), of different amplitudes and speeds.
private func ringWaves(count: Int, rows: Int, sites: Int) -> [[Double]] {
    (0..<count).map { j in
        let amplitude = 0.6 + 0.3 * Double(j), speed = 0.8 + 0.1 * Double(j)
        return (0..<rows).flatMap { n -> [Double] in
            let t = 0.05 * Double(n)
            return (0..<sites).map { i in
                let x = 2 * Double.pi * Double(i) / Double(sites)
                return amplitude * sin(x - speed * t + Double(j)) + 0.2 * cos(2 * x + 0.5 * t)
            }
        }
    }
}

/// Parallel models through the runner: with every patch (and, shared, every patch of every trajectory) in one
/// batch, each trajectory gets the bits of its own one-at-a-time rollout through the plain `ParallelStepper`,
/// for a shared and an unshared model, patches of unequal size, periodic and zero boundaries. (ngrc's batch
/// readout is one GEMM, equal to rounding: `batchedNextGenerationStepsEqualSingleStepsToRounding`.)
@Test(arguments: [ModelKind.esn])
func batchedParallelRolloutsEqualSingleOnes(_ model: ModelKind) throws {
    let sites = 6, rows = 140, k = 12, last = 120
    let data = ringWaves(count: 5, rows: rows, sites: sites)
    let normalization = Normalization.fit(trajectories: data, dimension: sites)
    var c = SolveConfiguration(problem: "ring", model: model)
    c.reservoir.size = 40; c.reservoir.connectivity = 0.2; c.reservoir.washout = 10
    c.ngrc.degree = 2; c.ngrc.ridge = 1e-6
    c.showProgress = false
    let training = TeacherForcing.full(trajectories: Array(data.prefix(2)), dimension: sites, normalization: normalization)
    let request = TrainingRequest(configuration: c, training: training, validation: nil, metadata: [:],
                                  resumeURL: FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-parallel-batch-\(UInt32.random(in: 0 ... .max)).training"),
                                  log: { _ in })
    for (periodic, settings) in [(true, ParallelSettings(groups: 3, halo: 1, shared: true)),
                                 (false, ParallelSettings(groups: 4, halo: 2, shared: false))] {
        let layout = try SiteLayout(arrays: [.init(name: "u", offset: 0, count: sites, periodic: periodic)], dimension: sites)
        let patches = ParallelPartition.patches(settings, layout: layout, normalization: normalization)
        let trained = try ParallelTrainedModel.train(model.registration, request: request, patches: patches, shared: settings.shared,
                                                     resumeURL: { _ in request.resumeURL }, threads: 1)
        let stepper = trained.makeStepper()
        #expect(stepper is BatchSteppable, "\(model.rawValue): every part steps batches, so the parallel model does")
        let plain = ParallelStepper(parts: patches.indices.map { (trained.models[trained.models.count == 1 ? 0 : $0].makeStepper(), patches[$0]) },
                                    dimension: sites, parameterCount: trained.parameterCount)
        for (lower, upper) in [([Double](repeating: -.infinity, count: sites), [Double](repeating: .infinity, count: sites)),
                               ([Double](repeating: -1.0, count: sites), [Double](repeating: 1.0, count: sites))] {
            let single = data.map { RolloutRunner.run(plain, reference: $0, dimension: sites, warmUp: k, last: last,
                                                      normalization: normalization, lower: lower, upper: upper) }
            for threads in [1, 2] {
                let batched = BatchedRolloutRunner.run(stepper, references: data, dimension: sites, warmUp: k, last: last,
                                                       normalization: normalization, lower: lower, upper: upper, threads: threads)
                expectSameRollouts(batched, single, "\(model.rawValue), \(settings), box \(upper[0]), \(threads) threads")
            }
        }
    }
}

/// NG-RC at batch B against B single steppers fed the same inputs (open loop: a history holds inputs only, so the
/// two keep identical features and differ only in the readout's sums): |Δy_q| ≤ 2γ_p Σ_r |φ_r W_rq|.
@Test func batchedNextGenerationStepsEqualSingleStepsToRounding() throws {
    let sites = 5, batch = 4, steps = 12
    let data = ringWaves(count: batch, rows: 200, sites: sites)
    let normalization = Normalization.fit(trajectories: data, dimension: sites)
    var configuration = NextGenerationConfiguration(inputSize: sites, outputSize: sites)
    configuration.delays = 2; configuration.skip = 2; configuration.degree = 3; configuration.ridge = 1e-8
    let model = try NextGenerationReservoir(configuration: configuration)
    let training = TeacherForcing.full(trajectories: data, dimension: sites, normalization: normalization)
    try model.fit(inputs: training.inputs, targets: training.targets)
    let stepper = NextGenerationStepper(model: model).makeBatchStepper(batch: batch)
    var singles = (0..<batch).map { _ in model.makeState() }, probes = singles
    let p = Double(model.featureCount), u = Double.ulpOfOne / 2, gamma = p * u / (1 - p * u)
    var g = [Double](repeating: 0, count: batch * sites)
    for n in 0..<steps {
        let z = (0..<batch).flatMap { b in normalization.normalizedState(Array(data[b][(n * sites)..<((n + 1) * sites)])) }
        z.withUnsafeBufferPointer { zp in g.withUnsafeMutableBufferPointer { stepper.advance(zp.baseAddress!, into: $0.baseAddress!) } }
        for b in 0..<batch {
            let row = Array(z[(b * sites)..<((b + 1) * sites)])
            let single = model.step(row, state: &singles[b])
            let phi = model.featureVector(after: row, state: &probes[b])
            for q in 0..<sites {
                var magnitude = 0.0
                for r in phi.indices { magnitude += abs(phi[r] * model.readout[r * sites + q]) }
                #expect(abs(g[b * sites + q] - single[q]) <= 2 * gamma * magnitude * (1 + 4 * u), "step \(n), row \(b), output \(q)")
            }
        }
    }
}
