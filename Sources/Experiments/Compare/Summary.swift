// Aggregation of errors.csv rows into the summary tables: per problem (or matrix), one row per key metric,
// one column per model (or method), median and interquartile range over seeds, the best value marked.
import Foundation
import Support

/// Which way a metric improves, for marking the best model in a row.
public enum MetricDirection: Sendable { case higherIsBetter, lowerIsBetter }

/// One metric of the catalog: its errors.csv name and unit, which way it improves, whether a best mark means
/// anything, what censors it and what divergence does to it. Solve's rows, the summary, the report and the plots
/// all read these entries (results/README.md defines each; a test keeps the two in step).
public struct SummaryMetric: Sendable, Equatable {
    public var name: String
    /// The errors.csv unit: `state`, `time`, `lyapunov_times`, `s`, `1`, `fraction`, `ratio`, `count`.
    public var unit: String
    public var higherIsBetter: Bool
    /// False for metrics that describe rather than rank (`diverged_at`: a later divergence is not a better model;
    /// `vpt_censored`: a share of trajectories, not a quality).
    public var rankable: Bool
    /// The metric whose median share (≥ 0.5) says this value is only a lower bound (`vpt` → `vpt_censored`).
    public var censoredBy: String?
    /// What a diverged rollout does to the value: `.truncated`, computed over the steps before divergence only
    /// (marked †); `.undefined`, meaningless once the rollout stopped early (shown as –); `.counted` otherwise.
    public var divergence: DivergenceEffect
    /// One line for the report's definitions (results/README.md has the full ones).
    public var definition: String

    public enum DivergenceEffect: Sendable, Equatable { case counted, truncated, undefined }

    public init(_ name: String, unit: String = "", higherIsBetter: Bool = false, rankable: Bool = true,
                censoredBy: String? = nil, divergence: DivergenceEffect = .counted, definition: String = "") {
        self.name = name; self.unit = unit; self.higherIsBetter = higherIsBetter; self.rankable = rankable
        self.censoredBy = censoredBy; self.divergence = divergence; self.definition = definition
    }

    // MARK: The solve catalog (every row `rnnode solve` writes)

    public static let rmse = SummaryMetric("rmse", unit: "state", divergence: .truncated,
                                           definition: "root-mean-square error against GSL over the rollout")
    public static let relativeL2Final = SummaryMetric("rel_l2_final", unit: "1",
                                                      definition: "‖ŷ(T) − y(T)‖ / ‖y(T)‖ at the horizon; inf when the rollout diverged before it")
    public static let maxAbs = SummaryMetric("max_abs", unit: "state", divergence: .truncated,
                                             definition: "largest |ŷ_i − y_i| over the rollout")
    public static let vpt = SummaryMetric("vpt", unit: "time", higherIsBetter: true, censoredBy: "vpt_censored",
                                          definition: "first time the normalised error E(t) exceeds 0.4; ≥ x: still valid at the end of the window")
    public static let vptLyapunov = SummaryMetric("vpt_lyapunov", unit: "lyapunov_times", higherIsBetter: true, censoredBy: "vpt_censored",
                                                  definition: "valid prediction time × the largest Lyapunov exponent (Lyapunov times), when it is positive")
    public static let vptCensored = SummaryMetric("vpt_censored", unit: "fraction", rankable: false,
                                                  definition: "share of test trajectories still valid at the end of the window (their VPT is a lower bound)")
    public static let divergedFraction = SummaryMetric("diverged_fraction", unit: "fraction",
                                                       definition: "share of rollouts that became non-finite or left 10× the range of the training data and its reference")
    public static let divergedAt = SummaryMetric("diverged_at", unit: "time", rankable: false,
                                                 definition: "time of divergence after the rollout start (diverged rollouts only)")
    public static let divergedAtFirst = SummaryMetric("diverged_at_first", unit: "time", rankable: false,
                                                      definition: "the earliest divergence")
    public static let referenceSeconds = SummaryMetric("reference_seconds", unit: "s",
                                                       definition: "GSL's wall time at the reference tolerance over the rollout's interval")
    public static let rolloutSeconds = SummaryMetric("rollout_seconds", unit: "s", divergence: .undefined,
                                                     definition: "wall time of the learned rollout (warm-up included)")
    public static let speedup = SummaryMetric("speedup", unit: "ratio", higherIsBetter: true, divergence: .undefined,
                                              definition: "GSL's wall time at the loosest tolerance as accurate at the horizon as the rollout, over the rollout's")
    public static let speedupTolerance = SummaryMetric("speedup_tolerance", unit: "1", rankable: false, divergence: .undefined,
                                                       definition: "the relative tolerance GSL was timed at for `speedup`")
    public static let speedupTight = SummaryMetric("speedup_tight", unit: "ratio", higherIsBetter: true, divergence: .undefined,
                                                   definition: "GSL's wall time at the reference tolerance over the learned rollout's for the same interval")
    public static let trainSeconds = SummaryMetric("train_seconds", unit: "s", definition: "training wall time")
    public static let parameters = SummaryMetric("parameters", unit: "count", rankable: false, definition: "trainable parameters")
    public static let testTrajectories = SummaryMetric("test_trajectories", unit: "count", rankable: false,
                                                       definition: "test trajectories the medians are over")

    /// `invariant_drift_NAME`: the rollout's drift of an invariant (truncated by divergence like the RMSE).
    public static func invariantDrift(_ invariant: String) -> SummaryMetric {
        SummaryMetric(invariantDriftPrefix + invariant, unit: "1", divergence: .truncated,
                      definition: "max relative drift of the invariant \(invariant) over the rollout")
    }
    /// `reference_invariant_drift_NAME`: the same for GSL's own trajectory, for context.
    public static func referenceInvariantDrift(_ invariant: String) -> SummaryMetric {
        SummaryMetric("reference_" + invariantDriftPrefix + invariant, unit: "1", rankable: false,
                      definition: "max relative drift of the invariant \(invariant) along GSL's trajectory")
    }
    public static let invariantDriftPrefix = "invariant_drift_"

    /// `vpt`, `vpt_lyapunov` and `vpt_censored` at a threshold on E(t) other than the default 0.4 are other metrics:
    /// `vpt@0.5`, `vpt_lyapunov@0.5`, `vpt_censored@0.5`, so rows at two thresholds never merge as if equal. At the
    /// default threshold the entry itself.
    public static func atThreshold(_ base: SummaryMetric, _ threshold: Double) -> SummaryMetric {
        precondition(thresholdedVPT.contains(base) && threshold > 0 && threshold.isFinite)
        guard threshold != validPredictionThreshold else { return base }
        let suffix = thresholdSeparator + CSV.format(threshold)
        var metric = base
        metric.name += suffix
        metric.censoredBy = base.censoredBy.map { $0 + suffix }
        metric.definition = base == vpt ? "first time the normalised error E(t) exceeds \(CSV.format(threshold)); ≥ x: still valid at the end of the window"
            : base.definition + " (E(t) threshold \(CSV.format(threshold)))"
        return metric
    }
    /// The metrics that depend on the VPT threshold.
    public static let thresholdedVPT: [SummaryMetric] = [vptLyapunov, vpt, vptCensored]
    public static let thresholdSeparator = "@"

    /// The base metric and threshold of a name `vpt…@E`; nil for any other name.
    public static func thresholdParts(_ name: String) -> (base: SummaryMetric, threshold: Double)? {
        let parts = name.split(separator: Character(thresholdSeparator), omittingEmptySubsequences: false)
        guard parts.count == 2, let base = thresholdedVPT.first(where: { $0.name == parts[0] }),
              let threshold = Double(parts[1]), threshold > 0, threshold.isFinite, threshold != validPredictionThreshold
        else { return nil }
        return (base, threshold)
    }

    /// Every fixed-name row of the solve experiment, in errors.csv order (invariant drifts come per problem).
    public static let solveCatalog: [SummaryMetric] = [
        rmse, relativeL2Final, maxAbs, vpt, vptLyapunov, vptCensored, divergedFraction, divergedAt, divergedAtFirst,
        referenceSeconds, rolloutSeconds, speedup, speedupTolerance, speedupTight, trainSeconds, parameters, testTrajectories,
    ]

    /// Key metrics of the solve experiment, in summary order. Invariant drifts (`invariant_drift_*`) are added per problem.
    public static let solve: [SummaryMetric] = [
        vptLyapunov, vpt, vptCensored, relativeL2Final, rmse, divergedFraction, divergedAt, trainSeconds, speedup, speedupTight,
    ]

    // MARK: The eigen catalog

    public static let eigenvalue = SummaryMetric("eigenvalue", unit: "1", rankable: false,
                                                 definition: "the Rayleigh quotient xᵀAx/xᵀx of the vector found")
    public static let absoluteError = SummaryMetric("abs_error", unit: "1", definition: "|λ − λ_GSL|, worst over the eigenpairs")
    public static let relativeError = SummaryMetric("rel_error", unit: "1", definition: "|λ − λ_GSL| / |λ_GSL|, worst over the eigenpairs")
    public static let vectorAngle = SummaryMetric("vector_angle", unit: "rad",
                                                  definition: "angle to GSL's eigenvector (eigenspace when degenerate), worst over the pairs")
    public static let iterations = SummaryMetric("iterations", unit: "matvec", definition: "products with A, all pairs")
    public static let eigenSeconds = SummaryMetric("seconds", unit: "s", definition: "wall time")
    public static let converged = SummaryMetric("converged", unit: "1", rankable: false, definition: "1 when the pair met the stopping test")
    public static let productsToAngle = SummaryMetric("products_to_angle", unit: "matvec",
                                                      definition: "products until the angle to GSL's eigenvector first fell below --angle")
    public static let flowTime = SummaryMetric("flow_time", unit: "scaled_time", rankable: false, definition: "Yi flow: integration time")
    public static let flowSteps = SummaryMetric("steps", unit: "steps", rankable: false, definition: "Yi flow: GSL's accepted steps")
    public static let finalNorm = SummaryMetric("final_norm", unit: "1", rankable: false, definition: "discrete Yi form: the iterate's final norm")
    public static let failureRate = SummaryMetric("failure_rate", unit: "1",
                                                  definition: "share of pairs not converged within the product budget")
    public static let trainingSeconds = SummaryMetric("training_seconds", unit: "s", definition: "training wall time of the learned model")
    public static let medianIterations = SummaryMetric("median_iterations", unit: "matvec",
                                                       definition: "held-out matrices: median products to the angle")
    public static let medianFinalRelativeError = SummaryMetric("median_final_rel_error", unit: "1",
                                                               definition: "held-out matrices: median final relative error")

    /// Every row name of the eigen experiment (per pair they carry `_k<index>`, held-out rows `_heldout_angle<A>`).
    public static let eigenCatalog: [SummaryMetric] = [
        eigenvalue, absoluteError, relativeError, vectorAngle, iterations, eigenSeconds, converged, productsToAngle,
        flowTime, flowSteps, finalNorm, failureRate, trainingSeconds, medianIterations, medianFinalRelativeError,
    ]

    /// Key metrics of the eigen experiment, in summary order.
    public static let eigen: [SummaryMetric] = [relativeError, absoluteError, vectorAngle, iterations, failureRate, eigenSeconds]

    /// The catalog's entry for a name (solve's, then eigen's); invariant drifts by their prefix; anything else a
    /// plain lower-is-better metric.
    public static func named(_ name: String) -> SummaryMetric {
        if let known = (solveCatalog + eigenCatalog).first(where: { $0.name == name }) { return known }
        if let (base, threshold) = thresholdParts(name) { return atThreshold(base, threshold) }
        if name.hasPrefix(invariantDriftPrefix) { return invariantDrift(String(name.dropFirst(invariantDriftPrefix.count))) }
        if name.hasPrefix("reference_" + invariantDriftPrefix) {
            return referenceInvariantDrift(String(name.dropFirst(("reference_" + invariantDriftPrefix).count)))
        }
        return SummaryMetric(name)
    }

    /// Column order: the grid's models (methods) first, anything else (peers) after, alphabetically.
    public static func columnOrder(_ experiment: String) -> [String] {
        experiment == "eigen" ? EigenMethod.allCases.map(\.rawValue) + ["gsl"] : ModelRegistry.names
    }
}

/// Median and interquartile range of one metric for one (subject, model) over seeds.
public struct SummaryStatistic: Sendable, Equatable {
    public var median: Double
    public var q25: Double
    public var q75: Double
    public var count: Int
}

/// One table: a problem or a matrix, metrics as rows, models as columns.
public struct ComparisonTable: Sendable, Equatable {
    public var experiment: String
    public var subject: String
    public var models: [String]
    public var metrics: [SummaryMetric]
    /// values[metric][model]
    public var values: [String: [String: SummaryStatistic]]
    public var units: [String: String]

    /// Whether a model failed on most of its runs: an eigen method that missed the angle in its product budget
    /// (`failure_rate` > 0.5), or a learned stepper whose rollouts diverged on at least half of the test
    /// trajectories (`diverged_fraction` ≥ 0.5). Its numbers (the budget, errors over the steps before divergence)
    /// are shown but never marked best.
    public func failedMostly(_ model: String) -> Bool {
        (values[SummaryMetric.failureRate.name]?[model]?.median ?? 0) > 0.5
            || (values[SummaryMetric.divergedFraction.name]?[model]?.median ?? 0) >= 0.5
    }

    /// Whether the median of `metric` for `model` is only a lower bound: at least half of the trajectories reached
    /// the end of the evaluation window still valid (shown as "≥ x").
    public func isCensored(_ metric: SummaryMetric, _ model: String) -> Bool {
        guard let flag = metric.censoredBy else { return false }
        return (values[flag]?[model]?.median ?? 0) >= 0.5
    }

    /// Whether some of `model`'s rollouts diverged, so a `.truncated` metric covers only their steps before it.
    public func divergedSometimes(_ model: String) -> Bool {
        (values[SummaryMetric.divergedFraction.name]?[model]?.median ?? 0) > 0
    }

    /// The text of one summary cell: `median [q25, q75]` (the range only over several seeds), `≥ median` when
    /// censored, a † when a truncated metric covers only the steps before divergence, – when undefined.
    public func cellText(_ metric: SummaryMetric, _ model: String) -> String {
        guard let s = values[metric.name]?[model] else { return "–" }
        if metric.divergence == .undefined && failedMostly(model) { return "–" }
        var text = s.count > 1 ? "\(formatValue(s.median)) [\(formatValue(s.q25)), \(formatValue(s.q75))]" : formatValue(s.median)
        if isCensored(metric, model) { text = "≥ " + text }
        if metric.divergence == .truncated && divergedSometimes(model) { text += " †" }
        return text
    }

    /// The models with the best median for `metric` (all of them on a tie), when at least two models compete and
    /// they are not all equal. Never a mostly failing model, never for a metric that is not rankable. A censored
    /// value (the model stayed valid to the end of the window) is unknown beyond the window: censored models tie
    /// with each other at the top.
    public func best(_ metric: SummaryMetric) -> Set<String> {
        guard metric.rankable else { return [] }
        let candidates = models.compactMap { model -> (String, Double)? in
            guard let s = values[metric.name]?[model], s.median.isFinite, !failedMostly(model) else { return nil }
            if isCensored(metric, model) { return (model, metric.higherIsBetter ? .infinity : -.infinity) }
            return (model, s.median)
        }
        guard candidates.count >= 2 else { return [] }
        let medians = candidates.map(\.1)
        let target = metric.higherIsBetter ? medians.max()! : medians.min()!
        let winners = Set(candidates.filter { $0.1 == target }.map(\.0))
        return winners.count == candidates.count ? [] : winners
    }
}

/// Median and IQR of `values` over seeds; NaN entries are dropped (a diverged seed reports NaN, not a number).
public func summarize(_ values: [Double]) -> SummaryStatistic? {
    let finite = values.filter { !$0.isNaN }.sorted()
    guard !finite.isEmpty else { return nil }
    return SummaryStatistic(median: quantile(finite, 0.5), q25: quantile(finite, 0.25), q75: quantile(finite, 0.75),
                            count: finite.count)
}

/// Groups rows by experiment and subject, and aggregates each (metric, model) over seeds.
/// Only the per-cell median rows are used (a metric named `*_q25`/`*_q75` is the cell's own spread over
/// test trajectories and is not aggregated again).
public func summaryTables(from rows: [ErrorRow]) -> [ComparisonTable] {
    var tables: [ComparisonTable] = []
    let bySubject = Dictionary(grouping: rows) { "\($0.experiment)\u{1}\($0.problem)" }
    for key in bySubject.keys.sorted() {
        let group = bySubject[key]!
        let experiment = group[0].experiment, subject = group[0].problem
        let models = Set(group.map(\.model)).sorted { a, b in
            let order = SummaryMetric.columnOrder(experiment)
            switch (order.firstIndex(of: a), order.firstIndex(of: b)) {
            case let (i?, j?): return i < j
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a < b
            }
        }
        var metrics = experiment == "eigen" ? SummaryMetric.eigen : SummaryMetric.solve
        let drifts = Set(group.map(\.metric).filter { $0.hasPrefix(SummaryMetric.invariantDriftPrefix) && !isSpreadMetric($0) })
        metrics.insert(contentsOf: drifts.sorted().map { SummaryMetric.named($0) }, at: min(3, metrics.count))
        // VPT at other thresholds (`vpt@0.5`, …): rows of their own, after the default ones.
        if experiment != "eigen" {
            metrics.insert(contentsOf: thresholdedVPTMetrics(in: group.map(\.metric)), at: min(3, metrics.count))
        }
        var values: [String: [String: SummaryStatistic]] = [:]
        var units: [String: String] = [:]
        for metric in metrics {
            for model in models {
                let samples = group.filter { $0.metric == metric.name && $0.model == model }
                if let unit = samples.first?.unit { units[metric.name] = unit }
                if let statistic = summarize(samples.map(\.value)) { values[metric.name, default: [:]][model] = statistic }
            }
        }
        metrics.removeAll { values[$0.name] == nil }
        let shown = models.filter { model in metrics.contains { values[$0.name]?[model] != nil } }
        tables.append(ComparisonTable(experiment: experiment, subject: subject, models: shown, metrics: metrics,
                                   values: values, units: units))
    }
    return tables
}

/// The VPT metrics at non-default thresholds among `names` (spreads left out), by threshold, then in the order
/// vpt_lyapunov, vpt, vpt_censored.
func thresholdedVPTMetrics(in names: [String]) -> [SummaryMetric] {
    let found = Set(names.filter { !isSpreadMetric($0) }).compactMap(SummaryMetric.thresholdParts)
    let thresholds = Set(found.map(\.threshold)).sorted()
    return thresholds.flatMap { threshold in
        SummaryMetric.thresholdedVPT.filter { base in found.contains { $0.base == base && $0.threshold == threshold } }
            .map { SummaryMetric.atThreshold($0, threshold) }
    }
}

/// The valid prediction times a report shows for a subject, best first: in Lyapunov times, then in time units, at
/// the default threshold, then at the others found in `tables` (a grid run with `--vpt-threshold`).
public func headlineVPTMetrics(_ tables: [ComparisonTable]) -> [SummaryMetric] {
    let others = thresholdedVPTMetrics(in: tables.flatMap { $0.values.keys }).filter { $0.unit != SummaryMetric.vptCensored.unit }
    return [SummaryMetric.vptLyapunov, .vpt] + others
}

/// The thresholds on E(t) of the VPT rows in `tables`, ascending: ", E(t) threshold 0.5" for a title ("" when only
/// the default is there).
public func vptThresholdNote(_ tables: [ComparisonTable]) -> String {
    let names = tables.flatMap { $0.values.keys }
    var thresholds = Set(thresholdedVPTMetrics(in: names).compactMap { SummaryMetric.thresholdParts($0.name)?.threshold })
    guard !thresholds.isEmpty else { return "" }
    if names.contains(SummaryMetric.vpt.name) { thresholds.insert(validPredictionThreshold) }
    return ", E(t) threshold " + thresholds.sorted().map(CSV.format).joined(separator: " or ")
}

func isSpreadMetric(_ name: String) -> Bool { name.hasSuffix("_q25") || name.hasSuffix("_q75") }

/// A number for a comparison cell: 3 significant digits.
public func formatValue(_ x: Double) -> String { SummaryTable.format(x, significantDigits: 3) }
