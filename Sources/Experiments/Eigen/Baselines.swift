// The baselines beside the learned iteration: momentum power iteration with the oracle momentum (the best fixed
// β, known only from GSL's spectrum) and Lanczos with full re-orthogonalisation (the Krylov floor).
import Foundation

/// One step of the three-term iteration on M + I that power, momentum and the learned iteration share:
///   z = (M + I) x_k + γ x_k − β x_{k−1},   (x_{k−1}, x_k) ← (x_k, z)/‖z‖.
/// Both iterates are divided by the same ‖z‖, so the unnormalised recurrence is kept exactly up to one global
/// factor. With (β, γ) = (0, 0) this is power iteration on M + I, operation for operation.
@inline(__always)
func momentumStep(x: UnsafeMutableBufferPointer<Double>, y: UnsafeBufferPointer<Double>, previous: UnsafeMutableBufferPointer<Double>,
                  beta: Double, gamma: Double, next: UnsafeMutableBufferPointer<Double>) {
    let n = x.count
    var lengthSquared = 0.0
    for i in 0..<n { next[i] = y[i] + x[i] + gamma * x[i] - beta * previous[i]; lengthSquared += next[i] * next[i] }
    let inverse = 1 / lengthSquared.squareRoot()
    for i in 0..<n { next[i] *= inverse; previous[i] = x[i] * inverse }
}

/// The coefficients (β, γ) of `momentumStep` for momentum with the unwanted spectrum [−1, t] of M mapped onto
/// [−1, 1]: B = (M − cI)/s with c = (t − 1)/2, s = (t + 1)/2, and x_{k+1} = B x_k − (λ₂(B)²/4) x_{k−1}, λ₂(B) = 1.
/// Scaled by s^{k+1}, u_{k+1} = (M − cI) u_k − (s²/4) u_{k−1}, i.e. γ = −(1 + c), β = s²/4
/// (Xu et al., "Accelerated stochastic power iteration", AISTATS 2018: β = λ₂²/4 is the best fixed momentum).
func momentumCoefficients(secondEigenvalue t: Double) -> (beta: Double, gamma: Double) {
    let c = 0.5 * (t - 1), s = 0.5 * (t + 1)
    return (0.25 * s * s, -(1 + c))
}

/// Momentum power iteration with fixed coefficients (from `momentumCoefficients`).
func runMomentumIteration(_ operator: ScaledOperator, start: [Double], secondEigenvalue: Double, settings: IterationSettings,
                          probe: EigenspaceProbe?, angleTarget: Double) -> IterationOutcome {
    let (beta, gamma) = momentumCoefficients(secondEigenvalue: secondEigenvalue)
    var previous = [Double](repeating: 0, count: `operator`.dimension)
    return previous.withUnsafeMutableBufferPointer { previous in
        iterate(`operator`, start: start, settings: settings, probe: probe, angleTarget: angleTarget) { x, y, _, _, next in
            momentumStep(x: x, y: y, previous: previous, beta: beta, gamma: gamma, next: next)
        }
    }
}

/// Largest eigenvalue of the symmetric tridiagonal T (diagonal a, off-diagonal b) by Sturm-sequence bisection
/// (to the last bit), and its unit eigenvector by inverse iteration.
func largestTridiagonalEigenpair(diagonal a: [Double], offDiagonal b: [Double]) -> (value: Double, vector: [Double]) {
    let m = a.count
    var bound = 0.0
    for i in 0..<m { bound = max(bound, abs(a[i]) + (i > 0 ? abs(b[i - 1]) : 0) + (i < m - 1 ? abs(b[i]) : 0)) }
    // Number of eigenvalues below x (Sturm count of T − xI).
    func countBelow(_ x: Double) -> Int {
        var count = 0, d = 1.0
        for i in 0..<m {
            d = a[i] - x - (i > 0 ? b[i - 1] * b[i - 1] / d : 0)
            if d == 0 { d = -1e-300 }
            if d < 0 { count += 1 }
        }
        return count
    }
    var low = -bound - 1e-300, high = bound + 1e-300
    while true {
        let middle = 0.5 * (low + high)
        if middle <= low || middle >= high { break }
        if countBelow(middle) < m { low = middle } else { high = middle }
    }
    let value = high
    // Inverse iteration: (T − (λ + δ)I) v = w, Thomas algorithm, twice from a flat start.
    var vector = [Double](repeating: 1 / Double(m).squareRoot(), count: m)
    let shift = value + max(abs(value), 1e-300) * 1e-14
    for _ in 0..<3 {
        var diagonalPivots = [Double](repeating: 0, count: m), rhs = vector
        diagonalPivots[0] = a[0] - shift == 0 ? 1e-300 : a[0] - shift
        for i in 1..<max(m, 1) {
            let factor = b[i - 1] / diagonalPivots[i - 1]
            diagonalPivots[i] = a[i] - shift - factor * b[i - 1]
            if diagonalPivots[i] == 0 { diagonalPivots[i] = 1e-300 }
            rhs[i] -= factor * rhs[i - 1]
        }
        var solution = [Double](repeating: 0, count: m)
        solution[m - 1] = rhs[m - 1] / diagonalPivots[m - 1]
        if m > 1 { for i in stride(from: m - 2, through: 0, by: -1) { solution[i] = (rhs[i] - b[i] * solution[i + 1]) / diagonalPivots[i] } }
        let length = norm(solution)
        guard length.isFinite, length > 0 else { break }
        vector = solution.map { $0 / length }
    }
    return (value, vector)
}

/// Lanczos with full re-orthogonalisation on M, from `start`, for its largest eigenpair: the Krylov floor.
/// Every step orthogonalises the new vector against the whole basis twice (classical Gram–Schmidt); the largest Ritz
/// pair of T_m is tracked (bisection), its vector formed when the residual estimate |β_m s_m| is small or on a
/// 1 %-geometric grid (for the angle history). Converged when the true residual ‖Mx − ρx‖ < tol (one product to check).
/// Restarts from the Ritz vector when the basis reaches `maximumBasis`.
func runLanczos(_ operator: ScaledOperator, start: [Double], settings: IterationSettings, probe: EigenspaceProbe?,
                angleTarget: Double, maximumBasis: Int = 600) -> IterationOutcome {
    let n = `operator`.dimension
    let startProducts = `operator`.products
    var recorder = ConvergenceRecorder(probe: probe, angleTarget: angleTarget)
    var current = normalised(start)
    current.withUnsafeBufferPointer { recorder.observe($0, products: 0, force: true) }
    var converged = false, failure: String? = nil, steps = 0
    var ritz = current
    var w = [Double](repeating: 0, count: n)
    let basisLimit = max(2, min(maximumBasis, n))
    restart: while true {
        var basis: [[Double]] = [current]
        var alphas: [Double] = [], betas: [Double] = []
        while true {
            let v = basis[basis.count - 1]
            v.withUnsafeBufferPointer { vp in w.withUnsafeMutableBufferPointer { `operator`.apply(vp.baseAddress!, into: $0.baseAddress!) } }
            steps += 1
            let alpha = dot(v, w)
            alphas.append(alpha)
            for _ in 0..<2 {
                for u in basis {
                    let projection = dot(u, w)
                    for i in 0..<n { w[i] -= projection * u[i] }
                }
            }
            let beta = norm(w)
            let m = alphas.count
            let (theta, s) = largestTridiagonalEigenpair(diagonal: alphas, offDiagonal: betas)
            let estimate = abs(beta * s[m - 1])
            let done = `operator`.products - startProducts
            let invariant = !(beta > 1e-14 * max(abs(theta), 1))
            let wantVector = estimate < 1e-3 || invariant || m == basisLimit || done >= settings.maximumProducts
                || recorder.probe != nil && done >= recorder.nextRecord
            if wantVector {
                ritz = [Double](repeating: 0, count: n)
                for (j, u) in basis.enumerated() { let c = s[j]; for i in 0..<n { ritz[i] += c * u[i] } }
                ritz = normalised(ritz)
                ritz.withUnsafeBufferPointer { recorder.observe($0, products: done) }
            }
            if estimate < settings.tolerance || invariant || m == basisLimit || done >= settings.maximumProducts {
                // The true residual of the Ritz vector (one product).
                let y = `operator`.matrixApply(ritz)
                let rho = dot(ritz, y)
                let residual = zip(y, ritz).reduce(0) { $0 + ($1.0 - rho * $1.1) * ($1.0 - rho * $1.1) }.squareRoot()
                if !residual.isFinite { failure = "non-finite Ritz vector after \(steps) steps"; break restart }
                if residual < settings.tolerance { converged = true; break restart }
                if `operator`.products - startProducts >= settings.maximumProducts {
                    failure = "not converged within \(settings.maximumProducts) products (residual \(residual))"; break restart
                }
                current = ritz
                continue restart
            }
            betas.append(beta)
            basis.append(w.map { $0 / beta })
        }
    }
    let products = `operator`.products - startProducts
    ritz.withUnsafeBufferPointer { recorder.observe($0, products: products, force: true) }
    return IterationOutcome(vector: ritz, products: products, steps: steps, flowTime: nil, converged: converged,
                            failure: failure, productsToAngle: recorder.productsToAngle, history: recorder.history)
}
