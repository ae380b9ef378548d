// `--precision`: bench train reports Float32 against the sgemm peak; solve refuses single precision for the
// models that have no Float32 path.
import Foundation
import Testing

@Suite struct PrecisionCLITests {
    @Test func benchTrainInSinglePrecisionUsesTheSgemmPeak() throws {
        let result = try RNNodeBinary.run(["bench", "train", "--cell", "gru", "--hidden", "8", "--seq", "4", "--batch", "4",
                                           "--threads", "1", "--iterations", "2", "--peak-size", "64", "--precision", "single"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Float32") && result.stdout.contains("of sgemm peak"), "\(result.stdout)")
    }

    @Test(arguments: [
        (["bench", "train", "--precision", "half"], "--precision"),
        (["solve", "lorenz", "--model", "esn", "--precision", "single", "--out", "out"], "--precision single"),
        (["solve", "lorenz", "--model", "linear", "--precision", "single", "--out", "out"], "--precision single"),
        (["solve", "lorenz", "--model", "ngrc", "--precision", "single", "--out", "out"], "--precision single"),
    ])
    func refusedPrecisions(arguments: [String], fragment: String) throws {
        let result = try RNNodeBinary.run(arguments)
        #expect(result.status == 64 && !result.signalled, "\(arguments): status \(result.status)")
        #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
    }
}
