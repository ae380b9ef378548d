// An ODE problem as read from a problem file: equations, parameters, initial state, span, sampling box,
// invariants and exact solution.
import Foundation

/// An initial-value problem dy/dt = f(t, y) declared in a `problems/*.toml` file.
public struct Problem: Sendable {
    public var name: String
    public var title: String
    /// The file it was read from, if any.
    public var file: URL?
    /// Names of the state components, in state-vector order.
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
    /// Largest Lyapunov exponent, when the file gives one.
    public var lyapunov: Double?

    /// The declarations as written, so that `setting` can recompile.
    let source: ProblemSource
    /// What the declarations compiled to with the current parameter values.
    let compiled: CompiledProblem

    /// Conserved quantities: name and expression. Each expression's slots are the variables followed by `t`
    /// (parameters are folded in), so evaluate it with `state + [t]`, or use `invariantValues(t:state:)`.
    public var invariants: [(name: String, expression: Expression)] { compiled.invariants }
    /// Closed-form solution, one expression per variable, when the file gives one.
    public var hasExactSolution: Bool { compiled.exact != nil }
    /// The exact solution's expressions (slots `x_0, …, t_0, t`), when the file gives one.
    public var exactSolution: [Expression]? { compiled.exact }
    /// The right-hand side and its symbolic Jacobian.
    public var vectorField: VectorField { compiled.vectorField }

    public var dimension: Int { variables.count }

    /// Names of the parameters, sorted.
    public var parameterNames: [String] { source.parameters.map(\.name) }

    init(source: ProblemSource, overrides: [String: Double] = [:]) throws(ProblemError) {
        let built = try CompiledProblem(source: source, overrides: overrides)
        self.source = source
        self.compiled = built
        name = source.name
        title = source.title
        file = nil
        variables = source.variables
        parameters = built.parameters
        initial = built.initial
        time = built.time
        reference = source.reference
        sampling = built.sampling
        transient = built.transient
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
                ?? "parameters: \(parameterNames.joined(separator: ", ")); variables: \(variables.joined(separator: ", "))"
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

    /// The exact state at time t for this problem's initial state, when the file gives a closed form.
    public func exactState(at t: Double) -> [Double]? {
        guard let exact = compiled.exact else { return nil }
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

/// f(t, y) and its Jacobian, compiled from the problem's equations. Evaluation is allocation-free and thread-safe.
public final class VectorField: Sendable {
    public let dimension: Int
    /// The equations f_i, over the slots `variables + ["t"]`, parameters folded in.
    public let equations: [Expression]
    private let rightHandSide: Program
    private let jacobianProgram: Program
    /// The same functions compiled to machine code, when a C compiler is at hand (see `backend`).
    private let native: NativeFunctions?
    /// How f and the Jacobian are evaluated: `native`, or `interpreted (reason)`.
    public let backend: String

    /// dydt = f(t, y). `dydt` must not overlap `y` (GSL never passes the same array).
    @inline(__always)
    public func evaluate(t: Double, state y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
        assert(UnsafePointer(dydt) != y, "evaluate: dydt must not alias y")
        if let native {
            native.rightHandSide(t, y, dydt)
        } else {
            rightHandSide.run(inputs: y, extra: t, output0: dydt, output1: dydt)
        }
    }

    /// dfdy[i * d + j] = ∂f_i/∂y_j (row-major, as GSL expects) and dfdt[i] = ∂f_i/∂t.
    @inline(__always)
    public func jacobian(t: Double, state y: UnsafePointer<Double>,
                         dfdy: UnsafeMutablePointer<Double>, dfdt: UnsafeMutablePointer<Double>) {
        // The programs write the structurally non-zero entries only.
        dfdy.update(repeating: 0, count: dimension * dimension)
        dfdt.update(repeating: 0, count: dimension)
        if let native {
            native.jacobian(t, y, dfdy, dfdt)
        } else {
            jacobianProgram.run(inputs: y, extra: t, output0: dfdy, output1: dfdt)
        }
    }

    /// f(t, y) by the interpreted program, whatever the backend (tests compare the two).
    func evaluateInterpreted(t: Double, state: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { rightHandSide.run(inputs: y.baseAddress!, extra: t, output0: $0.baseAddress!, output1: $0.baseAddress!) }
        }
        return out
    }

    /// The Jacobian by the interpreted program, whatever the backend.
    func jacobianInterpreted(t: Double, state: [Double]) -> (dfdy: [Double], dfdt: [Double]) {
        var dfdy = [Double](repeating: 0, count: dimension * dimension)
        var dfdt = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in
            dfdy.withUnsafeMutableBufferPointer { a in
                dfdt.withUnsafeMutableBufferPointer { b in
                    jacobianProgram.run(inputs: y.baseAddress!, extra: t, output0: a.baseAddress!, output1: b.baseAddress!)
                }
            }
        }
        return (dfdy, dfdt)
    }

    /// Convenience for tests and non-hot paths.
    public func evaluate(t: Double, state: [Double]) -> [Double] {
        precondition(state.count == dimension)
        var out = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { evaluate(t: t, state: y.baseAddress!, into: $0.baseAddress!) } }
        return out
    }

    /// Convenience for tests and non-hot paths: (dfdy row-major, dfdt).
    public func jacobian(t: Double, state: [Double]) -> (dfdy: [Double], dfdt: [Double]) {
        precondition(state.count == dimension)
        var dfdy = [Double](repeating: 0, count: dimension * dimension)
        var dfdt = [Double](repeating: 0, count: dimension)
        state.withUnsafeBufferPointer { y in
            dfdy.withUnsafeMutableBufferPointer { a in
                dfdt.withUnsafeMutableBufferPointer { b in
                    jacobian(t: t, state: y.baseAddress!, dfdy: a.baseAddress!, dfdt: b.baseAddress!)
                }
            }
        }
        return (dfdy, dfdt)
    }

    /// Number of instructions of the compiled right-hand side and Jacobian (shared subexpressions counted once).
    public var instructionCounts: (rightHandSide: Int, jacobian: Int) {
        (rightHandSide.instructionCount, jacobianProgram.instructionCount)
    }

    /// Compiles the equations `f[i]`, trees over slots `0..<d` (the state) and `d` (t).
    init(equations f: [Node], variables: [String], texts: [String?]) {
        let d = f.count
        dimension = d
        let slots = variables + ["t"]
        equations = f.indices.map { Expression(node: f[$0], slots: slots, text: nil) }
        rightHandSide = Program(roots: f.enumerated().map { ($0.element, 0, $0.offset) }, inputCount: d)
        // Only the non-zero entries: each f_i is differentiated by the slots it reads; `jacobian` zeroes the rest.
        var roots: [(node: Node, target: Int, index: Int)] = []
        for i in 0..<d {
            var used = Set<Int>()
            f[i].collectSlots(into: &used)
            for j in used.sorted() {
                let derivative = f[i].derivative(j)
                if derivative.constantValue == 0 { continue }
                roots.append(j < d ? (derivative, 0, i * d + j) : (derivative, 1, i))
            }
        }
        jacobianProgram = Program(roots: roots, inputCount: d)
        (native, backend) = NativeCode.compile(rightHandSide: f, jacobian: roots, dimension: d)
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
