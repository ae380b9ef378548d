// Driven problems (`[forcing]`): the models see the drive's phase. A linear model then recovers the exact step map
// of a driven linear oscillator, which it cannot without the phase; batched rollouts equal one-at-a-time ones;
// input noise stays off the phase; options that cannot carry the phase are refused.
import Foundation
import Testing
@testable import Experiments
import Problems

/// x'' + 0.1 x' + x = cos(1.3 t): the flow over one output step is y_{n+1} = Φ y_n + a sin(1.3 t_n) + b cos(1.3 t_n),
/// linear in the state and the drive's phase.
private func drivenOscillator(forcing: Bool) -> String {
    """
    name = "driven-oscillator"
    variables = ["x", "v"]
    [parameters]
    w = 1.3
    [equations]
    x = "v"
    v = "-x - 0.1 * v + cos(w * t)"
    [initial]
    x = 1.0
    v = 0.0
    \(forcing ? "[forcing]\nperiod = \"2 * pi / w\"" : "")
    [time]
    end = 30.0
    step = 0.05
    [sampling]
    x = [-2.0, 2.0]
    v = [-2.0, 2.0]
    """
}

private func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-\(name)-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func configuration(_ model: ModelKind, forcing: Bool, in folder: URL) throws -> SolveConfiguration {
    let file = folder.appendingPathComponent(forcing ? "driven.toml" : "undriven.toml")
    try drivenOscillator(forcing: forcing).write(to: file, atomically: true, encoding: .utf8)
    var c = SolveConfiguration(problem: file.path, model: model)
    c.trainTrajectories = 2; c.validationTrajectories = 1; c.testTrajectories = 3
    c.window = 1; c.evaluationStart = 2; c.horizon = 25
    c.outputDirectory = folder.path; c.writeFiles = false; c.showProgress = false
    return c
}

@Test func aLinearModelThatSeesTheDrivesPhaseRecoversTheDrivenStepMap() throws {
    let folder = try temporaryDirectory("driven-linear")
    defer { try? FileManager.default.removeItem(at: folder) }
    let driven = try SolvePipeline.run(try configuration(.linear, forcing: true, in: folder), log: { _ in })
    let undriven = try SolvePipeline.run(try configuration(.linear, forcing: false, in: folder), log: { _ in })
    #expect(driven.trajectories.count == 3 && undriven.trajectories.count == 3)
    for (index, (with, without)) in zip(driven.trajectories, undriven.trajectories).enumerated() {
        // Exact up to the ridge's bias (λ = 1e-8 in z-units) and GSL's tolerance over 500 steps.
        #expect(with.relativeL2Final < 1e-5 && with.validPredictionCensored, "trajectory \(index): \(with.relativeL2Final)")
        // Without the phase the same model has to guess the drive from the state alone.
        #expect(without.relativeL2Final > 1e-2, "trajectory \(index): \(without.relativeL2Final)")
    }
}

@Test func drivenRolloutsInABatchEqualRolloutsOneAtATime() throws {
    let folder = try temporaryDirectory("driven-batched")
    defer { try? FileManager.default.removeItem(at: folder) }
    var c = try configuration(.esn, forcing: true, in: folder)
    c.window = 8; c.evaluationStart = 8; c.horizon = 5
    c.reservoir.size = 60; c.reservoir.washout = 20
    let problem = try SolvePipeline.problem(for: c)
    #expect(problem.forcingPeriod.map { abs($0 - 2 * Double.pi / 1.3) < 1e-15 } == true)
    let d = problem.dimension
    let data = try TrajectoryGenerator.data(for: problem, counts: [.training: 2, .validation: 1, .test: 3], seed: c.seed,
                                            cacheRoot: folder.appendingPathComponent("data"))
    let normalization = Normalization.fit(trajectories: data.training.map(\.states), dimension: d, periods: problem.periods,
                                          forcingPeriod: problem.forcingPeriod)
    #expect(normalization.inputSize == d + 2)
    let base = folder.appendingPathComponent("models/driven-esn")
    let (model, _, _) = try SolvePipeline.trainedModel(c, problem: problem, data: data, normalization: normalization, base: base, log: { _ in })
    let stepper = model.makeStepper()
    #expect(stepper is BatchSteppable)
    let last = SolvePipeline.lastIndex(horizon: 5, problem: problem)
    let unbounded = [Double](repeating: .infinity, count: d)
    let batched = BatchedRolloutRunner.run(stepper, references: data.test.map(\.states), dimension: d, warmUp: 8, last: last,
                                           normalization: normalization, lower: unbounded.map { -$0 }, upper: unbounded,
                                           times: data.times)
    for (index, trajectory) in data.test.enumerated() {
        let alone = RolloutRunner.run(stepper, reference: trajectory.states, dimension: d, warmUp: 8, last: last,
                                      normalization: normalization, lower: unbounded.map { -$0 }, upper: unbounded, times: data.times)
        #expect(alone.predicted == batched[index].predicted, "trajectory \(index)")
    }
    // The phase is an input: the same states at a shifted clock give another rollout.
    let shifted = RolloutRunner.run(stepper, reference: data.test[0].states, dimension: d, warmUp: 8, last: last,
                                    normalization: normalization, lower: unbounded.map { -$0 }, upper: unbounded,
                                    times: data.times.map { $0 + 1 })
    #expect(shifted.predicted != batched[0].predicted)
}

@Test func theDrivesPhaseIsAnInputWithoutNoise() {
    var normalization = Normalization.fit(trajectories: [[0, 1, 1, 2, 2, 3, 3, 5]], dimension: 2)
    normalization.forcingPeriod = 4
    #expect(Normalization(metadata: normalization.metadata) == normalization)
    let times: [Double] = [0, 1, 2, 3]
    let data = TeacherForcing.full(trajectories: [[0, 1, 1, 2, 2, 3, 3, 5]], dimension: 2, normalization: normalization, times: times)
    #expect(data.inputSize == 4 && data.outputSize == 2 && data.steps(0) == 3)
    for n in 0..<3 {
        #expect(abs(data.inputs[0][n * 4 + 2] - sin(Double.pi / 2 * times[n])) < 1e-15)
        #expect(abs(data.inputs[0][n * 4 + 3] - cos(Double.pi / 2 * times[n])) < 1e-15)
    }
    let noisy = data.addingNoise(0.1, seed: 3, noisyColumns: 2)
    for n in 0..<3 {
        #expect(noisy.inputs[0][n * 4] != data.inputs[0][n * 4] && noisy.inputs[0][n * 4 + 1] != data.inputs[0][n * 4 + 1])
        #expect(noisy.inputs[0][n * 4 + 2] == data.inputs[0][n * 4 + 2] && noisy.inputs[0][n * 4 + 3] == data.inputs[0][n * 4 + 3])
    }
    let denoised = data.addingNoise(0.1, seed: 3, correctingTargets: normalization.denoisingRatio)
    #expect(denoised.inputs == noisy.inputs && denoised.targets != data.targets)
}

@Test func optionsThatCannotCarryThePhaseAreRefused() throws {
    let folder = try temporaryDirectory("driven-refused")
    defer { try? FileManager.default.removeItem(at: folder) }
    var c = try configuration(.gru, forcing: true, in: folder)
    let problem = try SolvePipeline.problem(for: c)
    try SolvePipeline.validate(c, problem: problem)
    c.rolloutSteps = 4
    #expect(throws: SolveConfigurationError.self) { try SolvePipeline.validate(c, problem: problem) }
    c.rolloutSteps = 0
    c.parallel = ParallelSettings(groups: 2, halo: 0, shared: false)
    #expect(throws: (any Error).self) { try SolvePipeline.validate(c, problem: problem) }
}
