// The summary's ranking rules on synthetic rows: diverged models are never best, descriptive metrics are not
// ranked, censored values are lower bounds that tie at the top, ties mark every winner.
import Experiments
import Testing

/// One solve row per (model, metric, value) for seed 1 of problem "p".
private func rows(_ entries: [(String, String, Double)]) -> [ErrorRow] {
    entries.map { ErrorRow(experiment: "solve", problem: "p", model: $0.0, seed: 1, metric: $0.1, value: $0.2, unit: "1") }
}

@Suite struct RankingTests {
    /// A rollout that blows up early has a small RMSE over its few valid steps; it must not be marked best.
    @Test func aModelThatDivergedOnHalfTheTrajectoriesIsNeverBest() throws {
        let table = try #require(summaryTables(from: rows([
            ("esn", "rmse", 0.1), ("esn", "diverged_fraction", 0.5), ("esn", "diverged_at", 3.0), ("esn", "speedup", 9),
            ("esn", "vpt", 2),
            ("lstm", "rmse", 0.5), ("lstm", "diverged_fraction", 0), ("lstm", "speedup", 2), ("lstm", "vpt", 1),
            ("gru", "rmse", 0.7), ("gru", "diverged_fraction", 0.25), ("gru", "diverged_at", 7.0), ("gru", "speedup", 1),
            ("gru", "vpt", 0.5),
        ])).first)
        #expect(table.failedMostly("esn") && !table.failedMostly("gru") && !table.failedMostly("lstm"))
        for name in ["rmse", "speedup", "vpt", "diverged_fraction"] {
            #expect(table.best(SummaryMetric.named(name)) == ["lstm"], "\(name)")
        }
        // diverged_at is shown, not ranked: a later divergence is not a better model.
        #expect(table.best(SummaryMetric.named("diverged_at")).isEmpty)
        #expect(table.metrics.map(\.name).contains("diverged_at"))
    }

    @Test func censoredValuesTieAtTheTopAndAreFlagged() throws {
        let table = try #require(summaryTables(from: rows([
            ("esn", "vpt", 9.25), ("esn", "vpt_censored", 1),
            ("lstm", "vpt", 5.05), ("lstm", "vpt_censored", 0.6),
            ("gru", "vpt", 3), ("gru", "vpt_censored", 0.2),
        ])).first)
        let vpt = SummaryMetric.named("vpt")
        #expect(table.isCensored(vpt, "esn") && table.isCensored(vpt, "lstm") && !table.isCensored(vpt, "gru"))
        // Both stayed valid to the end of their window: neither is known to be better than the other.
        #expect(table.best(vpt) == ["esn", "lstm"])
        #expect(table.best(SummaryMetric.named("vpt_censored")).isEmpty)
        #expect(table.metrics.map(\.name).contains("vpt_censored"))
    }

    @Test func tiesMarkEveryWinnerAndAllEqualMarksNone() throws {
        let tied = try #require(summaryTables(from: rows([("a", "rmse", 1), ("b", "rmse", 1), ("c", "rmse", 2)])).first)
        #expect(tied.best(SummaryMetric.named("rmse")) == ["a", "b"])
        let equal = try #require(summaryTables(from: rows([("a", "rmse", 1), ("b", "rmse", 1)])).first)
        #expect(equal.best(SummaryMetric.named("rmse")).isEmpty)
        let alone = try #require(summaryTables(from: rows([("a", "rmse", 1), ("b", "rmse", .infinity)])).first)
        #expect(alone.best(SummaryMetric.named("rmse")).isEmpty)  // one finite value competes with nothing
    }

    @Test func anEigenMethodThatMostlyFailedIsNeverBest() throws {
        let table = try #require(summaryTables(from: [
            ErrorRow(experiment: "eigen", problem: "m", model: "power", seed: 1, metric: "iterations", value: 2000, unit: "matvec"),
            ErrorRow(experiment: "eigen", problem: "m", model: "power", seed: 1, metric: "failure_rate", value: 1, unit: "1"),
            ErrorRow(experiment: "eigen", problem: "m", model: "yi", seed: 1, metric: "iterations", value: 5000, unit: "matvec"),
            ErrorRow(experiment: "eigen", problem: "m", model: "yi", seed: 1, metric: "failure_rate", value: 0, unit: "1"),
            ErrorRow(experiment: "eigen", problem: "m", model: "lstm", seed: 1, metric: "iterations", value: 7000, unit: "matvec"),
            ErrorRow(experiment: "eigen", problem: "m", model: "lstm", seed: 1, metric: "failure_rate", value: 0, unit: "1"),
        ]).first)
        #expect(table.best(SummaryMetric.named("iterations")) == ["yi"])
    }
}
