// Writes that cannot corrupt: errors.csv appends that repair a cut-off row and roll back a failed write (with the
// errno of the call that failed), output errors in words, names that never become paths, checksummed reference
// data, `--retrain` over a cache it cannot remove, and a rerun of a comparison cell that replaces its outputs.
import Foundation
import Testing
@testable import Experiments
import Problems

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rnnode-integrity-\(name.filter(\.isLetter))-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func row(_ metric: String, _ value: Double, seed: UInt64 = 1) -> ErrorRow {
    ErrorRow(experiment: "solve", problem: "lorenz", model: "lstm", seed: seed, metric: metric, value: value, unit: "time")
}

private let header = "experiment,problem,model,seed,metric,value,unit\n"

@Suite struct IntegrityTests {
    // MARK: errors.csv appends

    @Test func appendAfterAHalfRowCutsThePartialRowOffAndSaysSo() throws {
        let directory = try temporaryDirectory()
        let log = ErrorLog(directory: directory)
        // A run that died in the middle of a row left "…,vpt,2.5" without the rest.
        try Data((header + "solve,lorenz,lstm,1,rmse,0.25,state\nsolve,lorenz,lstm,1,vpt,2.5").utf8).write(to: log.url)
        var warnings: [String] = []
        try log.append([row("vpt", 3.5, seed: 2)]) { warnings.append($0) }

        let text = try String(contentsOf: log.url, encoding: .utf8)
        #expect(text == header + "solve,lorenz,lstm,1,rmse,0.25,state\nsolve,lorenz,lstm,2,vpt,3.5,time\n")
        // Every line has the header's seven fields: the next batch was not glued onto the half row.
        #expect(text.split(separator: "\n").allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 7 })
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains(log.url.path) == true)
        #expect(warnings.first?.contains("solve,lorenz,lstm,1,vpt,2.5") == true)
        #expect(try log.read().map(\.metric) == ["rmse", "vpt"])
    }

    @Test func appendToAHalfHeaderStartsTheFileAgain() throws {
        let directory = try temporaryDirectory()
        let log = ErrorLog(directory: directory)
        try Data("experiment,prob".utf8).write(to: log.url)
        var warnings: [String] = []
        try log.append([row("vpt", 1)]) { warnings.append($0) }
        #expect(try String(contentsOf: log.url, encoding: .utf8) == header + "solve,lorenz,lstm,1,vpt,1.0,time\n")
        #expect(warnings.count == 1)
    }

    @Test func appendRefusesAFileThatIsNotAnErrorsCSV() throws {
        let directory = try temporaryDirectory()
        let url = directory.appendingPathComponent("errors.csv")
        try Data("t,x,y\n0,1,2\n".utf8).write(to: url)
        #expect { try ErrorLog(url: url).append([row("vpt", 1)]) } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("not an errors.csv") && "\(error)".contains("first line 't,x,y'")
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "t,x,y\n0,1,2\n")
    }

    @Test func readingAFileCutInsideItsLastRowIsAnErrorNamingTheLine() throws {
        let directory = try temporaryDirectory()
        let url = directory.appendingPathComponent("errors.csv")
        // Seven fields, but the value may be the first digits of a longer number: not accepted as a row.
        try Data((header + "solve,lorenz,lstm,1,rmse,0.25,state\nsolve,lorenz,lstm,1,vpt,2.5,ti").utf8).write(to: url)
        #expect { try ErrorLog(url: url).read() } throws: { "\($0)".contains(url.path) && "\($0)".contains("line 3") }
    }

    /// A write(2) that writes the first half of what it is given, leaving a stale errno behind, then fails with
    /// `code` (what a disk that fills up mid-batch does).
    private final class ShortWriter: @unchecked Sendable {
        let code: Int32
        var calls = 0
        init(code: Int32) { self.code = code }
        func write(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
            calls += 1
            if calls == 1 {
                let written = Glibc.write(descriptor, bytes, count / 2)
                errno = EACCES  // stale: a successful short write does not set errno
                return written
            }
            errno = code
            return -1
        }
    }

    @Test func aShortWriteIsRolledBackAndReportedWithTheErrnoOfTheFailingCall() throws {
        let directory = try temporaryDirectory()
        let log = ErrorLog(directory: directory)
        try log.append([row("rmse", 0.25)])
        let before = try Data(contentsOf: log.url)

        let writer = ShortWriter(code: EDQUOT)
        let batch = (0..<20).map { row("metric\($0)", Double($0) + 0.125) }
        #expect { try log.append(batch, warn: { _ in }, write: writer.write) } throws: { error in
            guard let error = error as? OutputError else { return false }
            let text = "\(error)"
            return error.errorNumber == EDQUOT && text.hasPrefix("cannot write \(log.url.path): \(String(cString: strerror(EDQUOT)))")
                && !text.contains(String(cString: strerror(EACCES)))
        }
        #expect(writer.calls == 2)
        // Nothing of the failed batch stays: the file is as it was, and the next append is whole.
        #expect(try Data(contentsOf: log.url) == before)
        try log.append(batch)
        #expect(try log.read().count == 21)
    }

    @Test func aFullDeviceIsReportedInWords() throws {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        #expect { try ErrorLog(url: URL(fileURLWithPath: "/dev/full")).append([row("vpt", 1)]) } throws: { error in
            "\(error)" == "cannot write /dev/full: \(String(cString: strerror(ENOSPC)))" && (error as? OutputError)?.errorNumber == ENOSPC
        }
        #expect { try AtomicFile.write("x", to: URL(fileURLWithPath: "/dev/full")) } throws: { error in
            "\(error)" == "cannot write /dev/full: \(String(cString: strerror(ENOSPC)))"
        }
    }

    @Test func atomicWriteErrorsNameTheFileAndTheReasonWithoutFoundationDumps() throws {
        let directory = try temporaryDirectory()
        let blocker = directory.appendingPathComponent("results")
        try Data("a file where a folder should be".utf8).write(to: blocker)
        let target = blocker.appendingPathComponent("x/errors.csv")
        for attempt in [{ try AtomicFile.write("x", to: target) }, { try ErrorLog(url: target).append([row("vpt", 1)]) }] {
            #expect(throws: OutputError.self) { try attempt() }
            do { try attempt() } catch {
                let text = "\(error)"
                #expect(text.hasPrefix("cannot create directory \(blocker.path)"), "\(text)")
                #expect(!text.contains("Domain") && !text.contains("Code=") && !text.contains("(null)"), "\(text)")
            }
        }
        // Reading a missing file: the reason in words.
        #expect { try CSVTable.read(from: directory.appendingPathComponent("missing.csv")) } throws: { error in
            "\(error)" == "cannot read \(directory.appendingPathComponent("missing.csv").path): \(String(cString: strerror(ENOENT)))"
        }
    }

    // MARK: Names are names

    @Test(arguments: ["../../x", "..", ".", "", "a/b", "/etc/passwd", "-persist", "line\nbreak", "nul\u{0}byte"])
    func aNameThatIsNotAFileNameIsRefused(name: String) {
        #expect(throws: OutputNameError.self) { try OutputName.component(name, what: "problem name") }
        #expect(throws: OutputNameError.self) { try OutputName.file(name, in: URL(fileURLWithPath: "/tmp"), what: "problem name") }
    }

    @Test func plainNamesAreAccepted() throws {
        for name in ["lorenz", "harmonic-oscillator", "kepler_2d", "x..y", "matrix.v2"] {
            #expect(try OutputName.component(name, what: "problem name") == name)
        }
    }

    @Test func aProblemNamedLikeAPathNeverWritesOutsideTheOutputFolder() throws {
        let root = try temporaryDirectory()
        let source = try String(contentsOf: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml"), encoding: .utf8)
        let nameLine = try #require(source.split(separator: "\n").first { $0.hasPrefix("name") })
        let hostile = root.appendingPathComponent("hostile.toml")
        try source.replacingOccurrences(of: String(nameLine), with: "name = \"../../x\"").write(to: hostile, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("a/b/out")
        var c = SolveConfiguration(problem: hostile.path, model: .linear)
        c.trainTrajectories = 1; c.validationTrajectories = 0; c.testTrajectories = 1; c.window = 4; c.evaluationStart = 4; c.horizon = 2
        c.outputDirectory = out.path
        #expect { try SolvePipeline.run(c) { _ in } } throws: { "\($0)".contains("../../x") }
        // Only the problem file is outside --out; nothing at all was written, inside or out.
        let everything = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        #expect(everything.filter { !$0.hasPrefix("a") } == ["hostile.toml"])
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // The data cache refuses the name on its own too.
        var problem = try Catalog.load(packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path)
        problem.name = "../../x"
        #expect(throws: OutputNameError.self) {
            try TrajectoryGenerator.data(for: problem, counts: [.training: 1, .validation: 0, .test: 0], seed: 1,
                                         cacheRoot: out.appendingPathComponent("data"))
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func aCellWhoseNameIsAPathIsRefusedBeforeAnythingRuns() throws {
        let folder = try temporaryDirectory()
        let grid = GridSpecification(problems: ["../../escape"], models: ["lstm"], matrices: [], methods: [], seeds: 1, quick: true)
        let calls = Counter()
        let comparison = Comparison(specification: grid, directory: folder.appendingPathComponent("grid"),
                                    runner: { _, _, _, _ in calls.increment(); return .ok })
        #expect { try comparison.run() } throws: { "\($0)".contains("cannot be used in a file name") }
        #expect(calls.value == 0)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("escape").path))
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.lock(); count += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return count }
    }

    @Test func aNameWithQuotesReachesGnuplotAsTextNotAsCommands() throws {
        let folder = try temporaryDirectory()
        // Legal as a file name, hostile as script text: it would close a double-quoted gnuplot string.
        let subject = "x\"; system(\"touch PWNED\"); print \"'"
        let grid = GridSpecification(problems: [subject], models: ["lstm"], matrices: [], methods: [], seeds: 1, quick: true)
        try Comparison(specification: grid, directory: folder, runner: { cell, _, directory, _ in
            try! ErrorLog(directory: directory).append([ErrorRow(experiment: "solve", problem: cell.subject, model: cell.model,
                                                                 seed: 1, metric: "vpt", value: 1.5, unit: "time")])
            try! AtomicFile.write("t,ref_x,lstm_x,error\n0,1,1,0.001\n0.1,1,1.1,0.01\n",
                                  to: directory.appendingPathComponent("\(cell.subject)-lstm-seed1-trajectory.csv"))
            return .ok
        }).run()
        try ComparisonReport.rebuild(folder)
        let script = try String(contentsOf: folder.appendingPathComponent("plots/\(subject)-error.gp"), encoding: .utf8)
        #expect(script.contains("set title 'x\"; system(\"touch PWNED\"); print \"'': normalised error"), "\(script)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("plots/PWNED").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("PWNED").path))
    }

    // MARK: Reference data checksums

    @Test func aTamperedDataFileIsDetectedAndNeverUsed() throws {
        let problem = try Catalog.load(packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path)
        let cache = try temporaryDirectory()
        let counts: [DataSplit: Int] = [.training: 1, .validation: 1, .test: 1]
        let generated = try TrajectoryGenerator.data(for: problem, counts: counts, seed: 5, cacheRoot: cache)
        let folder = try #require(generated.directory)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("data.json"))) as? [String: Any]
        let checksums = meta?["checksums"] as? [String: String]
        #expect(Set(checksums?.keys.map { $0 } ?? []) == ["train.csv", "validation.csv", "test.csv"])

        // Change one digit of one state in test.csv (the ground truth of every metric).
        let test = folder.appendingPathComponent("test.csv")
        var lines = try String(contentsOf: test, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields = lines[5].split(separator: ",").map(String.init)
        let last = fields[fields.count - 1]
        let digit = try #require(last.lastIndex { $0.isNumber && $0 != "0" })
        fields[fields.count - 1] = last.replacingCharacters(in: digit...digit, with: last[digit] == "1" ? "2" : "1")
        lines[5] = fields.joined(separator: ",")
        try lines.joined(separator: "\n").write(to: test, atomically: true, encoding: .utf8)

        #expect { try TrajectoryGenerator.data(for: problem, counts: counts, seed: 5, cacheRoot: cache) } throws: { error in
            let text = "\(error)"
            return text.contains(test.path) && text.contains("checksum") && text.contains("not used")
        }
        // Written again, the cache loads (the check is on the bytes, not on the folder).
        try TrajectoryGenerator.write(generated, to: folder, specification: DataSpecification(
            problem: problem, problemText: String(contentsOf: problem.file!, encoding: .utf8), counts: counts, seed: 5))
        let reloaded = try TrajectoryGenerator.data(for: problem, counts: counts, seed: 5, cacheRoot: cache)
        #expect(reloaded.test.map(\.states) == generated.test.map(\.states))
    }

    // MARK: --retrain over a cache it cannot remove

    /// setfsuid(2) changes the file-system identity of the calling thread only (not the whole process, unlike
    /// seteuid), so a test running as root can see permissions as an ordinary user does without disturbing the
    /// tests that run in parallel.
    private static let setFileSystemUser: (@convention(c) (UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UInt32) -> Int32).self)
    }()

    @Test func retrainOverAReadOnlyCacheFailsWithAMessage() throws {
        let out = try temporaryDirectory()
        var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: .linear)
        c.trainTrajectories = 1; c.validationTrajectories = 0; c.testTrajectories = 1; c.window = 4; c.evaluationStart = 4; c.horizon = 2
        c.outputDirectory = out.path; c.writeFiles = false
        let first = try SolvePipeline.run(c) { _ in }
        #expect(!first.modelFromCache)
        let models = out.appendingPathComponent("models")
        let cached = try FileManager.default.contentsOfDirectory(atPath: models.path).filter { $0.hasSuffix(".model") }
        #expect(cached.count == 1)

        // The models folder becomes read-only: the cached model cannot be removed.
        #expect(chmod(models.path, 0o555) == 0)
        defer { chmod(models.path, 0o755) }
        c.retrain = true
        let asRoot = getuid() == 0
        if asRoot {
            let setUser = try #require(Self.setFileSystemUser, "setfsuid is needed to drop root's permission override")
            _ = setUser(65534)  // nobody
        }
        let outcome = Result { try SolvePipeline.run(c) { _ in } }
        if asRoot { _ = Self.setFileSystemUser!(0) }
        #expect(throws: SolveError.self) { try outcome.get() }
        if case .failure(let error) = outcome {
            let text = "\(error)"
            #expect(text.contains("--retrain: cannot remove the cached model \(models.appendingPathComponent(cached[0]).path)"), "\(text)")
            #expect(text.contains(String(cString: strerror(EACCES))), "\(text)")
        }
        #expect(FileManager.default.fileExists(atPath: models.appendingPathComponent(cached[0]).path))
    }

    // MARK: A rerun of a comparison cell replaces its outputs

    /// A cell that appends its rows to the run folder's errors.csv, as `rnnode solve --out` does, and optionally stops
    /// after writing them (the parent was stopped between the cell's append and the record of its outcome).
    private final class AppendingRunner: @unchecked Sendable {
        let lock = NSLock()
        var stopAfterWriting = true
        var runs = 0
        func run(_ cell: GridCell, _ directory: URL) -> CellResult {
            lock.lock(); runs += 1; let stop = stopAfterWriting; lock.unlock()
            let rows = ["vpt", "rel_l2_final"].map {
                ErrorRow(experiment: "solve", problem: cell.subject, model: cell.model, seed: UInt64(cell.seed), metric: $0,
                         value: Double(cell.seed) + 0.5, unit: "time")
            }
            try! ErrorLog(directory: directory).append(rows)
            // A cache the rerun must keep.
            try! AtomicFile.write("model", to: directory.appendingPathComponent("models/\(cell.key).model"))
            return stop ? .stopped : .ok
        }
    }

    @Test func aRerunAfterAnInterruptedGridCountsEachSeedOnce() throws {
        let folder = try temporaryDirectory()
        let grid = GridSpecification(problems: ["lorenz", "kepler"], models: ["lstm", "esn"], matrices: [], methods: [], seeds: 2, quick: true)
        let runner = AppendingRunner()
        let comparison = Comparison(specification: grid, jobs: 2, directory: folder,
                                    runner: { cell, _, directory, _ in runner.run(cell, directory) })
        // Every cell writes its rows, then is stopped before its outcome is recorded.
        #expect(try comparison.run().isEmpty)
        #expect(Comparison.outcomes(in: folder).isEmpty)
        let cell = grid.cells()[0]
        let models = try comparison.runDirectory(for: cell).appendingPathComponent("models/\(cell.key).model")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: models.path)
        #expect(try ErrorLog(directory: comparison.runDirectory(for: cell)).read().count == 2)

        // The rerun finishes every cell; each replaces what its stopped run left instead of appending to it.
        runner.stopAfterWriting = false
        let outcomes = try comparison.run()
        #expect(outcomes.count == grid.cells().count && outcomes.allSatisfy { $0.status == .ok })
        #expect(runner.runs == 2 * grid.cells().count)
        #expect(try ErrorLog(directory: comparison.runDirectory(for: cell)).read().count == 2)
        try ComparisonReport.rebuild(folder)
        let summary = try CSVTable.read(from: folder.appendingPathComponent("summary.csv"))
        let seeds = try summary.column("seeds")
        #expect(summary.rows.count == 2 * 2 * 2)  // problems × models × metrics
        #expect(summary.rows.allSatisfy { $0[seeds] == "2" }, "\(summary.text)")  // two seeds, each once
        #expect(try ErrorLog(directory: folder).read().count == grid.cells().count * 2)
        // The cache folder survived both runs.
        #expect(FileManager.default.fileExists(atPath: models.path))
    }

    @Test func aFolderFromBeforeTheReplaceRuleStillCountsEachSeedOnce() throws {
        let folder = try temporaryDirectory()
        let grid = GridSpecification(problems: ["lorenz"], models: ["lstm"], matrices: [], methods: [], seeds: 1, quick: true)
        let comparison = Comparison(specification: grid, directory: folder, runner: { cell, _, directory, _ in
            // A run and its rerun both in one file, as an older rnnode left them.
            let log = ErrorLog(directory: directory)
            try! log.append([ErrorRow(experiment: "solve", problem: "lorenz", model: "lstm", seed: 1, metric: "vpt", value: 1, unit: "time")])
            try! log.append([ErrorRow(experiment: "solve", problem: "lorenz", model: "lstm", seed: 1, metric: "vpt", value: 2, unit: "time")])
            return .ok
        })
        try comparison.run()
        try ComparisonReport.rebuild(folder)
        let summary = try String(contentsOf: folder.appendingPathComponent("summary.csv"), encoding: .utf8)
        #expect(summary.contains("solve,lorenz,vpt,time,lstm,2.0,2.0,2.0,1,0"), "\(summary)")
    }

    @Test func aCellThatDiesIsReportedWithItsLastStderrLines() throws {
        let folder = try temporaryDirectory()
        // A stand-in for rnnode that complains and dies by a signal, as a cell whose write trapped did.
        let program = folder.appendingPathComponent("fake-rnnode")
        try """
            #!/bin/sh
            echo "training lstm" >&2
            echo "error: cannot write $3/errors.csv: No space left on device" >&2
            kill -ILL $$
            """.write(to: program, atomically: true, encoding: .utf8)
        chmod(program.path, 0o755)
        let runner = subprocessRunner(executable: program)
        let cell = GridCell(experiment: .solve, subject: "lorenz", model: "lstm", seed: 1)
        let run = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let result = runner(cell, ["solve"], run, { false })
        guard case .failed(let message) = result else { Issue.record("expected a failure, got \(result)"); return }
        #expect(message.contains("killed by signal \(SIGILL)"), "\(message)")
        #expect(message.contains("cannot write \(run.path)/errors.csv: No space left on device"), "\(message)")
        #expect(message.contains("training lstm"), "\(message)")
        // The log keeps the stderr as well.
        #expect(try String(contentsOf: run.appendingPathComponent("log.txt"), encoding: .utf8).contains("No space left on device"))
    }

    @Test func aStoppedCellIsStoppedAndNotRecorded() throws {
        let folder = try temporaryDirectory()
        let program = folder.appendingPathComponent("slow-rnnode")
        let pidFile = folder.appendingPathComponent("pid")
        try "#!/bin/sh\necho $$ > \(pidFile.path)\nexec sleep 30\n".write(to: program, atomically: true, encoding: .utf8)
        chmod(program.path, 0o755)
        let start = Date()
        let result = subprocessRunner(executable: program)(
            GridCell(experiment: .solve, subject: "lorenz", model: "lstm", seed: 1), ["solve"], folder,
            { FileManager.default.fileExists(atPath: pidFile.path) })
        #expect(result == .stopped)
        #expect(Date().timeIntervalSince(start) < 20)
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0 && errno == ESRCH)
    }
}
