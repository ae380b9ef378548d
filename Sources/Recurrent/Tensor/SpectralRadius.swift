// The spectral radius ρ(W) = max |λ(W)| of a square CSR matrix without forming it densely: Arnoldi on W with full
// re-orthogonalisation, the Krylov space grown until the largest Ritz value's residual is small.
// Reference: Saad (2011), "Numerical Methods for Large Eigenvalue Problems", ch. 6 (Arnoldi, Ritz residuals).
import Foundation

/// ρ(W) from the Krylov space K_m(W, v₀) = span{v₀, W v₀, …, W^{m−1} v₀}:
///   W V_m = V_m H_m + β_m v_{m+1} e_mᵀ     (V_m orthonormal, H_m (m, m) upper Hessenberg)
/// The Ritz values θ are the eigenvalues of H_m (LAPACK dgeev); for the largest |θ| with unit eigenvector y of
/// H_m, the Ritz vector x = V_m y has residual ‖W x − θ x‖₂ = r = β_m |e_mᵀ y|, so θ is an exact eigenvalue of
/// W + E with ‖E‖₂ = r (backward error). m grows (by a quarter at each check, from 10) until r ≤ tolerance·|θ|;
/// no restart, so memory is (m + 1)·n doubles for the basis. Like every Krylov method it finds the outermost
/// eigenvalues first but cannot prove that none larger is missing; the tests compare it with dgeev.
struct SpectralRadiusEstimate: Equatable {
    /// |θ| of the largest Ritz value.
    var radius: Double
    /// r = ‖W x − θ x‖₂ for its unit Ritz vector x.
    var residual: Double
    /// m, the dimension of the Krylov space used.
    var krylovDimension: Int
}

extension SparseMatrix {
    /// ρ(W) by Arnoldi (see `SpectralRadiusEstimate`); the start vector is drawn from `seed`. Throws when the
    /// residual is still above tolerance·|θ| at m = maximumDimension (or the Krylov space fills ℝⁿ, where the
    /// Ritz values are exact and the check always passes).
    func spectralRadius(tolerance: Double = 1e-10, maximumDimension: Int = 1500, seed: UInt64 = 0x5EED) throws -> SpectralRadiusEstimate {
        precondition(rows == columns && rows > 0, "spectral radius of a \(rows)×\(columns) matrix")
        precondition(tolerance > 0 && maximumDimension >= 1, "Arnoldi tolerance \(tolerance), dimension \(maximumDimension)")
        let n = rows, mMax = min(n, maximumDimension)
        // Basis vectors v_0 … v_mMax, each contiguous; H (mMax + 1, mMax) column-major.
        var basis = [Double](repeating: 0, count: (mMax + 1) * n)
        var h = [Double](repeating: 0, count: (mMax + 1) * mMax)
        let ldh = mMax + 1
        var generator = Xoshiro256StarStar(seed: seed, stream: 0)
        let frobenius = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var next = checkpoints(upTo: mMax)[...]
        var last = SpectralRadiusEstimate(radius: 0, residual: .infinity, krylovDimension: 0)
        return try basis.withUnsafeMutableBufferPointer { vb in
            let v = vb.baseAddress!
            /// Orthogonalises w against v_0 … v_{j} twice (classical Gram–Schmidt, repeated), adding the
            /// coefficients to column `column` of H when given; returns ‖w‖₂ afterwards.
            func orthogonalise(_ w: UnsafeMutablePointer<Double>, against count: Int, column: Int?) -> Double {
                for _ in 0..<2 {
                    for i in 0..<count {
                        let vi = v + i * n
                        var dot = 0.0
                        for k in 0..<n { dot += vi[k] * w[k] }
                        for k in 0..<n { w[k] -= dot * vi[k] }
                        if let column { h[i + column * ldh] += dot }
                    }
                }
                var norm = 0.0
                for k in 0..<n { norm += w[k] * w[k] }
                return norm.squareRoot()
            }
            /// A random unit vector orthogonal to v_0 … v_{count−1}, stored as v_count (count < n).
            func freshVector(_ count: Int) {
                let w = v + count * n
                while true {
                    for k in 0..<n { w[k] = generator.nextSymmetric(1) }
                    let norm = orthogonalise(w, against: count, column: nil)
                    if norm > 1e-8 { for k in 0..<n { w[k] /= norm }; return }
                }
            }
            freshVector(0)
            for j in 0..<mMax {
                let w = v + (j + 1) * n
                for k in 0..<n { w[k] = 0 }
                multiplyAdd(UnsafePointer(v + j * n), into: w)
                let beta = orthogonalise(w, against: j + 1, column: j)
                // Breakdown: K_{j+1} is invariant, H's eigenvalues so far are W's; carry on from a fresh vector.
                let broke = beta <= 1e-12 * Swift.max(frobenius, .leastNormalMagnitude)
                if broke {
                    if j + 1 < n { freshVector(j + 1) }
                } else {
                    for k in 0..<n { w[k] /= beta }
                    h[(j + 1) + j * ldh] = beta
                }
                let m = j + 1
                guard m == next.first || m == mMax else { continue }
                if m == next.first { next.removeFirst() }
                last = try ritz(h, leading: ldh, order: m, beta: broke ? 0 : beta)
                if last.residual <= tolerance * last.radius || (last.radius == 0 && last.residual <= tolerance * frobenius) || m == n {
                    return last
                }
            }
            throw ReservoirError("the spectral radius of the \(n)×\(n) reservoir did not converge: after \(mMax) Arnoldi steps "
                                 + "the largest Ritz value \(last.radius) has residual \(last.residual) (tolerance \(tolerance) relative)")
        }
    }

    /// m = 10, then ×1.25 (at least +1), up to mMax.
    private func checkpoints(upTo mMax: Int) -> [Int] {
        var points: [Int] = [], m = Swift.min(10, mMax)
        while m < mMax { points.append(m); m = Swift.max(m + 1, m * 5 / 4) }
        points.append(mMax)
        return points
    }

    /// The largest Ritz value of H_m (column-major, leading dimension `leading`) and its residual β |e_mᵀ y|.
    private func ritz(_ h: [Double], leading: Int, order m: Int, beta: Double) throws -> SpectralRadiusEstimate {
        var a = [Double](repeating: 0, count: m * m)
        for column in 0..<m { for row in 0..<Swift.min(m, column + 2) { a[row + column * m] = h[row + column * leading] } }
        let eigen = try DenseEigen(a, order: m, right: true)
        guard let top = eigen.magnitudes.indices.max(by: { eigen.magnitudes[$0] < eigen.magnitudes[$1] }) else {
            return SpectralRadiusEstimate(radius: 0, residual: 0, krylovDimension: m)
        }
        // A complex pair is stored as columns (k, k + 1) = (Re y, Im y) with k the member of positive imaginary part.
        let k = eigen.imaginary[top] < 0 ? top - 1 : top
        let lastReal = eigen.right[(m - 1) + k * m]
        let lastImaginary = eigen.imaginary[top] != 0 ? eigen.right[(m - 1) + (k + 1) * m] : 0
        let residual = beta * (lastReal * lastReal + lastImaginary * lastImaginary).squareRoot()
        return SpectralRadiusEstimate(radius: eigen.magnitudes[top], residual: residual, krylovDimension: m)
    }
}

/// Eigenvalues of a dense (n, n) column-major matrix by LAPACK dgeev, with unit right and left eigenvectors
/// when asked (column-major; a complex pair's vectors as consecutive columns (Re, Im), as LAPACK stores them).
struct DenseEigen {
    var real: [Double], imaginary: [Double]
    var right: [Double] = [], left: [Double] = []
    var magnitudes: [Double] { zip(real, imaginary).map { ($0 * $0 + $1 * $1).squareRoot() } }

    init(_ a: [Double], order n: Int, right wantRight: Bool = false, left wantLeft: Bool = false) throws {
        precondition(a.count == n * n && n > 0, "dgeev of \(a.count) values for order \(n)")
        var matrix = a, re = [Double](repeating: 0, count: n), im = re
        var vr = [Double](repeating: 0, count: wantRight ? n * n : 0), vl = [Double](repeating: 0, count: wantLeft ? n * n : 0)
        let info = matrix.withUnsafeMutableBufferPointer { ap in
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in
                    vl.withUnsafeMutableBufferPointer { l in
                        vr.withUnsafeMutableBufferPointer { rr in
                            BLAS.eigenvectors(ap.baseAddress!, order: n, real: r.baseAddress!, imaginary: i.baseAddress!,
                                              left: wantLeft ? l.baseAddress : nil, right: wantRight ? rr.baseAddress : nil)
                        }
                    }
                }
            }
        }
        guard info == 0 else { throw ReservoirError("LAPACK dgeev failed on a \(n)×\(n) matrix (info \(info))") }
        real = re; imaginary = im; right = vr; left = vl
    }
}
