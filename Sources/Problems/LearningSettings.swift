// The `[learning]` table of a problem file: settings of the learned models that suit this problem better than the
// shared defaults, used wherever the command line gives none (Experiments resolves them; problems/README.md).
import TOMLKit

/// Settings a problem file declares for the models learned on it. Each is optional; an absent one leaves the shared
/// default, and an option given on the command line wins over the file.
public struct LearningSettings: Sendable, Equatable {
    /// `train_trajectories`: the number of training trajectories, the same for every model of the problem.
    public var trainTrajectories: Int?
    /// `validation_trajectories`: the number of validation trajectories (the networks' weights are chosen on them,
    /// `--tune` scores on them), the same for every model of the problem.
    public var validationTrajectories: Int?
    /// Per model name (`[learning.esn]`), the input noise of its fit, its window, (networks trained by
    /// backpropagation) its hidden units and closed-loop steps, (ridge fits) its readout's ridge λ and (ngrc) its
    /// monomials' degree. The names are checked against the models where they are known (Experiments), with
    /// `Problem.declarationError` naming the line.
    public var models: [String: ModelLearningSettings] = [:]

    public init(trainTrajectories: Int? = nil, validationTrajectories: Int? = nil, models: [String: ModelLearningSettings] = [:]) {
        self.trainTrajectories = trainTrajectories
        self.validationTrajectories = validationTrajectories
        self.models = models
    }

    /// True when the file declares nothing.
    public var isEmpty: Bool { trainTrajectories == nil && validationTrajectories == nil && models.isEmpty }

    /// The training trajectories a file may ask for, the same range as the command line's trajectory counts.
    public static let trainTrajectoriesRange = 1...100_000
    /// The validation trajectories a file may ask for, the same range as `--validation-trajectories`.
    public static let validationTrajectoriesRange = 0...100_000
    /// The closed-loop steps a file may ask for, the same range as `--rollout-steps`.
    public static let rolloutStepsRange = 0...1000
    /// The hidden units a file may ask for, the same range as `--hidden` (4096 make an LSTM layer's recurrent
    /// weights 4·4096² doubles, 512 MiB).
    public static let hiddenRange = 1...4096
    /// The window a file may ask for, the same range as `--window`.
    public static let windowRange = 1...100_000
    /// The highest monomial degree of ngrc a file may ask for, the same range as `--degree` (at 8, four variables
    /// and two delays make 12 870 features).
    public static let degreeRange = 1...8
}

/// One model's table under `[learning]`.
public struct ModelLearningSettings: Sendable, Equatable {
    /// σ of the Gaussian input noise (z-units) of the model's fit (`--noise`).
    public var noise: Double?
    /// Fit the increment from the noisy input to the true next state (`--denoising`); only with `noise` > 0.
    public var denoising: Bool?
    /// Closed-loop training steps R of a network trained by backpropagation (`--rollout-steps`).
    public var rolloutSteps: Int?
    /// Hidden units per layer of a network trained by backpropagation (`--hidden`).
    public var hidden: Int?
    /// k: the reference states the model sees before it predicts (`--window`).
    public var window: Int?
    /// λ of the ridge readout of a model fitted in closed form (`--ridge`).
    public var ridge: Double?
    /// p: the highest degree of ngrc's monomials (`--degree`).
    public var degree: Int?

    public init(noise: Double? = nil, denoising: Bool? = nil, rolloutSteps: Int? = nil, hidden: Int? = nil, window: Int? = nil,
                ridge: Double? = nil, degree: Int? = nil) {
        self.noise = noise
        self.denoising = denoising
        self.rolloutSteps = rolloutSteps
        self.hidden = hidden
        self.window = window
        self.ridge = ridge
        self.degree = degree
    }
}

extension ProblemFileReader {
    static let learningKeys = ["train_trajectories", "validation_trajectories"]
    static let modelLearningKeys = ["noise", "denoising", "rollout_steps", "hidden", "window", "ridge", "degree"]

    /// Reads the optional `[learning]` table: `train_trajectories`, `validation_trajectories`, then one sub-table per
    /// model name.
    static func learning(_ value: TOMLValueConvertible?,
                         fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> LearningSettings {
        guard let value else { return LearningSettings() }
        guard let table = value.table else {
            throw fail("learning", "expected a table, got \(describe(value))", nil, nil)
        }
        var settings = LearningSettings()
        for key in table.keys.sorted() {
            let full = "learning.\(key)"
            let entry = table[key]!
            switch key {
            case "train_trajectories":
                settings.trainTrajectories = try wholeNumber(entry, in: LearningSettings.trainTrajectoriesRange, of: "trajectories",
                                                             key: full, fail: fail)
                continue
            case "validation_trajectories":
                settings.validationTrajectories = try wholeNumber(entry, in: LearningSettings.validationTrajectoriesRange, of: "trajectories",
                                                                  key: full, fail: fail)
                continue
            default: break
            }
            guard let modelTable = entry.table else {
                throw fail(full, "unknown key '\(key)'",
                           "[learning] takes \(learningKeys.joined(separator: ", ")) and one table per model, e.g. [learning.esn]", nil)
            }
            settings.models[key] = try modelLearning(modelTable, key: full, fail: fail)
        }
        return settings
    }

    private static func modelLearning(_ table: TOMLTable, key: String,
                                      fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> ModelLearningSettings {
        var settings = ModelLearningSettings()
        for name in table.keys.sorted() {
            let full = "\(key).\(name)"
            let value = table[name]!
            switch name {
            case "noise":
                settings.noise = try nonNegativeNumber(value, of: "σ in z-units", key: full, fail: fail)
            case "denoising":
                guard let flag = value.bool else { throw fail(full, "expected true or false, got \(describe(value))", nil, nil) }
                settings.denoising = flag
            case "rollout_steps":
                settings.rolloutSteps = try wholeNumber(value, in: LearningSettings.rolloutStepsRange, of: "steps", key: full, fail: fail)
            case "hidden":
                settings.hidden = try wholeNumber(value, in: LearningSettings.hiddenRange, of: "hidden units", key: full, fail: fail)
            case "window":
                settings.window = try wholeNumber(value, in: LearningSettings.windowRange, of: "states", key: full, fail: fail)
            case "ridge":
                settings.ridge = try nonNegativeNumber(value, of: "the readout's ridge λ", key: full, fail: fail)
            case "degree":
                settings.degree = try wholeNumber(value, in: LearningSettings.degreeRange, of: "degrees", key: full, fail: fail)
            default:
                throw fail(full, "unknown key '\(name)'", suggestion(name, modelLearningKeys, list: "keys"), nil)
            }
        }
        if settings.denoising == true && !((settings.noise ?? 0) > 0) {
            throw fail("\(key).denoising", "denoising needs input noise", "add noise = σ (σ > 0) to [\(key)]", nil)
        }
        return settings
    }

    /// A finite number ≥ 0, else an error naming the key and what the number is ("expected a number (σ in z-units)").
    private static func nonNegativeNumber(_ value: TOMLValueConvertible, of meaning: String, key: String,
                                          fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> Double {
        guard let x = number(value) else { throw fail(key, "expected a number (\(meaning)), got \(describe(value))", nil, nil) }
        guard x.isFinite, x >= 0 else { throw fail(key, "must be a finite number ≥ 0, got \(x)", nil, nil) }
        return x
    }

    /// A whole number within `range`, else an error naming the key and the range ("a whole number of steps from 0
    /// to 1000").
    private static func wholeNumber(_ value: TOMLValueConvertible, in range: ClosedRange<Int>, of unit: String, key: String,
                                    fail: (String?, String, String?, String?) -> ProblemError) throws(ProblemError) -> Int {
        guard let n = value.int, range.contains(n) else {
            throw fail(key, "expected a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound), got \(describe(value))", nil, nil)
        }
        return n
    }
}
