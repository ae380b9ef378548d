// `rnnode problems` and `rnnode reference` run as a user would: exit status and messages for bad input, a
// solver failure that keeps the partial CSV, and the CSV of a good run.
import Foundation
import Testing

/// EX_USAGE, ArgumentParser's exit status for a ValidationError or a bad option value.
let usageError: Int32 = 64

@Suite struct ReferenceCommandTests {
    @Test func unknownProblemListsTheKnownOnes() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz63"])
        #expect(result.status == usageError)
        #expect(result.stderr.contains("unknown problem 'lorenz63'"))
        #expect(result.stderr.contains("lorenz,") || result.stderr.contains("lorenz "), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func malformedProblemFileNamesTheFileAndWritesNothing() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let file = folder.appendingPathComponent("broken.toml")
        try """
            name = "broken"
            title = "An equation that names an unknown parameter"
            variables = ["x"]
            [parameters]
            k = 1.0
            [equations]
            x = "-kk * x"
            [initial]
            x = 1.0
            [time]
            start = 0.0
            end = 1.0
            step = 0.1
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out.csv")
        let result = try RNNodeBinary.run(["reference", file.path, "--out", out.path], in: folder)
        #expect(result.status != 0)
        #expect(result.stderr.contains("broken.toml"), "\(result.stderr)")
        #expect(result.stderr.contains("kk"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func badMethodIsRejectedWithTheStepperList() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--method", "rk9"])
        #expect(result.status == usageError)
        #expect(result.stderr.contains("rk9"))
        #expect(result.stderr.contains("rk8pd") && result.stderr.contains("msbdf"), "\(result.stderr)")
    }

    @Test(arguments: [
        ("rho", "is not NAME=VALUE"),
        ("=28", "is not NAME=VALUE"),
        ("rho=abc", "'abc' is not a finite number"),
        ("rho=nan", "is not a finite number"),
        ("rhoo=28", "'rhoo' is not a parameter or variable of lorenz"),
    ])
    func badSetIsAValidationError(setting: String, message: String) throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--set", setting, "--t-end", "0.1"])
        #expect(result.status == usageError)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: [
        (["--rtol=-1"], "--rtol must be a non-negative number"),
        (["--step", "0"], "--step must be a positive number"),
        (["--fixed-step", "nan"], "--fixed-step must be a positive number"),
        (["--t-end", "inf"], "--t-end must be a finite number"),
        (["--rtol", "0", "--atol", "0"], "--rtol and --atol cannot both be 0"),
    ])
    func badNumericOptionsAreValidationErrors(arguments: [String], message: String) throws {
        let result = try RNNodeBinary.run(["reference", "lorenz"] + arguments)
        #expect(result.status == usageError)
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
    }

    @Test func fixedStepMustDivideTheOutputStep() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--step", "0.1", "--fixed-step", "0.03"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("whole multiple of the fixed step"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func solverFailureKeepsThePartialTrajectoryAndExitsNonZero() throws {
        // x' = sqrt(2 − t) stops being finite at t = 2: rows up to t = 2 are kept.
        let folder = try RNNodeBinary.temporaryFolder()
        let file = folder.appendingPathComponent("edge.toml")
        try """
            name = "edge"
            title = "A right-hand side that leaves its domain at t = 2"
            variables = ["x"]
            [equations]
            x = "sqrt(2 - t)"
            [initial]
            x = 0.0
            [time]
            start = 0.0
            end = 5.0
            step = 0.5
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("edge.csv")
        let result = try RNNodeBinary.run(["reference", file.path, "--out", out.path], in: folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("non-finite state at t = 2"), "\(result.stderr)")
        let rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "t,x")
        #expect(rows.count == 1 + 5)
        #expect(rows.last?.hasPrefix("2.0,") == true, "\(rows.last ?? "")")
        let x = Double(rows.last!.split(separator: ",")[1])!
        #expect(abs(x - 2.0 / 3.0 * pow(2, 1.5)) < 1e-8)
        // Nothing but the CSV is left in the folder: the temporary file was renamed.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["edge.csv", "edge.toml"])
    }

    @Test func goodRunWritesTheHeaderAndEveryOutputStep() throws {
        let result = try RNNodeBinary.run(["reference", "lorenz", "--t-end", "1", "--step", "0.1"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n")
        #expect(rows.first == "t,x,y,z")
        #expect(rows.count == 1 + 11)
        #expect(rows.last?.hasPrefix("1.0,") == true)
        #expect(result.stderr.contains("steps") && result.stderr.contains("RHS evaluations"))
        #expect(result.stderr.contains("Jacobian evaluations"))
    }

    @Test func goodRunToFileMatchesStdout() throws {
        let folder = try RNNodeBinary.temporaryFolder()
        let out = folder.appendingPathComponent("lorenz.csv")
        let toFile = try RNNodeBinary.run(["reference", "lorenz", "--t-end", "1", "--out", out.path], in: folder)
        let toStdout = try RNNodeBinary.run(["reference", "lorenz", "--t-end", "1"], in: folder)
        #expect(toFile.status == 0 && toStdout.status == 0)
        #expect(toFile.stdout.isEmpty)
        #expect(try String(contentsOf: out, encoding: .utf8) == toStdout.stdout)
    }

    @Test func problemsListsTheCatalog() throws {
        let result = try RNNodeBinary.run(["problems"])
        #expect(result.status == 0, "\(result.stderr)")
        let lorenz = result.stdout.split(separator: "\n").first { $0.hasPrefix("lorenz ") }
        #expect(lorenz != nil, "\(result.stdout)")
        #expect(lorenz?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "3")
    }
}
