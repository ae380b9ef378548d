// CSR reservoirs: the sparse kernels against dense products, the branch-free tanh against libm, the sparse ESN
// against a dense one, batched steps against single steps, the threaded fit, and the checkpoint formats.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// A dense (rows, columns) matrix with entries uniform in ±1 at the given density; row 0 left empty.
private func randomSparseDense(rows: Int, columns: Int, density: Double, seed: UInt64) -> [Double] {
    var rng = Xoshiro256StarStar(seed: seed)
    var a = [Double](repeating: 0, count: rows * columns)
    for k in columns..<(rows * columns) where rng.nextUniform() < density { a[k] = rng.nextSymmetric(1) }
    return a
}

@Test func csrHoldsExactlyTheNonZeroEntriesAndRejectsMalformedArrays() {
    let dense = randomSparseDense(rows: 30, columns: 20, density: 0.15, seed: 1)
    let w = SparseMatrix(dense: dense, rows: 30, columns: 20)
    #expect(w.dense == dense)
    #expect(w.nonZeroCount == dense.filter { $0 != 0 }.count)
    #expect(w.rowStart[1] == 0, "row 0 is empty")
    let rebuilt = SparseMatrix(rows: 30, columns: 20, rowStart: w.rowStart, columnIndices: w.columnIndices, values: w.values)
    #expect(rebuilt == w)
    // Each way of breaking the arrays is refused.
    var columns = w.columnIndices; columns[0] = 20
    #expect(SparseMatrix(rows: 30, columns: 20, rowStart: w.rowStart, columnIndices: columns, values: w.values) == nil)
    var starts = w.rowStart; starts[5] = starts[6] + 1
    #expect(SparseMatrix(rows: 30, columns: 20, rowStart: starts, columnIndices: w.columnIndices, values: w.values) == nil)
    #expect(SparseMatrix(rows: 30, columns: 20, rowStart: Array(w.rowStart.dropLast()), columnIndices: w.columnIndices, values: w.values) == nil)
    var values = w.values; values[3] = .nan
    #expect(SparseMatrix(rows: 30, columns: 20, rowStart: w.rowStart, columnIndices: w.columnIndices, values: values) == nil)
    let row = (w.rowStart.indices.dropLast()).first { w.rowStart[$0 + 1] - w.rowStart[$0] >= 2 }!
    var unsorted = w.columnIndices; unsorted.swapAt(w.rowStart[row], w.rowStart[row] + 1)
    #expect(SparseMatrix(rows: 30, columns: 20, rowStart: w.rowStart, columnIndices: unsorted, values: w.values) == nil)
}

/// Y₀ + W·X by SpMM against the dense triple loop: each result is a sum of at most n + 1 terms (n = 40 columns),
/// so each side is within γ_{n+1}·(|Y₀| + |W||X|) of the exact value and the two within twice that. Column b of
/// the SpMM equals the SpMV of column b bit for bit (same terms, same order).
@Test(arguments: [1, 3, 8, 11, 17])
func sparseProductsMatchTheDenseProduct(_ batch: Int) {
    let n = 50, m = 40
    let dense = randomSparseDense(rows: n, columns: m, density: 0.1, seed: 2)
    let w = SparseMatrix(dense: dense, rows: n, columns: m)
    var rng = Xoshiro256StarStar(seed: UInt64(batch))
    let x = (0..<(m * batch)).map { _ in rng.nextSymmetric(3) }, y0 = (0..<(n * batch)).map { _ in rng.nextSymmetric(1) }
    var y = y0
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { w.multiplyAdd(batch: xp.baseAddress!, into: $0.baseAddress!, batch: batch) } }
    let product = naiveMatrixProduct(dense, rows: n, columns: m, x, rows: m, columns: batch)
    let magnitude = naiveMatrixProduct(dense.map(abs), rows: n, columns: m, x.map(abs), rows: m, columns: batch)
    for k in y.indices {
        let bound = 2 * gamma(m + 1) * (abs(y0[k]) + magnitude[k])
        #expect(abs(y[k] - (y0[k] + product[k])) <= bound, "entry \(k): \(y[k]) vs \(y0[k] + product[k]) (bound \(bound))")
    }
    for b in 0..<batch {
        let column = (0..<m).map { x[$0 * batch + b] }
        var single = (0..<n).map { y0[$0 * batch + b] }
        column.withUnsafeBufferPointer { xp in single.withUnsafeMutableBufferPointer { w.multiplyAdd(xp.baseAddress!, into: $0.baseAddress!) } }
        #expect(single == (0..<n).map { y[$0 * batch + b] }, "column \(b) of the SpMM differs from its SpMV")
    }
}

/// FastTanh is within 5u·|tanh x| of the exact value (its doc comment derives it) and glibc's tanh within 2 ulp
/// ≤ 4u·|tanh x|, so the two differ by at most 9u·|tanh x|; the infinities give ±1 and NaN stays NaN.
@Test func fastTanhAgreesWithLibm() {
    var points: [Double] = [0, 1e-300, 1e-20, 1e-8, 1e-3, 0.3, 0.625.nextDown, 0.625, 0.625.nextUp, 1, 5, 19.9, 20, 20.1, 40, 1e10, .greatestFiniteMagnitude]
    points += stride(from: -25.0, through: 25.0, by: 0.00137).map { $0 }
    var worst = 0.0
    for x in points + points.map { -$0 } {
        let fast = FastTanh.tanh(x), libm = Foundation.tanh(x)
        let bound = 9 * unitRoundoff * abs(libm)
        #expect(abs(fast - libm) <= bound, "tanh(\(x)): \(fast) vs libm \(libm)")
        if libm != 0 { worst = max(worst, abs(fast - libm) / abs(libm) / unitRoundoff) }
    }
    print("FastTanh: worst |fast − libm| / |tanh| = \(worst) u")
    #expect(FastTanh.tanh(.infinity) == 1 && FastTanh.tanh(-.infinity) == -1)
    #expect(FastTanh.tanh(.nan).isNaN)
}

/// The ESN with its CSR reservoir against the same network stepped with the dense W in a plain loop (every
/// column, zeros included), over 30 steps. Error recursion in ∞-norm terms, per unit i:
///   |Δz_i| ≤ 2γ_{1+I+N}·s_i + Σ_j |W_ij|·e_j,  s_i = |b_i| + Σ_j |W_in,ij||u_j| + Σ_j |W_ij||x_j|
///   e_i' ≤ (1 − a)·e_i + a·(|Δz_i| + 10u) + 6u·((1 − a)|x_i| + a)   (tanh: Lipschitz 1 plus 5u twice; blend: 3u twice)
/// and the readouts differ by ≤ Σ_p |W_out,po|·e_p + 2γ_P·Σ_p |W_out,po||f_p|.
@Test func sparseReservoirEqualsTheDenseOne() throws {
    var c = ReservoirConfiguration(inputSize: 3, outputSize: 2)
    c.size = 80; c.connectivity = 0.1; c.leakRate = 0.7; c.biasScaling = 0.2; c.inputScaling = 0.5
    let esn = try EchoStateNetwork(configuration: c, seed: 4)
    var rng = Xoshiro256StarStar(seed: 5)
    esn.readout = (0..<(esn.featureCount * 2)).map { _ in rng.nextSymmetric(1) }
    let n = c.size, i = c.inputSize, p = esn.featureCount, a = c.leakRate, u = unitRoundoff
    let w = esn.reservoir.dense, win = esn.inputWeights, bias = esn.bias, wout = esn.readout
    var sparse = esn.makeState(), dense = esn.makeState(), e = [Double](repeating: 0, count: n)
    var worstState = 0.0, worstOutput = 0.0
    for step in 0..<30 {
        let input = (0..<i).map { _ in rng.nextSymmetric(1) }
        let y = esn.step(input, state: &sparse)
        // Dense reference.
        var z = [Double](repeating: 0, count: n), s = [Double](repeating: 0, count: n)
        for r in 0..<n {
            var sum = bias[r], magnitude = abs(bias[r])
            for j in 0..<i { sum += win[r * i + j] * input[j]; magnitude += abs(win[r * i + j] * input[j]) }
            for j in 0..<n { sum += w[r * n + j] * dense[j]; magnitude += abs(w[r * n + j] * dense[j]) }
            z[r] = sum; s[r] = magnitude
        }
        var next = e
        for r in 0..<n {
            let carried = (0..<n).map { abs(w[r * n + $0]) * e[$0] }.reduce(0, +)
            let dz = 2 * gamma(1 + i + n) * s[r] + carried
            next[r] = (1 - a) * e[r] + a * (dz + 10 * u) + 6 * u * ((1 - a) * abs(dense[r]) + a)
            dense[r] = (1 - a) * dense[r] + a * FastTanh.tanh(z[r])
        }
        e = next
        let features = [1] + input + dense
        for o in 0..<2 {
            var reference = 0.0, magnitude = 0.0, carried = 0.0
            for k in 0..<p {
                reference += wout[k * 2 + o] * features[k]; magnitude += abs(wout[k * 2 + o] * features[k])
                if k > i { carried += abs(wout[k * 2 + o]) * e[k - 1 - i] }
            }
            let bound = carried + 2 * gamma(p) * magnitude
            #expect(abs(y[o] - reference) <= bound, "step \(step), output \(o): \(y[o]) vs dense \(reference) (bound \(bound))")
            worstOutput = max(worstOutput, abs(y[o] - reference))
        }
        for r in 0..<n {
            #expect(abs(sparse[r] - dense[r]) <= e[r], "step \(step), unit \(r): \(sparse[r]) vs dense \(dense[r]) (bound \(e[r]))")
            worstState = max(worstState, abs(sparse[r] - dense[r]))
        }
    }
    print("sparse vs dense reservoir: worst state difference \(worstState) (bound up to \(e.max()!)), output \(worstOutput)")
    #expect(e.max()! < 1e-6, "the bound must stay far below a wrong product's O(1) error")
}

/// B trajectories stepped together give, trajectory by trajectory, the bits of B separate single steps.
@Test(arguments: [2, 5, 8, 13, 17])
func batchedReservoirStepsEqualSingleSteps(_ batch: Int) throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 3)
    c.size = 60; c.connectivity = 0.1; c.leakRate = 0.8; c.biasScaling = 0.3
    let esn = try EchoStateNetwork(configuration: c, seed: 6)
    var rng = Xoshiro256StarStar(seed: 7)
    esn.readout = (0..<(esn.featureCount * 3)).map { _ in rng.nextSymmetric(1) }
    let group = ReservoirBatch(network: esn, batch: batch)
    group.reset()
    var states = (0..<batch).map { _ in esn.makeState() }
    for step in 0..<25 {
        let inputs = (0..<(batch * 2)).map { _ in rng.nextSymmetric(2) }
        let together = group.step(inputs)
        for b in 0..<batch {
            let alone = esn.step(Array(inputs[(b * 2)..<(b * 2 + 2)]), state: &states[b])
            #expect(Array(together[(b * 3)..<(b * 3 + 3)]) == alone, "step \(step), trajectory \(b)")
        }
    }
}

/// The fit split over threads: the same bits for the same thread count, and for every thread count a readout
/// within the normal-equations bound of the exact one (so within twice that of each other).
@Test(arguments: [1, 2, 3, 5])
func threadedFitIsDeterministicAndAccurate(_ threads: Int) throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 2)
    c.size = 40; c.connectivity = 0.2; c.spectralRadius = 0.8; c.leakRate = 0.6; c.biasScaling = 0.3; c.ridge = 0
    let esn = try EchoStateNetwork(configuration: c, seed: 5)
    var rng = Xoshiro256StarStar(seed: 8)
    let p = esn.featureCount, warmup = 10
    let truth = (0..<(p * 2)).map { _ in rng.nextSymmetric(1) }
    var inputs: [[Double]] = [], targets: [[Double]] = [], rows: [Double] = [], rowTargets: [Double] = []
    for _ in 0..<5 {
        let u = (0..<(120 * 2)).map { _ in rng.nextSymmetric(1) }
        var x = esn.makeState(), y: [Double] = []
        for t in 0..<120 {
            _ = esn.step(Array(u[(2 * t)..<(2 * t + 2)]), state: &x)
            let features = [1] + Array(u[(2 * t)..<(2 * t + 2)]) + x
            let target = naiveMatrixProduct(features, rows: 1, columns: p, truth, rows: p, columns: 2)
            y += target
            if t >= warmup { rows += features; rowTargets += target }
        }
        inputs.append(u); targets.append(y)
    }
    try esn.fit(inputs: inputs, targets: targets, warmup: warmup, threads: threads)
    let first = esn.readout
    try esn.fit(inputs: inputs, targets: targets, warmup: warmup, threads: threads)
    #expect(esn.readout == first, "two fits with \(threads) threads differ")
    let bound = leastSquaresErrorBound(x: rows, rows: rows.count / p, columns: p, y: rowTargets, outputs: 2, exact: truth, computed: first)
    let worst = zip(first, truth).map { abs($0 - $1) }.max()!
    print("threaded fit (\(threads) threads): worst |Ŵ − W| \(worst), bound \(bound)")
    #expect(worst <= bound)
    #expect(bound < 1e-3)
}

@Test func reservoirCheckpointsStoreCSRAndStillLoadDenseOnes() throws {
    var c = ReservoirConfiguration(inputSize: 2, outputSize: 1)
    c.size = 30; c.connectivity = 0.2; c.biasScaling = 0.1
    let esn = try EchoStateNetwork(configuration: c, seed: 9)
    var rng = Xoshiro256StarStar(seed: 10)
    esn.readout = (0..<esn.featureCount).map { _ in rng.nextSymmetric(1) }
    let checkpoint = esn.checkpoint()
    #expect(checkpoint.arrays["reservoir.W"] == nil)
    #expect(checkpoint.arrays["reservoir.W.values"]?.count == esn.reservoirNonZeroCount)
    // The earlier format: the dense W under "reservoir.W".
    var old = checkpoint
    for name in ["reservoir.W.row_start", "reservoir.W.columns", "reservoir.W.values"] { old.arrays[name] = nil }
    old.arrays["reservoir.W"] = esn.reservoir.dense
    for restored in [try EchoStateNetwork(checkpoint: checkpoint), try EchoStateNetwork(checkpoint: old)] {
        #expect(restored.reservoir == esn.reservoir)
        var a = esn.makeState(), b = restored.makeState()
        for t in 0..<10 { #expect(esn.step([Double(t) * 0.1, -0.3], state: &a) == restored.step([Double(t) * 0.1, -0.3], state: &b)) }
    }
    // Broken CSR arrays are malformed checkpoints, not traps.
    func malformed(_ name: String, _ change: (inout [Double]) -> Void) -> Bool {
        var broken = checkpoint
        change(&broken.arrays[name]!)
        do { _ = try EchoStateNetwork(checkpoint: broken) } catch let error as CheckpointError {
            if case .malformed = error.problem { return true }
            return false
        } catch { return false }
        return false
    }
    #expect(malformed("reservoir.W.columns") { $0[0] = 30 })
    #expect(malformed("reservoir.W.columns") { $0[0] = 0.5 })
    #expect(malformed("reservoir.W.columns") { $0[0] = -1 })
    #expect(malformed("reservoir.W.row_start") { $0[3] = $0[4] + 1 })
    #expect(malformed("reservoir.W.row_start") { $0[30] = .infinity })
    #expect(malformed("reservoir.W.values") { $0[0] = .nan })
}

@Test func threadCountComesFromRNNODE_THREADS() throws {
    #expect(try EchoStateNetwork.defaultThreads(environment: [:]) == max(ProcessInfo.processInfo.activeProcessorCount, 1))
    #expect(try EchoStateNetwork.defaultThreads(environment: ["RNNODE_THREADS": "3"]) == 3)
    for bad in ["0", "-2", "abc", "2000", ""] {
        #expect(throws: ReservoirError.self) { try EchoStateNetwork.defaultThreads(environment: ["RNNODE_THREADS": bad]) }
    }
}
