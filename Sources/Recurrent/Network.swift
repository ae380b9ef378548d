// Public face of the recurrent core: configurations, datasets, networks, training, checkpoints, reservoirs.
// The contract other modules code against; kernels live in Cells/ and Training/, the file format in Checkpoint.swift.
import Foundation

public enum CellKind: String, CaseIterable, Sendable, Codable { case rnn, lstm, gru }

/// A stack of `layers` recurrent cells with a dense linear readout on the last layer's hidden state.
public struct NetworkConfiguration: Codable, Equatable, Sendable {
    public var cell: CellKind
    public var inputSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var outputSize: Int
    public init(cell: CellKind, inputSize: Int, hiddenSize: Int, layers: Int = 1, outputSize: Int) {
        self.cell = cell; self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers; self.outputSize = outputSize
    }
}

/// Sequences for training, row-major: inputs (count, steps, inputSize), targets (count, steps, outputSize).
public struct SequenceDataset: Sendable {
    public var count: Int
    public var steps: Int
    public var inputSize: Int
    public var outputSize: Int
    public var inputs: [Double]
    public var targets: [Double]
    /// The loss counts from this step on; earlier steps only warm up the hidden state.
    public var lossFromStep: Int
    public init(count: Int, steps: Int, inputSize: Int, outputSize: Int, inputs: [Double], targets: [Double], lossFromStep: Int = 0) {
        precondition(inputs.count == count * steps * inputSize && targets.count == count * steps * outputSize)
        self.count = count; self.steps = steps; self.inputSize = inputSize; self.outputSize = outputSize
        self.inputs = inputs; self.targets = targets; self.lossFromStep = lossFromStep
    }
}

/// The hidden (and cell) states of every layer for a batch, for step-by-step rollout.
public struct RecurrentState: Sendable {
    public var batch: Int
    /// Per layer: h (batch, hidden), and c (batch, hidden) for LSTM (empty otherwise).
    public var hidden: [[Double]]
    public var cell: [[Double]]
    public init(batch: Int, hidden: [[Double]], cell: [[Double]]) { self.batch = batch; self.hidden = hidden; self.cell = cell }
}

public final class RecurrentNetwork {
    public let configuration: NetworkConfiguration
    /// Every trainable parameter, in one flat buffer with named views. Kept in Double whatever the precision.
    public internal(set) var parameters: [Double] { didSet { singleParameters = nil } }
    public var parameterCount: Int { parameters.count }
    /// The arithmetic of rollouts (`predict`, `step`) and of training (forward and backward passes; the parameters,
    /// optimizer and clipping stay in Double, each pass rounds the parameters to it). Stored in checkpoints.
    public var precision: Precision
    let layout: ParameterLayout
    /// Reused by `predict` and `step` (grown on demand); a network is not safe to share across threads.
    private var inference: BPTTWorkspace<Double>?
    private var singleInference: BPTTWorkspace<Float>?
    /// The parameters rounded to Float, made on first use after a change.
    private var singleParameters: [Float]?

    /// Fresh weights from `seed` (forget-gate bias 1 for LSTM).
    public init(configuration: NetworkConfiguration, seed: UInt64, precision: Precision = .double) {
        BLAS.configureOnce()
        self.configuration = configuration
        self.precision = precision
        layout = ParameterLayout(configuration)
        parameters = layout.initialValues(seed: seed, cell: configuration.cell)
    }

    init(configuration: NetworkConfiguration, parameters: [Double], precision: Precision = .double) {
        BLAS.configureOnce()
        self.configuration = configuration
        self.precision = precision
        layout = ParameterLayout(configuration)
        precondition(parameters.count == layout.count)
        self.parameters = parameters
    }

    /// Names and index ranges of the parameter views ("layer0.W_x", …, "readout.b_y"), in buffer order.
    public var parameterNames: [(name: String, range: Range<Int>)] { layout.named }

    /// Replaces all parameters (same count), e.g. with weights from elsewhere.
    public func setParameters(_ values: [Double]) {
        precondition(values.count == parameters.count, "expected \(parameters.count) parameters, got \(values.count)")
        parameters = values
    }

    /// `existing` when it holds (batch, steps), else a larger one in its place.
    private func inferenceWorkspace<Scalar>(_ existing: inout BPTTWorkspace<Scalar>?, batch: Int, steps: Int) -> BPTTWorkspace<Scalar> {
        if let w = existing, w.maxBatch >= batch, w.maxSteps >= steps { return w }
        let w = BPTTWorkspace<Scalar>(configuration: configuration, layout: layout,
                                      maxBatch: max(batch, existing?.maxBatch ?? 0), maxSteps: max(steps, existing?.maxSteps ?? 0))
        existing = w
        return w
    }

    /// The parameters rounded to Float (made once after each change).
    private func roundedParameters() -> [Float] {
        if let p = singleParameters { return p }
        let p = parameters.map { Float($0) }
        singleParameters = p
        return p
    }

    /// Outputs (batch, steps, outputSize) for inputs (batch, steps, inputSize), starting from zero state.
    /// Long inputs run in windows of at most 256 sequences × 128 steps, carrying the state between windows.
    public func predict(_ inputs: [Double], batch: Int, steps: Int) -> [Double] {
        precondition(inputs.count == batch * steps * configuration.inputSize,
                     "predict: \(inputs.count) inputs for batch \(batch) × steps \(steps) × \(configuration.inputSize)")
        var outputs = [Double](repeating: 0, count: batch * steps * configuration.outputSize)
        if batch == 0 || steps == 0 { return outputs }
        let windowBatch = min(batch, 256), windowSteps = min(steps, 128)
        inputs.withUnsafeBufferPointer { x in
            outputs.withUnsafeMutableBufferPointer { y in
                let (x, y) = (x.baseAddress!, y.baseAddress!)
                switch precision {        // each case calls the pass specialised for its scalar
                case .double:
                    let ws = inferenceWorkspace(&inference, batch: windowBatch, steps: windowSteps)
                    parameters.withUnsafeBufferPointer {
                        InferencePass(workspace: ws, parameters: $0.baseAddress!)
                            .predict(x, into: y, batch: batch, steps: steps, windowBatch: windowBatch, windowSteps: windowSteps)
                    }
                case .single:
                    let ws = inferenceWorkspace(&singleInference, batch: windowBatch, steps: windowSteps)
                    roundedParameters().withUnsafeBufferPointer {
                        InferencePass(workspace: ws, parameters: $0.baseAddress!)
                            .predict(x, into: y, batch: batch, steps: steps, windowBatch: windowBatch, windowSteps: windowSteps)
                    }
                }
            }
        }
        return outputs
    }

    /// Zero hidden (and cell) states for `batch` sequences.
    public func makeState(batch: Int) -> RecurrentState {
        let n = batch * configuration.hiddenSize
        return RecurrentState(batch: batch,
                              hidden: Array(repeating: [Double](repeating: 0, count: n), count: configuration.layers),
                              cell: Array(repeating: configuration.cell == .lstm ? [Double](repeating: 0, count: n) : [],
                                          count: configuration.layers))
    }

    /// One step for a batch: input (batch, inputSize) → output (batch, outputSize), advancing `state`.
    public func step(_ input: [Double], state: inout RecurrentState) -> [Double] {
        let b = state.batch, h = configuration.hiddenSize, n = b * h
        precondition(input.count == b * configuration.inputSize, "step: input has \(input.count) values, expected \(b * configuration.inputSize)")
        precondition(state.hidden.count == configuration.layers && state.hidden.allSatisfy { $0.count == n },
                     "step: state does not fit this network (make it with makeState(batch:))")
        precondition(configuration.cell != .lstm || (state.cell.count == configuration.layers && state.cell.allSatisfy { $0.count == n }),
                     "step: LSTM state lacks cell states")
        switch precision {
        case .double:
            let ws = inferenceWorkspace(&inference, batch: b, steps: 1)
            return parameters.withUnsafeBufferPointer { InferencePass(workspace: ws, parameters: $0.baseAddress!).step(input, state: &state) }
        case .single:
            let ws = inferenceWorkspace(&singleInference, batch: b, steps: 1)
            return roundedParameters().withUnsafeBufferPointer {
                InferencePass(workspace: ws, parameters: $0.baseAddress!).step(input, state: &state)
            }
        }
    }
}

/// A forward pass in one precision with Double inputs, outputs and states (`RecurrentNetwork`'s API).
private struct InferencePass<Scalar: RecurrentScalar> {
    let workspace: BPTTWorkspace<Scalar>
    let parameters: UnsafePointer<Scalar>

    func predict(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, batch: Int, steps: Int,
                 windowBatch: Int, windowSteps: Int) {
        let ws = workspace, all = Array(0..<batch)
        for first in stride(from: 0, to: batch, by: windowBatch) {
            let indices = all[first..<min(first + windowBatch, batch)]
            ws.zeroState(batch: indices.count)
            var start = 0
            while start < steps {
                let t = min(windowSteps, steps - start)
                if start > 0 { ws.carryState(batch: indices.count, steps: windowSteps) }
                ws.gatherInputs(x, totalSteps: steps, indices: indices, from: start, steps: t)
                ws.forward(parameters, batch: indices.count, steps: t)
                ws.scatterOutputs(into: y, totalSteps: steps, indices: indices, from: start, steps: t)
                start += t
            }
        }
    }

    func step(_ input: [Double], state: inout RecurrentState) -> [Double] {
        let ws = workspace, b = state.batch, n = b * ws.configuration.hiddenSize, lstm = ws.configuration.cell == .lstm
        for (l, layer) in ws.layers.enumerated() {
            state.hidden[l].withUnsafeBufferPointer { convert($0.baseAddress!, into: layer.hidden.base, count: n) }
            if lstm { state.cell[l].withUnsafeBufferPointer { convert($0.baseAddress!, into: layer.cellState.base, count: n) } }
        }
        input.withUnsafeBufferPointer { convert($0.baseAddress!, into: ws.inputs.base, count: input.count) }
        ws.forward(parameters, batch: b, steps: 1)
        for (l, layer) in ws.layers.enumerated() {
            state.hidden[l].withUnsafeMutableBufferPointer { convert(layer.hidden.base + n, into: $0.baseAddress!, count: n) }
            if lstm { state.cell[l].withUnsafeMutableBufferPointer { convert(layer.cellState.base + n, into: $0.baseAddress!, count: n) } }
        }
        var output = [Double](repeating: 0, count: b * ws.configuration.outputSize)
        output.withUnsafeMutableBufferPointer { convert(ws.outputs.base, into: $0.baseAddress!, count: $0.count) }
        return output
    }
}

public enum OptimizerKind: Codable, Equatable, Sendable {
    case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)
    case sgd(momentum: Double = 0.9)
}

public enum LearningRateSchedule: Codable, Equatable, Sendable {
    case constant
    /// Multiply by `factor` every `every` epochs.
    case step(every: Int, factor: Double)
    /// Cosine from the base rate down to `minimum` over the epochs.
    case cosine(minimum: Double)
}

public struct TrainingOptions: Codable, Equatable, Sendable {
    public var epochs: Int = 50
    public var batchSize: Int = 32
    public var learningRate: Double = 1e-3
    public var optimizer: OptimizerKind = .adam()
    public var schedule: LearningRateSchedule = .constant
    /// Clip the global gradient norm to this value; nil: no clipping.
    public var clipNorm: Double? = 1.0
    /// Truncated BPTT window in steps; nil: full sequences.
    public var truncation: Int? = nil
    /// Stop when the validation loss has not improved for this many epochs; nil: never.
    public var patience: Int? = nil
    public var seed: UInt64 = 0
    /// Train for this many seconds instead of a fixed number of epochs (`epochs` then only caps them): the
    /// schedule runs over the epochs predicted to fit, re-estimated every epoch (see `TrainingBudget`); nil: none.
    public var budgetSeconds: Double? = nil
    /// σ of fresh Gaussian noise (input units) added to the training inputs every epoch, seeded; 0: none.
    public var inputNoise: Double = 0
    /// Show progress on stderr (a redrawn bar on a terminal, a plain line every few seconds otherwise).
    public var progress: Bool = true
    public init() {}
}

public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainingLoss: Double
    public var validationLoss: Double?
    public var learningRate: Double
    public var seconds: Double
    public init(epoch: Int, trainingLoss: Double, validationLoss: Double?, learningRate: Double, seconds: Double) {
        self.epoch = epoch; self.trainingLoss = trainingLoss; self.validationLoss = validationLoss
        self.learningRate = learningRate; self.seconds = seconds
    }
}

/// How the rollouts of a network's weights scored (`Trainer.rolloutScore`): their valid time T, higher is better
/// (the caller's, e.g. the mean VPT over the validation starts; NaN counts as −∞), and whether it is complete:
/// every rollout stayed valid to its end, so no weights can score longer and only ties are left to decide.
public struct RolloutScore: Sendable, Equatable {
    public var validTime: Double
    public var complete: Bool
    public init(validTime: Double, complete: Bool = false) {
        self.validTime = validTime.isNaN ? -.infinity : validTime
        self.complete = complete && !validTime.isNaN
    }
    /// The score before any is taken.
    public static let unscored = RolloutScore(validTime: -.infinity)
}

/// The weights a `Trainer.rolloutScore` kept: their epoch, score and validation loss, and what scoring took.
public struct RolloutSelectionRecord: Sendable, Equatable {
    public var epoch: Int
    public var score: RolloutScore
    public var validationLoss: Double
    /// Scores taken and their seconds.
    public var scores: Int
    public var seconds: Double
}

public struct TrainingHistory: Sendable {
    public var records: [EpochRecord]
    /// With a rollout score: the weights it kept.
    public var selection: RolloutSelectionRecord?
    /// True when Ctrl-C stopped training (a checkpoint was saved when a path was given).
    public var interrupted: Bool
    public var stoppedEarly: Bool
    public init(records: [EpochRecord], interrupted: Bool, stoppedEarly: Bool) {
        self.records = records; self.interrupted = interrupted; self.stoppedEarly = stoppedEarly
    }
}

extension RecurrentNetwork {
    static let checkpointKind = "recurrent-network"

    /// The network (configuration and weights) plus `metadata` arrays, as a checkpoint. Metadata arrays keep their
    /// names; the names "network.parameters" and those starting with "training." are reserved.
    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint {
        var arrays = metadata
        precondition(!arrays.keys.contains { $0 == "network.parameters" || $0.hasPrefix("training.") },
                     "metadata names 'network.parameters' and 'training.*' are reserved")
        arrays["network.parameters"] = parameters
        return Checkpoint(kind: Self.checkpointKind, arrays: arrays,
                          strings: ["network.configuration": canonicalJSON(configuration), "network.precision": precision.rawValue])
    }

    /// Rebuilds a network from a checkpoint written by `checkpoint(metadata:)` or by `Trainer` (in the precision
    /// recorded there; Double for checkpoints written before precisions were recorded).
    public convenience init(checkpoint: Checkpoint) throws {
        try checkpoint.requireKind(Self.checkpointKind)
        let configuration = try checkpoint.decodeJSON(NetworkConfiguration.self, from: "network.configuration")
        guard configuration.inputSize > 0, configuration.hiddenSize > 0, configuration.layers > 0, configuration.outputSize > 0 else {
            throw CheckpointError(file: checkpoint.file, problem: .malformed("network sizes must be positive: \(configuration)"))
        }
        // Bounded before the layout arithmetic, so it cannot overflow (≤ 1000·8·10¹² parameters) or loop for long;
        // the parameter array's length is then checked against the layout.
        let sizeLimit = 1_000_000, layerLimit = 1000
        guard [configuration.inputSize, configuration.hiddenSize, configuration.outputSize].allSatisfy({ $0 <= sizeLimit }),
              configuration.layers <= layerLimit else {
            throw CheckpointError(file: checkpoint.file, problem: .malformed(
                "network sizes beyond the limits (sizes ≤ \(sizeLimit), layers ≤ \(layerLimit)): \(configuration)"))
        }
        let parameters = try checkpoint.array("network.parameters", count: ParameterLayout(configuration).count)
        self.init(configuration: configuration, parameters: parameters, precision: try checkpoint.precision())
    }
}

extension Checkpoint {
    /// The recorded "network.precision"; Double when absent (checkpoints from before it was recorded).
    func precision() throws -> Precision {
        guard let text = strings["network.precision"] else { return .double }
        guard let p = Precision(rawValue: text) else {
            throw CheckpointError(file: file, problem: .malformed(
                "network.precision '\(text)' (expected \(Precision.allCases.map(\.rawValue).joined(separator: " or ")))"))
        }
        return p
    }
}
