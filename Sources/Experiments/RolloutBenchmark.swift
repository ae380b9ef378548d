// The measurement behind `rnnode bench rollout`: learned-stepper rollouts of a problem's test trajectories, one
// trajectory at a time and all together (batched, over threads), against GSL solving the same trajectories.
import Foundation
import Problems
import Recurrent
import Reference

/// The models `bench rollout` can time.
public enum RolloutBenchmarkModel: String, CaseIterable, Codable, Sendable {
    case esn, lstm, gru, rnn, linear
}

/// What to time.
public struct RolloutBenchmarkConfiguration: Sendable {
    public var model: RolloutBenchmarkModel
    /// A catalog name or a problem file.
    public var problem: String
    public var trainTrajectories = 4
    public var testTrajectories = 8
    public var seed: UInt64 = 0
    /// s: reference states each rollout is warmed up on (as `solve --eval-start`).
    public var warmUp = 100
    /// The ESN (solve's defaults: 600 units at density 0.02).
    public var reservoir = ReservoirSettings()
    /// Hidden units of lstm, gru, rnn (untrained: the cost of a step does not depend on the weights).
    public var hidden = 64
    /// k of the linear model.
    public var window = 16
    /// Threads of the batched rollout (ESN batches run concurrently; the others step one batch).
    public var threads = 1
    /// Timed repetitions of each path; the best is reported.
    public var repetitions = 5
    /// Where the reference data is cached (DIR/data); nil: generated, not written.
    public var cacheDirectory: URL?
    /// ESN only: a JSON file with the fitted network, the normalisation, the test trajectories and the
    /// sequential rollouts, for a peer to rebuild the same model on the same data (bench/peers/reservoirpy_rollout.py).
    public var exportFile: URL?
    public init(model: RolloutBenchmarkModel, problem: String) { self.model = model; self.problem = problem }
}

public struct RolloutBenchmarkResult: Sendable {
    public var problem: String
    public var dimension: Int
    /// Trajectories rolled out (the batch) and the predicted steps of each.
    public var trajectories: Int
    public var stepsPerTrajectory: Int
    public var threads: Int
    public var parameters: Int
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
    /// Builds the data (GSL) and the model (ESN and linear fitted as `solve` fits them; the recurrent networks
    /// freshly initialised), then times each path `repetitions` times, alternating them. The rollouts run in an
    /// unbounded box (only a non-finite state stops one), so every path does the same number of steps.
    public static func run(_ c: RolloutBenchmarkConfiguration, log: (String) -> Void = { _ in }) throws -> RolloutBenchmarkResult {
        precondition(c.repetitions >= 1 && c.threads >= 1 && c.testTrajectories >= 1 && c.trainTrajectories >= 1)
        let problem = try Catalog.load(c.problem)
        let d = problem.dimension
        let data = try TrajectoryGenerator.data(for: problem, counts: [.training: c.trainTrajectories, .validation: 0, .test: c.testTrajectories],
                                                seed: c.seed, cacheRoot: c.cacheDirectory, log: log)
        let rows = data.times.count
        guard c.warmUp >= 1, c.warmUp < rows - 1 else {
            throw SolveConfigurationError("--warm-up \(c.warmUp) leaves nothing to roll out: \(problem.name) trajectories have \(rows) states; use 1 … \(rows - 2)")
        }
        let training = data.training.map(\.states)
        let normalization = Normalization.fit(trajectories: training, dimension: d)
        let stepper = try makeStepper(c, training: training, dimension: d, normalization: normalization)
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
                                  normalization: normalization, lower: lower, upper: upper)
            }
            sequentialBest = min(sequentialBest, (clock.now - started).seconds)
            started = clock.now
            let batched = BatchedRolloutRunner.run(stepper, references: references, dimension: d, warmUp: c.warmUp, last: last,
                                                   normalization: normalization, lower: lower, upper: upper, threads: c.threads)
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
                throw SolveConfigurationError("--export writes an ESN only (got --model \(c.model.rawValue))")
            }
            let sequential = references.map {
                RolloutRunner.run(stepper, reference: $0, dimension: d, warmUp: c.warmUp, last: last,
                                  normalization: normalization, lower: lower, upper: upper).predicted
            }
            let export = RolloutExport(problem: problem.name, dimension: d, warmUp: c.warmUp, last: last,
                                       configuration: reservoir.network.configuration, arrays: reservoir.network.checkpoint().arrays,
                                       normalization: normalization, test: references, predicted: sequential)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try AtomicFile.write(encoder.encode(export), to: url)
        }
        return RolloutBenchmarkResult(problem: problem.name, dimension: d, trajectories: references.count, stepsPerTrajectory: steps,
                                      threads: c.threads, parameters: stepper.parameterCount, sequentialSeconds: sequentialBest,
                                      batchedSeconds: batchedBest, referenceSeconds: referenceBest,
                                      referenceInternalSteps: internalSteps, largestDifference: largestDifference,
                                      maxResidentBytes: maxResidentBytes())
    }

    static func makeStepper(_ c: RolloutBenchmarkConfiguration, training: [[Double]], dimension d: Int,
                            normalization: Normalization) throws -> LearnedStepper {
        switch c.model {
        case .esn:
            var configuration = ReservoirConfiguration(inputSize: d, outputSize: d)
            let r = c.reservoir
            configuration.size = r.size; configuration.connectivity = r.connectivity
            configuration.spectralRadius = r.spectralRadius; configuration.leakRate = r.leakRate
            configuration.inputScaling = r.inputScaling; configuration.biasScaling = r.biasScaling; configuration.ridge = r.ridge
            let network = try EchoStateNetwork(configuration: configuration, seed: c.seed)
            let sequences = TeacherForcing.full(trajectories: training, dimension: d, normalization: normalization)
            let washout = min(r.washout, max((sequences.inputs.first?.count ?? 0) / d / 2, 0))
            try network.fit(inputs: sequences.inputs, targets: sequences.targets, warmup: washout, threads: c.threads)
            return ReservoirStepper(network: network)
        case .lstm, .gru, .rnn:
            let cell = CellKind(rawValue: c.model.rawValue)!
            return RecurrentStepper(network: RecurrentNetwork(
                configuration: NetworkConfiguration(cell: cell, inputSize: d, hiddenSize: c.hidden, layers: 1, outputSize: d), seed: c.seed))
        case .linear:
            return try LinearAutoregressiveStepper.fit(TeacherForcing.full(trajectories: training, dimension: d, normalization: normalization),
                                                       window: c.window, ridge: 1e-8)
        }
    }
}

/// What `--export` writes (JSON): the ESN's configuration and arrays (checkpoint names: W in CSR as
/// reservoir.W.row_start / .columns / .values, reservoir.W_in (N, I), reservoir.b, reservoir.W_out ((1 + I + N), O)
/// for the features [1; u; x]), the normalisation, the test trajectories (each (N, d) row-major), the warm-up s,
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
