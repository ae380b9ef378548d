// `--tune N`: a seeded random search over a model's own knobs (its registration's `TuningKnob`s), scored by the
// median valid prediction time on the validation trajectories only (the test split is never read). Recurrent
// networks use successive halving: every trial trains for a few epochs, the best third goes on with three times
// as many, up to the configured epochs. Closed-form models (esn, ngrc, linear) fit every trial in full. The result
// is cached in DIR/models, keyed by the configuration, N and the seed, so the same command does not tune again.
import Foundation
import Problems
import Support

/// The settings `--tune` chose, as cached and reported.
public struct TuningResult: Codable, Equatable, Sendable {
    /// Trials run (N of `--tune N`).
    public var trials: Int
    /// The chosen knob values by knob name; empty when the configuration's own settings scored best.
    public var chosen: [String: Double]
    /// Median VPT (time units) of the chosen settings on the validation trajectories.
    public var validationVPT: Double
    /// One line per trial.
    public var log: [String]

    /// Manifest entries: `tune_trials`, `tune_validation_vpt` and `tuned_<knob>` for every chosen knob.
    public var manifestSettings: [String: String] {
        var s = ["tune_trials": "\(trials)", "tune_validation_vpt": CSV.format(validationVPT)]
        if chosen.isEmpty { s["tuned"] = "the configuration's own settings scored best" }
        for (name, value) in chosen { s["tuned_\(name)"] = CSV.format(value) }
        return s
    }
}

public enum Tuning {
    /// Recurrent networks' successive halving keeps the best 1/η of each rung and gives it η times the epochs.
    static let halvingFactor = 3

    /// A configuration with a knob set; `values` holds what was sampled (nil for the configuration's own settings).
    struct Trial {
        var index: Int
        var values: [String: Double]?
        var score = -Double.infinity
        var note = ""
    }

    /// The configuration with `--tune` applied: the cached result when there is one (reported through `log`), else
    /// a new search whose result is cached. Returns the configuration unchanged (and nil) without `--tune`.
    public static func tuned(_ c: SolveConfiguration, problem: Problem, data: TrajectoryData, normalization: Normalization,
                             log: (String) -> Void) throws -> (SolveConfiguration, TuningResult?) {
        guard let trials = c.tune else { return (c, nil) }
        try validate(c)
        let url = try cacheURL(c, problem: problem)
        if !c.retrain, let cached = try? JSONDecoder().decode(TuningResult.self, from: FileSystem.read(url)), cached.trials == trials {
            log("reused the tuned settings from \(url.path) (--tune \(trials), seed \(c.seed)): \(describe(cached.chosen)), validation VPT \(SummaryTable.format(cached.validationVPT))")
            return (applying(cached.chosen, to: c), cached)
        }
        let result = try search(c, trials: trials, problem: problem, data: data, normalization: normalization, log: log)
        try FileSystem.createDirectories(url.deletingLastPathComponent())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(result), to: url)
        log("tuned \(c.model.rawValue) in \(trials) trials: \(describe(result.chosen)), validation VPT \(SummaryTable.format(result.validationVPT)) (saved in \(url.path))")
        return (applying(result.chosen, to: c), result)
    }

    /// Checks `--tune` against the rest of the configuration; messages name the options.
    public static func validate(_ c: SolveConfiguration) throws {
        guard let trials = c.tune else { return }
        if trials < 1 { throw SolveConfigurationError("--tune must be at least 1 (got \(trials))") }
        if c.validationTrajectories < 1 {
            throw SolveConfigurationError("--tune scores its trials on the validation trajectories: --validation-trajectories must be at least 1 (got \(c.validationTrajectories))")
        }
        if c.parallel != nil { throw SolveConfigurationError("--tune does not tune parallel models (--groups) yet") }
    }

    /// `DIR/models/<problem>-<model>-tune-<hash>.json`: the hash covers the untuned configuration (data and model
    /// settings, as in the model key), N and the seed.
    public static func cacheURL(_ c: SolveConfiguration, problem: Problem) throws -> URL {
        var untuned = c
        untuned.tune = nil
        let key = StableHash.hex("tune format 1\ntrials \(c.tune ?? 0)\nseed \(c.seed)\n" + SolvePipeline.modelKey(untuned, problem: problem))
        return try OutputName.file("\(problem.name)-\(c.model.rawValue)-tune-\(key).json",
                                   in: URL(fileURLWithPath: c.outputDirectory).appendingPathComponent("models"), what: "problem name")
    }

    /// `c` with the knobs in `values` set (by their registration's `apply`).
    static func applying(_ values: [String: Double], to c: SolveConfiguration) -> SolveConfiguration {
        var tuned = c
        for knob in c.model.registration.knobs { if let value = values[knob.name] { knob.apply(&tuned, value) } }
        return tuned
    }

    static func describe(_ values: [String: Double]?) -> String {
        guard let values, !values.isEmpty else { return "the configuration's own settings" }
        return values.sorted { $0.key < $1.key }.map { "\($0.key)=\(SummaryTable.format($0.value))" }.joined(separator: " ")
    }

    /// A knob value drawn uniformly on its (log) scale, rounded for integer knobs.
    static func sample(_ knob: TuningKnob, _ generator: inout SplitMix64) -> Double {
        let u = generator.nextUniform()
        let value = knob.logarithmic && knob.lower > 0
            ? exp(log(knob.lower) + u * (log(knob.upper) - log(knob.lower)))
            : knob.lower + u * (knob.upper - knob.lower)
        return knob.integer ? min(knob.upper, max(knob.lower, value.rounded())) : value
    }

    /// A knob value near `value`: a Gaussian step of σ = 0.1 of the knob's range on its (log) scale, kept in range.
    static func perturb(_ knob: TuningKnob, _ value: Double, _ generator: inout SplitMix64) -> Double {
        let logarithmic = knob.logarithmic && knob.lower > 0
        let scale: (Double) -> Double = { logarithmic ? log($0) : $0 }
        let (lower, upper) = (scale(knob.lower), scale(knob.upper))
        let step = min(upper, max(lower, scale(value) + 0.1 * (upper - lower) * generator.nextNormal()))
        let moved = logarithmic ? exp(step) : step
        return knob.integer ? min(knob.upper, max(knob.lower, moved.rounded())) : min(knob.upper, max(knob.lower, moved))
    }

    /// Trial 1 is the configuration as given, trials 2…N draw every knob at random (seeded by `c.seed`). For the
    /// closed-form models the second half of the trials instead steps around the best drawn trial so far.
    static func search(_ c: SolveConfiguration, trials: Int, problem: Problem, data: TrajectoryData,
                       normalization: Normalization, log: (String) -> Void) throws -> TuningResult {
        // Closed-loop training is refused on problems with angles or a drive (SolvePipeline.validate): not searched there.
        let closedLoopAllowed = problem.forcingPeriod == nil && !problem.periods.contains { $0 != nil }
        let knobs = c.model.registration.knobs.filter { closedLoopAllowed || $0.name != "rollout_steps" }
        var generator = SplitMix64(seed: StableHash.fnv1a64("tune \(c.model.rawValue) \(c.seed)"))
        var pool = (0..<trials).map { i in
            Trial(index: i + 1, values: i == 0 ? nil : Dictionary(uniqueKeysWithValues: knobs.map { ($0.name, sample($0, &generator)) }))
        }
        var lines: [String] = []
        func record(_ line: String) { lines.append(line); log(line) }
        // Rungs of epochs for the recurrent networks (the last one the configured epochs); one full fit otherwise.
        var rungs: [Int?] = [nil]
        if c.model.isRecurrentNetwork {
            let full = c.effectiveEpochs
            var count = 1, n = trials
            while n > 1 { n = (n + halvingFactor - 1) / halvingFactor; count += 1 }
            rungs = (0..<count).map { r in
                var e = full
                for _ in 0..<(count - 1 - r) { e /= halvingFactor }
                return max(1, e)
            }
        }
        if !c.model.isRecurrentNetwork {
            let global = max(1, (trials + 1) / 2)
            var bestDrawn: Trial?
            for i in pool.indices {
                if i >= global, let best = bestDrawn?.values {
                    pool[i].values = Dictionary(uniqueKeysWithValues: knobs.map { ($0.name, perturb($0, best[$0.name]!, &generator)) })
                }
                var trial = pool[i].values.map { applying($0, to: c) } ?? c
                trial.showProgress = false
                (pool[i].score, pool[i].note) = score(trial, problem: problem, data: data, normalization: normalization)
                record("tune trial \(pool[i].index)/\(trials)\(i >= global && bestDrawn != nil ? " (near the best drawn)" : ""): \(describe(pool[i].values)) → validation VPT \(pool[i].note)")
                if pool[i].values != nil, pool[i].score > bestDrawn?.score ?? -.infinity { bestDrawn = pool[i] }
            }
            rungs = []
            pool.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        }
        for (r, epochs) in rungs.enumerated() {
            for i in pool.indices {
                var trial = c
                if let values = pool[i].values { trial = applying(values, to: trial) }
                if let epochs { trial.epochs = epochs }
                trial.showProgress = false
                (pool[i].score, pool[i].note) = score(trial, problem: problem, data: data, normalization: normalization)
                let rung = epochs.map { " [rung \(r + 1)/\(rungs.count), \($0) epochs]" } ?? ""
                record("tune trial \(pool[i].index)/\(trials)\(rung): \(describe(pool[i].values)) → validation VPT \(pool[i].note)")
            }
            // Best first; ties keep the earlier trial (so the configuration's own settings win a tie).
            pool.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
            if r < rungs.count - 1 { pool = Array(pool.prefix(max(1, (pool.count + halvingFactor - 1) / halvingFactor))) }
        }
        let best = pool[0]
        return TuningResult(trials: trials, chosen: best.values ?? [:], validationVPT: best.score, log: lines)
    }

    /// Trains `c` on the training split and returns the median VPT (time units) of its rollouts of the validation
    /// trajectories, with a note for the log; −∞ for settings the model refuses or a fit that fails.
    static func score(_ c: SolveConfiguration, problem: Problem, data: TrajectoryData,
                      normalization: Normalization) -> (Double, String) {
        do {
            try SolvePipeline.validate(c, problem: problem)
            let d = data.dimension
            let training = TeacherForcing.full(trajectories: data.training.map(\.states), dimension: d, normalization: normalization, times: data.times)
                .addingNoise(c.noise, seed: c.seed, correctingTargets: c.denoising ? normalization.denoisingRatio : nil, noisyColumns: d)
            let validation = TeacherForcing.full(trajectories: data.validation.map(\.states), dimension: d, normalization: normalization, times: data.times)
            let resume = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-tune-\(getpid()).training")
            unlink(resume.path)
            defer { unlink(resume.path) }
            let request = TrainingRequest(configuration: c, training: training, validation: validation,
                                          metadata: normalization.metadata, resumeURL: resume, log: { _ in },
                                          rolloutSelection: RolloutSelection.of(c, problem: problem, data: data, normalization: normalization))
            let model = try c.model.registration.train(request)
            let horizon = c.horizon ?? (problem.time.end - problem.time.start)
            let last = SolvePipeline.lastIndex(horizon: horizon, problem: problem)
            let boxes = data.validation.map { Metrics.allowedBox(normalization: normalization, reference: $0.states, dimension: d, last: last) }
            let s = c.evaluationStart
            let rollouts = BatchedRolloutRunner.run(model.makeStepper(), references: data.validation.map(\.states), dimension: d,
                                                    warmUp: s, last: last, normalization: normalization,
                                                    boxes: boxes, times: data.times, threads: try BatchedRolloutRunner.defaultThreads())
            // Always at the default threshold: `--vpt-threshold` changes what is reported, never the chosen model.
            let vpts = zip(data.validation, rollouts).map { trajectory, rollout in
                Metrics.evaluate(RolloutComparison(reference: trajectory.states, times: data.times, rollout: rollout, warmUp: s,
                                                   last: last, normalization: normalization),
                                 threshold: validPredictionThreshold).validPredictionTime
            }
            let value = median(vpts)
            guard value.isFinite else { return (-.infinity, "not finite") }
            return (value, SummaryTable.format(value))
        } catch {
            return (-.infinity, "none (\(error))")
        }
    }
}
