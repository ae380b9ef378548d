// Symmetric eigenproblems through GSL (gsl_eigen_symmv): the ground truth of the eigen experiment.
// The GSL calls live in GSL/SymmetricEigensolver.swift.

/// Eigenvalues in ascending order and their orthonormal eigenvectors.
public struct SymmetricEigenDecomposition: Sendable {
    public var values: [Double]
    /// vectors[k] is the unit eigenvector of values[k].
    public var vectors: [[Double]]
    public init(values: [Double], vectors: [[Double]]) { self.values = values; self.vectors = vectors }
}

public struct EigenError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// All eigenpairs of the symmetric n×n matrix given row-major: A·v_k = λ_k·v_k with λ_0 ≤ λ_1 ≤ …, ‖v_k‖ = 1.
/// Throws on non-finite entries, on an asymmetric matrix (|a_ij − a_ji| > 1e-12·max|a|), and on a GSL failure.
/// Reference: GSL manual, "Eigensystems: Real Symmetric Matrices" (gsl_eigen_symmv).
public func symmetricEigen(_ matrix: [Double], dimension n: Int) throws -> SymmetricEigenDecomposition {
    precondition(n > 0 && matrix.count == n * n, "\(matrix.count) entries for a \(n)×\(n) matrix")
    if let bad = matrix.firstIndex(where: { !$0.isFinite }) {
        throw EigenError(message: "matrix entry (\(bad / n + 1), \(bad % n + 1)) is \(matrix[bad]), not a finite number")
    }
    let scale = matrix.reduce(0) { max($0, abs($1)) }
    for i in 0..<n {
        for j in 0..<i where abs(matrix[i * n + j] - matrix[j * n + i]) > 1e-12 * scale {
            throw EigenError(message: "matrix is not symmetric: entry (\(i + 1), \(j + 1)) = \(matrix[i * n + j]) "
                                      + "but (\(j + 1), \(i + 1)) = \(matrix[j * n + i])")
        }
    }
    let (values, columns) = try gslSymmetricEigen(matrix, dimension: n)
    let vectors = (0..<n).map { k in (0..<n).map { i in columns[i * n + k] } }
    return SymmetricEigenDecomposition(values: values, vectors: vectors)
}
