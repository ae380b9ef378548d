// Rebuilds the comparison report of one output folder from its cells: errors.csv (all cells), summary.csv,
// summary.md, gnuplot charts and index.html. `rnnode merge` runs the same after gathering shard folders.
import Foundation

public enum ComparisonReport {
    /// Copies the cells and runs of `sources` into `destination` (skipping any that is `destination` itself),
    /// keeping an `ok` outcome over a failed one, then rebuilds the report there.
    public static func merge(_ sources: [URL], into destination: URL) throws -> [CellOutcome] {
        try FileSystem.createDirectories(destination.appendingPathComponent("cells"))
        try FileSystem.createDirectories(destination.appendingPathComponent("runs"))
        for source in sources where source.standardizedFileURL != destination.standardizedFileURL {
            guard FileManager.default.fileExists(atPath: source.appendingPathComponent("cells").path) else {
                // A folder with only errors.csv holds rows made elsewhere (the peers under bench/): keep them whole.
                let rows = source.appendingPathComponent(ErrorLog.fileName)
                guard FileManager.default.fileExists(atPath: rows.path) else {
                    throw GridError("\(source.path) is neither a comparison folder (cells/) nor a folder with errors.csv")
                }
                _ = try ErrorLog(url: rows).read()  // reject a malformed file before copying it
                let name = "external" + source.standardizedFileURL.path.split(separator: "/").map { "_" + $0 }.joined() + ".csv"
                try AtomicFile.write(try FileSystem.read(rows),
                                     to: OutputName.file(name, in: destination.appendingPathComponent("external"), what: "merged folder"))
                continue
            }
            // Only outcomes whose cell key is a file name (`outcomes(in:)` skips any other) are copied.
            for outcome in Comparison.outcomes(in: source) {
                let key = outcome.cell.key
                let existing = Comparison.outcomes(in: destination).first { $0.cell.key == key }
                if let existing, existing.status == .ok, outcome.status != .ok { continue }
                let runSource = source.appendingPathComponent("runs/\(key)")
                let runTarget = destination.appendingPathComponent("runs/\(key)")
                if FileManager.default.fileExists(atPath: runSource.path) {
                    try FileSystem.remove(runTarget)
                    try FileSystem.copyTree(from: runSource, to: runTarget)
                }
                let data = try FileSystem.read(source.appendingPathComponent("cells/\(key).json"))
                try AtomicFile.write(data, to: destination.appendingPathComponent("cells/\(key).json"))
            }
        }
        return try rebuild(destination)
    }

    /// Writes errors.csv, summary.csv, summary.md, plots and index.html of `directory` from its recorded cells.
    @discardableResult
    public static func rebuild(_ directory: URL) throws -> [CellOutcome] {
        let outcomes = Comparison.outcomes(in: directory)
        var rows: [ErrorRow] = []
        for outcome in outcomes where outcome.status == .ok {
            let file = directory.appendingPathComponent("runs/\(outcome.cell.key)/errors.csv")
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            rows += latestRows(try ErrorLog(url: file).read())
        }
        rows += try externalRows(in: directory)
        try AtomicFile.write(CSV.line(ErrorLog.header) + rows.map { CSV.line($0.fields) }.joined(),
                             to: directory.appendingPathComponent(ErrorLog.fileName))
        let tables = summaryTables(from: rows)
        try AtomicFile.write(SummaryReport.csv(tables), to: directory.appendingPathComponent("summary.csv"))
        try AtomicFile.write(SummaryReport.markdown(tables, failures: outcomes), to: directory.appendingPathComponent("summary.md"))
        let plots = ComparisonPlots.render(directory: directory, outcomes: outcomes, tables: tables)
        try AtomicFile.write(SummaryReport.html(tables, plots: plots, failures: outcomes, directory: directory),
                             to: directory.appendingPathComponent("index.html"))
        return outcomes
    }

    /// One row per (experiment, problem, model, seed, metric): the last one. A cell's folder holds one run's rows
    /// (it is cleared before the cell runs again); a folder written before that rule may hold a run and its rerun,
    /// which must count once.
    static func latestRows(_ rows: [ErrorRow]) -> [ErrorRow] {
        struct Key: Hashable { var experiment, problem, model: String; var seed: UInt64; var metric: String }
        var last: [Key: Int] = [:]
        for (index, row) in rows.enumerated() {
            last[Key(experiment: row.experiment, problem: row.problem, model: row.model, seed: row.seed, metric: row.metric)] = index
        }
        let kept = Set(last.values)
        return rows.indices.filter(kept.contains).map { rows[$0] }
    }

    /// Rows merged in from folders that are not comparisons (DIR/external/*.csv), in file-name order.
    static func externalRows(in directory: URL) throws -> [ErrorRow] {
        let folder = directory.appendingPathComponent("external")
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileSystem.contents(of: folder).filter { $0.hasSuffix(".csv") }.sorted()
            .flatMap { try ErrorLog(url: folder.appendingPathComponent($0)).read() }
    }
}
