// Z-scoring with training statistics: states y ↦ (y − μ)/σ, increments Δy ↦ (Δy − μ_Δ)/σ_Δ, per component,
// plus the training range (part of the divergence box). Computed from the training trajectories only. An angle
// (a component with a period P) is reduced to [−P/2, P/2) before it is z-scored, so a model sees the same input
// for the same configuration however many turns the trajectory has made; its increments are the unwrapped ones.
import Foundation

public struct Normalization: Codable, Equatable, Sendable {
    public var stateMean: [Double]
    public var stateScale: [Double]
    public var incrementMean: [Double]
    public var incrementScale: [Double]
    public var minimum: [Double]
    public var maximum: [Double]
    /// Per component, the period P of an angle; 0 for a component that is not periodic.
    public var periods: [Double]
    /// The period of the external drive; 0 for an autonomous problem.
    public var forcingPeriod: Double = 0

    /// Inputs of the models: the state's d components, plus the drive's phase (2) when there is one.
    public var inputSize: Int { dimension + (forcingPeriod > 0 ? 2 : 0) }

    /// The model input at time t: z(y) (`z`, angles reduced), then sin(2πt/P) and cos(2πt/P) of the drive when it
    /// has a period P; `inputSize` values written from `input`.
    @inline(__always)
    public func modelInput(_ y: UnsafePointer<Double>, time t: Double, into input: UnsafeMutablePointer<Double>) {
        for i in 0..<dimension { input[i] = z(y[i], i) }
        if forcingPeriod > 0 {
            let phase = 2 * Double.pi * t / forcingPeriod
            input[dimension] = sin(phase)
            input[dimension + 1] = cos(phase)
        }
    }

    public var dimension: Int { stateMean.count }

    /// y reduced to [−P/2, P/2) for a component of period P > 0, else y: y − P·⌊y/P + 1/2⌋.
    @inline(__always)
    public static func reduced(_ y: Double, period: Double) -> Double {
        period > 0 ? y - period * (y / period + 0.5).rounded(.down) : y
    }

    /// z_i = (y_i reduced − μ_i)/σ_i.
    @inline(__always)
    public func z(_ y: Double, _ i: Int) -> Double { (Normalization.reduced(y, period: periods[i]) - stateMean[i]) / stateScale[i] }

    /// Means and (population) standard deviations of the states and of the one-step increments y_{n+1} − y_n over
    /// every training trajectory (row-major (steps, d)); a zero deviation is replaced by 1. A component with a
    /// period in `periods` has its state moments taken over the reduced angle, its increments and range unwrapped.
    /// `forcingPeriod`: the drive's period, recorded for `modelInput` (nil: autonomous).
    public static func fit(trajectories: [[Double]], dimension d: Int, periods: [Double?]? = nil,
                           forcingPeriod: Double? = nil) -> Normalization {
        precondition(periods == nil || periods!.count == d)
        let period = periods?.map { $0 ?? 0 } ?? [Double](repeating: 0, count: d)
        var sum = [Double](repeating: 0, count: d), sumSquares = sum, incrementSum = sum, incrementSquares = sum
        var minimum = [Double](repeating: .infinity, count: d), maximum = [Double](repeating: -.infinity, count: d)
        var states = 0, increments = 0
        for trajectory in trajectories {
            let rows = trajectory.count / d
            for n in 0..<rows {
                for i in 0..<d {
                    let y = trajectory[n * d + i], r = reduced(y, period: period[i])
                    sum[i] += r; sumSquares[i] += r * r
                    minimum[i] = min(minimum[i], y); maximum[i] = max(maximum[i], y)
                    if n + 1 < rows {
                        let delta = trajectory[(n + 1) * d + i] - y
                        incrementSum[i] += delta; incrementSquares[i] += delta * delta
                    }
                }
            }
            states += rows
            increments += max(rows - 1, 0)
        }
        func moments(_ s: [Double], _ ss: [Double], _ count: Int) -> ([Double], [Double]) {
            let n = Double(max(count, 1))
            let mean = s.map { $0 / n }
            let scale = zip(ss, mean).map { ss, m in
                let variance = max(ss / n - m * m, 0)
                let sd = variance.squareRoot()
                return sd > 1e-300 && sd > 1e-12 * abs(m) ? sd : 1
            }
            return (mean, scale)
        }
        let (stateMean, stateScale) = moments(sum, sumSquares, states)
        let (incrementMean, incrementScale) = moments(incrementSum, incrementSquares, increments)
        var fitted = Normalization(stateMean: stateMean, stateScale: stateScale, incrementMean: incrementMean,
                                   incrementScale: incrementScale, minimum: minimum, maximum: maximum, periods: period)
        fitted.forcingPeriod = forcingPeriod ?? 0
        return fitted
    }

    /// Statistics pooled over the sites of each array of `layout` (for one model shared by every patch): each
    /// component of an array gets the mean and deviation of all its sites together (σ² = mean of σ_i² + μ_i², less
    /// the pooled mean squared), and the range of all of them.
    public func pooled(over layout: SiteLayout) -> Normalization {
        var pooled = self
        func pool(_ mean: [Double], _ scale: [Double], _ columns: [Int], into m: inout [Double], _ s: inout [Double]) {
            let count = Double(columns.count)
            let mu = columns.reduce(0) { $0 + mean[$1] } / count
            let second = columns.reduce(0) { $0 + scale[$1] * scale[$1] + mean[$1] * mean[$1] } / count
            let sd = max(second - mu * mu, 0).squareRoot()
            for i in columns { m[i] = mu; s[i] = sd > 1e-300 && sd > 1e-12 * abs(mu) ? sd : 1 }
        }
        for a in layout.arrays {
            let columns = Array(a.offset..<(a.offset + a.count))
            pool(stateMean, stateScale, columns, into: &pooled.stateMean, &pooled.stateScale)
            pool(incrementMean, incrementScale, columns, into: &pooled.incrementMean, &pooled.incrementScale)
            let low = columns.map { minimum[$0] }.min()!, high = columns.map { maximum[$0] }.max()!
            for i in columns { pooled.minimum[i] = low; pooled.maximum[i] = high }
            // Sites of one array share its period (one `[periodic]` entry per variable).
        }
        return pooled
    }

    /// z = (y − μ)/σ (angles reduced first), written into `z`.
    @inline(__always)
    public func normalizeState(_ y: UnsafePointer<Double>, into z: inout [Double]) {
        for i in 0..<dimension { z[i] = self.z(y[i], i) }
    }

    public func normalizedState(_ y: [Double]) -> [Double] {
        (0..<dimension).map { z(y[$0], $0) }
    }

    /// g = (Δy − μ_Δ)/σ_Δ.
    public func normalizedIncrement(_ delta: [Double]) -> [Double] {
        (0..<dimension).map { (delta[$0] - incrementMean[$0]) / incrementScale[$0] }
    }

    /// Δy = μ_Δ + σ_Δ g.
    public func increment(fromNormalized g: [Double]) -> [Double] {
        (0..<dimension).map { incrementMean[$0] + incrementScale[$0] * g[$0] }
    }

    /// As checkpoint metadata arrays (`period` only when a component is periodic, so that other checkpoints keep
    /// their old form).
    public var metadata: [String: [Double]] {
        var m = ["state_mean": stateMean, "state_scale": stateScale, "increment_mean": incrementMean,
                 "increment_scale": incrementScale, "minimum": minimum, "maximum": maximum]
        if periods.contains(where: { $0 > 0 }) { m["period"] = periods }
        if forcingPeriod > 0 { m["forcing_period"] = [forcingPeriod] }
        return m
    }

    /// From checkpoint metadata arrays; nil when any is missing or the lengths disagree. No `period`: none periodic.
    public init?(metadata: [String: [Double]]) {
        guard let a = metadata["state_mean"], let b = metadata["state_scale"], let c = metadata["increment_mean"],
              let d = metadata["increment_scale"], let e = metadata["minimum"], let f = metadata["maximum"],
              Set([a.count, b.count, c.count, d.count, e.count, f.count, metadata["period"]?.count ?? a.count]).count == 1,
              metadata["period"]?.allSatisfy({ $0 >= 0 && $0.isFinite }) ?? true else { return nil }
        self.init(stateMean: a, stateScale: b, incrementMean: c, incrementScale: d, minimum: e, maximum: f,
                  periods: metadata["period"])
        if let forcing = metadata["forcing_period"] {
            guard forcing.count == 1, forcing[0] > 0, forcing[0].isFinite else { return nil }
            forcingPeriod = forcing[0]
        }
    }

    /// `periods` nil: no component is periodic.
    public init(stateMean: [Double], stateScale: [Double], incrementMean: [Double], incrementScale: [Double],
                minimum: [Double], maximum: [Double], periods: [Double]? = nil) {
        self.stateMean = stateMean; self.stateScale = stateScale; self.incrementMean = incrementMean
        self.incrementScale = incrementScale; self.minimum = minimum; self.maximum = maximum
        self.periods = periods ?? [Double](repeating: 0, count: stateMean.count)
        precondition(self.periods.count == stateMean.count)
    }

    /// Whether any component is an angle.
    public var hasPeriodicComponents: Bool { periods.contains { $0 > 0 } }
}
