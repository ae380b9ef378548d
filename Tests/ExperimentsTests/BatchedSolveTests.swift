// `solve` rolls its test trajectories out in one batch: its metrics equal those of rolling the same cached model
// out one trajectory at a time (the ESN's batched kernels give the same bits).
import Foundation
import Testing
@testable import Experiments
import Problems

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Test func solveMetricsEqualOneAtATimeRollouts() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-batched-solve-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: out) }
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: .esn)
    c.trainTrajectories = 2; c.validationTrajectories = 1; c.testTrajectories = 4
    c.window = 8; c.evaluationStart = 8; c.horizon = 5
    c.reservoir.size = 80; c.reservoir.washout = 20
    c.outputDirectory = out.path; c.writeFiles = false; c.showProgress = false
    let result = try SolvePipeline.run(c, log: { _ in })

    // The same data, normalisation and (cached) model, rolled out trajectory by trajectory.
    let problem = try SolvePipeline.problem(for: c)
    let d = problem.dimension
    let data = try TrajectoryGenerator.data(for: problem, counts: [.training: 2, .validation: 1, .test: 4], seed: c.seed,
                                            cacheRoot: out.appendingPathComponent("data"))
    let normalization = Normalization.fit(trajectories: data.training.map(\.states), dimension: d)
    let base = try OutputName.file("\(problem.name)-esn-\(SolvePipeline.modelKey(c, problem: problem))",
                                   in: out.appendingPathComponent("models"), what: "problem name")
    let (model, _, cached) = try SolvePipeline.trainedModel(c, problem: problem, data: data, normalization: normalization, base: base, log: { _ in })
    let stepper = model.makeStepper()
    #expect(cached)
    #expect(stepper is BatchSteppable)
    let last = SolvePipeline.lastIndex(horizon: 5, problem: problem), s = c.evaluationStart
    let times = Array(data.times[(s - 1)...last])
    #expect(result.trajectories.count == 4)
    for (index, trajectory) in data.test.enumerated() {
        let box = Metrics.allowedBox(normalization: normalization, reference: trajectory.states, dimension: d, last: last)
        let rollout = RolloutRunner.run(stepper, reference: trajectory.states, dimension: d, warmUp: s, last: last,
                                        normalization: normalization, lower: box.lower, upper: box.upper)
        let comparison = RolloutComparison(dimension: d, times: times, reference: Array(trajectory.states[((s - 1) * d)..<((last + 1) * d)]),
                                           predicted: rollout.predicted, divergedIndex: rollout.divergedIndex, scale: normalization.stateScale,
                                           periods: normalization.periods)
        let alone = Metrics.evaluate(comparison) { t, y in problem.invariantValues(t: t, state: y) }
        let batched = result.trajectories[index]
        #expect(batched.rmse == alone.rmse && batched.maxAbs == alone.maxAbs, "trajectory \(index): rmse \(batched.rmse) vs \(alone.rmse)")
        #expect(batched.relativeL2Final == alone.relativeL2Final)
        #expect(batched.validPredictionTime == alone.validPredictionTime && batched.divergedAt == alone.divergedAt)
    }
}
