// The reference run behind `rnnode reference`: load a problem, apply overrides, integrate it with GSL, measure
// invariant drift and the error against the exact solution, and stream the trajectory as CSV rows as they come.
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
        ReferenceRun.summary(problem: problem, stepper: stepper, tolerances: tolerances, fixedStep: fixedStep,
                             outputs: solution.times.count, lastTime: solution.times.last ?? problem.time.start,
                             statistics: solution.statistics, largestDrift: largestInvariantDrift, exactError: exactError)
    }
}

/// A reference run whose trajectory went to a sink row by row: what is left is the count, the last time reached,
/// the work counters and the accuracy checks (accumulated as the rows went by).
public struct ReferenceStreamResult: Sendable {
    public var problem: Problem
    public var stepper: StepperKind
    public var tolerances: Tolerances
    public var fixedStep: Double?
    /// Outputs written (the initial state included), last output time, counters and the failure if any.
    public var report: SolveReport
    public var invariantDrifts: [(name: String, drift: Double)]
    public var exactError: Double?
    public var exactErrorInTolerances: Double?

    public var failure: SolverError? { report.failure }

    public var largestInvariantDrift: (name: String, drift: Double)? {
        invariantDrifts.max { $0.drift < $1.drift || $0.drift.isNaN }
    }

    /// The same line as `ReferenceRunResult.summary`.
    public var summary: String {
        ReferenceRun.summary(problem: problem, stepper: stepper, tolerances: tolerances, fixedStep: fixedStep,
                             outputs: report.outputCount, lastTime: report.lastTime, statistics: report.statistics,
                             largestDrift: largestInvariantDrift, exactError: exactError)
    }
}

/// A streamed run stopped on request (Ctrl-C) after `rows` rows, the last at `time`.
public struct ReferenceRunInterrupted: Error, Sendable, CustomStringConvertible {
    public var time: Double
    public var rows: Int
    public init(time: Double, rows: Int) { self.time = time; self.rows = rows }
    public var description: String { "interrupted at t = \(time) after \(rows) row\(rows == 1 ? "" : "s")" }
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
        try checkGrid(problem, configuration: configuration)
        return try run(problem, fixedStep: configuration.fixedStep, maxSteps: configuration.maxSteps)
    }

    /// Integrates `problem` over its time span with its `[reference]` settings and checks the result.
    public static func run(_ problem: Problem, fixedStep: Double? = nil, maxSteps: Int = 10_000_000) throws -> ReferenceRunResult {
        try checkSettings(problem, fixedStep: fixedStep, maxSteps: maxSteps)
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

    /// The problem of `configuration`, checked as `run` checks it, ready for `stream`: every input error is thrown
    /// here, before the caller opens its output.
    public static func prepare(_ configuration: ReferenceRunConfiguration) throws -> Problem {
        let problem = try problem(for: configuration)
        try checkGrid(problem, configuration: configuration)
        try checkSettings(problem, fixedStep: configuration.fixedStep, maxSteps: configuration.maxSteps)
        _ = try stepper(of: problem)
        return problem
    }

    /// Integrates `problem` as `run` does, but hands the CSV (header, then one row per output, byte for byte
    /// `csvBytes`) to `write` in blocks of about 64 KiB as the rows are produced, keeping only the running
    /// invariant drift and exact error: memory stays constant however many rows. An error thrown by `write` stops
    /// the integration and is rethrown; a solver failure is in `result.failure`, after the rows before it.
    /// `shouldStop` is asked after each row; when it says yes, the rows so far are handed over and
    /// `ReferenceRunInterrupted` is thrown.
    public static func stream(_ problem: Problem, fixedStep: Double? = nil, maxSteps: Int = 10_000_000,
                              blockSize: Int = 1 << 16, shouldStop: () -> Bool = { false },
                              write: (UnsafeRawBufferPointer) throws -> Void) throws -> ReferenceStreamResult {
        try checkSettings(problem, fixedStep: fixedStep, maxSteps: maxSteps)
        let stepper = try stepper(of: problem)
        let tolerances = Tolerances(absolute: problem.reference.absoluteTolerance,
                                    relative: problem.reference.relativeTolerance)
        var sink = ByteSink()
        sink.bytes.reserveCapacity(blockSize + 4096)
        func flush() throws {
            guard !sink.bytes.isEmpty else { return }
            try sink.bytes.withUnsafeBytes { try write($0) }
            sink.bytes.removeAll(keepingCapacity: true)
        }
        sink.write(csvHeader(variables: problem.variables))
        var drifts = InvariantDriftTracker(problem)
        var exact = ExactErrorTracker(problem, tolerances)
        var rows = 0
        let report = try solve(system(for: problem), initial: problem.initial, from: problem.time.start,
                               to: problem.time.end, outputStep: problem.time.step, stepper: stepper,
                               tolerances: tolerances, fixedStep: fixedStep, maxSteps: maxSteps) { (t, y) throws(any Error) in
            appendRow(time: t, state: y, to: &sink)
            drifts.add(t: t, state: y)
            exact.add(t: t, state: y)
            rows += 1
            if sink.bytes.count >= blockSize { try flush() }
            if shouldStop() {
                try flush()
                throw ReferenceRunInterrupted(time: t, rows: rows)
            }
        }
        try flush()
        return ReferenceStreamResult(problem: problem, stepper: stepper, tolerances: tolerances, fixedStep: fixedStep,
                                     report: report, invariantDrifts: drifts.result,
                                     exactError: exact.result?.absolute, exactErrorInTolerances: exact.result?.inTolerances)
    }

    /// The output grid (effective after the `--t-end` and `--step` overrides) within `Limits.outputRowCount`, and
    /// the fixed steps over the span within `maxSteps`; the error names the option when one set the span, step or
    /// fixed step, else the problem file's key.
    public static func checkGrid(_ problem: Problem, configuration: ReferenceRunConfiguration) throws {
        let time = problem.time
        // Integration may run backwards (end < start): the grid has the same rows either way.
        let start = min(time.start, time.end), end = max(time.start, time.end)
        if case .failure(let limit) = Limits.outputRowCount(start: start, end: end, step: time.step) {
            let options = [configuration.endTime.map { "--t-end \($0)" }, configuration.outputStep.map { "--step \($0)" }]
                .compactMap { $0 }
            if options.isEmpty {
                throw ProblemError(file: problem.file?.path, key: "time.step", message: limit.description)
            }
            throw ProblemError(key: options.joined(separator: ", "), message: limit.description)
        }
        if let h = configuration.fixedStep { try checkFixedStepCount(h, time: time, maxSteps: configuration.maxSteps) }
    }

    /// Fixed steps over the whole span: more than `maxSteps` would fail after that many anyway.
    static func checkFixedStepCount(_ h: Double, time: TimeSpan, maxSteps: Int) throws {
        let steps = abs(time.end - time.start) / h
        guard steps <= Double(maxSteps) else {
            throw ProblemError(key: "--fixed-step \(h)", message: "takes \(format(steps, digits: 3)) steps over "
                + "[\(time.start), \(time.end)], more than the limit of \(maxSteps) steps; use a larger fixed step")
        }
    }

    /// Time span, output step, tolerances and fixed step must make sense before GSL sees them.
    static func checkSettings(_ problem: Problem, fixedStep: Double?, maxSteps: Int = 10_000_000) throws {
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
        let rows = Limits.outputRowCount(start: min(time.start, time.end), end: max(time.start, time.end), step: time.step)
        if case .failure(let limit) = rows { throw fail("time.step", limit.description) }
        let rtol = problem.reference.relativeTolerance, atol = problem.reference.absoluteTolerance
        guard rtol.isFinite, atol.isFinite, rtol >= 0, atol >= 0, rtol + atol > 0 else {
            throw fail("reference.rtol", "tolerances rtol = \(rtol), atol = \(atol) must be ≥ 0 and not both 0")
        }
        if let h = fixedStep {
            guard h.isFinite, h > 0 else { throw fail("--fixed-step", "the fixed step \(h) must be a positive number") }
            try checkFixedStepCount(h, time: time, maxSteps: maxSteps)
            let ratio = time.step / h
            guard ratio.rounded() >= 1, abs(ratio - ratio.rounded()) <= 1e-9 * ratio else {
                throw fail("time.step", "output step \(time.step) must be a whole multiple of the fixed step \(h)")
            }
        }
    }

    /// Per invariant, max over outputs of |I(t) − I(t0)| / |I(t0)|, or |I(t) − I(t0)| when I(t0) = 0.
    public static func invariantDrifts(_ problem: Problem, _ solution: Solution) -> [(name: String, drift: Double)] {
        var tracker = InvariantDriftTracker(problem)
        for k in solution.times.indices {
            solution.states.withUnsafeBufferPointer {
                tracker.add(t: solution.times[k], state: UnsafeBufferPointer(rebasing: $0[(k * solution.dimension)..<((k + 1) * solution.dimension)]))
            }
        }
        return tracker.result
    }

    /// Max |y − y_exact| over outputs and components, absolute and in units of atol + rtol·|y_exact|.
    public static func exactErrors(_ problem: Problem, _ solution: Solution, _ tolerances: Tolerances)
        -> (absolute: Double, inTolerances: Double)?
    {
        var tracker = ExactErrorTracker(problem, tolerances)
        for k in solution.times.indices {
            solution.states.withUnsafeBufferPointer {
                tracker.add(t: solution.times[k], state: UnsafeBufferPointer(rebasing: $0[(k * solution.dimension)..<((k + 1) * solution.dimension)]))
            }
        }
        return tracker.result
    }

    /// The invariants' running drift: max over the outputs seen of |I(t) − I(t0)| / |I(t0)| (absolute when
    /// I(t0) = 0), t0 being the first output; NaN sticks.
    struct InvariantDriftTracker {
        let problem: Problem
        let names: [String]
        var initial: [Double]? = nil
        var drift: [Double]

        init(_ problem: Problem) {
            self.problem = problem
            names = problem.invariants.map(\.name)
            drift = [Double](repeating: 0, count: names.count)
        }

        mutating func add(t: Double, state: UnsafeBufferPointer<Double>) {
            guard !names.isEmpty else { return }
            let values = problem.invariantValues(t: t, state: Array(state))
            guard let initial else { initial = values; return }
            for i in names.indices {
                let scale = initial[i] == 0 ? 1 : abs(initial[i])
                let d = abs(values[i] - initial[i]) / scale
                if d > drift[i] || d.isNaN { drift[i] = d }
            }
        }

        /// Empty without invariants or before the first output.
        var result: [(name: String, drift: Double)] {
            guard initial != nil else { return [] }
            return Array(zip(names, drift)).map { (name: $0.0, drift: $0.1) }
        }
    }

    /// The running error against the exact solution: max |y − y_exact| and max |y − y_exact| / (atol + rtol·|y_exact|).
    struct ExactErrorTracker {
        let problem: Problem
        let tolerances: Tolerances
        var absolute = 0.0, inTolerances = 0.0
        /// False without an exact solution, or once it was undefined at an output time.
        var available: Bool

        init(_ problem: Problem, _ tolerances: Tolerances) {
            self.problem = problem; self.tolerances = tolerances
            available = problem.hasExactSolution
        }

        mutating func add(t: Double, state: UnsafeBufferPointer<Double>) {
            guard available else { return }
            guard let exact = problem.exactState(at: t) else { available = false; return }
            for (i, value) in state.enumerated() {
                let error = abs(value - exact[i])
                absolute = max(absolute, error)
                inTolerances = max(inTolerances, error / (tolerances.absolute + tolerances.relative * abs(exact[i])))
            }
        }

        var result: (absolute: Double, inTolerances: Double)? { available ? (absolute, inTolerances) : nil }
    }

    /// The stderr line shared by held and streamed runs.
    static func summary(problem: Problem, stepper: StepperKind, tolerances: Tolerances, fixedStep: Double?,
                        outputs: Int, lastTime: Double, statistics s: SolverStatistics,
                        largestDrift: (name: String, drift: Double)?, exactError: Double?) -> String {
        var parts = [
            "\(problem.name): \(stepper.rawValue) "
                + (fixedStep.map { "fixed h = \($0)" }
                    ?? "rtol = \(tolerances.relative), atol = \(tolerances.absolute)"),
            "\(outputs) outputs to t = \(lastTime)",
            "\(s.steps) steps",
            "\(s.rightHandSideEvaluations) RHS evaluations",
            "\(s.jacobianEvaluations) Jacobian evaluations",
            "\(format(s.seconds, digits: 3)) s",
        ]
        if let largest = largestDrift {
            parts.append("max invariant drift (relative) \(format(largest.drift)) (\(largest.name))")
        }
        if let exactError {
            parts.append("max error vs exact \(format(exactError))")
        }
        return parts.joined(separator: "; ")
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
        sink.write(csvHeader(variables: variables))
        solution.states.withUnsafeBufferPointer { states in
            for k in solution.times.indices {
                let row = UnsafeBufferPointer(rebasing: states[(k * solution.dimension)..<((k + 1) * solution.dimension)])
                appendRow(time: solution.times[k], state: row, to: &sink)
            }
        }
        return sink.bytes
    }

    /// `t,<var1>,…` and a newline.
    static func csvHeader(variables: [String]) -> String { "t," + variables.joined(separator: ",") + "\n" }

    /// One CSV row: the time, then each state component, in `description` form.
    static func appendRow(time: Double, state: UnsafeBufferPointer<Double>, to sink: inout ByteSink) {
        time.write(to: &sink)
        for value in state {
            sink.bytes.append(UInt8(ascii: ","))
            value.write(to: &sink)
        }
        sink.bytes.append(UInt8(ascii: "\n"))
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
