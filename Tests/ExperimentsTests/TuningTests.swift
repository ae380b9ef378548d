// Tests of `--tune`: the search never reads the test split, is reproducible from its seed, is cached, and halves
// the recurrent networks' trials over epochs.
import Foundation
import Support
import Testing
@testable import Experiments
import Problems

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rnnode-tune-\(name.filter(\.isLetter))-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The linear model on a short stretch of Lorenz-63: chaotic, so the trials' validation VPTs differ, and a fit
/// takes milliseconds.
private func lorenzConfiguration(out: URL, tests: Int = 2, seed: UInt64 = 0) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/lorenz.toml").path, model: .linear)
    c.trainTrajectories = 1
    c.validationTrajectories = 2
    c.testTrajectories = tests
    c.evaluationStart = 64
    c.horizon = 8
    c.seed = seed
    c.tune = 6
    c.outputDirectory = out.path
    c.writeFiles = false
    c.showProgress = false
    return c
}

private func tuningInputs(_ c: SolveConfiguration) throws -> (Problem, TrajectoryData, Normalization) {
    let problem = try SolvePipeline.problem(for: c)
    let data = try TrajectoryGenerator.data(for: problem, counts: [.training: c.trainTrajectories, .validation: c.validationTrajectories,
                                                                   .test: c.testTrajectories], seed: c.seed, cacheRoot: nil)
    return (problem, data, Normalization.fit(trajectories: data.training.map(\.states), dimension: problem.dimension))
}

@Test func tuningNeverReadsTheTestSplit() throws {
    let out = try temporaryDirectory()
    let c = lorenzConfiguration(out: out, tests: 2)
    let (problem, data, normalization) = try tuningInputs(c)
    let reference = try Tuning.search(c, trials: 6, problem: problem, data: data, normalization: normalization) { _ in }
    // Other test trajectories (another count, so other draws), and test states that are not numbers at all.
    var other = data
    other.test = try tuningInputs(lorenzConfiguration(out: out, tests: 5)).1.test
    #expect(other.test.count == 5)
    #expect(try Tuning.search(c, trials: 6, problem: problem, data: other, normalization: normalization) { _ in } == reference)
    other.test = other.test.map { var t = $0; t.states = t.states.map { _ in .nan }; return t }
    #expect(try Tuning.search(c, trials: 6, problem: problem, data: other, normalization: normalization) { _ in } == reference)
    // The whole pipeline with a different test count tunes to the same settings.
    let a = try SolvePipeline.run(c) { _ in }
    let b = try SolvePipeline.run(lorenzConfiguration(out: try temporaryDirectory(), tests: 3)) { _ in }
    #expect(a.modelKey == b.modelKey)
    // The search distinguishes its trials (or the test above could not fail): not every VPT is the same.
    #expect(Set(reference.log.map { $0.components(separatedBy: "→").last! }).count > 1)
}

@Test func sameSeedChoosesTheSameSettings() throws {
    let out = try temporaryDirectory()
    let c = lorenzConfiguration(out: out, seed: 2)
    let (problem, data, normalization) = try tuningInputs(c)
    let first = try Tuning.search(c, trials: 6, problem: problem, data: data, normalization: normalization) { _ in }
    let second = try Tuning.search(c, trials: 6, problem: problem, data: data, normalization: normalization) { _ in }
    #expect(first == second)
    #expect(first.log.count == 6)
    // Another seed draws other trials.
    var other = c
    other.seed = 3
    let third = try Tuning.search(other, trials: 6, problem: problem, data: data, normalization: normalization) { _ in }
    #expect(third.log.dropFirst().map { $0.components(separatedBy: "→")[0] } != first.log.dropFirst().map { $0.components(separatedBy: "→")[0] })
}

@Test func theTuningResultIsCachedAndReused() throws {
    let out = try temporaryDirectory()
    let c = lorenzConfiguration(out: out)
    var firstLog: [String] = [], secondLog: [String] = []
    let first = try SolvePipeline.run(c) { firstLog.append($0) }
    let second = try SolvePipeline.run(c) { secondLog.append($0) }
    #expect(firstLog.filter { $0.hasPrefix("tune trial ") }.count == 6)
    #expect(!secondLog.contains { $0.hasPrefix("tune trial ") })
    #expect(secondLog.contains { $0.hasPrefix("reused the tuned settings from ") })
    #expect(second.modelFromCache)
    #expect(first.modelKey == second.modelKey)
    let (problem, _, _) = try tuningInputs(c)
    let cached = try JSONDecoder().decode(TuningResult.self, from: Data(contentsOf: try Tuning.cacheURL(c, problem: problem)))
    #expect(cached.trials == 6)
    // The chosen settings are the best validation score of the log.
    let scores = cached.log.compactMap { Double($0.components(separatedBy: "→ validation VPT ").last!) }
    #expect(scores.max() == cached.validationVPT)
    // Another N is another search.
    var more = c
    more.tune = 7
    var thirdLog: [String] = []
    _ = try SolvePipeline.run(more) { thirdLog.append($0) }
    #expect(thirdLog.filter { $0.hasPrefix("tune trial ") }.count == 7)
}

@Test func recurrentNetworksHalveTheirTrialsOverEpochs() throws {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: .rnn)
    c.trainTrajectories = 1
    c.validationTrajectories = 1
    c.testTrajectories = 1
    c.evaluationStart = 64
    c.horizon = 5
    c.epochs = 9
    c.batchSize = 8
    c.sequenceSteps = 8
    c.showProgress = false
    c.outputDirectory = try temporaryDirectory().path
    let (problem, data, normalization) = try tuningInputs(c)
    let result = try Tuning.search(c, trials: 4, problem: problem, data: data, normalization: normalization) { _ in }
    // 4 trials → 2 → 1, at 1, 3 and 9 epochs.
    #expect(result.log.filter { $0.contains("[rung 1/3, 1 epochs]") }.count == 4)
    #expect(result.log.filter { $0.contains("[rung 2/3, 3 epochs]") }.count == 2)
    #expect(result.log.filter { $0.contains("[rung 3/3, 9 epochs]") }.count == 1)
}

@Test func tuningNeedsValidationTrajectories() throws {
    var c = lorenzConfiguration(out: try temporaryDirectory())
    c.validationTrajectories = 0
    #expect(throws: SolveConfigurationError.self) { try SolvePipeline.run(c) { _ in } }
}

@Test func compareHandsTuneToItsSolveCells() throws {
    let grid = GridSpecification(problems: ["lorenz"], models: ["esn"], matrices: ["toeplitz"], methods: ["power"], seeds: 1,
                                 quick: true, tune: 5)
    let cells = grid.cells()
    let solve = cells.first { $0.experiment == .solve }!, eigen = cells.first { $0.experiment == .eigen }!
    let comparison = Comparison(specification: grid, directory: try temporaryDirectory()) { _, _, _, _ in .ok }
    #expect(comparison.arguments(for: solve).suffix(2) == ["--tune", "5"])
    #expect(!comparison.arguments(for: eigen).contains("--tune"))
}

@Test func theManifestCarriesTheTuning() throws {
    let out = try temporaryDirectory()
    var c = lorenzConfiguration(out: out)
    c.writeFiles = true
    let result = try SolvePipeline.run(c) { _ in }
    let manifestURL = try #require(result.files.first { $0.lastPathComponent.hasSuffix("-manifest.json") })
    let manifest = try Manifest.read(from: manifestURL)
    #expect(manifest.command.contains(" --tune 6"))
    #expect(manifest.configuration["tune_trials"] == "6")
    let (problem, _, _) = try tuningInputs(c)
    let cached = try JSONDecoder().decode(TuningResult.self, from: Data(contentsOf: try Tuning.cacheURL(c, problem: problem)))
    for (name, value) in cached.chosen { #expect(manifest.configuration["tuned_\(name)"] == CSV.format(value)) }
    #expect(manifest.configuration["tune_validation_vpt"] == CSV.format(cached.validationVPT))
}
