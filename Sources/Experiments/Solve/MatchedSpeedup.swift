// Accuracy-matched speed-up: GSL timed at the loosest tolerance of a ladder (1e-2, 1e-3, … down to the reference's)
// whose error at the horizon is no larger than the learned rollout's, instead of at the reference's tight tolerance.
import Foundation
import Problems
import Reference

public enum ToleranceLadder {
    /// The relative tolerances tried, loosest first: every power of ten from 1e-2 that is looser than `tightest`,
    /// then `tightest` itself (the reference's relative tolerance). Only `tightest` when it is 1e-2 or looser.
    public static func rungs(tightest: Double) -> [Double] {
        precondition(tightest > 0 && tightest.isFinite)
        var rungs: [Double] = []
        var exponent = 2
        while true {
            let rung = pow(10, -Double(exponent))
            guard rung > tightest * (1 + 1e-9) else { break }
            rungs.append(rung)
            exponent += 1
        }
        return rungs + [tightest]
    }

    /// The index of the loosest rung whose error is no larger than `modelError`, trying the rungs in order
    /// (loosest first) and stopping at the first that qualifies; the last (tightest) rung when none does.
    /// `error(i)` is rung i's error, nil when its solve failed (such a rung never qualifies). The last rung's
    /// error is never asked for: it is the fallback whatever it is.
    public static func matchingRung(count: Int, modelError: Double, error: (Int) -> Double?) -> Int {
        precondition(count >= 1)
        for index in 0..<(count - 1) {
            if let e = error(index), e <= modelError { return index }
        }
        return count - 1
    }

    /// ‖y − y_ref‖₂ / ‖y_ref‖₂: the norm of `rel_l2_final`.
    public static func relativeError(_ state: ArraySlice<Double>, reference: ArraySlice<Double>) -> Double {
        precondition(state.count == reference.count)
        var num = 0.0, den = 0.0
        for (y, r) in zip(state, reference) {
            num += (y - r) * (y - r)
            den += r * r
        }
        return (num / max(den, .leastNormalMagnitude)).squareRoot()
    }

    /// The result of matching one rollout: the rung's relative tolerance and GSL's wall time at it.
    public struct Match: Sendable, Equatable {
        public var tolerance: Double
        public var seconds: Double
    }

    /// Solves `system` from `initial` over `times` (output every `step`) at each rung looser than the reference
    /// tolerance in turn, until one ends within `modelError` of `referenceFinal` (relative 2-norm); falls back to
    /// the reference tolerance and its measured `referenceSeconds`. A rung's absolute tolerance keeps the
    /// reference's ratio absolute/relative.
    public static func match(system: ODESystem, initial: [Double], from start: Double, to end: Double, step: Double,
                             stepper: StepperKind, reference: Tolerances, referenceSeconds: Double,
                             referenceFinal: ArraySlice<Double>, modelError: Double) -> Match {
        let rungs = rungs(tightest: reference.relative)
        var seconds = [Double](repeating: .nan, count: rungs.count)
        seconds[rungs.count - 1] = referenceSeconds
        let ratio = reference.absolute / reference.relative
        let chosen = matchingRung(count: rungs.count, modelError: modelError) { index in
            let tolerances = Tolerances(absolute: rungs[index] * ratio, relative: rungs[index])
            let run = solve(system, initial: initial, from: start, to: end, outputStep: step, stepper: stepper, tolerances: tolerances)
            guard run.failure == nil, let lastTime = run.times.last, abs(lastTime - end) <= step * 1e-6 else { return nil }
            seconds[index] = run.statistics.seconds
            return relativeError(run.state(run.times.count - 1), reference: referenceFinal)
        }
        return Match(tolerance: rungs[chosen], seconds: seconds[chosen])
    }
}
