// A real Ctrl-C: `rnnode solve` spawned in its own process group with signals unblocked and at their defaults,
// SIGINT sent to the group once its training checkpoint exists; exit 130, the checkpoint kept, the same command
// resumes, and the results equal those of an uninterrupted run.
import Foundation
import Testing

/// A child started with posix_spawn: its own process group, an empty signal mask, SIGINT and SIGTERM at their
/// default dispositions (whatever the test runner blocks or ignores), stdout and stderr into files.
private struct SpawnedChild {
    let pid: pid_t
    let stdout: URL
    let stderr: URL

    init(_ executable: URL, _ arguments: [String], environment: [String: String], outputFolder: URL) throws {
        stdout = outputFolder.appendingPathComponent("stdout")
        stderr = outputFolder.appendingPathComponent("stderr")
        var attributes = posix_spawnattr_t(), actions = posix_spawn_file_actions_t()
        posix_spawnattr_init(&attributes); posix_spawn_file_actions_init(&actions)
        defer { posix_spawnattr_destroy(&attributes); posix_spawn_file_actions_destroy(&actions) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT); sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)   // a new group whose id is the child's pid
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        posix_spawn_file_actions_addopen(&actions, 1, stdout.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        guard status == 0 else { throw InterruptTestError("posix_spawn \(executable.path): \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    /// Blocks until the child ends: its exit status, or 128 + the signal that killed it.
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Whether the child has ended (without reaping it).
    var hasExited: Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    func output() -> (stdout: String, stderr: String) {
        ((try? String(contentsOf: stdout, encoding: .utf8)) ?? "", (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }
}

private struct InterruptTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The files of `models/` ending in `suffix`.
private func modelFiles(in out: URL, suffix: String) -> [URL] {
    let models = out.appendingPathComponent("models")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? []
    return names.filter { $0.hasSuffix(suffix) }.map { models.appendingPathComponent($0) }
}

/// errors.csv without the wall-time rows (seconds and speed-ups differ from run to run).
private func accuracyRows(_ out: URL) throws -> [Substring] {
    try String(contentsOf: out.appendingPathComponent("errors.csv"), encoding: .utf8).split(separator: "\n")
        .filter { !$0.contains("seconds") && !$0.contains("speedup") }
}

@Suite(.serialized) struct InterruptCLITests {
    /// Small data and a small GRU with enough epochs (a few milliseconds each, about 2 s in all here) that the run is
    /// still training when the first epoch's checkpoint appears.
    static let arguments = ["solve", "harmonic-oscillator", "--model", "gru", "--quick", "--hidden", "32", "--epochs", "400", "--seed", "3"]

    @Test func sigintSavesTheCheckpointExits130AndTheRerunResumesToTheSameResults() throws {
        let interrupted = try RNNodeBinary.temporaryFolder(), straight = try RNNodeBinary.temporaryFolder()
        let capture = try RNNodeBinary.temporaryFolder()
        defer { for folder in [interrupted, straight, capture] { try? FileManager.default.removeItem(at: folder) } }
        let environment = RNNodeBinary.environment

        // 1. Start the run; once the training checkpoint exists, Ctrl-C the whole group as a terminal would.
        let child = try SpawnedChild(RNNodeBinary.url, Self.arguments + ["--out", interrupted.path], environment: environment,
                                     outputFolder: capture)
        var reaped = false
        defer { if !reaped { kill(-child.pid, SIGKILL); _ = child.wait() } }
        let deadline = Date().addingTimeInterval(300)
        while modelFiles(in: interrupted, suffix: ".training").isEmpty && !child.hasExited && Date() < deadline {
            usleep(20_000)
        }
        try #require(!child.hasExited, "rnnode ended before its first checkpoint: \(child.output().stderr)")
        try #require(!modelFiles(in: interrupted, suffix: ".training").isEmpty, "no checkpoint within 300 s")
        #expect(kill(-child.pid, SIGINT) == 0)
        let status = child.wait()
        reaped = true
        let (_, stderr) = child.output()
        #expect(status == 130, "exit status \(status), stderr: \(stderr)")
        #expect(stderr.contains("interrupted: finishing this batch and saving the checkpoint"), "stderr: \(stderr)")
        #expect(stderr.contains("training interrupted; checkpoint saved at"), "stderr: \(stderr)")
        let checkpoints = modelFiles(in: interrupted, suffix: ".training")
        try #require(checkpoints.count == 1, "checkpoints after the interrupt: \(checkpoints)")
        let size = try FileManager.default.attributesOfItem(atPath: checkpoints[0].path)[.size] as? Int ?? 0
        #expect(size > 0)
        #expect(modelFiles(in: interrupted, suffix: ".model").isEmpty, "no finished model yet")
        #expect(!FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("errors.csv").path))

        // 2. The same command resumes from the checkpoint and finishes.
        let resumed = try RNNodeBinary.run(Self.arguments + ["--out", interrupted.path])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming the interrupted training from \(checkpoints[0].path)"), "stderr: \(resumed.stderr)")
        #expect(modelFiles(in: interrupted, suffix: ".training").isEmpty, "the checkpoint is removed once the model is saved")

        // 3. An uninterrupted run elsewhere gives the same rollouts and accuracy rows, bit for bit (resuming
        // restores weights, optimizer moments, the data order and the epoch exactly; same kernels, same order).
        let uninterrupted = try RNNodeBinary.run(Self.arguments + ["--out", straight.path])
        #expect(uninterrupted.status == 0, "stderr: \(uninterrupted.stderr)")
        let trajectories = try FileManager.default.contentsOfDirectory(atPath: straight.path).filter { $0.hasSuffix("-trajectory.csv") }
        try #require(trajectories.count == 1, "trajectory files: \(trajectories)")
        let trajectory = trajectories[0]
        let a = try Data(contentsOf: interrupted.appendingPathComponent(trajectory))
        let b = try Data(contentsOf: straight.appendingPathComponent(trajectory))
        #expect(!a.isEmpty && a == b, "the resumed run's \(trajectory) differs from the uninterrupted run's")
        let rows = try accuracyRows(interrupted), straightRows = try accuracyRows(straight)
        #expect(rows.count > 5 && rows == straightRows)
    }
}
