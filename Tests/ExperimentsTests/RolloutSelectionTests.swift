// The rollout score that chooses a recurrent network's kept weights: its segments of the validation trajectories
// and its value for a stepper that is exact and for one that is not.
import Foundation
import Testing
@testable import Experiments

@Test func theScoreIsTheMeanVPTOfEvenlySpreadSegmentsCountingNoneThatLeaveTheirBox() throws {
    // y_n = 3n: the normalised increment is 0 (σ_Δ replaced by 1), so a stepper predicting 0 is exact.
    final class Constant: LearnedStepper {
        let g: Double
        init(_ g: Double) { self.g = g }
        var parameterCount: Int { 0 }
        func reset() {}
        func advance(_ z: [Double]) -> [Double] { [g] }
    }
    let n = 61, step = 0.1
    let validation = [Trajectory(states: (0..<n).map { 3 * Double($0) }, seconds: 0),
                      Trajectory(states: (0..<n).map { 3 * Double($0) + 1 }, seconds: 0)]
    let times = (0..<n).map { Double($0) * step }
    let normalization = Normalization.fit(trajectories: validation.map(\.states), dimension: 1)
    let selection = try #require(RolloutSelection(validation: validation, times: times, normalization: normalization,
                                                  warmUp: 10, last: 60, starts: 8))
    // The test rollouts predict rows 10 … 60 (51 steps); each segment is warmed up on 10 rows and predicts 26.
    #expect(selection.segments.count == 8)
    #expect(selection.segments.allSatisfy { $0.states.count == 36 && $0.times.count == 36 })
    // starts 0, 8, 16, 25: the first segment begins at row 0, the last ends at row 60
    #expect(selection.segments.prefix(4).map { $0.states[0] / 3 } == [0, 8, 16, 25])
    #expect(selection.segments[3].states.last == 180 && selection.segments[7].states.last == 181)
    #expect(selection.segments[5].times.first == 0.8)
    // each run is as long as a test rollout: 10 warm-up rows and 51 rolled out, times spaced on past the segment
    #expect(selection.runs.allSatisfy { $0.states.count == 61 && $0.times.count == 61 })
    #expect(abs(selection.runs[3].times.last! - (25 + 60) * step) < 1e-9 && selection.runs[3].states.last == 180)
    // exact: every rollout lasts its whole segment, 26 steps
    let exact = selection.score(Constant(0))
    #expect(abs(exact.validTime - 26 * step) < 1e-12 && exact.complete)
    // a constant drift of 2 (σ_Δ = 1) per step: E(t_r) = 2r / σ_y with σ_y ≈ 52.8 crosses the threshold 0.4
    // at r = 11, long before the segment ends (r = 26)
    let drifting = selection.score(Constant(2))
    #expect(drifting.validTime < exact.validTime && drifting.validTime > 0 && !drifting.complete)
    // exact over every segment, then out of the box at the 31st rolled-out step (past the segment's 26, within
    // the test rollout's 51): worth nothing, and not complete
    final class Unbinding: LearnedStepper {
        var calls = 0
        var parameterCount: Int { 0 }
        func reset() { calls = 0 }
        func advance(_ z: [Double]) -> [Double] { calls += 1; return [calls > 10 + 29 ? 1e6 : 0] }
    }
    let unbinding = selection.score(Unbinding())
    #expect(unbinding.validTime == 0 && !unbinding.complete)
    // nothing to roll out, or no validation trajectory: no score
    #expect(RolloutSelection(validation: [], times: times, normalization: normalization, warmUp: 10, last: 60) == nil)
    #expect(RolloutSelection(validation: validation, times: times, normalization: normalization, warmUp: 60, last: 60) == nil)
}
