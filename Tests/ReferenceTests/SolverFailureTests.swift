// Failure semantics: every failure comes back in Solution.failure with its kind, the time reached, a hint, and
// the trajectory up to that time; nothing aborts the process.
import Foundation
import Testing
@testable import Reference

@Suite struct SolverFailureTests {
    @Test func rightHandSideLeavingItsDomainStopsAtTheEdgeWithThePartialTrajectory() throws {
        let solution = solve(Systems.squareRootEdge, initial: [1], from: 0, to: 5, outputStep: 0.25)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .nonFiniteState)
        #expect(abs(failure.time - 2) < 1e-6, "stopped at t = \(failure.time)")
        #expect(failure.description.hasPrefix("non-finite state at t = "))
        #expect(failure.description.contains("blows up"))
        // Every output up to t = 2 is kept, and matches the exact solution.
        #expect(solution.times.last == 2)
        #expect(solution.times.count == 9)
        for (k, t) in solution.times.enumerated() {
            #expect(abs(solution.states[k] - Systems.squareRootEdgeExact(y0: 1, t: t)) < 1e-8)
        }
    }

    @Test func overflowingFixedStepsGiveNonFiniteState() throws {
        // y' = y², y(0) = 1 blows up at t = 1; fixed rk4 steps of 0.05 overflow shortly after.
        let solution = solve(Systems.quadraticBlowUp, initial: [1], from: 0, to: 3, outputStep: 0.1, stepper: .rk4,
                             fixedStep: 0.05)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .nonFiniteState)
        #expect(failure.time >= 0.9 && failure.time < 3, "stopped at t = \(failure.time)")
        #expect(solution.times.count >= 10)
        #expect(solution.states.allSatisfy { $0.isFinite })
        #expect(solution.times.last! <= failure.time)
    }

    @Test func finiteTimeBlowUpUnderAdaptiveStepsStopsNearTheSingularity() throws {
        // The adaptive stepper follows y = 1/(1 − t) until the step underflows or the state overflows near t = 1.
        let solution = solve(Systems.quadraticBlowUp, initial: [1], from: 0, to: 2, outputStep: 0.1)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .stepSizeUnderflow || failure.kind == .nonFiniteState, "\(failure)")
        #expect(abs(failure.time - 1) < 1e-3, "stopped at t = \(failure.time)")
        #expect(solution.times.last! < 1 + 1e-12)
        #expect(solution.times.count == 10 || solution.times.count == 11)
    }

    @Test func stepLimitGivesTooManyStepsWithPartialTrajectory() throws {
        let solution = solve(Systems.harmonicOscillator(omega: 1), initial: [1, 0], from: 0, to: 1000, outputStep: 1,
                             maxSteps: 50)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .tooManySteps)
        #expect(failure.time > 0 && failure.time < 1000)
        #expect(solution.statistics.steps <= 51)
        #expect(solution.times.count >= 2)
        #expect(solution.times.last! <= failure.time)
        #expect(failure.description.hasPrefix("too many steps at t = "))
        #expect(failure.description.contains("--rtol"))
    }

    @Test func fixedStepsRespectTheStepLimitToo() throws {
        let solution = solve(Systems.harmonicOscillator(omega: 1), initial: [1, 0], from: 0, to: 10, outputStep: 1,
                             stepper: .rk4, fixedStep: 0.1, maxSteps: 35)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .tooManySteps)
        #expect(solution.statistics.steps == 35)
        #expect(solution.times == [0, 1, 2, 3])
    }

    @Test func failedFixedStepIsNotCalledAnUnderflow() throws {
        // GSL's msadams cannot converge its corrector at this fixed step and has no smaller step to retry with.
        let solution = solve(Systems.exponentialDecay(rate: 0.5), initial: [1], from: 0, to: 1, outputStep: 0.05,
                             stepper: .msadams, fixedStep: 0.01)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .gsl(code: -1), "\(failure)")
        #expect(failure.description.contains("cannot be retried with a smaller one"))
        #expect(solution.times == [0])
    }

    @Test(arguments: StepperKind.allCases.filter(\.needsJacobian))
    func implicitStepperWithoutJacobianFailsUpFront(stepper: StepperKind) throws {
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [1], from: 0, to: 1, outputStep: 0.1,
                             stepper: stepper)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .missingJacobian)
        #expect(failure.time == 0)
        #expect(solution.times == [0])
        #expect(solution.states == [1])
        #expect(solution.statistics.rightHandSideEvaluations == 0)
        #expect(failure.description.contains("needs the Jacobian"))
    }

    @Test func msadamsNeedsNoJacobian() {
        #expect(!StepperKind.msadams.needsJacobian)
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [1], from: 0, to: 1, outputStep: 0.1,
                             stepper: .msadams)
        #expect(solution.failure == nil)
    }

    @Test func nonFiniteInitialStateFailsUpFront() throws {
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [.nan], from: 0, to: 1, outputStep: 0.1)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .nonFiniteState)
        #expect(failure.time == 0)
        #expect(solution.statistics.rightHandSideEvaluations == 0)
    }

    @Test func stiffProblemUnderExplicitStepperUnderflowsWithStiffnessHint() throws {
        // Robertson-like stiffness pushed to the limit: y' = −1e30·(y − cos t). rk8pd's stability bound forces
        // h ≈ 1e-30, below one ulp of t once t leaves 0, so the step size underflows.
        let system = ODESystem(dimension: 1, rightHandSide: { t, y, dydt in dydt[0] = -1e30 * (y[0] - cos(t)) })
        let solution = solve(system, initial: [1], from: 0, to: 1, outputStep: 0.5, stepper: .rk8pd)
        let failure = try #require(solution.failure)
        #expect(failure.kind == .stepSizeUnderflow || failure.kind == .tooManySteps, "\(failure)")
        #expect(failure.description.contains("try --method msbdf"))
        #expect(failure.time < 1)
    }

    @Test func errorDescriptionReadsLikeTheMessage() {
        let error = SolverError(kind: .stepSizeUnderflow, gslMessage: "GSL: generic failure", time: 12.3,
                                stepSize: 1e-15, hint: "the problem may be stiff; try --method msbdf")
        #expect(error.description
            == "step size underflow at t = 12.3 (h = 1e-15): GSL: generic failure; the problem may be stiff; try --method msbdf")
    }

    @Test func untilOverloadRecordsEveryStepAndStopsWhenAsked() {
        // y' = −y from 1: stop once y < 0.5, i.e. just after t = ln 2.
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [1], from: 0, until: 100) { _, y in y[0] < 0.5 }
        #expect(solution.failure == nil)
        #expect(solution.times.count == solution.statistics.steps + 1)
        #expect(solution.states.last! < 0.5)
        #expect(solution.states[solution.states.count - 2] >= 0.5)
        #expect(solution.times.last! > log(2) && solution.times.last! < 100)
        for (k, t) in solution.times.enumerated() { #expect(abs(solution.states[k] - exp(-t)) < 1e-8) }
    }

    @Test func untilOverloadEndsAtTMaxWhenNeverStopped() {
        let solution = solve(Systems.exponentialDecay(rate: 1), initial: [1], from: 0, until: 3) { _, _ in false }
        #expect(solution.failure == nil)
        #expect(solution.times.last == 3)
        #expect(abs(solution.states.last! - exp(-3)) < 1e-9)
    }

    @Test func untilOverloadReportsFailures() throws {
        let solution = solve(Systems.squareRootEdge, initial: [0], from: 0, until: 5) { _, _ in false }
        let failure = try #require(solution.failure)
        #expect(failure.kind == .nonFiniteState)
        #expect(abs(failure.time - 2) < 1e-6)
        #expect(solution.times.last! <= 2)
    }
}
