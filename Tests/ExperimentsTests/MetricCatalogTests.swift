// The typed metric catalog: every row a solve run writes is a catalog entry with its unit, and results/README.md
// defines every entry with the same unit.
import Foundation
import Problems
import Testing
@testable import Experiments

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct MetricCatalogTests {
    @Test func everySolveRowIsACatalogEntryWithItsUnit() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-catalog-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: out) }
        var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: .linear)
        c.trainTrajectories = 1; c.validationTrajectories = 0; c.testTrajectories = 2
        c.window = 4; c.evaluationStart = 8; c.horizon = 2
        c.outputDirectory = out.path; c.writeFiles = false; c.showProgress = false
        let result = try SolvePipeline.run(c) { _ in }
        let catalog = SummaryMetric.solveCatalog.map(\.name)
        for row in result.rows {
            let base = row.metric.hasSuffix("_q25") || row.metric.hasSuffix("_q75") ? String(row.metric.dropLast(4)) : row.metric
            let entry = SummaryMetric.named(base)
            #expect(catalog.contains(base) || base.hasPrefix("invariant_drift_") || base.hasPrefix("reference_invariant_drift_"),
                    "\(row.metric) is not in the catalog")
            #expect(row.unit == entry.unit, "\(row.metric): unit \(row.unit) vs the catalog's \(entry.unit)")
        }
        // The harmonic oscillator's energy drift comes through the catalog's factory.
        #expect(result.rows.contains { $0.metric.hasPrefix("invariant_drift_") && $0.unit == "1" })
    }

    @Test func resultsReadmeDefinesEveryEntryWithItsUnit() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("results/README.md"), encoding: .utf8)
        for metric in SummaryMetric.solveCatalog + [SummaryMetric.invariantDrift("NAME"), .referenceInvariantDrift("NAME")] {
            #expect(readme.contains("| `\(metric.name)` | \(metric.unit) |"), "results/README.md has no row for \(metric.name) (\(metric.unit))")
        }
        // Every summary metric is in the catalog (one place to define a metric).
        for metric in SummaryMetric.solve { #expect(SummaryMetric.solveCatalog.contains(metric), "\(metric.name)") }
    }

    /// Every row an eigen run writes is a catalog entry (after its `_k<index>` suffix) with the catalog's unit, and
    /// results/README.md names every entry.
    @Test func everyEigenRowIsACatalogEntryWithItsUnit() throws {
        let matrix = try MatrixCatalog.load(packageRoot.appendingPathComponent("problems/eigen/pairing.toml").path)
        var c = EigenConfiguration()
        c.methods = [.yi, .yiDiscrete, .power, .momentumOracle, .lanczos]; c.selection = .extremes
        let rows = EigenOutput.errorRows(try runEigenExperiment(matrix, configuration: c, modelDirectory: nil))
        #expect(!rows.isEmpty)
        let names = Set(SummaryMetric.eigenCatalog.map(\.name))
        for row in rows {
            let base = row.metric.replacingOccurrences(of: #"_k[0-9]+$"#, with: "", options: .regularExpression)
            #expect(names.contains(base), "\(row.metric) is not in the eigen catalog")
            #expect(row.unit == SummaryMetric.named(base).unit, "\(row.metric): unit \(row.unit) vs \(SummaryMetric.named(base).unit)")
        }
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("results/README.md"), encoding: .utf8)
        for metric in SummaryMetric.eigenCatalog {
            #expect(readme.contains("`\(metric.name)`"), "results/README.md does not name \(metric.name)")
        }
    }
}
