// The recurrent nets' training options in the solve pipeline: the budget by default and --epochs winning, both
// in the manifest and the cache key; each net's default hidden size; closed-loop rollout steps; seeded input noise
// end to end.
import Foundation
import Testing
import TestSupport
@testable import Experiments

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-\(name)-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small harmonic-oscillator cell: 2 training, 1 validation, 2 test trajectories to t = 5, no files.
private func smallConfiguration(_ model: ModelKind, out: URL) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: model)
    c.trainTrajectories = 2; c.validationTrajectories = 1; c.testTrajectories = 2
    c.evaluationStart = 8; c.horizon = 5
    c.outputDirectory = out.path; c.writeFiles = false; c.showProgress = false
    return c
}

@Test func budgetIsTheDefaultAndEpochsWin() throws {
    var c = SolveConfiguration(problem: "lorenz", model: .lstm)
    #expect(c.effectiveBudget == SolveDefaults.budget && c.settings["budget_seconds"] == "40.0" && c.settings["epochs"] == nil)
    let problem = try SolvePipeline.problem(for: c)
    let byDefault = SolvePipeline.modelKey(c, problem: problem)
    c.budget = 5
    #expect(c.settings["budget_seconds"] == "5.0" && SolvePipeline.modelKey(c, problem: problem) != byDefault,
            "the budget is part of the cache key")
    #expect(SolvePipeline.commandLine(c).contains("--budget 5.0"))
    c.epochs = 7
    #expect(c.effectiveBudget == nil && c.settings["epochs"] == "7" && c.settings["budget_seconds"] == nil)
    #expect(SolvePipeline.commandLine(c).contains("--epochs 7") && !SolvePipeline.commandLine(c).contains("--budget"))
    // Models fitted in closed form have no budget.
    #expect(SolveConfiguration(problem: "lorenz", model: .esn).effectiveBudget == nil)
}

@Test func eachRecurrentNetHasItsRegisteredHiddenSizeAndHiddenWins() throws {
    // Each net's registered default (32 for all three, at which their figures were measured).
    let expected: [ModelKind: Int] = [.rnn: 32, .lstm: 32, .gru: 32]
    for (model, hidden) in expected {
        let c = SolveConfiguration(problem: "lorenz", model: model)
        #expect(model.registration.defaultHidden == hidden && c.hidden == hidden && c.settings["hidden"] == "\(hidden)", "\(model)")
        #expect(SolvePipeline.commandLine(c).contains("--hidden \(hidden) "), "\(model): \(SolvePipeline.commandLine(c))")
    }
    #expect(SolveDefaults.hiddenByModel == "rnn 32, lstm 32, gru 32")
    // --hidden wins over the default, and a different size is a different model in the cache.
    var c = SolveConfiguration(problem: "lorenz", model: .gru)
    let problem = try SolvePipeline.problem(for: c)
    let byDefault = SolvePipeline.modelKey(c, problem: problem)
    c.hidden = 24
    #expect(c.hidden == 24 && c.settings["hidden"] == "24" && SolvePipeline.modelKey(c, problem: problem) != byDefault)
    // --quick's small models stay small for every net.
    #expect(SolveConfiguration(problem: "lorenz", model: .gru).quick().hidden == 16)
}

@Test func rolloutStepsReachTheSettingsAndLengthenTheSequences() throws {
    var c = SolveConfiguration(problem: "lorenz", model: .gru)
    let before = c.settings
    c.rolloutSteps = 24
    #expect(c.settings != before && c.settings["rollout_steps"] == "24" && c.trainingSequenceSteps == 24)
    #expect(SolvePipeline.commandLine(c).contains("--rollout-steps 24"))
    c.parallel = ParallelSettings(groups: 2, halo: 0, shared: false)
    #expect(throws: SolveConfigurationError.self) { try c.model.registration.validate(c) }
    c.parallel = nil; c.rolloutSteps = -1
    #expect(throws: SolveConfigurationError.self) { try c.model.registration.validate(c) }
    // The closed loop feeds an angle back reduced, as the data give it: accepted where a variable is an angle.
    c.rolloutSteps = 8
    var closed = SolveConfiguration(problem: "pendulum", model: .gru)
    closed.rolloutSteps = 8
    let angles = try SolvePipeline.problem(for: closed)
    #expect(angles.periods.contains { $0 != nil })
    try SolvePipeline.validate(closed, problem: angles)
    try SolvePipeline.validate(c, problem: try SolvePipeline.problem(for: c))
}

@Test(arguments: [ModelKind.lstm, .gru])
func recurrentNoiseAndRolloutWithTheSameSeedGiveTheSameResult(model: ModelKind) throws {
    let out = try temporaryDirectory("recurrent-noise-\(model.rawValue)")
    defer { try? FileManager.default.removeItem(at: out) }
    var c = smallConfiguration(model, out: out)
    c.window = 4; c.hidden = 8; c.epochs = 3; c.sequenceSteps = 8; c.rolloutSteps = 4
    c.noise = 1e-2
    c.retrain = true
    let accuracy = { (rows: [ErrorRow]) in rows.filter { $0.metric.hasPrefix("rmse") || $0.metric.hasPrefix("rel_l2_final") }.map(\.value) }
    let first = try SolvePipeline.run(c, log: { _ in })
    let second = try SolvePipeline.run(c, log: { _ in })
    #expect(accuracy(first.rows) == accuracy(second.rows), "same seed, same noise: the same model")
    c.noise = 0
    let clean = try SolvePipeline.run(c, log: { _ in })
    #expect(accuracy(clean.rows) != accuracy(first.rows), "the noise changes the fit")
    #expect(clean.modelKey != first.modelKey, "the noise is part of the model's cache key")
}
