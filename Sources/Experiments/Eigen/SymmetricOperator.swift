// The matrix as the iterations see it: compressed sparse rows for y = A x, the Gershgorin bounds, and the scaled,
// sign-flipped, deflated operator M whose largest eigenvector every method looks for.
import Problems

/// A real symmetric matrix in compressed sparse row form (exact zeros dropped). Counts its products.
public final class SparseSymmetricMatrix: @unchecked Sendable {
    public let dimension: Int
    let rowStart: [Int]
    let columns: [Int]
    let values: [Double]
    /// Gershgorin bounds: every eigenvalue lies in [lower, upper].
    public let lower: Double
    public let upper: Double

    init(dimension: Int, rowStart: [Int], columns: [Int], values: [Double], lower: Double, upper: Double) {
        self.dimension = dimension; self.rowStart = rowStart; self.columns = columns; self.values = values
        self.lower = lower; self.upper = upper
    }

    public convenience init(_ problem: MatrixProblem) { self.init(entries: problem.entries, dimension: problem.dimension) }

    public convenience init(entries: [Double], dimension n: Int) {
        precondition(entries.count == n * n)
        var rowStart = [0], columns: [Int] = [], values: [Double] = []
        var lower = Double.infinity, upper = -Double.infinity
        for i in 0..<n {
            var radius = 0.0
            for j in 0..<n where entries[i * n + j] != 0 {
                columns.append(j); values.append(entries[i * n + j])
                if j != i { radius += abs(entries[i * n + j]) }
            }
            rowStart.append(columns.count)
            lower = min(lower, entries[i * n + i] - radius)
            upper = max(upper, entries[i * n + i] + radius)
        }
        self.init(dimension: n, rowStart: rowStart, columns: columns, values: values, lower: lower, upper: upper)
    }

    /// y = A x.  // (n) ← (n, n)·(n)
    @inline(__always)
    public func multiply(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        rowStart.withUnsafeBufferPointer { start in
            columns.withUnsafeBufferPointer { column in
                values.withUnsafeBufferPointer { value in
                    for i in 0..<dimension {
                        var sum = 0.0
                        for p in start[i]..<start[i + 1] { sum += value[p] * x[column[p]] }
                        y[i] = sum
                    }
                }
            }
        }
    }

    public func multiply(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: dimension)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { multiply(xp.baseAddress!, into: $0.baseAddress!) } }
        return y
    }

    /// Rayleigh quotient xᵀA x / xᵀx.
    public func rayleighQuotient(_ x: [Double]) -> Double {
        let y = multiply(x)
        return dot(x, y) / dot(x, x)
    }
}

/// M = σ (A − c I)/s − Σ_j (μ_j − τ) v_j v_jᵀ: A shifted to the centre c and scaled by the half-width s of its
/// Gershgorin interval (so the spectrum of σ(A − cI)/s lies in [−1, 1]), sign σ = +1 for the largest eigenvalue and −1
/// for the smallest, and every found eigenvector v_j (scaled eigenvalue μ_j) moved to τ = −1, the bottom of that range.
/// Its largest eigenvector is the next one wanted. `products` counts the products with A.
public final class ScaledOperator: @unchecked Sendable {
    public let matrix: SparseSymmetricMatrix
    public let sign: Double
    public let center: Double
    public let scale: Double
    public let deflatedValue = -1.0
    public private(set) var found: [[Double]] = []
    private var foundShift: [Double] = []
    public private(set) var products = 0

    public var dimension: Int { matrix.dimension }

    public init(_ matrix: SparseSymmetricMatrix, largest: Bool) {
        self.matrix = matrix
        sign = largest ? 1 : -1
        center = 0.5 * (matrix.upper + matrix.lower)
        let halfWidth = 0.5 * (matrix.upper - matrix.lower)
        scale = halfWidth > 0 ? halfWidth : max(abs(center), 1)
    }

    /// Eigenvalue of A from an eigenvalue μ of σ(A − cI)/s.
    public func unscaled(_ mu: Double) -> Double { center + scale * sign * mu }

    /// Adds a found unit eigenvector with scaled eigenvalue `mu`, moving it to τ.
    public func deflate(_ vector: [Double], scaledEigenvalue mu: Double) {
        found.append(vector); foundShift.append(mu - deflatedValue)
    }

    public func resetCount() { products = 0 }

    /// y = M x (one product with A).
    public func apply(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        matrix.multiply(x, into: y)
        products += 1
        let n = dimension, a = sign / scale, b = -sign * center / scale
        for i in 0..<n { y[i] = a * y[i] + b * x[i] }
        for (j, v) in found.enumerated() {
            v.withUnsafeBufferPointer { v in
                var projection = 0.0
                for i in 0..<n { projection += v[i] * x[i] }
                let coefficient = foundShift[j] * projection
                for i in 0..<n { y[i] -= coefficient * v[i] }
            }
        }
    }

    /// Removes from x its components along the found vectors (twice: classical Gram–Schmidt re-orthogonalised).
    public func orthogonalise(_ x: inout [Double]) {
        for _ in 0..<2 {
            for v in found {
                let projection = dot(v, x)
                for i in x.indices { x[i] -= projection * v[i] }
            }
        }
    }
}

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

@inline(__always) func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

func normalised(_ a: [Double]) -> [Double] {
    let length = norm(a)
    return a.map { $0 / length }
}
