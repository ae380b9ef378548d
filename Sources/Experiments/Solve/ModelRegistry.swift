// One registration per learned model: its name, defaults, training and loading, settings for the manifest,
// memory estimate and tuning knobs. The CLI (`--model`), the comparison grid, the summaries and the pipeline
// read `ModelRegistry.all`; adding a model is one registration in its own file plus one line in `all`.
import Foundation
import Problems
import Recurrent

/// A trained model: makes fresh steppers (each with its own running state, all sharing the weights) and saves
/// itself as a checkpoint.
public protocol TrainedModel: AnyObject {
    /// Trainable (fitted) parameters.
    var parameterCount: Int { get }
    /// A stepper with zero state over the shared weights.
    func makeStepper() -> LearnedStepper
    /// The model with `metadata` (normalisation, training time) alongside.
    func checkpoint(metadata: [String: [Double]]) -> Checkpoint
}

/// What a model is trained on: teacher-forcing sequences in normalised coordinates, plus where to checkpoint.
public struct TrainingRequest {
    public var configuration: SolveConfiguration
    public var training: TeacherForcing
    public var validation: TeacherForcing?
    /// Saved with every checkpoint (so a model file is self-describing).
    public var metadata: [String: [Double]]
    /// Where an interruptible training keeps its resumable checkpoint.
    public var resumeURL: URL
    public var log: (String) -> Void
    /// Scores weights by their rollouts of the validation trajectories (recurrent networks with `--select-by vpt`);
    /// nil: the lowest validation loss chooses.
    public var rolloutSelection: RolloutSelection? = nil
}

/// One knob of a model for `--tune`: a range searched on a linear or logarithmic scale (rounded for integers).
public struct TuningKnob: Sendable {
    public var name: String
    public var lower: Double
    public var upper: Double
    public var logarithmic: Bool
    public var integer: Bool
    /// Sets the knob in a configuration.
    public var apply: @Sendable (inout SolveConfiguration, Double) -> Void
}

/// A model: everything the pipeline, the CLI and the harness need to know about it.
public struct ModelRegistration: Sendable {
    /// The CLI and CSV spelling.
    public var name: String
    /// One line for `--help`.
    public var summary: String
    /// Trained by backpropagation through time (epochs, hidden size, learning rate apply).
    public var isRecurrentNetwork: Bool
    /// Default epochs (0: fitted in closed form).
    public var defaultEpochs: Int
    /// The default window k (states seen before predicting) for a configuration.
    public var defaultWindow: @Sendable (SolveConfiguration) -> Int
    /// The window in `--quick` mode (nil: the default).
    public var quickWindow: Int?
    /// Hidden units per layer without `--hidden` (rnn, lstm, gru; the others ignore it).
    public var defaultHidden: Int = 32
    /// Model settings for the manifest and the cache key.
    public var settings: @Sendable (SolveConfiguration) -> [String: String]
    /// Checks the model's own options; messages name the option.
    public var validate: @Sendable (SolveConfiguration) throws -> Void
    /// Trains on teacher-forcing data (input and output sizes from the request).
    public var train: @Sendable (TrainingRequest) throws -> TrainedModel
    /// Loads a checkpoint written by `TrainedModel.checkpoint`; `inputSize`/`outputSize` are what the caller expects.
    public var load: @Sendable (Checkpoint, SolveConfiguration, _ inputSize: Int, _ outputSize: Int) throws -> TrainedModel
    /// Memory of the model's training for `dimension` inputs and outputs and `rows` training steps: parts, each
    /// named with the options that size it, in bytes.
    public var memory: @Sendable (SolveConfiguration, _ dimension: Int, _ rows: Double) -> [(what: String, bytes: Double)]
    /// The knobs `--tune` searches.
    public var knobs: [TuningKnob]
}

extension ModelRegistration {
    /// The knob of that name (the setting `--tune` searches, and a problem file or an option may set), if any.
    public func knob(_ name: String) -> TuningKnob? { knobs.first { $0.name == name } }

    /// For the models without a Float32 path (fitted in closed form in Double): refuses `--precision single`.
    static func requireDoublePrecision(_ c: SolveConfiguration) throws {
        guard c.precision == .double else {
            throw SolveConfigurationError("--precision \(c.precision.rawValue): only rnn, lstm and gru train in single precision; --model \(c.model.rawValue) runs in double")
        }
    }
}

/// Every model, in the order of tables and help texts.
public enum ModelRegistry {
    public static let all: [ModelRegistration] = [
        RecurrentModels.registration(.rnn), RecurrentModels.registration(.lstm), RecurrentModels.registration(.gru),
        EchoStateModel.registration, NextGenerationModel.registration, LinearModel.registration,
    ]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> ModelRegistration? { all.first { $0.name == name } }
}

/// A registered model, by name. Raw values are the CLI and CSV spelling.
public struct ModelKind: RawRepresentable, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// Nil for a name that is not registered.
    public init?(rawValue: String) {
        guard ModelRegistry.named(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    public static var allCases: [ModelKind] { ModelRegistry.names.map { ModelKind(rawValue: $0)! } }

    public var registration: ModelRegistration { ModelRegistry.named(rawValue)! }
    public var isRecurrentNetwork: Bool { registration.isRecurrentNetwork }
    public var description: String { rawValue }

    /// "unknown model 'x'; known: rnn, lstm, …" for a name that is not registered.
    public static func parse(_ text: String) throws -> ModelKind {
        guard let kind = ModelKind(rawValue: text) else {
            throw SolveConfigurationError("unknown model '\(text)'; known: \(ModelRegistry.names.joined(separator: ", "))")
        }
        return kind
    }

    // Shorthands for code and tests; the registry is the list.
    public static let rnn = ModelKind(rawValue: "rnn")!
    public static let lstm = ModelKind(rawValue: "lstm")!
    public static let gru = ModelKind(rawValue: "gru")!
    public static let esn = ModelKind(rawValue: "esn")!
    public static let ngrc = ModelKind(rawValue: "ngrc")!
    public static let linear = ModelKind(rawValue: "linear")!
}
