// `rnnode bench rollout`: a small run prints the rates of both paths and GSL's, with batched and one-at-a-time
// rollouts equal; every registered model (ngrc included) is made as `solve` makes it, and with --out the model that
// `solve` trained is the one timed; bad options are refused with the option named; --export writes the ESN.
import Foundation
import Testing

@Suite struct BenchRolloutCLITests {
    @Test func smallRunPrintsTheRatesAndEqualRollouts() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "esn", "--problem", "harmonic-oscillator", "--test-trajectories", "3",
                                           "--train-trajectories", "2", "--reservoir-size", "60", "--warm-up", "100", "--repetitions", "1",
                                           "--threads", "2", "--export", "esn.json"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        for fragment in ["rnnode bench rollout: esn on harmonic-oscillator", "batch 3 trajectories", "threads 2",
                         "one at a time:", "steps/s per trajectory", "steps/s for the batch", "GSL:", "output steps/s",
                         "largest |difference| 0;", "wrote esn.json"] {
            #expect(result.stdout.contains(fragment), "missing '\(fragment)' in:\n\(result.stdout)")
        }
        let export = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("esn.json"))) as? [String: Any]
        let arrays = try #require(export?["arrays"] as? [String: [Double]])
        #expect(arrays["reservoir.W.row_start"]?.count == 61)
        #expect((export?["test"] as? [[Double]])?.count == 3)
    }

    @Test func ngrcIsFittedAsSolveFitsItAndTimed() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "ngrc", "--problem", "harmonic-oscillator", "--test-trajectories", "2",
                                           "--train-trajectories", "1", "--warm-up", "10", "--repetitions", "1", "--threads", "1"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        for fragment in ["rnnode bench rollout: ngrc on harmonic-oscillator", "batch 2 trajectories", "model:         trained now",
                         "one at a time:", "steps/s for the batch", "GSL:", "largest |difference|"] {
            #expect(result.stdout.contains(fragment), "missing '\(fragment)' in:\n\(result.stdout)")
        }
        // Nothing is kept without --out.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func withOutTheModelSolveTrainedIsTheOneTimed() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = ["--train-trajectories", "2", "--test-trajectories", "2", "--hidden", "8", "--epochs", "2", "--seed", "3", "--out", "cache"]
        let solve = try RNNodeBinary.run(["solve", "harmonic-oscillator", "--model", "gru"] + options, in: folder)
        try #require(solve.status == 0, "\(solve.stderr)")
        let models = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("cache/models").path)
            .filter { $0.hasSuffix(".model") }
        try #require(models.count == 1, "\(models)")
        let bench = try RNNodeBinary.run(["bench", "rollout", "--model", "gru", "--problem", "harmonic-oscillator", "--warm-up", "100",
                                          "--repetitions", "1", "--threads", "1"] + options, in: folder)
        #expect(bench.status == 0, "\(bench.stderr)")
        let stem = String(models[0].dropLast(".model".count))
        #expect(bench.stdout.contains("model:         loaded from ") && bench.stdout.contains(stem), "\(bench.stdout)")
        #expect(bench.stdout.contains("rnnode bench rollout: gru on harmonic-oscillator (d = 2, "), "\(bench.stdout)")
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("cache/models").path)
            .filter { $0.hasSuffix(".model") }
        #expect(after == models)
    }

    @Test(arguments: [
        (["bench", "rollout", "--model", "transformer"], ["unknown model 'transformer'", "rnn, lstm, gru, esn, ngrc, linear"]),
        (["bench", "rollout", "--model", "lstm", "--budget", "0"], ["--budget must be positive and finite (got 0.0)"]),
        (["bench", "rollout", "--model", "lstm", "--epochs", "0"], ["--epochs must be at least 1 (got 0)"]),
        (["bench", "rollout", "--threads", "0"], ["--threads must be at least 1"]),
        (["bench", "rollout", "--reservoir-size", "100000"], ["--reservoir-size must be at most 20000"]),
        (["bench", "rollout", "--model", "lstm", "--export", "x.json"], ["--export writes an ESN only"]),
    ])
    func badOptionsAreRefused(arguments: [String], fragments: [String]) throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(arguments, in: folder)
        #expect(!result.signalled && result.status == usageError, "\(arguments): status \(result.status), \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)") }
        #expect(result.stdout.isEmpty)
    }

    @Test func aWarmUpShorterThanTheModelsWindowIsAnError() throws {
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "esn", "--problem", "harmonic-oscillator", "--warm-up", "10",
                                           "--test-trajectories", "1", "--train-trajectories", "1", "--reservoir-size", "20"])
        #expect(!result.signalled && result.status == usageError)
        #expect(result.stderr.contains("--warm-up 10 is shorter than the window 100 of esn"), "\(result.stderr)")
    }

    @Test func aWarmUpLongerThanTheDataIsAnError() throws {
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "linear", "--problem", "harmonic-oscillator",
                                           "--warm-up", "100000", "--test-trajectories", "1", "--train-trajectories", "1"])
        #expect(!result.signalled && result.status != 0)
        #expect(result.stderr.contains("--warm-up 100000"), "\(result.stderr)")
    }
}
