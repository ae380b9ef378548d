// Reference kernels written as plain loops, to check the BLAS-backed ones against.

/// C = op(A)·op(B) by the triple loop; A, B row-major with their stored shapes (rowsA, columnsA), (rowsB, columnsB).
public func naiveMatrixProduct(_ a: [Double], rows ra: Int, columns ca: Int, transposeA: Bool = false,
                               _ b: [Double], rows rb: Int, columns cb: Int, transposeB: Bool = false) -> [Double] {
    precondition(a.count == ra * ca && b.count == rb * cb)
    let m = transposeA ? ca : ra, k = transposeA ? ra : ca, n = transposeB ? rb : cb
    precondition(k == (transposeB ? cb : rb), "inner dimensions differ")
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for l in 0..<k {
                let x = transposeA ? a[l * ca + i] : a[i * ca + l]
                let y = transposeB ? b[j * cb + l] : b[l * cb + j]
                s += x * y
            }
            c[i * n + j] = s
        }
    }
    return c
}

/// One entry of a gradient comparison.
public struct GradientMismatch: CustomStringConvertible, Sendable {
    public var index: Int
    public var name: String
    public var analytic: Double
    public var numeric: Double
    public var relativeError: Double
    public var description: String {
        "\(name): analytic \(analytic), numeric \(numeric), relative error \(relativeError)"
    }
}

/// Compares an analytic gradient with a numeric one entry by entry: relative error |a − n| / max(|a|, |n|, floor)
/// (`floor` keeps entries that are zero up to finite-difference noise from dividing by ~0). Returns the worst
/// `count` entries, worst first, each named by `name(index)`.
public func worstGradientEntries(analytic: [Double], numeric: [Double], floor: Double, count: Int = 5,
                                 name: (Int) -> String = { "[\($0)]" }) -> [GradientMismatch] {
    precondition(analytic.count == numeric.count)
    return analytic.indices.map { i in
        GradientMismatch(index: i, name: name(i), analytic: analytic[i], numeric: numeric[i],
                         relativeError: relativeDifference(analytic[i], numeric[i], floor: floor))
    }
    .sorted { $0.relativeError > $1.relativeError || $0.relativeError.isNaN }
    .prefix(count).map { $0 }
}

/// Unit roundoff of Double, u = 2⁻⁵³.
public let unitRoundoff = Double.ulpOfOne / 2

/// Higham's γ_k = k·u / (1 − k·u): the relative error bound of a sum of k rounded products, whatever the order in
/// which a kernel adds them (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
public func gamma(_ k: Int) -> Double {
    let ku = Double(k) * unitRoundoff
    precondition(ku < 1, "γ_k undefined for k·u ≥ 1")
    return ku / (1 - ku)
}

/// Entrywise forward-error bound of C ← α·op(A)·op(B) + β·C₀ computed in any summation order:
/// |Ĉ − C| ≤ γ_{k+2}·(|α|·|op(A)|·|op(B)| + |β|·|C₀|), with k the inner dimension (two more roundings for α and β).
public func gemmErrorBound(_ a: [Double], rows ra: Int, columns ca: Int, transposeA: Bool = false,
                           _ b: [Double], rows rb: Int, columns cb: Int, transposeB: Bool = false,
                           alpha: Double = 1, beta: Double = 0, c0: [Double]? = nil) -> [Double] {
    let k = transposeA ? ra : ca
    let magnitudes = naiveMatrixProduct(a.map(abs), rows: ra, columns: ca, transposeA: transposeA,
                                        b.map(abs), rows: rb, columns: cb, transposeB: transposeB)
    return magnitudes.indices.map { i in
        gamma(k + 2) * (abs(alpha) * magnitudes[i] + abs(beta) * abs(c0?[i] ?? 0))
    }
}

/// The entries where |computed − exact| exceeds its bound, as (index, error, bound); empty when all are within.
public func entriesOutsideBound(_ computed: [Double], _ exact: [Double], bound: [Double]) -> [(index: Int, error: Double, bound: Double)] {
    precondition(computed.count == exact.count && exact.count == bound.count)
    return computed.indices.compactMap { i in
        let error = abs(computed[i] - exact[i])
        return error <= bound[i] ? nil : (i, error, bound[i])
    }
}
