// Which weights of a recurrent network's training are kept: scored by how they roll out on the validation
// trajectories, because a lower one-step loss does not buy a longer rollout.
import Foundation
import Problems
import Recurrent

/// The score of a learned stepper on the validation trajectories from many starts:
///
///     score = (1/S) Σ_j VPT_j,
///
/// VPT_j the valid prediction time (`Metrics`, at the default threshold) of segment j: the stepper is warmed up
/// on s reference states from row o_j of a validation trajectory, then rolls out L = ⌈(N − s)/2⌉ steps, where
/// the test rollouts are warmed up on rows 0 … s−1 and roll out to row N = `last`. The score is complete when
/// every segment's rollout stays valid to its end (the oscillator's, say): no weights can score longer. The
/// starts o_j are spread evenly over 0 … N − s − L, ⌈`starts` / trajectories⌉ of them per trajectory (at least
/// 2), so the score averages over many initial conditions (one VPT of one trajectory is too noisy to rank weights
/// by) and never reads the test split.
public struct RolloutSelection {
    /// Segments of the validation trajectories, each row-major (s + L, d), with their output times.
    let segments: [(states: [Double], times: [Double])]
    let boxes: [(lower: [Double], upper: [Double])]
    let warmUp: Int
    let normalization: Normalization
    let dimension: Int

    /// Starts over all validation trajectories.
    public static let defaultStarts = 16

    /// Nil when there is no validation trajectory or nothing to roll out after the warm-up.
    public init?(validation: [Trajectory], times: [Double], normalization: Normalization, warmUp s: Int, last: Int,
                 starts: Int = RolloutSelection.defaultStarts) {
        let d = normalization.dimension, span = last - s + 1
        guard !validation.isEmpty, s >= 1, span >= 2, starts >= 2, times.count > last else { return nil }
        let length = (span + 1) / 2
        var segments: [(states: [Double], times: [Double])] = [], boxes: [(lower: [Double], upper: [Double])] = []
        let perTrajectory = max(2, (starts + validation.count - 1) / validation.count)
        for trajectory in validation where trajectory.states.count >= (last + 1) * d {
            // The divergence box of the whole trajectory, as the test rollouts have theirs.
            let box = Metrics.allowedBox(normalization: normalization, reference: trajectory.states, dimension: d, last: last)
            for j in 0..<perTrajectory {
                let o = j * (span - length) / (perTrajectory - 1)
                segments.append((Array(trajectory.states[(o * d)..<((o + s + length) * d)]), Array(times[o..<(o + s + length)])))
                boxes.append(box)
            }
        }
        guard !segments.isEmpty else { return nil }
        self.segments = segments; self.boxes = boxes; warmUp = s; self.normalization = normalization; dimension = d
    }

    /// The mean VPT (time units) of the stepper's rollouts of every segment.
    public func score(_ stepper: LearnedStepper) -> RolloutScore {
        let d = dimension, s = warmUp
        let last = segments[0].states.count / d - 1
        // A driven model reads the drive's phase at each segment's own times: one segment per call.
        let rollouts = normalization.forcingPeriod == 0
            ? BatchedRolloutRunner.run(stepper, references: segments.map(\.states), dimension: d, warmUp: s, last: last,
                                       normalization: normalization, boxes: boxes)
            : zip(segments, boxes).flatMap { segment, box in
                BatchedRolloutRunner.run(stepper, references: [segment.states], dimension: d, warmUp: s, last: last,
                                         normalization: normalization, boxes: [box], times: segment.times)
            }
        let metrics = zip(segments, rollouts).map { segment, rollout in
            Metrics.evaluate(RolloutComparison(reference: segment.states, times: segment.times, rollout: rollout, warmUp: s,
                                               last: last, normalization: normalization))
        }
        return RolloutScore(validTime: metrics.map(\.validPredictionTime).reduce(0, +) / Double(metrics.count),
                            complete: metrics.allSatisfy(\.validPredictionCensored))
    }
}

extension RolloutSelection {
    /// The selection of a cell: a recurrent network of the whole state kept by `--select-by vpt`, with validation
    /// trajectories, scored over the span its test rollouts are (warm-up `--eval-start`, the horizon); else nil.
    static func of(_ c: SolveConfiguration, problem: Problem, data: TrajectoryData, normalization: Normalization) -> RolloutSelection? {
        guard c.model.isRecurrentNetwork, c.selection == .vpt, c.parallel == nil else { return nil }
        let horizon = c.horizon ?? (problem.time.end - problem.time.start)
        return RolloutSelection(validation: data.validation, times: data.times, normalization: normalization,
                                warmUp: c.evaluationStart, last: SolvePipeline.lastIndex(horizon: horizon, problem: problem))
    }
}
