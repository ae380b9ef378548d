// Symmetric eigenproblems through GSL (gsl_eigen_symmv): the ground truth of the eigen experiment.
// CONTRACT SKELETON: public signatures are fixed; bodies are filled in by the Reference work.

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

/// All eigenpairs of the symmetric n×n matrix given row-major. Throws on a GSL failure.
public func symmetricEigen(_ matrix: [Double], dimension n: Int) throws -> SymmetricEigenDecomposition {
    fatalError("not implemented")
}
