// Shared test helpers: closeness checks, central-difference gradient checks, naive reference kernels.

/// Relative difference |a − b| / max(|a|, |b|, floor).
public func relativeDifference(_ a: Double, _ b: Double, floor: Double = 1e-12) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

/// The largest relative difference between two equal-length arrays, with its index.
public func worstRelativeDifference(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> (index: Int, value: Double) {
    precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
    var worst = (index: -1, value: 0.0)
    for i in a.indices {
        let d = relativeDifference(a[i], b[i], floor: floor)
        if d > worst.value || d.isNaN { worst = (i, d) }
    }
    return worst
}

/// Central finite difference of a scalar function along every coordinate of `x`.
public func centralDifferenceGradient(at x: [Double], step h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var x = x
    var gradient = [Double](repeating: 0, count: x.count)
    for i in x.indices {
        let saved = x[i]
        x[i] = saved + h; let plus = f(x)
        x[i] = saved - h; let minus = f(x)
        x[i] = saved
        gradient[i] = (plus - minus) / (2 * h)
    }
    return gradient
}
