// symmetricEigen (GSL gsl_eigen_symmv) against matrices with known eigenpairs, and its input checks.
import Foundation
import Testing
@testable import Reference

@Suite struct EigenTests {
    /// max_k ‖A·v_k − λ_k·v_k‖ and max |v_j·v_k − δ_jk|.
    func residuals(_ a: [Double], _ n: Int, _ e: SymmetricEigenDecomposition) -> (eigen: Double, orthonormal: Double) {
        var eigen = 0.0, orthonormal = 0.0
        for k in 0..<n {
            for i in 0..<n {
                let av = (0..<n).reduce(0) { $0 + a[i * n + $1] * e.vectors[k][$1] }
                eigen = max(eigen, abs(av - e.values[k] * e.vectors[k][i]))
            }
            for j in 0..<n {
                let dot = (0..<n).reduce(0) { $0 + e.vectors[j][$1] * e.vectors[k][$1] }
                orthonormal = max(orthonormal, abs(dot - (j == k ? 1 : 0)))
            }
        }
        return (eigen, orthonormal)
    }

    @Test func twoByTwo() throws {
        // [[2, 1], [1, 2]]: λ = 1 with (1, −1)/√2, λ = 3 with (1, 1)/√2.
        let e = try symmetricEigen([2, 1, 1, 2], dimension: 2)
        #expect(abs(e.values[0] - 1) < 1e-14 && abs(e.values[1] - 3) < 1e-14)
        #expect(abs(abs(e.vectors[1][0]) - 1 / 2.0.squareRoot()) < 1e-14)
        #expect(abs(e.vectors[1][0] - e.vectors[1][1]) < 1e-14)
        #expect(abs(e.vectors[0][0] + e.vectors[0][1]) < 1e-14)
    }

    @Test func threeByThree() throws {
        // [[2, −1, 0], [−1, 2, −1], [0, −1, 2]]: λ = 2 − √2, 2, 2 + √2.
        let a: [Double] = [2, -1, 0, -1, 2, -1, 0, -1, 2]
        let e = try symmetricEigen(a, dimension: 3)
        let expected = [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()]
        for k in 0..<3 { #expect(abs(e.values[k] - expected[k]) < 1e-14) }
        let r = residuals(a, 3, e)
        #expect(r.eigen < 1e-14 && r.orthonormal < 1e-14)
    }

    @Test(arguments: [5, 20, 64])
    func tridiagonalToeplitz(n: Int) throws {
        // a on the diagonal, b beside it: λ_k = a + 2b·cos(kπ/(n+1)), k = 1…n.
        let a = 1.5, b = -0.7
        var matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            matrix[i * n + i] = a
            if i + 1 < n { matrix[i * n + i + 1] = b; matrix[(i + 1) * n + i] = b }
        }
        let e = try symmetricEigen(matrix, dimension: n)
        let exact = (1...n).map { a + 2 * b * cos(Double($0) * .pi / Double(n + 1)) }.sorted()
        for k in 0..<n { #expect(abs(e.values[k] - exact[k]) < 1e-13, "λ_\(k)") }
        #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 })
        let r = residuals(matrix, n, e)
        #expect(r.eigen < 1e-12 && r.orthonormal < 1e-12)
    }

    @Test func rejectsNonFiniteEntries() {
        #expect(throws: EigenError.self) { try symmetricEigen([1, .nan, .nan, 1], dimension: 2) }
        do {
            _ = try symmetricEigen([1, 0, 0, .infinity], dimension: 2)
            Issue.record("no error for an infinite entry")
        } catch {
            #expect("\(error)".contains("(2, 2)"))
        }
    }

    @Test func rejectsAsymmetricMatrix() {
        do {
            _ = try symmetricEigen([1, 2, 3, 4], dimension: 2)
            Issue.record("no error for an asymmetric matrix")
        } catch {
            #expect("\(error)".contains("not symmetric"))
        }
    }
}
