// An ODE problem as read from a problem file: equations, parameters, initial state, span, sampling box,
// invariants and exact solution.
import Foundation

/// An initial-value problem dy/dt = f(t, y) declared in a `problems/*.toml` file.
public struct Problem: Sendable {
    public var name: String
    public var title: String
    /// The file it was read from, if any.
    public var file: URL?
    /// Names of the state components, in state-vector order: a scalar variable's name, an array variable's sites
    /// `x[0]`, …, `x[n-1]`.
    public var variables: [String]
    /// Parameter values after constant folding and `--set` overrides, by name.
    public var parameters: [String: Double]
    public var initial: [Double]
    public var time: TimeSpan
    public var reference: ReferenceSettings
    /// Box for random initial states, one range per variable (in `variables` order); nil when the file has none.
    public var sampling: [ClosedRange<Double>]?
    /// Time to integrate from a sampled state before it is used (0 when absent).
    public var transient: Double
    /// Per state component, the period of an angle (the file's `[periodic]` table; nil for the others): the
    /// learned models see it reduced to [−P/2, P/2), and errors are measured on the circle.
    public var periods: [Double?]
    /// The period P of the external drive (the file's `[forcing]` table), nil for an autonomous problem: the learned
    /// models also see the drive's phase, sin(2πt/P) and cos(2πt/P), which the state alone does not tell.
    public var forcingPeriod: Double?
    /// Largest Lyapunov exponent, when the file gives one.
    public var lyapunov: Double?
    /// Settings of the learned models that the file declares (its `[learning]` table); empty when it has none.
    public var learning: LearningSettings { source.learning }

    /// An error about one of the file's declarations, naming the file and the key's line: for checks that need
    /// what the Problems module does not know (the model names of `[learning]`).
    public func declarationError(_ key: String, _ message: String, hint: String? = nil) -> ProblemError {
        source.error(key, message, hint: hint)
    }

    /// The declarations as written, so that `setting` can recompile.
    let source: ProblemSource
    /// What the declarations compiled to with the current parameter values.
    let compiled: CompiledProblem

    /// Conserved quantities: name and expression. Each expression's slots are the variables followed by `t`
    /// (parameters are folded in), so evaluate it with `state + [t]`, or use `invariantValues(t:state:)`.
    public var invariants: [(name: String, expression: Expression)] { compiled.invariants }
    /// Closed-form solution, one expression per variable, when the file gives one.
    public var hasExactSolution: Bool { compiled.exact != nil }
    /// The exact solution's expressions, one per state component (slots: the initial state `x_0, …` or
    /// `x_0[0], …`, then `t_0`, `t`), when the file gives one.
    public var exactSolution: [Expression]? { compiled.exact }
    /// The right-hand side and its symbolic Jacobian.
    public var vectorField: VectorField { compiled.vectorField }

    public var dimension: Int { variables.count }

    /// The state components for messages: scalars by name, an array as `x[0] … x[39]`.
    public var variablesSummary: String {
        var parts: [String] = [], k = 0
        while k < variables.count {
            if let array = arrayVariables.first(where: { $0.offset == k }) {
                parts.append("\(array.name)[0] … \(array.name)[\(array.count - 1)]")
                k += array.count
            } else {
                parts.append(variables[k])
                k += 1
            }
        }
        return parts.joined(separator: ", ")
    }

    /// The array variables and where their sites lie in the state vector (empty for a problem of scalars).
    public var arrayVariables: [ArrayVariable] { compiled.arrayVariables }

    /// Names of the parameters, sorted.
    public var parameterNames: [String] { source.parameters.map(\.name) }

    init(source: ProblemSource, overrides: [String: Double] = [:]) throws(ProblemError) {
        let built = try CompiledProblem(source: source, overrides: overrides)
        self.source = source
        self.compiled = built
        name = source.name
        title = source.title
        file = nil
        variables = built.componentNames
        parameters = built.parameters
        initial = built.initial
        time = built.time
        reference = source.reference
        sampling = built.sampling
        transient = built.transient
        periods = built.periods
        forcingPeriod = built.forcingPeriod
        lyapunov = source.lyapunov
    }

    /// Overrides a parameter or an initial value (`NAME=VALUE` of `--set`; `x` or `x_0` set the initial value of `x`).
    ///
    /// A parameter change recompiles the equations, and re-derives the parameters, initial values, time span and
    /// sampling box that are expressions of it (unless they were changed on this value directly).
    public func setting(_ name: String, to value: Double) throws -> Problem {
        guard value.isFinite else {
            throw ProblemError(file: source.file, key: name, message: "value for '\(name)' must be finite, got \(value)")
        }
        let base = name.hasSuffix("_0") ? String(name.dropLast(2)) : name
        if let i = variables.firstIndex(of: name) ?? variables.firstIndex(of: base) {
            var copy = self
            copy.initial[i] = value
            return copy
        }
        guard parameterNames.contains(name) else {
            let known = parameterNames + variables
            let hint = closest(to: name, in: known).map { "did you mean '\($0)'?" }
                ?? "parameters: \(parameterNames.joined(separator: ", ")); variables: \(variablesSummary)"
            throw ProblemError(file: source.file, key: name, message: "unknown parameter or variable '\(name)'", hint: hint)
        }
        // Keep earlier overrides, including parameters changed on this value directly.
        var overrides = compiled.overrides
        for (key, v) in parameters where compiled.parameters[key] != v { overrides[key] = v }
        overrides[name] = value
        var copy = try Problem(source: source, overrides: overrides)
        copy.file = file
        copy.name = self.name
        copy.title = title
        copy.reference = reference
        copy.lyapunov = lyapunov
        // Values changed on this problem directly stay as they are.
        for i in initial.indices where initial[i] != compiled.initial[i] { copy.initial[i] = initial[i] }
        if time != compiled.time { copy.time = time }
        if transient != compiled.transient { copy.transient = transient }
        if !Problem.sameBox(sampling, compiled.sampling) { copy.sampling = sampling }
        return copy
    }

    private static func sameBox(_ a: [ClosedRange<Double>]?, _ b: [ClosedRange<Double>]?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (a?, b?): a == b
        default: false
        }
    }

    /// The same problem started from `state` at `time.start`.
    public func starting(at state: [Double]) -> Problem {
        precondition(state.count == dimension, "state of length \(state.count) for a problem of dimension \(dimension)")
        var copy = self
        copy.initial = state
        return copy
    }

    /// Values of the invariants at (t, y), in `invariants` order.
    public func invariantValues(t: Double, state: [Double]) -> [Double] {
        precondition(state.count == dimension, "state of length \(state.count) for a problem of dimension \(dimension)")
        let values = state + [t]
        return compiled.invariants.map { $0.expression.evaluate(values) }
    }

    /// The exact state at time t for this problem's initial state, when the file gives a closed form. An array
    /// variable's exact solution is written for the file's own initial state (it cannot name the initial values),
    /// so it is nil once an array's initial state was changed (`starting(at:)`, `--set`).
    public func exactState(at t: Double) -> [Double]? {
        guard let exact = compiled.exact else { return nil }
        for array in arrayVariables {
            let sites = array.offset..<(array.offset + array.count)
            guard initial[sites] == compiled.initial[sites] else { return nil }
        }
        let values = initial + [time.start, t]
        return exact.map { $0.evaluate(values) }
    }
}

public struct TimeSpan: Sendable, Equatable {
    public var start: Double
    public var end: Double
    /// Output step, and the step the learned models take.
    public var step: Double
    public init(start: Double, end: Double, step: Double) { self.start = start; self.end = end; self.step = step }
}

/// The `[reference]` table: GSL stepper name and tolerances (defaults rk8pd, 1e-10, 1e-10).
public struct ReferenceSettings: Sendable, Equatable {
    public var method: String
    public var relativeTolerance: Double
    public var absoluteTolerance: Double
    /// The GSL odeiv2 stepper names a problem file may give.
    public static let methods = referenceMethods
    public init(method: String = "rk8pd", relativeTolerance: Double = 1e-10, absoluteTolerance: Double = 1e-10) {
        self.method = method; self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
    }
}

/// A user mistake in a problem or matrix file: names the file, and where known the line, key and column.
public struct ProblemError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var key: String?
    public var column: Int?
    public var message: String
    /// Advice shown in parentheses at the end: `did you mean 'rho'?`, or the valid choices.
    public var hint: String?
    public init(file: String? = nil, line: Int? = nil, key: String? = nil, column: Int? = nil, message: String,
                hint: String? = nil) {
        self.file = file; self.line = line; self.key = key; self.column = column; self.message = message
        self.hint = hint
    }
    /// e.g. `problems/lorenz.toml:12: equations.y: unknown name 'rhoo' at column 7 (did you mean 'rho'?)`
    public var description: String {
        var text = ""
        if let file { text += file }
        if let line { text += text.isEmpty ? "line \(line)" : ":\(line)" }
        if !text.isEmpty { text += ": " }
        if let key { text += "\(key): " }
        text += message
        if let column { text += " at column \(column)" }
        if let hint { text += " (\(hint))" }
        return text
    }
}
