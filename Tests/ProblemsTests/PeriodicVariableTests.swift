// The `[periodic]` table: angles and their periods, parsed, expanded over array sites, kept by `--set`, and each
// mistake reported with the file, line and key.
import Foundation
import Testing
@testable import Problems

@Suite struct PeriodicVariableTests {
    @Test func periodsAreConstantsOfTheParameters() throws {
        #expect(try Catalog.parse(validFile, file: "problems/test.toml").periods == [nil, nil])
        let text = edited("[time]", "[periodic]\nx = \"2 * pi / omega\"\n\n[time]")
        let problem = try Catalog.parse(text, file: "problems/test.toml")
        #expect(problem.periods == [Double.pi, nil])
        // A parameter change re-derives the period.
        #expect(try problem.setting("omega", to: 4).periods == [Double.pi / 2, nil])
    }

    @Test func everySiteOfAnArrayHasItsPeriod() throws {
        let text = """
        name = "rotors"
        variables = ["phi", "w"]
        [dimensions]
        phi = 3
        w = 3
        [equations]
        phi = "w[i]"
        w = "sin(phi[i+1] - phi[i]) + sin(phi[i-1] - phi[i])"
        [boundary]
        phi = "periodic"
        w = "periodic"
        [initial]
        phi = 0.1
        w = 0.0
        [periodic]
        phi = "2 * pi"
        [time]
        end = 1.0
        step = 0.1
        """
        let problem = try Catalog.parse(text, file: "problems/rotors.toml")
        #expect(problem.periods == [2 * Double.pi, 2 * Double.pi, 2 * Double.pi, nil, nil, nil])
    }

    @Test func mistakesNameTheKeyAndLine() {
        let negative = problemError(edited("[time]", "[periodic]\nx = \"-2 * pi\"\n\n[time]"))
        #expect(negative?.contains("problems/test.toml:") == true && negative?.contains("periodic.x") == true
                && negative?.contains("period must be positive") == true, "\(negative ?? "parsed")")
        let unknown = problemError(edited("[time]", "[periodic]\nz = \"2 * pi\"\n\n[time]"))
        #expect(unknown?.contains("period for undeclared variable 'z'") == true, "\(unknown ?? "parsed")")
        let notANumber = problemError(edited("[time]", "[periodic]\nx = true\n\n[time]"))
        #expect(notANumber?.contains("periodic.x") == true, "\(notANumber ?? "parsed")")
        let ofTheState = problemError(edited("[time]", "[periodic]\nx = \"2 * y\"\n\n[time]"))
        #expect(ofTheState?.contains("periodic.x") == true, "\(ofTheState ?? "parsed")")
    }

    @Test func theCatalogDeclaresItsAngles() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("problems")
        for (name, angles) in [("pendulum", ["theta"]), ("damped-driven-pendulum", ["theta"]), ("double-pendulum", ["theta1", "theta2"])] {
            let problem = try Catalog.load(directory.appendingPathComponent("\(name).toml").path)
            for (k, variable) in problem.variables.enumerated() {
                #expect(problem.periods[k] == (angles.contains(variable) ? 2 * Double.pi : nil), "\(name).\(variable)")
            }
        }
    }
}

@Suite struct ForcingTableTests {
    @Test func theDrivesPeriodIsAConstantOfTheParameters() throws {
        #expect(try Catalog.parse(validFile, file: "problems/test.toml").forcingPeriod == nil)
        let problem = try Catalog.parse(edited("[time]", "[forcing]\nperiod = \"2 * pi / omega\"\n\n[time]"), file: "problems/test.toml")
        #expect(problem.forcingPeriod == Double.pi)
        #expect(try problem.setting("omega", to: 4).forcingPeriod == Double.pi / 2)
    }

    @Test func mistakesNameTheKey() {
        let negative = problemError(edited("[time]", "[forcing]\nperiod = -1.0\n\n[time]"))
        #expect(negative?.contains("forcing.period") == true && negative?.contains("must be positive") == true, "\(negative ?? "parsed")")
        let missing = problemError(edited("[time]", "[forcing]\nphase = 1.0\n\n[time]"))
        #expect(missing?.contains("unknown key 'phase'") == true, "\(missing ?? "parsed")")
        let empty = problemError(edited("[time]", "[forcing]\n\n[time]"))
        #expect(empty?.contains("missing key 'forcing.period'") == true, "\(empty ?? "parsed")")
    }

    @Test func theCatalogsDrivenProblemsDeclareTheirDrive() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("problems")
        let duffing = try Catalog.load(directory.appendingPathComponent("duffing.toml").path).forcingPeriod
        #expect(duffing.map { abs($0 - 2 * Double.pi / 1.2) < 1e-14 } == true)
        let pendulum = try Catalog.load(directory.appendingPathComponent("damped-driven-pendulum.toml").path).forcingPeriod
        #expect(pendulum.map { abs($0 - 3 * Double.pi) < 1e-14 } == true)
        #expect(try Catalog.load(directory.appendingPathComponent("lorenz.toml").path).forcingPeriod == nil)
    }
}
