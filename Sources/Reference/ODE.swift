// Swift API over GSL odeiv2: steppers, tolerances, systems, solutions and solver errors.
// CONTRACT SKELETON: public signatures are fixed; bodies are filled in by the Reference work.

/// GSL odeiv2 step types; raw values are GSL's names, also used in problem files and on the command line.
public enum StepperKind: String, CaseIterable, Sendable, Codable {
    case rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf
    /// Whether GSL needs the Jacobian for this stepper.
    public var needsJacobian: Bool { fatalError("not implemented") }
    /// Order of accuracy (the maximum order for the multistep methods).
    public var order: Int { fatalError("not implemented") }
}

public struct Tolerances: Sendable, Equatable {
    public var absolute: Double
    public var relative: Double
    public init(absolute: Double, relative: Double) { self.absolute = absolute; self.relative = relative }
}

/// dy/dt = f(t, y) as GSL sees it. Closures must not allocate in the hot loop.
public struct ODESystem: @unchecked Sendable {
    public var dimension: Int
    /// f(t, y) into dydt.
    public var rightHandSide: (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    /// (t, y, dfdy row-major d×d, dfdt); required by the implicit steppers.
    public var jacobian: ((Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)?
    public init(dimension: Int,
                rightHandSide: @escaping (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void,
                jacobian: ((Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)? = nil) {
        self.dimension = dimension; self.rightHandSide = rightHandSide; self.jacobian = jacobian
    }
}

/// Work counters of one solve.
public struct SolverStatistics: Sendable, Equatable {
    public var steps: Int = 0
    public var rightHandSideEvaluations: Int = 0
    public var jacobianEvaluations: Int = 0
    public var seconds: Double = 0
    public init() {}
}

/// A solver failure: what happened, GSL's message, where (t, h), and a hint.
public struct SolverError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case stepSizeUnderflow, nonFiniteState, tooManySteps, badFunction, missingJacobian, gsl(code: Int32) }
    public var kind: Kind
    public var gslMessage: String
    public var time: Double
    public var stepSize: Double
    public var hint: String
    public init(kind: Kind, gslMessage: String, time: Double, stepSize: Double, hint: String) {
        self.kind = kind; self.gslMessage = gslMessage; self.time = time; self.stepSize = stepSize; self.hint = hint
    }
    /// e.g. "step size underflow at t = 12.3 (h = 1e-15): the problem may be stiff; try --method msbdf"
    public var description: String { fatalError("not implemented") }
}

/// A trajectory at the output times. When the solve failed, holds every output reached before the failure.
public struct Solution: Sendable {
    public var dimension: Int
    public var times: [Double]
    /// Row-major (times.count, dimension).
    public var states: [Double]
    public var statistics: SolverStatistics
    public var failure: SolverError?
    public init(dimension: Int, times: [Double], states: [Double], statistics: SolverStatistics, failure: SolverError?) {
        self.dimension = dimension; self.times = times; self.states = states; self.statistics = statistics; self.failure = failure
    }
    public func state(_ index: Int) -> ArraySlice<Double> { states[(index * dimension)..<((index + 1) * dimension)] }
}

/// Integrates from t0 to t1, recording the state every `outputStep` (and at t1).
/// Adaptive by default (GSL driver, `tolerances`); with `fixedStep`, takes steps of exactly that size.
/// Never throws: a failure is returned in `Solution.failure` with the partial trajectory.
public func solve(_ system: ODESystem, initial: [Double], from t0: Double, to t1: Double, outputStep: Double,
                  stepper: StepperKind = .rk8pd, tolerances: Tolerances = .init(absolute: 1e-10, relative: 1e-10),
                  fixedStep: Double? = nil, maxSteps: Int = 10_000_000) -> Solution {
    fatalError("not implemented")
}

/// Integrates adaptively from t0 until `stop(t, y)` returns true after an accepted step, or t reaches tMax.
/// Records every accepted step. Used by the eigenvector flows ("run until ‖dx/dt‖/‖x‖ < tol").
public func solve(_ system: ODESystem, initial: [Double], from t0: Double, until tMax: Double,
                  stepper: StepperKind = .rk8pd, tolerances: Tolerances = .init(absolute: 1e-10, relative: 1e-10),
                  stop: (Double, UnsafePointer<Double>) -> Bool) -> Solution {
    fatalError("not implemented")
}

/// The GSL library version string, for manifests.
public var gslVersion: String { fatalError("not implemented") }
