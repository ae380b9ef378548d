// The BLAS and LAPACK wrappers against plain loops and known answers.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func gemmMatchesNaiveLoop(_ transposes: (Bool, Bool)) {
    let (ta, tb) = transposes
    let m = 5, k = 7, n = 3
    var rng = Xoshiro256StarStar(seed: 1)
    let aRows = ta ? k : m, aColumns = ta ? m : k, bRows = tb ? n : k, bColumns = tb ? k : n
    let a = (0..<(m * k)).map { _ in rng.nextSymmetric(1) }, b = (0..<(k * n)).map { _ in rng.nextSymmetric(1) }
    let c0 = (0..<(m * n)).map { _ in rng.nextSymmetric(1) }
    var c = c0
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(MatrixRef(ap.baseAddress!, rows: aRows, columns: aColumns), transposeA: ta,
                          MatrixRef(bp.baseAddress!, rows: bRows, columns: bColumns), transposeB: tb,
                          into: MutableMatrixRef(cp.baseAddress!, rows: m, columns: n), alpha: 0.5, beta: 2)
            }
        }
    }
    let product = naiveMatrixProduct(a, rows: aRows, columns: aColumns, transposeA: ta, b, rows: bRows, columns: bColumns, transposeB: tb)
    // BLAS and the naive loop each lie within γ_{k+2}·(|α||A||B| + |β||C₀|) of the exact C, whatever order each
    // kernel sums in, hence within twice that of each other.
    let expected = zip(product, c0).map { 0.5 * $0 + 2 * $1 }
    let bound = gemmErrorBound(a, rows: aRows, columns: aColumns, transposeA: ta, b, rows: bRows, columns: bColumns,
                               transposeB: tb, alpha: 0.5, beta: 2, c0: c0).map { 2 * $0 }
    let outside = entriesOutsideBound(c, expected, bound: bound)
    #expect(outside.isEmpty, "outside γ_k·Σ|a||b|: \(outside)")
    // The bound stays sharp: a wrong product (a transposed operand, a lost β) is off by O(1), far outside it.
    #expect(bound.allSatisfy { $0 < 1e-13 })
}

@Test(arguments: [false, true])
func gemvMatchesNaiveLoop(_ transposed: Bool) {
    var rng = Xoshiro256StarStar(seed: 2)
    let rows = 4, columns = 6
    let a = (0..<(rows * columns)).map { _ in rng.nextSymmetric(1) }
    let n = transposed ? rows : columns, m = transposed ? columns : rows
    let x = (0..<n).map { _ in rng.nextSymmetric(1) }
    var y = (0..<m).map { _ in rng.nextSymmetric(1) }
    let y0 = y
    a.withUnsafeBufferPointer { ap in
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                BLAS.gemv(MatrixRef(ap.baseAddress!, rows: rows, columns: columns), transposeA: transposed, xp.baseAddress!, count: n,
                          into: yp.baseAddress!, count: m, alpha: 1.5, beta: -1)
            }
        }
    }
    let ax = naiveMatrixProduct(a, rows: rows, columns: columns, transposeA: transposed, x, rows: n, columns: 1)
    let bound = gemmErrorBound(a, rows: rows, columns: columns, transposeA: transposed, x, rows: n, columns: 1,
                               alpha: 1.5, beta: -1, c0: y0).map { 2 * $0 }
    let outside = entriesOutsideBound(y, zip(ax, y0).map { 1.5 * $0 - $1 }, bound: bound)
    #expect(outside.isEmpty, "outside γ_k·Σ|a||x|: \(outside)")
}

@Test func bulkHelpersMatchLoops() {
    var rng = Xoshiro256StarStar(seed: 3)
    let m = (0..<12).map { _ in rng.nextSymmetric(1) }
    var sums = [1.0, 2, 3]
    m.withUnsafeBufferPointer { accumulateColumnSums(MatrixRef($0.baseAddress!, rows: 4, columns: 3), into: &sums) }
    for j in 0..<3 {
        // both add the same 5 terms, in different orders: each within γ₄·Σ|terms| of the exact sum
        let column = (0..<4).map { m[$0 * 3 + j] }
        let bound = 2 * gamma(4) * (Double(j + 1) + column.map(abs).reduce(0, +))
        #expect(abs(sums[j] - (Double(j + 1) + column.reduce(0, +))) <= bound)
    }
    let x = [1.0, 2, 3], y0 = [4.0, 5, 6]
    var y = y0
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { BLAS.axpy(2, xp.baseAddress!, $0.baseAddress!, count: 3) } }
    #expect(y == [6, 9, 12])
    #expect(x.withUnsafeBufferPointer { xp in y0.withUnsafeBufferPointer { BLAS.dot(xp.baseAddress!, $0.baseAddress!, count: 3) } } == 32)
}

@Test func activationsMatchLibm() {
    var worst = (exp: 0.0, tanh: 0.0, sigmoid: 0.0)
    var x = -40.0
    while x <= 40 {
        worst.exp = max(worst.exp, relativeDifference(exponential(x), exp(x)))
        worst.tanh = max(worst.tanh, relativeDifference(hyperbolicTangent(x), tanh(x), floor: 1e-300))
        worst.sigmoid = max(worst.sigmoid, relativeDifference(sigmoid(x), 1 / (1 + exp(-x))))
        x += 0.0137
    }
    for x in [1e-300, 1e-20, 1e-9, 1e-4, 0.3, 0.6249, 0.625, 0.6251, 700, -700] {
        worst.tanh = max(worst.tanh, relativeDifference(hyperbolicTangent(x), tanh(x), floor: 1e-300))
        worst.tanh = max(worst.tanh, relativeDifference(hyperbolicTangent(-x), tanh(-x), floor: 1e-300))
        worst.exp = max(worst.exp, relativeDifference(exponential(x), exp(x)))
    }
    print("activations, worst relative error vs libm: \(worst)")
    // The documented accuracy: within about 2 ulp of libm. Our functions are plain scalar Swift (no BLAS, so no
    // kernel dependence); 2.25·ε (ε = 2⁻⁵², the relative spacing at the bottom of a binade) is 2¼ ulp at worst.
    let twoUlps = 2.25 * Double.ulpOfOne
    #expect(worst.exp < twoUlps && worst.tanh < twoUlps && worst.sigmoid < twoUlps, "\(worst)")
    #expect(exponential(-1000) >= 0 && exponential(-1000) < 1e-307 && exponential(1000).isFinite)
    #expect(hyperbolicTangent(0) == 0 && hyperbolicTangent(50) == 1 && hyperbolicTangent(-50) == -1)
    #expect(sigmoid(-800) >= 0 && sigmoid(800) == 1)
}

@Test func choleskySolveSolvesAKnownSystem() {
    // A = [[4, 2], [2, 3]], x = [1, -2] → b = [0, -4]
    var a = [4.0, 2, 2, 3], b = [0.0, -4]
    let info = a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { BLAS.choleskySolve(ap.baseAddress!, order: 2, $0.baseAddress!, rightHandSides: 1) } }
    #expect(info == 0)
    // Cholesky solves (A + ΔA)x̂ = b with |ΔA| ≤ γ_{3n+1}|Rᵀ||R| (Higham, Thm 10.4). Here R = [[2, 1], [0, √2]] has
    // no negative entries, so |Rᵀ||R| = A and, to first order, |x̂ − x| ≤ γ₇·|A⁻¹||A||x| = γ₇·[5, 6]
    // (|A⁻¹| = [[3, 2], [2, 4]]/8, |A||x| = [8, 8]).
    #expect(abs(b[0] - 1) <= 5 * gamma(7) && abs(b[1] + 2) <= 6 * gamma(7), "x̂ = \(b)")
    var indefinite = [1.0, 2, 2, 1], rhs = [1.0, 1]
    #expect(indefinite.withUnsafeMutableBufferPointer { ap in rhs.withUnsafeMutableBufferPointer { BLAS.choleskySolve(ap.baseAddress!, order: 2, $0.baseAddress!, rightHandSides: 1) } } > 0)
}

@Test func eigenvaluesOfARotationAreOnTheUnitCircle() throws {
    // a 2×2 rotation by 0.3 scaled by 0.7: eigenvalues 0.7·e^{±0.3i}
    let c = 0.7 * cos(0.3), s = 0.7 * sin(0.3)
    // A is normal, so (Bauer–Fike with a unitary eigenbasis) each eigenvalue moves at most ‖ΔA‖₂ ≤ ‖ΔA‖_F: the
    // rounded entries (≤ 2u relative: the product and libm's cos/sin) give 2u·‖A‖_F, dgeev's backward error
    // p(n)·u·‖A‖_F with p(n) = 10n (the "modest" p(n) of LAPACK's error bounds, §4.8 of its Users' Guide), and
    // the modulus √(re² + im²) adds 2u relative: (2 + 20)·u·0.7√2 + 2u·0.7 in all.
    let bound = (22 * 2.0.squareRoot() + 2) * unitRoundoff * 0.7
    #expect(abs(try EchoStateNetwork.spectralRadius(of: [c, -s, s, c], order: 2) - 0.7) <= bound)
}
