// `rnnode bench`: measurements of speed and memory; `bench train` times training steps of a recurrent network,
// `bench rollout` the rollouts of a learned stepper against GSL.
import ArgumentParser
import Experiments
import Foundation
import Recurrent

extension Precision: ExpressibleByArgument {}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure speed and memory.", subcommands: [TrainBenchCommand.self, RolloutBenchCommand.self])
}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput (forward, backward, clipping and an Adam step) on random data, in Double or Float32.",
        discussion: """
            For each thread count (data parallel: the batch split across threads, single-threaded BLAS on each), \
            prints sequences per second, the share of the time spent in GEMMs, the step's GEMM rate against the \
            machine's dgemm (sgemm with --precision single) peak with as many threads, and the BPTT cache bytes; then the peak resident set. \
            Compare with bench/torch_lstm.py at the same shapes (bench/compare_torch.sh, see bench/README.md).
            """)

    @Option(help: "Cell type: rnn, lstm or gru.") var cell: String = "lstm"
    @Option(help: "Hidden units per layer.") var hidden: Int = 64
    @Option(help: "Steps per sequence (full BPTT).") var seq: Int = 32
    @Option(help: "Sequences per batch.") var batch: Int = 64
    @Option(help: "Inputs per step.") var input: Int = 3
    @Option(help: "Outputs per step (linear readout).") var output: Int = 1
    @Option(help: "Stacked recurrent layers.") var layers: Int = 1
    @Option(help: "Thread counts to measure, comma-separated (default: 1 and RNNODE_THREADS or all cores).")
    var threads: String?
    @Option(help: "Timed batches (after 5 untimed).") var iterations: Int = 50
    @Option(help: "Size of the square matrices for the dgemm or sgemm peak (0: skip).") var peakSize: Int = 1024
    @Option(help: "Arithmetic of the forward and backward passes: double or single (Float32).") var precision: Precision = .double

    func validate() throws {
        guard CellKind(rawValue: cell) != nil else {
            throw ValidationError("unknown cell '\(cell)'; choose one of \(CellKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try OptionLimits.check("--hidden", hidden, OptionLimits.hidden)
        try OptionLimits.check("--seq", seq, OptionLimits.sequenceSteps)
        try OptionLimits.check("--batch", batch, OptionLimits.batchSize)
        try OptionLimits.check("--input", input, OptionLimits.inputOrOutput)
        try OptionLimits.check("--output", output, OptionLimits.inputOrOutput)
        try OptionLimits.check("--layers", layers, OptionLimits.layers)
        _ = try threadCounts()
        try OptionLimits.check("--iterations", iterations, OptionLimits.iterations)
        try OptionLimits.check("--peak-size", peakSize, OptionLimits.peakSize)
        let gates = OptionLimits.gates(cell: cell)
        let h = Double(hidden), l = Double(layers), b = Double(batch), t = Double(seq), double = 8.0
        var estimate = OptionLimits.Estimate()
        // Weights, gradient and two Adam moments.
        estimate.add("the parameters (--layers × gates × --hidden × (--input + --hidden + 1))",
                     l, gates, h, Double(max(input, hidden)) + h + 1, double, 4)
        // Per step and layer: the gates, the cell and hidden states and their gradients.
        estimate.add("the BPTT caches (--batch × --seq × --layers × --hidden)", b, t, l, h, gates + 4, double)
        estimate.add("the data (--batch × --seq × (--input + --output))", b, t, Double(input + output), double)
        estimate.add("the dgemm peak matrices (3 × --peak-size²)", 3, Double(peakSize), Double(peakSize), double)
        try estimate.check()
    }

    /// The thread counts of `--threads` (each in OptionLimits.threads), in the order given, without repeats.
    func threadCounts() throws -> [Int] {
        guard let threads else {
            let fromEnvironment: Int?
            do { fromEnvironment = try Parallelism.environmentThreads() } catch { throw ValidationError("\(error)") }
            let all = fromEnvironment ?? ProcessInfo.processInfo.activeProcessorCount
            return all == 1 ? [1] : [1, all]
        }
        var counts: [Int] = []
        for part in threads.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--threads: '\(part)' is not a whole number (expected a comma-separated list such as 1,2)")
            }
            try OptionLimits.check("--threads", n, OptionLimits.threads)
            if !counts.contains(n) { counts.append(n) }
        }
        return counts
    }

    func run() throws {
        func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        try Console.print("rnnode bench train: \(cell), input \(input), hidden \(hidden), layers \(layers), output \(output), "
              + "seq \(seq), batch \(batch), \(precision == .double ? "Double" : "Float32")")
        // every training run first, so the peak resident set is read before the dgemm probes' matrices raise it
        let results = try threadCounts().map { n in
            runTrainingBenchmark(TrainingBenchmarkConfiguration(
                cell: CellKind(rawValue: cell)!, inputSize: input, hiddenSize: hidden, layers: layers, outputSize: output,
                steps: seq, batch: batch, threads: n, iterations: iterations, peakSize: 0, precision: precision))
        }
        let resident = maxResidentBytes()
        let single = results.first { $0.configuration.threads == 1 }?.sequencesPerSecond
        for r in results {
            let n = r.configuration.threads
            let speedup = single.map { String(format: ", %.2f× 1 thread", r.sequencesPerSecond / $0) } ?? ""
            try Console.print(String(format: "  threads %d: training: %.1f sequences/s  (%.3f ms per batch mean, %.3f ms best, %d batches%@)",
                                     n, r.sequencesPerSecond, r.meanSecondsPerBatch * 1e3, r.bestSecondsPerBatch * 1e3, iterations, speedup))
            var gemm = String(format: "    GEMM:    %.0f%% of the time, %.1f MFLOP per batch; step %.2f GFLOP/s, GEMMs alone %.2f GFLOP/s",
                              r.gemmShare * 100, r.gemmOperationsPerBatch * 1e-6, r.achievedGigaflops, r.gemmGigaflops)
            if peakSize > 0 {
                let previous = LinearAlgebra.threads
                LinearAlgebra.threads = n
                let peak = LinearAlgebra.gemmGigaflops(size: peakSize, precision: precision)
                LinearAlgebra.threads = previous
                gemm += String(format: "; step = %.0f%% of %@ peak %.2f GFLOP/s (%d thread%@, n = %d)",
                               r.achievedGigaflops / peak * 100, precision == .double ? "dgemm" : "sgemm", peak, n,
                               n == 1 ? "" : "s", peakSize)
            }
            try Console.print(gemm)
            try Console.print("    memory:  BPTT caches \(mib(r.cacheBytes)) (\(r.cacheBytes) bytes), parameters + gradient + Adam moments "
                  + "\(mib(r.parameterStateBytes))")
        }
        try Console.print("  peak RSS \(mib(resident)) (before the dgemm probes)")
        try Console.print("  BLAS:      \(LinearAlgebra.libraryDescription)")
    }
}

struct RolloutBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Rollout speed of a trained learned stepper on a problem's test trajectories, against GSL, in Double.",
        discussion: """
            Generates the problem's data with GSL and makes the model as `rnnode solve` makes it, through the same \
            model registry: every model of `solve --model` works, fitted in closed form (esn, ngrc, linear) or \
            trained by backpropagation (rnn, lstm, gru: for --budget seconds, solve's default, or --epochs). The \
            timed model is that trained one. With --out DIR the data and the model are cached in DIR/data and \
            DIR/models as `solve --out DIR` caches them, so a model solve trained with the same options is timed \
            without training again. Then times the rollouts of every test trajectory from the same warm-up: one \
            trajectory after another, and all together (batched; ESN batches split over --threads), and GSL over \
            the same intervals. Prints steps per second per trajectory and for the whole batch; training time is not \
            part of any rate. bench/peers/reservoirpy_rollout.py compares with reservoirpy.
            """)

    @Option(help: "Model: \(ModelRegistry.names.joined(separator: ", ")).") var model: String = "esn"
    @Option(help: "A catalog problem name or a problem .toml file.") var problem: String = "lorenz"
    @Option(help: "Test trajectories rolled out together (the batch).") var testTrajectories: Int = 8
    @Option(help: "Training trajectories (as solve's --train-trajectories).") var trainTrajectories: Int = 4
    @Option(help: "Validation trajectories (rnn, lstm, gru: the best weights are kept on them; as solve's).") var validationTrajectories: Int = 1
    @Option(help: "Reference states each rollout is warmed up on (solve's --eval-start); at least the model's window.") var warmUp: Int = 100
    @Option(help: "ESN reservoir units (default \(ReservoirSettings().size), as solve).") var reservoirSize: Int?
    @Option(help: "Hidden units of rnn, lstm, gru (default \(SolveDefaults.hiddenByModel), as solve).") var hidden: Int?
    @Option(help: ArgumentHelp("Training seconds of rnn, lstm, gru (default \(CSV.format(SolveDefaults.budget)), as solve; --epochs wins).", valueName: "SECONDS"))
    var budget: Double?
    @Option(help: "Training epochs of rnn, lstm, gru instead of --budget.") var epochs: Int?
    @Option(help: "Threads for the batched rollout, the ESN fit and training (default: RNNODE_THREADS, else every core).") var threads: Int?
    @Option(help: "Timed repetitions of each path (the best is reported).") var repetitions: Int = 5
    @Option(help: "Seed of the data split, the weights and the training order.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Cache the data and the trained model in DIR as `solve --out DIR` does (default: train afresh, keep nothing).", valueName: "DIR"))
    var out: String?
    @Option(help: "ESN only: write the model, the data and rnnode's rollouts to this JSON file (for the reservoirpy peer).")
    var export: String?

    func validate() throws {
        do { _ = try ModelKind.parse(model) } catch let error as SolveConfigurationError { throw ValidationError(error.message) }
        try OptionLimits.check("--test-trajectories", testTrajectories, OptionLimits.trajectories)
        try OptionLimits.check("--train-trajectories", trainTrajectories, OptionLimits.trajectories)
        try OptionLimits.check("--validation-trajectories", validationTrajectories, OptionLimits.validationTrajectories)
        try OptionLimits.check("--warm-up", warmUp, OptionLimits.window)
        try OptionLimits.check("--reservoir-size", reservoirSize, OptionLimits.reservoirSize)
        try OptionLimits.check("--hidden", hidden, OptionLimits.hidden)
        try OptionLimits.check("--budget", budget)
        try OptionLimits.check("--epochs", epochs, OptionLimits.epochs)
        try OptionLimits.check("--threads", threads, OptionLimits.threads)
        try OptionLimits.check("--repetitions", repetitions, OptionLimits.iterations)
        try OptionLimits.checkPath("--out", out)
        do { _ = try Parallelism.environmentThreads() } catch { throw ValidationError("\(error)") }
        if export != nil && model != "esn" { throw ValidationError("--export writes an ESN only (got --model \(model))") }
        let c = try configurationValue()
        do { try c.solve.model.registration.validate(c.solve) } catch let error as SolveConfigurationError {
            throw ValidationError(error.message)
        }
    }

    func configurationValue() throws -> RolloutBenchmarkConfiguration {
        var c = RolloutBenchmarkConfiguration(model: ModelKind(rawValue: model)!, problem: problem)
        c.solve.seed = seed
        c.solve.testTrajectories = testTrajectories; c.solve.trainTrajectories = trainTrajectories
        c.solve.validationTrajectories = validationTrajectories
        if let reservoirSize { c.solve.reservoir.size = reservoirSize }
        if let hidden { c.solve.hidden = hidden }
        if let budget { c.solve.budget = budget }
        if let epochs { c.solve.epochs = epochs }
        c.warmUp = warmUp; c.repetitions = repetitions
        c.cacheDirectory = out.map { URL(fileURLWithPath: $0, isDirectory: true) }
        c.exportFile = export.map { URL(fileURLWithPath: $0) }
        return c
    }

    func run() throws {
        try Parallelism.configure(option: threads)
        var c = try configurationValue()
        c.threads = try threads ?? BatchedRolloutRunner.defaultThreads()
        let r: RolloutBenchmarkResult
        do {
            r = try RolloutBenchmark.run(c, log: { Console.reportOrRemember($0) })
        } catch let error as SolveConfigurationError {
            throw ValidationError(error.message)
        }
        func rate(_ v: Double) -> String { String(format: "%.4g", v) }
        try Console.print("rnnode bench rollout: \(model) on \(r.problem) (d = \(r.dimension), \(r.parameters) parameters), "
            + "batch \(r.trajectories) trajectories × \(r.stepsPerTrajectory) steps, warm-up \(warmUp), threads \(r.threads), Double")
        try Console.print("  model:         " + (r.modelFromCache ? "loaded from \(r.modelFile?.path ?? "the cache")" : "trained now")
            + " (training took \(rate(r.trainSeconds)) s; not timed below)")
        try Console.print("  one at a time: \(rate(r.sequentialStepsPerSecond)) steps/s  (\(rate(r.sequentialSeconds)) s for all)")
        try Console.print("  batched:       \(rate(r.batchedStepsPerSecondPerTrajectory)) steps/s per trajectory, "
            + "\(rate(r.batchedStepsPerSecond)) steps/s for the batch  (\(rate(r.batchedSeconds)) s, "
            + String(format: "%.2f", r.sequentialSeconds / r.batchedSeconds) + "× one at a time)")
        try Console.print("  GSL:           \(rate(r.referenceStepsPerSecond)) output steps/s  (\(rate(r.referenceSeconds)) s, "
            + "\(r.referenceInternalSteps) adaptive steps); batched model ÷ GSL = " + String(format: "%.2f", r.batchedStepsPerSecond / r.referenceStepsPerSecond))
        try Console.print("  batched − one at a time: largest |difference| \(rate(r.largestDifference)); peak RSS "
            + String(format: "%.1f MiB", Double(r.maxResidentBytes) / 1_048_576))
        if let export { try Console.print("  wrote \(export)") }
    }
}
