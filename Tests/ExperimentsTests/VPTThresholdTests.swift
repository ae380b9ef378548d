// Tests of `--vpt-threshold`: a higher threshold never ends the valid prediction earlier, it changes the VPT rows
// (named vpt@E), the file names and the manifest but reuses the trained model, and the summary keeps the two apart.
import Foundation
import Support
import Testing
@testable import Experiments
import Problems

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rnnode-vpt-\(name.filter(\.isLetter))-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The linear model on Lorenz-63 (chaotic, so its rollouts leave the reference within the horizon; a fit takes
/// milliseconds), writing its files.
private func lorenzConfiguration(out: URL) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/lorenz.toml").path, model: .linear)
    c.trainTrajectories = 1
    c.validationTrajectories = 1
    c.testTrajectories = 4
    c.evaluationStart = 64
    c.horizon = 12
    c.outputDirectory = out.path
    c.showProgress = false
    return c
}

@Test func theValidPredictionTimeEndsWhereTheErrorFirstExceedsTheGivenThreshold() {
    // E(t_n) = 0.1 n + 0.05 at t_n = 0.1 n: above 0.4 first at n = 4, above 0.5 first at n = 5.
    let errors = (0..<10).map { 0.1 * Double($0) + 0.05 }
    let c = RolloutComparison(dimension: 1, times: errors.indices.map { 0.1 * Double($0) }, reference: [Double](repeating: 0, count: 10),
                              predicted: errors, divergedIndex: nil, scale: [1])
    #expect(abs(Metrics.evaluate(c).validPredictionTime - 0.4) < 1e-12)
    #expect(abs(Metrics.evaluate(c, threshold: 0.5).validPredictionTime - 0.5) < 1e-12)
    #expect(abs(Metrics.evaluate(c, threshold: 2).validPredictionTime - 0.9) < 1e-12)
    #expect(Metrics.evaluate(c, threshold: 2).validPredictionCensored)
}

@Test func anotherThresholdReusesTheModelAndKeepsItsOwnRowsFilesAndManifest() throws {
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let atDefault = lorenzConfiguration(out: out)
    var atHalf = atDefault
    atHalf.vptThreshold = 0.5
    let first = try SolvePipeline.run(atDefault) { _ in }
    let second = try SolvePipeline.run(atHalf) { _ in }

    // The same model: the second run loads the first one's.
    #expect(!first.modelFromCache && second.modelFromCache)
    #expect(first.modelKey == second.modelKey)
    // The same rollouts, so every trajectory's VPT at 0.5 is at least its VPT at 0.4, and some rollout ends before
    // the horizon (else the test would compare two censored values).
    #expect(first.trajectories.count == second.trajectories.count)
    for (a, b) in zip(first.trajectories, second.trajectories) {
        #expect(b.validPredictionTime >= a.validPredictionTime)
        #expect(a.rmse == b.rmse && a.relativeL2Final == b.relativeL2Final)
    }
    #expect(first.trajectories.contains { !$0.validPredictionCensored })

    // Rows: vpt at the default, vpt@0.5 (and its Lyapunov-time and censored rows) at 0.5; never the same names.
    let firstNames = Set(first.rows.map(\.metric)), secondNames = Set(second.rows.map(\.metric))
    #expect(firstNames.isSuperset(of: ["vpt", "vpt_lyapunov", "vpt_censored"]))
    #expect(secondNames.isSuperset(of: ["vpt@0.5", "vpt@0.5_q25", "vpt_lyapunov@0.5", "vpt_censored@0.5"]))
    #expect(secondNames.isDisjoint(with: ["vpt", "vpt_lyapunov", "vpt_censored"]))
    let median = { (rows: [ErrorRow], name: String) in rows.first { $0.metric == name }!.value }
    #expect(median(second.rows, "vpt@0.5") >= median(first.rows, "vpt"))
    #expect(SummaryMetric.named("vpt@0.5").unit == SummaryMetric.vpt.unit && SummaryMetric.named("vpt@0.5").higherIsBetter)
    #expect(SummaryMetric.named("vpt_lyapunov@0.5").censoredBy == "vpt_censored@0.5")

    // Files: each threshold its own manifest, recording it.
    let manifests = try [first, second].map { result in
        try Manifest.read(from: try #require(result.files.first { $0.lastPathComponent.hasSuffix("-manifest.json") }))
    }
    #expect(second.files.contains { $0.lastPathComponent == "lorenz-linear-vpt0.5-manifest.json" })
    #expect(first.files.contains { $0.lastPathComponent == "lorenz-linear-manifest.json" })
    #expect(manifests[0].configuration["vpt_threshold"] == "0.4")
    #expect(manifests[1].configuration["vpt_threshold"] == "0.5")
    #expect(manifests[1].command.contains(" --vpt-threshold 0.5"))
    #expect(!manifests[0].command.contains("--vpt-threshold"))
    #expect(manifests[0].configuration["model_key"] == manifests[1].configuration["model_key"])

    // errors.csv holds both runs; the summary shows both thresholds as rows of their own.
    let rows = try ErrorLog(directory: out).read()
    let table = try #require(summaryTables(from: rows).first)
    let shown = table.metrics.map(\.name)
    #expect(shown.contains("vpt") && shown.contains("vpt@0.5") && shown.contains("vpt_lyapunov@0.5"), "\(shown)")
    #expect(table.values["vpt@0.5"]?["linear"]?.median == median(second.rows, "vpt@0.5"))
    #expect(table.values["vpt"]?["linear"]?.median == median(first.rows, "vpt"))
    #expect(vptThresholdNote([table]) == ", E(t) threshold 0.4 or 0.5")
}

@Test func aThresholdThatIsNotAPositiveNumberIsRefused() throws {
    for bad in [0, -0.4, .nan, .infinity] {
        var c = lorenzConfiguration(out: try temporaryDirectory())
        c.vptThreshold = bad
        #expect(throws: SolveConfigurationError.self) { try SolvePipeline.run(c) { _ in } }
    }
}

@Test func compareHandsTheThresholdToEverySolveCell() throws {
    let grid = GridSpecification(problems: ["lorenz"], models: ["esn", "lstm"], matrices: ["toeplitz"], methods: ["power"], seeds: 1,
                                 quick: true, vptThreshold: 0.5)
    let comparison = Comparison(specification: grid, directory: try temporaryDirectory()) { _, _, _, _ in .ok }
    for cell in grid.cells() {
        let arguments = comparison.arguments(for: cell)
        if cell.experiment == .solve {
            #expect(arguments.suffix(2) == ["--vpt-threshold", "0.5"], "\(arguments)")
        } else {
            #expect(!arguments.contains("--vpt-threshold"))
        }
    }
    // The default threshold, given or not, is the same cell.
    var atDefault = grid
    atDefault.vptThreshold = validPredictionThreshold
    let solve = grid.cells()[0]
    #expect(Comparison(specification: atDefault, directory: try temporaryDirectory()) { _, _, _, _ in .ok }.arguments(for: solve)
            == GridSettings.arguments(for: solve, quick: true))
}
