// `--set` makes a new subject: the overrides are in its name, and the file's Lyapunov exponent is not inherited.
import Experiments
import Foundation
import Problems
import Testing

@Suite struct SubjectNamingTests {
    private static let lorenzFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("problems/lorenz.toml").path

    @Test func overridesNameTheSubjectAndDropTheExponent() throws {
        let lorenz = try Catalog.load(Self.lorenzFile)
        #expect(lorenz.lyapunov == 0.9056)
        let changed = try lorenz.applying([ParameterOverride(name: "rho", value: 35), ParameterOverride(name: "x_0", value: 2)])
        #expect(changed.name == "lorenz[rho=35,x_0=2]")
        #expect(changed.parameters["rho"] == 35 && changed.initial[0] == 2)
        #expect(changed.lyapunov == nil)
        // No override: the file's own subject, exponent kept.
        let same = try lorenz.applying([])
        #expect(same.name == "lorenz" && same.lyapunov == 0.9056)
    }

    @Test func theSubjectNameIsTheOverridesInTheOrderGiven() {
        let a = ParameterOverride(name: "rho", value: 35), b = ParameterOverride(name: "sigma", value: 0.5)
        #expect(Problem.subjectName("lorenz", [a, b]) == "lorenz[rho=35,sigma=0.5]")
        #expect(Problem.subjectName("lorenz", [b, a]) == "lorenz[sigma=0.5,rho=35]")
        #expect(Problem.subjectName("lorenz", []) == "lorenz")
    }
}
