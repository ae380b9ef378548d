// Runs the comparison grid: every cell as its own `rnnode solve` / `rnnode eigen` process (the same code path
// and output as the single commands), resumable, in parallel, sharded, and rebuilt into one report.
import Foundation

/// How a cell ended. Written to DIR/cells/<key>.json when the cell ends; a cell whose file says `ok` for the
/// same arguments is skipped on the next run.
public struct CellOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, failed }
    public var cell: GridCell
    public var arguments: [String]
    public var status: Status
    public var message: String
    public var seconds: Double
    public init(cell: GridCell, arguments: [String], status: Status, message: String, seconds: Double) {
        self.cell = cell; self.arguments = arguments; self.status = status; self.message = message; self.seconds = seconds
    }
}

/// Runs one cell: the `rnnode` arguments (without `--out`) and the folder the cell writes into.
/// Returns nil on success or the failure message.
public typealias CellRunner = @Sendable (_ cell: GridCell, _ arguments: [String], _ directory: URL) -> String?

/// The command-line arguments of each cell, default and quick. Kept as data: change the grid here.
public enum GridSettings {
    public static func arguments(for cell: GridCell, quick: Bool) -> [String] {
        switch cell.experiment {
        case .solve:
            return ["solve", cell.subject, "--model", cell.model, "--seed", String(cell.seed)]
                + (quick ? quickSolve : [])
        case .eigen:
            return ["eigen", cell.subject, "--method", cell.model, "--seed", String(cell.seed)]
                + (quick ? quickEigen : [])
        }
    }
    /// Small data and few epochs: the whole catalog in a few minutes on 2 cores.
    public static let quickSolve: [String] = ["--quick"]
    public static let quickEigen: [String] = ["--quick"]
}

public final class Comparison: @unchecked Sendable {
    public let specification: GridSpecification
    public let shard: Shard
    public let jobs: Int
    public let directory: URL
    let runner: CellRunner

    public init(specification: GridSpecification, shard: Shard = .whole, jobs: Int = 1, directory: URL, runner: @escaping CellRunner) {
        self.specification = specification; self.shard = shard; self.jobs = max(1, jobs)
        self.directory = directory; self.runner = runner
    }

    /// This shard's cells, in grid order.
    public var cells: [GridCell] { shard.select(specification.cells()) }

    public func arguments(for cell: GridCell) -> [String] { GridSettings.arguments(for: cell, quick: specification.quick) }
    public func runDirectory(for cell: GridCell) -> URL { directory.appendingPathComponent("runs/\(cell.key)", isDirectory: true) }
    func outcomeFile(for cell: GridCell) -> URL { directory.appendingPathComponent("cells/\(cell.key).json") }

    /// The recorded outcome of a cell, if its file exists and is readable.
    public func recordedOutcome(for cell: GridCell) -> CellOutcome? {
        guard let data = try? Data(contentsOf: outcomeFile(for: cell)) else { return nil }
        return try? JSONDecoder().decode(CellOutcome.self, from: data)
    }

    /// Whether a cell already has results for the same arguments (so it is skipped).
    public func isFinished(_ cell: GridCell) -> Bool {
        guard let outcome = recordedOutcome(for: cell) else { return false }
        return outcome.status == .ok && outcome.arguments == arguments(for: cell)
    }

    /// Runs every unfinished cell of the shard, `jobs` at a time; `progress` is called after each cell.
    /// A failing cell is recorded with its message and the grid goes on. Stops launching new cells once
    /// `shouldStop` returns true (Ctrl-C).
    @discardableResult
    public func run(shouldStop: @escaping @Sendable () -> Bool = { false },
                    progress: @escaping @Sendable (_ done: Int, _ total: Int, _ last: CellOutcome?, _ running: [GridCell]) -> Void = { _, _, _, _ in })
        throws -> [CellOutcome]
    {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("cells"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("runs"), withIntermediateDirectories: true)
        let all = cells
        let pending = all.filter { !isFinished($0) }
        let state = SchedulerState(done: all.count - pending.count)
        progress(state.done, all.count, nil, [])
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(pending.count, 1))) { _ in
            while true {
                state.lock.lock()
                guard state.next < pending.count, !shouldStop() else { state.lock.unlock(); return }
                let cell = pending[state.next]
                state.next += 1
                state.running.append(cell)
                state.lock.unlock()

                let arguments = arguments(for: cell)
                let runDirectory = runDirectory(for: cell)
                try? FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
                let start = Date()
                let failure = runner(cell, arguments, runDirectory)
                let outcome = CellOutcome(cell: cell, arguments: arguments, status: failure == nil ? .ok : .failed,
                                          message: failure ?? "", seconds: Date().timeIntervalSince(start))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                if let data = try? encoder.encode(outcome) {
                    try? AtomicFile.write(data, to: outcomeFile(for: cell))
                }

                state.lock.lock()
                state.done += 1
                state.running.removeAll { $0 == cell }
                state.outcomes.append(outcome)
                progress(state.done, all.count, outcome, state.running)
                state.lock.unlock()
            }
        }
        return state.outcomes
    }

    /// Every recorded outcome under this directory (all shards that wrote here), in grid order of the key.
    public static func outcomes(in directory: URL) -> [CellOutcome] {
        let folder = directory.appendingPathComponent("cells")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
            .compactMap { try? JSONDecoder().decode(CellOutcome.self, from: Data(contentsOf: $0)) }
    }
}

/// Runs a cell as a child process of this executable: `rnnode <arguments> --out <directory>`, stdout and stderr
/// kept in `<directory>/log.txt`. The failure message is the last lines of stderr.
public func subprocessRunner(executable: URL) -> CellRunner {
    return { _, arguments, directory in
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--out", directory.path]
        let logURL = directory.appendingPathComponent("log.txt")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        guard let log = try? FileHandle(forWritingTo: logURL) else { return "cannot write \(logURL.path)" }
        defer { try? log.close() }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return "cannot start \(executable.path): \(error)" }
        process.waitUntilExit()
        if process.terminationReason == .exit && process.terminationStatus == 0 { return nil }
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(3).joined(separator: " / ")
        let how = process.terminationReason == .uncaughtSignal ? "killed by signal \(process.terminationStatus)"
                                                               : "exit status \(process.terminationStatus)"
        return "\(how): \(tail)"
    }
}

/// The shared counters of the worker loop, guarded by `lock`.
private final class SchedulerState: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var done: Int
    var running: [GridCell] = []
    var outcomes: [CellOutcome] = []
    init(done: Int) { self.done = done }
}
