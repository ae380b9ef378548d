// `rnnode compare`: the whole grid (problems × models × seeds, matrices × methods) through the solve and eigen
// pipelines, resumable and shardable, reported as errors.csv, summary tables, plots and index.html.
import ArgumentParser
import Experiments
import Foundation
import Synchronization
import Problems
import Recurrent

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the comparison grid and report every error side by side.",
        discussion: """
            Each cell runs as `rnnode solve` or `rnnode eigen` would, into DIR/runs/<cell>/. A cell that finished \
            with the same arguments is skipped, so an interrupted grid continues where it stopped; a failing cell \
            is recorded with its message and the grid goes on. `--shard I/N` runs a deterministic 1/N of the grid \
            (for a Slurm job array or GNU parallel); `rnnode merge` combines shard folders into one report.
            """
    )

    static var allModels: [String] { ModelRegistry.names }
    static let allMethods = EigenMethod.allCases.map(\.rawValue)

    @Option(help: "ODE problems: all, none, or a comma-separated list of catalog names.")
    var problems = "all"
    @Option(help: "Models: all or a comma-separated list of \(allModels.joined(separator: ", ")).")
    var models = "all"
    @Option(help: "Eigen matrices: all, none, or a comma-separated list of names under problems/eigen.")
    var matrices = "all"
    @Option(help: "Eigen methods: all or a comma-separated list of \(allMethods.joined(separator: ", ")).")
    var methods = "all"
    @Option(help: "Seeds per cell, 1…N (default 3; 1 with --quick).")
    var seeds: Int?
    @Flag(help: "Small data and few epochs: the whole catalog in a few minutes.")
    var quick = false
    @Option(help: "Cells run in parallel on this machine.")
    var jobs = 1
    @Option(help: "Run only shard I of N (1-based), e.g. 2/8.")
    var shard = "1/1"
    @Option(help: "Output folder.")
    var out = "results/compare"
    @Option(help: "Training threads of each cell (default \(Parallelism.environmentVariable), else the cores over --jobs).")
    var threads: Int?

    @Option(help: "Tune each solve cell's model first (rnnode solve --tune N).")
    var tune: Int?

    @Option(help: ArgumentHelp("Training seconds of each rnn, lstm and gru cell (rnnode solve --budget; esn, ngrc and linear are fitted in closed form and ignore it); wins over --quick's epochs.", valueName: "SECONDS"))
    var budget: Double?

    @Option(name: .customLong("vpt-threshold"), help: ArgumentHelp("Threshold on E(t) of every solve cell's valid prediction time (rnnode solve --vpt-threshold; default \(CSV.format(validPredictionThreshold))): the cells are evaluated again, their cached models reused.", valueName: "E"))
    var vptThreshold: Double?

    @Option(name: .customLong("select-by"), help: "The weights kept from training of every rnn, lstm and gru cell (rnnode solve --select-by): vpt (the default) or loss.")
    var selectBy: WeightSelection?

    func validate() throws {
        try OptionLimits.checkPath("--out", out)
        try OptionLimits.check("--seeds", seeds, OptionLimits.seeds)
        try OptionLimits.check("--jobs", jobs, OptionLimits.jobs)
        try OptionLimits.check("--threads", threads, OptionLimits.threads)
        try OptionLimits.check("--tune", tune, OptionLimits.tuneTrials)
        try OptionLimits.check("--budget", budget)
        try OptionLimits.check("--vpt-threshold", vptThreshold)
        do { _ = try Parallelism.environmentThreads() } catch { throw ValidationError("\(error)") }
        // `all`, `none` or names: an empty option or item (`--models lstm,`) would silently drop an axis.
        for (option, text) in [("--problems", problems), ("--models", models), ("--matrices", matrices), ("--methods", methods)] {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { throw ValidationError("\(option) is empty; give all, none or a comma-separated list of names") }
            if trimmed != "all" && trimmed != "none" { _ = try OptionLimits.listItems(option, text) }
        }
        guard Shard(parsing: shard) != nil else { throw ValidationError("--shard takes I/N with 1 ≤ I ≤ N (got '\(shard)')") }
        _ = try specification()
    }

    func specification() throws -> GridSpecification {
        do {
            return GridSpecification(
                problems: try parseAxis(problems, known: try Catalog.names(), what: "problem"),
                models: try parseAxis(models, known: Self.allModels, what: "model"),
                matrices: try parseAxis(matrices, known: try matrixNames(), what: "matrix"),
                methods: try parseAxis(methods, known: Self.allMethods, what: "method"),
                seeds: seeds ?? (quick ? 1 : 3), quick: quick, tune: tune, budget: budget, vptThreshold: vptThreshold,
                selection: selectBy)
        } catch let error as GridError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        // the cells' `rnnode solve` processes read their thread count from the environment
        let perCell = try threads ?? Parallelism.environmentThreads()
            ?? max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
        setenv(Parallelism.environmentVariable, String(perCell), 1)
        let specification = try specification()
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let comparison = Comparison(specification: specification, shard: Shard(parsing: shard)!, jobs: jobs,
                                    directory: directory, runner: subprocessRunner(executable: executable))
        InterruptFlag.install()
        let started = Date()
        let reporter = CompareProgress(started: started, jobs: jobs)
        let outcomes: [CellOutcome]
        do {
            outcomes = try comparison.run(shouldStop: { InterruptFlag.isSet }, progress: reporter.report)
        } catch let error as ComparisonError {
            // SIGTERM: what finished is recorded; rebuild the report from it before saying so.
            _ = try? ComparisonReport.rebuild(directory)
            try Console.report("Error: \(error)")
            throw ExitCode(128 + SIGTERM)
        }
        let all = try ComparisonReport.rebuild(directory)
        let failed = outcomes.filter { $0.status == .failed }
        if let summary = try? String(contentsOf: directory.appendingPathComponent("summary.md"), encoding: .utf8) {
            try Console.print(summary)
        }
        try Console.report("""
            \(outcomes.count) cells run, \(failed.count) failed, \(all.count) recorded in \(directory.path); \
            report: \(directory.appendingPathComponent("index.html").path)
            """)
        if InterruptFlag.isSet {
            try Console.report("interrupted: rerun the same command to continue where it stopped")
            throw ExitCode(130)
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

/// Matrix names: the .toml files under problems/eigen.
func matrixNames() throws -> [String] {
    let folder = try Catalog.directory().appendingPathComponent("eigen")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
}

/// Cells done/total, the cell that just ended, what is running, and an ETA from the mean cell time.
final class CompareProgress: @unchecked Sendable {
    let started: Date
    let jobs: Int
    var finishedHere = 0
    init(started: Date, jobs: Int) { self.started = started; self.jobs = jobs }

    func report(done: Int, total: Int, last: CellOutcome?, running: [GridCell]) {
        guard let last else {
            Console.reportOrRemember("[\(done)/\(total)] cells already done")
            return
        }
        finishedHere += 1
        let elapsed = Date().timeIntervalSince(started)
        let remaining = total - done
        let eta = remaining > 0 ? " ETA \(formatDuration(elapsed / Double(finishedHere) * Double(remaining) / Double(jobs)))" : ""
        let status = last.status == .ok ? "ok" : "FAILED: \(last.message)"
        let now = running.isEmpty ? "" : " | running: " + running.map(\.key).joined(separator: ", ")
        Console.reportOrRemember("[\(done)/\(total)] \(last.cell) \(status) (\(formatDuration(last.seconds)))\(eta)\(now)")
    }
}

func formatDuration(_ seconds: Double) -> String {
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let s = Int(seconds.rounded())
    return s < 3600 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
}

/// Ctrl-C: stop launching cells; the running ones get SIGINT from the comparison and save their checkpoints.
/// The flag is an atomic: a signal handler writes it while the grid's threads read it.
enum InterruptFlag {
    static let flag = Atomic<Int32>(0)
    static var isSet: Bool { flag.load(ordering: .relaxed) != 0 }
    static func install() {
        signal(SIGINT) { _ in InterruptFlag.flag.store(1, ordering: .relaxed) }
    }
}
