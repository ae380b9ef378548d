// How a Swift ODESystem reaches GSL: a boxed context passed as GSL's `params` pointer and two @convention(c)
// trampolines that call its closures, count evaluations and report non-finite values as failed evaluations.
internal import CGSL

/// The context behind GSL's `void *params`: the system's closures and the work counters of one solve.
/// Passed unretained (`Unmanaged.passUnretained`); the `Driver` that owns it keeps it alive.
final class SystemContext {
    let dimension: Int
    let rightHandSide: (Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    let jacobian: ((Double, UnsafePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)?
    var rightHandSideEvaluations = 0
    var jacobianEvaluations = 0
    /// Set when f or its Jacobian returned an infinite or NaN value; cleared by the driver before each GSL call.
    var sawNonFiniteValue = false

    init(_ system: ODESystem) {
        dimension = system.dimension
        rightHandSide = system.rightHandSide
        jacobian = system.jacobian
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Runs `body` with the context behind GSL's `params`, borrowed: no retain/release per evaluation
    /// (the owning Driver keeps the context alive for the whole GSL call).
    @inline(__always)
    static func with<R>(_ params: UnsafeMutableRawPointer?, _ body: (SystemContext) -> R) -> R {
        Unmanaged<SystemContext>.fromOpaque(params!)._withUnsafeGuaranteedRef(body)
    }
}

/// True when all `count` values are finite.
@inline(__always)
private func allFinite(_ values: UnsafeMutablePointer<Double>, _ count: Int) -> Bool {
    var finite = true
    for i in 0..<count { finite = finite && values[i].isFinite }
    return finite
}

/// dydt = f(t, y). A non-finite dydt is reported as GSL_FAILURE, so GSL rejects the step and halves h;
/// if that never helps, the failure reaches the driver with the time at which the values stopped being finite.
let rightHandSideTrampoline: @convention(c) (
    Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?
) -> Int32 = { t, y, dydt, params in
    SystemContext.with(params) { context in
        context.rightHandSideEvaluations &+= 1
        context.rightHandSide(t, y!, dydt!)
        if allFinite(dydt!, context.dimension) { return GSLStatus.success.code }
        context.sawNonFiniteValue = true
        return GSLStatus.failure.code
    }
}

/// dfdy (row-major d×d) = ∂f/∂y and dfdt = ∂f/∂t at (t, y); non-finite entries are reported like the RHS's.
let jacobianTrampoline: @convention(c) (
    Double, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?,
    UnsafeMutableRawPointer?
) -> Int32 = { t, y, dfdy, dfdt, params in
    SystemContext.with(params) { context in
        guard let jacobian = context.jacobian else { return GSLStatus.badFunction.code }
        context.jacobianEvaluations &+= 1
        jacobian(t, y!, dfdy!, dfdt!)
        let d = context.dimension
        if allFinite(dfdy!, d * d) && allFinite(dfdt!, d) { return GSLStatus.success.code }
        context.sawNonFiniteValue = true
        return GSLStatus.failure.code
    }
}
