// Two questions a reader asks of a grid, read off its summary tables by valid prediction time: does the best
// learned model beat the linear autoregression clearly (at least twice its VPT), and does each of our models at
// least match its peer (the same model from another library, on the same data)? Censored VPTs (still valid at the
// end of the window) are lower bounds, so a verdict is given only when the bounds decide it.
import Foundation

/// A verdict on a comparison of two VPTs of which either may be a lower bound only.
public enum StandingVerdict: String, Sendable, Equatable {
    case yes, no
    /// A censored value keeps the comparison open (the evaluation window is too short to tell).
    case undecided
}

public enum Standings {
    /// The linear autoregression every learned model is measured against.
    public static let baselineModel = "linear"
    /// The factor the best learned model's VPT should reach over the linear baseline's.
    public static let requiredFactor = 2.0

    /// The registered model a peer column stands for: `<library>-<model>` (`torch-lstm` → lstm), with reservoirpy's
    /// name for next-generation reservoir computing (`reservoirpy-nvar` → ngrc). Nil for our own columns.
    public static func peerModel(of column: String) -> String? {
        guard !ModelRegistry.names.contains(column), let dash = column.lastIndex(of: "-") else { return nil }
        let suffix = String(column[column.index(after: dash)...])
        let model = suffix == "nvar" ? "ngrc" : suffix
        return ModelRegistry.names.contains(model) ? model : nil
    }

    /// The VPT metric of a table: Lyapunov times where the problem has an exponent, else time units.
    static func vptMetric(_ table: ComparisonTable) -> SummaryMetric? {
        [SummaryMetric.vptLyapunov, .vpt].first { table.values[$0.name] != nil }
    }

    /// x / y for VPTs, each possibly a lower bound: returns the ratio's text and whether x ≥ factor·y is decided.
    /// x exact, y exact: x/y. x censored (x ≥ x̂), y exact: the ratio is ≥ x̂/y. x exact, y censored: ≤ x/ŷ.
    /// Both censored: nothing is known.
    static func compare(_ x: Double, censored xCensored: Bool, _ y: Double, censored yCensored: Bool,
                        factor: Double) -> (ratio: String, verdict: StandingVerdict) {
        guard y > 0, x.isFinite, y.isFinite else { return ("–", .undecided) }
        let r = x / y, text = formatValue(r) + "×"
        switch (xCensored, yCensored) {
        case (false, false): return (text, r >= factor ? .yes : .no)
        case (true, false): return ("≥ " + text, r >= factor ? .yes : .undecided)
        case (false, true): return ("≤ " + text, r < factor ? .no : .undecided)
        case (true, true): return ("–", .undecided)
        }
    }

    /// A VPT cell: the median, `≥` when censored.
    static func vptText(_ table: ComparisonTable, _ metric: SummaryMetric, _ model: String) -> String {
        guard let s = table.values[metric.name]?[model] else { return "–" }
        return (table.isCensored(metric, model) ? "≥ " : "") + formatValue(s.median)
    }

    /// Per problem: the linear baseline's VPT, the best of our learned models that did not diverge on half of the
    /// test trajectories, their ratio, whether it reaches `requiredFactor`, and every model of ours whose rollouts
    /// diverged at all (median share over seeds, in percent).
    public static func againstLinear(_ tables: [ComparisonTable]) -> SummaryTable? {
        var out = SummaryTable(header: ["problem", baselineModel, "best learned", "ratio", "≥ \(formatValue(requiredFactor))×", "diverged (share of rollouts)"])
        for table in tables where table.experiment == "solve" {
            guard let metric = vptMetric(table), let linear = table.values[metric.name]?[baselineModel] else { continue }
            let ours = table.models.filter { ModelRegistry.names.contains($0) && $0 != baselineModel }
            let candidates = ours.compactMap { model -> (String, Double, Bool)? in
                guard let s = table.values[metric.name]?[model], !table.failedMostly(model) else { return nil }
                return (model, s.median, table.isCensored(metric, model))
            }
            // Censored values rank above every exact one (they are lower bounds that the window cut short).
            let best = candidates.max { a, b in (a.2 ? 1 : 0, a.1) < (b.2 ? 1 : 0, b.1) }
            let diverged = ours.compactMap { model -> String? in
                guard let share = table.values[SummaryMetric.divergedFraction.name]?[model]?.median, share > 0 else { return nil }
                return "\(model) \(Int((share * 100).rounded()))%"
            }
            let linearText = vptText(table, metric, baselineModel)
            guard let best else {
                out.append([table.subject, linearText, "none (all diverged)", "–", StandingVerdict.no.rawValue, diverged.joined(separator: ", ")])
                continue
            }
            let (ratio, verdict) = compare(best.1, censored: best.2, linear.median, censored: table.isCensored(metric, baselineModel),
                                           factor: requiredFactor)
            out.append([table.subject, linearText, "\(best.0) \(vptText(table, metric, best.0))", ratio, verdict.rawValue,
                        diverged.isEmpty ? "none" : diverged.joined(separator: ", ")])
        }
        return out.rows.isEmpty ? nil : out
    }

    /// Per problem and peer column: our model's VPT against its peer's, and whether ours is at least as long.
    public static func againstPeers(_ tables: [ComparisonTable]) -> SummaryTable? {
        var out = SummaryTable(header: ["problem", "model", "ours", "peer", "peer's", "ratio", "ours ≥ peer"])
        for table in tables where table.experiment == "solve" {
            guard let metric = vptMetric(table) else { continue }
            for peer in table.models {
                guard let model = peerModel(of: peer), let theirs = table.values[metric.name]?[peer],
                      let ours = table.values[metric.name]?[model] else { continue }
                var (ratio, verdict) = compare(ours.median, censored: table.isCensored(metric, model),
                                               theirs.median, censored: table.isCensored(metric, peer), factor: 1)
                // A model that diverged on half of its rollouts does not match a peer that did not.
                if table.failedMostly(model) && !table.failedMostly(peer) { verdict = .no }
                out.append([table.subject, model, SummaryReport.overviewText(table, metric, model), peer,
                            SummaryReport.overviewText(table, metric, peer), ratio, verdict.rawValue])
            }
        }
        return out.rows.isEmpty ? nil : out
    }

    /// Both tables as markdown sections (empty when the grid has neither a linear column nor peers).
    static func markdown(_ tables: [ComparisonTable]) -> String {
        var out = ""
        if let linear = againstLinear(tables) {
            out += "\n## The best learned model against the linear baseline (valid prediction time)\n\n"
            out += "Best of our models that did not diverge on half of the test trajectories; `≥`/`≤`: a bound, "
            out += "because a VPT reached the end of the window; `undecided`: the window is too short to tell.\n\n"
            out += linear.markdown
        }
        if let peers = againstPeers(tables) {
            out += "\n## Our models against their peers (valid prediction time, same data)\n\n" + peers.markdown
        }
        return out
    }
}
