// The training loop: shuffled mini-batches, BPTT, clipping, optimizer step, schedule, validation, early stopping,
// checkpoints (resume, every epoch, at the end, on Ctrl-C) and progress.
import Foundation
import Support

/// A training run that cannot start or continue; the message names the dataset, option or epoch.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Backpropagation through time with mini-batches shuffled by a seeded generator; deterministic for a seed.
public final class Trainer {
    public let network: RecurrentNetwork
    public let options: TrainingOptions
    var optimizer: Optimizer
    /// ∂L/∂θ, same layout as the parameters.
    let gradient: Buffer<Double>
    /// Threads for data parallelism (`Parallelism.threads` when the trainer is made): each batch is split into
    /// this many contiguous slices, each run by its own thread with its own workspace and single-threaded BLAS,
    /// and the slices' gradients are added in slice order, so results are deterministic for a thread count.
    public var threads: Int
    /// The slices' workspaces and gradients, in the network's precision (read when the trainer is made).
    private let runner: BatchRunner
    /// Testing hook: behave as if Ctrl-C arrived after this many batches of this `fit` call (this trainer only).
    var interruptAfterBatches: Int?
    /// The global gradient norm of the last batch, before clipping.
    public private(set) var lastGradientNorm: Double = 0
    /// Closed-loop training (fed-back predictions after the warm-up, a curriculum of rollout steps); nil: teacher
    /// forcing only. Validation then scores the full R fed-back steps, so the best weights are those that roll
    /// out best.
    public var closedLoop: ClosedLoopTraining?
    /// Chooses the weights kept at the end by how they roll out, not by the one-step validation loss: a score of
    /// the network, higher is better (the caller's, e.g. the mean valid prediction time of rollouts of the
    /// validation trajectories: `RolloutScore`). It is taken at the end of epochs, never more often than leaves
    /// `scoringShare` of the time spent to it by budget, every `scoringEvery(epochs:)` epochs otherwise (so epochs
    /// reproduce), and always at the last; equal scores go to the lower validation loss. Once a score is complete
    /// (every rollout valid to its end: nothing can score longer, only ties are left) scoring stops, the weights
    /// of each lower validation loss become the candidate, and the candidate is scored once at the end: kept when
    /// its score is complete too, else the complete weights are. Needs validation data; nil: the weights of the
    /// lowest validation loss are kept.
    public var rolloutScore: ((RecurrentNetwork) -> RolloutScore)?
    /// The most of the time spent that scoring rollouts may take, by budget.
    public static let scoringShare = 0.2

    /// Epochs between rollout scores of a run by epochs: about 50 scores over the run.
    public static func scoringEvery(epochs: Int) -> Int { max(1, epochs / 50) }

    public init(network: RecurrentNetwork, options: TrainingOptions) {
        self.network = network
        self.options = options
        threads = Parallelism.threads
        optimizer = Optimizer(kind: options.optimizer, count: network.parameterCount)
        gradient = Buffer<Double>(count: network.parameterCount)
        runner = BatchRunner(network)
    }

    /// The precision of the forward and backward passes (the network's when the trainer was made).
    public var precision: Precision { runner.precision }

    /// Bytes of the BPTT caches and scratch of every slice (0 before the first batch).
    public var cacheBytes: Int { runner.cacheBytes }

    /// The shortest interval between end-of-epoch checkpoints of a run by time budget.
    static let budgetCheckpointSeconds = 10.0

    /// The closed-loop data of R fed-back steps: the first k + R steps of each sequence (k = lossFromStep + 1).
    static func closedLoopData(_ data: SequenceDataset, rolloutSteps r: Int) -> SequenceDataset {
        data.prefix(steps: min(data.lossFromStep + 1 + r, data.steps))
    }

    /// The BPTT window: the truncation length, or the whole sequence.
    private func window(for data: SequenceDataset) -> Int { min(options.truncation ?? data.steps, data.steps) }

    // MARK: One batch

    /// Loss of sequences `indices` and its gradient (into `gradient`, zeroed first).
    func lossAndGradient(_ data: SequenceDataset, indices: ArraySlice<Int>, parameters p: UnsafePointer<Double>,
                         feedback: ClosedLoopFeedback? = nil) -> Double {
        gradient.zero()
        return batchLoss(data, indices: indices, parameters: p, gradient: true, feedback: feedback)
    }

    /// The mean squared error of sequences `indices`, with its gradient in `gradient` when asked (added to what
    /// is there), data parallel over `threads` slices (see `SliceRunner`). With `feedback`, the closed-loop loss
    /// instead (whole sequences, fed back after the warm-up).
    private func batchLoss(_ data: SequenceDataset, indices: ArraySlice<Int>, parameters p: UnsafePointer<Double>,
                           gradient withGradient: Bool, feedback: ClosedLoopFeedback? = nil) -> Double {
        runner.loss(data, indices: indices, window: feedback == nil ? window(for: data) : data.steps, threads: threads,
                    parameters: p, gradient: withGradient ? gradient : nil, feedback: feedback)
    }

    /// One training step on sequences `indices` at rate `eta`: forward, backward, clip, update. Returns the loss.
    private func step(_ data: SequenceDataset, indices: ArraySlice<Int>, learningRate eta: Double,
                      feedback: ClosedLoopFeedback? = nil) -> Double {
        network.parameters.withUnsafeMutableBufferPointer { theta in
            let n = theta.count, g = gradient.base
            let loss = lossAndGradient(data, indices: indices, parameters: theta.baseAddress!, feedback: feedback)
            // clip by global norm: g ← g · c / max(‖g‖, c)
            let norm = globalNorm(g, count: n)
            lastGradientNorm = norm
            if let c = options.clipNorm, norm > c { BLAS.scale(g, count: n, by: c / norm) }
            optimizer.update(theta.baseAddress!, gradient: g, count: n, learningRate: eta)
            return loss
        }
    }

    /// Forward, backward, clipping and one optimizer step on sequences `indices` of `data` at the options'
    /// base learning rate, outside `fit` (no shuffling, no checkpoint): what `rnnode bench train` times.
    public func trainBatch(_ data: SequenceDataset, indices: [Int]) -> Double {
        precondition(!indices.isEmpty && indices.allSatisfy { $0 >= 0 && $0 < data.count })
        return step(data, indices: indices[...], learningRate: options.learningRate)
    }

    /// The MSE over all of `data` (steps ≥ lossFromStep), in batches of the options' batch size; with `feedback`,
    /// the closed-loop loss (see `closedLoopSquaredError`).
    public func loss(on data: SequenceDataset, feedback: ClosedLoopFeedback? = nil) -> Double {
        let b = min(options.batchSize, data.count)
        let all = Array(0..<data.count)
        var sum = 0.0
        network.parameters.withUnsafeBufferPointer { p in
            for first in stride(from: 0, to: data.count, by: b) {
                let indices = all[first..<min(first + b, data.count)]
                sum += batchLoss(data, indices: indices, parameters: p.baseAddress!, gradient: false, feedback: feedback)
                    * Double(indices.count)
            }
        }
        return sum / Double(data.count)
    }

    /// GEMM floating-point operations of one training batch (forward, backward; 2mnk per product).
    public static func gemmOperationsPerBatch(_ c: NetworkConfiguration, batch b: Int, steps t: Int) -> Double {
        let n = Double(b * t), h = Double(c.hiddenSize), w = Double(c.cell.gateCount * c.hiddenSize), o = Double(c.outputSize)
        var total = 0.0
        for l in 0..<c.layers {
            let i = Double(l == 0 ? c.inputSize : c.hiddenSize)
            total += 2 * n * i * w + 2 * n * h * w                  // forward: X·W_x (all steps), h·W_h per step
            total += 2 * Double(b * (t - 1)) * w * h                // backward: ∂h_{t−1} = ∂z·W_hᵀ per step
            total += 2 * n * h * w + 2 * n * i * w                  // ∂W_h, ∂W_x
            if l > 0 { total += 2 * n * w * i }                     // ∂X for the layer below
        }
        return total + 3 * 2 * n * h * o                           // readout: Y, ∂W_y, ∂H
    }

    // MARK: The loop

    /// Trains on `training`, early-stopping on `validation`. With `checkpoint`, resumes from that file when it
    /// exists and matches, saves it atomically (on Ctrl-C too) with `metadata` (e.g. normalisation) inside.
    public func fit(training: SequenceDataset, validation: SequenceDataset?, checkpoint: URL? = nil,
                    metadata: [String: [Double]] = [:]) throws -> TrainingHistory {
        try validate(training, name: "training")
        if let validation { try validate(validation, name: "validation") }
        var run = try checkpoint.flatMap { url in
            FileManager.default.fileExists(atPath: url.path) ? try resume(from: url, training: training, validation: validation) : nil
        } ?? RunState(seed: options.seed)
        if run.finished(options) {
            return TrainingHistory(records: run.records, interrupted: false, stoppedEarly: run.stoppedEarly)
        }

        Interrupt.install()
        defer { Interrupt.uninstall() }
        let progress = ProgressReporter(enabled: options.progress)
        defer { progress.finish() }
        let batches = (training.count + options.batchSize - 1) / options.batchSize
        let sessionStart = Date()
        var sequencesThisSession = 0, batchesThisSession = 0
        let batchesLeftAtStart = (options.epochs - run.epoch) * batches - run.batch
        // The budget: seconds spent in earlier sessions (recorded epochs and the interrupted one) plus this one's.
        let budget = options.budgetSeconds.map(TrainingBudget.init(seconds:))
        let spentBefore = run.records.map(\.seconds).reduce(0, +) + run.epochSeconds
        func spent() -> Double { spentBefore + Date().timeIntervalSince(sessionStart) }
        var trainingSeconds = 0.0, lastValidationSeconds: Double?, budgetExhausted = false, lastSave = Date()
        var lastScoringSeconds = 0.0

        /// One rollout score of the network's current weights, its seconds counted.
        func timedScore(_ score: (RecurrentNetwork) -> RolloutScore) -> RolloutScore {
            let scoringStart = Date()
            let s = score(network)
            lastScoringSeconds = Date().timeIntervalSince(scoringStart)
            run.scoringSeconds += lastScoringSeconds; run.scores += 1
            return s
        }

        /// After a complete score: the candidate's weights are kept when their rollouts are complete too.
        func settleCandidate(_ score: (RecurrentNetwork) -> RolloutScore) {
            guard !run.candidateParameters.isEmpty else { return }
            let trained = network.parameters
            network.parameters = run.candidateParameters
            let s = timedScore(score)
            network.parameters = trained
            if s.complete, s.validTime >= run.bestScore.validTime {
                run.bestScore = s; run.bestScoreLoss = run.candidateLoss; run.bestScoreEpoch = run.candidateEpoch
                run.bestParameters = run.candidateParameters
            }
            run.candidateParameters = []; run.candidateLoss = .infinity; run.candidateEpoch = -1
        }

        func save() throws {
            guard let checkpoint else { return }
            try self.checkpoint(run, training: training, validation: validation, metadata: metadata).write(to: checkpoint)
        }

        while run.epoch < options.epochs {
            let epochRate = budget?.rate(spent: spent(), base: options.learningRate, schedule: options.schedule)
                ?? options.schedule.rate(epoch: run.epoch, of: options.epochs, base: options.learningRate)
            var eta = epochRate
            var shuffler = run.epochShuffler
            let order = shuffler.permutation(training.count)
            // The curriculum's rollout steps for this epoch, by the fraction of epochs or of the budget done.
            let fraction = budget.map { min(spent() / $0.seconds, 1) } ?? Double(run.epoch) / Double(max(options.epochs, 1))
            let rollout = closedLoop?.rollout(atFraction: fraction) ?? 0
            let epochFeedback = rollout > 0 ? closedLoop?.feedback : nil
            // Fresh seeded noise on the teacher-forced inputs each epoch (a function of seed and epoch, so resuming
            // sees the same); fed-back steps take their inputs from the network.
            let epochData = (rollout > 0 ? Self.closedLoopData(training, rolloutSteps: rollout) : training)
                .addingInputNoise(options.inputNoise, seed: options.seed, epoch: run.epoch,
                                  teacherForcedSteps: rollout > 0 ? training.lossFromStep + 1 : nil)
            let epochStart = Date()
            while run.batch < batches {
                let indices = order[(run.batch * options.batchSize)..<min((run.batch + 1) * options.batchSize, training.count)]
                if let budget {
                    // Stop before a batch that would overrun the budget with the closing validation pass; at
                    // least one batch runs. Before the first validation pass its cost is taken as half a training
                    // batch per validation batch (forward only is about a third).
                    let batchSeconds = batchesThisSession > 0 ? trainingSeconds / Double(batchesThisSession) : 0
                    let validationBatches = Double(((validation?.count ?? 0) + options.batchSize - 1) / options.batchSize)
                    let reserve = (lastValidationSeconds ?? batchSeconds * validationBatches / 2) + lastScoringSeconds
                    if run.epoch + run.batch > 0,
                       !budget.allowsBatch(spent: spent(), batchSeconds: batchSeconds, validationReserve: reserve) {
                        budgetExhausted = true
                        break
                    }
                    eta = budget.rate(spent: spent(), base: options.learningRate, schedule: options.schedule)
                }
                let batchStart = Date()
                let loss = step(epochData, indices: indices, learningRate: eta, feedback: epochFeedback)
                trainingSeconds += Date().timeIntervalSince(batchStart)
                guard loss.isFinite else {
                    throw TrainingError("training diverged: loss \(loss) at epoch \(run.epoch + 1), batch \(run.batch + 1)"
                                        + " (try a smaller learning rate or a clip norm); the last checkpoint is kept")
                }
                let counted = Double(indices.count * (epochData.steps - epochData.lossFromStep) * epochData.outputSize)
                run.epochSquaredError += loss * counted
                run.epochCounted += counted
                run.batch += 1
                sequencesThisSession += indices.count; batchesThisSession += 1
                let elapsed = Date().timeIntervalSince(sessionStart)
                let epochsShown = budget.map { b in
                    max(run.epoch + 1, Int((b.seconds / max(spent(), 1e-9) * (Double(run.epoch) + Double(run.batch) / Double(batches))).rounded()))
                } ?? options.epochs
                progress.update(epoch: run.epoch, of: epochsShown, batch: run.batch, of: batches,
                                loss: run.epochSquaredError / run.epochCounted, validationLoss: run.records.last?.validationLoss,
                                sequencesPerSecond: Double(sequencesThisSession) / max(elapsed, 1e-9),
                                secondsLeft: budget.map { max($0.seconds - spent(), 0) }
                                    ?? elapsed / Double(batchesThisSession) * Double(batchesLeftAtStart - batchesThisSession))
                let hookFired = interruptAfterBatches.map { batchesThisSession >= $0 } ?? false
                if Interrupt.requested || hookFired {
                    run.epochSeconds += Date().timeIntervalSince(epochStart)
                    try save()
                    return TrainingHistory(records: run.records, interrupted: true, stoppedEarly: false)
                }
            }
            if budgetExhausted && run.batch == 0 {
                // The budget ran out between epochs: nothing to record.
                run.stoppedEarly = true
                if let score = rolloutScore { settleCandidate(score) }
                if !run.bestParameters.isEmpty { network.parameters = run.bestParameters }
                try save()
                break
            }
            // end of epoch (or of the budget, part way through one): validate, early-stopping bookkeeping, score
            // the rollouts when due, record, checkpoint
            let validationStart = Date()
            let validationLoss = validation.map { v in
                closedLoop.map { c in loss(on: Self.closedLoopData(v, rolloutSteps: c.rolloutSteps), feedback: c.feedback) } ?? loss(on: v)
            }
            if validation != nil { lastValidationSeconds = Date().timeIntervalSince(validationStart) }
            if let v = validationLoss {
                if v < run.bestValidationLoss {
                    run.bestValidationLoss = v; run.epochsWithoutImprovement = 0
                    if rolloutScore == nil { run.bestParameters = network.parameters }
                } else {
                    run.epochsWithoutImprovement += 1
                }
                if let patience = options.patience, run.epochsWithoutImprovement >= patience { run.stoppedEarly = true }
            }
            if let score = rolloutScore, let v = validationLoss {
                let closing = run.stoppedEarly || budgetExhausted || run.epoch + 1 >= options.epochs
                let due = budget == nil ? (run.epoch + 1) % Self.scoringEvery(epochs: options.epochs) == 0
                    : run.scoringSeconds + lastScoringSeconds <= Self.scoringShare * spent()
                if run.bestScore.complete {
                    // Only ties are left, and they go to the lower validation loss: no scoring until the end.
                    if v < min(run.candidateLoss, run.bestScoreLoss) {
                        run.candidateLoss = v; run.candidateEpoch = run.epoch; run.candidateParameters = network.parameters
                    }
                    if closing { settleCandidate(score) }
                } else if closing || due {
                    let s = timedScore(score)
                    if s.validTime > run.bestScore.validTime || (s.validTime == run.bestScore.validTime && v < run.bestScoreLoss)
                        || run.bestParameters.isEmpty {
                        run.bestScore = s; run.bestScoreLoss = v; run.bestScoreEpoch = run.epoch; run.bestParameters = network.parameters
                    }
                }
            }
            // The epoch's seconds count its validation and scoring, as the budget does.
            run.records.append(EpochRecord(epoch: run.epoch, trainingLoss: run.epochSquaredError / run.epochCounted,
                                           validationLoss: validationLoss, learningRate: epochRate,
                                           seconds: run.epochSeconds + Date().timeIntervalSince(epochStart)))
            run.epoch += 1; run.batch = 0; run.epochSquaredError = 0; run.epochCounted = 0; run.epochSeconds = 0
            run.epochShuffler = shuffler
            if budgetExhausted { run.stoppedEarly = true }
            if run.stoppedEarly || run.epoch == options.epochs {
                // restore the best weights seen on the validation split
                if options.patience != nil || budget != nil, !run.bestParameters.isEmpty { network.parameters = run.bestParameters }
                try save()
                break
            }
            // By budget, epochs can be short and every second counts: the checkpoint is written at most every
            // `budgetCheckpointSeconds` (Ctrl-C still saves the exact position); by epochs, after every epoch.
            if budget == nil || Date().timeIntervalSince(lastSave) >= Self.budgetCheckpointSeconds {
                try save()
                lastSave = Date()
            }
        }
        var history = TrainingHistory(records: run.records, interrupted: false, stoppedEarly: run.stoppedEarly)
        if rolloutScore != nil, run.bestScoreEpoch >= 0 {
            history.selection = RolloutSelectionRecord(epoch: run.bestScoreEpoch, score: run.bestScore, validationLoss: run.bestScoreLoss,
                                                       scores: run.scores, seconds: run.scoringSeconds)
        }
        return history
    }

    private func validate(_ d: SequenceDataset, name: String) throws {
        let c = network.configuration
        guard d.inputSize == c.inputSize, d.outputSize == c.outputSize else {
            throw TrainingError("\(name) data has \(d.inputSize) inputs and \(d.outputSize) outputs; the network expects \(c.inputSize) and \(c.outputSize)")
        }
        guard d.count > 0, d.steps > 0 else { throw TrainingError("\(name) data is empty (\(d.count) sequences of \(d.steps) steps)") }
        guard d.lossFromStep >= 0, d.lossFromStep < d.steps else {
            throw TrainingError("\(name) data counts the loss from step \(d.lossFromStep), but sequences have \(d.steps) steps")
        }
        if let bad = d.inputs.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError("\(name) inputs hold \(d.inputs[bad]) (sequence \(bad / (d.steps * d.inputSize)), step \(bad / d.inputSize % d.steps))")
        }
        if let bad = d.targets.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError("\(name) targets hold \(d.targets[bad]) (sequence \(bad / (d.steps * d.outputSize)), step \(bad / d.outputSize % d.steps))")
        }
        guard options.batchSize > 0, options.epochs >= 0, options.learningRate > 0, options.learningRate.isFinite else {
            throw TrainingError("options need batchSize > 0, epochs ≥ 0, learningRate > 0 (got \(options.batchSize), \(options.epochs), \(options.learningRate))")
        }
        if let t = options.truncation, t < 1 { throw TrainingError("truncation must be at least 1 step (got \(t))") }
        if let c = options.clipNorm, !(c > 0) { throw TrainingError("clipNorm must be positive (got \(c))") }
        if let p = options.patience, p < 1 { throw TrainingError("patience must be at least 1 epoch (got \(p))") }
        if let c = closedLoop, c.rolloutSteps > 0 {
            guard d.inputSize == d.outputSize, c.feedback.scale.count == d.inputSize else {
                throw TrainingError("closed-loop training feeds the outputs back as inputs: it needs as many inputs as outputs and feedback scales (got \(d.inputSize), \(d.outputSize) and \(c.feedback.scale.count))")
            }
            guard options.truncation == nil else { throw TrainingError("closed-loop training runs whole sequences: it takes no truncation") }
        }
        if let b = options.budgetSeconds, !(b > 0 && b.isFinite) { throw TrainingError("the time budget must be positive seconds (got \(b))") }
        if !(options.inputNoise >= 0 && options.inputNoise.isFinite) { throw TrainingError("input noise σ must be ≥ 0 and finite (got \(options.inputNoise))") }
    }
}

// MARK: Run state and its checkpoint

/// Everything that makes a resumed run continue exactly where it stopped.
struct RunState {
    var epoch = 0
    /// Batches of `epoch` already done.
    var batch = 0
    var epochSquaredError = 0.0
    var epochCounted = 0.0
    var epochSeconds = 0.0
    /// The shuffling generator as it was at the start of `epoch`.
    var epochShuffler: Xoshiro256StarStar
    var records: [EpochRecord] = []
    var bestValidationLoss = Double.infinity
    var bestParameters: [Double] = []
    /// With `Trainer.rolloutScore`: the best score taken, the validation loss of its weights, the seconds spent scoring.
    var bestScore = RolloutScore.unscored
    var bestScoreLoss = Double.infinity
    var scoringSeconds = 0.0
    var bestScoreEpoch = -1
    /// After a complete score: the weights of the lowest validation loss below the kept weights' since, unscored.
    var candidateParameters: [Double] = []
    var candidateLoss = Double.infinity
    var candidateEpoch = -1
    /// Rollout scores taken.
    var scores = 0
    var epochsWithoutImprovement = 0
    var stoppedEarly = false

    init(seed: UInt64) { epochShuffler = Xoshiro256StarStar(seed: seed, stream: 0x5348_5546) }  // "SHUF"

    func finished(_ options: TrainingOptions) -> Bool { stoppedEarly || (epoch >= options.epochs && batch == 0) }
}

extension Trainer {
    /// The options that must agree for a resume (epochs may grow; progress display may change).
    private func resumableOptions() -> String {
        var o = options; o.epochs = 0; o.progress = false
        return canonicalJSON(o) + (closedLoop.map { " closed loop " + canonicalJSON($0) } ?? "")
            + (rolloutScore == nil ? "" : " weights kept by rollout score (complete scores end scoring)")
    }

    private static func fingerprint(_ d: SequenceDataset?) -> String {
        guard let d else { return "none" }
        let h = StableHash.fnv1a64(words: d.targets.lazy.map(\.bitPattern),
                                   continuing: StableHash.fnv1a64(words: d.inputs.lazy.map(\.bitPattern)))
        return "\(d.count)x\(d.steps)x\(d.inputSize)->\(d.outputSize) from \(d.lossFromStep) #\(String(h, radix: 16))"
    }

    func checkpoint(_ run: RunState, training: SequenceDataset, validation: SequenceDataset?,
                    metadata: [String: [Double]]) -> Checkpoint {
        var c = network.checkpoint(metadata: metadata)
        let s = run.epochShuffler.state
        c.strings["training.options"] = resumableOptions()
        c.strings["training.data"] = Self.fingerprint(training)
        c.strings["training.validationData"] = Self.fingerprint(validation)
        c.strings["training.shuffler"] = [s.0, s.1, s.2, s.3].map { String($0, radix: 16) }.joined(separator: " ")
        c.arrays["training.firstMoment"] = optimizer.firstMoment
        c.arrays["training.secondMoment"] = optimizer.secondMoment
        c.arrays["training.bestParameters"] = run.bestParameters
        if rolloutScore != nil {
            c.arrays["training.selection"] = [run.bestScore.validTime, run.bestScore.complete ? 1 : 0, run.bestScoreLoss, run.scoringSeconds,
                                              Double(run.bestScoreEpoch), Double(run.scores), run.candidateLoss, Double(run.candidateEpoch)]
            c.arrays["training.candidateParameters"] = run.candidateParameters
        }
        c.arrays["training.counters"] = [Double(run.epoch), Double(run.batch), run.epochSquaredError, run.epochCounted,
                                         run.epochSeconds, Double(optimizer.steps), run.bestValidationLoss,
                                         Double(run.epochsWithoutImprovement), run.stoppedEarly ? 1 : 0]
        c.arrays["training.history.epoch"] = run.records.map { Double($0.epoch) }
        c.arrays["training.history.trainingLoss"] = run.records.map(\.trainingLoss)
        c.arrays["training.history.validationLoss"] = run.records.map { $0.validationLoss ?? .nan }
        c.arrays["training.history.learningRate"] = run.records.map(\.learningRate)
        c.arrays["training.history.seconds"] = run.records.map(\.seconds)
        return c
    }

    private func resume(from url: URL, training: SequenceDataset, validation: SequenceDataset?) throws -> RunState {
        let c = try Checkpoint.read(from: url)
        func mismatch(_ what: String) -> CheckpointError { CheckpointError(file: c.file, problem: .mismatch(what)) }
        try c.requireKind(RecurrentNetwork.checkpointKind)
        let stored = try c.decodeJSON(NetworkConfiguration.self, from: "network.configuration")
        guard stored == network.configuration else {
            throw mismatch("it holds a network \(canonicalJSON(stored)), this run trains \(canonicalJSON(network.configuration))")
        }
        guard try c.string("training.options") == resumableOptions() else {
            throw mismatch("training options differ: stored \(try c.string("training.options")), now \(resumableOptions())")
        }
        guard try c.string("training.data") == Self.fingerprint(training) else {
            throw mismatch("training data differs: stored \(try c.string("training.data")), now \(Self.fingerprint(training))")
        }
        guard try c.string("training.validationData") == Self.fingerprint(validation) else {
            throw mismatch("validation data differs: stored \(try c.string("training.validationData")), now \(Self.fingerprint(validation))")
        }
        let n = network.parameterCount
        let parameters = try c.array("network.parameters", count: n)
        let counters = try c.array("training.counters", count: 9)
        let words = try c.string("training.shuffler").split(separator: " ").compactMap { UInt64($0, radix: 16) }
        guard words.count == 4 else { throw CheckpointError(file: c.file, problem: .malformed("shuffler state")) }
        var run = RunState(seed: options.seed)
        run.epochShuffler = Xoshiro256StarStar(state: (words[0], words[1], words[2], words[3]))
        run.epoch = Int(counters[0]); run.batch = Int(counters[1])
        run.epochSquaredError = counters[2]; run.epochCounted = counters[3]; run.epochSeconds = counters[4]
        run.bestValidationLoss = counters[6]; run.epochsWithoutImprovement = Int(counters[7]); run.stoppedEarly = counters[8] != 0
        let best = try c.array("training.bestParameters")
        guard best.isEmpty || best.count == n else { throw mismatch("best parameters have \(best.count) values, expected \(n)") }
        run.bestParameters = best
        if rolloutScore != nil {
            let selection = try c.array("training.selection", count: 8)
            run.bestScore = RolloutScore(validTime: selection[0], complete: selection[1] != 0)
            run.bestScoreLoss = selection[2]; run.scoringSeconds = selection[3]
            run.bestScoreEpoch = Int(selection[4]); run.scores = Int(selection[5])
            run.candidateLoss = selection[6]; run.candidateEpoch = Int(selection[7])
            let candidate = try c.array("training.candidateParameters")
            guard candidate.isEmpty || candidate.count == n else {
                throw mismatch("candidate parameters have \(candidate.count) values, expected \(n)")
            }
            run.candidateParameters = candidate
        }
        let epochs = try c.array("training.history.epoch"), losses = try c.array("training.history.trainingLoss", count: epochs.count)
        let validationLosses = try c.array("training.history.validationLoss", count: epochs.count)
        let rates = try c.array("training.history.learningRate", count: epochs.count)
        let seconds = try c.array("training.history.seconds", count: epochs.count)
        run.records = epochs.indices.map {
            EpochRecord(epoch: Int(epochs[$0]), trainingLoss: losses[$0],
                        validationLoss: validationLosses[$0].isNaN ? nil : validationLosses[$0],
                        learningRate: rates[$0], seconds: seconds[$0])
        }
        var restored = Optimizer(kind: options.optimizer, count: n)
        restored.firstMoment = try c.array("training.firstMoment", count: n)
        restored.secondMoment = try c.array("training.secondMoment", count: restored.secondMoment.count)
        restored.steps = Int(counters[5])
        optimizer = restored
        network.parameters = parameters
        return run
    }
}
