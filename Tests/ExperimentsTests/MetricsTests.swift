// Known-answer tests of the solve metrics: VPT of a prescribed error curve, censoring, divergence, quartiles,
// invariant drift, and the normalisation statistics.
import Foundation
import Problems
import Testing
@testable import Experiments
import Support

/// A 1-D comparison with reference 0 and prediction e(t_n) = errors[n] · σ, so E(t_n) = |errors[n]|.
private func comparison(errors: [Double], step: Double = 0.1, scale: Double = 2, diverged: Int? = nil) -> RolloutComparison {
    let times = errors.indices.map { Double($0) * step + 5 }
    var predicted = errors.map { $0 * scale }
    if let diverged { for n in diverged..<predicted.count { predicted[n] = .nan } }
    return RolloutComparison(dimension: 1, times: times, reference: [Double](repeating: 0, count: errors.count),
                             predicted: predicted, divergedIndex: diverged, scale: [scale])
}

@Test func validPredictionTimeIsTheFirstTimeTheErrorExceedsTheThreshold() {
    // E grows as 0.01·2^n: 0.01, 0.02, …, 0.32, 0.64 → first above 0.4 at n = 6.
    let errors = (0..<10).map { 0.01 * pow(2, Double($0)) }
    let m = Metrics.evaluate(comparison(errors: errors))
    #expect(abs(m.validPredictionTime - 0.6) < 1e-12)
    #expect(!m.validPredictionCensored)
    #expect(m.divergedAt == nil)
}

@Test func validPredictionTimeIsCensoredAtTheHorizon() {
    let m = Metrics.evaluate(comparison(errors: [0, 0.1, 0.2, 0.3, 0.39]))
    #expect(m.validPredictionCensored)
    #expect(abs(m.validPredictionTime - 0.4) < 1e-12)
}

@Test func errorIsTheScaledRootMeanSquareOverComponents() {
    // d = 2, σ = (1, 2): errors (0.3, 0.8) → E = sqrt((0.09 + 0.16)/2).
    let c = RolloutComparison(dimension: 2, times: [0, 1], reference: [1, 1, 1, 1], predicted: [1, 1, 1.3, 1.8],
                              divergedIndex: nil, scale: [1, 2])
    let e = Metrics.normalizedError(c)
    #expect(e[0] == 0)
    #expect(abs(e[1] - (0.25 / 2).squareRoot()) < 1e-15)
    let m = Metrics.evaluate(c)
    #expect(abs(m.rmse - ((0.09 + 0.64) / 2).squareRoot()) < 1e-12)
    #expect(abs(m.maxAbs - 0.8) < 1e-12)
    #expect(abs(m.relativeL2Final - ((0.09 + 0.64) / 2).squareRoot()) < 1e-12)
}

@Test func divergenceEndsTheValidTimeAndMarksTheMetrics() {
    // Small error, then the rollout leaves the box at row 4.
    let errors = [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
    let m = Metrics.evaluate(comparison(errors: errors, diverged: 4))
    #expect(m.divergedAt.map { abs($0 - 0.4) < 1e-12 } == true)
    #expect(abs(m.validPredictionTime - 0.4) < 1e-12)
    #expect(!m.validPredictionCensored)
    #expect(m.relativeL2Final == .infinity)
    // rmse and max_abs use rows 1…3 only (errors·σ = 0.02, 0.04, 0.06).
    #expect(abs(m.maxAbs - 0.06) < 1e-12)
    #expect(abs(m.rmse - ((0.0004 + 0.0016 + 0.0036) / 3).squareRoot()) < 1e-12)
}

@Test func divergenceIndexFindsNonFiniteAndOutOfBoxStates() {
    let box = Metrics.allowedBox(minimum: [-1, 0], maximum: [1, 2])
    #expect(box.lower == [-10, -9] && box.upper == [10, 11])
    #expect(Metrics.divergenceIndex(predicted: [0, 1, 5, 5, 9.9, 10.9], dimension: 2, lower: box.lower, upper: box.upper) == nil)
    #expect(Metrics.divergenceIndex(predicted: [0, 1, 5, 11.5, 0, 0], dimension: 2, lower: box.lower, upper: box.upper) == 1)
    #expect(Metrics.divergenceIndex(predicted: [0, 1, 0, 0, .nan, 0], dimension: 2, lower: box.lower, upper: box.upper) == 2)
}

@Test func theAllowedBoxCoversTheReferenceAsWellAsTheTrainingRange() {
    // Training data in [0, 1]; a reference that rotates away to 50 (as a pendulum's θ does).
    let normalization = Normalization.fit(trajectories: [[0, 0.5, 1]], dimension: 1)
    let reference = (0...50).map(Double.init)
    let box = Metrics.allowedBox(normalization: normalization, reference: reference, dimension: 1, last: 50)
    #expect(box.lower == [25 - 250] && box.upper == [25 + 250])
    // Only rows 0 … last count.
    let early = Metrics.allowedBox(normalization: normalization, reference: reference, dimension: 1, last: 1)
    #expect(early.lower == [0.5 - 5] && early.upper == [0.5 + 5])
    // A stepper that reproduces the reference's unit increments follows it past 10× the training range without
    // being called diverged; against the training range alone it would have been stopped at 5.5.
    final class Unit: LearnedStepper {
        let normalization: Normalization
        init(_ n: Normalization) { normalization = n }
        var parameterCount: Int { 0 }
        func reset() {}
        func advance(_ z: [Double]) -> [Double] { [(1 - normalization.incrementMean[0]) / normalization.incrementScale[0]] }
    }
    let following = RolloutRunner.run(Unit(normalization), reference: reference, dimension: 1, warmUp: 2, last: 50,
                                      normalization: normalization, lower: box.lower, upper: box.upper)
    #expect(following.divergedIndex == nil)
    #expect(zip(following.predicted, reference[1...]).allSatisfy { abs($0 - $1) < 1e-12 })
    let trainingOnly = Metrics.allowedBox(minimum: normalization.minimum, maximum: normalization.maximum)
    let stopped = RolloutRunner.run(Unit(normalization), reference: reference, dimension: 1, warmUp: 2, last: 50,
                                    normalization: normalization, lower: trainingOnly.lower, upper: trainingOnly.upper)
    #expect(stopped.divergedIndex == 5)
}

@Test func rolloutStopsAtDivergenceWithoutCrashing() {
    // A stepper that always predicts a huge increment leaves the box on its first step.
    final class Exploding: LearnedStepper {
        var parameterCount: Int { 0 }
        func reset() {}
        func advance(_ z: [Double]) -> [Double] { [1e300] }
    }
    let normalization = Normalization.fit(trajectories: [[0, 1, 2, 3]], dimension: 1)
    let box = Metrics.allowedBox(minimum: normalization.minimum, maximum: normalization.maximum)
    let rollout = RolloutRunner.run(Exploding(), reference: [0, 1, 2, 3, 4, 5], dimension: 1, warmUp: 2, last: 5,
                                    normalization: normalization, lower: box.lower, upper: box.upper)
    #expect(rollout.divergedIndex == 1)
    #expect(rollout.predicted[0] == 1)
    #expect(rollout.predicted.dropFirst().allSatisfy { $0.isNaN })
}

@Test func rolloutOfThePerfectIncrementReproducesALinearTrajectory() {
    // Reference y_n = 3n: the increment is constant 3, so the normalised increment is 0 (σ_Δ replaced by 1).
    final class Zero: LearnedStepper {
        var parameterCount: Int { 0 }
        func reset() {}
        func advance(_ z: [Double]) -> [Double] { [0] }
    }
    let reference = (0..<20).map { 3 * Double($0) }
    let normalization = Normalization.fit(trajectories: [reference], dimension: 1)
    #expect(normalization.incrementMean == [3] && normalization.incrementScale == [1])
    let rollout = RolloutRunner.run(Zero(), reference: reference, dimension: 1, warmUp: 4, last: 19,
                                    normalization: normalization, lower: [-1e9], upper: [1e9])
    #expect(rollout.divergedIndex == nil)
    #expect(rollout.predicted == Array(reference[3...]))
}

@Test func quantilesInterpolateLikeNumPy() {
    let values = [7.0, 1, 3, 5]
    #expect(median(values) == 4)
    #expect(quantile(values, 0.25) == 2.5)
    #expect(quantile(values, 0.75) == 5.5)
    #expect(median([1, .infinity, .infinity]) == .infinity)
    #expect(median([]).isNaN)
}

@Test func invariantDriftIsTheLargestRelativeChange() {
    // Invariant I = y; reference constant 2, prediction 2, 2.1, 1.8 → drift 0.1.
    let c = RolloutComparison(dimension: 1, times: [0, 1, 2], reference: [2, 2, 2], predicted: [2, 2.1, 1.8],
                              divergedIndex: nil, scale: [1])
    let m = Metrics.evaluate(c) { _, y in [y[0]] }
    #expect(abs(m.invariantDrift[0] - 0.1) < 1e-12)
    #expect(m.referenceInvariantDrift[0] == 0)
}

@Test func normalisationUsesTrainingMomentsOfStatesAndIncrements() {
    // Two 2-D trajectories; component 0 = 0,2,4 and 6,8 (mean 4, population sd sqrt(8)); component 1 constant.
    let n = Normalization.fit(trajectories: [[0, 5, 2, 5, 4, 5], [6, 5, 8, 5]], dimension: 2)
    #expect(n.stateMean == [4, 5])
    #expect(abs(n.stateScale[0] - 8.0.squareRoot()) < 1e-12)
    #expect(n.stateScale[1] == 1)
    #expect(n.incrementMean == [2, 0] && n.incrementScale == [1, 1])
    #expect(n.minimum == [0, 5] && n.maximum == [8, 5])
    #expect(Normalization(metadata: n.metadata) == n)
    let z = n.normalizedState([4 + 8.0.squareRoot(), 5])
    #expect(abs(z[0] - 1) < 1e-12 && z[1] == 0)
}

@Test func splitMixStreamsAreDeterministicAndIndependent() {
    var a = SplitMix64.stream("trajectories/test", seed: 1), b = SplitMix64.stream("trajectories/test", seed: 1)
    var c = SplitMix64.stream("trajectories/train", seed: 1)
    let x = (0..<4).map { _ in a.next() }, y = (0..<4).map { _ in b.next() }, z = (0..<4).map { _ in c.next() }
    #expect(x == y && x != z)
    // Reference value of SplitMix64 seeded with 0 (first output).
    var zero = SplitMix64(seed: 0)
    #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
}

@Test func overridesParseNameEqualsValue() {
    #expect(ParameterOverride(parsing: "rho=28") == ParameterOverride(name: "rho", value: 28))
    #expect(ParameterOverride(parsing: " x_0 = -1.5e-3 ") == ParameterOverride(name: "x_0", value: -1.5e-3))
    #expect(ParameterOverride(parsing: "rho") == nil)
    #expect(ParameterOverride(parsing: "=3") == nil)
    #expect(ParameterOverride(parsing: "rho=abc") == nil)
    #expect(ParameterOverride(parsing: "rho=nan") == nil)
}

@Test func linearStepperShiftsItsWindow() {
    // k = 2, d = 1, W = [a_old, a_new, b] = [1, 10, 100]: ĝ = z_{n−1} + 10 z_n + 100.
    let model = LinearAutoregressiveStepper(window: 2, dimension: 1, weights: [1, 10, 100])
    #expect(model.advance([1]) == [111])   // window padded with the first state: 1 + 10 + 100
    #expect(model.advance([2]) == [121])   // 1 + 20 + 100
    #expect(model.advance([3]) == [132])   // 2 + 30 + 100
    model.reset()
    #expect(model.advance([0]) == [100])
}

@Test func anglesAreReducedForTheModelsAndComparedOnTheCircle() {
    let p = 2 * Double.pi
    #expect(abs(Normalization.reduced(3 * p + 0.25, period: p) - 0.25) < 1e-14)
    #expect(abs(Normalization.reduced(-p / 2 - 0.1, period: p) - (p / 2 - 0.1)) < 1e-15)
    #expect(Normalization.reduced(p / 2, period: p) == -p / 2)
    #expect(Normalization.reduced(7.5, period: 0) == 7.5)
    // θ turning steadily (two turns), ω constant: the state moments of θ are those of the reduced angle, its
    // increments and range unwrapped; ω is untouched.
    let rows = 400
    let trajectory = (0..<rows).flatMap { n -> [Double] in [Double(n) * 2 * p / Double(rows), 1] }
    let n = Normalization.fit(trajectories: [trajectory], dimension: 2, periods: [p, nil])
    #expect(n.periods == [p, 0])
    #expect(abs(n.stateMean[0]) < 0.02 && abs(n.stateScale[0] - p / 12.0.squareRoot()) < 0.02)
    #expect(abs(n.incrementMean[0] - 2 * p / Double(rows)) < 1e-12 && n.maximum[0] > 2 * p - 0.1)
    // The same configuration one turn later is the same input.
    #expect(abs(n.z(1 + p, 0) - n.z(1, 0)) < 1e-12 && n.z(1 + p, 1) != n.z(1, 1))
    #expect(Normalization(metadata: n.metadata) == n)
    let plain = Normalization.fit(trajectories: [trajectory], dimension: 2)
    #expect(plain.metadata["period"] == nil && Normalization(metadata: plain.metadata) == plain)
    // A prediction a whole turn ahead is no error on the circle; off by half a turn it is the largest.
    let reference: [Double] = [0.5, 1, 0.6, 1, 0.7, 1]
    let aheadByATurn: [Double] = [0.5, 1, 0.6 + p, 1, 0.7 - p, 1]
    let turned = RolloutComparison(dimension: 2, times: [0, 1, 2], reference: reference, predicted: aheadByATurn,
                                   divergedIndex: nil, scale: [1, 1], periods: [p, 0])
    let m = Metrics.evaluate(turned)
    #expect(m.rmse < 1e-14 && m.relativeL2Final < 1e-14 && m.validPredictionCensored)
    let unwrapped = Metrics.evaluate(RolloutComparison(dimension: 2, times: [0, 1, 2], reference: reference, predicted: aheadByATurn,
                                                       divergedIndex: nil, scale: [1, 1]))
    #expect(unwrapped.validPredictionTime == 1 && !unwrapped.validPredictionCensored)
    let halfTurn = RolloutComparison(dimension: 2, times: [0, 1, 2], reference: reference,
                                     predicted: [0.5, 1, 0.6 + p / 2, 1, 0.7 + 3 * p / 2, 1], divergedIndex: nil, scale: [1, 1], periods: [p, 0])
    #expect(abs(Metrics.evaluate(halfTurn).maxAbs - p / 2) < 1e-12)
}
