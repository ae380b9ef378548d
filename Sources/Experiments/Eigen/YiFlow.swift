// The recurrent network of Yi, Fu & Tang (2004) in continuous time, integrated by GSL until it stops moving,
// and its discrete recurrent form; both look for the largest eigenvector of the scaled operator M.
import Foundation
import Reference

/// Right-hand side of the Yi–Fu–Tang network, dx/dt = −x + f(x), f(x) = [xᵀx M + (1 − xᵀMx) I] x, which
/// simplifies to  dx/dt = ‖x‖² M x − (xᵀMx) x  (with my = M x precomputed).
///
/// Norm: d‖x‖²/dt = 2 xᵀ dx/dt = 2(‖x‖² xᵀMx − xᵀMx ‖x‖²) = 0, so ‖x(t)‖ = ‖x(0)‖ for all t (not the
/// d‖x‖²/dt = 2‖x‖²(1 − ‖x‖²) of Oja-type flows). Equilibria are the eigenvectors of norm ‖x(0)‖; near v_1 the
/// component along v_j decays like exp(−‖x(0)‖²(λ_1 − λ_j) t).
/// Reference: Z. Yi, Y. Fu, H. J. Tang, Comput. Math. Appl. 47 (2004) 1155–1164.
@inline(__always)
func yiVelocity(x: UnsafePointer<Double>, my: UnsafePointer<Double>, into velocity: UnsafeMutablePointer<Double>, count n: Int) {
    var normSquared = 0.0, xMx = 0.0
    for i in 0..<n { normSquared += x[i] * x[i]; xMx += x[i] * my[i] }
    for i in 0..<n { velocity[i] = normSquared * my[i] - xMx * x[i] }
}

/// Settings of the continuous flow.
public struct YiFlowSettings: Codable, Hashable, Sendable {
    /// Stop when ‖dx/dt‖/‖x‖ < tolerance (in the scaled time of M).
    public var tolerance: Double = 1e-10
    public var stepper: StepperKind = .rk8pd
    /// GSL's error control (absolute, relative).
    public var integratorTolerance: Double = 1e-10
    /// Give up at this scaled time.
    public var maximumTime: Double = 1e8
    /// Give up after this many products with A.
    public var maximumProducts: Int = 20_000_000
    public init() {}
}


/// Integrates the Yi flow for M from `start` with GSL until ‖dx/dt‖/‖x‖ < tolerance.
/// GSL records every accepted step, so the solve runs in chunks of `chunk` steps, each restarted from the last state.
public func runYiFlow(_ operator: ScaledOperator, start: [Double], settings: YiFlowSettings,
                      probe: EigenspaceProbe?, angleTarget: Double, chunk: Int = 2000) -> IterationOutcome {
    let n = `operator`.dimension
    let workspace = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n)
    defer { workspace.deallocate() }
    let my = workspace, velocity = workspace + n
    let startProducts = `operator`.products
    let system = ODESystem(dimension: n) { _, x, dxdt in
        `operator`.apply(x, into: my)
        yiVelocity(x: x, my: my, into: dxdt, count: n)
    }
    var recorder = ConvergenceRecorder(probe: probe, angleTarget: angleTarget)
    var state = start
    var time = 0.0, steps = 0
    var converged = false
    var failure: String? = nil
    state.withUnsafeBufferPointer { recorder.observe($0, products: 0, force: true) }

    while !converged && failure == nil {
        var chunkSteps = 0
        let solution = solve(system, initial: state, from: time, until: settings.maximumTime, stepper: settings.stepper,
                             tolerances: Tolerances(absolute: settings.integratorTolerance, relative: settings.integratorTolerance)) { _, x in
            chunkSteps += 1
            // The stopping test: one more product, ‖dx/dt‖/‖x‖ from the velocity at the accepted state.
            `operator`.apply(x, into: my)
            yiVelocity(x: x, my: my, into: velocity, count: n)
            var speedSquared = 0.0, normSquared = 0.0
            for i in 0..<n { speedSquared += velocity[i] * velocity[i]; normSquared += x[i] * x[i] }
            recorder.observe(UnsafeBufferPointer(start: x, count: n), products: `operator`.products - startProducts)
            if (speedSquared / normSquared).squareRoot() < settings.tolerance { converged = true; return true }
            return chunkSteps >= chunk || `operator`.products - startProducts >= settings.maximumProducts
        }
        steps += solution.statistics.steps
        if let last = solution.times.indices.last {
            time = solution.times[last]
            state = Array(solution.state(last))
        }
        if let error = solution.failure {
            failure = "GSL \(settings.stepper.rawValue): \(error.description)"
        } else if !converged {
            if time >= settings.maximumTime {
                failure = "not converged by scaled time \(settings.maximumTime)"
            } else if `operator`.products - startProducts >= settings.maximumProducts {
                failure = "not converged within \(settings.maximumProducts) products"
            }
        }
        if !state.allSatisfy(\.isFinite) { failure = failure ?? "non-finite state at t = \(time)" }
    }
    let products = `operator`.products - startProducts
    state.withUnsafeBufferPointer { recorder.observe($0, products: products, force: true) }
    return IterationOutcome(vector: state, products: products, steps: steps, flowTime: time, converged: converged,
                            failure: failure, productsToAngle: recorder.productsToAngle, history: recorder.history)
}

/// Settings of the discrete iterations (discrete Yi, power, learned).
public struct IterationSettings: Codable, Hashable, Sendable {
    /// Stop when ‖Mx − ρx‖/‖x‖ < tolerance, ρ = xᵀMx/xᵀx.
    public var tolerance: Double = 1e-10
    /// Give up after this many products with A.
    public var maximumProducts: Int = 2_000_000
    public init() {}
}

/// One update of an iteration: from x_k, y = M x_k and ρ = xᵀy/xᵀx, write x_{k+1} into `next`.
typealias UpdateRule = (_ x: UnsafeMutableBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>, _ rho: Double,
                        _ residualNorm: Double, _ next: UnsafeMutableBufferPointer<Double>) -> Void

/// The loop shared by the discrete methods: product, Rayleigh quotient, residual test, update.
/// x_k costs k products; the test at x_k costs one more, reused by the update.
func iterate(_ operator: ScaledOperator, start: [Double], settings: IterationSettings, probe: EigenspaceProbe?,
             angleTarget: Double, update: UpdateRule) -> IterationOutcome {
    let n = `operator`.dimension
    var x = start, y = [Double](repeating: 0, count: n), next = [Double](repeating: 0, count: n)
    var recorder = ConvergenceRecorder(probe: probe, angleTarget: angleTarget)
    let startProducts = `operator`.products
    var converged = false, failure: String? = nil, steps = 0
    x.withUnsafeMutableBufferPointer { x in
        y.withUnsafeMutableBufferPointer { y in
            next.withUnsafeMutableBufferPointer { next in
                while true {
                    let done = `operator`.products - startProducts
                    recorder.observe(UnsafeBufferPointer(x), products: done, force: done == 0)
                    `operator`.apply(x.baseAddress!, into: y.baseAddress!)
                    var xx = 0.0, xy = 0.0
                    for i in 0..<n { xx += x[i] * x[i]; xy += x[i] * y[i] }
                    let rho = xy / xx
                    var residualSquared = 0.0
                    for i in 0..<n { residualSquared += (y[i] - rho * x[i]) * (y[i] - rho * x[i]) }
                    let residual = (residualSquared / xx).squareRoot()
                    guard residual.isFinite else { failure = "non-finite iterate after \(steps) iterations"; break }
                    if residual < settings.tolerance { converged = true; break }
                    if `operator`.products - startProducts >= settings.maximumProducts {
                        failure = "not converged within \(settings.maximumProducts) products (residual \(residual))"; break
                    }
                    update(x, UnsafeBufferPointer(y), rho, residual, next)
                    steps += 1
                    for i in 0..<n { x[i] = next[i] }
                }
            }
        }
    }
    let products = `operator`.products - startProducts
    x.withUnsafeBufferPointer { recorder.observe($0, products: products, force: true) }
    return IterationOutcome(vector: x, products: products, steps: steps, flowTime: nil, converged: converged,
                            failure: failure, productsToAngle: recorder.productsToAngle, history: recorder.history)
}

/// The discrete recurrent form, an RNN unrolled in k: x_{k+1} = x_k + h(−x_k + f(x_k)) = x_k + h(‖x_k‖² M x_k − (x_kᵀMx_k) x_k).
/// No renormalisation: since x_k ⟂ the update, ‖x_{k+1}‖² = ‖x_k‖² + h²‖ẋ_k‖² (the norm creeps up while it moves).
func runDiscreteYi(_ operator: ScaledOperator, start: [Double], step h: Double, settings: IterationSettings,
                   probe: EigenspaceProbe?, angleTarget: Double) -> IterationOutcome {
    let n = `operator`.dimension
    return iterate(`operator`, start: start, settings: settings, probe: probe, angleTarget: angleTarget) { x, y, _, _, next in
        yiVelocity(x: UnsafePointer(x.baseAddress!), my: y.baseAddress!, into: next.baseAddress!, count: n)
        for i in 0..<n { next[i] = x[i] + h * next[i] }
    }
}

/// Power iteration on M + I (spectrum in [0, 2]: the shift makes the wanted end dominant and sends deflated
/// vectors to 0): x_{k+1} = (M x_k + x_k) / ‖M x_k + x_k‖.
func runPowerIteration(_ operator: ScaledOperator, start: [Double], settings: IterationSettings,
                       probe: EigenspaceProbe?, angleTarget: Double) -> IterationOutcome {
    let n = `operator`.dimension
    return iterate(`operator`, start: start, settings: settings, probe: probe, angleTarget: angleTarget) { x, y, _, _, next in
        var lengthSquared = 0.0
        for i in 0..<n { next[i] = y[i] + x[i]; lengthSquared += next[i] * next[i] }
        let inverse = 1 / lengthSquared.squareRoot()
        for i in 0..<n { next[i] *= inverse }
    }
}
