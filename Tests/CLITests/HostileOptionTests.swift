// Hostile option values and problem-file grids: each is refused before any work with a message naming the option
// (or file and key) and the limit, a non-zero exit and no signal; nothing is written to stdout.
import Foundation
import Testing

@Suite struct HostileOptionTests {
    /// Arguments, then fragments the message must contain (the option and its limit).
    @Test(arguments: [
        // Output grids of `reference`: too many rows, a step below the resolution of doubles, too many fixed steps.
        (["reference", "lorenz", "--step", "1e-300"], ["--step 1e-300", "below the resolution of doubles"]),
        (["reference", "lorenz", "--t-end", "1e12"], ["--t-end 1000000000000.0", "more than the limit of 10000000"]),
        (["reference", "lorenz", "--t-end", "1e7", "--step", "0.5"], ["--t-end 10000000.0, --step 0.5", "limit of 10000000"]),
        (["reference", "lorenz", "--fixed-step", "1e-12", "--step", "0.01"], ["--fixed-step 1e-12", "limit of 10000000 steps"]),
        (["reference", "lorenz", "--out", ""], ["--out is empty"]),
        // Integer sizes of `solve`.
        (["solve", "lorenz", "--epochs", "9223372036854775807"], ["--epochs must be at most 1000000"]),
        (["solve", "lorenz", "--hidden", "100000"], ["--hidden must be at most 4096"]),
        (["solve", "lorenz", "--batch-size", "9223372036854775807"], ["--batch-size must be at most 65536"]),
        (["solve", "lorenz", "--window", "9223372036854775807"], ["--window must be at most 100000"]),
        (["solve", "lorenz", "--sequence-steps", "0"], ["--sequence-steps must be at least 1"]),
        (["solve", "lorenz", "--train-trajectories", "9223372036854775807"], ["--train-trajectories must be at most 100000"]),
        (["solve", "lorenz", "--layers", "1000"], ["--layers must be at most 16"]),
        (["solve", "lorenz", "--model", "esn", "--reservoir-size", "100000"], ["--reservoir-size must be at most 20000"]),
        // 20000 units fit the option but not the memory limit: the ridge normal equations are (N + 1 + d)² per thread.
        (["solve", "lorenz", "--model", "esn", "--reservoir-size", "20000", "--threads", "1"], ["limit of 4 GiB", "ridge normal equations"]),
        (["solve", "lorenz", "--learning-rate", "inf"], ["--learning-rate must be positive and finite"]),
        // Each size allowed, their product not: the message names the part and the budget.
        (["solve", "lorenz", "--hidden", "4096", "--layers", "16", "--batch-size", "65536"], ["limit of 4 GiB", "--batch-size"]),
        (["solve", "lorenz", "--model", "linear", "--window", "5000"], ["limit of 4 GiB", "--window"]),
        // `eigen`: empty lists, budgets, sizes.
        (["eigen", "pairing", "--method", ","], ["--method ','", "empty item"]),
        (["eigen", "pairing", "--method", "yi, ,power"], ["--method 'yi, ,power'", "empty item"]),
        (["eigen", "pairing", "--max-products", "9223372036854775807"], ["--max-products must be at most 1000000000"]),
        (["eigen", "pairing", "--held-out", "9223372036854775807"], ["--held-out must be at most 100000"]),
        (["eigen", "pairing", "--lstm-hidden", "100000"], ["--lstm-hidden must be at most 4096"]),
        (["eigen", "pairing", "--which", "1000"], ["--which 1000", "6"]),
        // `compare`: seeds, jobs and its list options.
        (["compare", "--seeds", "9223372036854775807"], ["--seeds must be at most 1000"]),
        (["compare", "--jobs", "100000"], ["--jobs must be at most 256"]),
        (["compare", "--models", "lstm,"], ["--models 'lstm,'", "empty item"]),
        (["compare", "--problems", " "], ["--problems is empty"]),
        // `bench train`.
        (["bench", "train", "--hidden", "100000"], ["--hidden must be at most 4096"]),
        (["bench", "train", "--batch", "65536", "--seq", "100000"], ["limit of 4 GiB", "--seq"]),
        (["bench", "train", "--peak-size", "100000"], ["--peak-size must be at most 8192"]),
        // Thread counts.
        (["bench", "train", "--threads", "1,x"], ["--threads: 'x' is not a whole number"]),
        (["bench", "train", "--threads", "1,300"], ["--threads must be at most 256"]),
        (["solve", "lorenz", "--threads", "0"], ["--threads must be at least 1"]),
        (["compare", "--threads", "1000"], ["--threads must be at most 256"]),
    ])
    func refusedWithTheOptionAndItsLimit(arguments: [String], fragments: [String]) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(arguments + (arguments.first == "bench" || arguments.contains("--out") ? [] : ["--out", "out"]),
                                          in: folder)
        #expect(!result.signalled, "\(arguments): killed by signal \(result.status)")
        #expect(result.status == usageError, "\(arguments): status \(result.status), \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)") }
        #expect(result.stdout.isEmpty)
        // Refused before any work: nothing was written.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// A problem file whose own grid is too fine or too long: an error naming the file and the step, no output.
    @Test(arguments: [
        ("start = 0.0\nend = 1.0\nstep = 1e-300", "step"),
        ("start = 1e20\nend = 2e20\nstep = 1.0", "step"),
        ("start = 0.0\nend = 25.0\nstep = 1e-9", "step"),
    ])
    func problemFileGridIsRefused(time: String, fragment: String) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("grid.toml")
        try """
            name = "grid"
            title = "A decay on a hostile output grid"
            variables = ["y"]
            [equations]
            y = "-y"
            [initial]
            y = 1.0
            [time]
            \(time)
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("grid.csv")
        let result = try RNNodeBinary.run(["reference", file.path, "--out", out.path], in: folder)
        #expect(!result.signalled, "killed by signal \(result.status)")
        #expect(result.status != 0)
        #expect(result.stderr.contains("grid.toml"), "\(result.stderr)")
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
