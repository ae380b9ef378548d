// `rnnode compare` and `rnnode merge` as a user runs them: a real (small) grid end to end, resume, bad input, and
// a grid stopped by SIGTERM or SIGKILL that leaves no process behind and is counted once when rerun; and writes cut
// short by the kernel (a file-size limit, as a full disk does) reported with their errno and never left half-done.
import Foundation
import Testing

@Suite struct CompareCLITests {
    @Test func smallEigenGridRunsResumesAndMerges() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let arguments = ["compare", "--problems", "none", "--matrices", "pairing", "--methods", "yi,power", "--quick", "--out", "grid"]
        let first = try RNNodeBinary.run(arguments, in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("[2/2]"))
        #expect(first.stdout.contains("### pairing"))
        for file in ["errors.csv", "summary.csv", "summary.md", "index.html", "cells/eigen-pairing-yi-s1.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("grid/\(file)").path), "\(file)")
        }
        let errors = try String(contentsOf: folder.appendingPathComponent("grid/errors.csv"), encoding: .utf8)
        #expect(errors.hasPrefix("experiment,problem,model,seed,metric,value,unit\n"))
        #expect(errors.contains("eigen,pairing,yi,1,rel_error,"))

        let second = try RNNodeBinary.run(arguments, in: folder)
        #expect(second.status == 0)
        #expect(second.stderr.contains("[2/2] cells already done"))
        #expect(second.stderr.contains("0 cells run"))

        let merged = try RNNodeBinary.run(["merge", "grid", "--out", "merged"], in: folder)
        #expect(merged.status == 0, "\(merged.stderr)")
        let mergedErrors = try String(contentsOf: folder.appendingPathComponent("merged/errors.csv"), encoding: .utf8)
        #expect(mergedErrors == errors)
    }

    @Test(arguments: [
        (["compare", "--problems", "lorenz63"], "unknown problem 'lorenz63'"),
        (["compare", "--models", "transformer"], "unknown model 'transformer'"),
        (["compare", "--methods", "qr"], "unknown method 'qr'"),
        (["compare", "--shard", "3/2"], "--shard takes I/N"),
        (["compare", "--seeds", "0"], "--seeds must be at least 1"),
        (["compare", "--jobs", "0"], "--jobs must be at least 1"),
        (["compare", "--tune", "0"], "--tune must be at least 1 (got 0)"),
        (["merge", "no-such-folder"], "no such folder: no-such-folder"),
    ])
    func badInputIsAClearError(arguments: [String], message: String) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let result = try RNNodeBinary.run(arguments + ["--out", "out"], in: folder)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test(arguments: [
        (["--budget", "0"], "--budget must be positive and finite (got 0.0)"),
        (["--budget=-3"], "--budget must be positive and finite (got -3.0)"),
        (["--budget", "nan"], "--budget must be positive and finite (got nan)"),
        (["--budget", "inf"], "--budget must be positive and finite (got inf)"),
        (["--budget", "soon"], "--budget"),
        (["--vpt-threshold", "0"], "--vpt-threshold must be positive and finite (got 0.0)"),
        (["--vpt-threshold", "nan"], "--vpt-threshold must be positive and finite (got nan)"),
    ])
    func aBadBudgetOrThresholdIsAUsageError(arguments: [String], message: String) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let result = try RNNodeBinary.run(["compare", "--problems", "harmonic-oscillator", "--models", "lstm", "--matrices", "none"]
                                          + arguments + ["--out", "out"], in: folder)
        #expect(!result.signalled && result.status == usageError, "\(arguments): status \(result.status), \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test func sigtermAndSigkillLeaveNoCellRunningAndARerunCountsEachSeedOnce() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let arguments = ["compare", "--problems", "lorenz", "--models", "lstm,gru", "--matrices", "none", "--quick", "--out", "grid"]

        // SIGTERM while a cell runs: the cell is stopped, the parent says so and exits non-zero.
        let terminated = try Background(arguments, in: folder)
        try #require(waitFor(seconds: 60) { !cellProcesses(of: folder, excluding: terminated.pid).isEmpty }, "no cell started")
        kill(terminated.pid, SIGTERM)
        let status = terminated.wait()
        #expect(status != 0)
        #expect(terminated.stderr.contains("terminated by SIGTERM"), "\(terminated.stderr)")
        #expect(waitFor(seconds: 15) { cellProcesses(of: folder).isEmpty }, "left running: \(cellProcesses(of: folder))")

        // SIGKILL: nothing can be caught, the cells still die with the parent.
        let killed = try Background(arguments, in: folder)
        try #require(waitFor(seconds: 60) { !cellProcesses(of: folder, excluding: killed.pid).isEmpty }, "no cell started")
        kill(killed.pid, SIGKILL)
        _ = killed.wait()
        #expect(waitFor(seconds: 15) { cellProcesses(of: folder).isEmpty }, "left running: \(cellProcesses(of: folder))")

        // What an orphaned cell used to leave: its rows, already in its folder before the rerun.
        let run = folder.appendingPathComponent("grid/runs/solve-lorenz-lstm-s1")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let stale = "experiment,problem,model,seed,metric,value,unit\nsolve,lorenz,lstm,1,vpt,1000.0,time\n"
        try Data(stale.utf8).write(to: run.appendingPathComponent("errors.csv"))

        let rerun = try RNNodeBinary.run(arguments, in: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try String(contentsOf: folder.appendingPathComponent("grid/summary.csv"), encoding: .utf8)
        let rows = summary.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0[8] == "1" }, "\(summary)")  // one seed, counted once
        #expect(!summary.contains("1000.0"))
        let errors = try String(contentsOf: folder.appendingPathComponent("grid/errors.csv"), encoding: .utf8)
        let keys = errors.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(5).joined(separator: ",") }
        #expect(Set(keys).count == keys.count)
    }
}

/// `rnnode` under a file-size limit (`ulimit -f`, 1024-byte blocks in bash; SIGXFSZ ignored, so an oversized write
/// is cut short and the next one fails with EFBIG, as on a disk that fills up).
private func runLimited(_ arguments: [String], kilobytes: Int, in folder: URL) throws -> CommandResult {
    let script = "trap '' XFSZ; ulimit -f \(kilobytes); exec \"$0\" \"$@\""
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script, RNNodeBinary.url.path] + arguments
    process.environment = RNNodeBinary.environment
    process.currentDirectoryURL = folder
    let capture = try RNNodeBinary.temporaryFolder()
    let out = capture.appendingPathComponent("stdout"), err = capture.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                         stderr: try String(contentsOf: err, encoding: .utf8))
}

@Suite struct WriteFailureCLITests {
    @Test func aKernelShortWriteOfErrorsCSVIsRolledBackAndReportedWithItsErrno() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let arguments = ["solve", "harmonic-oscillator", "--model", "linear", "--out", "out"]
        let first = try RNNodeBinary.run(arguments, in: folder)
        try #require(first.status == 0, "\(first.stderr)")
        // errors.csv 1 KiB short of the limit: the next batch (a few KiB) crosses it half-way.
        let limit = 1024 * 1024
        let errors = folder.appendingPathComponent("out/errors.csv")
        var text = "experiment,problem,model,seed,metric,value,unit\n"
        let padding = "solve,padding,linear,9,vpt,1.0,time\n"
        text += String(repeating: padding, count: (limit - 1024 - text.utf8.count) / padding.utf8.count)
        try Data(text.utf8).write(to: errors)

        let result = try runLimited(arguments, kilobytes: limit / 1024, in: folder)
        #expect(result.status != 0)
        let reason = String(cString: strerror(EFBIG))
        #expect(result.stderr.contains("cannot write \(errors.path): \(reason) (after "), "\(result.stderr)")
        #expect(result.stderr.contains("the partial rows were removed"), "\(result.stderr)")
        #expect(try String(contentsOf: errors, encoding: .utf8) == text)  // not one byte of the failed batch stays
    }

    @Test func aCellKilledByASignalIsReportedWithItsLastStderrLines() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        // 64 KiB: the reference data of a quick cell does not fit. Cells start with default signal dispositions,
        // so the oversized write kills the cell with SIGXFSZ: a death by signal, like the trap of a failed write.
        let result = try runLimited(["compare", "--problems", "harmonic-oscillator", "--models", "linear", "--matrices", "none",
                                     "--quick", "--out", "grid"], kilobytes: 64, in: folder)
        #expect(result.status != 0)
        let expected = "FAILED: killed by signal \(SIGXFSZ) (\(String(cString: strsignal(SIGXFSZ)))); last lines of stderr: "
            + "reference data: integrating"
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        let outcome = try String(contentsOf: folder.appendingPathComponent("grid/cells/solve-harmonic-oscillator-linear-s1.json"), encoding: .utf8)
        #expect(outcome.contains("\"failed\"") && outcome.contains("reference data: integrating"), "\(outcome)")
    }
}

/// `rnnode` started in the background, its stdout and stderr in files.
private final class Background {
    let process = Process()
    let output: URL
    var pid: Int32 { process.processIdentifier }

    init(_ arguments: [String], in folder: URL) throws {
        output = try RNNodeBinary.temporaryFolder()
        process.executableURL = RNNodeBinary.url
        process.arguments = arguments
        process.environment = RNNodeBinary.environment
        process.currentDirectoryURL = folder
        _ = FileManager.default.createFile(atPath: output.appendingPathComponent("stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: output.appendingPathComponent("stderr").path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: output.appendingPathComponent("stderr"))
        try process.run()
    }

    /// Waits for the exit; the status, or 128 + the signal that killed it.
    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    var stderr: String { (try? String(contentsOf: output.appendingPathComponent("stderr"), encoding: .utf8)) ?? "" }
}

/// Polls `condition` every 20 ms for up to `seconds`.
private func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Live processes working in `folder` (their current directory, or an argument naming it): the cells of a grid
/// under it and the reapers that guard them. Zombies (exited, not yet collected by their parent) are not running.
private func cellProcesses(of folder: URL, excluding parent: Int32? = nil) -> [String] {
    let path = folder.resolvingSymlinksInPath().path
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> String? in
        guard let pid = Int32(entry), pid != getpid(), pid != parent else { return nil }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] != "Z" else { return nil }
        let commandLine = ((try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data())
            .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let directory = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
        guard directory == path || commandLine.contains(where: { $0.hasPrefix(path) }) else { return nil }
        return "\(pid) " + commandLine.joined(separator: " ")
    }
}
