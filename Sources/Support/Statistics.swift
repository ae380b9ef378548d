// Order statistics used by every report: one quantile definition for metrics, summaries and eigen tables.

/// The p-quantile of `values` by linear interpolation between closest ranks (the "type 7" definition, NumPy's
/// default). NaN entries are ignored; NaN for an empty list. ±∞ sort as usual, and an infinite neighbour (a diverged
/// rollout's error) makes the interpolated quantile infinite rather than NaN (∞ − ∞).
public func quantile(_ values: [Double], _ p: Double) -> Double {
    precondition((0...1).contains(p), "quantile order \(p) outside [0, 1]")
    let sorted = values.filter { !$0.isNaN }.sorted()
    guard !sorted.isEmpty else { return .nan }
    let position = p * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    let fraction = position - Double(lower)
    if fraction == 0 || sorted[lower] == sorted[upper] { return sorted[lower] }
    if sorted[lower].isInfinite { return sorted[lower] }
    if sorted[upper].isInfinite { return sorted[upper] }
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
}

/// The median (0.5-quantile) of `values`, NaN entries ignored; NaN for an empty list.
public func median(_ values: [Double]) -> Double { quantile(values, 0.5) }
