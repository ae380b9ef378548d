// Training by time budget (kept within 10%, the best validation weights kept, the schedule over the budget)
// and per-epoch input noise (seeded: the same seed gives the same weights).
import Foundation
import Testing
import TestSupport
@testable import Recurrent

@Test func budgetIsKeptWithinTenPercent() throws {
    // A behavioural bound, not a benchmark: training may not overrun B by more than 10% plus a fixed 0.25 s for
    // what no estimate can foresee (the first batch, which always runs, and thread start-up on a loaded machine).
    // Larger data than one epoch per budget, so the cut inside an epoch is exercised too.
    let budget = 3.0, fixedOverhead = 0.25
    let data = sineDataset(count: 512, steps: 48), validation = sineDataset(count: 64, steps: 48, seed: 7)
    let network = RecurrentNetwork(configuration: .init(cell: .lstm, inputSize: 1, hiddenSize: 32, outputSize: 1), seed: 1)
    var options = quietOptions(epochs: 1_000_000)
    options.budgetSeconds = budget
    options.schedule = .cosine(minimum: 1e-4)
    let trainer = Trainer(network: network, options: options)
    let started = Date()
    let history = try trainer.fit(training: data, validation: validation)
    let elapsed = Date().timeIntervalSince(started)
    print("budget \(budget) s: trained \(history.records.count) epochs in \(elapsed) s")
    #expect(elapsed <= 1.1 * budget + fixedOverhead, "training took \(elapsed) s for a budget of \(budget) s")
    #expect(history.records.count >= 1 && history.stoppedEarly && !history.interrupted)
    // The rate decays over the budget: each epoch's starting rate is below the one before, from the base rate
    // (less the few microseconds spent before the first batch) to near the floor.
    let rates = history.records.map(\.learningRate)
    #expect(zip(rates, rates.dropFirst()).allSatisfy { $0.0 > $0.1 })
    #expect(rates[0] > 0.99 * options.learningRate && rates.last! < 0.5 * options.learningRate)
    // The weights kept are those of the best validation loss.
    let best = history.records.compactMap(\.validationLoss).min()!
    #expect(abs(trainer.loss(on: validation) - best) <= 1e-12 * max(best, 1))
}

@Test func budgetRateFollowsTheCosineOverTheSecondsSpent() {
    let b = TrainingBudget(seconds: 10)
    #expect(b.rate(spent: 0, base: 1, schedule: .cosine(minimum: 0.1)) == 1)
    #expect(abs(b.rate(spent: 5, base: 1, schedule: .cosine(minimum: 0.1)) - 0.55) < 1e-15)
    #expect(b.rate(spent: 20, base: 1, schedule: .cosine(minimum: 0.1)) == 0.1)
    #expect(b.allowsBatch(spent: 9, batchSeconds: 0.5, validationReserve: 0.5))
    #expect(!b.allowsBatch(spent: 9, batchSeconds: 0.6, validationReserve: 0.5))
}

@Test func inputNoiseWithTheSameSeedGivesTheSameWeights() throws {
    let data = sineDataset()
    func train(noise: Double, seed: UInt64, threads: Int = 1) throws -> [Double] {
        let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: 1, hiddenSize: 8, outputSize: 1), seed: 1)
        var options = quietOptions(epochs: 4)
        options.inputNoise = noise; options.seed = seed
        let trainer = Trainer(network: network, options: options)
        trainer.threads = threads
        _ = try trainer.fit(training: data, validation: nil)
        return network.parameters
    }
    let first = try train(noise: 0.05, seed: 3)
    #expect(try train(noise: 0.05, seed: 3) == first, "same seed, same noise, same weights")
    #expect(try train(noise: 0.05, seed: 4) != first, "another seed draws other noise (and order)")
    #expect(try train(noise: 0, seed: 3) != first, "the noise changes the fit")
    // Noise is drawn before the batch is split, so two threads see the same noise; the weights agree to rounding.
    let twoThreads = try train(noise: 0.05, seed: 3, threads: 2)
    #expect(zip(twoThreads, first).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) })
    // Each epoch draws afresh, and the draw is a function of (seed, epoch) only.
    let a = data.addingInputNoise(0.1, seed: 3, epoch: 0), b = data.addingInputNoise(0.1, seed: 3, epoch: 1)
    #expect(a.inputs != b.inputs && a.inputs == data.addingInputNoise(0.1, seed: 3, epoch: 0).inputs && a.targets == data.targets)
}

@Test func invalidBudgetOrNoiseIsAnError() {
    let data = sineDataset(count: 4)
    var options = quietOptions(epochs: 1)
    options.budgetSeconds = 0
    #expect(throws: TrainingError.self) {
        try Trainer(network: RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 4, outputSize: 1), seed: 1),
                    options: options).fit(training: data, validation: nil)
    }
    options.budgetSeconds = nil; options.inputNoise = -1
    #expect(throws: TrainingError.self) {
        try Trainer(network: RecurrentNetwork(configuration: .init(cell: .rnn, inputSize: 1, hiddenSize: 4, outputSize: 1), seed: 1),
                    options: options).fit(training: data, validation: nil)
    }
}
