// Problem files: the schema's defaults, parameter resolution, `--set` overrides, and one test per kind of
// mistake checking the whole message (file, line, key, column, advice).
import Foundation
import Testing
@testable import Problems

/// A small valid file; tests replace one line to break it.
let validFile = """
# A test problem.
name = "test"
title = "A test problem"
variables = ["x", "y"]

[parameters]
omega2 = "omega^2"
omega = 2.0
a = "omega2 / 4 + shift"
shift = 1

[equations]
x = "y"
y = "-omega2 * x + a * sin(t)"

[initial]
x = "a"
y = 0.0

[time]
end = "2 * pi / omega"
step = 0.01

[sampling]
x = [-1.0, 1.0]
y = [-2, 2]

[invariants]
energy = "0.5*y^2 + 0.5*omega2*x^2"

[exact]
x = "x_0*cos(omega*(t - t_0)) + y_0/omega*sin(omega*(t - t_0))"
y = "-x_0*omega*sin(omega*(t - t_0)) + y_0*cos(omega*(t - t_0))"
"""

/// `validFile` with `old` replaced by `new` (which must occur).
func edited(_ old: String, _ new: String) -> String {
    precondition(validFile.contains(old), "'\(old)' not in the test file")
    return validFile.replacingOccurrences(of: old, with: new)
}

/// The error message for `text`, or nil when it parses.
func problemError(_ text: String) -> String? {
    do {
        _ = try Catalog.parse(text, file: "problems/test.toml")
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct ProblemFileTests {
    @Test func validFileAndDefaults() throws {
        let problem = try Catalog.parse(validFile, file: "problems/test.toml")
        #expect(problem.name == "test")
        #expect(problem.parameterNames == ["a", "omega", "omega2", "shift"])
        #expect(problem.parameters == ["omega": 2, "omega2": 4, "a": 2, "shift": 1])
        #expect(problem.initial == [2, 0])
        #expect(problem.time == TimeSpan(start: 0, end: Double.pi, step: 0.01))
        #expect(problem.reference == ReferenceSettings(method: "rk8pd", relativeTolerance: 1e-10, absoluteTolerance: 1e-10))
        #expect(problem.sampling == [-1...1, -2...2])
        #expect(problem.transient == 0)
        #expect(problem.lyapunov == nil)
        #expect(problem.invariants.map(\.name) == ["energy"])
        #expect(problem.invariantValues(t: 0, state: [1, 2]) == [0.5 * 4 + 0.5 * 4])
        #expect(problem.vectorField.evaluate(t: 0.5, state: [1, 3]) == [3, -4 + 2 * sin(0.5)])
        let exact = try #require(problem.exactState(at: Double.pi / 4))
        #expect(abs(exact[0] - 2 * cos(Double.pi / 2)) < 1e-15 && abs(exact[1] + 4 * sin(Double.pi / 2)) < 1e-15)
    }

    @Test func jacobianIsRowMajorWithTimeDerivative() throws {
        let problem = try Catalog.parse(validFile, file: "problems/test.toml")
        let (dfdy, dfdt) = problem.vectorField.jacobian(t: 0.3, state: [5, 7])
        #expect(dfdy == [0, 1, -4, 0])
        #expect(dfdt == [0, 2 * cos(0.3)])
    }

    @Test func settingAParameterRecompilesTheRightHandSide() throws {
        let problem = try Catalog.parse(validFile, file: "problems/test.toml")
        let changed = try problem.setting("omega", to: 3)
        #expect(changed.parameters["omega"] == 3)
        #expect(changed.parameters["omega2"] == 9, "dependent parameters are re-derived")
        #expect(changed.parameters["a"] == 9.0 / 4 + 1)
        #expect(changed.initial == [9.0 / 4 + 1, 0], "initial values that are expressions follow")
        #expect(changed.time.end == 2 * Double.pi / 3)
        #expect(changed.vectorField.evaluate(t: 0, state: [1, 0]) == [0, -9])
        #expect(changed.vectorField.jacobian(t: 0, state: [1, 0]).dfdy == [0, 1, -9, 0])
        #expect(changed.invariantValues(t: 0, state: [1, 0]) == [4.5])
        #expect(problem.vectorField.evaluate(t: 0, state: [1, 0]) == [0, -4], "the original is unchanged")

        // A parameter that is itself an expression can be pinned; later overrides keep earlier ones.
        let pinned = try changed.setting("omega2", to: 1).setting("shift", to: 0)
        #expect(pinned.parameters["omega"] == 3 && pinned.parameters["omega2"] == 1 && pinned.parameters["a"] == 0.25)
    }

    @Test func settingAnInitialValue() throws {
        let problem = try Catalog.parse(validFile, file: "problems/test.toml")
        #expect(try problem.setting("y", to: 1.5).initial == [2, 1.5])
        #expect(try problem.setting("x_0", to: -1).initial == [-1, 0])
        // A value set directly survives a later parameter change.
        let kept = try problem.setting("x", to: 0.25).setting("omega", to: 1)
        #expect(kept.initial == [0.25, 0])
        let started = problem.starting(at: [0.5, 0.5])
        #expect(started.initial == [0.5, 0.5])
        #expect(started.exactState(at: 0) == [0.5, 0.5])
    }

    @Test func settingUnknownNameSuggests() throws {
        let problem = try Catalog.parse(validFile, file: "problems/test.toml")
        #expect(throws: ProblemError.self) { try problem.setting("omgea", to: 1) }
        do {
            _ = try problem.setting("omgea", to: 1)
        } catch {
            #expect("\(error)" == "problems/test.toml: omgea: unknown parameter or variable 'omgea' (did you mean 'omega'?)")
        }
    }

    @Test func parametersResolveInAnyOrderAndCyclesAreCaught() {
        #expect(problemError(edited("shift = 1", "shift = \"a\"")) ==
                "problems/test.toml:9: parameters.a: circular definition a → shift → a")
    }

    @Test(arguments: [
        // Expressions: unknown name with suggestion, column within the expression.
        (edited("y = \"-omega2 * x + a * sin(t)\"", "y = \"-omega2 * x + aa * sin(t)\""),
         "problems/test.toml:14: equations.y: unknown name 'aa' at column 15 (did you mean 'a'?)"),
        (edited("y = \"-omega2 * x + a * sin(t)\"", "y = \"-omega2 * (x + a * sin(t)\""),
         "problems/test.toml:14: equations.y: unbalanced parenthesis: '(' is never closed at column 11"),
        (edited("y = \"-omega2 * x + a * sin(t)\"", "y = \"-omega2 * x + a * atan2(t)\""),
         "problems/test.toml:14: equations.y: 'atan2' takes 2 arguments, got 1 at column 19"),
        (edited("y = \"-omega2 * x + a * sin(t)\"", "y = \"-omega2 * x x\""),
         "problems/test.toml:14: equations.y: unexpected 'x' at column 13 (an operator is missing before it)"),
        (edited("y = \"-omega2 * x + a * sin(t)\"", "y = \"-omega2 * x_0\""),
         "problems/test.toml:14: equations.y: 'x_0' cannot be used here at column 11 (an equation may use t, the variables and the parameters)"),
        (edited("omega = 2.0", "omega = \"2 * x\""),
         "problems/test.toml:8: parameters.omega: 'x' cannot be used here at column 5 (only numbers, pi, e and parameters may appear here)"),
        (edited("x = \"a\"", "x = \"shfit\""),
         "problems/test.toml:17: initial.x: unknown name 'shfit' at column 1 (did you mean 'shift'?)"),
        // Structure.
        (edited("x = \"y\"", "x = \"y\"\nz = \"x\""),
         "problems/test.toml:14: equations.z: equation for undeclared variable 'z' (variables: x, y)"),
        (edited("x = \"y\"\n", ""),
         "problems/test.toml:12: equations: missing equation for 'x' (add x = \"…\" under [equations])"),
        (edited("x = \"a\"\n", ""),
         "problems/test.toml:16: initial: no initial value for 'x' (add x = … under [initial])"),
        (edited("[time]", "[tiem]"),
         "problems/test.toml:20: tiem: unknown key 'tiem' (did you mean 'time'?)"),
        (edited("step = 0.01", "stpe = 0.01"),
         "problems/test.toml:22: time.stpe: unknown key 'stpe' (did you mean 'step'?)"),
        (edited("step = 0.01", "step = 0"),
         "problems/test.toml:22: time.step: step must be positive, got 0.0"),
        (edited("end = \"2 * pi / omega\"", "end = -1"),
         "problems/test.toml:21: time.end: end (-1.0) must be greater than start (0.0)"),
        (edited("x = [-1.0, 1.0]", "x = [1.0, -1.0]"),
         "problems/test.toml:25: sampling.x: range [1.0, -1.0] has lo > hi"),
        (edited("x = [-1.0, 1.0]", "x = [1.0]"),
         "problems/test.toml:25: sampling.x: expected a range [lo, hi], got an array"),
        (edited("y = [-2, 2]\n", ""),
         "problems/test.toml:24: sampling: no sampling range for 'y' (add y = [lo, hi] under [sampling])"),
        (edited("[time]", "[reference]\nmethod = \"rk8\"\n\n[time]"),
         "problems/test.toml:21: reference.method: unknown method 'rk8' (did you mean 'rk8pd'?)"),
        (edited("[time]", "[reference]\nmethod = \"euler\"\n\n[time]"),
         "problems/test.toml:21: reference.method: unknown method 'euler' (valid: rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf)"),
        (edited("[time]", "[reference]\nrtol = -1\n\n[time]"),
         "problems/test.toml:21: reference.rtol: must be a positive number, got -1.0"),
        (edited("variables = [\"x\", \"y\"]", "variables = \"x\""),
         "problems/test.toml:4: variables: expected a non-empty array of names, got a string"),
        (edited("variables = [\"x\", \"y\"]", "variables = [\"x\", \"t\"]"),
         "problems/test.toml:4: variables: 't' is reserved and cannot name a variable (t, t_0, pi, e and function names are reserved)"),
        (edited("omega = 2.0", "omega = true"),
         "problems/test.toml:8: parameters.omega: expected a number or an expression string, got a boolean"),
        (edited("shift = 1", "shift = \"1/0\""),
         "problems/test.toml:10: parameters.shift: evaluates to inf"),
        (edited("name = \"test\"", "name = test"),
         "problems/test.toml:2: TOML syntax error: error while parsing boolean: expected 'true', saw 'te' at column 9"),
        (edited("y = \"-x_0*omega*sin(omega*(t - t_0)) + y_0*cos(omega*(t - t_0))\"", ""),
         "problems/test.toml:31: exact: no exact solution for 'y' (give one for every variable, or none)"),
        (edited("y = \"-x_0*omega*sin(omega*(t - t_0)) + y_0*cos(omega*(t - t_0))\"", "y = \"y\""),
         "problems/test.toml:33: exact.y: 'y' cannot be used here at column 1 (an exact solution may use t, t_0, the parameters and the initial values <variable>_0)"),
    ])
    func malformedFileGivesAClearMessage(text: String, message: String) {
        #expect(problemError(text) == message)
    }
}
