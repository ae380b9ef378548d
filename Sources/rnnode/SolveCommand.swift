// `rnnode solve PROBLEM --model …`: learn to step a problem's trajectories and report, point by point, how far
// the learned rollouts stray from GSL's (the pipeline lives in Experiments/Solve; this file maps options to it).
import ArgumentParser
import Experiments
import Foundation
import Problems
import Recurrent

struct SolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Train a recurrent stepper on GSL trajectories and check its rollouts against GSL.",
        discussion: """
            Data: GSL trajectories from random starts in the problem's [sampling] box (after its transient), sampled every time.step and split by --seed into training, validation and held-out test trajectories, cached in DIR/data as CSV.

            Models see the last k = --window states, z-scored with training statistics, and predict the next increment. Each test rollout is warmed up on the first s = --eval-start reference states (the same for every model), then fed its own predictions, and compared with GSL at every step.

            Writes DIR/<problem>-<model>-trajectory.csv, appends to DIR/errors.csv, writes a manifest and gnuplot SVGs (scripts kept). Trained models are cached in DIR/models (--retrain trains again); an interrupted training resumes from its checkpoint.
            """)

    @Argument(help: "A catalog problem name (see `rnnode problems`) or a path to a problem .toml file.")
    var problem: String

    @Option(help: ArgumentHelp("The learned model: " + ModelRegistry.all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ") + ".",
                               valueName: "model"))
    var model: ModelKind = .lstm

    @Option(help: "Hidden units per layer (rnn, lstm, gru; default \(SolveDefaults.hiddenByModel)).")
    var hidden: Int?

    @Option(help: "Recurrent layers (rnn, lstm, gru; default 1).")
    var layers: Int?

    @Option(help: "k: reference states the model sees before predicting, its window and warm-up (default: 100 for esn, 16 for the others).")
    var window: Int?

    @Option(name: .customLong("eval-start"), help: "s: every model is warmed up on the first s reference states and scored from there, so all models of a problem share one evaluation interval; at least --window (default \(SolveDefaults.evaluationStart)).")
    var evalStart: Int?

    @Option(help: "Training epochs (rnn, lstm, gru): exact reproduction, wins over --budget (default: train by --budget).")
    var epochs: Int?

    @Option(help: ArgumentHelp("Training seconds (rnn, lstm, gru): the learning-rate schedule fitted to them, the best validation weights kept (default \(CSV.format(SolveDefaults.budget)); --epochs wins).", valueName: "SECONDS"))
    var budget: Double?

    @Option(name: .customLong("train-trajectories"), help: "Training trajectories (default: the problem file's [learning] train_trajectories, else 4).")
    var trainTrajectories: Int?

    @Option(name: .customLong("validation-trajectories"), help: "Validation trajectories: the networks' weights chosen on them, --tune's score (default: the problem file's [learning] validation_trajectories, else 1).")
    var validationTrajectories: Int?

    @Option(name: .customLong("test-trajectories"), help: "Held-out test trajectories (default 8).")
    var testTrajectories: Int?

    @Option(help: "Evaluation horizon in time units from the problem's start (default: its whole [time] span).")
    var horizon: Double?

    @Option(help: "Seed of the data split, the weights and the training order.")
    var seed: UInt64 = 0

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a parameter or initial value.", valueName: "NAME=VALUE"))
    var overrides: [String] = []

    @Option(name: .customLong("out"), help: ArgumentHelp("Output directory.", valueName: "DIR"))
    var out: String = "results"

    @Flag(help: "Train again even when a trained model is cached.")
    var retrain = false

    @Flag(help: "Small data, small models, few epochs (the comparison grid's quick mode); explicit options still apply.")
    var quick = false

    @Option(name: .customLong("learning-rate"), help: "Adam learning rate (rnn, lstm, gru; default \(CSV.format(SolveConfiguration(problem: "").learningRate)), cosine decay over the epochs or the budget).")
    var learningRate: Double?

    @Option(name: .customLong("batch-size"), help: "Sequences per mini-batch (rnn, lstm, gru; default \(SolveConfiguration(problem: "").batchSize)).")
    var batchSize: Int?

    @Option(name: .customLong("rollout-steps"), help: "R: closed-loop training (rnn, lstm, gru): after the warm-up the network is fed its own predictions for R steps, a curriculum growing R (default \(SolveConfiguration(problem: "").rolloutSteps); 0: teacher forcing).")
    var rolloutSteps: Int?

    @Option(name: .customLong("select-by"), help: "The weights kept from training (rnn, lstm, gru): vpt, those whose rollouts from 16 starts spread over the validation trajectories last longest on average, equal times going to the lower validation loss (scored at the end of epochs, at most a fifth of the budget; once every rollout stays valid to its end scoring stops and the lowest validation loss since is checked once at the end); loss, those of the lowest one-step validation loss (default vpt).")
    var selectBy: WeightSelection?

    @Option(name: .customLong("sequence-steps"), help: "Loss steps after the warm-up in each training sequence (default 16).")
    var sequenceSteps: Int?

    @Option(name: .customLong("reservoir-size"), help: "ESN reservoir units (default \(ReservoirSettings().size)).")
    var reservoirSize: Int?

    @Option(help: "ESN fraction of non-zero entries of W; mean degree = connectivity × units (default \(ReservoirSettings().connectivity)).")
    var connectivity: Double?

    @Option(name: .customLong("spectral-radius"), help: "ESN spectral radius of W (default \(ReservoirSettings().spectralRadius)).")
    var spectralRadius: Double?

    @Option(name: .customLong("leak-rate"), help: "ESN leak rate a in (0, 1] (default \(ReservoirSettings().leakRate)).")
    var leakRate: Double?

    @Option(name: .customLong("input-scaling"), help: "ESN input weight scale (default \(ReservoirSettings().inputScaling)).")
    var inputScaling: Double?

    @Option(name: .customLong("bias-scaling"), help: "ESN bias scale: b uniform in ±scale (default \(ReservoirSettings().biasScaling)).")
    var biasScaling: Double?

    @Option(help: ArgumentHelp("ESN readout features: linear [1; u; x], pathak [1; u; x̃] with every even unit squared (Pathak et al. 2018), quadratic [1; u; x; x∘x] (default \(ReservoirSettings().readout.rawValue)).", valueName: "linear|pathak|quadratic"))
    var readout: ReservoirReadout?

    @Option(name: .customLong("input-weights"), help: ArgumentHelp("ESN W_in: dense (every entry in ±--input-scaling) or one (each unit driven by one input, Pathak et al. 2018; default \(ReservoirSettings().inputWeights.rawValue)).", valueName: "dense|one"))
    var inputWeights: ReservoirInputWeights?

    @Option(help: "Ridge λ of the readout of esn, ngrc or linear (default: the problem file's [learning.<model>] ridge, else \(CSV.format(ReservoirSettings().ridge)), \(CSV.format(NextGenerationSettings().ridge)) and \(CSV.format(SolveConfiguration(problem: "").linearRidge))).")
    var ridge: Double?

    @Option(help: "Training threads (the batch split across them; default \(Parallelism.environmentVariable) or all cores).")
    var threads: Int?

    @Option(help: "ngrc: delayed states k in the features (default \(NextGenerationSettings().delays)).")
    var delays: Int?

    @Option(help: "ngrc: steps s between the delayed states (default \(NextGenerationSettings().skip)).")
    var skip: Int?

    @Option(help: "ngrc: highest degree p of the monomials of the delayed states (default: the problem file's [learning.ngrc] degree, else \(NextGenerationSettings().degree)).")
    var degree: Int?

    @Option(help: "σ of Gaussian noise, in z-units, on the inputs of the teacher-forced fit (esn, ngrc, linear: once; rnn, lstm, gru: afresh each epoch). Default: the problem file's [learning.<model>] noise (with its denoising), else 0.")
    var noise: Double?

    @Flag(inversion: .prefixedNo, help: "With --noise (esn, ngrc, linear): fit the increment from the noisy input to the true next state, so the step map pulls perturbed states back (for stiff problems such as kuramoto-sivashinsky). Default: the problem file's [learning.<model>] denoising, else off.")
    var denoising: Bool?

    @Option(help: "Parallel local models: cut the sites of the problem's array variables into g patches, one model each.")
    var groups: Int?

    @Option(help: "With --groups: sites l on each side of a patch that its model also sees (default 0).")
    var halo: Int?

    @Flag(help: "With --groups: one model shared by every patch (translational symmetry).")
    var shared = false

    @Option(help: "Tune the model's knobs first: N seeded trials scored by the median VPT on the validation trajectories (successive halving over epochs for rnn, lstm, gru); cached in DIR/models.")
    var tune: Int?

    @Option(help: "Arithmetic of rnn, lstm and gru training and rollouts: double or single (Float32; optimizer state stays Double).")
    var precision: Precision = .double

    @Option(name: .customLong("vpt-threshold"), help: ArgumentHelp("The valid prediction time ends when the normalised error E(t) first exceeds E (default \(CSV.format(validPredictionThreshold)), Pathak et al. 2018; the Kuramoto–Sivashinsky literature uses 0.5). Changes the reported vpt rows only (named vpt@E, file names -vpt<E>); the cached model is reused and --tune still scores at \(CSV.format(validPredictionThreshold)).", valueName: "E"))
    var vptThreshold: Double?

    func configurationValue() throws -> SolveConfiguration {
        var c = SolveConfiguration(problem: problem, model: model)
        if quick { c = c.quick() }
        c.seed = seed; c.outputDirectory = out; c.retrain = retrain
        c.windowOverride = window ?? c.windowOverride
        c.epochs = epochs ?? c.epochs
        if let budget { c.budget = budget; if epochs == nil { c.epochs = nil } }
        c.evaluationStartOverride = evalStart ?? c.evaluationStartOverride
        c.horizon = horizon
        if let hidden { c.hidden = hidden }
        if let layers { c.layers = layers }
        c.precision = precision
        if let trainTrajectories { c.trainTrajectories = trainTrajectories }
        if let validationTrajectories { c.validationTrajectories = validationTrajectories }
        if let testTrajectories { c.testTrajectories = testTrajectories }
        if let learningRate { c.learningRate = learningRate }
        if let batchSize { c.batchSize = batchSize }
        if let sequenceSteps { c.sequenceSteps = sequenceSteps }
        if let rolloutSteps { c.rolloutSteps = rolloutSteps }
        if let selectBy { c.selection = selectBy }
        if let reservoirSize { c.reservoir.size = reservoirSize }
        if let connectivity { c.reservoir.connectivity = connectivity }
        if let spectralRadius { c.reservoir.spectralRadius = spectralRadius }
        if let leakRate { c.reservoir.leakRate = leakRate }
        if let inputScaling { c.reservoir.inputScaling = inputScaling }
        if let biasScaling { c.reservoir.biasScaling = biasScaling }
        if let readout { c.reservoir.readout = readout }
        if let inputWeights { c.reservoir.inputWeights = inputWeights }
        if let ridge { c.ridgeOverride = ridge }
        if let delays { c.ngrc.delays = delays }
        if let skip { c.ngrc.skip = skip }
        if let degree { c.degreeOverride = degree }
        if let noise { c.noise = noise }
        if let denoising { c.denoising = denoising }
        c.tune = tune
        if let vptThreshold { c.vptThreshold = vptThreshold }
        if groups == nil && (halo != nil || shared) {
            throw ValidationError("--halo and --shared apply to parallel models only: add --groups")
        }
        if let groups { c.parallel = ParallelSettings(groups: groups, halo: halo ?? 0, shared: shared) }
        c.overrides = try overrides.map { text in
            guard let parsed = ParameterOverride(parsing: text) else {
                throw ValidationError("--set '\(text)': expected NAME=VALUE with a finite number, e.g. --set rho=28")
            }
            return parsed
        }
        return c
    }

    func validate() throws {
        try OptionLimits.checkPath("--out", out)
        try OptionLimits.check("--threads", threads, OptionLimits.threads)
        do { _ = try Parallelism.environmentThreads() } catch { throw ValidationError("\(error)") }
        // Each size within its documented range before anything is built from it.
        try OptionLimits.check("--hidden", hidden, OptionLimits.hidden)
        try OptionLimits.check("--layers", layers, OptionLimits.layers)
        try OptionLimits.check("--window", window, OptionLimits.window)
        try OptionLimits.check("--eval-start", evalStart, OptionLimits.window)
        try OptionLimits.check("--epochs", epochs, OptionLimits.epochs)
        try OptionLimits.check("--train-trajectories", trainTrajectories, OptionLimits.trajectories)
        try OptionLimits.check("--validation-trajectories", validationTrajectories, OptionLimits.validationTrajectories)
        try OptionLimits.check("--test-trajectories", testTrajectories, OptionLimits.trajectories)
        try OptionLimits.check("--batch-size", batchSize, OptionLimits.batchSize)
        try OptionLimits.check("--sequence-steps", sequenceSteps, OptionLimits.sequenceSteps)
        try OptionLimits.check("--rollout-steps", rolloutSteps, OptionLimits.rolloutSteps)
        try OptionLimits.check("--reservoir-size", reservoirSize, OptionLimits.reservoirSize)
        try OptionLimits.check("--horizon", horizon)
        try OptionLimits.check("--learning-rate", learningRate)
        try OptionLimits.check("--spectral-radius", spectralRadius)
        try OptionLimits.check("--connectivity", connectivity, atMost: 1)
        try OptionLimits.check("--leak-rate", leakRate, atMost: 1)
        try OptionLimits.check("--input-scaling", inputScaling, positive: false)
        try OptionLimits.check("--bias-scaling", biasScaling, positive: false)
        try OptionLimits.check("--ridge", ridge, positive: false)
        try OptionLimits.check("--noise", noise, positive: false)
        try OptionLimits.check("--budget", budget)
        try OptionLimits.check("--delays", delays, 1...1000)
        try OptionLimits.check("--skip", skip, 1...100_000)
        try OptionLimits.check("--degree", degree, OptionLimits.degree)
        try OptionLimits.check("--groups", groups, 1...100_000)
        try OptionLimits.check("--halo", halo, 0...100_000)
        try OptionLimits.check("--tune", tune, OptionLimits.tuneTrials)
        try OptionLimits.check("--vpt-threshold", vptThreshold)
        do {
            let given = try configurationValue()
            let problem = try SolvePipeline.problem(for: given)
            let c = try given.resolved(for: problem)
            // The problem's grid sizes every trajectory: refuse it before the pipeline counts its steps.
            let rows: Int
            switch Limits.outputRowCount(start: problem.time.start, end: problem.time.end, step: problem.time.step) {
            case .success(let count): rows = count
            case .failure(let limit):
                throw ValidationError("\(problem.file?.path ?? problem.name): time.step: \(limit)")
            }
            // A parallel model's parts see a patch and its halo, not the whole state.
            let inputs = try c.parallel.map { ParallelPartition.largestPatchInputs($0, layout: try SiteLayout(problem: problem)) }
            try Self.memoryEstimate(c, rows: rows, dimension: problem.dimension, modelInputs: inputs ?? problem.dimension).check()
            try SolvePipeline.validate(c, problem: problem)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError(ErrorText.describe(error))
        }
    }

    /// Memory of the data, the training set and the model for `c`, for trajectories of `rows` outputs of
    /// `dimension` variables; each part names the options that size it.
    static func memoryEstimate(_ c: SolveConfiguration, rows: Int, dimension: Int, modelInputs: Int) -> OptionLimits.Estimate {
        let r = Double(rows), d = Double(dimension), double = 8.0
        let train = Double(c.trainTrajectories), validation = Double(c.validationTrajectories)
        var estimate = OptionLimits.Estimate()
        estimate.add("the trajectories ((--train-, --validation-, --test-trajectories) × rows × variables)",
                     train + validation + Double(c.testTrajectories), r, d, double, 2)
        for part in c.model.registration.memory(c, modelInputs, train * r) { estimate.add(part.what, part.bytes) }
        return estimate
    }

    func run() throws {
        try Parallelism.configure(option: threads)
        let c = try configurationValue()
        let result: SolveResult
        do {
            result = try SolvePipeline.run(c, log: { Console.reportOrRemember($0) })
        } catch let error as SolveError {
            try Console.report("error: \(error)")
            if case .interrupted = error { throw ExitCode(130) }
            throw ExitCode.failure
        }
        for note in result.notes { try Console.report("note: \(note)") }
        try Console.print("\(result.rows.first?.problem ?? c.problem) · \(c.model.rawValue) · seed \(c.seed): \(result.trajectories.count) held-out test trajectories against GSL")
        try Console.print(result.summary.text, terminator: "")
        try Console.print("wrote: " + result.files.map(\.path).joined(separator: ", "))
    }
}

extension ReservoirReadout: ExpressibleByArgument {}
extension ReservoirInputWeights: ExpressibleByArgument {}
extension WeightSelection: ExpressibleByArgument {}

extension ModelKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { ModelRegistry.names }
    public var defaultValueDescription: String { rawValue }
}
