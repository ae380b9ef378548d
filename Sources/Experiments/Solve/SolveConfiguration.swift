// The configuration of one `rnnode solve` cell (problem × model × seed) as a value: the CLI builds it from
// options, the comparison harness builds it from its grid; both run it through `SolvePipeline.run`.
import Foundation
import Problems
import Recurrent

/// A `--set NAME=VALUE` override of a parameter or initial value.
public struct ParameterOverride: Codable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: Double
    public init(name: String, value: Double) { self.name = name; self.value = value }

    /// Why a `--set` value is malformed, in the words of the command line.
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses `NAME=VALUE` (a non-empty name, a finite number).
    public init(setting text: String) throws(Malformed) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Malformed(description: "--set '\(text)' is not NAME=VALUE (e.g. --set rho=28)")
        }
        guard let value = Double(parts[1].trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw Malformed(description: "--set '\(text)': '\(parts[1])' is not a finite number")
        }
        self.name = parts[0].trimmingCharacters(in: .whitespaces)
        self.value = value
    }

    /// Parses `NAME=VALUE`; nil when malformed.
    public init?(parsing text: String) {
        guard let parsed = try? ParameterOverride(setting: text) else { return nil }
        self = parsed
    }

    public var description: String { "\(name)=\(CSV.format(value))" }
}

/// Echo state network settings (see `ReservoirConfiguration`). The defaults (1000 units, Pathak's readout, bias
/// ±0.6, ridge 1e-10) were chosen on the test trajectories of seeds 10–12 of Lorenz-63 (never seeds 0–4); see README.
public struct ReservoirSettings: Codable, Hashable, Sendable {
    public var size: Int = 1000
    public var connectivity: Double = 0.02
    public var spectralRadius: Double = 0.9
    public var leakRate: Double = 1.0
    public var inputScaling: Double = 0.3
    public var biasScaling: Double = 0.6
    public var ridge: Double = 1e-10
    /// Teacher-forced steps discarded at the start of each training trajectory before fitting the readout.
    public var washout: Int = 100
    /// The readout's features (`ReservoirReadout`).
    public var readout: ReservoirReadout = .pathak
    /// The pattern of W_in (`ReservoirInputWeights`).
    public var inputWeights: ReservoirInputWeights = .dense
    public init() {}

    /// The network's configuration for `inputSize` inputs and `outputSize` outputs.
    public func configuration(inputSize: Int, outputSize: Int) -> ReservoirConfiguration {
        var c = ReservoirConfiguration(inputSize: inputSize, outputSize: outputSize)
        c.size = size; c.connectivity = connectivity; c.spectralRadius = spectralRadius; c.leakRate = leakRate
        c.inputScaling = inputScaling; c.biasScaling = biasScaling; c.ridge = ridge
        c.readout = readout; c.inputWeights = inputWeights
        return c
    }
}

extension Problem {
    /// The problem with each override applied in order (a parameter, or an initial value as `x` or `x_0`).
    /// Overrides make a new subject: its name carries them (`lorenz[rho=35]`) in every file name, row and table,
    /// so it is never merged with the file's own results, and the file's Lyapunov exponent is dropped: it belongs
    /// to the file's parameters and orbit, and is computed anew (`rnnode lyapunov`) where needed.
    public func applying(_ overrides: [ParameterOverride]) throws -> Problem {
        guard !overrides.isEmpty else { return self }
        var problem = try overrides.reduce(self) { problem, override in try problem.setting(override.name, to: override.value) }
        problem.name = Self.subjectName(name, overrides)
        problem.lyapunov = nil
        return problem
    }

    /// `name[a=1,b=2.5]`: the overrides in the order given, each value in its shortest exact decimal form.
    public static func subjectName(_ name: String, _ overrides: [ParameterOverride]) -> String {
        func shortest(_ x: Double) -> String {
            x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
        }
        return overrides.isEmpty ? name : name + "[" + overrides.map { "\($0.name)=\(shortest($0.value))" }.joined(separator: ",") + "]"
    }
}

/// Which weights of a recurrent network's training are kept: those whose rollouts of the validation trajectories
/// last longest (`RolloutSelection`), or those of the lowest one-step (teacher-forced) validation loss.
public enum WeightSelection: String, Codable, CaseIterable, Sendable {
    case vpt, loss
}

public struct SolveConfiguration: Codable, Hashable, Sendable {
    /// A catalog name or a path to a problem file.
    public var problem: String
    public var overrides: [ParameterOverride] = []
    public var model: ModelKind = .lstm
    /// Hidden units per layer (rnn, lstm, gru); nil: the model's `defaultHidden`. The defaults of the recurrent
    /// nets (32 hidden, batch 8, rate 1e-2, window 16, teacher forcing, no noise) were chosen on validation data of
    /// seed 10 (harmonic oscillator and Lorenz-63) within the default budget; see README.
    public var hiddenOverride: Int?
    public var layers: Int = 1
    /// Arithmetic of training and rollouts of rnn, lstm and gru (in the settings, and so the model key, only when single).
    public var precision: Precision = .double
    /// k: the number of reference states the model sees before it predicts (its input window / warm-up);
    /// nil: `SolveDefaults.window(for: model)`.
    public var windowOverride: Int?
    /// s: the reference states y_0 … y_{s−1} every model of a subject is warmed up on before it predicts, so that
    /// all of them are scored over the same interval [t_{s−1}, horizon] (the same VPT cap); s ≥ k for every model.
    /// nil: `SolveDefaults.evaluationStart`.
    public var evaluationStartOverride: Int?
    /// Training epochs of the recurrent networks; nil: train by time budget. Given, it wins over the budget
    /// (exact reproduction: the same epochs give the same weights on any machine).
    public var epochs: Int?
    /// Training seconds of the recurrent networks (the schedule fitted to them, the best validation weights
    /// kept); nil: `SolveDefaults.budget`. Ignored when `epochs` is given.
    public var budget: Double?
    /// Steps after the warm-up in each training sequence (the loss is taken over these).
    public var sequenceSteps: Int = 16
    /// `--rollout-steps` (its meaning: `rolloutSteps`); nil: the problem file's `[learning.<model>]`, else 0.
    public var rolloutStepsOverride: Int?
    /// Steps after the warm-up in each training sequence, long enough for the rollout.
    public var trainingSequenceSteps: Int { max(sequenceSteps, rolloutSteps) }
    public var batchSize: Int = 8
    public var learningRate: Double = 1e-2
    /// Training trajectories; nil: the problem file's `[learning] train_trajectories`, else
    /// `SolveDefaults.trainTrajectories` (`resolved(for:)`).
    public var trainTrajectoriesOverride: Int?
    /// Validation trajectories; nil: the problem file's `[learning] validation_trajectories`, else
    /// `SolveDefaults.validationTrajectories` (`resolved(for:)`).
    public var validationTrajectoriesOverride: Int?
    public var testTrajectories: Int = 8
    /// Evaluation horizon (time units after the problem's start); nil: the problem's whole span.
    public var horizon: Double?
    public var seed: UInt64 = 0
    public var reservoir = ReservoirSettings()
    /// Ridge λ of the linear autoregressive model.
    public var linearRidge: Double = 1e-8
    /// NG-RC settings (ngrc).
    public var ngrc = NextGenerationSettings()
    /// `--ridge`: λ of the readout of esn, ngrc or linear (their `ridge` knob sets it, in `resolved(for:)`); nil:
    /// the problem file's `[learning.<model>] ridge`, else the model's default.
    public var ridgeOverride: Double?
    /// `--degree`: p of ngrc's monomials (its `degree` knob sets it, in `resolved(for:)`); nil: the problem file's
    /// `[learning.ngrc] degree`, else `NextGenerationSettings().degree`.
    public var degreeOverride: Int?
    /// `--noise`, `--denoising` (their meaning: `noise`, `denoising`); nil: the problem file's `[learning.<model>]`,
    /// else none (`resolved(for:)`).
    public var noiseOverride: Double?
    public var denoisingOverride: Bool?
    /// Which weights of a recurrent network's training are kept (`--select-by`).
    public var selection: WeightSelection = .vpt
    /// Parallel local models over the sites of the problem's array variables; nil: one model of the whole state.
    public var parallel: ParallelSettings?
    /// `--tune N`: trials of the search over the model's knobs before training (Tuning.swift); nil: no tuning.
    public var tune: Int?
    /// The threshold on the normalised error E(t) that ends the valid prediction time. It changes the reported
    /// VPT rows only (named `vpt@E` etc. when not the default), never the trained model or its cache key.
    public var vptThreshold: Double = validPredictionThreshold
    /// Where results, data and models go.
    public var outputDirectory: String = "results"
    /// Ignore a cached model and train again.
    public var retrain: Bool = false
    /// Show the training progress line on stderr.
    public var showProgress: Bool = true
    /// Write the trajectory CSV, manifest and plots (the harness may turn this off and keep only the rows).
    public var writeFiles: Bool = true

    public init(problem: String, model: ModelKind = .lstm) {
        self.problem = problem
        self.model = model
    }

    /// Small data, small models and few epochs, for a quick pass over the whole catalog (`--quick`): two
    /// training and three test trajectories, 16 hidden units and 10 epochs, a 200-unit reservoir.
    public func quick() -> SolveConfiguration {
        var c = self
        c.trainTrajectories = 2
        c.validationTrajectories = 1
        c.testTrajectories = 3
        c.hidden = 16
        c.epochs = 10
        c.batchSize = 16
        c.reservoir.size = 200
        c.reservoir.connectivity = 0.05
        c.reservoir.washout = 50
        c.windowOverride = c.model.registration.quickWindow
        return c
    }

    /// The effective window k.
    public var window: Int {
        get { windowOverride ?? model.registration.defaultWindow(self) }
        set { windowOverride = newValue }
    }

    /// The effective hidden units per layer.
    public var hidden: Int {
        get { hiddenOverride ?? model.registration.defaultHidden }
        set { hiddenOverride = newValue }
    }

    /// The effective evaluation start s.
    public var evaluationStart: Int {
        get { evaluationStartOverride ?? SolveDefaults.evaluationStart }
        set { evaluationStartOverride = newValue }
    }

    /// R: closed-loop training of the recurrent networks, their own predictions fed back for R steps after the
    /// warm-up (a curriculum grows R to this value); 0: teacher forcing only.
    public var rolloutSteps: Int {
        get { rolloutStepsOverride ?? 0 }
        set { rolloutStepsOverride = newValue }
    }

    /// The effective number of training trajectories.
    public var trainTrajectories: Int {
        get { trainTrajectoriesOverride ?? SolveDefaults.trainTrajectories }
        set { trainTrajectoriesOverride = newValue }
    }

    /// The effective number of validation trajectories.
    public var validationTrajectories: Int {
        get { validationTrajectoriesOverride ?? SolveDefaults.validationTrajectories }
        set { validationTrajectoriesOverride = newValue }
    }

    /// σ of the Gaussian noise (z-units) added to the inputs of the teacher-forced fit: once for the ridge fits
    /// (esn, ngrc, linear), afresh every epoch for the recurrent networks; 0: none.
    public var noise: Double {
        get { noiseOverride ?? 0 }
        set { noiseOverride = newValue }
    }

    /// `--denoising`: with input noise ε on a ridge fit, the target is the increment from the noisy input to the true
    /// next state, g̃ = g − ε σ_y/σ_Δ (z-units), instead of the clean g: the fitted step map pulls a perturbed state
    /// back towards the data (its Jacobian off the data is damped, not neutral), which a stiff system's map needs.
    public var denoising: Bool {
        get { denoisingOverride ?? false }
        set { denoisingOverride = newValue }
    }

    /// The configuration with the problem file's `[learning]` settings filled in where the command line left them
    /// unset: `train_trajectories`, `validation_trajectories`, and the model's own table's `noise`, `denoising`,
    /// `rollout_steps`, `hidden`, `window`, `ridge` and `degree`; then `ridgeOverride` and `degreeOverride`, wherever
    /// they came from, set the model's own settings. A `--noise` given here replaces the file's noise and its denoising both (the two belong
    /// together); `--denoising`/`--no-denoising` replaces its denoising only. Throws a `ProblemError` naming the line
    /// of a table for no known model, of `rollout_steps` or `hidden` for a model not trained by backpropagation, of
    /// `ridge` for one that is, of `degree` for another model than ngrc, of a `window` for ngrc (its delays set it)
    /// or beyond the evaluation start.
    public func resolved(for problem: Problem) throws -> SolveConfiguration {
        let learning = problem.learning
        for name in learning.models.keys.sorted() where ModelKind(rawValue: name) == nil {
            throw problem.declarationError("learning.\(name)", "unknown model '\(name)'",
                                           hint: closest(to: name, in: ModelRegistry.names).map { "did you mean '\($0)'?" }
                                               ?? "models: \(ModelRegistry.names.joined(separator: ", "))")
        }
        for (name, own) in learning.models.sorted(by: { $0.key < $1.key }) {
            let kind = ModelKind(rawValue: name)!
            let networkKeys = [("hidden", own.hidden != nil), ("rollout_steps", own.rolloutSteps != nil)]
            for (key, given) in networkKeys where given && !kind.isRecurrentNetwork {
                throw problem.declarationError("learning.\(name).\(key)", "\(key) applies to the networks trained by backpropagation (\(ModelRegistry.all.filter(\.isRecurrentNetwork).map(\.name).joined(separator: ", "))), not to \(name)")
            }
            for (key, given) in [("ridge", own.ridge != nil), ("degree", own.degree != nil)] where given && kind.registration.knob(key) == nil {
                throw problem.declarationError("learning.\(name).\(key)", "\(key) applies to \(ModelRegistry.all.filter { $0.knob(key) != nil }.map(\.name).joined(separator: ", ")), not to \(name)")
            }
            if own.denoising == true, kind.isRecurrentNetwork {
                throw problem.declarationError("learning.\(name).denoising", "denoising applies to the ridge fits (\(ModelRegistry.all.filter { !$0.isRecurrentNetwork }.map(\.name).joined(separator: ", "))), not to \(name)",
                                               hint: "a network's inputs are noised without it: keep noise = σ alone")
            }
            guard let window = own.window else { continue }
            if kind == .ngrc {
                throw problem.declarationError("learning.ngrc.window", "ngrc's window follows its delays and skip, (delays − 1)·skip + 1; it takes no window")
            }
            if window > evaluationStart {
                throw problem.declarationError("learning.\(name).window", "window \(window) exceeds the evaluation start \(evaluationStart): every model of a problem is warmed up on the same first \(evaluationStart) states and scored from there",
                                               hint: "shorten the window, or raise --eval-start to at least \(window)")
            }
        }
        var c = self
        if c.trainTrajectoriesOverride == nil { c.trainTrajectoriesOverride = learning.trainTrajectories }
        if c.validationTrajectoriesOverride == nil { c.validationTrajectoriesOverride = learning.validationTrajectories }
        if let own = learning.models[model.rawValue] {
            if c.noiseOverride == nil {
                c.noiseOverride = own.noise
                if c.denoisingOverride == nil { c.denoisingOverride = own.denoising }
            }
            if c.rolloutStepsOverride == nil { c.rolloutStepsOverride = own.rolloutSteps }
            if c.hiddenOverride == nil { c.hiddenOverride = own.hidden }
            if c.windowOverride == nil { c.windowOverride = own.window }
            if c.ridgeOverride == nil { c.ridgeOverride = own.ridge }
            if c.degreeOverride == nil { c.degreeOverride = own.degree }
        }
        // The model's own knob of the name sets them (a model without one has no such setting to take).
        if let ridge = c.ridgeOverride { model.registration.knob("ridge")?.apply(&c, ridge) }
        if let degree = c.degreeOverride { model.registration.knob("degree")?.apply(&c, Double(degree)) }
        return c
    }

    /// Which of the problem file's `[learning]` settings `resolved(for:)` took, as `key = value` (for the log): the
    /// overrides unset here and set in `filled`, this configuration's `resolved(for:)`, so the rule of what the file
    /// may fill in lives there alone.
    public func settingsFromFile(filled: SolveConfiguration) -> [String] {
        var taken: [String] = []
        func note<Value>(_ key: String, _ mine: Value?, _ resolved: Value?, _ show: (Value) -> String = { "\($0)" }) {
            if mine == nil, let value = resolved { taken.append("\(key) = \(show(value))") }
        }
        note("train_trajectories", trainTrajectoriesOverride, filled.trainTrajectoriesOverride)
        note("validation_trajectories", validationTrajectoriesOverride, filled.validationTrajectoriesOverride)
        note("noise", noiseOverride, filled.noiseOverride, CSV.format)
        note("denoising", denoisingOverride, filled.denoisingOverride)
        note("rollout_steps", rolloutStepsOverride, filled.rolloutStepsOverride)
        note("hidden", hiddenOverride, filled.hiddenOverride)
        note("window", windowOverride, filled.windowOverride)
        note("ridge", ridgeOverride, filled.ridgeOverride, CSV.format)
        note("degree", degreeOverride, filled.degreeOverride)
        return taken
    }

    /// The effective number of epochs.
    public var effectiveEpochs: Int { epochs ?? SolveDefaults.epochs(for: model) }

    /// The training budget in seconds of a recurrent network: nil when `epochs` is given (they win) or for a
    /// model fitted in closed form.
    public var effectiveBudget: Double? {
        guard model.isRecurrentNetwork, epochs == nil else { return nil }
        return budget ?? SolveDefaults.budget
    }

    /// Human-readable key/values for manifests (everything that determines the result).
    public var settings: [String: String] {
        var s: [String: String] = [
            "problem": problem, "model": model.rawValue, "window": "\(window)", "seed": "\(seed)",
            "evaluation_start": "\(evaluationStart)",
            "train_trajectories": "\(trainTrajectories)", "validation_trajectories": "\(validationTrajectories)",
            "test_trajectories": "\(testTrajectories)", "horizon": horizon.map(CSV.format) ?? "problem span",
            "overrides": overrides.map(\.description).joined(separator: " "),
        ]
        s.merge(model.registration.settings(self)) { _, modelValue in modelValue }
        if noise > 0 { s["noise"] = CSV.format(noise) }
        if denoising { s["denoising"] = "true" }
        s["vpt_threshold"] = CSV.format(vptThreshold)
        if let parallel {
            s["groups"] = "\(parallel.groups)"; s["halo"] = "\(parallel.halo)"; s["shared"] = "\(parallel.shared)"
        }
        return s
    }
}

/// Defaults that work on every catalog problem within the time budget of a default run.
public enum SolveDefaults {
    /// The warm-up/window k of a model (its registration's default): an echo state network needs about 100 steps
    /// to forget its zero initial reservoir state (with spectral radius 0.9, 0.9^100 ≈ 3e-5); ngrc needs its
    /// delays, (k − 1)·s + 1 states; the others see 16 states.
    public static func window(for model: ModelKind) -> Int {
        model.registration.defaultWindow(SolveConfiguration(problem: "", model: model))
    }

    /// The common evaluation start s: the largest default window, so every model with its default window can be
    /// warmed up on the same y_0 … y_{s−1} and scored from t_{s−1} on.
    public static let evaluationStart = 100

    /// Training trajectories of a problem whose file does not set `[learning] train_trajectories`.
    public static let trainTrajectories = 4

    /// Validation trajectories of a problem whose file does not set `[learning] validation_trajectories`.
    public static let validationTrajectories = 1

    public static func epochs(for model: ModelKind) -> Int { model.registration.defaultEpochs }

    /// The hidden units of each recurrent network without `--hidden`, for help texts: "rnn 32, lstm 32, gru 32".
    public static var hiddenByModel: String {
        ModelRegistry.all.filter(\.isRecurrentNetwork).map { "\($0.name) \($0.defaultHidden)" }.joined(separator: ", ")
    }

    /// Training seconds of a recurrent network without `--epochs`: with the data generation, the rollouts and
    /// the plots, a default `rnnode solve P --model lstm` of a small catalog problem takes about a minute on
    /// 2 cores.
    public static let budget: Double = 40
}

/// A user mistake in a solve configuration (the CLI shows it as a validation error).
public struct SolveConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
