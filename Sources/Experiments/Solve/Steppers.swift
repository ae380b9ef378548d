// The learned steppers behind one interface: each is fed normalised states one at a time and returns its
// prediction of the next normalised increment. Each model's registration (training, loading, settings, knobs) sits
// beside its stepper; `ModelRegistry.all` lists them.
import Foundation
import Recurrent

/// A learned one-step map in normalised coordinates: after seeing z_0 … z_n it predicts g_n, the normalised
/// increment y_{n+1} − y_n.
public protocol LearnedStepper: AnyObject {
    /// Trainable parameters.
    var parameterCount: Int { get }
    /// Forgets everything seen (zero hidden state, empty window).
    func reset()
    /// Feeds z_n, returns ĝ_n.
    func advance(_ z: [Double]) -> [Double]
}

// MARK: Recurrent networks (rnn, lstm, gru)

/// A `RecurrentNetwork` stepped with batch 1; its hidden state carries the window's memory.
public final class RecurrentStepper: LearnedStepper {
    public let network: RecurrentNetwork
    private var state: RecurrentState

    public init(network: RecurrentNetwork) {
        self.network = network
        self.state = network.makeState(batch: 1)
    }

    public var parameterCount: Int { network.parameterCount }
    public func reset() { state = network.makeState(batch: 1) }
    public func advance(_ z: [Double]) -> [Double] { network.step(z, state: &state) }
}

/// A trained recurrent network (its steppers share the weights).
final class TrainedRecurrentNetwork: TrainedModel {
    let network: RecurrentNetwork
    /// Seconds recorded over every epoch, including those before a resumed interruption.
    let recordedSeconds: Double?
    init(network: RecurrentNetwork, recordedSeconds: Double? = nil) { self.network = network; self.recordedSeconds = recordedSeconds }
    var parameterCount: Int { network.parameterCount }
    func makeStepper() -> LearnedStepper { RecurrentStepper(network: network) }
    func checkpoint(metadata: [String: [Double]]) -> Checkpoint { network.checkpoint(metadata: metadata) }
}

public enum SequenceBuilder {
    /// Teacher-forcing sequences for the recurrent networks: from each sequence of `data`, windows of L = k + m
    /// consecutive steps starting every m steps; the loss counts from step k − 1 on, i.e. once the network has
    /// seen k states, exactly as in evaluation. Nil when no sequence is long enough.
    public static func dataset(_ data: TeacherForcing, window k: Int, sequenceSteps m: Int) -> SequenceDataset? {
        let length = k + m, i = data.inputSize, o = data.outputSize
        var inputs: [Double] = [], targets: [Double] = [], count = 0
        for s in data.inputs.indices {
            var start = 0
            while start + length <= data.steps(s) {
                inputs += data.inputs[s][(start * i)..<((start + length) * i)]
                targets += data.targets[s][(start * o)..<((start + length) * o)]
                count += 1
                start += m
            }
        }
        guard count > 0 else { return nil }
        return SequenceDataset(count: count, steps: length, inputSize: i, outputSize: o, inputs: inputs,
                               targets: targets, lossFromStep: k - 1)
    }
}

enum RecurrentModels {
    static func registration(_ cell: CellKind) -> ModelRegistration {
        let name = cell.rawValue
        return ModelRegistration(
            name: name,
            summary: "\(cell == .rnn ? "Elman RNN" : cell == .lstm ? "LSTM" : "GRU") trained by backpropagation through time",
            isRecurrentNetwork: true, defaultEpochs: 60, defaultWindow: { _ in 16 }, quickWindow: nil,
            // 32 for all three. The GRU at 24 reached the oscillator's rel. L2 < 1e-2 more often (it fits the 4
            // training orbits less tightly), but lost Lotka–Volterra and van der Pol side by side against 32 (seeds
            // 1–3, VPT median 4.8 against 14.0 and 1.9 against 4.9); see README, Training defaults.
            defaultHidden: 32,
            settings: { c in
                var s = ["hidden": "\(c.hidden)", "layers": "\(c.layers)",
                         "sequence_steps": "\(c.sequenceSteps)", "batch_size": "\(c.batchSize)",
                         "learning_rate": CSV.format(c.learningRate)]
                if let budget = c.effectiveBudget { s["budget_seconds"] = CSV.format(budget) } else { s["epochs"] = "\(c.effectiveEpochs)" }
                s["selected_by"] = "validation_\(c.selection.rawValue)"
                // Since the score counted 0 for a validation run that leaves its box within a test rollout's length
                // (`RolloutSelection`): weights chosen before are another model, not a cache hit.
                if c.selection == .vpt { s["selection_bounded_over"] = "test_rollout" }
                if c.rolloutSteps > 0 { s["rollout_steps"] = "\(c.rolloutSteps)" }
                if c.precision == .single { s["precision"] = c.precision.rawValue }
                return s
            },
            validate: { c in
                if let budget = c.budget, !(budget > 0 && budget.isFinite) {
                    throw SolveConfigurationError("--budget must be positive seconds (got \(budget))")
                }
                if c.rolloutSteps < 0 { throw SolveConfigurationError("--rollout-steps must be ≥ 0 (got \(c.rolloutSteps))") }
                if c.rolloutSteps > 0 && c.parallel != nil {
                    throw SolveConfigurationError("--rollout-steps feeds the whole predicted state back: it takes one model of the whole state, not --groups")
                }
            },
            train: { request in
                let c = request.configuration
                let m = c.trainingSequenceSteps
                guard let trainingSet = SequenceBuilder.dataset(request.training, window: c.window, sequenceSteps: m) else {
                    throw SolveConfigurationError("training trajectories are too short for --window \(c.window) plus \(m) steps")
                }
                let validationSet = request.validation.flatMap { SequenceBuilder.dataset($0, window: c.window, sequenceSteps: m) }
                let network = RecurrentNetwork(
                    configuration: NetworkConfiguration(cell: cell, inputSize: request.training.inputSize, hiddenSize: c.hidden,
                                                        layers: c.layers, outputSize: request.training.outputSize),
                    seed: c.seed, precision: c.precision)
                var options = TrainingOptions()
                // By budget, the epochs only cap the run (never reached: the budget ends it).
                options.epochs = c.effectiveBudget == nil ? c.effectiveEpochs : 1_000_000
                options.budgetSeconds = c.effectiveBudget
                options.inputNoise = c.noise
                options.batchSize = c.batchSize
                options.learningRate = c.learningRate
                options.schedule = .cosine(minimum: c.learningRate * 0.02)
                options.clipNorm = 1.0
                options.seed = c.seed
                // Keep the best validation weights, by rollouts or by loss (`--select-by`; patience only triggers
                // that restore here).
                options.patience = validationSet == nil ? nil : options.epochs
                options.progress = c.showProgress
                if FileManager.default.fileExists(atPath: request.resumeURL.path) {
                    request.log("resuming the interrupted training from \(request.resumeURL.path)")
                }
                request.log("training \(name) (\(network.parameterCount) parameters) on \(trainingSet.count) sequences of \(trainingSet.steps) steps "
                            + (options.budgetSeconds.map { "for \(CSV.format($0)) s" } ?? "for \(options.epochs) epochs")
                            + (c.noise > 0 ? " with input noise σ = \(CSV.format(c.noise))" : ""))
                let trainer = Trainer(network: network, options: options)
                if let selection = request.rolloutSelection {
                    trainer.rolloutScore = { selection.score(RecurrentStepper(network: $0)) }
                }
                if c.rolloutSteps > 0 {
                    guard let normalization = Normalization(metadata: request.metadata),
                          normalization.dimension == request.training.inputSize, request.training.inputSize == request.training.outputSize else {
                        throw SolveConfigurationError("--rollout-steps needs the state's normalisation and as many inputs as outputs")
                    }
                    // z_{n+1} = z_n + (σ_Δ/σ_y) ĝ_n + μ_Δ/σ_y, an angle reduced as `Normalization.z` reduces it
                    let d = normalization.dimension
                    let angles = (0..<d).filter { normalization.periods[$0] > 0 }.map {
                        ClosedLoopFeedback.Angle(component: $0, period: normalization.periods[$0] / normalization.stateScale[$0],
                                                 shift: normalization.stateMean[$0] / normalization.stateScale[$0])
                    }
                    trainer.closedLoop = ClosedLoopTraining(
                        feedback: ClosedLoopFeedback(scale: (0..<d).map { normalization.incrementScale[$0] / normalization.stateScale[$0] },
                                                     offset: (0..<d).map { normalization.incrementMean[$0] / normalization.stateScale[$0] },
                                                     angles: angles),
                        rolloutSteps: c.rolloutSteps)
                }
                let history = try trainer
                    .fit(training: trainingSet, validation: validationSet, checkpoint: request.resumeURL, metadata: request.metadata)
                if history.interrupted { throw SolveError.interrupted(checkpoint: request.resumeURL) }
                if let lastRecord = history.records.last {
                    request.log("trained \(history.records.count) epochs: training loss \(SummaryTable.format(lastRecord.trainingLoss))"
                        + (lastRecord.validationLoss.map { ", validation loss \(SummaryTable.format($0))" } ?? ""))
                }
                if let kept = history.selection, let selection = request.rolloutSelection {
                    request.log("kept the weights of epoch \(kept.epoch + 1): validation VPT \(SummaryTable.format(kept.score.validTime)) (mean of \(selection.runs.count) starts, 0 for a run that leaves its box\(kept.score.complete ? "; every one valid to its end" : "")), validation loss \(SummaryTable.format(kept.validationLoss)); \(kept.scores) scores took \(SummaryTable.format(kept.seconds)) s")
                }
                let recorded = history.records.map(\.seconds).reduce(0, +)
                return TrainedRecurrentNetwork(network: network, recordedSeconds: recorded > 0 ? recorded : nil)
            },
            load: { checkpoint, c, inputSize, outputSize in
                let network = try RecurrentNetwork(checkpoint: checkpoint)
                guard network.configuration.inputSize == inputSize, network.configuration.outputSize == outputSize else {
                    throw CheckpointError(file: checkpoint.file, problem: .malformed("a network of \(network.configuration.inputSize) inputs and \(network.configuration.outputSize) outputs, expected \(inputSize) and \(outputSize)"))
                }
                guard network.precision == c.precision else {
                    throw CheckpointError(file: checkpoint.file, problem: .malformed("a network in \(network.precision.rawValue) precision, expected \(c.precision.rawValue)"))
                }
                return TrainedRecurrentNetwork(network: network)
            },
            memory: { c, d, rows in
                let gates: Double = cell == .lstm ? 4 : cell == .gru ? 3 : 1, h = Double(c.hidden), l = Double(c.layers)
                let k = Double(c.window), m = Double(c.trainingSequenceSteps), dd = Double(d)
                return [
                    // Windows of k + m states every m steps, inputs and targets.
                    ("the training sequences (trajectories × rows × (--window + --sequence-steps) / --sequence-steps)",
                     rows * (k + m) / m * dd * 8 * 2),
                    ("the BPTT caches (--batch-size × (--window + --sequence-steps) × --layers × --hidden)",
                     Double(c.batchSize) * (k + m) * l * h * (gates + 4) * 8),
                    ("the parameters with gradient and Adam moments (--layers × --hidden²)",
                     l * gates * h * (max(dd, h) + h + 1) * 8 * 4),
                ]
            },
            knobs: [
                TuningKnob(name: "hidden", lower: 16, upper: 256, logarithmic: true, integer: true) { $0.hidden = Int($1) },
                TuningKnob(name: "window", lower: 4, upper: 64, logarithmic: true, integer: true) { $0.windowOverride = Int($1) },
                TuningKnob(name: "learning_rate", lower: 3e-4, upper: 1e-2, logarithmic: true, integer: false) { $0.learningRate = $1 },
                TuningKnob(name: "noise", lower: 1e-5, upper: 1e-1, logarithmic: true, integer: false) { $0.noise = $1 },
                TuningKnob(name: "rollout_steps", lower: 0, upper: 32, logarithmic: false, integer: true) { $0.rolloutSteps = Int($1) },
            ])
    }
}

// MARK: Echo state network

/// An `EchoStateNetwork` fed the normalised state; its readout gives the normalised increment.
public final class ReservoirStepper: LearnedStepper {
    public let network: EchoStateNetwork
    private var state: [Double]

    public init(network: EchoStateNetwork) {
        self.network = network
        self.state = network.makeState()
    }

    /// The readout W_out: outputs × features.
    public var parameterCount: Int { network.configuration.outputSize * network.featureCount }
    public func reset() { state = network.makeState() }
    public func advance(_ z: [Double]) -> [Double] { network.step(z, state: &state) }
}

final class TrainedEchoStateNetwork: TrainedModel {
    let network: EchoStateNetwork
    init(network: EchoStateNetwork) { self.network = network }
    var parameterCount: Int { network.configuration.outputSize * network.featureCount }
    func makeStepper() -> LearnedStepper { ReservoirStepper(network: network) }
    func checkpoint(metadata: [String: [Double]]) -> Checkpoint { network.checkpoint(metadata: metadata) }
}

enum EchoStateModel {
    static let registration = ModelRegistration(
        name: "esn", summary: "echo state network: fixed random reservoir, ridge-regression readout",
        isRecurrentNetwork: false, defaultEpochs: 0, defaultWindow: { _ in 100 }, quickWindow: 50,
        settings: { c in
            let r = c.reservoir
            return ["reservoir_size": "\(r.size)", "connectivity": CSV.format(r.connectivity),
                    "spectral_radius": CSV.format(r.spectralRadius), "leak_rate": CSV.format(r.leakRate),
                    "input_scaling": CSV.format(r.inputScaling), "bias_scaling": CSV.format(r.biasScaling),
                    "ridge": CSV.format(r.ridge), "washout": "\(r.washout)"]
                // Named only when not the original linear readout and dense W_in, so earlier models keep their keys.
                .merging(r.readout == .linear ? [:] : ["readout": r.readout.rawValue]) { $1 }
                .merging(r.inputWeights == .dense ? [:] : ["input_weights": r.inputWeights.rawValue]) { $1 }
        },
        validate: { c in
            try ModelRegistration.requireDoublePrecision(c)
            let r = c.reservoir
            if r.size < 1 || !(r.connectivity > 0 && r.connectivity <= 1) || !(r.spectralRadius > 0)
                || !(r.leakRate > 0 && r.leakRate <= 1) || !(r.ridge >= 0) || r.washout < 0
                || !(r.inputScaling >= 0 && r.inputScaling.isFinite) || !(r.biasScaling >= 0 && r.biasScaling.isFinite) {
                throw SolveConfigurationError("reservoir settings out of range: size ≥ 1, 0 < connectivity ≤ 1, spectral radius > 0, 0 < leak ≤ 1, ridge ≥ 0, input and bias scaling ≥ 0")
            }
        },
        train: { request in
            let c = request.configuration, r = c.reservoir
            let configuration = r.configuration(inputSize: request.training.inputSize, outputSize: request.training.outputSize)
            let network = try EchoStateNetwork(configuration: configuration, seed: c.seed)
            let washout = min(r.washout, max((request.training.inputs.first.map { $0.count / request.training.inputSize } ?? 0) / 2, 0))
            request.log("fitting esn readout (reservoir \(r.size), spectral radius \(SummaryTable.format(network.measuredSpectralRadius)), \(r.readout.rawValue) features) on \(request.training.inputs.count) sequences")
            try network.fit(inputs: request.training.inputs, targets: request.training.targets, warmup: washout)
            return TrainedEchoStateNetwork(network: network)
        },
        load: { checkpoint, _, inputSize, outputSize in
            let network = try EchoStateNetwork(checkpoint: checkpoint)
            guard network.configuration.inputSize == inputSize, network.configuration.outputSize == outputSize else {
                throw CheckpointError(file: checkpoint.file, problem: .malformed("a reservoir of \(network.configuration.inputSize) inputs and \(network.configuration.outputSize) outputs, expected \(inputSize) and \(outputSize)"))
            }
            return TrainedEchoStateNetwork(network: network)
        },
        memory: { c, inputs, _ in
            // XᵀX of the P features once per fitting thread and once for the Cholesky solve; the CSR
            // reservoir, its Arnoldi basis (at most 1501 vectors) or its dense copy (N ≤ 1024) are smaller.
            let p = Double(c.reservoir.configuration(inputSize: inputs, outputSize: inputs).featureCount)
            let threads = Double((try? EchoStateNetwork.defaultThreads()) ?? 1)
            return [("the ridge normal equations (features² per thread, plus one; features: --reservoir-size + 1 + inputs, with --readout quadratic twice the units)", p * p * 8 * (threads + 1))]
        },
        knobs: [
            TuningKnob(name: "reservoir_size", lower: 200, upper: 2000, logarithmic: true, integer: true) { $0.reservoir.size = Int($1) },
            TuningKnob(name: "spectral_radius", lower: 0.1, upper: 1.5, logarithmic: false, integer: false) { $0.reservoir.spectralRadius = $1 },
            TuningKnob(name: "leak_rate", lower: 0.05, upper: 1, logarithmic: true, integer: false) { $0.reservoir.leakRate = $1 },
            TuningKnob(name: "input_scaling", lower: 0.01, upper: 2, logarithmic: true, integer: false) { $0.reservoir.inputScaling = $1 },
            TuningKnob(name: "bias_scaling", lower: 0, upper: 1, logarithmic: false, integer: false) { $0.reservoir.biasScaling = $1 },
            TuningKnob(name: "ridge", lower: 1e-12, upper: 1e-2, logarithmic: true, integer: false) { $0.reservoir.ridge = $1 },
            // Down to 1e-9 (about none): on Lorenz-63 the readout prefers no noise to 1e-5.
            TuningKnob(name: "noise", lower: 1e-9, upper: 1e-1, logarithmic: true, integer: false) { $0.noise = $1 },
            // The index into `ReservoirReadout.allCases`: 0 linear, 1 pathak, 2 quadratic.
            TuningKnob(name: "readout", lower: 0, upper: Double(ReservoirReadout.allCases.count - 1), logarithmic: false, integer: true) {
                $0.reservoir.readout = ReservoirReadout.allCases[min(max(Int($1), 0), ReservoirReadout.allCases.count - 1)]
            },
        ])
}

// MARK: Linear autoregression (the statistical baseline)

/// ĝ_n = Σ_{j=0}^{k−1} A_j z_{n−j} + b, with [A_{k−1} … A_0; b] = W ((k·I + 1), O) fitted by ridge least squares.
/// Before k states have been seen, the window is padded with the first state.
public final class LinearAutoregressiveStepper: LearnedStepper {
    public let window: Int
    public let inputSize: Int
    public let outputSize: Int
    /// Row-major ((k·I + 1), O): rows for z_{n−k+1} … z_n, then the bias row.
    public let weights: [Double]
    /// The last k states, oldest first, plus a trailing 1.
    private var features: [Double]
    private var seen = 0

    public init(window: Int, inputSize: Int, outputSize: Int, weights: [Double]) {
        precondition(weights.count == (window * inputSize + 1) * outputSize)
        self.window = window; self.inputSize = inputSize; self.outputSize = outputSize; self.weights = weights
        features = [Double](repeating: 0, count: window * inputSize + 1)
        features[window * inputSize] = 1
    }

    /// A model with as many outputs as inputs.
    public convenience init(window: Int, dimension: Int, weights: [Double]) {
        self.init(window: window, inputSize: dimension, outputSize: dimension, weights: weights)
    }

    public var parameterCount: Int { weights.count }
    public func reset() { seen = 0 }

    public func advance(_ z: [Double]) -> [Double] {
        let d = inputSize, p = window * d, o = outputSize
        if seen == 0 {
            for j in 0..<window { for i in 0..<d { features[j * d + i] = z[i] } }
        } else {
            // Shift the window one state older and append z.
            for index in 0..<(p - d) { features[index] = features[index + d] }
            for i in 0..<d { features[p - d + i] = z[i] }
        }
        seen += 1
        var g = [Double](repeating: 0, count: o)
        for r in 0...p {
            let f = features[r]
            for i in 0..<o { g[i] += f * weights[r * o + i] }
        }
        return g
    }

    /// Fits W by ridge regression on every window of every sequence: rows [z_{n−k+1} … z_n, 1] → g_n for
    /// n = k−1 … N−1 (N the sequence's steps).
    public static func fit(_ data: TeacherForcing, window k: Int, ridge: Double) throws -> LinearAutoregressiveStepper {
        let d = data.inputSize, o = data.outputSize, p = k * d + 1
        var features: [Double] = [], targets: [Double] = [], rows = 0
        for s in data.inputs.indices where data.steps(s) >= k {
            for n in (k - 1)..<data.steps(s) {
                features += data.inputs[s][((n - k + 1) * d)..<((n + 1) * d)]
                features.append(1)
                targets += data.targets[s][(n * o)..<((n + 1) * o)]
                rows += 1
            }
        }
        guard rows >= p else {
            throw SolveConfigurationError("the linear model needs at least \(p) training windows, the data give \(rows); use more or longer training trajectories or a shorter --window")
        }
        let weights = try ridgeRegression(features: features, rows: rows, columns: p, targets: targets, outputs: o, ridge: ridge)
        return LinearAutoregressiveStepper(window: k, inputSize: d, outputSize: o, weights: weights)
    }
}

final class TrainedLinearModel: TrainedModel {
    let window: Int, inputSize: Int, outputSize: Int, weights: [Double]
    init(_ s: LinearAutoregressiveStepper) { window = s.window; inputSize = s.inputSize; outputSize = s.outputSize; weights = s.weights }
    var parameterCount: Int { weights.count }
    func makeStepper() -> LearnedStepper { LinearAutoregressiveStepper(window: window, inputSize: inputSize, outputSize: outputSize, weights: weights) }
    func checkpoint(metadata: [String: [Double]]) -> Checkpoint {
        var arrays = metadata
        arrays["weights"] = weights
        return Checkpoint(kind: "linear-autoregressive", arrays: arrays, strings: ["window": "\(window)"])
    }
}

enum LinearModel {
    static let registration = ModelRegistration(
        name: "linear", summary: "linear autoregression on the last k states, ridge least squares (the statistical baseline)",
        isRecurrentNetwork: false, defaultEpochs: 0, defaultWindow: { _ in 16 }, quickWindow: nil,
        settings: { c in ["ridge": CSV.format(c.linearRidge)] },
        validate: { c in
            try ModelRegistration.requireDoublePrecision(c)
            if !(c.linearRidge >= 0) { throw SolveConfigurationError("--ridge must be ≥ 0 (got \(c.linearRidge))") }
        },
        train: { request in
            TrainedLinearModel(try LinearAutoregressiveStepper.fit(request.training, window: request.configuration.window,
                                                                    ridge: request.configuration.linearRidge))
        },
        load: { checkpoint, c, inputSize, outputSize in
            guard checkpoint.kind == "linear-autoregressive", let w = checkpoint.arrays["weights"],
                  w.count == (c.window * inputSize + 1) * outputSize else {
                throw CheckpointError(file: checkpoint.file, problem: .malformed("no linear weights of the expected size"))
            }
            return TrainedLinearModel(LinearAutoregressiveStepper(window: c.window, inputSize: inputSize, outputSize: outputSize, weights: w))
        },
        memory: { c, d, rows in
            let p = Double(c.window * d + 1)
            return [("the regression rows (--train-trajectories × rows × --window × variables)", rows * (p + Double(d)) * 8 * 2),
                    ("the normal equations ((--window × variables)²)", p * p * 8 * 2)]
        },
        knobs: [
            TuningKnob(name: "window", lower: 1, upper: 64, logarithmic: true, integer: true) { $0.windowOverride = Int($1) },
            TuningKnob(name: "ridge", lower: 1e-12, upper: 1e-2, logarithmic: true, integer: false) { $0.linearRidge = $1 },
        ])
}
