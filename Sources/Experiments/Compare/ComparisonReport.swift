// Rebuilds the comparison report of one output folder from its cells: errors.csv (all cells), summary.csv,
// summary.md, gnuplot charts and index.html. `rnnode merge` runs the same after gathering shard folders.
import Foundation

public enum ComparisonReport {
    /// Copies the cells and runs of `sources` into `destination` (skipping any that is `destination` itself),
    /// keeping an `ok` outcome over a failed one, then rebuilds the report there.
    public static func merge(_ sources: [URL], into destination: URL) throws -> [CellOutcome] {
        let fm = FileManager.default
        try fm.createDirectory(at: destination.appendingPathComponent("cells"), withIntermediateDirectories: true)
        try fm.createDirectory(at: destination.appendingPathComponent("runs"), withIntermediateDirectories: true)
        for source in sources where source.standardizedFileURL != destination.standardizedFileURL {
            guard fm.fileExists(atPath: source.appendingPathComponent("cells").path) else {
                // A folder with only errors.csv holds rows made elsewhere (the peers under bench/): keep them whole.
                let rows = source.appendingPathComponent(ErrorLog.fileName)
                guard fm.fileExists(atPath: rows.path) else {
                    throw GridError("\(source.path) is neither a comparison folder (cells/) nor a folder with errors.csv")
                }
                _ = try ErrorLog(url: rows).read()  // reject a malformed file before copying it
                let name = source.standardizedFileURL.path.split(separator: "/").joined(separator: "_")
                try AtomicFile.write(try Data(contentsOf: rows), to: destination.appendingPathComponent("external/\(name).csv"))
                continue
            }
            for outcome in Comparison.outcomes(in: source) {
                let key = outcome.cell.key
                let existing = Comparison.outcomes(in: destination).first { $0.cell.key == key }
                if let existing, existing.status == .ok, outcome.status != .ok { continue }
                let runSource = source.appendingPathComponent("runs/\(key)")
                let runTarget = destination.appendingPathComponent("runs/\(key)")
                if fm.fileExists(atPath: runSource.path) {
                    try? fm.removeItem(at: runTarget)
                    try fm.copyItem(at: runSource, to: runTarget)
                }
                let data = try Data(contentsOf: source.appendingPathComponent("cells/\(key).json"))
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
            rows += try ErrorLog(url: file).read()
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

    /// Rows merged in from folders that are not comparisons (DIR/external/*.csv), in file-name order.
    static func externalRows(in directory: URL) throws -> [ErrorRow] {
        let folder = directory.appendingPathComponent("external")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return try files.filter { $0.pathExtension == "csv" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            .flatMap { try ErrorLog(url: $0).read() }
    }
}
