// `rnnode reference`: integrate a problem with a GSL stepper; CSV trajectory to a file or stdout, summary on stderr.
import ArgumentParser
import Experiments
import Foundation
import Problems
import Reference

extension StepperKind: ExpressibleByArgument {}

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Integrate a problem with a GNU GSL odeiv2 stepper and write the trajectory as CSV.",
        discussion: """
            Writes `t,<var1>,<var2>,…` at every output step to --out (atomically) or stdout, and a summary on \
            stderr: steps, right-hand-side and Jacobian evaluations, wall time, and where the problem has them the \
            largest invariant drift and the largest error against the exact solution. On a solver failure the \
            trajectory up to the failure is still written, the message names the time reached, and the exit status \
            is 1 (as for a bad problem file; a bad option exits with 64).

            Steppers (GSL names):\(StepperKind.allCases.map { "\n  \($0.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.summary)" }.joined())
            """
    )

    @Argument(help: "A catalog name (see `rnnode problems`) or a path to a .toml problem file.")
    var problem: String

    @Option(help: "GSL stepper (default: the problem's [reference] method, else rk8pd).")
    var method: StepperKind?

    @Option(help: "Relative tolerance (default: the problem's, else 1e-10).")
    var rtol: Double?

    @Option(help: "Absolute tolerance (default: the problem's, else 1e-10).")
    var atol: Double?

    @Option(name: .customLong("t-end"), help: "End time (default: the problem's [time] end).")
    var tEnd: Double?

    @Option(help: "Output step (default: the problem's [time] step).")
    var step: Double?

    @Option(name: .customLong("fixed-step"),
            help: "Take fixed steps of this size without error control (the output step must be a multiple).")
    var fixedStep: Double?

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override a parameter or an initial value (x or x_0); repeatable.",
                               valueName: "NAME=VALUE"))
    var settings: [String] = []

    @Option(help: "Write the CSV here (atomically) instead of stdout.")
    var out: String?

    /// `--set` values parsed; a malformed one is a ValidationError.
    static func parseSettings(_ settings: [String]) throws -> [ParameterOverride] {
        try settings.map { setting in
            do { return try ParameterOverride(setting: setting) } catch { throw ValidationError("\(error)") }
        }
    }

    mutating func validate() throws {
        let overrides = try Self.parseSettings(settings)
        for (name, value) in [("--rtol", rtol), ("--atol", atol)] {
            if let value, !(value.isFinite && value >= 0) {
                throw ValidationError("\(name) must be a non-negative number, not \(value)")
            }
        }
        if rtol == 0 && atol == 0 { throw ValidationError("--rtol and --atol cannot both be 0") }
        for (name, value) in [("--step", step), ("--fixed-step", fixedStep)] {
            if let value, !(value.isFinite && value > 0) {
                throw ValidationError("\(name) must be a positive number, not \(value)")
            }
        }
        if let tEnd, !tEnd.isFinite { throw ValidationError("--t-end must be a finite number") }

        // An unknown catalog name lists the known ones; a file path is checked when it is read.
        let isPath = problem.hasSuffix(".toml") || problem.contains("/")
        if !isPath {
            let names = try Catalog.names()
            guard names.contains(problem) else {
                throw ValidationError("unknown problem '\(problem)'; known problems: "
                                      + names.joined(separator: ", ") + " (see `rnnode problems`)")
            }
        }
        // Unknown --set names need the problem; a problem file that does not load is reported by run().
        guard !overrides.isEmpty, let loaded = try? Catalog.load(problem) else { return }
        for name in overrides.map(\.name) {
            let variable = name.hasSuffix("_0") ? String(name.dropLast(2)) : name
            guard loaded.parameters[name] != nil || loaded.variables.contains(variable) else {
                throw ValidationError("--set: '\(name)' is not a parameter or variable of \(loaded.name); "
                    + "parameters: \(loaded.parameters.keys.sorted().joined(separator: ", ")); "
                    + "variables: \(loaded.variables.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        let configuration = ReferenceRunConfiguration(
            problem: problem, overrides: try Self.parseSettings(settings), method: method, relativeTolerance: rtol,
            absoluteTolerance: atol, endTime: tEnd, outputStep: step, fixedStep: fixedStep)
        let result = try ReferenceRun.run(configuration)
        let csv = ReferenceRun.csvBytes(variables: result.problem.variables, solution: result.solution)
        if let out {
            // AtomicFile writes a device or pipe (/dev/null, /dev/stdout) in place rather than renaming over it.
            try AtomicFile.write(Data(csv), to: URL(fileURLWithPath: out))
        } else {
            FileHandle.standardOutput.write(Data(csv))
        }
        var report = result.summary + "\n"
        if let failure = result.solution.failure {
            let last = result.solution.times.last ?? result.problem.time.start
            report += "error: \(result.problem.name): \(failure)\n"
            let rows = result.solution.times.count
            report += "the trajectory up to t = \(last) (\(rows) row\(rows == 1 ? "" : "s")) was written to "
                + (out ?? "stdout") + "\n"
        }
        FileHandle.standardError.write(Data(report.utf8))
        if result.solution.failure != nil { throw ExitCode.failure }
    }
}
