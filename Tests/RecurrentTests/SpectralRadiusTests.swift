// The Arnoldi spectral radius of CSR matrices against LAPACK dgeev on dense copies, on matrices with a known
// spectrum (a dominant complex pair; few distinct eigenvalues, where the Krylov space breaks down), and the ESN's
// use of it above the dense limit.
import Foundation
import Testing
@testable import Recurrent

/// A square CSR matrix with entries uniform in ±1 at the given density (the ESN's draw).
private func randomSparse(order n: Int, density: Double, seed: UInt64) -> SparseMatrix {
    var rng = Xoshiro256StarStar(seed: seed)
    var a = [Double](repeating: 0, count: n * n)
    for k in 0..<(n * n) where rng.nextUniform() < density { a[k] = rng.nextSymmetric(1) }
    return SparseMatrix(dense: a, rows: n, columns: n)
}

/// The dominant eigenvalue's magnitude from dgeev and its condition number κ = 1/|uᴴv| (u, v its unit left and
/// right eigenvectors). W is passed row-major to a column-major routine, i.e. as Wᵀ: same eigenvalues, and
/// Wᵀ's left and right vectors are W's right and left ones, so κ is unchanged.
private func denseDominant(_ w: SparseMatrix) throws -> (radius: Double, condition: Double) {
    let n = w.rows
    let eigen = try DenseEigen(w.dense, order: n, right: true, left: true)
    let magnitudes = eigen.magnitudes
    let top = magnitudes.indices.max { magnitudes[$0] < magnitudes[$1] }!
    let k = eigen.imaginary[top] < 0 ? top - 1 : top
    var re = 0.0, im = 0.0
    if eigen.imaginary[top] == 0 {
        for j in 0..<n { re += eigen.left[j + k * n] * eigen.right[j + k * n] }
    } else {
        // u = a + ib, v = c + id: uᴴv = Σ (ac + bd) + i(ad − bc).
        for j in 0..<n {
            let a = eigen.left[j + k * n], b = eigen.left[j + (k + 1) * n]
            let c = eigen.right[j + k * n], d = eigen.right[j + (k + 1) * n]
            re += a * c + b * d; im += a * d - b * c
        }
    }
    return (magnitudes[top], 1 / (re * re + im * im).squareRoot())
}

/// The Arnoldi value θ is an exact eigenvalue of W + E with ‖E‖₂ ≤ r (its residual) and dgeev's λ̂ one of
/// W + F with ‖F‖₂ ≤ p(n)·u·‖W‖_F (backward stability, p(n) taken as n); to first order each is within κ times
/// its backward error of W's dominant eigenvalue λ, so ||θ| − |λ̂|| ≤ κ·(r + n·u·‖W‖_F), doubled for the
/// second-order terms. Arnoldi converging to a smaller eigenvalue would miss by the gap, far beyond this.
@Test(arguments: [(60, 0.1, 1 as UInt64), (200, 0.02, 2), (300, 0.05, 3), (500, 0.006, 4), (800, 0.004, 5)])
func arnoldiSpectralRadiusMatchesDgeev(order: Int, density: Double, seed: UInt64) throws {
    let w = randomSparse(order: order, density: density, seed: seed)
    let estimate = try w.spectralRadius()
    let (radius, condition) = try denseDominant(w)
    let frobenius = w.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let tolerance = 2 * condition * (estimate.residual + Double(order) * Double.ulpOfOne * frobenius)
    #expect(estimate.residual <= 1e-10 * estimate.radius)
    #expect(abs(estimate.radius - radius) <= tolerance,
            "n \(order): Arnoldi \(estimate.radius) (m \(estimate.krylovDimension), r \(estimate.residual)), dgeev \(radius), κ \(condition)")
}

/// A dominant complex pair: blocks [[0, 2], [−2, 0]] (eigenvalues ±2i) beside a diagonal in (−1.5, 1.5). W is
/// normal, so |θ − λ| ≤ r, and the radius is 2 up to r plus the rounding of the products.
@Test func arnoldiFindsADominantComplexPair() throws {
    let n = 120
    var a = [Double](repeating: 0, count: n * n)
    a[0 * n + 1] = 2; a[1 * n + 0] = -2
    var rng = Xoshiro256StarStar(seed: 9)
    for i in 2..<n { a[i * n + i] = rng.nextSymmetric(1.5) }
    let estimate = try SparseMatrix(dense: a, rows: n, columns: n).spectralRadius()
    #expect(abs(estimate.radius - 2) <= estimate.residual + 100 * Double(n) * Double.ulpOfOne * 2)
}

/// Three distinct eigenvalues (1, −3, 0.5, each 40 times on the diagonal): the Krylov space is invariant after
/// three steps, and the iteration goes on from fresh vectors until it spans ℝⁿ or converges; the radius is 3.
@Test func arnoldiSurvivesBreakdown() throws {
    let n = 120, diagonal = [1.0, -3, 0.5]
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { a[i * n + i] = diagonal[i % 3] }
    let estimate = try SparseMatrix(dense: a, rows: n, columns: n).spectralRadius()
    #expect(abs(estimate.radius - 3) <= estimate.residual + 100 * Double(n) * Double.ulpOfOne * 3)
}

/// The zero matrix has radius 0 (Arnoldi breaks down at once with all Ritz values 0); the ESN refuses it.
@Test func zeroMatrixHasRadiusZero() throws {
    let w = SparseMatrix(dense: [Double](repeating: 0, count: 50 * 50), rows: 50, columns: 50)
    #expect(try w.spectralRadius().radius == 0)
}

/// Above the dense limit the ESN scales W by Arnoldi: re-running Arnoldi on the scaled reservoir gives the
/// requested radius within its own residual bound (relative 1e-10 times κ; κ of these matrices is below 10⁴,
/// see the dgeev comparison, so 1e-5 relative is a loose bound), and no dense N² copy is made.
@Test func largeReservoirIsScaledByArnoldi() throws {
    var c = ReservoirConfiguration(inputSize: 3, outputSize: 3)
    c.size = EchoStateNetwork.denseSpectralRadiusLimit + 476; c.connectivity = 3.0 / Double(c.size); c.spectralRadius = 0.4
    let esn = try EchoStateNetwork(configuration: c, seed: 0)
    #expect(abs(esn.measuredSpectralRadius - 0.4) <= 1e-12)
    let again = try esn.reservoir.spectralRadius()
    #expect(abs(again.radius - 0.4) <= 1e-5 * 0.4, "Arnoldi on the scaled W: \(again.radius)")
    let degree = Double(esn.reservoirNonZeroCount) / Double(c.size)
    #expect(abs(degree - 3) <= 6 * (3.0 / Double(c.size)).squareRoot(), "mean degree \(degree)")
}
