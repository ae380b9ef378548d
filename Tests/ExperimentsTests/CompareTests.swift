// The comparison harness: grid enumeration, sharding, resume, failures, merge and summary aggregation,
// with a stand-in cell runner that writes known rows (no training).
import Experiments
import Foundation
import Support
import Testing

private func temporaryFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-compare-\(name)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private let specification = GridSpecification(
    problems: ["harmonic-oscillator", "lorenz", "kepler"], models: ["lstm", "esn", "linear"],
    matrices: ["toeplitz", "pairing"], methods: ["yi", "power", "lstm"], seeds: 3, quick: true)

/// Writes rows whose values depend only on the cell, like a deterministic run would.
private final class FakeRunner: @unchecked Sendable {
    let lock = NSLock()
    var calls: [String] = []
    var failing: Set<String> = []

    func run(_ cell: GridCell, _ arguments: [String], _ directory: URL) -> CellResult {
        lock.lock(); calls.append(cell.key); lock.unlock()
        if failing.contains(cell.key) { return .failed("exit status 1: diverged at t = 3.2") }
        let experiment = cell.experiment.rawValue
        let base = Double(cell.subject.count * 10 + cell.model.count) + Double(cell.seed) / 10
        let metrics = cell.experiment == .solve ? [("vpt", base, "time"), ("rel_l2_final", 1 / base, "")]
                                                : [("rel_error", 1e-10 * base, ""), ("iterations", base, "")]
        var text = "experiment,problem,model,seed,metric,value,unit\n"
        for (metric, value, unit) in metrics {
            text += "\(experiment),\(cell.subject),\(cell.model),\(cell.seed),\(metric),\(value),\(unit)\n"
        }
        try! Data(text.utf8).write(to: directory.appendingPathComponent("errors.csv"))
        return .ok
    }
    var runner: CellRunner { { [self] cell, arguments, directory, _ in self.run(cell, arguments, directory) } }
}

@Test func gridEnumeratesEveryCellOnceInAFixedOrder() {
    let cells = specification.cells()
    // 3 problems × 3 models × 3 seeds, + 2 matrices × (2 deterministic methods × 1 seed + lstm × 3 seeds)
    #expect(cells.count == 27 + 2 * (2 + 3))
    #expect(Set(cells).count == cells.count)
    #expect(cells.first == GridCell(experiment: .solve, subject: "harmonic-oscillator", model: "lstm", seed: 1))
    #expect(cells == specification.cells())
}

@Test(arguments: [1, 2, 3, 4, 7, 50])
func shardsPartitionTheGrid(count: Int) {
    let cells = specification.cells()
    let shards = (1...count).map { Shard(index: $0, count: count).select(cells) }
    #expect(shards.reduce(0) { $0 + $1.count } == cells.count)
    #expect(Set(shards.flatMap { $0 }) == Set(cells))
    #expect(shards.map(\.count).max()! - shards.map(\.count).min()! <= 1)
}

@Test func shardParsing() {
    #expect(Shard(parsing: "2/8") == Shard(index: 2, count: 8))
    #expect(Shard(parsing: "0/8") == nil)
    #expect(Shard(parsing: "9/8") == nil)
    #expect(Shard(parsing: "2") == nil)
    #expect(Shard(parsing: "a/b") == nil)
}

@Test func unknownAxisNameListsTheKnownOnes() {
    #expect(throws: GridError.self) { try parseAxis("lstm,lsmt", known: ["lstm", "gru"], what: "model") }
    do {
        _ = try parseAxis("lsmt", known: ["lstm", "gru"], what: "model")
    } catch {
        #expect("\(error)".contains("unknown model 'lsmt'"))
        #expect("\(error)".contains("lstm, gru"))
    }
    #expect((try? parseAxis("all", known: ["a", "b"], what: "x")) == ["a", "b"])
    #expect((try? parseAxis("b,a,b", known: ["a", "b"], what: "x")) == ["b", "a"])
}

@Test func resumeSkipsFinishedCellsAndRetriesFailedOnes() throws {
    let folder = temporaryFolder("resume")
    let fake = FakeRunner()
    fake.failing = ["solve-lorenz-esn-s2"]
    let comparison = Comparison(specification: specification, jobs: 2, directory: folder, runner: fake.runner)
    let first = try comparison.run()
    #expect(first.count == specification.cells().count)
    #expect(first.filter { $0.status == .failed }.map(\.cell.key) == ["solve-lorenz-esn-s2"])
    #expect(first.first { $0.status == .failed }!.message.contains("diverged at t = 3.2"))

    fake.calls = []
    fake.failing = []
    let second = try comparison.run()
    #expect(fake.calls == ["solve-lorenz-esn-s2"])
    #expect(second.map(\.status) == [.ok])

    // Other arguments (not quick) make every cell a different configuration.
    fake.calls = []
    var full = specification
    full.quick = false
    try Comparison(specification: full, directory: folder, runner: fake.runner).run()
    #expect(fake.calls.count == specification.cells().count)
}

@Test func budgetGoesToTheTrainedSolveCellsAndIsPartOfTheirIdentity() throws {
    var budgeted = specification
    budgeted.budget = 7.5
    let comparison = Comparison(specification: budgeted, directory: temporaryFolder("budget"), runner: FakeRunner().runner)
    for cell in budgeted.cells() {
        let arguments = comparison.arguments(for: cell)
        let trained = cell.experiment == .solve && ModelKind(rawValue: cell.model)!.isRecurrentNetwork
        #expect(arguments.contains("--budget") == trained, "\(cell.key): \(arguments)")
        if trained { #expect(arguments.suffix(2) == ["--budget", "7.5"], "\(cell.key): \(arguments)") }
    }

    // A grid run without a budget, then at 7.5 s: only the trained cells run again (their results depend on it),
    // and a second run at 7.5 s finds them done.
    let folder = temporaryFolder("budget-rerun")
    let fake = FakeRunner()
    try Comparison(specification: specification, directory: folder, runner: fake.runner).run()
    fake.calls = []
    try Comparison(specification: budgeted, directory: folder, runner: fake.runner).run()
    let trainedKeys = budgeted.cells().filter { $0.experiment == .solve && $0.model == "lstm" }.map(\.key)
    #expect(fake.calls.sorted() == trainedKeys.sorted())
    let recorded = try #require(Comparison(specification: budgeted, directory: folder, runner: fake.runner).recordedOutcome(for: budgeted.cells()[0]))
    #expect(recorded.arguments.suffix(2) == ["--budget", "7.5"])
    fake.calls = []
    try Comparison(specification: budgeted, directory: folder, runner: fake.runner).run()
    #expect(fake.calls.isEmpty)
}

@Test func interruptedGridStopsLaunchingCells() throws {
    let folder = temporaryFolder("stop")
    let fake = FakeRunner()
    let comparison = Comparison(specification: specification, directory: folder, runner: fake.runner)
    let outcomes = try comparison.run(shouldStop: { fake.calls.count >= 5 })
    #expect(outcomes.count == 5)
    fake.calls = []
    try comparison.run()
    #expect(fake.calls.count == specification.cells().count - 5)
}

@Test func mergedShardsEqualASingleRun() throws {
    let single = temporaryFolder("single")
    try Comparison(specification: specification, directory: single, runner: FakeRunner().runner).run()
    try ComparisonReport.rebuild(single)

    let shardFolders = (1...3).map { temporaryFolder("shard\($0)") }
    for (i, folder) in shardFolders.enumerated() {
        try Comparison(specification: specification, shard: Shard(index: i + 1, count: 3), directory: folder,
                       runner: FakeRunner().runner).run()
        try ComparisonReport.rebuild(folder)
    }
    let merged = temporaryFolder("merged")
    try ComparisonReport.merge(shardFolders, into: merged)

    let read = { (folder: URL, file: String) in try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) }
    #expect(try read(merged, "errors.csv") == read(single, "errors.csv"))
    #expect(try read(merged, "summary.csv") == read(single, "summary.csv"))
    #expect(try read(merged, "errors.csv").split(separator: "\n").count == 1 + 2 * specification.cells().count)
    #expect(FileManager.default.fileExists(atPath: merged.appendingPathComponent("index.html").path))
}

@Test func mergeTakesPeerRowsFromAFolderWithOnlyErrorsCSV() throws {
    let grid = temporaryFolder("grid")
    try Comparison(specification: specification, directory: grid, runner: FakeRunner().runner).run()
    let peer = temporaryFolder("peer")
    try ErrorLog(directory: peer).append([
        ErrorRow(experiment: "solve", problem: "lorenz", model: "torch-lstm", seed: 1, metric: "vpt", value: 1e6, unit: "time"),
    ])
    let merged = temporaryFolder("merged-peer")
    try ComparisonReport.merge([grid, peer], into: merged)
    let summary = try String(contentsOf: merged.appendingPathComponent("summary.csv"), encoding: .utf8)
    #expect(summary.contains("solve,lorenz,vpt,time,torch-lstm,1000000.0,1000000.0,1000000.0,1,1"))
    let errors = try ErrorLog(directory: merged).read()
    #expect(errors.count == 1 + 2 * specification.cells().count)
}

@Test func mergeRejectsAFolderThatIsNotAComparison() {
    let folder = temporaryFolder("empty")
    #expect(throws: GridError.self) { try ComparisonReport.merge([folder], into: temporaryFolder("out")) }
}

@Test func summaryGivesMedianAndQuartilesOverSeedsAndMarksTheBest() {
    var rows: [ErrorRow] = []
    for (seed, value) in [4.0, 1.0, 3.0, 2.0].enumerated() {
        rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "lstm", seed: UInt64(seed + 1), metric: "vpt", value: value, unit: "time"))
        rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "esn", seed: UInt64(seed + 1), metric: "vpt", value: 10 * value, unit: "time"))
        rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "lstm", seed: UInt64(seed + 1), metric: "rel_l2_final", value: value, unit: ""))
        rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "esn", seed: UInt64(seed + 1), metric: "rel_l2_final", value: 10 * value, unit: ""))
        // spread rows of a cell are not aggregated again
        rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "esn", seed: UInt64(seed + 1), metric: "vpt_q25", value: 99, unit: "time"))
    }
    rows.append(ErrorRow(experiment: "solve", problem: "lorenz", model: "esn", seed: 5, metric: "rmse", value: .nan, unit: ""))
    let tables = summaryTables(from: rows)
    #expect(tables.count == 1)
    let table = tables[0]
    let vpt = table.values["vpt"]!["lstm"]!
    #expect(vpt.median == 2.5)
    #expect(vpt.q25 == 1.75)
    #expect(vpt.q75 == 3.25)
    #expect(vpt.count == 4)
    #expect(table.values["vpt"]!["esn"]!.median == 25)
    #expect(table.best(SummaryMetric("vpt", higherIsBetter: true)) == ["esn"])
    #expect(table.best(SummaryMetric("rel_l2_final")) == ["lstm"])
    #expect(table.values["rmse"] == nil)  // NaN only: no statistic
    #expect(!table.metrics.map(\.name).contains("vpt_q25"))
    let markdown = SummaryReport.markdown(tables)
    #expect(table.models == ["lstm", "esn"])
    #expect(markdown.contains("| vpt (time) | 2.5 [1.75, 3.25] | **25 [17.5, 32.5]** |"))
    let csv = SummaryReport.csv(tables)
    #expect(csv.contains("solve,lorenz,vpt,time,esn,25.0,17.5,32.5,4,1"))
}

@Test func quantilesInterpolateBetweenRanks() {
    #expect(quantile([1, 2, 3, 4, 5], 0.5) == 3)
    #expect(quantile([1, 2], 0.5) == 1.5)
    #expect(quantile([7], 0.25) == 7)
    #expect(summarize([.nan, .nan]) == nil)
    // Diverged rollouts report an infinite error: the median of three is infinite, not NaN.
    let diverged = summarize([.infinity, .infinity, .infinity])!
    #expect(diverged.median == .infinity && diverged.q25 == .infinity && diverged.q75 == .infinity)
    let mixed = summarize([0.5, .infinity, .infinity])!
    #expect(mixed.median == .infinity && mixed.q25 == .infinity)
    #expect(summarize([0.5, 1, .infinity])!.median == 1)
}

@Test func indexPageShowsTablesPlotsAndFailures() throws {
    let folder = temporaryFolder("html")
    let fake = FakeRunner()
    fake.failing = ["eigen-pairing-power-s1"]
    try Comparison(specification: specification, directory: folder, runner: fake.runner).run()
    try ComparisonReport.rebuild(folder)
    let html = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
    #expect(html.contains("<h3 id=\"solve-lorenz\">lorenz</h3>"))
    #expect(html.contains("<h3 id=\"eigen-pairing\">pairing</h3>"))
    #expect(html.contains("<a href=\"#solve-lorenz\">lorenz</a>"))  // the overview links to each table
    #expect(html.contains("eigen-pairing-power-s1"))
    #expect(html.contains("class=\"best\""))
}

private let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Renders index.html in headless Chromium and checks a non-empty screenshot appears; skipped without a browser.
@Test(.enabled(if: browser != nil, "no headless browser installed"))
func indexPageRendersInAHeadlessBrowser() throws {
    let browser = browser!
    let folder = temporaryFolder("browser")
    try Comparison(specification: specification, directory: folder, runner: FakeRunner().runner).run()
    try ComparisonReport.rebuild(folder)
    let shot = folder.appendingPathComponent("shot.png")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: browser)
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(shot.path)", "--window-size=1200,900",
                         folder.appendingPathComponent("index.html").absoluteString]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let size = (try FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int) ?? 0
    #expect(size > 10_000)
}
