// What an iteration reports: the vector reached, its cost in products with A, and its convergence history
// (angle to GSL's eigenspace vs products); the angle measure itself.

/// One point of a convergence history.
public struct ConvergencePoint: Sendable, Equatable {
    /// Products with A used so far.
    public var products: Int
    /// Angle (radians) between the iterate and GSL's eigenspace.
    public var angle: Double
}

/// The result of one search for the largest eigenvector of a scaled operator.
public struct IterationOutcome: Sendable {
    /// The final iterate (unit length for the normalised methods; the Yi flow keeps ‖x(0)‖).
    public var vector: [Double]
    /// Products with A, including the ones spent on the stopping test.
    public var products: Int
    /// Iterations, or accepted integrator steps for the Yi flow.
    public var steps: Int
    /// Integrated time of the Yi flow (in the scaled time of M); nil for the discrete methods.
    public var flowTime: Double?
    /// Whether the stopping test ‖Mx − ρx‖/‖x‖ < tol (for the flow ‖dx/dt‖/‖x‖ < tol) was met.
    public var converged: Bool
    /// Why it stopped early (budget spent, integrator failure, non-finite iterate).
    public var failure: String?
    /// Products needed to reach the target angle; nil when never reached.
    public var productsToAngle: Int?
    public var history: [ConvergencePoint]
}

/// The eigenspace GSL found for one target: an orthonormal basis (one vector unless the eigenvalue is degenerate).
public struct EigenspaceProbe: Sendable {
    public var basis: [[Double]]
    public init(basis: [[Double]]) { self.basis = basis }

    /// atan2(‖x − PPᵀx‖, ‖PPᵀx‖): the angle between x and the span of the basis, in [0, π/2], sign-blind.
    /// The outside part is summed directly (not as ‖x‖² − ‖Pᵀx‖², which loses every digit below 1e-8).
    public func angle(_ x: UnsafeBufferPointer<Double>) -> Double {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: basis.count) { coefficients in
            var insideSquared = 0.0
            for (k, v) in basis.enumerated() {
                var projection = 0.0
                for i in 0..<x.count { projection += v[i] * x[i] }
                coefficients[k] = projection
                insideSquared += projection * projection
            }
            var outsideSquared = 0.0
            for i in 0..<x.count {
                var inside = 0.0
                for (k, v) in basis.enumerated() { inside += coefficients[k] * v[i] }
                outsideSquared += (x[i] - inside) * (x[i] - inside)
            }
            return atan2(outsideSquared.squareRoot(), insideSquared.squareRoot())
        }
    }

    public func angle(_ x: [Double]) -> Double { x.withUnsafeBufferPointer { angle($0) } }
}

/// Records (products, angle) densely at first, then on a geometric grid of products (1 % apart), and the first
/// product count at which the angle reaches the target.
struct ConvergenceRecorder {
    let probe: EigenspaceProbe?
    let angleTarget: Double
    var history: [ConvergencePoint] = []
    var productsToAngle: Int? = nil
    private(set) var nextRecord = 0

    init(probe: EigenspaceProbe?, angleTarget: Double) { self.probe = probe; self.angleTarget = angleTarget }

    mutating func observe(_ x: UnsafeBufferPointer<Double>, products: Int, force: Bool = false) {
        guard let probe else { return }
        let needsAngle = productsToAngle == nil || products >= nextRecord || force
        guard needsAngle else { return }
        let angle = probe.angle(x)
        if productsToAngle == nil, angle <= angleTarget { productsToAngle = products }
        if products >= nextRecord || force {
            if history.last?.products != products { history.append(ConvergencePoint(products: products, angle: angle)) }
            nextRecord = products < 200 ? products + 1 : Int((Double(products) * 1.01).rounded(.up))
        }
    }
}

import Foundation
