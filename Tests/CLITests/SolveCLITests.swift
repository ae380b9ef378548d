// `rnnode solve` through the built binary: bad input gives a clear message and a non-zero exit; a small run
// writes its files and rows.
import Foundation
import Testing

/// The `rnnode` executable built beside the test bundle (same build products directory).
private func rnnodeExecutable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The test runner may be inside `…PackageTests.xctest/Contents/MacOS` on macOS.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("rnnode")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    throw CLITestError("rnnode executable not found next to \(CommandLine.arguments[0])")
}

private struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The package root (for `problems/`), found from this file's path.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func runSolve(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = try rnnodeExecutable()
    process.arguments = ["solve"] + arguments
    process.currentDirectoryURL = packageRoot
    process.environment = RNNodeBinary.environment
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-solve-cli-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Test(arguments: [
    (["harmonic-oscillator", "--model", "transformer"], "The value 'transformer' is invalid for '--model <model>'"),
    (["harmonic-oscillator", "--model", "lstm", "--budget", "0"], "--budget must be positive"),
    (["harmonic-oscillator", "--model", "esn", "--halo", "2"], "--halo and --shared apply to parallel models only: add --groups"),
    (["harmonic-oscillator", "--model", "esn", "--groups", "2"], "--groups needs a problem with array variables"),
    (["harmonic-oscillator", "--model", "ngrc", "--window", "5"], "--window 5 does not apply to ngrc"),
    (["harmonic-oscillator", "--model", "ngrc", "--degree", "0"], "--degree must be at least 1 (got 0)"),
    (["harmonic-oscillator", "--model", "esn", "--noise=-1"], "--noise must be non-negative"),
    (["harmonic-oscillator", "--model", "esn", "--denoising"], "--denoising needs input noise: add --noise"),
    (["harmonic-oscillator", "--model", "gru", "--noise", "0.01", "--denoising"], "--denoising applies to the ridge fits"),
    (["harmonic-oscillator", "--window=-3"], "--window must be at least 1 (got -3)"),
    (["harmonic-oscillator", "--window", "0"], "--window must be at least 1 (got 0)"),
    (["harmonic-oscillator", "--horizon", "1e9"], "is beyond the available data"),
    (["harmonic-oscillator", "--horizon=-1"], "--horizon must be positive"),
    (["harmonic-oscillator", "--set", "omega"], "--set 'omega': expected NAME=VALUE"),
    (["harmonic-oscillator", "--epochs", "0"], "--epochs must be at least 1"),
    (["harmonic-oscillator", "--model", "esn", "--window", "150"], "--window 150 of esn exceeds the evaluation start --eval-start 100"),
    (["harmonic-oscillator", "--eval-start", "8"], "--window 16 of lstm exceeds the evaluation start --eval-start 8"),
    (["harmonic-oscillator", "--horizon", "2"], "--eval-start 100 leaves nothing to predict: the horizon 2.0 holds 40 steps"),
    (["harmonic-oscillator", "--eval-start", "0"], "--eval-start must be at least 1 (got 0)"),
    (["harmonic-oscillator", "--set", "nosuch=1"], "nosuch"),
    (["no-such-problem"], "no-such-problem"),
    (["harmonic-oscillator", "--model", "esn", "--tune", "0"], "--tune must be at least 1 (got 0)"),
    (["harmonic-oscillator", "--model", "esn", "--tune", "20000"], "--tune must be at most 10000 (got 20000)"),
    (["harmonic-oscillator", "--model", "esn", "--tune", "x"], "--tune"),
    (["harmonic-oscillator", "--model", "esn", "--tune", "3", "--validation-trajectories", "0"], "--validation-trajectories must be at least 1 (got 0)"),
])
func solveRejectsBadInput(arguments: [String], message: String) throws {
    let out = try temporaryDirectory()
    let result = try runSolve(arguments + ["--out", out.path])
    #expect(result.status != 0)
    #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    // Nothing is trained or written for rejected input.
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("errors.csv").path))
}

@Test(arguments: [
    (["--vpt-threshold", "0"], "--vpt-threshold must be positive and finite (got 0.0)"),
    (["--vpt-threshold=-0.5"], "--vpt-threshold must be positive and finite (got -0.5)"),
    (["--vpt-threshold", "nan"], "--vpt-threshold must be positive and finite (got nan)"),
    (["--vpt-threshold", "inf"], "--vpt-threshold must be positive and finite (got inf)"),
    (["--vpt-threshold", "half"], "The value 'half' is invalid for '--vpt-threshold <E>'"),
])
func aBadVPTThresholdIsAUsageError(arguments: [String], message: String) throws {
    let out = try temporaryDirectory()
    let result = try runSolve(["harmonic-oscillator", "--model", "linear"] + arguments + ["--out", out.path])
    #expect(result.status == usageError, "status \(result.status), stderr was: \(result.errors)")
    #expect(result.errors.contains(message), "stderr was: \(result.errors)")
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("errors.csv").path))
}

@Test func unknownProblemListsTheKnownOnes() throws {
    let result = try runSolve(["no-such-problem"])
    #expect(result.status != 0)
    #expect(result.errors.contains("lorenz"), "stderr was: \(result.errors)")
}

@Test func solveWritesTrajectoryRowsAndManifest() throws {
    let out = try temporaryDirectory()
    let result = try runSolve(["harmonic-oscillator", "--model", "linear", "--train-trajectories", "2", "--test-trajectories", "3",
                               "--out", out.path])
    #expect(result.status == 0, "stderr was: \(result.errors)")
    #expect(result.output.contains("rel_l2_final"))
    for name in ["harmonic-oscillator-linear-trajectory.csv", "harmonic-oscillator-linear-manifest.json", "harmonic-oscillator-linear-trajectory.gp",
                 "harmonic-oscillator-linear-error.gp", "errors.csv"] {
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "missing \(name)")
    }
    let trajectory = try String(contentsOf: out.appendingPathComponent("harmonic-oscillator-linear-trajectory.csv"), encoding: .utf8)
    let header = trajectory.prefix { $0 != "\n" }
    #expect(header.hasPrefix("t,ref_") && header.contains(",linear_") && header.hasSuffix(",error"))
    let errors = try String(contentsOf: out.appendingPathComponent("errors.csv"), encoding: .utf8)
    #expect(errors.hasPrefix("experiment,problem,model,seed,metric,value,unit\n"))
    #expect(errors.contains("solve,harmonic-oscillator,linear,0,rel_l2_final,"))
    #expect(errors.contains("solve,harmonic-oscillator,linear,0,vpt_q25,"))

    // A second run finds the trained model in the cache.
    let again = try runSolve(["harmonic-oscillator", "--model", "linear", "--train-trajectories", "2", "--test-trajectories", "3",
                              "--out", out.path])
    #expect(again.status == 0)
    #expect(again.errors.contains("model loaded from"), "stderr was: \(again.errors)")
}

@Test func theDefaultHiddenSizeReachesTheManifestAndTheHelp() throws {
    let help = try runSolve(["--help"])
    #expect(help.output.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
                .contains("default rnn 32, lstm 32, gru 32"), "help was: \(help.output)")
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // The oscillator's file declares `[learning.gru] hidden = 16`; the option wins over it.
    for (model, arguments, hidden) in [("lstm", [String](), "32"), ("gru", [], "16"), ("gru", ["--hidden", "8"], "8")] {
        let result = try runSolve(["harmonic-oscillator", "--model", model, "--epochs", "1", "--train-trajectories", "1",
                                   "--test-trajectories", "1", "--out", out.path] + arguments)
        #expect(result.status == 0, "stderr was: \(result.errors)")
        let manifest = try String(contentsOf: out.appendingPathComponent("harmonic-oscillator-\(model)-manifest.json"), encoding: .utf8)
        #expect(manifest.contains("\"hidden\" : \"\(hidden)\"") && manifest.contains("--hidden \(hidden) "), "manifest was: \(manifest)")
    }
}

@Suite struct SubjectCLITests {
    /// `solve lorenz --set rho=35` is reported as its own subject, never merged with ρ = 28's rows.
    @Test func setOverridesAreTheSubjectInEveryRow() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try RNNodeBinary.run(["solve", "lorenz", "--set", "rho=35", "--model", "linear", "--quick", "--out", "out"], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let errors = try String(contentsOf: folder.appendingPathComponent("out/errors.csv"), encoding: .utf8)
        let problems = Set(errors.split(separator: "\n").dropFirst().map { CSVFields($0)[1] })
        #expect(problems == ["\"lorenz[rho=35]\""] || problems == ["lorenz[rho=35]"], "\(problems)")
        // ρ = 35's own exponent, computed (Benettin) and recorded in the manifest, scales its VPT: not ρ = 28's 0.9056.
        let manifestURL = folder.appendingPathComponent("out/lorenz[rho=35]-linear-manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any]
        let settings = try #require(manifest?["configuration"] as? [String: String], "\(String(describing: manifest))")
        let lambda = try #require(settings["lyapunov"].flatMap(Double.init))
        let standardError = try #require(settings["lyapunov_standard_error"].flatMap(Double.init))
        #expect(settings["lyapunov_source"]?.hasPrefix("Benettin") == true)
        #expect(lambda > 3 * standardError && abs(lambda - 0.9056) > 4 * standardError, "λ = \(lambda) ± \(standardError)")
        func median(_ metric: String) throws -> Double {
            let line = try #require(errors.split(separator: "\n").first { CSVFields($0).count == 7 && CSVFields($0)[4] == metric })
            return try #require(Double(CSVFields(line)[5]))
        }
        // The median of λ·VPT is λ times the median VPT (λ > 0; both rows rounded to shortest round-trip text).
        #expect(abs(try median("vpt_lyapunov") - lambda * median("vpt")) <= 4 * Double.ulpOfOne * abs(try median("vpt_lyapunov")))
        #expect(result.stdout.hasPrefix("lorenz[rho=35] · linear"), "\(result.stdout)")
        #expect(result.stderr.contains("largest Lyapunov exponent of lorenz[rho=35]"), "\(result.stderr)")
    }
}

/// The fields of one CSV line without quoted commas (enough for the rows this test reads).
private func CSVFields(_ line: Substring) -> [String] { line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

@Test func aProblemFilesLearningSettingsAreUsedAndItsMistakesNamed() throws {
    let folder = try temporaryDirectory()
    let oscillator = try String(contentsOf: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml"), encoding: .utf8)
    let typo = folder.appendingPathComponent("typo.toml")
    let text = oscillator + "\n[learning.lstmm]\nnoise = 0.01\n"
    try text.write(to: typo, atomically: true, encoding: .utf8)
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("[learning.lstmm]") }! + 1
    let refused = try runSolve([typo.path, "--model", "linear", "--out", folder.appendingPathComponent("out").path])
    #expect(refused.status != 0)
    #expect(refused.errors.contains("typo.toml:\(line): learning.lstmm: unknown model 'lstmm'") && refused.errors.contains("did you mean 'lstm'?"), "stderr was: \(refused.errors)")

    let declared = folder.appendingPathComponent("declared.toml")
    try (oscillator + "\n[learning]\ntrain_trajectories = 3\n\n[learning.linear]\nnoise = 0.001\n").write(to: declared, atomically: true, encoding: .utf8)
    let out = folder.appendingPathComponent("declared")
    let used = try runSolve([declared.path, "--model", "linear", "--test-trajectories", "2", "--out", out.path])
    #expect(used.status == 0, "stderr was: \(used.errors)")
    #expect(used.errors.contains("[learning]: train_trajectories = 3, noise = 0.001"), "stderr was: \(used.errors)")
    let manifest = try String(contentsOf: out.appendingPathComponent("harmonic-oscillator-linear-manifest.json"), encoding: .utf8)
    #expect(manifest.contains("--train-trajectories 3") && manifest.contains("--noise 0.001"), "\(manifest)")
}
