// Hand-written test systems with known behaviour: harmonic oscillator and exponential decay (exact solutions),
// stiff Van der Pol with its Jacobian, and right-hand sides that blow up.
import Foundation
@testable import Reference

enum Systems {
    /// x' = v, v' = −ω²x. Exact: x = x0·cos ωt + (v0/ω)·sin ωt, v = −x0·ω·sin ωt + v0·cos ωt.
    static func harmonicOscillator(omega: Double) -> ODESystem {
        ODESystem(dimension: 2, rightHandSide: { _, y, dydt in
            dydt[0] = y[1]
            dydt[1] = -omega * omega * y[0]
        })
    }
    static func harmonicOscillatorExact(omega: Double, x0: Double, v0: Double, t: Double) -> [Double] {
        [x0 * cos(omega * t) + v0 / omega * sin(omega * t), -x0 * omega * sin(omega * t) + v0 * cos(omega * t)]
    }

    /// y' = −λy. Exact: y = y0·exp(−λt).
    static func exponentialDecay(rate: Double) -> ODESystem {
        ODESystem(dimension: 1, rightHandSide: { _, y, dydt in dydt[0] = -rate * y[0] })
    }

    /// Van der Pol: x' = v, v' = μ(1 − x²)v − x. Stiff for large μ (relaxation period ≈ (3 − 2 ln 2)μ).
    /// Jacobian [[0, 1], [−2μxv − 1, μ(1 − x²)]], ∂f/∂t = 0.
    static func vanDerPol(mu: Double, withJacobian: Bool = true) -> ODESystem {
        ODESystem(
            dimension: 2,
            rightHandSide: { _, y, dydt in
                dydt[0] = y[1]
                dydt[1] = mu * (1 - y[0] * y[0]) * y[1] - y[0]
            },
            jacobian: withJacobian ? { _, y, dfdy, dfdt in
                dfdy[0] = 0
                dfdy[1] = 1
                dfdy[2] = -2 * mu * y[0] * y[1] - 1
                dfdy[3] = mu * (1 - y[0] * y[0])
                dfdt[0] = 0
                dfdt[1] = 0
            } : nil)
    }

    /// y' = sqrt(2 − t): finite up to t = 2, NaN beyond. Exact: y = y0 + (2/3)(2^{3/2} − (2 − t)^{3/2}).
    static let squareRootEdge = ODESystem(dimension: 1, rightHandSide: { t, _, dydt in dydt[0] = (2 - t).squareRoot() })
    static func squareRootEdgeExact(y0: Double, t: Double) -> Double {
        y0 + 2.0 / 3.0 * (pow(2, 1.5) - pow(2 - t, 1.5))
    }

    /// y' = y²: y = y0 / (1 − y0·t), which blows up at t = 1/y0.
    static let quadraticBlowUp = ODESystem(dimension: 1, rightHandSide: { _, y, dydt in dydt[0] = y[0] * y[0] })
}
