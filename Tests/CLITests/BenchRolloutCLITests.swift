// `rnnode bench rollout`: a small run prints the rates of both paths and GSL's, with batched and one-at-a-time
// rollouts equal; bad options are refused with the option named; --export writes the ESN for the peer script.
import Foundation
import Testing

@Suite struct BenchRolloutCLITests {
    @Test func smallRunPrintsTheRatesAndEqualRollouts() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "esn", "--problem", "harmonic-oscillator", "--test-trajectories", "3",
                                           "--train-trajectories", "2", "--reservoir-size", "60", "--warm-up", "10", "--repetitions", "1",
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

    @Test(arguments: [
        (["bench", "rollout", "--model", "transformer"], ["unknown model 'transformer'", "esn, lstm, gru, rnn, linear"]),
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

    @Test func aWarmUpLongerThanTheDataIsAnError() throws {
        let result = try RNNodeBinary.run(["bench", "rollout", "--model", "linear", "--problem", "harmonic-oscillator",
                                           "--warm-up", "100000", "--test-trajectories", "1", "--train-trajectories", "1"])
        #expect(!result.signalled && result.status != 0)
        #expect(result.stderr.contains("--warm-up 100000"), "\(result.stderr)")
    }
}
