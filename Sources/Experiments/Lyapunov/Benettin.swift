// Lyapunov exponents by Benettin's method: GSL integrates the problem together with its variational equations
// (built from the symbolic Jacobian); the tangent vectors are re-orthonormalised at a fixed interval.
// Reference: Benettin, Galgani, Giorgilli & Strelcyn 1980, Meccanica 15, 9 and 21; Skokos 2010, Lect. Notes
// Phys. 790, 63 (the algorithm as used here, with its convergence checks).
import Foundation
import Problems
import Reference
import Support

/// How to measure the exponents.
public struct LyapunovOptions: Sendable, Equatable {
    /// How many of the largest exponents (1 … dimension).
    public var exponents: Int = 1
    /// Time integrated before the measurement, so the orbit is on its attractor and the tangent vectors aligned.
    public var transient: Double = 100
    /// Measurement time after the transient.
    public var duration: Double = 2000
    /// Time between re-orthonormalisations (short enough that e^{λτ} stays far from overflow).
    public var interval: Double = 1
    /// The measurement is cut into this many equal segments; their spread gives the convergence error.
    public var segments: Int = 10
    /// Integrator and tolerances for the extended system (default: rk8pd at the problem's tolerances, or the
    /// problem's own method when that is implicit).
    public var stepper: StepperKind?
    /// Seed of the random orthonormal start of the tangent vectors.
    public var seed: UInt64 = 1

    public init() {}
}

/// The K largest exponents, each with a convergence error (the standard error over segments).
public struct LyapunovEstimate: Sendable, Equatable {
    public var exponents: [Double]
    /// Standard deviation of the per-segment estimates over √(segments): how far the average may still move.
    public var standardErrors: [Double]
    /// Per segment (outer) and exponent (inner), for plots and tests.
    public var segmentEstimates: [[Double]]
    public var options: LyapunovOptions
    public var stepper: StepperKind
    /// Right-hand-side evaluations of the extended system (dimension d·(K + 1)).
    public var evaluations: Int

    /// Kaplan–Yorke (Lyapunov) dimension from the computed exponents, when they reach a negative partial sum.
    public var kaplanYorkeDimension: Double? {
        var sum = 0.0
        for (j, lambda) in exponents.enumerated() {
            if sum + lambda < 0 { return lambda == 0 ? nil : Double(j) + sum / abs(lambda) }
            sum += lambda
        }
        return nil
    }
}

/// A failure of the measurement: the integration failed (with the time), or the options make no sense.
public struct LyapunovError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

public enum Lyapunov {
    /// Benettin's method. With y the state and Q = [q₁ … q_K] the tangent vectors,
    ///   dy/dt = f(t, y),   dQ/dt = J(t, y)·Q,   J = ∂f/∂y (symbolic);
    /// every `interval` τ: Q = Q̂·R (QR, R_kk > 0), Q ← Q̂, S_k += log R_kk; then λ_k = S_k / T.
    public static func estimate(_ problem: Problem, options: LyapunovOptions = .init()) throws -> LyapunovEstimate {
        let d = problem.dimension, k = options.exponents
        guard (1...d).contains(k) else {
            throw LyapunovError(description: "--exponents must be between 1 and the dimension \(d), not \(k)")
        }
        for (name, value) in [("--transient", options.transient)] where !(value.isFinite && value >= 0) {
            throw LyapunovError(description: "\(name) must be a finite number ≥ 0, not \(value)")
        }
        for (name, value) in [("--t-end", options.duration), ("--interval", options.interval)] where !(value.isFinite && value > 0) {
            throw LyapunovError(description: "\(name) must be a positive finite number, not \(value)")
        }
        let intervals = (options.duration / options.interval).rounded()
        guard intervals >= Double(options.segments), options.segments >= 2, intervals <= 1e8 else {
            throw LyapunovError(description: "the measurement time \(options.duration) holds \(intervals) intervals of "
                                + "\(options.interval); need between \(options.segments) (one per segment, at least 2) and 10⁸")
        }
        let reference = try ReferenceRun.stepper(of: problem)
        let stepper = options.stepper ?? (reference.needsJacobian ? reference : .rk8pd)
        let tolerances = Tolerances(absolute: problem.reference.absoluteTolerance,
                                    relative: problem.reference.relativeTolerance)

        // Transient on the problem alone.
        var time = problem.time.start
        var state = problem.initial
        var evaluations = 0
        if options.transient > 0 {
            let run = solve(ReferenceRun.system(for: problem), initial: state, from: time, to: time + options.transient,
                            outputStep: options.transient, stepper: stepper, tolerances: tolerances)
            evaluations += run.statistics.rightHandSideEvaluations
            if let failure = run.failure { throw LyapunovError(description: "\(problem.name): transient: \(failure)") }
            state = Array(run.state(run.times.count - 1))
            time += options.transient
        }

        // Extended state [y, q₁, …, q_K] with a random orthonormal Q.
        var generator = SplitMix64(seed: options.seed)
        var tangents = (0..<(d * k)).map { _ in generator.nextNormal() }
        _ = orthonormalize(&tangents, dimension: d, count: k)
        let system = variationalSystem(problem.vectorField, count: k)
        let total = Int(intervals), perSegment = total / options.segments
        var sums = [Double](repeating: 0, count: k)
        var segmentEstimates: [[Double]] = []
        var segmentSums = [Double](repeating: 0, count: k), segmentTime = 0.0
        for step in 0..<(perSegment * options.segments) {
            let run = solve(system, initial: state + tangents, from: time, to: time + options.interval,
                            outputStep: options.interval, stepper: stepper, tolerances: tolerances)
            evaluations += run.statistics.rightHandSideEvaluations
            if let failure = run.failure { throw LyapunovError(description: "\(problem.name): \(failure)") }
            let last = Array(run.state(run.times.count - 1))
            state = Array(last[0..<d])
            tangents = Array(last[d...])
            let logs = orthonormalize(&tangents, dimension: d, count: k)
            guard logs.allSatisfy(\.isFinite) else {
                throw LyapunovError(description: "\(problem.name): the tangent vectors collapsed or overflowed at t = "
                                    + "\(time + options.interval); try a shorter --interval")
            }
            time += options.interval
            for j in 0..<k { sums[j] += logs[j]; segmentSums[j] += logs[j] }
            segmentTime += options.interval
            if (step + 1) % perSegment == 0 {
                segmentEstimates.append(segmentSums.map { $0 / segmentTime })
                segmentSums = [Double](repeating: 0, count: k); segmentTime = 0
            }
        }
        let measured = Double(perSegment * options.segments) * options.interval
        let exponents = sums.map { $0 / measured }
        let m = Double(segmentEstimates.count)
        let errors = (0..<k).map { j -> Double in
            let values = segmentEstimates.map { $0[j] }
            let mean = values.reduce(0, +) / m
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (m - 1)
            return (variance / m).squareRoot()
        }
        return LyapunovEstimate(exponents: exponents, standardErrors: errors, segmentEstimates: segmentEstimates,
                                options: options, stepper: stepper, evaluations: evaluations)
    }

    /// dy/dt = f, dq_j/dt = J·q_j for j = 1 … K, over the extended state [y, q₁ … q_K] (each q_j contiguous).
    /// The Jacobian given to implicit steppers is block-diagonal (J in every block): it leaves out the coupling
    /// ∂(J·q)/∂y, which only slows their Newton iterations; the accuracy is still set by the error control.
    static func variationalSystem(_ field: VectorField, count k: Int) -> ODESystem {
        let d = field.dimension
        let workspace = Workspace(dimension: d)
        return ODESystem(
            dimension: d * (k + 1),
            rightHandSide: { t, y, dydt in
                field.evaluate(t: t, state: y, into: dydt)
                field.jacobian(t: t, state: y, dfdy: workspace.jacobian, dfdt: workspace.dfdt)
                for j in 0..<k {
                    let q = y + d * (j + 1), dq = dydt + d * (j + 1)
                    for row in 0..<d {
                        var s = 0.0
                        for column in 0..<d { s += workspace.jacobian[row * d + column] * q[column] }
                        dq[row] = s
                    }
                }
            },
            jacobian: { t, y, dfdy, dfdt in
                let n = d * (k + 1)
                dfdy.initialize(repeating: 0, count: n * n)
                dfdt.initialize(repeating: 0, count: n)
                field.jacobian(t: t, state: y, dfdy: workspace.jacobian, dfdt: workspace.dfdt)
                for block in 0...k {
                    for row in 0..<d {
                        for column in 0..<d {
                            dfdy[(block * d + row) * n + block * d + column] = workspace.jacobian[row * d + column]
                        }
                    }
                }
                for row in 0..<d { dfdt[row] = workspace.dfdt[row] }
            })
    }

    /// Modified Gram–Schmidt, applied twice ("twice is enough": Giraud, Langou & Rozložník 2005), on the K
    /// contiguous columns of length d in `vectors`. Returns log R_jj, the log of each column's stretch.
    @discardableResult
    static func orthonormalize(_ vectors: inout [Double], dimension d: Int, count k: Int) -> [Double] {
        var logs = [Double](repeating: 0, count: k)
        for j in 0..<k {
            for _ in 0..<2 {
                for i in 0..<j {
                    var projection = 0.0
                    for r in 0..<d { projection += vectors[i * d + r] * vectors[j * d + r] }
                    for r in 0..<d { vectors[j * d + r] -= projection * vectors[i * d + r] }
                }
            }
            var norm = 0.0
            for r in 0..<d { norm += vectors[j * d + r] * vectors[j * d + r] }
            norm = norm.squareRoot()
            logs[j] = Foundation.log(norm)
            for r in 0..<d { vectors[j * d + r] /= norm }
        }
        return logs
    }

    /// Scratch space for the Jacobian inside the right-hand side (no allocation per call).
    private final class Workspace: @unchecked Sendable {
        let jacobian: UnsafeMutablePointer<Double>
        let dfdt: UnsafeMutablePointer<Double>
        init(dimension d: Int) {
            jacobian = .allocate(capacity: d * d); jacobian.initialize(repeating: 0, count: d * d)
            dfdt = .allocate(capacity: d); dfdt.initialize(repeating: 0, count: d)
        }
        deinit { jacobian.deallocate(); dfdt.deallocate() }
    }
}
