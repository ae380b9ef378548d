// Autoregressive rollout of a learned stepper from a reference warm-up, with divergence detection.
import Foundation

public struct Rollout: Sendable {
    /// Row-major (R + 1, d): row 0 is the last warm-up state y_{s−1}, row r the prediction of y_{s−1+r};
    /// non-finite from `divergedIndex` on.
    public var predicted: [Double]
    /// First row that was non-finite or outside the allowed box; nil when none.
    public var divergedIndex: Int?
    public var seconds: Double
}

public enum RolloutRunner {
    /// Warms `stepper` up on reference states y_0 … y_{s−1} (rows of `reference`, row-major (N, d)), then
    /// iterates ŷ_{n+1} = ŷ_n + μ_Δ + σ_Δ ĝ_n, feeding back its own prediction, up to row `last` (inclusive).
    /// Stops at the first state that is non-finite or outside `[lower, upper]`, filling the rest with NaN.
    /// s is the subject's common evaluation start (at least the model's window k: a windowed model sees the last
    /// k of them, a recurrent one runs over all s), so every model is scored over the same rows s−1 … last.
    /// `times[n]` is row n's time; only a driven problem's inputs (the drive's phase) need it.
    public static func run(_ stepper: LearnedStepper, reference: [Double], dimension d: Int, warmUp k: Int, last: Int,
                           normalization: Normalization, lower: [Double], upper: [Double], times: [Double]? = nil) -> Rollout {
        precondition(k >= 1 && last >= k && reference.count >= (last + 1) * d)
        precondition(normalization.forcingPeriod == 0 || (times?.count ?? 0) > last, "a driven problem's rollout needs the times")
        let clock = ContinuousClock()
        let started = clock.now
        let steps = last - (k - 1)
        var predicted = [Double](repeating: .nan, count: (steps + 1) * d)
        stepper.reset()
        var g: [Double] = []
        var z = [Double](repeating: 0, count: normalization.inputSize)
        reference.withUnsafeBufferPointer { y in
            for n in 0..<k {
                z.withUnsafeMutableBufferPointer { normalization.modelInput(y.baseAddress! + n * d, time: times?[n] ?? 0, into: $0.baseAddress!) }
                g = stepper.advance(z)
            }
        }
        var current = Array(reference[((k - 1) * d)..<(k * d)])
        for i in 0..<d { predicted[i] = current[i] }
        var diverged: Int?
        for r in 1...steps {
            var outside = false
            for i in 0..<d {
                current[i] += normalization.incrementMean[i] + normalization.incrementScale[i] * g[i]
                if !current[i].isFinite || current[i] < lower[i] || current[i] > upper[i] { outside = true }
            }
            if outside { diverged = r; break }
            for i in 0..<d { predicted[r * d + i] = current[i] }
            if r < steps {
                current.withUnsafeBufferPointer { y in
                    z.withUnsafeMutableBufferPointer { normalization.modelInput(y.baseAddress!, time: times?[k - 1 + r] ?? 0, into: $0.baseAddress!) }
                }
                g = stepper.advance(z)
            }
        }
        let elapsed = clock.now - started
        return Rollout(predicted: predicted, divergedIndex: diverged, seconds: secondsElapsed(elapsed))
    }
}

extension Duration {
    /// The duration in seconds as a double.
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

/// A duration in seconds, as a double.
func secondsElapsed(_ duration: Duration) -> Double { duration.seconds }
