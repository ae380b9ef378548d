// The `[learning]` table: the settings a problem file declares for its learned models, parsed, kept by `--set`,
// and each mistake reported with the file, line and key.
import Testing
@testable import Problems

/// `validFile` with `table` inserted before its `[time]` table.
private func withLearning(_ table: String) -> String { edited("[time]", table + "\n\n[time]") }

/// The 1-based line of the first line of `text` that starts with `prefix`.
private func line(of prefix: String, in text: String) -> Int {
    (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(prefix) } ?? -1) + 1
}

@Suite struct LearningSettingsTests {
    @Test func theTableIsReadAndKeptByParameterChanges() throws {
        #expect(try Catalog.parse(validFile, file: "problems/test.toml").learning.isEmpty)
        let text = withLearning("""
            [learning]
            train_trajectories = 16

            [learning.esn]
            noise = 3e-2
            denoising = true

            [learning.ngrc]
            noise = 0
            """)
        let problem = try Catalog.parse(text, file: "problems/test.toml")
        let expected = LearningSettings(trainTrajectories: 16, models: [
            "esn": ModelLearningSettings(noise: 0.03, denoising: true), "ngrc": ModelLearningSettings(noise: 0)])
        #expect(problem.learning == expected)
        #expect(try problem.setting("omega", to: 3).learning == expected)
        // A model's table alone, without the shared key.
        let alone = try Catalog.parse(withLearning("[learning.lstm]\nnoise = 1e-3\nrollout_steps = 16"), file: "problems/test.toml")
        #expect(alone.learning == LearningSettings(models: ["lstm": ModelLearningSettings(noise: 1e-3, rolloutSteps: 16)]))
        let shaped = try Catalog.parse(withLearning("[learning.gru]\nhidden = 16\nwindow = 24"), file: "problems/test.toml")
        #expect(shaped.learning == LearningSettings(models: ["gru": ModelLearningSettings(hidden: 16, window: 24)]))
        let readout = try Catalog.parse(withLearning("[learning.ngrc]\nridge = 1e-5\ndegree = 3"), file: "problems/test.toml")
        #expect(readout.learning == LearningSettings(models: ["ngrc": ModelLearningSettings(ridge: 1e-5, degree: 3)]))
        let validated = try Catalog.parse(withLearning("[learning]\nvalidation_trajectories = 4"), file: "problems/test.toml")
        #expect(validated.learning == LearningSettings(validationTrajectories: 4) && !validated.learning.isEmpty)
    }

    @Test(arguments: [
        ("[learning]\ntrain_trajectories = 0", "train_trajectories", "expected a whole number of trajectories from 1 to 100000, got the integer 0"),
        ("[learning]\ntrain_trajectories = 2.5", "train_trajectories", "got the number 2.5"),
        ("[learning]\ntrain_trajectories = 1000000", "train_trajectories", "from 1 to 100000"),
        ("[learning]\nepochs = 3", "epochs", "unknown key 'epochs'"),
        ("[learning]\nvalidation_trajectories = -1", "validation_trajectories", "expected a whole number of trajectories from 0 to 100000, got the integer -1"),
        ("[learning]\nvalidation_trajectories = \"4\"", "validation_trajectories", "got a string"),
        ("[learning.esn]\nnois = 0.1", "nois", "did you mean 'noise'?"),
        ("[learning.esn]\nnoise = -0.1", "noise", "must be a finite number ≥ 0, got -0.1"),
        ("[learning.esn]\nnoise = nan", "noise", "must be a finite number ≥ 0, got nan"),
        ("[learning.esn]\nnoise = \"big\"", "noise", "expected a number (σ in z-units), got a string"),
        ("[learning.esn]\ndenoising = true", "denoising", "denoising needs input noise"),
        ("[learning.esn]\nnoise = 0\ndenoising = true", "denoising", "denoising needs input noise"),
        ("[learning.esn]\nnoise = 0.1\ndenoising = 1", "denoising", "expected true or false, got the integer 1"),
        ("[learning.lstm]\nrollout_steps = -1", "rollout_steps", "expected a whole number of steps from 0 to 1000, got the integer -1"),
        ("[learning.lstm]\nrollout_steps = 8.0", "rollout_steps", "got the number 8.0"),
        ("[learning.gru]\nhidden = 0", "hidden", "expected a whole number of hidden units from 1 to 4096, got the integer 0"),
        ("[learning.gru]\nhidden = 5000", "hidden", "from 1 to 4096"),
        ("[learning.gru]\nhidden = \"16\"", "hidden", "got a string"),
        ("[learning.gru]\nwindow = 0", "window", "expected a whole number of states from 1 to 100000, got the integer 0"),
        ("[learning.gru]\nhiden = 16", "hiden", "did you mean 'hidden'?"),
        ("[learning.ngrc]\nridge = -1e-5", "ridge", "must be a finite number ≥ 0, got -1e-05"),
        ("[learning.ngrc]\nridge = inf", "ridge", "must be a finite number ≥ 0, got inf"),
        ("[learning.linear]\nridge = \"small\"", "ridge", "expected a number (the readout's ridge λ), got a string"),
        ("[learning.ngrc]\ndegree = 0", "degree", "expected a whole number of degrees from 1 to 8, got the integer 0"),
        ("[learning.ngrc]\ndegree = 9", "degree", "from 1 to 8"),
        ("[learning.ngrc]\ndegre = 3", "degre", "did you mean 'degree'?"),
    ])
    func mistakesNameTheFileLineAndKey(table: String, key: String, message: String) {
        let text = withLearning(table)
        let error = problemError(text)
        #expect(error?.contains("problems/test.toml:\(line(of: key, in: text))") == true, "\(error ?? "parsed")")
        #expect(error?.contains(message) == true, "\(error ?? "parsed")")
    }

    @Test func theTableMustBeATable() {
        let error = problemError(edited("variables = [\"x\", \"y\"]", "variables = [\"x\", \"y\"]\nlearning = 3"))
        #expect(error?.contains("expected a table, got the integer 3") == true, "\(error ?? "parsed")")
    }
}
