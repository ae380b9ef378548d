// Which weights of a recurrent network's training are kept: scored by how they roll out on the validation
// trajectories, because a lower one-step loss does not buy a longer rollout.
import Foundation
import Problems
import Recurrent

/// The score of a learned stepper on the validation trajectories from many starts:
///
///     score = (1/S) Σ_j VPT_j · [run j stays in its box for R steps],
///
/// VPT_j the valid prediction time (`Metrics`, at the default threshold) of segment j: the stepper is warmed up
/// on s reference states from row o_j of a validation trajectory, then rolls out L = ⌈(N − s)/2⌉ steps, where
/// the test rollouts are warmed up on rows 0 … s−1 and roll out to row N = `last`. The same rollout is run on to
/// R = N − s + 1 steps, as long as a test rollout, with no reference past the segment: a run that leaves its
/// trajectory's allowed box (`Metrics.allowedBox`, what calls a test rollout diverged) or turns non-finite in
/// that time scores 0, however long it stayed valid. A VPT alone is settled within the first few time units, so
/// weights whose rollouts unbind an orbit after it scored as well as weights whose rollouts stay on it. The score is complete when every
/// segment's rollout stays valid to its end and every run stays in its box (the oscillator's, say): no weights
/// can score longer. The starts o_j are spread evenly over 0 … N − s − L, ⌈`starts` / trajectories⌉ of them per
/// trajectory (at least 2), so the score averages over many initial conditions (one VPT of one trajectory is too
/// noisy to rank weights by) and never reads the test split.
public struct RolloutSelection {
    /// The long runs, row-major (s + R, d) with their output times: each begins with its segment of a validation
    /// trajectory, s + L rows; past the segment the rows are its last repeated (only the warm-up rows are read as
    /// inputs) and the times are spaced as its last two (a driven model reads the drive's phase at them).
    let runs: [(states: [Double], times: [Double])]
    /// s + L: the rows of a segment, the head of its run.
    let segmentRows: Int
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
        var runs: [(states: [Double], times: [Double])] = [], boxes: [(lower: [Double], upper: [Double])] = []
        let perTrajectory = max(2, (starts + validation.count - 1) / validation.count)
        for trajectory in validation where trajectory.states.count >= (last + 1) * d {
            // The divergence box of the whole trajectory, as the test rollouts have theirs.
            let box = Metrics.allowedBox(normalization: normalization, reference: trajectory.states, dimension: d, last: last)
            for j in 0..<perTrajectory {
                let o = j * (span - length) / (perTrajectory - 1)
                let segment = (states: Array(trajectory.states[(o * d)..<((o + s + length) * d)]), times: Array(times[o..<(o + s + length)]))
                runs.append(Self.extended(segment, toRows: s + span, dimension: d))
                boxes.append(box)
            }
        }
        guard !runs.isEmpty else { return nil }
        self.runs = runs; segmentRows = s + length; self.boxes = boxes; warmUp = s; self.normalization = normalization; dimension = d
    }

    /// The mean VPT (time units) of the stepper's rollouts of every segment, counting 0 for a rollout that leaves
    /// its box within R steps.
    public func score(_ stepper: LearnedStepper) -> RolloutScore {
        let d = dimension, s = warmUp
        let last = segmentRows - 1, runLast = runs[0].states.count / d - 1
        // A driven model reads the drive's phase at each run's own times: one run per call.
        let rollouts = normalization.forcingPeriod == 0
            ? BatchedRolloutRunner.run(stepper, references: runs.map(\.states), dimension: d, warmUp: s, last: runLast,
                                       normalization: normalization, boxes: boxes)
            : zip(runs, boxes).flatMap { run, box in
                BatchedRolloutRunner.run(stepper, references: [run.states], dimension: d, warmUp: s, last: runLast,
                                         normalization: normalization, boxes: [box], times: run.times)
            }
        // The segment's part of each rollout, rows s−1 … last, against the segment (the head of its run).
        let rows = last - s + 2
        let scored = zip(runs, rollouts).map { run, rollout in
            let part = Rollout(predicted: Array(rollout.predicted[..<(rows * d)]),
                               divergedIndex: rollout.divergedIndex.flatMap { $0 < rows ? $0 : nil }, seconds: rollout.seconds)
            let metrics = Metrics.evaluate(RolloutComparison(reference: run.states, times: run.times, rollout: part,
                                                             warmUp: s, last: last, normalization: normalization))
            return (metrics: metrics, bounded: rollout.divergedIndex == nil)
        }
        return RolloutScore(validTime: scored.map { $0.bounded ? $0.metrics.validPredictionTime : 0 }.reduce(0, +) / Double(scored.count),
                            complete: scored.allSatisfy { $0.bounded && $0.metrics.validPredictionCensored })
    }

    /// The segments of the validation trajectories, each row-major (s + L, d), with their output times.
    var segments: [(states: [Double], times: [Double])] {
        runs.map { (Array($0.states[..<(segmentRows * dimension)]), Array($0.times[..<segmentRows])) }
    }

    /// `segment` with rows up to `rows`: its last row repeated, times spaced as its last two.
    static func extended(_ segment: (states: [Double], times: [Double]), toRows rows: Int, dimension d: Int)
        -> (states: [Double], times: [Double]) {
        var (states, times) = segment
        let lastRow = Array(states[(states.count - d)...])
        let step = times.count >= 2 ? times[times.count - 1] - times[times.count - 2] : 0
        while times.count < rows {
            states += lastRow
            times.append(times[times.count - 1] + step)
        }
        return (states, times)
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
