// GSL status codes in one place: the error handler switched off once, GSL's constants (imported as Int) and
// function results (Int32) compared as one type, and each failing status turned into a SolverError with a hint.
internal import CGSL

/// GSL's default error handler aborts the process; every entry point touches this once before calling GSL.
/// A global `let` is initialized exactly once, thread-safely.
let gslErrorHandlerSwitchedOff: Void = {
    _ = gsl_set_error_handler_off()
}()

/// A GSL function result. GSL's status constants import as `Int`, its functions return `Int32`:
/// both are converted here and nowhere else.
struct GSLStatus: Equatable {
    var code: Int32

    init(_ code: Int32) { self.code = code }
    private init(constant: Int) { self.code = Int32(constant) }

    static let success = GSLStatus(constant: Int(GSL_SUCCESS))
    static let failure = GSLStatus(constant: Int(GSL_FAILURE))
    static let invalidArgument = GSLStatus(constant: Int(GSL_EINVAL))
    static let outOfMemory = GSLStatus(constant: Int(GSL_ENOMEM))
    static func fixedStepFailed(stepper: StepperKind) -> String {
        "the \(stepper.rawValue) step failed at this fixed step size and cannot be retried with a smaller one: "
            + "take a smaller fixed step, drop --fixed-step for adaptive steps, or use a Runge-Kutta stepper"
    }
    static let badFunction = GSLStatus(constant: Int(GSL_EBADFUNC))
    static let maxIterations = GSLStatus(constant: Int(GSL_EMAXITER))
    static let noProgress = GSLStatus(constant: Int(GSL_ENOPROG))

    var isSuccess: Bool { self == .success }

    /// GSL's own text for the code (`gsl_strerror`).
    var message: String { String(cString: gsl_strerror(code)) }
}

/// Hints shown after a failure; phrased for the command line, where `--method` picks the stepper.
enum SolverHint {
    static func stepSizeUnderflow(stepper: StepperKind) -> String {
        if stepper.needsJacobian {
            return "the solution may blow up near this time, or the tolerances are too tight for double precision"
        }
        return "the problem may be stiff; try --method msbdf (or bsimp); or the solution may blow up near this time"
    }
    static func nonFiniteState(stepper: StepperKind) -> String {
        let cause = "the solution blows up near this time, or an equation divides by zero or leaves its domain "
            + "(sqrt or log of a negative number): check parameters and initial values"
        return stepper.needsJacobian
            ? cause
            : cause + "; or the problem is stiff and \(stepper.rawValue) unstable at this step: try --method msbdf (or bsimp)"
    }
    static func tooManySteps(stepper: StepperKind) -> String {
        stepper.needsJacobian
            ? "loosen --rtol/--atol or shorten --t-end"
            : "loosen --rtol/--atol or shorten --t-end; if the problem is stiff, try --method msbdf (or bsimp)"
    }
    static func missingJacobian(stepper: StepperKind) -> String {
        "stepper \(stepper.rawValue) needs the Jacobian; supply one, or choose an explicit stepper (rk8pd) or msadams"
    }
    static func fixedStepFailed(stepper: StepperKind) -> String {
        "the \(stepper.rawValue) step failed at this fixed step size and cannot be retried with a smaller one: "
            + "take a smaller fixed step, drop --fixed-step for adaptive steps, or use a Runge-Kutta stepper"
    }
    static let badFunction = "the right-hand side or its Jacobian reported a failure"
    static let other = "check the time span, output step and tolerances"
}

extension SolverError {
    /// Classifies a failed GSL odeiv2 call made at time `time` with step size `stepSize`.
    /// `sawNonFiniteValue`: the trampoline saw f or its Jacobian return an infinite or NaN value during the call,
    /// which it reported to GSL as a failed evaluation (so GSL shrank the step until it could not progress).
    init(status: GSLStatus, time: Double, stepSize: Double, stepper: StepperKind, sawNonFiniteValue: Bool) {
        precondition(!status.isSuccess, "a successful status is not an error")
        let message = "GSL: " + status.message
        switch status {
        case .maxIterations:
            self.init(kind: .tooManySteps, gslMessage: message, time: time, stepSize: stepSize,
                      hint: SolverHint.tooManySteps(stepper: stepper))
        case .badFunction:
            self.init(kind: .badFunction, gslMessage: message, time: time, stepSize: stepSize,
                      hint: SolverHint.badFunction)
        case _ where sawNonFiniteValue:
            self.init(kind: .nonFiniteState, gslMessage: "the right-hand side or Jacobian returned inf or NaN", time: time, stepSize: stepSize,
                      hint: SolverHint.nonFiniteState(stepper: stepper))
        case .failure, .noProgress:
            self.init(kind: .stepSizeUnderflow, gslMessage: message, time: time, stepSize: stepSize,
                      hint: SolverHint.stepSizeUnderflow(stepper: stepper))
        default:
            self.init(kind: .gsl(code: status.code), gslMessage: message, time: time, stepSize: stepSize,
                      hint: SolverHint.other)
        }
    }
}

/// `gsl_version`, through the shim.
var gslLibraryVersion: String {
    String(cString: rnnode_gsl_version())
}
