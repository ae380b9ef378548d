// The owner of one gsl_odeiv2_driver (stepper, step-size control, evolve) and the gsl_odeiv2_system it points to.
// Every GSL odeiv2 call goes through here and comes back as nil (success) or a classified SolverError.
internal import CGSL

extension StepperKind {
    /// GSL's step type, through the shim's accessors (Swift 6 rejects GSL's mutable global pointers).
    var gslType: UnsafePointer<gsl_odeiv2_step_type> {
        switch self {
        case .rk2: rnnode_step_rk2()
        case .rk4: rnnode_step_rk4()
        case .rkf45: rnnode_step_rkf45()
        case .rkck: rnnode_step_rkck()
        case .rk8pd: rnnode_step_rk8pd()
        case .rk1imp: rnnode_step_rk1imp()
        case .rk2imp: rnnode_step_rk2imp()
        case .rk4imp: rnnode_step_rk4imp()
        case .bsimp: rnnode_step_bsimp()
        case .msadams: rnnode_step_msadams()
        case .msbdf: rnnode_step_msbdf()
        }
    }

    /// The order GSL reports for a freshly allocated stepper of this kind (the current, not maximum, order for
    /// the multistep methods). Used by the tests to check `order`.
    var gslReportedOrder: Int {
        _ = gslErrorHandlerSwitchedOff
        guard let step = gsl_odeiv2_step_alloc(gslType, 1) else { return -1 }
        defer { gsl_odeiv2_step_free(step) }
        return Int(gsl_odeiv2_step_order(step))
    }
}

/// One integration in progress: GSL's driver with its stepper, y-control (`epsabs + epsrel·|y|`) and evolve
/// objects, the system struct GSL points to, and the Swift context behind it. Freed in `deinit`.
final class Driver {
    let stepper: StepperKind
    let context: SystemContext
    private let system: UnsafeMutablePointer<gsl_odeiv2_system>
    private let driver: UnsafeMutablePointer<gsl_odeiv2_driver>

    /// - Parameter initialStep: GSL's `hstart`; its sign gives the direction of integration.
    init(system ode: ODESystem, stepper: StepperKind, tolerances: Tolerances, initialStep: Double) throws(SolverError) {
        _ = gslErrorHandlerSwitchedOff
        self.stepper = stepper
        context = SystemContext(ode)
        system = .allocate(capacity: 1)
        system.initialize(to: gsl_odeiv2_system(
            function: rightHandSideTrampoline,
            jacobian: ode.jacobian == nil ? nil : jacobianTrampoline,
            dimension: ode.dimension,
            params: context.opaque))
        guard let allocated = gsl_odeiv2_driver_alloc_y_new(
            system, stepper.gslType, initialStep, tolerances.absolute, tolerances.relative)
        else {
            system.deallocate()
            throw SolverError(kind: .gsl(code: GSLStatus.invalidArgument.code),
                              gslMessage: "GSL: could not allocate the \(stepper.rawValue) driver",
                              time: .nan, stepSize: initialStep,
                              hint: "check the tolerances (both ≥ 0, not both 0) and the initial step")
        }
        driver = allocated
    }

    deinit {
        gsl_odeiv2_driver_free(driver)
        system.deinitialize(count: 1)
        system.deallocate()
    }

    /// Accepted steps since the driver was made (`evolve->count`).
    var steps: Int { Int(driver.pointee.e.pointee.count) }
    /// The step size GSL will try next, or the one that failed.
    var stepSize: Double { driver.pointee.h }

    var statistics: SolverStatistics {
        var statistics = SolverStatistics()
        statistics.steps = steps
        statistics.rightHandSideEvaluations = context.rightHandSideEvaluations
        statistics.jacobianEvaluations = context.jacobianEvaluations
        return statistics
    }

    /// Adaptive steps from t to exactly t1 (`gsl_odeiv2_driver_apply`), at most `maxSteps` of them.
    func advance(_ t: inout Double, to t1: Double, _ y: UnsafeMutablePointer<Double>, maxSteps: Int) -> SolverError? {
        // GSL counts nmax per call, and 0 means "no limit": pass at least 1.
        _ = gsl_odeiv2_driver_set_nmax(driver, UInt(max(1, maxSteps)))
        return check(GSLStatus(withExtendedLifetime(self) { gsl_odeiv2_driver_apply(driver, &t, t1, y) }), at: t)
    }

    /// One step of exactly h with no error control (`gsl_odeiv2_evolve_apply_fixed_step` without a control
    /// object, so a large error never rejects the step).
    func fixedStep(_ t: inout Double, _ h: Double, _ y: UnsafeMutablePointer<Double>) -> SolverError? {
        let status = withExtendedLifetime(self) {
            gsl_odeiv2_evolve_apply_fixed_step(driver.pointee.e, nil, driver.pointee.s, system, &t, h, y)
        }
        guard var error = check(GSLStatus(status), at: t, stepSize: h) else { return nil }
        if error.kind == .stepSizeUnderflow {
            // Nothing underflowed: a fixed step cannot be retried smaller, so GSL's failure is final.
            error.kind = .gsl(code: status)
            error.hint = SolverHint.fixedStepFailed(stepper: stepper)
        }
        return error
    }

    /// One accepted adaptive step toward t1 (`gsl_odeiv2_evolve_apply`); t1 is never overshot.
    func adaptiveStep(_ t: inout Double, toward t1: Double, _ y: UnsafeMutablePointer<Double>) -> SolverError? {
        let status = withExtendedLifetime(self) {
            gsl_odeiv2_evolve_apply(driver.pointee.e, driver.pointee.c, driver.pointee.s, system, &t, t1,
                                    &driver.pointee.h, y)
        }
        return check(GSLStatus(status), at: t)
    }

    private func check(_ status: GSLStatus, at t: Double, stepSize h: Double? = nil) -> SolverError? {
        defer { context.sawNonFiniteValue = false }
        if status.isSuccess { return nil }
        return SolverError(status: status, time: t, stepSize: h ?? stepSize, stepper: stepper,
                           sawNonFiniteValue: context.sawNonFiniteValue)
    }
}
