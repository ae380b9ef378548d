// Outputs that fail (a full device, a closed pipe, a path through a file) end with a message naming the target and
// errno and a non-zero exit, never a signal; a long trajectory is streamed to its file in constant memory.
import Foundation
import Testing

@Suite struct HostileOutputTests {
    @Test func referenceToAFullStdoutFailsCleanly() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz"], standardOutput: "/dev/full")
        #expect(!result.signalled, "killed by signal \(result.status)")
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write stdout: No space left on device"), "\(result.stderr)")
    }

    @Test func referenceToAFullOutFileFailsCleanly() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--out", "/dev/full"])
        #expect(!result.signalled, "killed by signal \(result.status)")
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write /dev/full: No space left on device"), "\(result.stderr)")
    }

    @Test func aFullStderrExitsNonZeroWithoutASignal() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--t-end", "1", "--step", "0.1"], standardError: "/dev/full")
        #expect(!result.signalled, "killed by signal \(result.status)")
        #expect(result.status == 1)
        // The CSV itself was complete.
        #expect(result.stdout.split(separator: "\n").count == 1 + 11)

        let both = try RNNodeBinary.run(["reference", "lorenz"], standardOutput: "/dev/full", standardError: "/dev/full")
        #expect(!both.signalled, "killed by signal \(both.status)")
        #expect(both.status == 1)
    }

    @Test func aFullStdoutForOtherCommandsFailsCleanly() throws {
        for arguments in [["problems"], ["reference", "--help"]] {
            let result = try RNNodeBinary.run(arguments, standardOutput: "/dev/full")
            #expect(!result.signalled, "\(arguments): killed by signal \(result.status)")
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("cannot write stdout: No space left on device"), "\(arguments): \(result.stderr)")
        }
    }

    /// A training run's progress and results to full devices: status 1, never a trap.
    @Test func solveToFullStreamsFailsCleanly() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["solve", "exponential-decay", "--model", "lstm", "--epochs", "1", "--quick", "--out", "out"]
        let noStderr = try RNNodeBinary.run(arguments, in: folder, standardError: "/dev/full")
        #expect(!noStderr.signalled, "killed by signal \(noStderr.status)")
        #expect(noStderr.status == 1)
        let noStdout = try RNNodeBinary.run(arguments, in: folder, standardOutput: "/dev/full")
        #expect(!noStdout.signalled, "killed by signal \(noStdout.status)")
        #expect(noStdout.status == 1)
        #expect(noStdout.stderr.contains("cannot write stdout: No space left on device"), "\(noStdout.stderr)")
    }

    /// The reader goes away before the trajectory (larger than a pipe's buffer) is written: status 141, as a shell
    /// reports a SIGPIPE death, but no signal and no message.
    @Test func aClosedPipeEndsQuietlyWith141() throws {
        let process = Process()
        process.executableURL = RNNodeBinary.url
        process.arguments = ["reference", "lorenz"]
        process.environment = RNNodeBinary.environment
        let pipe = Pipe()
        process.standardOutput = pipe
        let errors = try RNNodeBinary.temporaryFolder().appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let errorHandle = try FileHandle(forWritingTo: errors)
        process.standardError = errorHandle
        try process.run()
        try pipe.fileHandleForWriting.close()
        // Take the first block, then close the read end while rnnode still has rows to write.
        _ = pipe.fileHandleForReading.readData(ofLength: 1)
        try pipe.fileHandleForReading.close()
        process.waitUntilExit()
        try errorHandle.close()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 141)
        #expect(try String(contentsOf: errors, encoding: .utf8).isEmpty)
    }

    @Test func pathErrorsAreInWords() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("file")
        try "not a folder".write(to: file, atomically: true, encoding: .utf8)

        // The reference CSV under a regular file; into a folder.
        let underFile = try RNNodeBinary.run(["reference", "lorenz", "--out", file.path + "/x.csv"], in: folder)
        #expect(underFile.status == 1 && !underFile.signalled)
        #expect(underFile.stderr.contains("cannot write \(file.path)/x.csv: Not a directory"), "\(underFile.stderr)")
        let intoFolder = try RNNodeBinary.run(["reference", "lorenz", "--out", folder.path], in: folder)
        #expect(intoFolder.status == 1 && !intoFolder.signalled)
        #expect(intoFolder.stderr.contains("cannot write \(folder.path): Is a directory"), "\(intoFolder.stderr)")

        // Foundation's own file errors (the eigen output folder under a regular file) in words, not NSError dumps.
        let eigen = try RNNodeBinary.run(["eigen", "pairing", "--method", "power", "--out", file.path + "/sub"], in: folder)
        #expect(eigen.status == 1 && !eigen.signalled)
        #expect(eigen.stderr.contains("cannot create directory \(file.path): a file of that name is in the way"), "\(eigen.stderr)")
        #expect(!eigen.stderr.contains("NSCocoaErrorDomain") && !eigen.stderr.contains("Code="), "\(eigen.stderr)")
        // Nothing but the file is left: no temporary files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["file"])
    }

    /// Ctrl-C while a long trajectory streams to --out: status 130 (no signal death), a message, and neither the
    /// target nor the temporary file left behind.
    @Test func anInterruptedStreamLeavesNoFiles() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = RNNodeBinary.url
        process.arguments = ["reference", "exponential-decay", "--step", "2e-6", "--out", "long.csv"]
        process.environment = RNNodeBinary.environment
        process.currentDirectoryURL = folder
        let errors = try RNNodeBinary.temporaryFolder().appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let errorHandle = try FileHandle(forWritingTo: errors)
        process.standardError = errorHandle
        try process.run()
        // The temporary file appears once the handler is about to be installed; give it a moment more.
        var waited = 0
        while try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty && waited < 3000 && process.isRunning {
            usleep(10_000); waited += 10
        }
        usleep(200_000)
        process.interrupt()
        process.waitUntilExit()
        try errorHandle.close()
        let message = try String(contentsOf: errors, encoding: .utf8)
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted at t = ") && message.contains("nothing was written to long.csv"), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// Two million rows go to the file as they are produced: every row is there, and the peak memory of the run
    /// grows by far less than the trajectory would take held whole (2·10⁶ rows × (16 bytes of doubles + ~30 of CSV)).
    @Test func aLongTrajectoryIsStreamedInConstantMemory() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let small = try PeakMemoryRun.run(["reference", "exponential-decay", "--step", "0.5", "--out", folder.appendingPathComponent("small.csv").path])
        let long = folder.appendingPathComponent("long.csv")
        let large = try PeakMemoryRun.run(["reference", "exponential-decay", "--step", "5e-6", "--out", long.path])
        #expect(small.status == 0 && large.status == 0)
        // Rows: the header, then t = 0, 5e-6, …, 10.
        let data = try Data(contentsOf: long)
        let rows = data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        #expect(rows == 1 + 2_000_001)
        #expect(data.starts(with: Array("t,y\n0.0,1.0\n".utf8)))
        let last = String(decoding: data.suffix(64), as: UTF8.self).split(separator: "\n").last
        #expect(last?.hasPrefix("10.0,") == true, "\(last ?? "")")
        let held = 2_000_001 * 16 / 1024
        #expect(large.peakKilobytes - small.peakKilobytes < held / 2,
                "peak RSS \(large.peakKilobytes) KiB for 2·10⁶ rows against \(small.peakKilobytes) KiB for 21 rows")
    }
}

/// Runs `rnnode` through posix_spawn and wait4 to read the child's peak resident set (Process does not give it).
enum PeakMemoryRun {
    static func run(_ arguments: [String]) throws -> (status: Int32, peakKilobytes: Int) {
        let environment = RNNodeBinary.environment
        let argv = ([RNNodeBinary.url.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, RNNodeBinary.url.path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand: low 7 bits 0 for an exit, status in the next byte.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : -(status & 0x7f), usage.ru_maxrss)
    }
}
