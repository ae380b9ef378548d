// `rnnode solve` as a function: configuration in, error rows out. Data (GSL, cached) → model (trained or loaded
// from the cache) → rollouts from held-out states → metrics against GSL → errors.csv, trajectory CSV, plots,
// manifest. The comparison harness calls `SolvePipeline.run` once per grid cell.
import Foundation
import Problems
import Recurrent
import Reference
import Support

/// The outcome of one solve cell.
public struct SolveResult: Sendable {
    public var configuration: SolveConfiguration
    /// The rows appended to errors.csv (medians, `_q25`, `_q75`, and single-valued rows).
    public var rows: [ErrorRow]
    /// Metrics of every test trajectory, in test-set order.
    public var trajectories: [TrajectoryMetrics]
    /// Metric | median | q25 | q75 | unit.
    public var summary: SummaryTable
    /// Files written (trajectory CSV, plots and scripts, manifest, errors.csv).
    public var files: [URL]
    /// Solver redraws, skipped plots, a model loaded from the cache, …
    public var notes: [String]
    /// True when the trained model came from `DIR/models/` rather than being trained now.
    public var modelFromCache: Bool
    /// The cache key of the trained model (changes with anything that changes training).
    public var modelKey: String
}

public enum SolveError: Error, CustomStringConvertible {
    /// Ctrl-C during training: the checkpoint is saved; rerunning the same command resumes.
    case interrupted(checkpoint: URL)
    case corruptModel(URL, String)
    /// `--retrain` with a cached model (or training checkpoint) that cannot be removed.
    case cannotRetrain(URL, String)

    public var description: String {
        switch self {
        case .interrupted(let url):
            return "training interrupted; checkpoint saved at \(url.path); rerun the same command to resume"
        case .corruptModel(let url, let message):
            return "\(url.path): \(message); delete it or pass --retrain"
        case .cannotRetrain(let url, let reason):
            return "--retrain: cannot remove the cached model \(url.path): \(reason); remove it yourself or choose another --out"
        }
    }
}

public enum SolvePipeline {
    /// The experiment name in errors.csv.
    public static let experiment = "solve"

    /// Loads the problem (catalog name or file) and applies the `--set` overrides.
    public static func problem(for configuration: SolveConfiguration) throws -> Problem {
        try Catalog.load(configuration.problem).applying(configuration.overrides)
    }

    /// The index of the last evaluated output: ⌊horizon / step⌋ (within the data).
    public static func lastIndex(horizon: Double, problem: Problem) -> Int {
        min(Int((horizon / problem.time.step * (1 + 1e-12)).rounded(.down)),
            TrajectoryGenerator.gridCount(span: problem.time.end - problem.time.start, step: problem.time.step) - 1)
    }

    /// Checks the configuration against the problem; every message names the option.
    public static func validate(_ c: SolveConfiguration, problem: Problem) throws {
        func fail(_ message: String) throws -> Never { throw SolveConfigurationError(message) }
        if c.window < 1 { try fail("--window must be at least 1 (got \(c.window))") }
        if c.hidden < 1 { try fail("--hidden must be at least 1 (got \(c.hidden))") }
        if c.layers < 1 { try fail("--layers must be at least 1 (got \(c.layers))") }
        if let epochs = c.epochs, epochs < 1 { try fail("--epochs must be at least 1 (got \(epochs))") }
        if c.trainTrajectories < 1 { try fail("--train-trajectories must be at least 1 (got \(c.trainTrajectories))") }
        if c.testTrajectories < 1 { try fail("--test-trajectories must be at least 1 (got \(c.testTrajectories))") }
        if c.validationTrajectories < 0 { try fail("validation trajectories must be ≥ 0") }
        if c.sequenceSteps < 1 || c.batchSize < 1 || !(c.learningRate > 0) { try fail("sequence steps, batch size and learning rate must be positive") }
        try c.model.registration.validate(c)
        if !(c.noise >= 0) || !c.noise.isFinite { try fail("--noise must be ≥ 0 and finite (got \(c.noise))") }
        if c.denoising && !(c.noise > 0) { try fail("--denoising needs input noise: add --noise σ (σ > 0)") }
        if c.rolloutSteps > 0, problem.forcingPeriod != nil {
            try fail("--rollout-steps feeds the predicted state back without the drive's phase, but \(problem.name) is driven ([forcing]); train without it")
        }
        if c.parallel != nil, problem.forcingPeriod != nil {
            try fail("--groups cuts the state into patches, but \(problem.name) is driven ([forcing]): the patches do not see the drive's phase yet")
        }
        if c.denoising && c.model.isRecurrentNetwork {
            try fail("--denoising applies to the ridge fits (esn, ngrc, linear), not to \(c.model.rawValue)")
        }
        if !(c.vptThreshold > 0) || !c.vptThreshold.isFinite {
            try fail("--vpt-threshold must be positive and finite (got \(c.vptThreshold))")
        }
        try Tuning.validate(c)
        if let parallel = c.parallel {
            try ParallelPartition.validate(parallel, layout: try SiteLayout(problem: problem))
        }
        let span = problem.time.end - problem.time.start
        let horizon = c.horizon ?? span
        if !(horizon > 0) || !horizon.isFinite { try fail("--horizon must be positive (got \(CSV.format(horizon)))") }
        if horizon > span * (1 + 1e-12) {
            try fail("--horizon \(CSV.format(horizon)) is beyond the available data: \(problem.name) trajectories span \(CSV.format(span)) time units ([time] start..end of the problem; raise it with --set if the file allows)")
        }
        let last = lastIndex(horizon: horizon, problem: problem)
        if c.evaluationStart < 1 { try fail("--eval-start must be at least 1 (got \(c.evaluationStart))") }
        if c.window > c.evaluationStart {
            try fail("--window \(c.window) of \(c.model.rawValue) exceeds the evaluation start --eval-start \(c.evaluationStart): every model of a problem is warmed up on the same first \(c.evaluationStart) states and scored from there; raise --eval-start to at least \(c.window) (for every model compared) or shorten --window")
        }
        if c.evaluationStart >= last {
            try fail("--eval-start \(c.evaluationStart) leaves nothing to predict: the horizon \(CSV.format(horizon)) holds \(last) steps of \(CSV.format(problem.time.step)); use a smaller --eval-start (and --window) or a longer --horizon")
        }
        let steps = TrajectoryGenerator.gridCount(span: span, step: problem.time.step) - 1
        if c.model.isRecurrentNetwork && c.window + c.trainingSequenceSteps > steps {
            try fail("--window \(c.window) plus \(c.trainingSequenceSteps) training steps (--sequence-steps, --rollout-steps) exceeds the \(steps) steps of a trajectory")
        }
    }

    /// Runs one cell. Appends its rows to `<outputDirectory>/errors.csv` and, with `writeFiles`, writes the
    /// trajectory CSV, plots and manifest. Throws for bad input, an unreadable cache, or an interruption.
    public static func run(_ configuration: SolveConfiguration,
                           log: (String) -> Void = FileSystem.warn) throws -> SolveResult {
        let problem = try Self.problem(for: configuration)
        // The command line's settings, with the problem file's `[learning]` filling what it leaves unset.
        let given = try configuration.resolved(for: problem)
        var c = given
        try validate(c, problem: problem)
        let fromFile = configuration.settingsFromFile(filled: given)
        if !fromFile.isEmpty {
            log("\(problem.file?.path ?? problem.name) [learning]: \(fromFile.joined(separator: ", ")) (give the option to override)")
        }
        // The name becomes part of every file name below: a single plain component, or nothing is written.
        try OutputName.component(problem.name, what: "problem name")
        let out = URL(fileURLWithPath: c.outputDirectory)
        var notes: [String] = []
        let d = problem.dimension

        // 1. Data.
        let counts: [DataSplit: Int] = [.training: c.trainTrajectories, .validation: c.validationTrajectories, .test: c.testTrajectories]
        let data = try TrajectoryGenerator.data(for: problem, counts: counts, seed: c.seed,
                                                cacheRoot: out.appendingPathComponent("data"), log: log)
        notes += data.notes
        var normalization = Normalization.fit(trajectories: data.training.map(\.states), dimension: d, periods: problem.periods,
                                              forcingPeriod: problem.forcingPeriod)
        // One model for every patch sees every site alike: pool the statistics over the sites.
        if let parallel = c.parallel, parallel.shared { normalization = normalization.pooled(over: try SiteLayout(problem: problem)) }
        // `--tune N`: the model's knobs chosen on the validation split (Tuning.swift), or reused from the cache.
        let tuning: TuningResult?
        (c, tuning) = try Tuning.tuned(c, problem: problem, data: data, normalization: normalization, log: log)

        // 2. Model (cached by the full training configuration).
        let trainingKey = modelKey(c, problem: problem)
        let modelBase = try OutputName.file("\(problem.name)-\(c.model.rawValue)-\(trainingKey)",
                                            in: out.appendingPathComponent("models"), what: "problem name")
        // The training request holds the log only while training.
        let (model, trainSeconds, fromCache) = try withoutActuallyEscaping(log) { log in
            try trainedModel(c, problem: problem, data: data, normalization: normalization, base: modelBase, log: log)
        }
        if fromCache { notes.append("model loaded from \(modelBase.path)\(c.parallel == nil ? "" : ".part*").model (pass --retrain to train again)") }
        let stepper = model.makeStepper()

        // 3. Evaluation on the held-out test trajectories.
        let horizon = c.horizon ?? (problem.time.end - problem.time.start)
        let last = lastIndex(horizon: horizon, problem: problem)
        let boxes = data.test.map { Metrics.allowedBox(normalization: normalization, reference: $0.states, dimension: d, last: last) }
        let (stepperKind, tolerances) = try problem.referenceStepper()
        let system = problem.odeSystem
        // Every model of the problem is warmed up on y_0 … y_{s−1} and scored over t_{s−1} … horizon.
        let s = c.evaluationStart
        let (firstTime, lastTime) = (data.times[s - 1], data.times[last])
        var metrics: [TrajectoryMetrics] = []
        var rolloutSeconds: [Double] = [], referenceSeconds: [Double] = []
        var matched: [ToleranceLadder.Match?] = []
        var firstComparison: RolloutComparison?
        // All test rollouts advance together (BatchedRollout.swift: same results as one by one; `seconds` is each
        // trajectory's share of the batch's time).
        let rollouts = BatchedRolloutRunner.run(stepper, references: data.test.map(\.states), dimension: d, warmUp: s, last: last,
                                                normalization: normalization, boxes: boxes, times: data.times,
                                                threads: try BatchedRolloutRunner.defaultThreads())
        for (index, trajectory) in data.test.enumerated() {
            let rollout = rollouts[index]
            // GSL over the same interval from the same state, timed side by side.
            let start = Array(trajectory.states[((s - 1) * d)..<(s * d)])
            let gsl = solve(system, initial: start, from: firstTime, to: lastTime, outputStep: problem.time.step,
                            stepper: stepperKind, tolerances: tolerances)
            if let failure = gsl.failure { notes.append("test trajectory \(index): timing solve failed: \(failure)") }
            let comparison = RolloutComparison(reference: trajectory.states, times: data.times, rollout: rollout, warmUp: s,
                                               last: last, normalization: normalization)
            let m = Metrics.evaluate(comparison, threshold: c.vptThreshold) { t, y in problem.invariantValues(t: t, state: y) }
            // GSL at the loosest tolerance that is as accurate at the horizon as the rollout (none for a diverged one).
            if m.divergedAt == nil, m.relativeL2Final.isFinite, gsl.failure == nil {
                matched.append(ToleranceLadder.match(
                    system: system, initial: start, from: firstTime, to: lastTime, step: problem.time.step,
                    stepper: stepperKind, reference: tolerances, referenceSeconds: gsl.statistics.seconds,
                    referenceFinal: trajectory.states[(last * d)..<((last + 1) * d)], modelError: m.relativeL2Final))
            } else {
                matched.append(nil)
            }
            if let at = m.divergedAt {
                let message = "test trajectory \(index): \(c.model.rawValue) rollout diverged at t = \(SummaryTable.format(firstTime + at)) (\(SummaryTable.format(at)) after its start): non-finite or beyond 10× the range of the training data and this reference; metrics use the steps before"
                notes.append(message)
                log(message)
            }
            metrics.append(m)
            rolloutSeconds.append(rollout.seconds)
            referenceSeconds.append(gsl.statistics.seconds)
            if index == 0 { firstComparison = comparison }
        }

        // 4. The largest Lyapunov exponent (the file's, or computed and cached beside the data).
        let exponent = ExponentCache.largestExponent(of: problem, cacheDirectory: out.appendingPathComponent("data")) { note in
            notes.append(note)
            log(note)
        }
        if let exponent, exponent.source != .declared {
            notes.append("largest Lyapunov exponent of \(problem.name): \(SummaryTable.format(exponent.value))"
                         + (exponent.standardError.map { " ± \(SummaryTable.format($0))" } ?? "")
                         + " (Benettin's method, \(exponent.source == .cached ? "cached" : "computed now") in \(out.appendingPathComponent("data").path))")
        }
        if let exponent, !exponent.isPositive {
            notes.append("largest Lyapunov exponent \(SummaryTable.format(exponent.value))"
                         + (exponent.standardError.map { " ± \(SummaryTable.format($0))" } ?? "")
                         + " is not positive beyond its error: no vpt_lyapunov")
        }

        // 5. Rows.
        let invariantNames = problem.invariants.map(\.name)
        let rows = makeRows(c, problem: problem, metrics: metrics, invariantNames: invariantNames,
                            rolloutSeconds: rolloutSeconds, referenceSeconds: referenceSeconds, matched: matched,
                            lyapunov: exponent?.isPositive == true ? exponent?.value : nil,
                            trainSeconds: trainSeconds, parameters: stepper.parameterCount)
        let summary = summaryTable(rows)
        var files: [URL] = []

        // 6. Files.
        if c.writeFiles, let first = firstComparison {
            let stem = fileStem(c, problem: problem)
            files += try writeTrajectory(first, problem: problem, model: c.model, stem: stem, directory: out,
                                         vptThreshold: c.vptThreshold, notes: &notes)
            let manifestURL = out.appendingPathComponent("\(stem)-manifest.json")
            var settings = c.settings
            settings["data_key"] = data.key
            settings["model_key"] = trainingKey
            settings["reference_method"] = problem.reference.method
            settings["reference_tolerances"] = "rel \(CSV.format(problem.reference.relativeTolerance)) abs \(CSV.format(problem.reference.absoluteTolerance))"
            settings["step"] = CSV.format(problem.time.step)
            settings.merge(tuning?.manifestSettings ?? [:]) { _, tuned in tuned }
            if let exponent {
                settings["lyapunov"] = CSV.format(exponent.value)
                settings["lyapunov_standard_error"] = exponent.standardError.map(CSV.format) ?? "none (declared in the problem file)"
                settings["lyapunov_source"] = exponent.source == .declared ? "problem file"
                    : "Benettin's method, rnnode lyapunov defaults" + (exponent.source == .cached ? " (cached in data/)" : "")
            }
            let manifest = Manifest.collect(command: commandLine(given), configuration: settings, seed: c.seed,
                                            outputs: (files + [manifestURL, ErrorLog(directory: out).url]).map(\.lastPathComponent))
            try manifest.write(to: manifestURL)
            files.append(manifestURL)
        }
        let errorLog = ErrorLog(directory: out)
        try errorLog.append(rows)
        files.append(errorLog.url)
        return SolveResult(configuration: c, rows: rows, trajectories: metrics, summary: summary, files: files,
                           notes: notes, modelFromCache: fromCache, modelKey: trainingKey)
    }

    /// `<problem>-<model>` (plus `-seed<S>` for a non-zero seed, `-vpt<E>` for a VPT threshold other than the
    /// default): the stem of a cell's output files, so a run at another threshold does not overwrite the manifest
    /// of one at the default.
    public static func fileStem(_ c: SolveConfiguration, problem: Problem) -> String {
        "\(problem.name)-\(c.model.rawValue)" + (c.seed == 0 ? "" : "-seed\(c.seed)")
            + (c.vptThreshold == validPredictionThreshold ? "" : "-vpt\(CSV.format(c.vptThreshold))")
    }

    /// The command line that reproduces the cell.
    public static func commandLine(_ c: SolveConfiguration) -> String {
        var parts = ["rnnode", "solve", c.problem, "--model", c.model.rawValue, "--window", "\(c.window)", "--seed", "\(c.seed)",
                     "--train-trajectories", "\(c.trainTrajectories)", "--test-trajectories", "\(c.testTrajectories)"]
        if c.model.isRecurrentNetwork {
            parts += ["--hidden", "\(c.hidden)", "--layers", "\(c.layers)"]
                + (c.effectiveBudget.map { ["--budget", CSV.format($0)] } ?? ["--epochs", "\(c.effectiveEpochs)"])
        }
        if c.precision == .single { parts += ["--precision", c.precision.rawValue] }
        if c.model == .ngrc {
            parts += ["--delays", "\(c.ngrc.delays)", "--skip", "\(c.ngrc.skip)", "--degree", "\(c.ngrc.degree)", "--ridge", CSV.format(c.ngrc.ridge)]
        }
        if c.model.isRecurrentNetwork, let r = c.rolloutStepsOverride { parts += ["--rollout-steps", "\(r)"] }
        if c.model.isRecurrentNetwork && c.selection != SolveConfiguration(problem: "").selection {
            parts += ["--select-by", c.selection.rawValue]
        }
        // Explicit whenever set (here or by the problem file), so that the line means the same if the file changes.
        if let validation = c.validationTrajectoriesOverride { parts += ["--validation-trajectories", "\(validation)"] }
        if c.model != .ngrc, c.model.registration.knob("ridge") != nil, let ridge = c.ridgeOverride { parts += ["--ridge", CSV.format(ridge)] }
        if let noise = c.noiseOverride { parts += ["--noise", CSV.format(noise)] }
        if let denoising = c.denoisingOverride, denoising || c.noiseOverride != nil { parts += [denoising ? "--denoising" : "--no-denoising"] }
        if let tune = c.tune { parts += ["--tune", "\(tune)"] }
        if let parallel = c.parallel {
            parts += ["--groups", "\(parallel.groups)", "--halo", "\(parallel.halo)"] + (parallel.shared ? ["--shared"] : [])
        }
        if let horizon = c.horizon { parts += ["--horizon", CSV.format(horizon)] }
        if c.evaluationStart != SolveDefaults.evaluationStart { parts += ["--eval-start", "\(c.evaluationStart)"] }
        if c.vptThreshold != validPredictionThreshold { parts += ["--vpt-threshold", CSV.format(c.vptThreshold)] }
        for o in c.overrides { parts += ["--set", o.description] }
        return parts.joined(separator: " ")
    }

    /// Hash of everything that determines the trained model: the training/validation data and the model settings.
    public static func modelKey(_ c: SolveConfiguration, problem: Problem) -> String {
        let text = problem.file.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        let dataSpec = DataSpecification(problem: problem, problemText: text,
                                         counts: [.training: c.trainTrajectories, .validation: c.validationTrajectories, .test: 0],
                                         seed: c.seed)
        var settings = c.settings
        settings["test_trajectories"] = nil
        settings["horizon"] = nil
        settings["evaluation_start"] = nil
        settings["vpt_threshold"] = nil  // a metric, not the model: another threshold reuses the cached model
        // The file's text covers its `[periodic]` table; a problem built in code states its periods here.
        let periods = problem.file == nil && problem.periods.contains(where: { $0 != nil })
            ? "\nperiods " + problem.periods.map { $0.map { CSV.format($0) } ?? "-" }.joined(separator: " ") : ""
        let description = "model format 2\n" + dataSpec.description + periods + "\n" + settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        return StableHash.hex(description)
    }

    // MARK: Training or loading

    /// The trained model: loaded from `<base>.model` (parallel: `<base>.part<j>.model`, one per model) when cached,
    /// else trained on the teacher-forcing data (with `--noise` on its inputs) and saved there. Returns the model,
    /// its training seconds and whether it came from the cache.
    static func trainedModel(_ c: SolveConfiguration, problem: Problem, data: TrajectoryData, normalization: Normalization,
                             base: URL, log: @escaping (String) -> Void) throws -> (TrainedModel, Double, Bool) {
        let registration = c.model.registration
        let d = data.dimension
        let patches = try c.parallel.map { ParallelPartition.patches($0, layout: try SiteLayout(problem: problem), normalization: normalization) }
        let modelCount = c.parallel.map { $0.shared ? 1 : $0.groups } ?? 1
        func url(_ j: Int?, _ suffix: String) -> URL {
            j == nil ? base.appendingPathExtension(suffix)
                : base.deletingLastPathComponent().appendingPathComponent("\(base.lastPathComponent).part\(j!).\(suffix)")
        }
        let parts: [Int?] = c.parallel == nil ? [nil] : (0..<modelCount).map { $0 }
        let modelURLs = parts.map { url($0, "model") }, resumeURLs = parts.map { url($0, "training") }
        if c.retrain {
            // Training again over a model that stays would be silently undone by the next run that loads it.
            for url in modelURLs + resumeURLs where unlink(url.path) != 0 && errno != ENOENT {
                throw SolveError.cannotRetrain(url, FileSystem.reason(errno))
            }
        }
        if modelURLs.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) {
            var models: [TrainedModel] = [], seconds = Double.nan
            for (j, modelURL) in modelURLs.enumerated() {
                let checkpoint: Checkpoint
                do { checkpoint = try Checkpoint.read(from: modelURL) } catch { throw SolveError.corruptModel(modelURL, "\(error)") }
                if j == 0 { seconds = checkpoint.arrays["train_seconds"]?.first ?? .nan }
                let (inputs, outputs) = patches.map { ($0[j].inputColumns.count, $0[j].outputColumns.count) } ?? (normalization.inputSize, d)
                do { models.append(try registration.load(checkpoint, c, inputs, outputs)) } catch {
                    throw SolveError.corruptModel(modelURL, "\(error)")
                }
            }
            if let patches { return (ParallelTrainedModel(models: models, patches: patches, dimension: d), seconds, true) }
            return (models[0], seconds, true)
        }
        try FileSystem.createDirectories(base.deletingLastPathComponent())
        let clock = ContinuousClock()
        let started = clock.now
        let training = TeacherForcing.full(trajectories: data.training.map(\.states), dimension: d, normalization: normalization, times: data.times)
            .addingNoise(c.model.isRecurrentNetwork ? 0 : c.noise, seed: c.seed,  // the trainer draws its own each epoch
                         correctingTargets: c.denoising ? normalization.denoisingRatio : nil, noisyColumns: d)
        let validation = data.validation.isEmpty ? nil
            : TeacherForcing.full(trajectories: data.validation.map(\.states), dimension: d, normalization: normalization, times: data.times)
        let request = TrainingRequest(configuration: c, training: training, validation: validation,
                                      metadata: normalization.metadata, resumeURL: resumeURLs[0], log: log,
                                      rolloutSelection: RolloutSelection.of(c, problem: problem, data: data, normalization: normalization))
        let model: TrainedModel
        let checkpoints: (_ metadata: [String: [Double]]) -> [Checkpoint]
        if let patches, let parallel = c.parallel {
            let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, modelCount))
            log("training \(modelCount) \(c.model.rawValue) model\(modelCount == 1 ? "" : "s") for \(parallel.groups) patches (halo \(parallel.halo)\(parallel.shared ? ", shared" : "")) on \(threads) thread\(threads == 1 ? "" : "s")")
            let parallelModel = try ParallelTrainedModel.train(registration, request: request, patches: patches, shared: parallel.shared,
                                                               resumeURL: { resumeURLs[$0] }, threads: threads)
            model = parallelModel
            checkpoints = { parallelModel.checkpoints(metadata: $0) }
        } else {
            model = try registration.train(request)
            checkpoints = { [model.checkpoint(metadata: $0)] }
        }
        let recorded = (model as? TrainedRecurrentNetwork)?.recordedSeconds
        let seconds = recorded ?? secondsElapsed(clock.now - started)
        for (checkpoint, modelURL) in zip(checkpoints(normalization.metadata.merging(["train_seconds": [seconds]]) { a, _ in a }), modelURLs) {
            try checkpoint.write(to: modelURL)
        }
        for resume in resumeURLs { unlink(resume.path) }  // the finished model supersedes it; a leftover is never read
        return (model, seconds, false)
    }

    // MARK: Rows and summary

    /// Median, q25 and q75 rows of every per-trajectory metric, then the single-valued rows.
    static func makeRows(_ c: SolveConfiguration, problem: Problem, metrics: [TrajectoryMetrics], invariantNames: [String],
                         rolloutSeconds: [Double], referenceSeconds: [Double], matched: [ToleranceLadder.Match?],
                         lyapunov: Double?, trainSeconds: Double, parameters: Int) -> [ErrorRow] {
        var rows: [ErrorRow] = []
        typealias M = SummaryMetric
        let vpt = M.atThreshold(M.vpt, c.vptThreshold), vptLyapunov = M.atThreshold(M.vptLyapunov, c.vptThreshold)
        let vptCensored = M.atThreshold(M.vptCensored, c.vptThreshold)
        func row(_ metric: SummaryMetric, _ value: Double) {
            rows.append(ErrorRow(experiment: experiment, problem: problem.name, model: c.model.rawValue, seed: c.seed,
                                 metric: metric.name, value: value, unit: metric.unit))
        }
        func quartiles(_ metric: SummaryMetric, _ values: [Double]) {
            row(metric, median(values))
            for (suffix, q) in [("_q25", 0.25), ("_q75", 0.75)] {
                rows.append(ErrorRow(experiment: experiment, problem: problem.name, model: c.model.rawValue, seed: c.seed,
                                     metric: metric.name + suffix, value: quantile(values, q), unit: metric.unit))
            }
        }
        quartiles(M.rmse, metrics.map(\.rmse))
        quartiles(M.relativeL2Final, metrics.map(\.relativeL2Final))
        quartiles(M.maxAbs, metrics.map(\.maxAbs))
        quartiles(vpt, metrics.map(\.validPredictionTime))
        if let lyapunov {
            quartiles(vptLyapunov, metrics.map { $0.validPredictionTime * lyapunov })
        }
        row(vptCensored, Double(metrics.filter(\.validPredictionCensored).count) / Double(max(metrics.count, 1)))
        for (k, name) in invariantNames.enumerated() {
            quartiles(M.invariantDrift(name), metrics.map { $0.invariantDrift[k] })
            quartiles(M.referenceInvariantDrift(name), metrics.map { $0.referenceInvariantDrift[k] })
        }
        let divergedTimes = metrics.compactMap(\.divergedAt)
        row(M.divergedFraction, Double(divergedTimes.count) / Double(max(metrics.count, 1)))
        if !divergedTimes.isEmpty {
            quartiles(M.divergedAt, divergedTimes)
            row(M.divergedAtFirst, divergedTimes.min()!)
        }
        quartiles(M.referenceSeconds, referenceSeconds)
        quartiles(M.rolloutSeconds, rolloutSeconds)
        // Accuracy-matched: only rollouts that reached the horizon (a diverged one has no speed-up).
        let pairs = zip(matched, rolloutSeconds).compactMap { match, seconds in match.map { ($0, seconds) } }
        if !pairs.isEmpty {
            quartiles(M.speedup, pairs.map { $0.0.seconds / max($0.1, 1e-12) })
            quartiles(M.speedupTolerance, pairs.map(\.0.tolerance))
        }
        quartiles(M.speedupTight, zip(referenceSeconds, rolloutSeconds).map { $0 / max($1, 1e-12) })
        row(M.trainSeconds, trainSeconds)
        row(M.parameters, Double(parameters))
        row(M.testTrajectories, Double(metrics.count))
        return rows
    }

    /// One line per metric: median, q25, q75, unit.
    public static func summaryTable(_ rows: [ErrorRow]) -> SummaryTable {
        var table = SummaryTable(header: ["metric", "median", "q25", "q75", "unit"],
                                 alignments: [.left, .right, .right, .right, .left])
        let byMetric = Dictionary(rows.map { ($0.metric, $0) }, uniquingKeysWith: { a, _ in a })
        for row in rows where !row.metric.hasSuffix("_q25") && !row.metric.hasSuffix("_q75") {
            let q25 = byMetric[row.metric + "_q25"].map { SummaryTable.format($0.value) } ?? ""
            let q75 = byMetric[row.metric + "_q75"].map { SummaryTable.format($0.value) } ?? ""
            table.append([row.metric, SummaryTable.format(row.value), q25, q75, row.unit])
        }
        return table
    }

    // MARK: Trajectory CSV and plots

    static func writeTrajectory(_ comparison: RolloutComparison, problem: Problem, model: ModelKind, stem: String,
                                directory: URL, vptThreshold: Double = validPredictionThreshold, notes: inout [String]) throws -> [URL] {
        let d = comparison.dimension
        let variables = problem.variables
        let errors = Metrics.normalizedError(comparison)
        var table = CSVTable(header: ["t"] + variables.map { "ref_\($0)" } + variables.map { "\(model.rawValue)_\($0)" } + ["error"])
        for n in comparison.times.indices {
            var row = [comparison.times[n]]
            row += comparison.reference[(n * d)..<((n + 1) * d)]
            row += comparison.predicted[(n * d)..<((n + 1) * d)]
            row.append(n < comparison.validCount ? errors[n] : .nan)
            table.append(row)
        }
        let csvName = "\(stem)-trajectory.csv"
        let csvURL = directory.appendingPathComponent(csvName)
        try table.write(to: csvURL)
        var files = [csvURL]

        // Reference vs model: a space–time picture per array variable, one line panel per scalar.
        let trajectorySVG = "\(stem)-trajectory.svg"
        if problem.arrayVariables.isEmpty {
            var script = Gnuplot.preamble(svgName: trajectorySVG, width: 900, height: 220 * d + 80,
                                          title: nil)
            script += "set multiplot layout \(d),1 title \(Gnuplot.quote("\(problem.name): GSL reference vs \(model.rawValue) (first test trajectory)")) noenhanced\n"
            for (i, variable) in variables.enumerated() {
                script += "set ylabel \(Gnuplot.quote(variable)) noenhanced\n"
                script += i == d - 1 ? "set xlabel 't'\n" : "unset xlabel\n"
                script += Gnuplot.linePanel(csvName: csvName, column: 2 + i, modelColumn: 2 + d + i, modelTitle: model.rawValue)
            }
            script += "unset multiplot\n"
            files += try render(script, name: trajectorySVG, stem: "\(stem)-trajectory", directory: directory, notes: &notes)
        } else {
            var panels: [String] = []
            for array in problem.arrayVariables {
                let name = "\(stem)-spacetime-\(array.name).csv"
                try writeSpaceTime(comparison, array: array, to: directory.appendingPathComponent(name))
                files.append(directory.appendingPathComponent(name))
                panels += Gnuplot.spaceTimePanels(csvName: name, variable: array.name, sites: array.count, modelTitle: model.rawValue)
            }
            let arraySites = Set(problem.arrayVariables.flatMap { $0.offset..<($0.offset + $0.count) })
            for (i, variable) in variables.enumerated() where !arraySites.contains(i) {
                panels.append("set ylabel \(Gnuplot.quote(variable)) noenhanced\nset xlabel 't'\nunset colorbox\n"
                              + Gnuplot.linePanel(csvName: csvName, column: 2 + i, modelColumn: 2 + d + i, modelTitle: model.rawValue))
            }
            var script = Gnuplot.preamble(svgName: trajectorySVG, width: 900, height: 240 * panels.count + 80, title: nil)
            script += "set multiplot layout \(panels.count),1 title \(Gnuplot.quote("\(problem.name): GSL reference vs \(model.rawValue) (first test trajectory)")) noenhanced\n"
            script += panels.joined()
            script += "unset multiplot\n"
            files += try render(script, name: trajectorySVG, stem: "\(stem)-trajectory", directory: directory, notes: &notes)
        }

        // E(t) on a log scale with the VPT threshold.
        let errorSVG = "\(stem)-error.svg"
        var errorScript = Gnuplot.preamble(svgName: errorSVG, title: "\(problem.name), \(model.rawValue): normalised error E(t) against GSL")
        errorScript += "set logscale y\nset format y '10^{%L}'\nset xlabel 't'\nset ylabel 'E(t)'\n"
        errorScript += "plot \(Gnuplot.quote(csvName)) using 1:($\(2 + 2 * d) > 0 ? $\(2 + 2 * d) : 1/0) skip 1 with lines lw 2 lc rgb '#d62728' title \(Gnuplot.quote(model.rawValue)), "
            + "\(vptThreshold) with lines dt 2 lc rgb 'black' title 'VPT threshold \(CSV.format(vptThreshold))'\n"
        files += try render(errorScript, name: errorSVG, stem: "\(stem)-error", directory: directory, notes: &notes)
        return files
    }

    /// One array variable's rollout in long form for gnuplot's `with image`: a row (t, site, GSL, model,
    /// model − GSL) per step and site, a blank line after each step (one scan line of the image).
    static func writeSpaceTime(_ comparison: RolloutComparison, array: ArrayVariable, to url: URL) throws {
        let d = comparison.dimension
        var text = "t,site,ref,model,error\n"
        text.reserveCapacity(comparison.validCount * array.count * 48)
        for n in 0..<comparison.validCount {
            let t = CSV.format(comparison.times[n])
            for site in 0..<array.count {
                let k = n * d + array.offset + site
                let reference = comparison.reference[k], predicted = comparison.predicted[k]
                text += "\(t),\(site),\(CSV.format(reference)),\(CSV.format(predicted)),\(CSV.format(predicted - reference))\n"
            }
            text += "\n"
        }
        try AtomicFile.write(text, to: url)
    }

    private static func render(_ script: String, name: String, stem: String, directory: URL, notes: inout [String]) throws -> [URL] {
        let scriptURL = directory.appendingPathComponent("\(stem).gp")
        let svgURL = directory.appendingPathComponent(name)
        switch try Gnuplot.render(script: script, scriptURL: scriptURL, svg: svgURL) {
        case .rendered(let url): return [scriptURL, url]
        case .skipped(let why): notes.append("plot \(name) not rendered: \(why)"); return [scriptURL]
        }
    }
}
