// Child processes: exit statuses, captured output, time limits and cancellation that kill the whole group.
import Foundation
import Testing
import Support

@Test func exitStatusAndOutputAreReported() throws {
    let result = try ChildProcess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
    #expect(result.termination == .exited(3))
    #expect(result.standardOutput == "out\n" && result.standardError == "err\n")
    let killed = try ChildProcess.run("sh", ["-c", "kill -TERM $$"])
    #expect(killed.termination == .signaled(SIGTERM))
}

@Test func aTimeLimitKillsTheWholeGroup() throws {
    // The grandchild writes its pid, then both sleep far past the limit.
    let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-child-\(getpid()).pid").path
    defer { unlink(pidFile) }
    let start = Date()
    let result = try ChildProcess.run("sh", ["-c", "sleep 30 & echo $! > \(pidFile); wait"], timeout: 0.5)
    #expect(result.termination == .timedOut(seconds: 0.5))
    #expect(Date().timeIntervalSince(start) < 10)
    let grandchild = pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
    usleep(100_000)
    #expect(!isRunning(grandchild), "the grandchild \(grandchild) outlived the time limit")
}

/// True while `pid` exists and is not a zombie (an orphan killed here waits for init to reap it).
func isRunning(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

@Test func cancellationSendsTerminateToTheProgram() throws {
    let start = Date()
    let result = try ChildProcess.run("sh", ["-c", "trap 'echo saved; exit 7' TERM; while :; do sleep 0.05; done"],
                                      cancelled: { Date().timeIntervalSince(start) > 0.3 })
    #expect(result.termination == .cancelled)
    #expect(result.standardOutput == "saved\n")
}

@Test func aMissingProgramIsAnError() {
    #expect(throws: ChildProcess.SpawnError.self) { try ChildProcess.run("rnnode-no-such-program", []) }
}
