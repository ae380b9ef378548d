// The reference run behind `rnnode reference`: load a problem, apply overrides, integrate it with GSL, measure
// invariant drift and the error against the exact solution, and write the trajectory as CSV (atomically).
import Foundation
import Problems
import Reference

/// What to integrate and how; every nil falls back to the problem file (`[time]`, `[reference]`).
public struct ReferenceRunConfiguration: Sendable {
    /// A catalog name (`lorenz`) or a path to a `.toml` file.
    public var problem: String
    /// `--set NAME=VALUE`: parameters, or initial values (`x` or `x_0`), applied in order.
    public var overrides: [ParameterOverride]
    public var method: StepperKind?
    public var relativeTolerance: Double?
    public var absoluteTolerance: Double?
    public var endTime: Double?
    /// Output step (the problem's `[time].step` by default).
    public var outputStep: Double?
    /// Fixed integrator step without error control; nil for adaptive steps.
    public var fixedStep: Double?
    public var maxSteps: Int

    public init(problem: String, overrides: [ParameterOverride] = [], method: StepperKind? = nil,
                relativeTolerance: Double? = nil, absoluteTolerance: Double? = nil, endTime: Double? = nil,
                outputStep: Double? = nil, fixedStep: Double? = nil, maxSteps: Int = 10_000_000) {
        self.problem = problem; self.overrides = overrides; self.method = method
        self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
        self.endTime = endTime; self.outputStep = outputStep; self.fixedStep = fixedStep; self.maxSteps = maxSteps
    }
}

/// A finished (or failed) reference run with its accuracy checks.
public struct ReferenceRunResult: Sendable {
    public var problem: Problem
    public var stepper: StepperKind
    public var tolerances: Tolerances
    public var fixedStep: Double?
    public var solution: Solution
    /// Per invariant: max over outputs of |I(t) − I(t0)| / |I(t0)| (absolute when I(t0) = 0).
    public var invariantDrifts: [(name: String, drift: Double)]
    /// Max over outputs and components of |y − y_exact|; nil without an exact solution.
    public var exactError: Double?
    /// The same, in units of the tolerance: max |y − y_exact| / (atol + rtol·|y_exact|).
    public var exactErrorInTolerances: Double?

    /// The invariant with the largest drift.
    public var largestInvariantDrift: (name: String, drift: Double)? {
        invariantDrifts.max { $0.drift < $1.drift || $0.drift.isNaN }
    }

    /// One line for stderr: method, outputs, work counters, wall time, and the accuracy checks.
    public var summary: String {
        let s = solution.statistics
        var parts = [
            "\(problem.name): \(stepper.rawValue) "
                + (fixedStep.map { "fixed h = \($0)" }
                    ?? "rtol = \(tolerances.relative), atol = \(tolerances.absolute)"),
            "\(solution.times.count) outputs to t = \(solution.times.last ?? problem.time.start)",
            "\(s.steps) steps",
            "\(s.rightHandSideEvaluations) RHS evaluations",
            "\(s.jacobianEvaluations) Jacobian evaluations",
            "\(ReferenceRun.format(s.seconds, digits: 3)) s",
        ]
        if let largest = largestInvariantDrift {
            parts.append("max invariant drift (relative) \(ReferenceRun.format(largest.drift)) (\(largest.name))")
        }
        if let exactError {
            parts.append("max error vs exact \(ReferenceRun.format(exactError))")
        }
        return parts.joined(separator: "; ")
    }
}

/// The steps of a reference run, each usable on its own.
public enum ReferenceRun {
    /// Loads the problem and applies the overrides; throws ProblemError (file, key) on bad input.
    public static func problem(for configuration: ReferenceRunConfiguration) throws -> Problem {
        var problem = try Catalog.load(configuration.problem).applying(configuration.overrides)
        if let end = configuration.endTime { problem.time.end = end }
        if let step = configuration.outputStep { problem.time.step = step }
        if let rtol = configuration.relativeTolerance { problem.reference.relativeTolerance = rtol }
        if let atol = configuration.absoluteTolerance { problem.reference.absoluteTolerance = atol }
        if let method = configuration.method { problem.reference.method = method.rawValue }
        return problem
    }

    /// The problem file's `[reference] method` as a GSL stepper.
    public static func stepper(of problem: Problem) throws -> StepperKind {
        guard let stepper = StepperKind(rawValue: problem.reference.method) else {
            throw ProblemError(file: problem.file?.path, key: "reference.method",
                               message: "unknown method '\(problem.reference.method)'; GSL steppers: "
                                   + StepperKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return stepper
    }

    /// The problem's right-hand side and symbolic Jacobian as GSL sees them.
    public static func system(for problem: Problem) -> ODESystem {
        let field = problem.vectorField
        return ODESystem(
            dimension: problem.dimension,
            rightHandSide: { t, y, dydt in field.evaluate(t: t, state: y, into: dydt) },
            jacobian: { t, y, dfdy, dfdt in field.jacobian(t: t, state: y, dfdy: dfdy, dfdt: dfdt) })
    }

    /// Loads, integrates and checks. Throws only for bad input (ProblemError); a solver failure is in
    /// `result.solution.failure`, with the trajectory up to the failure.
    public static func run(_ configuration: ReferenceRunConfiguration) throws -> ReferenceRunResult {
        let problem = try problem(for: configuration)
        return try run(problem, fixedStep: configuration.fixedStep, maxSteps: configuration.maxSteps)
    }

    /// Integrates `problem` over its time span with its `[reference]` settings and checks the result.
    public static func run(_ problem: Problem, fixedStep: Double? = nil, maxSteps: Int = 10_000_000) throws -> ReferenceRunResult {
        try checkSettings(problem, fixedStep: fixedStep)
        let stepper = try stepper(of: problem)
        let tolerances = Tolerances(absolute: problem.reference.absoluteTolerance,
                                    relative: problem.reference.relativeTolerance)
        let solution = solve(system(for: problem), initial: problem.initial, from: problem.time.start,
                             to: problem.time.end, outputStep: problem.time.step, stepper: stepper,
                             tolerances: tolerances, fixedStep: fixedStep, maxSteps: maxSteps)
        let exact = exactErrors(problem, solution, tolerances)
        return ReferenceRunResult(problem: problem, stepper: stepper, tolerances: tolerances, fixedStep: fixedStep,
                                  solution: solution, invariantDrifts: invariantDrifts(problem, solution),
                                  exactError: exact?.absolute, exactErrorInTolerances: exact?.inTolerances)
    }

    /// Time span, output step, tolerances and fixed step must make sense before GSL sees them.
    static func checkSettings(_ problem: Problem, fixedStep: Double?) throws {
        func fail(_ key: String, _ message: String) -> ProblemError {
            ProblemError(file: problem.file?.path, key: key, message: message)
        }
        let time = problem.time
        guard time.start.isFinite, time.end.isFinite, time.end != time.start else {
            throw fail("time.end", "time span [\(time.start), \(time.end)] is empty or not finite")
        }
        guard time.step.isFinite, time.step > 0 else {
            throw fail("time.step", "output step \(time.step) must be a positive number")
        }
        let rtol = problem.reference.relativeTolerance, atol = problem.reference.absoluteTolerance
        guard rtol.isFinite, atol.isFinite, rtol >= 0, atol >= 0, rtol + atol > 0 else {
            throw fail("reference.rtol", "tolerances rtol = \(rtol), atol = \(atol) must be ≥ 0 and not both 0")
        }
        if let h = fixedStep {
            let ratio = time.step / h
            guard h.isFinite, h > 0, ratio.rounded() >= 1, abs(ratio - ratio.rounded()) <= 1e-9 * ratio else {
                throw fail("time.step", "output step \(time.step) must be a whole multiple of the fixed step \(h)")
            }
        }
    }

    /// Per invariant, max over outputs of |I(t) − I(t0)| / |I(t0)|, or |I(t) − I(t0)| when I(t0) = 0.
    public static func invariantDrifts(_ problem: Problem, _ solution: Solution) -> [(name: String, drift: Double)] {
        let names = problem.invariants.map(\.name)
        guard !names.isEmpty, !solution.times.isEmpty else { return [] }
        let initial = problem.invariantValues(t: solution.times[0], state: Array(solution.state(0)))
        var drift = [Double](repeating: 0, count: names.count)
        for k in solution.times.indices {
            let values = problem.invariantValues(t: solution.times[k], state: Array(solution.state(k)))
            for i in names.indices {
                let scale = initial[i] == 0 ? 1 : abs(initial[i])
                let d = abs(values[i] - initial[i]) / scale
                if d > drift[i] || d.isNaN { drift[i] = d }
            }
        }
        return Array(zip(names, drift)).map { (name: $0.0, drift: $0.1) }
    }

    /// Max |y − y_exact| over outputs and components, absolute and in units of atol + rtol·|y_exact|.
    public static func exactErrors(_ problem: Problem, _ solution: Solution, _ tolerances: Tolerances)
        -> (absolute: Double, inTolerances: Double)?
    {
        guard problem.hasExactSolution else { return nil }
        var absolute = 0.0, inTolerances = 0.0
        for k in solution.times.indices {
            guard let exact = problem.exactState(at: solution.times[k]) else { return nil }
            for (i, value) in solution.state(k).enumerated() {
                let error = abs(value - exact[i])
                absolute = max(absolute, error)
                inTolerances = max(inTolerances, error / (tolerances.absolute + tolerances.relative * abs(exact[i])))
            }
        }
        return (absolute, inTolerances)
    }

    // MARK: - CSV

    /// `t,<var1>,…` then one row per output; numbers in Swift's shortest round-trip form (`description`).
    public static func csv(variables: [String], solution: Solution) -> String {
        String(decoding: csvBytes(variables: variables, solution: solution), as: UTF8.self)
    }

    /// The CSV as UTF-8 bytes, formatted straight into one buffer (no String per number).
    public static func csvBytes(variables: [String], solution: Solution) -> [UInt8] {
        var sink = ByteSink()
        sink.bytes.reserveCapacity(32 + solution.times.count * (solution.dimension + 1) * 20)
        sink.write("t," + variables.joined(separator: ",") + "\n")
        let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
        for k in solution.times.indices {
            solution.times[k].write(to: &sink)
            for value in solution.state(k) {
                sink.bytes.append(comma)
                value.write(to: &sink)
            }
            sink.bytes.append(newline)
        }
        return sink.bytes
    }

    /// A text stream into a byte buffer. `Double.write(to:)` formats into a stack buffer and hands it over
    /// through `_writeASCII`; taking the bytes there skips building a String for every number (2× faster).
    struct ByteSink: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// `x` with `digits` significant digits (`%.{digits}g`).
    public static func format(_ x: Double, digits: Int = 2) -> String {
        String(format: "%.\(digits)g", x)
    }
}
