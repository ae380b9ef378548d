// Scalar activations used by the cells' pointwise loops, and small row/column helpers for bias handling.
import Foundation

/// σ(x) = 1 / (1 + e^(−x)), evaluated without overflow for large |x|.
@inline(__always) func sigmoid(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// tanh(x) = expm1(2x) / (expm1(2x) + 2): one libm call, relative accuracy kept near 0; saturates beyond |x| > 19.
@inline(__always) func hyperbolicTangent(_ x: Double) -> Double {
    if x > 19 { return 1 }
    if x < -19 { return -1 }
    let e = expm1(2 * x)
    return e / (e + 2)
}

/// Every row of the (rows, columns) matrix `m` ← `row` (a bias broadcast before a GEMM with β = 1).
@inline(__always) func broadcastRows(_ row: UnsafePointer<Double>, into m: MutableMatrixRef) {
    for i in 0..<m.rows { (m.base + i * m.columns).update(from: row, count: m.columns) }
}

/// sums[j] += Σᵢ m[i, j]: the bias gradient of a (rows, columns) matrix of pre-activation gradients.
@inline(__always) func accumulateColumnSums(_ m: MatrixRef, into sums: UnsafeMutablePointer<Double>) {
    for i in 0..<m.rows {
        let r = m.base + i * m.columns
        for j in 0..<m.columns { sums[j] += r[j] }
    }
}
