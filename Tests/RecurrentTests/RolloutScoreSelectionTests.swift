// The weights kept by a rollout score (`Trainer.rolloutScore`): the best-scoring epoch's, ties to the lower
// validation loss (after a complete score, the lowest validation loss checked at the end), scored on a schedule that reproduces by epochs, and resumed exactly after an interrupt.
import Foundation
import Testing
@testable import Recurrent

private let configuration = NetworkConfiguration(cell: .gru, inputSize: 1, hiddenSize: 6, outputSize: 1)

private func selectionOptions(epochs: Int) -> TrainingOptions {
    var o = quietOptions(epochs: epochs, batchSize: 7)
    o.patience = epochs  // the solve pipeline's setting: only restores the kept weights at the end
    o.schedule = .cosine(minimum: 1e-4)
    return o
}

@Test func theBestScoringEpochsWeightsAreKept() throws {
    let data = sineDataset(count: 21, steps: 10), validation = sineDataset(count: 8, steps: 10, seed: 5)
    let network = RecurrentNetwork(configuration: configuration, seed: 3)
    let trainer = Trainer(network: network, options: selectionOptions(epochs: 10))
    // A scripted score: the 4th epoch scores best, later ones worse, the last one (after training) worst.
    var calls = 0, weightsOfTheBest: [Double] = []
    trainer.rolloutScore = { net in
        calls += 1
        if calls == 4 { weightsOfTheBest = net.parameters }
        return RolloutScore(validTime: calls == 4 ? 5 : Double(10 - calls) * 0.1)
    }
    let history = try trainer.fit(training: data, validation: validation)
    #expect(Trainer.scoringEvery(epochs: 10) == 1 && calls == 10)
    #expect(network.parameters == weightsOfTheBest)
    #expect(history.selection?.epoch == 3 && history.selection?.score.validTime == 5 && history.selection?.scores == 10)
    #expect(history.selection?.validationLoss == history.records[3].validationLoss)
    // the weights kept are not simply the last ones nor those of the lowest validation loss
    let lowest = history.records.indices.min { history.records[$0].validationLoss! < history.records[$1].validationLoss! }!
    #expect(lowest != 3)
}

@Test func equalScoresKeepTheWeightsOfTheLowestValidationLoss() throws {
    let data = sineDataset(count: 21, steps: 10), validation = sineDataset(count: 8, steps: 10, seed: 5)
    let byLoss = RecurrentNetwork(configuration: configuration, seed: 3)
    _ = try Trainer(network: byLoss, options: selectionOptions(epochs: 8)).fit(training: data, validation: validation)
    let byScore = RecurrentNetwork(configuration: configuration, seed: 3)
    let trainer = Trainer(network: byScore, options: selectionOptions(epochs: 8))
    trainer.rolloutScore = { _ in RolloutScore(validTime: 1.5) }  // every score the same
    _ = try trainer.fit(training: data, validation: validation)
    #expect(byScore.parameters == byLoss.parameters)
    // A NaN score never wins over a finite one.
    let nan = RecurrentNetwork(configuration: configuration, seed: 3)
    let nanTrainer = Trainer(network: nan, options: selectionOptions(epochs: 8))
    var calls = 0, first: [Double] = []
    nanTrainer.rolloutScore = { net in
        calls += 1
        if calls == 1 { first = net.parameters; return RolloutScore(validTime: 0) }
        return RolloutScore(validTime: .nan)
    }
    _ = try nanTrainer.fit(training: data, validation: validation)
    #expect(nan.parameters == first)
}

@Test func afterACompleteScoreTheLowestValidationLossIsCheckedOnceAtTheEnd() throws {
    let data = sineDataset(count: 21, steps: 10), validation = sineDataset(count: 8, steps: 10, seed: 5)
    // Scripted: epochs 1-2 roll out 1 time unit, the 3rd's rollouts all stay valid to their end (2, complete).
    // Later epochs are not scored; the last call scores the candidate, complete or not.
    func run(candidateComplete: Bool) throws -> (network: RecurrentNetwork, history: TrainingHistory, calls: Int,
                                                 third: [Double], candidate: [Double]) {
        let network = RecurrentNetwork(configuration: configuration, seed: 3)
        let trainer = Trainer(network: network, options: selectionOptions(epochs: 10))
        var calls = 0, third: [Double] = [], candidate: [Double] = []
        trainer.rolloutScore = { net in
            calls += 1
            if calls == 3 { third = net.parameters; return RolloutScore(validTime: 2, complete: true) }
            if calls == 4 { candidate = net.parameters; return RolloutScore(validTime: candidateComplete ? 2 : 1.9, complete: candidateComplete) }
            return RolloutScore(validTime: 1)
        }
        let history = try trainer.fit(training: data, validation: validation)
        return (network, history, calls, third, candidate)
    }
    let kept = try run(candidateComplete: true)
    let losses = kept.history.records.map { $0.validationLoss! }
    let lowestAfter = (2..<10).min { losses[$0] < losses[$1] }!
    try #require(losses[lowestAfter] < losses[2], "the sine fit improves after its 3rd epoch")
    #expect(kept.calls == 4)
    #expect(kept.network.parameters == kept.candidate && kept.history.selection?.epoch == lowestAfter)
    #expect(kept.history.selection?.validationLoss == losses[lowestAfter] && kept.history.selection?.score.complete == true)
    #expect(kept.history.selection?.scores == 4)
    // a candidate whose rollouts do not all stay valid loses to the complete weights of the 3rd epoch
    let refused = try run(candidateComplete: false)
    #expect(refused.calls == 4 && refused.candidate == kept.candidate)
    #expect(refused.network.parameters == refused.third && refused.history.selection?.epoch == 2)
    // NaN never completes
    #expect(!RolloutScore(validTime: .nan, complete: true).complete && RolloutScore(validTime: .nan).validTime == -.infinity)
}

@Test func scoringByEpochsFollowsTheEpochsNotTheClock() throws {
    #expect(Trainer.scoringEvery(epochs: 60) == 1 && Trainer.scoringEvery(epochs: 500) == 10)
    let data = sineDataset(count: 14, steps: 8), validation = sineDataset(count: 4, steps: 8, seed: 5)
    let trainer = Trainer(network: RecurrentNetwork(configuration: configuration, seed: 3), options: selectionOptions(epochs: 130))
    var calls = 0
    trainer.rolloutScore = { _ in calls += 1; return RolloutScore(validTime: 0) }
    // every 2nd epoch (130 / 50 = 2), the last (the 130th) among them
    let history = try trainer.fit(training: data, validation: validation)
    #expect(calls == 65)
    #expect(history.selection?.scores == 65)
}

/// Scores that depend on the weights only (so they are the same in a resumed run): one never complete, one
/// complete from the first epoch on (the candidate of the lowest validation loss is then carried in the checkpoint).
@Test(arguments: [false, true])
func resumingAfterAnInterruptKeepsTheSameScoredWeights(complete: Bool) throws {
    let data = sineDataset(count: 21, steps: 10), validation = sineDataset(count: 8, steps: 10, seed: 5)
    let options = selectionOptions(epochs: 6)
    let score: (RecurrentNetwork) -> RolloutScore = { net in
        complete ? RolloutScore(validTime: 1, complete: true) : RolloutScore(validTime: sin(net.parameters.reduce(0, +) * 1e3))
    }
    let straight = RecurrentNetwork(configuration: configuration, seed: 3)
    let straightTrainer = Trainer(network: straight, options: options)
    straightTrainer.rolloutScore = score
    let straightHistory = try straightTrainer.fit(training: data, validation: validation)
    if complete {  // scored after the 1st epoch and once more at the end, keeping the lowest validation loss since
        let losses = straightHistory.records.map { $0.validationLoss! }
        #expect(straightHistory.selection?.scores == 2 && straightHistory.selection?.epoch == losses.indices.min { losses[$0] < losses[$1] })
        #expect(straightHistory.selection?.epoch != 0)
    }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-select-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("run.ckpt")
    var interruptions = 0
    var history: TrainingHistory
    repeat {  // 18 batches (3 per epoch), 2 per session: the 9th session stops after the last batch, the 10th ends
        let network = RecurrentNetwork(configuration: configuration, seed: 3)
        let trainer = Trainer(network: network, options: options)
        trainer.rolloutScore = score
        trainer.interruptAfterBatches = 2
        history = try trainer.fit(training: data, validation: validation, checkpoint: url)
        if history.interrupted { interruptions += 1 }
        if !history.interrupted { #expect(network.parameters == straight.parameters) }
    } while history.interrupted && interruptions < 20
    #expect(interruptions == 9)
    #expect(history.selection?.epoch == straightHistory.selection?.epoch)
    #expect(history.selection?.score == straightHistory.selection?.score)
    // a checkpoint of a run kept by loss does not resume a run kept by score
    let byLoss = Trainer(network: RecurrentNetwork(configuration: configuration, seed: 3), options: options)
    #expect(throws: CheckpointError.self) { _ = try byLoss.fit(training: data, validation: validation, checkpoint: url) }
}
