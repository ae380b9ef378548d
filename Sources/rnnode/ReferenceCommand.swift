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
            Writes `t,<var1>,<var2>,…` at every output step, row by row as the solver reaches it, to --out (a \
            temporary file renamed over it at the end) or stdout, and a summary on stderr: steps, right-hand-side and Jacobian evaluations, wall time, and where the problem has them the \
            largest invariant drift and the largest error against the exact solution. On a solver failure the \
            trajectory up to the failure is still written, the message names the time reached, and the exit status \
            is 1 (as for a bad problem file; a bad option exits with 64). At most \(Limits.outputRows) output rows \
            ((end − start)/step + 1) and \(ReferenceRunConfiguration(problem: "").maxSteps) steps. A write that fails \
            (a full disk) is an error naming the file; a closed pipe on stdout ends quietly with status 141. Ctrl-C \
            (or SIGTERM) stops at the next row with status 130 (143) and leaves --out as it was.

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
        try OptionLimits.checkPath("--out", out)
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
        // Unknown --set names and the effective output grid need the problem; a problem file that does not load
        // is reported by run().
        guard let loaded = try? Catalog.load(problem) else { return }
        for name in overrides.map(\.name) {
            let variable = name.hasSuffix("_0") ? String(name.dropLast(2)) : name
            guard loaded.parameters[name] != nil || loaded.variables.contains(variable) else {
                throw ValidationError("--set: '\(name)' is not a parameter or variable of \(loaded.name); "
                    + "parameters: \(loaded.parameters.keys.sorted().joined(separator: ", ")); "
                    + "variables: \(loaded.variablesSummary)")
            }
        }
        if tEnd != nil || step != nil || fixedStep != nil {
            let configuration = self.configuration(overrides)
            do {
                try ReferenceRun.checkGrid(try ReferenceRun.problem(for: configuration), configuration: configuration)
            } catch let error as ProblemError where error.file == nil {
                throw ValidationError(error.description)
            } catch {
                // A problem-file error (an override that breaks it) is reported by run() with its file.
            }
        }
    }

    func configuration(_ overrides: [ParameterOverride]) -> ReferenceRunConfiguration {
        ReferenceRunConfiguration(
            problem: problem, overrides: overrides, method: method, relativeTolerance: rtol,
            absoluteTolerance: atol, endTime: tEnd, outputStep: step, fixedStep: fixedStep)
    }

    func run() throws {
        let configuration = self.configuration(try Self.parseSettings(settings))
        // Every input error is thrown here, before any output is opened.
        let problem = try ReferenceRun.prepare(configuration)
        let result: ReferenceStreamResult
        let stop = { StreamInterrupt.requested != nil }
        do {
            if let out {
                // Rows go to a temporary file beside --out, renamed over it at the end (also after a solver failure,
                // which keeps the rows before it); a device or pipe (/dev/null, /dev/stdout) is written in place.
                let file = try StreamedFile(path: out)
                StreamInterrupt.install(temporary: file.temporary)
                do {
                    result = try ReferenceRun.stream(problem, fixedStep: configuration.fixedStep,
                                                     maxSteps: configuration.maxSteps, shouldStop: stop) { try file.write($0) }
                    try file.commit()
                } catch {
                    file.discard()
                    throw error
                }
            } else {
                StreamInterrupt.install(temporary: nil)
                result = try ReferenceRun.stream(problem, fixedStep: configuration.fixedStep,
                                                 maxSteps: configuration.maxSteps, shouldStop: stop) {
                    try Console.writeAll($0, to: Console.standardOutput, target: "stdout")
                }
            }
        } catch let interrupted as ReferenceRunInterrupted {
            // Ctrl-C: an incomplete trajectory is not left at --out; on stdout the rows so far are out already.
            try Console.report("\(problem.name): \(interrupted)"
                + (out.map { "; nothing was written to \($0)" } ?? " (written to stdout)"))
            throw ExitCode(128 + (StreamInterrupt.requested ?? SIGINT))
        }
        var report = result.summary + "\n"
        if let failure = result.failure {
            report += "error: \(result.problem.name): \(failure)\n"
            let rows = result.report.outputCount
            report += "the trajectory up to t = \(result.report.lastTime) (\(rows) row\(rows == 1 ? "" : "s")) was written to "
                + (out ?? "stdout") + "\n"
        }
        try Console.report(report)
        if result.failure != nil { throw ExitCode.failure }
    }
}
