// The ridge solve's fallback when rounding leaves XᵀX + λI indefinite: eigenvalues of XᵀX clamped at 0.
import Foundation
import Testing
@testable import Recurrent

/// A Gram matrix with an eigenvalue below −λ (as rounding can leave one) defeats Cholesky; the fallback returns
/// the exact ridge solution of the clamped matrix, W = V diag(1/(max(μ, 0) + λ)) Vᵀ R.
@Test func indefiniteGramIsSolvedWithItsEigenvaluesClampedAtZero() throws {
    // G = Q diag(4, −1e-9) Qᵀ with Q a rotation by θ; R = (1, 2)ᵀ; λ = 1e-12 (< 1e-9, so G + λI is indefinite).
    let theta = 0.3, c = cos(theta), s = sin(theta)
    let mu = [4.0, -1e-9], lambda = 1e-12, r = [1.0, 2.0]
    let q = [[c, -s], [s, c]]   // columns are the eigenvectors
    let equations = NormalEquations(features: 2, outputs: 1)
    for i in 0..<2 { for j in 0..<2 { equations.gram.base[i * 2 + j] = (0..<2).map { q[i][$0] * mu[$0] * q[j][$0] }.reduce(0, +) } }
    for i in 0..<2 { equations.crossTerms.base[i] = r[i] }
    // `solve` refuses no rows; the fallback itself does not look at them.
    let w = try #require(try equations.spectralSolve(ridge: lambda))
    var expected = [0.0, 0.0]
    for k in 0..<2 {
        let projection = q[0][k] * r[0] + q[1][k] * r[1]
        for i in 0..<2 { expected[i] += q[i][k] * projection / (max(mu[k], 0) + lambda) }
    }
    // The clamped direction gets gain 1/λ = 1e12: relative accuracy of dsyevd's vectors, p·u·‖G‖/gap, is ~1e-15.
    for i in 0..<2 { #expect(abs(w[i] - expected[i]) <= 1e-12 * abs(expected[i]), "w[\(i)] = \(w[i]), expected \(expected[i])") }
}

/// On a positive definite system the fallback agrees with Cholesky to the backward-error bound.
@Test func spectralSolveAgreesWithCholeskyOnADefiniteSystem() throws {
    let n = 40, p = 6, q = 2
    var x = [Double](repeating: 0, count: n * p), y = [Double](repeating: 0, count: n * q)
    for k in x.indices { x[k] = sin(Double(k) * 1.7 + 0.3) }
    for k in y.indices { y[k] = cos(Double(k) * 0.9) }
    let equations = NormalEquations(features: p, outputs: q)
    x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { equations.add(xp.baseAddress!, $0.baseAddress!, rows: n) } }
    let lambda = 1e-3
    let cholesky = try equations.solve(ridge: lambda)
    let spectral = try #require(try equations.spectralSolve(ridge: lambda))
    // Both are backward stable for (G + λI) W = R; they differ by at most about 2·κ·c·p·u·‖W‖ with κ = ‖G + λI‖/λ_min.
    var gram = [Double](repeating: 0, count: p * p)
    for k in gram.indices { gram[k] = equations.gram.base[k] }
    for i in 0..<p { gram[i * p + i] += lambda }
    var values = [Double](repeating: 0, count: p)
    _ = gram.withUnsafeMutableBufferPointer { g in values.withUnsafeMutableBufferPointer { BLAS.symmetricEigen(g.baseAddress!, order: p, values: $0.baseAddress!) } }
    let kappa = values.max()! / values.min()!
    let scale = cholesky.map(abs).max()!
    let bound = 2 * kappa * Double(10 * p) * Double.ulpOfOne * scale
    for k in cholesky.indices {
        #expect(abs(cholesky[k] - spectral[k]) <= bound, "entry \(k): \(cholesky[k]) vs \(spectral[k]), bound \(bound)")
    }
}
