// `rnnode problems --settings P`: what each model takes on a problem at its defaults, the one reading of a problem
// file's [learning] that the peer sweep (bench/peers) uses.
import Foundation
import Testing

@Suite struct ProblemSettingsCLITests {
    /// A decaying scalar problem with `table` appended.
    func problemFile(_ table: String) throws -> URL {
        let file = try RNNodeBinary.temporaryFolder().appendingPathComponent("mine.toml")
        try ("""
            name = "mine"
            title = "Exponential decay with settings of its own"
            variables = ["x"]
            [parameters]
            k = 1.0
            [equations]
            x = "-k * x"
            [initial]
            x = 1.0
            [sampling]
            x = [0.5, 1.5]
            [time]
            start = 0.0
            end = 4.0
            step = 0.01

            """ + table).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func theFilesLearningTablesOverTheDefaults() throws {
        let file = try problemFile("[learning]\ntrain_trajectories = 6\nvalidation_trajectories = 3\n[learning.gru]\nwindow = 24\nnoise = 0.01\nrollout_steps = 8\n[learning.esn]\nnoise = 0.03\ndenoising = true\n[learning.ngrc]\nridge = 1e-5\ndegree = 3\n")
        let result = try RNNodeBinary.run(["problems", "--settings", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let models = try #require(json["models"] as? [String: [String: Any]])
        #expect(json["problem"] as? String == "mine")
        #expect(models["gru"]?["window"] as? Int == 24 && models["gru"]?["noise"] as? Double == 0.01)
        #expect(models["gru"]?["hidden"] as? Int == 32 && models["gru"]?["train_trajectories"] as? Int == 6)
        #expect(models["esn"]?["validation_trajectories"] as? Int == 3 && models["lstm"]?["validation_trajectories"] as? Int == 3)
        #expect(models["gru"]?["rollout_steps"] as? Int == 8 && models["lstm"]?["rollout_steps"] as? Int == 0 && models["esn"]?["rollout_steps"] == nil)
        // Another network keeps rnnode's defaults; a ridge model's denoising comes through; ngrc has no window.
        #expect(models["lstm"]?["window"] as? Int == 16 && models["lstm"]?["noise"] as? Double == 0)
        #expect(models["esn"]?["denoising"] as? Bool == true && models["esn"]?["hidden"] == nil)
        #expect(models["ngrc"] != nil && models["ngrc"]?["window"] == nil)
        // A ridge fit's λ and ngrc's degree, the file's or the model's own; a network has neither.
        #expect(models["ngrc"]?["ridge"] as? Double == 1e-5 && models["ngrc"]?["degree"] as? Int == 3)
        #expect(models["linear"]?["ridge"] as? Double == 1e-8 && models["esn"]?["degree"] == nil)
        #expect(models["lstm"]?["ridge"] == nil && models["lstm"]?["degree"] == nil)
    }

    @Test func aBadSettingNamesTheFileAndLine() throws {
        let file = try problemFile("[learning.rnn]\nnoise = 0.01\ndenoising = true\n")
        let result = try RNNodeBinary.run(["problems", "--settings", file.path])
        #expect(result.status != 0 && result.stdout.isEmpty)
        #expect(result.stderr.contains("mine.toml:") && result.stderr.contains("learning.rnn.denoising"), "\(result.stderr)")
    }

    @Test func anUnknownNameListsTheKnownOnes() throws {
        let result = try RNNodeBinary.run(["problems", "--settings", "kepplr"])
        #expect(result.status == usageError)
        #expect(result.stderr.contains("unknown problem 'kepplr'") && result.stderr.contains("kepler"), "\(result.stderr)")
    }
}
