// A symmetric matrix eigenproblem as read from `problems/eigen/*.toml` or a Matrix Market file: the matrix
// (dense, row-major), where it came from, and the exact eigenvalues when the file gives a formula in k.
import Foundation
import Support

/// The kinds of matrix file; raw values are the spelling of `kind = "…"` in the file.
public enum MatrixKind: String, CaseIterable, Sendable, Codable {
    /// n, `diagonal` and `off_diagonal`: numbers or expressions in the 1-based row `i` (and `n`, parameters).
    case tridiagonal
    /// −u'' + V(x) u = λ u on [a, b] with u(a) = u(b) = 0, second-order finite differences on n interior points:
    /// H_ii = 2/h² + V(x_i), H_i,i±1 = −1/h², h = (b − a)/(n + 1), x_i = a + i h.
    case schrodinger1d
    /// n, seed: entries uniform in [−1, 1] (or standard normal), a_ij = a_ji drawn row by row from the upper triangle.
    case randomSymmetric = "random-symmetric"
    /// `rows`: a list of lists of numbers or expressions in the parameters.
    case dense
    /// `path` to a real `.mtx` file (coordinate or array; symmetric or general), relative to the toml file.
    case matrixMarket = "matrix-market"
}

/// Distribution of the entries of a random symmetric matrix.
public enum EntryDistribution: String, CaseIterable, Sendable, Codable {
    /// Uniform in [−1, 1].
    case uniform
    /// Standard normal.
    case normal
}

/// A real symmetric n×n matrix and its provenance.
public struct MatrixProblem: Sendable {
    public var name: String
    public var title: String
    public var kind: MatrixKind
    /// The file it was read from (the toml file, or the .mtx file when read directly).
    public var file: URL?
    public var dimension: Int
    /// Row-major n×n, exactly symmetric (a general Matrix Market file symmetric within 1e-12 is symmetrised).
    public var entries: [Double]
    /// Exact eigenvalue number k (0-based, ascending) in the slots `k`, `n` and the file's parameters.
    public var exact: Expression?
    /// Values of the exact expression's slots after `k` and `n`.
    public var exactParameters: [Double]
    /// For `random-symmetric`: the family (seed and distribution) the matrix was drawn from.
    public var family: RandomSymmetricFamily?

    public init(name: String, title: String, kind: MatrixKind, file: URL? = nil, dimension: Int, entries: [Double],
                exact: Expression? = nil, exactParameters: [Double] = [], family: RandomSymmetricFamily? = nil) {
        precondition(entries.count == dimension * dimension, "entries must be n×n")
        self.name = name; self.title = title; self.kind = kind; self.file = file; self.dimension = dimension
        self.entries = entries; self.exact = exact; self.exactParameters = exactParameters; self.family = family
    }

    /// Entry (row, column), 0-based.
    public subscript(row: Int, column: Int) -> Double { entries[row * dimension + column] }

    /// The exact k-th eigenvalue (0-based, ascending), when the file gives a formula.
    public func exactEigenvalue(_ k: Int) -> Double? {
        guard let exact else { return nil }
        return exact.evaluate([Double(k), Double(dimension)] + exactParameters)
    }
}

/// Random symmetric matrices of one size and distribution; member `seed` is one matrix.
public struct RandomSymmetricFamily: Sendable, Hashable, Codable {
    public var dimension: Int
    public var distribution: EntryDistribution
    public init(dimension: Int, distribution: EntryDistribution = .uniform) {
        self.dimension = dimension; self.distribution = distribution
    }

    /// The family member drawn with `seed` (SplitMix64; normal entries by Box–Muller). Same seed, same matrix.
    public func member(seed: UInt64) -> [Double] {
        let n = dimension
        var generator = SplitMix64(seed: seed)
        var entries = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                let value = distribution == .uniform ? 2 * generator.nextUniform() - 1 : generator.nextNormal()
                entries[i * n + j] = value
                entries[j * n + i] = value
            }
        }
        return entries
    }

    /// Member `seed` as a problem named `name`.
    public func problem(seed: UInt64, name: String? = nil) -> MatrixProblem {
        MatrixProblem(name: name ?? "random-symmetric-\(dimension)-\(seed)",
                      title: "Random symmetric \(dimension)×\(dimension) (\(distribution.rawValue), seed \(seed))",
                      kind: .randomSymmetric, dimension: dimension, entries: member(seed: seed), family: self)
    }
}
