// Next-generation reservoirs: the feature vector (delays, unique monomials) against an independent enumeration, and
// exact recovery of a known polynomial map within the normal-equations error bound.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// Every multiset of size j of 0 ..< l, lexicographic (i1 ≤ … ≤ ij), enumerated independently of the kernel.
private func multisets(_ l: Int, _ j: Int) -> [[Int]] {
    if j == 0 { return [[]] }
    return multisets(l, j - 1).flatMap { prefix in ((prefix.last ?? 0)..<l).map { prefix + [$0] } }
}

/// φ = [1; v; v_i1·v_i2 (left to right) for every multiset of size 2 … p], v = [u_n; u_{n−s}; …].
private func expectedFeatures(history: [[Double]], n: Int, delays k: Int, skip s: Int, degree p: Int) -> [Double] {
    let v = (0..<k).flatMap { j in history[max(n - j * s, 0)] }
    var phi = [1.0] + v
    if p >= 2 { for j in 2...p { for m in multisets(v.count, j) { phi.append(m.dropFirst().reduce(v[m[0]]) { $0 * v[$1] }) } } }
    return phi
}

@Test func featureVectorHoldsTheDelaysAndEveryUniqueMonomial() throws {
    var c = NextGenerationConfiguration(inputSize: 2, outputSize: 1)
    c.delays = 3; c.skip = 2; c.degree = 3
    let model = try NextGenerationReservoir(configuration: c)
    // L = 6: 1 + 6 + C(7, 2) + C(8, 3) = 1 + 6 + 21 + 56.
    #expect(model.featureCount == 84)
    var rng = Xoshiro256StarStar(seed: 2)
    let inputs = (0..<12).map { _ in [rng.nextSymmetric(1), rng.nextSymmetric(1)] }
    var state = model.makeState()
    for (n, u) in inputs.enumerated() {
        let phi = model.featureVector(after: u, state: &state)
        // Before (k − 1)s steps the missing delays repeat the first input.
        #expect(phi == expectedFeatures(history: inputs, n: n, delays: 3, skip: 2, degree: 3), "step \(n)")
    }
}

@Test(arguments: [(1, 1, 2), (2, 1, 2), (2, 3, 3), (3, 2, 4)])
func readoutRecoversAKnownPolynomialMap(delays: Int, skip: Int, degree: Int) throws {
    var c = NextGenerationConfiguration(inputSize: 2, outputSize: 2)
    c.delays = delays; c.skip = skip; c.degree = degree; c.ridge = 0
    let model = try NextGenerationReservoir(configuration: c)
    let p = model.featureCount, q = 2
    var rng = Xoshiro256StarStar(seed: UInt64(7 * delays + 13 * skip + degree))
    let truth = (0..<(p * q)).map { _ in rng.nextSymmetric(1) }     // W_outᵀ (p, q)
    var inputs: [[Double]] = [], targets: [[Double]] = [], rows: [Double] = [], rowTargets: [Double] = []
    let first = (delays - 1) * skip
    for _ in 0..<3 {
        let steps = 4 * p + first
        let u = (0..<steps).map { _ in [rng.nextSymmetric(1), rng.nextSymmetric(1)] }
        var y: [Double] = []
        for n in 0..<steps {
            let phi = expectedFeatures(history: u, n: n, delays: delays, skip: skip, degree: degree)
            let target = naiveMatrixProduct(phi, rows: 1, columns: p, truth, rows: p, columns: q)
            y += target
            if n >= first { rows += phi; rowTargets += target }   // the rows the fit sees: full delays only
        }
        inputs.append(u.flatMap { $0 }); targets.append(y)
    }
    try model.fit(inputs: inputs, targets: targets)
    // The fit builds the same features (same products in the same order: the same bits), so its error is that of
    // least squares on them, within the normal-equations bound.
    let bound = leastSquaresErrorBound(x: rows, rows: rows.count / p, columns: p, y: rowTargets, outputs: q,
                                       exact: truth, computed: model.readout)
    let worst = zip(model.readout, truth).map { abs($0 - $1) }.max()!
    print("NG-RC (k \(delays), s \(skip), p \(degree), \(p) features): worst |Ŵ − W| \(worst), bound \(bound)")
    #expect(worst <= bound)
    #expect(bound < 1e-3, "the bound must stay below a wrong readout's O(1) error")
    // The checkpoint reproduces the model step by step.
    let copy = try NextGenerationReservoir(checkpoint: model.checkpoint(metadata: ["scale": [2]]))
    var a = model.makeState(), b = copy.makeState()
    for t in 0..<10 {
        let u = [0.1 * Double(t), -0.2]
        #expect(model.step(u, state: &a) == copy.step(u, state: &b))
    }
}

@Test func configurationErrorsNameTheSetting() {
    var c = NextGenerationConfiguration(inputSize: 40, outputSize: 40)
    c.degree = 4
    #expect(throws: ReservoirError.self) { try NextGenerationReservoir(configuration: c) }
    c.degree = 2; c.skip = 0
    #expect(throws: ReservoirError.self) { try NextGenerationReservoir(configuration: c) }
}
