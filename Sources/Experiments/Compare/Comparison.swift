// Runs the comparison grid: every cell as its own `rnnode solve` / `rnnode eigen` process (the same code path
// and output as the single commands), resumable, in parallel, sharded, and rebuilt into one report.
import Foundation
import Support
import Synchronization

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

/// How a cell run ended: finished, failed (with the message recorded for it), or stopped on request (not recorded:
/// the next run starts it again, resuming from its checkpoint).
public enum CellResult: Sendable, Equatable {
    case ok
    case failed(String)
    case stopped
}

/// Runs one cell: the `rnnode` arguments (without `--out`), the folder the cell writes into, and a closure that
/// turns true when the cell must stop (the runner then stops it and returns `.stopped`).
public typealias CellRunner = @Sendable (_ cell: GridCell, _ arguments: [String], _ directory: URL,
                                         _ shouldStop: @escaping @Sendable () -> Bool) -> CellResult

/// The command-line arguments of each cell, default and quick. Kept as data: change the grid here.
public enum GridSettings {
    /// The arguments are the cell's identity: a cell recorded with other arguments (another `--tune`, `--budget`
    /// or `--vpt-threshold`) runs again. `budget` goes only to the models trained by backpropagation through time;
    /// `vptThreshold` only when it is not the default; `selection` only to those networks and when not the default.
    public static func arguments(for cell: GridCell, quick: Bool, tune: Int? = nil, budget: Double? = nil,
                                 vptThreshold: Double? = nil, selection: WeightSelection? = nil) -> [String] {
        switch cell.experiment {
        case .solve:
            var arguments = ["solve", cell.subject, "--model", cell.model, "--seed", String(cell.seed)]
            if quick { arguments += quickSolve }
            if let tune { arguments += ["--tune", String(tune)] }
            if let budget, ModelKind(rawValue: cell.model)?.isRecurrentNetwork == true {
                arguments += ["--budget", CSV.format(budget)]
            }
            if let vptThreshold, vptThreshold != validPredictionThreshold {
                arguments += ["--vpt-threshold", CSV.format(vptThreshold)]
            }
            if let selection, selection != SolveConfiguration(problem: "").selection,
               ModelKind(rawValue: cell.model)?.isRecurrentNetwork == true {
                arguments += ["--select-by", selection.rawValue]
            }
            return arguments
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

    /// Folders inside a cell's run folder that are caches, kept when the cell is run again (reference data, trained
    /// models and the checkpoint of an interrupted training). Everything else is the cell's output and is replaced.
    public static let cacheFolders: Set<String> = ["data", "models"]

    public init(specification: GridSpecification, shard: Shard = .whole, jobs: Int = 1, directory: URL, runner: @escaping CellRunner) {
        self.specification = specification; self.shard = shard; self.jobs = max(1, jobs)
        self.directory = directory; self.runner = runner
    }

    /// This shard's cells, in grid order.
    public var cells: [GridCell] { shard.select(specification.cells()) }

    public func arguments(for cell: GridCell) -> [String] {
        GridSettings.arguments(for: cell, quick: specification.quick, tune: specification.tune, budget: specification.budget,
                               vptThreshold: specification.vptThreshold, selection: specification.selection)
    }
    /// `DIR/runs/<key>/`; the key must be a single file-name component.
    public func runDirectory(for cell: GridCell) throws -> URL {
        try OutputName.file(cell.key, in: directory.appendingPathComponent("runs", isDirectory: true), what: "cell")
    }
    func outcomeFile(for cell: GridCell) throws -> URL {
        try OutputName.file(cell.key + ".json", in: directory.appendingPathComponent("cells", isDirectory: true), what: "cell")
    }

    /// The recorded outcome of a cell, if its file exists and is readable.
    public func recordedOutcome(for cell: GridCell) -> CellOutcome? {
        guard let file = try? outcomeFile(for: cell), let data = try? FileSystem.read(file) else { return nil }
        return try? JSONDecoder().decode(CellOutcome.self, from: data)
    }

    /// Whether a cell already has results for the same arguments (so it is skipped).
    public func isFinished(_ cell: GridCell) -> Bool {
        guard let outcome = recordedOutcome(for: cell) else { return false }
        return outcome.status == .ok && outcome.arguments == arguments(for: cell)
    }

    /// Clears what an earlier run of `cell` left (its outcome and its outputs, keeping the caches), so the run
    /// about to start replaces them instead of adding to them. Returns the cell's run folder.
    func prepare(_ cell: GridCell) throws -> URL {
        let outcome = try outcomeFile(for: cell)
        if unlink(outcome.path) != 0 && errno != ENOENT { throw OutputError(url: outcome, action: "remove", errorNumber: errno) }
        let folder = try runDirectory(for: cell)
        try FileSystem.createDirectories(folder)
        for name in try FileSystem.contents(of: folder) where !Self.cacheFolders.contains(name) {
            try FileSystem.remove(folder.appendingPathComponent(name))
        }
        return folder
    }

    /// Runs every unfinished cell of the shard, `jobs` at a time; `progress` is called after each cell.
    /// A failing cell is recorded with its message and the grid goes on. Once `shouldStop` returns true (Ctrl-C),
    /// no new cell starts and the running ones are stopped (not recorded: the next run resumes them).
    /// SIGTERM to this process does the same while the grid runs, and then throws `ComparisonError.terminated`.
    @discardableResult
    public func run(shouldStop: @escaping @Sendable () -> Bool = { false },
                    progress: @escaping @Sendable (_ done: Int, _ total: Int, _ last: CellOutcome?, _ running: [GridCell]) -> Void = { _, _, _, _ in })
        throws -> [CellOutcome]
    {
        try FileSystem.createDirectories(directory.appendingPathComponent("cells"))
        try FileSystem.createDirectories(directory.appendingPathComponent("runs"))
        let all = cells
        for cell in all { _ = try runDirectory(for: cell) }
        let pending = all.filter { !isFinished($0) }
        let state = SchedulerState(done: all.count - pending.count)
        progress(state.done, all.count, nil, [])
        let termination = TerminationSignal.install()
        defer { TerminationSignal.uninstall(termination) }
        let stop: @Sendable () -> Bool = { TerminationSignal.received || shouldStop() }
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(pending.count, 1))) { _ in
            while true {
                state.lock.lock()
                guard state.next < pending.count, !stop() else { state.lock.unlock(); return }
                let cell = pending[state.next]
                state.next += 1
                state.running.append(cell)
                state.lock.unlock()

                let arguments = arguments(for: cell)
                let start = Date()
                let result: CellResult
                do {
                    result = runner(cell, arguments, try prepare(cell), stop)
                } catch {
                    result = .failed("cannot prepare the cell's folder: \(error)")
                }
                var outcome: CellOutcome?
                switch result {
                case .stopped:
                    outcome = nil
                case .ok, .failed:
                    var message = ""
                    if case .failed(let text) = result { message = text }
                    let ended = CellOutcome(cell: cell, arguments: arguments, status: result == .ok ? .ok : .failed,
                                            message: message, seconds: Date().timeIntervalSince(start))
                    outcome = ended
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    do {
                        try AtomicFile.write(try encoder.encode(ended), to: try outcomeFile(for: cell))
                    } catch {
                        outcome?.status = .failed
                        outcome?.message = "cannot record the outcome: \(error)" + (message.isEmpty ? "" : "; \(message)")
                    }
                }

                state.lock.lock()
                state.running.removeAll { $0 == cell }
                if let outcome {
                    state.done += 1
                    state.outcomes.append(outcome)
                    progress(state.done, all.count, outcome, state.running)
                } else {
                    state.stopped.append(cell)
                }
                state.lock.unlock()
            }
        }
        if TerminationSignal.received {
            throw ComparisonError.terminated(finished: state.outcomes.count, stopped: state.stopped)
        }
        return state.outcomes
    }

    /// Every recorded outcome under this directory (all shards that wrote here), in grid order of the key.
    /// Files that are not readable outcomes, or whose cell key is not a file name, are skipped.
    public static func outcomes(in directory: URL) -> [CellOutcome] {
        let folder = directory.appendingPathComponent("cells")
        let names = (try? FileSystem.contents(of: folder)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
            .compactMap { name in
                guard let data = try? FileSystem.read(folder.appendingPathComponent(name)),
                      let outcome = try? JSONDecoder().decode(CellOutcome.self, from: data),
                      outcome.cell.key + ".json" == name, (try? OutputName.component(outcome.cell.key, what: "cell")) != nil
                else { return nil }
                return outcome
            }
    }
}

/// Why a comparison stopped before its cells were done.
public enum ComparisonError: Error, CustomStringConvertible, Sendable {
    /// SIGTERM arrived: the running cells were stopped (their training checkpoints are kept), nothing more started.
    case terminated(finished: Int, stopped: [GridCell])

    public var description: String {
        switch self {
        case .terminated(let finished, let stopped):
            let names = stopped.map(\.key).sorted().joined(separator: ", ")
            let cells = stopped.isEmpty ? "no cell was running"
                : "stopped the running \(stopped.count == 1 ? "cell" : "cells") \(names) (not recorded; a training checkpoint is kept)"
            return "terminated by SIGTERM after \(finished) \(finished == 1 ? "cell" : "cells") finished; \(cells); rerun the same command to continue"
        }
    }
}

/// SIGTERM while a grid runs: recorded in an atomic flag that the scheduler and the running cells poll. The
/// handler stays installed while any grid of this process runs (tests run several at once).
enum TerminationSignal {
    static var received: Bool { terminationFlag.load(ordering: .relaxed) != 0 }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var users = 0
    nonisolated(unsafe) private static var previous = sigaction()

    /// Installs the handler (for the first user) and unblocks SIGTERM in the calling thread (a parent may have
    /// started us with it blocked, which would hold it back until we exit); returns the caller's signal mask.
    static func install() -> sigset_t {
        lock.lock()
        defer { lock.unlock() }
        users += 1
        if users == 1 {
            terminationFlag.store(0, ordering: .relaxed)
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { _ in terminationFlag.store(1, ordering: .relaxed) }
            #else
            action.__sigaction_u.__sa_handler = { _ in terminationFlag.store(1, ordering: .relaxed) }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(SIGTERM, &action, &previous)
        }
        var terminate = sigset_t(), mask = sigset_t()
        sigemptyset(&terminate)
        sigaddset(&terminate, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &terminate, &mask)
        return mask
    }

    /// Restores the caller's signal mask, and the previous disposition after the last user.
    static func uninstall(_ mask: sigset_t) {
        var mask = mask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
        lock.lock()
        defer { lock.unlock() }
        users -= 1
        if users == 0 { sigaction(SIGTERM, &previous, nil) }
    }
}

private let terminationFlag = Atomic<Int32>(0)

/// Runs a cell as a child process of this executable: `rnnode <arguments> --out <directory>`, in its own process
/// group under a reaper, so it dies with this process (even on SIGKILL) and is stopped (SIGINT to its group, so a
/// training saves its checkpoint as on Ctrl-C, then SIGKILL after 30 s) when `shouldStop` turns true or this
/// process dies. Its stdout goes to `<directory>/log.txt` as it runs; its stderr is kept
/// apart (in a temporary file, so that a full disk under `<directory>` cannot lose it) and appended to `log.txt`
/// when it ends. The failure message says how it ended and quotes the last lines of its stderr.
public func subprocessRunner(executable: URL) -> CellRunner {
    return { _, arguments, directory, shouldStop in
        let logURL = directory.appendingPathComponent("log.txt")
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(executable.path, arguments + ["--out", directory.path],
                                          standardOutput: .file(logURL.path), standardError: .capture,
                                          grace: 30, stopSignal: SIGINT, cancelled: shouldStop)
        } catch {
            return .failed("\(error)")
        }
        // Best effort: the log is for reading later; the message below carries what matters.
        let errors = result.standardError
        if !errors.isEmpty {
            let descriptor = open(logURL.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if descriptor >= 0 {
                _ = Array(errors.utf8).withUnsafeBytes { Descriptor.writeAll(descriptor, $0) }
                close(descriptor)
            }
        }
        switch result.termination {
        case .exited(0): return .ok
        case .cancelled: return .stopped
        default: return .failed(cellFailureMessage(result.termination, standardError: errors, directory: directory))
        }
    }
}

/// How a cell ended, the last lines of its stderr, and a note when its folder's file system is full.
func cellFailureMessage(_ termination: ChildProcess.Termination, standardError: String, directory: URL) -> String {
    let lines = standardError.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    var message = "\(termination)"
    message += lines.isEmpty ? "; nothing on stderr" : "; last lines of stderr: " + lines.suffix(3).joined(separator: " / ")
    var info = statvfs()
    if statvfs(directory.path, &info) == 0, info.f_bavail == 0 {
        message += "; the file system holding \(directory.path) is full"
    }
    return message
}

/// The shared counters of the worker loop, guarded by `lock`.
private final class SchedulerState: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var done: Int
    var running: [GridCell] = []
    var outcomes: [CellOutcome] = []
    var stopped: [GridCell] = []
    init(done: Int) { self.done = done }
}
