// Public face of the recurrent core: configurations, datasets, networks, training, checkpoints, reservoirs.
// CONTRACT SKELETON: public signatures are fixed (they may grow); bodies are filled in by the Recurrent work.
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
    /// Every trainable parameter, in one flat buffer with named views.
    public internal(set) var parameters: [Double]
    public var parameterCount: Int { parameters.count }

    /// Fresh weights from `seed` (forget-gate bias 1 for LSTM).
    public init(configuration: NetworkConfiguration, seed: UInt64) { fatalError("not implemented") }

    /// Outputs (batch, steps, outputSize) for inputs (batch, steps, inputSize), starting from zero state.
    public func predict(_ inputs: [Double], batch: Int, steps: Int) -> [Double] { fatalError("not implemented") }

    public func makeState(batch: Int) -> RecurrentState { fatalError("not implemented") }

    /// One step for a batch: input (batch, inputSize) → output (batch, outputSize), advancing `state`.
    public func step(_ input: [Double], state: inout RecurrentState) -> [Double] { fatalError("not implemented") }
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

public struct TrainingHistory: Sendable {
    public var records: [EpochRecord]
    /// True when Ctrl-C stopped training (a checkpoint was saved when a path was given).
    public var interrupted: Bool
    public var stoppedEarly: Bool
    public init(records: [EpochRecord], interrupted: Bool, stoppedEarly: Bool) {
        self.records = records; self.interrupted = interrupted; self.stoppedEarly = stoppedEarly
    }
}

/// Backpropagation through time with mini-batches shuffled by a seeded generator; deterministic for a seed.
public final class Trainer {
    public init(network: RecurrentNetwork, options: TrainingOptions) { fatalError("not implemented") }

    /// Trains on `training`, early-stopping on `validation`. With `checkpoint`, resumes from that file when it
    /// exists and matches, saves it atomically (on Ctrl-C too) with `metadata` (e.g. normalisation) inside.
    public func fit(training: SequenceDataset, validation: SequenceDataset?, checkpoint: URL? = nil,
                    metadata: [String: [Double]] = [:]) throws -> TrainingHistory {
        fatalError("not implemented")
    }
}

/// A model on disk: kind, configuration, flat arrays (weights, optimizer moments, normalisation, …) and strings,
/// with a format version and a checksum. Written atomically; a corrupt or mismatched file is a clear error.
public struct Checkpoint: Sendable {
    public var kind: String
    public var arrays: [String: [Double]]
    public var strings: [String: String]
    public init(kind: String, arrays: [String: [Double]], strings: [String: String]) {
        self.kind = kind; self.arrays = arrays; self.strings = strings
    }
    public func write(to url: URL) throws { fatalError("not implemented") }
    public static func read(from url: URL) throws -> Checkpoint { fatalError("not implemented") }
}

extension RecurrentNetwork {
    /// The network (configuration and weights) plus `metadata` arrays, as a checkpoint.
    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint { fatalError("not implemented") }
    /// Rebuilds a network from a checkpoint written by `checkpoint(metadata:)` or by `Trainer`.
    public convenience init(checkpoint: Checkpoint) throws { fatalError("not implemented") }
}
