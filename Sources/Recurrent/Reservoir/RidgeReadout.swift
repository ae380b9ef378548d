// Ridge regression by normal equations: accumulate XᵀX and XᵀY block by block, then one Cholesky solve (LAPACK dposv).

/// A readout fit that cannot be solved, or data that does not fit; the message says which and what to change.
public struct ReservoirError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Accumulates the normal equations G = XᵀX (p, p) and R = XᵀY (p, q) over row blocks of X (n, p) and Y (n, q).
final class NormalEquations {
    let features: Int
    let outputs: Int
    private(set) var rows = 0
    let gram: Buffer<Double>          // XᵀX (p, p)
    let crossTerms: Buffer<Double>    // XᵀY (p, q)

    init(features p: Int, outputs q: Int) {
        precondition(p > 0 && q > 0)
        features = p; outputs = q
        gram = Buffer<Double>(count: p * p); crossTerms = Buffer<Double>(count: p * q)
    }

    /// G += X_blockᵀ X_block,  R += X_blockᵀ Y_block.
    func add(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, rows n: Int) {
        guard n > 0 else { return }
        let xb = MatrixRef(x, rows: n, columns: features), yb = MatrixRef(y, rows: n, columns: outputs)
        BLAS.gemm(xb, transposeA: true, xb, into: gram.matrix(rows: features, columns: features), beta: 1)
        BLAS.gemm(xb, transposeA: true, yb, into: crossTerms.matrix(rows: features, columns: outputs), beta: 1)
        rows += n
    }

    /// G += G_other, R += R_other: the sums of two disjoint row sets (each entry one addition, so adding partial
    /// sums in a fixed order gives the same bits for the same partition).
    func add(_ other: NormalEquations) {
        precondition(other.features == features && other.outputs == outputs, "normal equations of different shapes")
        for k in 0..<(features * features) { gram.base[k] += other.gram.base[k] }
        for k in 0..<(features * outputs) { crossTerms.base[k] += other.crossTerms.base[k] }
        rows += other.rows
    }

    /// W = (G + λI)⁻¹ R  (p, q) row-major, by Cholesky (dposv). λ ≥ 0.
    func solve(ridge lambda: Double) throws -> [Double] {
        let p = features, q = outputs
        guard lambda >= 0, lambda.isFinite else { throw ReservoirError("the ridge parameter must be ≥ 0 (got \(lambda))") }
        guard rows > 0 else { throw ReservoirError("no rows to fit the readout on (are all steps inside the warm-up?)") }
        var a = [Double](repeating: 0, count: p * p)
        for k in 0..<(p * p) { a[k] = gram.base[k] }          // symmetric: row-major = column-major
        for i in 0..<p { a[i * p + i] += lambda }
        var b = [Double](repeating: 0, count: p * q)            // column-major (p, q)
        for i in 0..<p { for j in 0..<q { b[j * p + i] = crossTerms.base[i * q + j] } }
        guard a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else {
            throw ReservoirError("the readout's normal equations hold NaN or infinity (non-finite features or targets)")
        }
        let info = a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in BLAS.choleskySolve(ap.baseAddress!, order: p, bp.baseAddress!, rightHandSides: q) }
        }
        if info > 0 {
            // XᵀX is positive semi-definite in exact arithmetic; rounding in its accumulation can leave eigenvalues
            // slightly below 0 (e.g. degree-4 NG-RC features), which a small λ does not lift. Solve instead with
            // the eigenvalues of XᵀX clamped at 0: that is the exact ridge solution for the nearest PSD Gram matrix.
            if lambda > 0, let w = try spectralSolve(ridge: lambda) { return w }
            throw ReservoirError("XᵀX + λI is not positive definite (leading minor \(info) of \(p)) with λ = \(lambda) and \(rows) rows: "
                                 + "increase the ridge parameter or give more data")
        }
        precondition(info == 0, "dposv rejected argument \(-info)")
        var w = [Double](repeating: 0, count: p * q)
        for i in 0..<p { for j in 0..<q { w[i * q + j] = b[j * p + i] } }
        return w
    }

    /// W = V diag(1/(max(μ_k, 0) + λ)) Vᵀ R with XᵀX = V diag(μ) Vᵀ (LAPACK dsyevd); nil when dsyevd fails. λ > 0.
    func spectralSolve(ridge lambda: Double) throws -> [Double]? {
        let p = features, q = outputs
        precondition(lambda > 0)
        var v = [Double](repeating: 0, count: p * p)
        for k in 0..<(p * p) { v[k] = gram.base[k] }
        var mu = [Double](repeating: 0, count: p)
        let info = v.withUnsafeMutableBufferPointer { vp in
            mu.withUnsafeMutableBufferPointer { BLAS.symmetricEigen(vp.baseAddress!, order: p, values: $0.baseAddress!) }
        }
        guard info == 0 else { return nil }
        // C = Vᵀ R (p, q): column k of V (column-major) is v[k*p ..< (k+1)*p].
        var w = [Double](repeating: 0, count: p * q)
        var c = [Double](repeating: 0, count: q)
        for k in 0..<p {
            for j in 0..<q { c[j] = 0 }
            for i in 0..<p {
                let vik = v[k * p + i]
                for j in 0..<q { c[j] += vik * crossTerms.base[i * q + j] }
            }
            let inverse = 1 / (max(mu[k], 0) + lambda)
            for i in 0..<p {
                let f = v[k * p + i] * inverse
                for j in 0..<q { w[i * q + j] += f * c[j] }
            }
        }
        guard w.allSatisfy(\.isFinite) else { return nil }
        return w
    }
}

/// Least squares with Tikhonov regularisation: W = argmin ‖X W − Y‖² + λ‖W‖², X (n, p), Y (n, q) row-major;
/// returns W (p, q) row-major. Solved by LAPACK (Cholesky of XᵀX + λI).
public func ridgeRegression(features: [Double], rows n: Int, columns p: Int, targets: [Double], outputs q: Int,
                            ridge: Double) throws -> [Double] {
    guard n > 0, p > 0, q > 0, features.count == n * p, targets.count == n * q else {
        throw ReservoirError("ridge regression: X has \(features.count) values for \(n)×\(p), Y \(targets.count) for \(n)×\(q)")
    }
    BLAS.configureOnce()
    let equations = NormalEquations(features: p, outputs: q)
    features.withUnsafeBufferPointer { x in
        targets.withUnsafeBufferPointer { y in equations.add(x.baseAddress!, y.baseAddress!, rows: n) }
    }
    return try equations.solve(ridge: ridge)
}
