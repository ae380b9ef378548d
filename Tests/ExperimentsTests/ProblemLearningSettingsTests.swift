// A problem file's `[learning]` settings reach the solve configuration where the command line leaves them unset,
// never where it sets them; a table for no known model is refused with the file and line.
import Foundation
import Testing
@testable import Experiments
import Problems

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The harmonic oscillator's file with `table` appended.
private func oscillatorText(with table: String) throws -> String {
    try String(contentsOf: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml"), encoding: .utf8) + "\n" + table + "\n"
}

private let declared = """
    [learning]
    train_trajectories = 16

    [learning.esn]
    noise = 3e-2
    denoising = true
    """

@Suite struct ProblemLearningSettingsTests {
    @Test func theFileFillsWhatTheCommandLineLeavesUnset() throws {
        let problem = try Catalog.parse(try oscillatorText(with: declared), file: "mine.toml")
        let esn = try SolveConfiguration(problem: "mine.toml", model: .esn).resolved(for: problem)
        #expect(esn.trainTrajectories == 16 && esn.noise == 0.03 && esn.denoising)
        #expect(SolveConfiguration(problem: "mine.toml", model: .esn).settingsFromFile(filled: esn)
                == ["train_trajectories = 16", "noise = 0.03", "denoising = true"])
        // The reproducing command line says what the file gave, so it means the same if the file changes.
        let line = SolvePipeline.commandLine(esn)
        #expect(line.contains("--train-trajectories 16") && line.contains("--noise 0.03 --denoising"), "\(line)")
        // Another model gets the shared key and none of the esn's table.
        let lstm = try SolveConfiguration(problem: "mine.toml", model: .lstm).resolved(for: problem)
        #expect(lstm.trainTrajectories == 16 && lstm.noise == 0 && !lstm.denoising)
        #expect(!SolvePipeline.commandLine(lstm).contains("--noise"))
        // A problem without the table keeps the shared defaults.
        let plain = try Catalog.parse(try oscillatorText(with: ""), file: "plain.toml")
        let unchanged = try SolveConfiguration(problem: "plain.toml", model: .esn).resolved(for: plain)
        #expect(unchanged.trainTrajectories == SolveDefaults.trainTrajectories && unchanged.noise == 0 && !unchanged.denoising)
    }

    @Test func validationTrajectoriesReachEveryModelAndTheCommandLineWins() throws {
        let problem = try Catalog.parse(try oscillatorText(with: "[learning]\nvalidation_trajectories = 4"), file: "mine.toml")
        for model in [ModelKind.lstm, .esn] {
            let c = try SolveConfiguration(problem: "mine.toml", model: model).resolved(for: problem)
            #expect(c.validationTrajectories == 4 && c.trainTrajectories == SolveDefaults.trainTrajectories)
            #expect(SolveConfiguration(problem: "mine.toml", model: model).settingsFromFile(filled: c) == ["validation_trajectories = 4"])
            #expect(SolvePipeline.commandLine(c).contains("--validation-trajectories 4"), "\(SolvePipeline.commandLine(c))")
        }
        var given = SolveConfiguration(problem: "mine.toml", model: .lstm)
        given.validationTrajectories = 2
        let won = try given.resolved(for: problem)
        #expect(won.validationTrajectories == 2 && given.settingsFromFile(filled: won).isEmpty)
        #expect(try SolveConfiguration(problem: "mine.toml", model: .lstm).quick().resolved(for: problem).validationTrajectories == 1)
        // Without the key, the default, and the command line does not spell it.
        let plain = try SolveConfiguration(problem: "plain.toml", model: .lstm).resolved(for: try Catalog.parse(try oscillatorText(with: ""), file: "plain.toml"))
        #expect(plain.validationTrajectories == SolveDefaults.validationTrajectories && !SolvePipeline.commandLine(plain).contains("--validation-trajectories"))
    }

    @Test func theCommandLineWins() throws {
        let problem = try Catalog.parse(try oscillatorText(with: declared), file: "mine.toml")
        var given = SolveConfiguration(problem: "mine.toml", model: .esn)
        given.trainTrajectories = 2
        #expect(try given.resolved(for: problem).trainTrajectories == 2)
        // --noise replaces the file's noise and its denoising, which belongs to that noise.
        given.noise = 0
        let quiet = try given.resolved(for: problem)
        #expect(quiet.noise == 0 && !quiet.denoising)
        #expect(SolvePipeline.commandLine(quiet).contains("--noise 0.0"), "\(SolvePipeline.commandLine(quiet))")
        try SolvePipeline.validate(quiet, problem: problem)
        // --no-denoising keeps the file's noise.
        var plainNoise = SolveConfiguration(problem: "mine.toml", model: .esn)
        plainNoise.denoising = false
        let kept = try plainNoise.resolved(for: problem)
        #expect(kept.noise == 0.03 && !kept.denoising)
        #expect(SolvePipeline.commandLine(kept).contains("--noise 0.03 --no-denoising"), "\(SolvePipeline.commandLine(kept))")
        // Quick mode chooses its own data size.
        #expect(try SolveConfiguration(problem: "mine.toml", model: .esn).quick().resolved(for: problem).trainTrajectories == 2)
    }

    @Test func closedLoopStepsReachOnlyTheNetworksTrainedByBackpropagation() throws {
        let problem = try Catalog.parse(try oscillatorText(with: "[learning.lstm]\nrollout_steps = 16"), file: "mine.toml")
        let lstm = try SolveConfiguration(problem: "mine.toml", model: .lstm).resolved(for: problem)
        #expect(lstm.rolloutSteps == 16 && SolvePipeline.commandLine(lstm).contains("--rollout-steps 16"))
        #expect(try SolveConfiguration(problem: "mine.toml", model: .gru).resolved(for: problem).rolloutSteps == 0)
        var teacherForced = SolveConfiguration(problem: "mine.toml", model: .lstm)
        teacherForced.rolloutSteps = 0
        let given = try teacherForced.resolved(for: problem)
        #expect(given.rolloutSteps == 0 && SolvePipeline.commandLine(given).contains("--rollout-steps 0"))

        let text = try oscillatorText(with: "[learning.esn]\nrollout_steps = 8")
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("rollout_steps") }! + 1
        do {
            _ = try SolveConfiguration(problem: "mine.toml", model: .lstm).resolved(for: try Catalog.parse(text, file: "mine.toml"))
            Issue.record("took rollout_steps for esn")
        } catch {
            #expect("\(error)".contains("mine.toml:\(line): learning.esn.rollout_steps: rollout_steps applies to the networks trained by backpropagation (rnn, lstm, gru), not to esn"), "\(error)")
        }
    }

    @Test func networkShapesReachTheirModelAndTheCommandLineWins() throws {
        let problem = try Catalog.parse(try oscillatorText(with: "[learning.rnn]\nhidden = 16\nwindow = 24"), file: "mine.toml")
        let rnn = try SolveConfiguration(problem: "mine.toml", model: .rnn).resolved(for: problem)
        #expect(rnn.hidden == 16 && rnn.window == 24)
        #expect(SolveConfiguration(problem: "mine.toml", model: .rnn).settingsFromFile(filled: rnn) == ["hidden = 16", "window = 24"])
        let line = SolvePipeline.commandLine(rnn)
        #expect(line.contains("--hidden 16") && line.contains("--window 24"), "\(line)")
        try SolvePipeline.validate(rnn, problem: problem)
        // Another model keeps its defaults; the options win.
        let lstm = try SolveConfiguration(problem: "mine.toml", model: .lstm).resolved(for: problem)
        #expect(lstm.hidden == ModelKind.lstm.registration.defaultHidden && lstm.window == SolveDefaults.window(for: .lstm))
        var given = SolveConfiguration(problem: "mine.toml", model: .rnn)
        given.hidden = 40; given.window = 8
        let won = try given.resolved(for: problem)
        #expect(won.hidden == 40 && won.window == 8 && given.settingsFromFile(filled: won).isEmpty)
        // The cached model is keyed by the resolved shape.
        #expect(SolvePipeline.modelKey(won, problem: problem) != SolvePipeline.modelKey(rnn, problem: problem))
    }

    @Test func readoutSettingsReachTheirModelAndTheCommandLineWins() throws {
        let problem = try Catalog.parse(try oscillatorText(with: "[learning.ngrc]\nridge = 1e-5\ndegree = 3\n\n[learning.linear]\nridge = 1e-3"),
                                        file: "mine.toml")
        let ngrc = try SolveConfiguration(problem: "mine.toml", model: .ngrc).resolved(for: problem)
        #expect(ngrc.ngrc.ridge == 1e-5 && ngrc.ngrc.degree == 3)
        #expect(SolveConfiguration(problem: "mine.toml", model: .ngrc).settingsFromFile(filled: ngrc) == ["ridge = 1e-05", "degree = 3"])
        let line = SolvePipeline.commandLine(ngrc)
        #expect(line.contains("--degree 3") && line.contains("--ridge 1e-05"), "\(line)")
        let linear = try SolveConfiguration(problem: "mine.toml", model: .linear).resolved(for: problem)
        #expect(linear.linearRidge == 1e-3 && SolvePipeline.commandLine(linear).contains("--ridge 0.001"), "\(SolvePipeline.commandLine(linear))")
        // Another model keeps its defaults; the options win; the cached model is keyed by what was taken.
        let esn = try SolveConfiguration(problem: "mine.toml", model: .esn).resolved(for: problem)
        #expect(esn.reservoir.ridge == ReservoirSettings().ridge)
        var given = SolveConfiguration(problem: "mine.toml", model: .ngrc)
        given.ridgeOverride = 1e-7; given.degreeOverride = 2
        let won = try given.resolved(for: problem)
        #expect(won.ngrc.ridge == 1e-7 && won.ngrc.degree == 2 && given.settingsFromFile(filled: won).isEmpty)
        #expect(SolvePipeline.modelKey(won, problem: problem) != SolvePipeline.modelKey(ngrc, problem: problem))
        // Resolving twice takes the same.
        #expect(try ngrc.resolved(for: problem) == ngrc)
    }

    @Test(arguments: [
        ("[learning.lstm]\nridge = 1e-5", "ridge", "learning.lstm.ridge: ridge applies to esn, ngrc, linear, not to lstm"),
        ("[learning.esn]\ndegree = 3", "degree", "learning.esn.degree: degree applies to ngrc, not to esn"),
        ("[learning.esn]\nhidden = 16", "hidden", "learning.esn.hidden: hidden applies to the networks trained by backpropagation (rnn, lstm, gru), not to esn"),
        ("[learning.ngrc]\nwindow = 5", "window", "learning.ngrc.window: ngrc's window follows its delays and skip"),
        ("[learning.lstm]\nwindow = 101", "window", "learning.lstm.window: window 101 exceeds the evaluation start 100"),
        ("[learning.rnn]\nnoise = 0.01\ndenoising = true", "denoising", "learning.rnn.denoising: denoising applies to the ridge fits (esn, ngrc, linear), not to rnn"),
    ])
    func misplacedShapesNameTheFileAndLine(table: String, key: String, message: String) throws {
        let text = try oscillatorText(with: table)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).lastIndex { $0.hasPrefix(key) }! + 1
        do {
            _ = try SolveConfiguration(problem: "mine.toml", model: .linear).resolved(for: try Catalog.parse(text, file: "mine.toml"))
            Issue.record("took \(table)")
        } catch {
            #expect("\(error)".contains("mine.toml:\(line): \(message)"), "\(error)")
        }
    }

    @Test func aTableForNoKnownModelNamesTheFileAndLine() throws {
        let text = try oscillatorText(with: "[learning.lstmm]\nnoise = 0.01")
        let problem = try Catalog.parse(text, file: "mine.toml")
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("[learning.lstmm]") }! + 1
        do {
            _ = try SolveConfiguration(problem: "mine.toml", model: .esn).resolved(for: problem)
            Issue.record("resolved a table for an unknown model")
        } catch {
            let message = "\(error)"
            #expect(message.contains("mine.toml:\(line)") && message.contains("unknown model 'lstmm'")
                    && message.contains("did you mean 'lstm'?"), "\(message)")
        }
    }

    @Test func everyCatalogTableNamesAKnownModel() throws {
        let folder = packageRoot.appendingPathComponent("problems")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".toml") }
        #expect(!files.isEmpty)
        for file in files {
            let problem = try Catalog.load(folder.appendingPathComponent(file).path)
            _ = try SolveConfiguration(problem: file, model: .lstm).resolved(for: problem)
        }
    }

    @Test func aSolveRunTrainsOnTheFilesDataSize() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-learning-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("oscillator.toml")
        try oscillatorText(with: "[learning]\ntrain_trajectories = 3\n\n[learning.linear]\nnoise = 1e-3").write(to: file, atomically: true, encoding: .utf8)
        var c = SolveConfiguration(problem: file.path, model: .linear)
        c.testTrajectories = 2
        c.outputDirectory = folder.appendingPathComponent("out").path
        c.writeFiles = false
        c.showProgress = false
        var lines: [String] = []
        let result = try SolvePipeline.run(c, log: { lines.append($0) })
        #expect(result.configuration.trainTrajectories == 3 && result.configuration.noise == 1e-3)
        #expect(lines.contains { $0.contains("[learning]: train_trajectories = 3, noise = 0.001") }, "\(lines)")
        // The cached model is keyed by the resolved settings: the command line's own count trains another.
        var other = c
        other.trainTrajectories = 2
        #expect(SolvePipeline.modelKey(try other.resolved(for: try SolvePipeline.problem(for: other)), problem: try SolvePipeline.problem(for: other))
                != result.modelKey)
    }
}
