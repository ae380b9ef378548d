// Swift API over GSL odeiv2: steppers, tolerances, systems, solutions and solver errors.
// The GSL calls themselves live in GSL/ (Driver, Trampoline, Status); this file holds the output-grid logic.

/// GSL odeiv2 step types; raw values are GSL's names, also used in problem files and on the command line.
public enum StepperKind: String, CaseIterable, Sendable, Codable {
    case rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf
    /// Whether GSL needs the Jacobian for this stepper: the implicit Runge–Kutta methods, Bulirsch–Stoer
    /// (Bader–Deuflhard) and BDF. msadams iterates functionally and needs none.
    public var needsJacobian: Bool {
        switch self {
        case .rk1imp, .rk2imp, .rk4imp, .bsimp, .msbdf: true
        case .rk2, .rk4, .rkf45, .rkck, .rk8pd, .msadams: false
        }
    }
    /// Order of accuracy (the maximum order for the multistep methods) as GSL's `gsl_odeiv2_step_order` reports it
    /// to its step-size control. Two caveats from GSL's sources: `rk2` controls its step with the order-2 estimate
    /// but advances with the 3rd-order Kutta formula, so fixed steps converge with order 3; `bsimp` reports the
    /// order of its extrapolation at allocation (12), which adapts during a solve.
    public var order: Int {
        switch self {
        case .rk1imp: 1
        case .rk2, .rk2imp: 2
        case .rk4, .rk4imp: 4
        case .rkf45, .rkck: 5
        case .bsimp: 12
        case .rk8pd: 8
        case .msadams: 12
        case .msbdf: 5
        }
    }
    /// One line (at most 68 characters) for help texts and tables.
    public var summary: String {
        switch self {
        case .rk2: "explicit embedded Runge-Kutta (2, 3)"
        case .rk4: "explicit classical 4th-order Runge-Kutta"
        case .rkf45: "explicit embedded Runge-Kutta-Fehlberg (4, 5)"
        case .rkck: "explicit embedded Runge-Kutta Cash-Karp (4, 5)"
        case .rk8pd: "explicit embedded Runge-Kutta Prince-Dormand (8, 9)"
        case .rk1imp: "implicit Euler (Gaussian 1st order); needs the Jacobian"
        case .rk2imp: "implicit Gaussian 2nd-order Runge-Kutta; needs the Jacobian"
        case .rk4imp: "implicit Gaussian 4th-order Runge-Kutta; needs the Jacobian"
        case .bsimp: "implicit Bulirsch-Stoer (Bader-Deuflhard); stiff; needs the Jacobian"
        case .msadams: "linear multistep Adams, orders 1-12; non-stiff"
        case .msbdf: "linear multistep BDF, orders 1-5; stiff; needs the Jacobian"
        }
    }
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
    /// e.g. "step size underflow at t = 12.3 (h = 1e-15): GSL: generic failure; the problem may be stiff; try
    /// --method msbdf (or bsimp); or the solution may blow up near this time"
    public var description: String {
        var text = "\(kind.phrase) at t = \(time)"
        if stepSize.isFinite && stepSize != 0 { text += " (h = \(stepSize))" }
        if !gslMessage.isEmpty { text += ": \(gslMessage)" }
        if !hint.isEmpty { text += "; \(hint)" }
        return text
    }
}

extension SolverError.Kind {
    /// What happened, as the start of a message.
    public var phrase: String {
        switch self {
        case .stepSizeUnderflow: "step size underflow"
        case .nonFiniteState: "non-finite state"
        case .tooManySteps: "too many steps"
        case .badFunction: "right-hand side failed"
        case .missingJacobian: "missing Jacobian"
        case .gsl(let code): "GSL failure (status \(code))"
        }
    }
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

/// How a streamed solve ended: work counters, the outputs delivered (the initial state included), the last
/// output time, and the failure if the solve stopped early.
public struct SolveReport: Sendable {
    public var statistics: SolverStatistics
    public var outputCount: Int
    public var lastTime: Double
    public var failure: SolverError?
    public init(statistics: SolverStatistics, outputCount: Int, lastTime: Double, failure: SolverError?) {
        self.statistics = statistics; self.outputCount = outputCount; self.lastTime = lastTime; self.failure = failure
    }
}

/// Integrates from t0 to t1, recording the state every `outputStep` (and at t1).
/// Adaptive by default (GSL driver, `tolerances`); with `fixedStep`, takes steps of exactly that size.
/// Never throws: a failure is returned in `Solution.failure` with the partial trajectory.
///
/// Output times are t0 + k·outputStep (k = 0, 1, …) up to t1, plus t1 itself when it is off that grid.
/// Adaptive: `gsl_odeiv2_driver_apply` to each output time, so steps end exactly on it; `maxSteps` bounds the
/// accepted steps of the whole solve. Fixed: `outputStep` must be a whole multiple of `fixedStep`; the last
/// interval, when shorter than `outputStep`, is divided into equal steps no longer than `fixedStep`.
/// The whole trajectory is held in memory; `solve(…, output:)` hands each output over instead.
public func solve(_ system: ODESystem, initial: [Double], from t0: Double, to t1: Double, outputStep: Double,
                  stepper: StepperKind = .rk8pd, tolerances: Tolerances = .init(absolute: 1e-10, relative: 1e-10),
                  fixedStep: Double? = nil, maxSteps: Int = 10_000_000) -> Solution {
    let d = system.dimension
    var times: [Double] = [], states: [Double] = []
    // Reserve for the grid, but never more than a million rows up front: a failure may come early.
    let rows = min(OutputGrid(from: t0, to: t1, step: outputStep).count, 1 << 20)
    times.reserveCapacity(rows)
    states.reserveCapacity(rows * max(d, 0))
    let report = solve(system, initial: initial, from: t0, to: t1, outputStep: outputStep, stepper: stepper,
                       tolerances: tolerances, fixedStep: fixedStep, maxSteps: maxSteps) { t, y in
        times.append(t)
        states.append(contentsOf: y)
    }
    return Solution(dimension: d, times: times, states: states, statistics: report.statistics, failure: report.failure)
}

/// The same integration as `solve(…) -> Solution`, handing each output (the initial state first) to `output` as
/// it is reached instead of keeping it: memory stays constant however long the trajectory. An error thrown by
/// `output` stops the integration and is rethrown; a solver failure is returned in `SolveReport.failure` after the
/// outputs reached before it.
public func solve<E: Error>(_ system: ODESystem, initial: [Double], from t0: Double, to t1: Double, outputStep: Double,
                            stepper: StepperKind = .rk8pd, tolerances: Tolerances = .init(absolute: 1e-10, relative: 1e-10),
                            fixedStep: Double? = nil, maxSteps: Int = 10_000_000,
                            output: (Double, UnsafeBufferPointer<Double>) throws(E) -> Void) throws(E) -> SolveReport {
    precondition(system.dimension > 0 && initial.count == system.dimension,
                 "initial state has \(initial.count) values for a system of dimension \(system.dimension)")
    precondition(t0.isFinite && t1.isFinite && t1 != t0, "time span must be finite and non-empty")
    precondition(outputStep.isFinite && outputStep > 0, "output step must be positive")
    let stepsPerOutput: Int?
    if let h = fixedStep {
        precondition(h.isFinite && h > 0, "fixed step must be positive")
        let ratio = outputStep / h
        precondition(abs(ratio - ratio.rounded()) <= 1e-9 * ratio && ratio.rounded() >= 1 && ratio < 0x1p53,
                     "output step \(outputStep) is not a whole multiple of the fixed step \(h)")
        stepsPerOutput = Int(ratio.rounded())
    } else {
        stepsPerOutput = nil
    }

    let started = ContinuousClock.now
    func elapsed(_ statistics: SolverStatistics) -> SolverStatistics {
        var statistics = statistics
        let elapsed = (ContinuousClock.now - started).components
        statistics.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        return statistics
    }
    let direction: Double = t1 > t0 ? 1 : -1
    let grid = OutputGrid(from: t0, to: t1, step: outputStep)
    let d = system.dimension
    var outputs = 1, lastTime = t0
    try initial.withUnsafeBufferPointer { (y) throws(E) in try output(t0, y) }

    if let failure = upFrontFailure(system, initial: initial, at: t0, stepper: stepper) {
        return SolveReport(statistics: elapsed(SolverStatistics()), outputCount: outputs, lastTime: lastTime, failure: failure)
    }
    let driver: Driver
    do {
        let hstart = fixedStep ?? min(1e-6, outputStep, abs(t1 - t0))
        driver = try Driver(system: system, stepper: stepper, tolerances: tolerances, initialStep: direction * hstart)
    } catch {
        return SolveReport(statistics: elapsed(SolverStatistics()), outputCount: outputs, lastTime: lastTime, failure: error)
    }

    var failure: SolverError? = nil
    var thrown: E? = nil
    var y = initial
    var t = t0
    y.withUnsafeMutableBufferPointer { buffer in
        let y = buffer.baseAddress!
        outputs: for k in 1..<grid.count {
            let target = grid[k]
            if let stepsPerOutput, let h = fixedStep {
                let interval = abs(target - t)
                let n = interval >= outputStep * (1 - 1e-9)
                    ? stepsPerOutput : max(1, Int((interval / h - 1e-9).rounded(.up)))
                let step = (target - t) / Double(n)
                for _ in 0..<n {
                    if driver.steps >= maxSteps {
                        failure = tooManyStepsError(maxSteps, at: t, stepSize: step, stepper: stepper)
                        break outputs
                    }
                    if let error = driver.fixedStep(&t, step, y) { failure = error; break outputs }
                }
                t = target
            } else {
                let remaining = maxSteps - driver.steps
                guard remaining > 0 else {
                    failure = tooManyStepsError(maxSteps, at: t, stepSize: driver.stepSize, stepper: stepper)
                    break outputs
                }
                if let error = driver.advance(&t, to: target, y, maxSteps: remaining) { failure = error; break }
            }
            guard allFinite(y, d) else {
                failure = nonFiniteStateError(at: t, stepSize: fixedStep ?? driver.stepSize, stepper: stepper)
                break
            }
            do throws(E) { try output(t, UnsafeBufferPointer(buffer)) } catch { thrown = error; break }
            outputs += 1
            lastTime = t
        }
    }
    let statistics = withExtendedLifetime(driver) { elapsed(driver.statistics) }
    if let thrown { throw thrown }
    return SolveReport(statistics: statistics, outputCount: outputs, lastTime: lastTime, failure: failure)
}

/// Integrates adaptively from t0 until `stop(t, y)` returns true after an accepted step, or t reaches tMax.
/// Records every accepted step. Used by the eigenvector flows ("run until ‖dx/dt‖/‖x‖ < tol").
/// A failure (including more than 10 000 000 steps) is returned in `Solution.failure` with the steps so far.
public func solve(_ system: ODESystem, initial: [Double], from t0: Double, until tMax: Double,
                  stepper: StepperKind = .rk8pd, tolerances: Tolerances = .init(absolute: 1e-10, relative: 1e-10),
                  stop: (Double, UnsafePointer<Double>) -> Bool) -> Solution {
    precondition(system.dimension > 0 && initial.count == system.dimension,
                 "initial state has \(initial.count) values for a system of dimension \(system.dimension)")
    precondition(t0.isFinite && tMax.isFinite && tMax != t0, "time span must be finite and non-empty")
    let maxSteps = 10_000_000
    let started = ContinuousClock.now
    let direction: Double = tMax > t0 ? 1 : -1
    let d = system.dimension
    var record = Recorder(dimension: d, capacity: 1024, time: t0, state: initial)

    if let failure = upFrontFailure(system, initial: initial, at: t0, stepper: stepper) {
        return record.solution(statistics: SolverStatistics(), failure: failure, since: started)
    }
    let driver: Driver
    do {
        driver = try Driver(system: system, stepper: stepper, tolerances: tolerances,
                            initialStep: direction * min(1e-6, abs(tMax - t0)))
    } catch {
        return record.solution(statistics: SolverStatistics(), failure: error, since: started)
    }

    var failure: SolverError? = nil
    var y = initial
    var t = t0
    y.withUnsafeMutableBufferPointer { buffer in
        let y = buffer.baseAddress!
        while t != tMax {
            if driver.steps >= maxSteps {
                failure = tooManyStepsError(maxSteps, at: t, stepSize: driver.stepSize, stepper: stepper)
                break
            }
            if let error = driver.adaptiveStep(&t, toward: tMax, y) { failure = error; break }
            guard allFinite(y, d) else {
                failure = nonFiniteStateError(at: t, stepSize: driver.stepSize, stepper: stepper)
                break
            }
            record.append(time: t, state: UnsafeBufferPointer(buffer))
            if stop(t, y) { break }
        }
    }
    return withExtendedLifetime(driver) {
        record.solution(statistics: driver.statistics, failure: failure, since: started)
    }
}

/// The GSL library version string, for manifests.
public var gslVersion: String { gslLibraryVersion }

// MARK: - Output grid and bookkeeping

/// t0 + k·step for k = 0, 1, … while within [t0, t1] (either direction), and t1 itself; a grid time within
/// 1e-9·step of t1 is replaced by t1. Computed on demand: a long grid costs no memory.
struct OutputGrid {
    let start: Double, end: Double, step: Double, direction: Double
    /// k·step for k ≤ whole stays within the span.
    let whole: Int
    let count: Int

    init(from t0: Double, to t1: Double, step: Double) {
        let intervals = abs(t1 - t0) / step + 1e-9
        precondition(intervals < 0x1p53, "an output grid of \(intervals) intervals: callers check the row limit first")
        start = t0; end = t1; self.step = step
        direction = t1 > t0 ? 1 : -1
        whole = Int(intervals.rounded(.down))
        let lastOnGrid = t0 + direction * Double(whole) * step
        count = whole + (abs(lastOnGrid - t1) <= 1e-9 * step ? 1 : 2)
    }

    subscript(k: Int) -> Double {
        k >= count - 1 ? end : start + direction * Double(k) * step
    }
}

/// The output times as an array (for tests and small grids).
func outputGrid(from t0: Double, to t1: Double, step: Double) -> [Double] {
    let grid = OutputGrid(from: t0, to: t1, step: step)
    return (0..<grid.count).map { grid[$0] }
}

/// The trajectory recorded so far: output times and row-major states.
private struct Recorder {
    var dimension: Int
    var times: [Double]
    var states: [Double]

    init(dimension: Int, capacity: Int, time: Double, state: [Double]) {
        self.dimension = dimension
        times = [time]
        times.reserveCapacity(capacity)
        states = state
        states.reserveCapacity(capacity * dimension)
    }

    mutating func append(time: Double, state: UnsafeBufferPointer<Double>) {
        times.append(time)
        states.append(contentsOf: state)
    }

    func solution(statistics: SolverStatistics, failure: SolverError?, since started: ContinuousClock.Instant) -> Solution {
        var statistics = statistics
        let elapsed = (ContinuousClock.now - started).components
        statistics.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        return Solution(dimension: dimension, times: times, states: states, statistics: statistics, failure: failure)
    }
}

/// Failures known before the first step: a non-finite initial state, an implicit stepper without a Jacobian.
private func upFrontFailure(_ system: ODESystem, initial: [Double], at t0: Double, stepper: StepperKind) -> SolverError? {
    if !initial.allSatisfy(\.isFinite) {
        return SolverError(kind: .nonFiniteState, gslMessage: "", time: t0, stepSize: .nan,
                           hint: "the initial state \(initial) is not finite")
    }
    if stepper.needsJacobian && system.jacobian == nil {
        return SolverError(kind: .missingJacobian, gslMessage: "", time: t0, stepSize: .nan,
                           hint: SolverHint.missingJacobian(stepper: stepper))
    }
    return nil
}

private func tooManyStepsError(_ maxSteps: Int, at t: Double, stepSize: Double, stepper: StepperKind) -> SolverError {
    SolverError(kind: .tooManySteps, gslMessage: "the limit of \(maxSteps) steps is reached", time: t,
                stepSize: stepSize, hint: SolverHint.tooManySteps(stepper: stepper))
}

private func nonFiniteStateError(at t: Double, stepSize: Double, stepper: StepperKind) -> SolverError {
    SolverError(kind: .nonFiniteState, gslMessage: "the state is infinite or NaN", time: t, stepSize: stepSize,
                hint: SolverHint.nonFiniteState(stepper: stepper))
}

@inline(__always)
private func allFinite(_ y: UnsafeMutablePointer<Double>, _ count: Int) -> Bool {
    var finite = true
    for i in 0..<count { finite = finite && y[i].isFinite }
    return finite
}
