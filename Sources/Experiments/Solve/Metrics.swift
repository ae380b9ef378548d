// Error metrics of a learned rollout against the GSL reference: pure functions on row-major (steps, d) arrays,
// with known-answer tests in ExperimentsTests/MetricsTests.
import Foundation

/// The default threshold on the normalised error E(t) that ends the valid prediction time (Pathak et al. 2018 use
/// 0.4; the Kuramoto–Sivashinsky literature often 0.5). `--vpt-threshold` changes it for the reported metrics only.
public let validPredictionThreshold = 0.4

/// What the metrics of one test trajectory are computed from. Row n of `reference`/`predicted` is the state at
/// `times[n]`; row 0 is the last warm-up state (the rollout's start, where the prediction equals the reference).
public struct RolloutComparison: Sendable {
    public var dimension: Int
    public var times: [Double]
    public var reference: [Double]
    /// Non-finite from `divergedIndex` on.
    public var predicted: [Double]
    /// The first row at which the rollout was non-finite or left the allowed box; nil when it never did.
    public var divergedIndex: Int?
    /// σ_i: training standard deviation of each component (the scale of E(t)).
    public var scale: [Double]
    /// P_i of an angle (0: not periodic): its errors are measured on the circle, ŷ_i − y_i reduced to [−P/2, P/2).
    public var periods: [Double]

    /// `periods` nil: no component is periodic.
    public init(dimension: Int, times: [Double], reference: [Double], predicted: [Double], divergedIndex: Int?, scale: [Double],
                periods: [Double]? = nil) {
        precondition(reference.count == times.count * dimension && predicted.count == reference.count && scale.count == dimension)
        self.dimension = dimension; self.times = times; self.reference = reference; self.predicted = predicted
        self.divergedIndex = divergedIndex; self.scale = scale
        self.periods = periods ?? [Double](repeating: 0, count: dimension)
        precondition(self.periods.count == dimension)
    }

    /// ŷ_i − y_i at row n, reduced to [−P_i/2, P_i/2) for an angle.
    @inline(__always)
    func error(_ n: Int, _ i: Int) -> Double {
        Normalization.reduced(predicted[n * dimension + i] - reference[n * dimension + i], period: periods[i])
    }

    /// Rows with a valid (finite, in-range) prediction: 0 ..< validCount.
    public var validCount: Int { divergedIndex ?? times.count }

    /// The rollout of `reference` (row-major, the states at `times`) warmed up on rows 0 … s−1 and run to row
    /// `last` (`BatchedRolloutRunner`), against rows s−1 … last, in the normalisation's scales and angles.
    init(reference: [Double], times: [Double], rollout: Rollout, warmUp s: Int, last: Int, normalization: Normalization) {
        let d = normalization.dimension
        self.init(dimension: d, times: Array(times[(s - 1)...last]), reference: Array(reference[((s - 1) * d)..<((last + 1) * d)]),
                  predicted: rollout.predicted, divergedIndex: rollout.divergedIndex, scale: normalization.stateScale,
                  periods: normalization.periods)
    }
}

/// The metrics of one test trajectory (time measured from the start of the rollout).
public struct TrajectoryMetrics: Sendable, Equatable {
    /// Root mean square error over the valid rollout steps after the start and all components (original units).
    public var rmse: Double
    /// ‖ŷ(T) − y(T)‖₂ / ‖y(T)‖₂ at the horizon (an angle's difference and value reduced to [−P/2, P/2)); +∞ when
    /// the rollout diverged before it.
    public var relativeL2Final: Double
    /// Largest |ŷ_i − y_i| over the valid steps.
    public var maxAbs: Double
    /// Valid prediction time: first time after the start at which E(t) > the threshold (0.4 unless
    /// `--vpt-threshold`), or the rollout diverged.
    public var validPredictionTime: Double
    /// True when E(t) stayed ≤ the threshold to the horizon: the VPT is then the horizon, a lower bound.
    public var validPredictionCensored: Bool
    /// Time after the start at which the rollout diverged, nil when it did not.
    public var divergedAt: Double?
    /// Per invariant: max_t |I(ŷ_t) − I(y_0)| / |I(y_0)| over the valid steps of the rollout.
    public var invariantDrift: [Double]
    /// The same for the GSL reference trajectory (how well GSL itself conserves it), for context.
    public var referenceInvariantDrift: [Double]
}

public enum Metrics {
    /// E(t_n) = sqrt((1/d) Σ_i ((ŷ_i − y_i)/σ_i)²) for every row (angles' differences on the circle); +∞ where
    /// the prediction is not finite.
    public static func normalizedError(_ comparison: RolloutComparison) -> [Double] {
        let d = comparison.dimension
        return (0..<comparison.times.count).map { n in
            var sum = 0.0
            for i in 0..<d {
                let e = comparison.error(n, i) / comparison.scale[i]
                sum += e * e
            }
            return sum.isFinite ? (sum / Double(d)).squareRoot() : .infinity
        }
    }

    /// The first `times[n] − times[0]` with `errors[n] > threshold` (a non-finite error counts as above); when
    /// there is none, the last time, censored.
    public static func validPredictionTime(errors: [Double], times: [Double], threshold: Double = validPredictionThreshold)
        -> (time: Double, censored: Bool)
    {
        precondition(errors.count == times.count && !times.isEmpty)
        for n in errors.indices where !(errors[n] <= threshold) {
            return (times[n] - times[0], false)
        }
        return (times[times.count - 1] - times[0], true)
    }

    /// The first row where the prediction is non-finite or outside [lower_i, upper_i]; nil when none.
    public static func divergenceIndex(predicted: [Double], dimension d: Int, lower: [Double], upper: [Double]) -> Int? {
        let rows = predicted.count / d
        for n in 0..<rows {
            for i in 0..<d {
                let v = predicted[n * d + i]
                if !v.isFinite || v < lower[i] || v > upper[i] { return n }
            }
        }
        return nil
    }

    /// The allowed box of one rollout: the union of the training range [min_i, max_i] and the range of its own
    /// reference over rows 0 … `last` (row-major (N, d)), widened about its centre to `factor` times its width. A
    /// rollout that follows a reference which itself leaves the training range (a pendulum that rotates, so that θ
    /// grows without bound) is then not called diverged; one that runs away from both still is.
    public static func allowedBox(normalization: Normalization, reference: [Double], dimension d: Int, last: Int,
                                  factor: Double = 10) -> (lower: [Double], upper: [Double]) {
        precondition(reference.count >= (last + 1) * d && normalization.dimension == d)
        var minimum = normalization.minimum, maximum = normalization.maximum
        for n in 0...last {
            for i in 0..<d where reference[n * d + i].isFinite {
                minimum[i] = min(minimum[i], reference[n * d + i]); maximum[i] = max(maximum[i], reference[n * d + i])
            }
        }
        return allowedBox(minimum: minimum, maximum: maximum, factor: factor)
    }

    /// The range [min_i, max_i] widened about its centre to `factor` times its width.
    public static func allowedBox(minimum: [Double], maximum: [Double], factor: Double = 10) -> (lower: [Double], upper: [Double]) {
        let half = zip(minimum, maximum).map { max(($1 - $0) * factor / 2, 1e-12) }
        let centre = zip(minimum, maximum).map { ($0 + $1) / 2 }
        return (zip(centre, half).map { $0 - $1 }, zip(centre, half).map { $0 + $1 })
    }

    /// All metrics of one trajectory, the VPT at `threshold` on E(t). `invariants(t, state)` gives the invariant
    /// values (empty when none).
    public static func evaluate(_ c: RolloutComparison, threshold: Double = validPredictionThreshold,
                                invariants: (Double, [Double]) -> [Double] = { _, _ in [] }) -> TrajectoryMetrics
    {
        precondition(threshold > 0 && threshold.isFinite)
        let d = c.dimension
        let valid = c.validCount
        let errors = normalizedError(c)
        var squared = 0.0, count = 0, maxAbs = 0.0
        for n in 1..<max(valid, 1) {
            for i in 0..<d {
                let e = c.error(n, i)
                squared += e * e
                count += 1
                maxAbs = max(maxAbs, abs(e))
            }
        }
        let rmse = count > 0 ? (squared / Double(count)).squareRoot() : 0
        let last = c.times.count - 1
        var relativeL2Final = Double.infinity
        if c.divergedIndex == nil {
            var num = 0.0, den = 0.0
            for i in 0..<d {
                let y = Normalization.reduced(c.reference[last * d + i], period: c.periods[i]), e = c.error(last, i)
                num += e * e
                den += y * y
            }
            relativeL2Final = (num / max(den, .leastNormalMagnitude)).squareRoot()
        }
        var errorsForVPT = errors
        if let diverged = c.divergedIndex { for n in diverged..<errorsForVPT.count { errorsForVPT[n] = .infinity } }
        let vpt = validPredictionTime(errors: errorsForVPT, times: c.times, threshold: threshold)

        func state(_ array: [Double], _ n: Int) -> [Double] { Array(array[(n * d)..<((n + 1) * d)]) }
        let initial = invariants(c.times[0], state(c.reference, 0))
        var drift = [Double](repeating: 0, count: initial.count)
        var referenceDrift = drift
        if !initial.isEmpty {
            for n in 0...last {
                let reference = invariants(c.times[n], state(c.reference, n))
                let predicted: [Double]? = n < valid ? invariants(c.times[n], state(c.predicted, n)) : nil
                for k in initial.indices {
                    let denominator = max(abs(initial[k]), 1e-300)
                    referenceDrift[k] = max(referenceDrift[k], abs(reference[k] - initial[k]) / denominator)
                    if let predicted { drift[k] = max(drift[k], abs(predicted[k] - initial[k]) / denominator) }
                }
            }
        }
        return TrajectoryMetrics(
            rmse: rmse, relativeL2Final: relativeL2Final, maxAbs: maxAbs,
            validPredictionTime: vpt.time, validPredictionCensored: vpt.censored,
            divergedAt: c.divergedIndex.map { c.times[$0] - c.times[0] },
            invariantDrift: drift, referenceInvariantDrift: referenceDrift)
    }
}
