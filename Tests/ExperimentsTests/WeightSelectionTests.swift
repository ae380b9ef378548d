// `--select-by`: a recurrent network's kept weights chosen by validation rollouts (the default) or by the one-step
// validation loss, in the pipeline, the manifest, the model key and the comparison grid.
import Foundation
import Testing
@testable import Experiments

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func lstmConfiguration(out: URL, selection: WeightSelection) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/lorenz.toml").path, model: .lstm)
    c.trainTrajectories = 1
    c.validationTrajectories = 1
    c.testTrajectories = 2
    c.evaluationStart = 32
    c.horizon = 4
    c.hidden = 8
    c.epochs = 4
    c.selection = selection
    c.seed = 3
    c.outputDirectory = out.path
    c.showProgress = false
    return c
}

@Test func eachSelectionTrainsItsOwnModelAndSaysWhichWeightsItKept() throws {
    let out = try temporaryDirectory()
    var byVPT: [String] = [], byLoss: [String] = []
    let vpt = try SolvePipeline.run(lstmConfiguration(out: out, selection: .vpt)) { byVPT.append($0) }
    let loss = try SolvePipeline.run(lstmConfiguration(out: out, selection: .loss)) { byLoss.append($0) }
    // Every epoch is scored (4 epochs), and the log names the epoch kept and its validation VPT.
    let kept = try #require(byVPT.first { $0.hasPrefix("kept the weights of epoch") })
    #expect(kept.contains("4 scores"), "\(kept)")
    #expect(!byLoss.contains { $0.hasPrefix("kept the weights") })
    // Two models, not one reloaded: the selection is part of the model key.
    #expect(!loss.modelFromCache)
    #expect(vpt.modelKey != loss.modelKey)
    #expect(vpt.configuration.settings["selected_by"] == "validation_vpt")
    #expect(loss.configuration.settings["selected_by"] == "validation_loss")
    // The rollout score's rule is part of the key: weights chosen before runs that leave their box counted 0 are
    // not a cache hit.
    #expect(vpt.configuration.settings["selection_bounded_over"] == "test_rollout")
    #expect(loss.configuration.settings["selection_bounded_over"] == nil)
    let commands = (SolvePipeline.commandLine(vpt.configuration), SolvePipeline.commandLine(loss.configuration))
    #expect(commands.1.contains(" --select-by loss") && !commands.0.contains("--select-by"), "\(commands)")
}

@Test func compareHandsANonDefaultSelectionToTheRecurrentNetworksOnly() throws {
    var grid = GridSpecification(problems: ["lorenz"], models: ["esn", "lstm"], matrices: [], methods: [], seeds: 1, quick: true,
                                 selection: .loss)
    let comparison = Comparison(specification: grid, directory: try temporaryDirectory()) { _, _, _, _ in .ok }
    for cell in grid.cells() {
        let arguments = comparison.arguments(for: cell)
        #expect(arguments.contains("--select-by") == (cell.model == "lstm"), "\(arguments)")
        if cell.model == "lstm" { #expect(arguments.suffix(2) == ["--select-by", "loss"]) }
    }
    grid.selection = .vpt  // the default: the same cells as without it
    let atDefault = Comparison(specification: grid, directory: try temporaryDirectory()) { _, _, _, _ in .ok }
    #expect(grid.cells().allSatisfy { atDefault.arguments(for: $0) == GridSettings.arguments(for: $0, quick: true) })
}
