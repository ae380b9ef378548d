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
