// An ODE problem as read from a problem file: equations, parameters, initial state, span, sampling box,
// invariants and exact solution. CONTRACT SKELETON: public signatures are fixed; bodies are filled in.
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
    /// Conserved quantities: name and expression in t, the variables and parameters.
    public var invariants: [(name: String, expression: Expression)] { fatalError("not implemented") }
    /// Closed-form solution, one expression per variable, when the file gives one.
    public var hasExactSolution: Bool { fatalError("not implemented") }
    /// The right-hand side and its symbolic Jacobian.
    public var vectorField: VectorField { fatalError("not implemented") }

    public var dimension: Int { variables.count }

    /// Overrides a parameter or an initial value (`NAME=VALUE` of `--set`; `x` or `x_0` set the initial value of `x`).
    public func setting(_ name: String, to value: Double) throws -> Problem { fatalError("not implemented") }

    /// The same problem started from `state` at `time.start`.
    public func starting(at state: [Double]) -> Problem { fatalError("not implemented") }

    /// Values of the invariants at (t, y), in `invariants` order.
    public func invariantValues(t: Double, state: [Double]) -> [Double] { fatalError("not implemented") }

    /// The exact state at time t for this problem's initial state, when the file gives a closed form.
    public func exactState(at t: Double) -> [Double]? { fatalError("not implemented") }
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
    public init(method: String = "rk8pd", relativeTolerance: Double = 1e-10, absoluteTolerance: Double = 1e-10) {
        self.method = method; self.relativeTolerance = relativeTolerance; self.absoluteTolerance = absoluteTolerance
    }
}

/// f(t, y) and its Jacobian, compiled from the problem's equations. Evaluation is allocation-free and thread-safe.
public final class VectorField: Sendable {
    public var dimension: Int { fatalError("not implemented") }
    /// dydt = f(t, y).
    public func evaluate(t: Double, state y: UnsafePointer<Double>, into dydt: UnsafeMutablePointer<Double>) {
        fatalError("not implemented")
    }
    /// dfdy[i * d + j] = ∂f_i/∂y_j (row-major, as GSL expects) and dfdt[i] = ∂f_i/∂t.
    public func jacobian(t: Double, state y: UnsafePointer<Double>,
                         dfdy: UnsafeMutablePointer<Double>, dfdt: UnsafeMutablePointer<Double>) {
        fatalError("not implemented")
    }
    init() {}
}

/// A user mistake in a problem or matrix file: names the file, and where known the line, key and column.
public struct ProblemError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var key: String?
    public var column: Int?
    public var message: String
    public init(file: String? = nil, line: Int? = nil, key: String? = nil, column: Int? = nil, message: String) {
        self.file = file; self.line = line; self.key = key; self.column = column; self.message = message
    }
    /// e.g. `problems/lorenz.toml:12: equations.y: unknown name 'rhoo' at column 7`
    public var description: String { fatalError("not implemented") }
}
