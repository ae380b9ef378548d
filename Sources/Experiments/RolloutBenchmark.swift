// The measurement behind `rnnode bench rollout`: rollouts of a trained learned stepper (any registered model, made as
// `solve` makes it) over a problem's test trajectories, one at a time and all together (batched, over threads),
// against GSL solving the same trajectories.
import Foundation
import Problems
import Recurrent
import Reference

/// What to time.
public struct RolloutBenchmarkConfiguration: Sendable {
    /// The model as `rnnode solve` makes it: problem, model (any registered one), seed, data counts and the
    /// model's settings and training (`--budget`/`--epochs` for rnn, lstm, gru). `outputDirectory` is not used.
    public var solve: SolveConfiguration
    /// s: reference states each rollout is warmed up on (as `solve --eval-start`).
    public var warmUp = 100
    /// Threads of the batched rollout (ESN batches run concurrently; the others step one batch).
    public var threads = 1
    /// Timed repetitions of each path; the best is reported.
    public var repetitions = 5
    /// Where the reference data (DIR/data) and the trained models (DIR/models) are cached, as `solve --out DIR`
    /// caches them, so a model `solve` trained with the same options is timed without training again; nil: data
    /// generated and the model trained in a temporary folder, neither kept.
    public var cacheDirectory: URL?
    /// ESN only: a JSON file with the fitted network, the normalisation, the test trajectories and the
    /// sequential rollouts, for a peer to rebuild the same model on the same data (bench/peers/reservoirpy_rollout.py).
    public var exportFile: URL?
    public init(model: ModelKind, problem: String) {
        solve = SolveConfiguration(problem: problem, model: model)
        solve.showProgress = false
    }
}

public struct RolloutBenchmarkResult: Sendable {
    public var problem: String
    public var dimension: Int
    /// Trajectories rolled out (the batch) and the predicted steps of each.
    public var trajectories: Int
    public var stepsPerTrajectory: Int
    public var threads: Int
    public var parameters: Int
    /// Seconds the timed model took to train or fit (as recorded in its cache file when loaded from there).
    public var trainSeconds: Double
    /// Whether the model was loaded from the cache (`cacheDirectory`), trained by an earlier run.
    public var modelFromCache: Bool
    /// The cached model's path without its extension; nil when it was trained in a temporary folder.
    public var modelFile: URL?
    /// Best wall time over the repetitions: all trajectories one after another (`RolloutRunner.run`), and batched
    /// (`BatchedRolloutRunner.run`, with `threads`); warm-up steps included in both.
    public var sequentialSeconds: Double
    public var batchedSeconds: Double
    /// GSL (the problem's reference stepper and tolerances) over the same intervals from the same states, one
    /// trajectory after another; its output steps and its own adaptive steps.
    public var referenceSeconds: Double
    public var referenceInternalSteps: Int
    /// The largest |batched − sequential| prediction over every trajectory and step (0 for the ESN: bit-identical).
    public var largestDifference: Double
    /// Peak resident set of the process after the runs.
    public var maxResidentBytes: Int

    /// Predicted steps of all trajectories, and the rates per trajectory (one trajectory's steps per second of
    /// its own: total steps / total time) and for the whole batch (all trajectories' steps per wall second).
    public var totalSteps: Double { Double(trajectories * stepsPerTrajectory) }
    public var sequentialStepsPerSecond: Double { totalSteps / sequentialSeconds }
    public var batchedStepsPerSecond: Double { totalSteps / batchedSeconds }
    /// One trajectory's rate inside the batch: the batch advances every trajectory one step per batched step.
    public var batchedStepsPerSecondPerTrajectory: Double { Double(stepsPerTrajectory) / batchedSeconds }
    public var referenceStepsPerSecond: Double { totalSteps / referenceSeconds }
}

public enum RolloutBenchmark {
    /// Builds the data (GSL) and the model (trained or fitted as `solve` trains it, through the model registry, or
    /// loaded from `cacheDirectory`), then times each path `repetitions` times, alternating them. The rollouts run
    /// in an unbounded box (only a non-finite state stops one), so every path does the same number of steps.
    public static func run(_ configuration: RolloutBenchmarkConfiguration, log: @escaping (String) -> Void = { _ in }) throws -> RolloutBenchmarkResult {
        let c = configuration
        let problem = try SolvePipeline.problem(for: c.solve)
        var settings = try c.solve.resolved(for: problem)
        precondition(c.repetitions >= 1 && c.threads >= 1 && settings.testTrajectories >= 1 && settings.trainTrajectories >= 1)
        let d = problem.dimension
        let counts: [DataSplit: Int] = [.training: settings.trainTrajectories, .validation: settings.validationTrajectories, .test: settings.testTrajectories]
        let temporary = c.cacheDirectory == nil
            ? FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-bench-rollout-\(UUID().uuidString)", isDirectory: true) : nil
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let data = try TrajectoryGenerator.data(for: problem, counts: counts, seed: settings.seed,
                                                cacheRoot: c.cacheDirectory?.appendingPathComponent("data"), log: log)
        let rows = data.times.count
        guard c.warmUp >= 1, c.warmUp < rows - 1 else {
            throw SolveConfigurationError("--warm-up \(c.warmUp) leaves nothing to roll out: \(problem.name) trajectories have \(rows) states; use 1 … \(rows - 2)")
        }
        guard settings.window <= c.warmUp else {
            throw SolveConfigurationError("--warm-up \(c.warmUp) is shorter than the window \(settings.window) of \(settings.model.rawValue): a rollout starts after the model has seen its window; use --warm-up \(settings.window) or more")
        }
        // The rollouts start after the warm-up, like solve's evaluation after --eval-start.
        settings.evaluationStart = c.warmUp
        settings.horizon = nil
        try SolvePipeline.validate(settings, problem: problem)
        var normalization = Normalization.fit(trajectories: data.training.map(\.states), dimension: d, periods: problem.periods,
                                              forcingPeriod: problem.forcingPeriod)
        if let parallel = settings.parallel, parallel.shared { normalization = normalization.pooled(over: try SiteLayout(problem: problem)) }
        let models = (c.cacheDirectory ?? temporary!).appendingPathComponent("models")
        let base = try OutputName.file("\(problem.name)-\(settings.model.rawValue)-\(SolvePipeline.modelKey(settings, problem: problem))",
                                       in: models, what: "problem name")
        let (model, trainSeconds, fromCache) = try SolvePipeline.trainedModel(settings, problem: problem, data: data, normalization: normalization,
                                                                              base: base, log: log)
        let stepper = model.makeStepper()
        let references = data.test.map(\.states)
        let last = rows - 1, steps = last - (c.warmUp - 1)
        let lower = [Double](repeating: -.infinity, count: d), upper = [Double](repeating: .infinity, count: d)
        let (stepperKind, tolerances) = try problem.referenceStepper()
        let system = problem.odeSystem
        let clock = ContinuousClock()

        var sequentialBest = Double.infinity, batchedBest = Double.infinity, referenceBest = Double.infinity
        var internalSteps = 0, largestDifference = 0.0
        for repetition in 0..<c.repetitions {
            var started = clock.now
            let sequential = references.map {
                RolloutRunner.run(stepper, reference: $0, dimension: d, warmUp: c.warmUp, last: last,
                                  normalization: normalization, lower: lower, upper: upper, times: data.times)
            }
            sequentialBest = min(sequentialBest, (clock.now - started).seconds)
            started = clock.now
            let batched = BatchedRolloutRunner.run(stepper, references: references, dimension: d, warmUp: c.warmUp, last: last,
                                                   normalization: normalization, lower: lower, upper: upper, times: data.times, threads: c.threads)
            batchedBest = min(batchedBest, (clock.now - started).seconds)
            started = clock.now
            var adaptiveSteps = 0
            for reference in references {
                let start = Array(reference[((c.warmUp - 1) * d)..<(c.warmUp * d)])
                let solution = solve(system, initial: start, from: data.times[c.warmUp - 1], to: data.times[last],
                                     outputStep: problem.time.step, stepper: stepperKind, tolerances: tolerances)
                if let failure = solution.failure { throw SolveConfigurationError("GSL failed on a test trajectory: \(failure)") }
                adaptiveSteps += solution.statistics.steps
            }
            referenceBest = min(referenceBest, (clock.now - started).seconds)
            internalSteps = adaptiveSteps
            if repetition == 0 {
                for (a, b) in zip(sequential, batched) {
                    for (x, y) in zip(a.predicted, b.predicted) where x.isFinite || y.isFinite {
                        largestDifference = max(largestDifference, abs(x - y).isNaN ? .infinity : abs(x - y))
                    }
                }
            }
        }
        if let url = c.exportFile {
            guard let reservoir = stepper as? ReservoirStepper else {
                throw SolveConfigurationError("--export writes an ESN only (got --model \(settings.model.rawValue))")
            }
            let sequential = references.map {
                RolloutRunner.run(stepper, reference: $0, dimension: d, warmUp: c.warmUp, last: last,
                                  normalization: normalization, lower: lower, upper: upper, times: data.times).predicted
            }
            let export = RolloutExport(problem: problem.name, dimension: d, warmUp: c.warmUp, last: last,
                                       configuration: reservoir.network.configuration, arrays: reservoir.network.checkpoint().arrays,
                                       normalization: normalization, test: references, predicted: sequential)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(encoder.encode(export), to: url)
        }
        return RolloutBenchmarkResult(problem: problem.name, dimension: d, trajectories: references.count, stepsPerTrajectory: steps,
                                      threads: c.threads, parameters: stepper.parameterCount, trainSeconds: trainSeconds,
                                      modelFromCache: fromCache, modelFile: c.cacheDirectory == nil ? nil : base,
                                      sequentialSeconds: sequentialBest, batchedSeconds: batchedBest, referenceSeconds: referenceBest,
                                      referenceInternalSteps: internalSteps, largestDifference: largestDifference,
                                      maxResidentBytes: maxResidentBytes())
    }
}

/// What `--export` writes (JSON): the ESN's configuration and arrays (checkpoint names: W in CSR as
/// reservoir.W.row_start / .columns / .values, reservoir.W_in (N, I), reservoir.b, reservoir.W_out (P, O)
/// for the features [1; u; F(x)] of the configuration's readout), the normalisation, the test trajectories (each (N, d) row-major), the warm-up s,
/// the last index, and rnnode's rollouts (rows s − 1 … last).
struct RolloutExport: Encodable {
    var problem: String
    var dimension: Int
    var warmUp: Int
    var last: Int
    var configuration: ReservoirConfiguration
    var arrays: [String: [Double]]
    var normalization: Normalization
    var test: [[Double]]
    var predicted: [[Double]]
}
