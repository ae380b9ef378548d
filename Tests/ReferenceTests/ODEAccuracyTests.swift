// GSL odeiv2 through the Swift API against exact solutions, the convergence order of the fixed-step steppers,
// and the stiff Van der Pol oscillator.
import Foundation
import Testing
@testable import Reference

@Suite struct ODEAccuracyTests {
    /// Largest |y − y_exact| / (atol + rtol·|y_exact|) over every output of the solution.
    func worstScaledError(_ solution: Solution, tolerances: Tolerances, exact: (Double) -> [Double]) -> Double {
        var worst = 0.0
        for (k, t) in solution.times.enumerated() {
            let expected = exact(t)
            for (i, value) in solution.state(k).enumerated() {
                let scale = tolerances.absolute + tolerances.relative * abs(expected[i])
                worst = max(worst, abs(value - expected[i]) / scale)
            }
        }
        return worst
    }

    @Test func harmonicOscillatorMatchesExactSolution() {
        let omega = 2.0, x0 = 1.0, v0 = 0.5
        let tolerances = Tolerances(absolute: 1e-10, relative: 1e-10)
        let solution = solve(Systems.harmonicOscillator(omega: omega), initial: [x0, v0], from: 0, to: 20,
                             outputStep: 0.01, stepper: .rk8pd, tolerances: tolerances)
        #expect(solution.failure == nil)
        #expect(solution.times.count == 2001)
        #expect(solution.times.last == 20)
        let worst = worstScaledError(solution, tolerances: tolerances) {
            Systems.harmonicOscillatorExact(omega: omega, x0: x0, v0: v0, t: $0)
        }
        #expect(worst < 100, "worst error is \(worst) × (atol + rtol·|y|)")
    }

    @Test(arguments: [StepperKind.rk8pd, .rkf45, .rkck, .msadams])
    func exponentialDecayMatchesExactSolution(stepper: StepperKind) {
        let tolerances = Tolerances(absolute: 1e-10, relative: 1e-10)
        let solution = solve(Systems.exponentialDecay(rate: 0.5), initial: [3], from: 0, to: 20, outputStep: 0.5,
                             stepper: stepper, tolerances: tolerances)
        #expect(solution.failure == nil)
        #expect(solution.times.count == 41)
        let worst = worstScaledError(solution, tolerances: tolerances) { [3 * exp(-0.5 * $0)] }
        #expect(worst < 100, "\(stepper): worst error is \(worst) × (atol + rtol·|y|)")
    }

    @Test func implicitSteppersMatchExactSolutionWithJacobian() {
        let rate = 0.5
        let system = ODESystem(dimension: 1, rightHandSide: { _, y, dydt in dydt[0] = -rate * y[0] },
                               jacobian: { _, _, dfdy, dfdt in dfdy[0] = -rate; dfdt[0] = 0 })
        let tolerances = Tolerances(absolute: 1e-10, relative: 1e-10)
        for stepper in [StepperKind.bsimp, .msbdf, .rk4imp] {
            let solution = solve(system, initial: [3], from: 0, to: 10, outputStep: 0.5, stepper: stepper,
                                 tolerances: tolerances)
            #expect(solution.failure == nil)
            #expect(solution.statistics.jacobianEvaluations > 0, "\(stepper) never evaluated the Jacobian")
            let worst = worstScaledError(solution, tolerances: tolerances) { [3 * exp(-rate * $0)] }
            #expect(worst < 100, "\(stepper): worst error is \(worst) × (atol + rtol·|y|)")
        }
    }

    @Test func outputGridEndsExactlyAtEndTime() {
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [1], from: 0, to: 1.05, outputStep: 0.1)
        #expect(solution.failure == nil)
        #expect(solution.times.count == 12)
        #expect(solution.times[10] == 1.0)
        #expect(solution.times.last == 1.05)
        #expect(abs(solution.states.last! - exp(-1.05)) < 1e-9)
    }

    @Test func backwardIntegrationRetracesTheDecay() {
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [exp(-2)], from: 2, to: 0, outputStep: 0.5)
        #expect(solution.failure == nil)
        #expect(solution.times == [2, 1.5, 1, 0.5, 0])
        #expect(abs(solution.states.last! - 1) < 1e-8)
    }

    @Test func statisticsCountTheWork() {
        let solution = solve(Systems.harmonicOscillator(omega: 1), initial: [1, 0], from: 0, to: 10, outputStep: 1,
                             stepper: .rk4, fixedStep: 0.01)
        #expect(solution.failure == nil)
        #expect(solution.statistics.steps == 1000)
        // Never fewer than the 4 stages of classical RK4 per step (GSL's rk4 adds step doubling for its error).
        #expect(solution.statistics.rightHandSideEvaluations >= 4 * 1000)
        #expect(solution.statistics.jacobianEvaluations == 0)
        #expect(solution.statistics.seconds > 0)
    }

    /// Error at t = 5 of fixed steps h on the harmonic oscillator; the order is the slope of log error vs log h.
    func convergenceOrder(_ stepper: StepperKind) -> (order: Double, errors: [Double]) {
        let steps = [0.1, 0.05, 0.025, 0.0125]
        let system = Systems.vanDerPol(mu: 0)  // μ = 0: the harmonic oscillator x'' = −x, with its Jacobian
        let errors = steps.map { h in
            let solution = solve(system, initial: [1, 0], from: 0, to: 5, outputStep: 0.5, stepper: stepper,
                                 fixedStep: h)
            precondition(solution.failure == nil)
            precondition(solution.statistics.steps == 5 * Int((1 / h).rounded()))
            let exact = Systems.harmonicOscillatorExact(omega: 1, x0: 1, v0: 0, t: 5)
            let last = Array(solution.state(solution.times.count - 1))
            return hypot(last[0] - exact[0], last[1] - exact[1])
        }
        return (leastSquaresSlope(x: steps.map { log($0) }, y: errors.map { log($0) }), errors)
    }

    func leastSquaresSlope(x: [Double], y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        return sxy / sxx
    }

    /// Observed order of fixed steps. GSL's rk2 is the embedded Runge–Kutta (2, 3) pair that advances with the
    /// 3rd-order Kutta formula y + h(k1 + 4k2 + k3)/6 (its order-2 member only serves the error estimate), so its
    /// solution converges with order 3 (GSL ode-initval2/rk2.c).
    @Test(arguments: [(StepperKind.rk2, 3.0), (.rk4, 4), (.rk1imp, 1), (.rk2imp, 2), (.rk4imp, 4)])
    func fixedStepsConvergeWithTheirOrder(stepper: StepperKind, expected: Double) {
        let (order, errors) = convergenceOrder(stepper)
        #expect(abs(order - expected) < 0.3, "\(stepper) observed order \(order), errors \(errors)")
    }

    @Test func declaredOrdersMatchGSL() {
        for stepper in StepperKind.allCases where stepper != .msadams && stepper != .msbdf {
            #expect(stepper.order == stepper.gslReportedOrder, "\(stepper)")
        }
    }

    @Test(arguments: [StepperKind.msbdf, .bsimp])
    func stiffVanDerPolSolvedByImplicitSteppers(stepper: StepperKind) {
        let tolerances = Tolerances(absolute: 1e-8, relative: 1e-8)
        let solution = solve(Systems.vanDerPol(mu: 1000), initial: [2, 0], from: 0, to: 3000, outputStep: 10,
                             stepper: stepper, tolerances: tolerances)
        #expect(solution.failure == nil, "\(solution.failure.map(String.init(describing:)) ?? "")")
        #expect(solution.times.last == 3000)
        #expect(solution.statistics.jacobianEvaluations > 0)
        #expect(solution.statistics.steps < 20_000, "\(stepper) took \(solution.statistics.steps) steps")
        // The relaxation oscillation stays on its limit cycle: |x| ≤ ~2.
        let x = stride(from: 0, to: solution.states.count, by: 2).map { solution.states[$0] }
        #expect(x.allSatisfy { abs($0) < 2.1 })
    }

    @Test func stiffVanDerPolImplicitSteppersAgree() {
        let tolerances = Tolerances(absolute: 1e-9, relative: 1e-9)
        let ends = [StepperKind.msbdf, .bsimp].map { stepper in
            solve(Systems.vanDerPol(mu: 1000), initial: [2, 0], from: 0, to: 1000, outputStep: 100,
                  stepper: stepper, tolerances: tolerances).states.suffix(2)
        }
        #expect(abs(ends[0].first! - ends[1].first!) < 1e-5, "x(1000): msbdf \(ends[0].first!), bsimp \(ends[1].first!)")
    }

    @Test func stiffVanDerPolCostsAnExplicitStepperFarMoreSteps() {
        let tolerances = Tolerances(absolute: 1e-8, relative: 1e-8)
        let implicit = solve(Systems.vanDerPol(mu: 1000), initial: [2, 0], from: 0, to: 3000, outputStep: 10,
                             stepper: .msbdf, tolerances: tolerances)
        let budget = 20 * implicit.statistics.steps
        let explicit = solve(Systems.vanDerPol(mu: 1000, withJacobian: false), initial: [2, 0], from: 0, to: 3000,
                             outputStep: 10, stepper: .rkf45, tolerances: tolerances, maxSteps: budget)
        #expect(explicit.failure?.kind == .tooManySteps || explicit.statistics.steps > 10 * implicit.statistics.steps,
                "rkf45 took \(explicit.statistics.steps) steps, msbdf \(implicit.statistics.steps)")
    }
}
