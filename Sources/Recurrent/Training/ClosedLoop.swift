// Closed-loop training: after the teacher-forced warm-up the network is fed its own predictions for R steps,
// the loss covers them, and the gradient flows through the feedback (backpropagation through the autoregression).
import Foundation

/// The feedback of a predicted increment into the next input (input size = output size):
///   x̃_{n+1} = x̃_n + α ⊙ ŷ_n + β,
/// an input that is an angle then reduced into its range as the data's inputs are (`Angle`).
/// In normalised coordinates, z_{n+1} = (y_n + μ_Δ + σ_Δ ĝ_n − μ_y)/σ_y = z_n + (σ_Δ/σ_y) ĝ_n + μ_Δ/σ_y.
public struct ClosedLoopFeedback: Codable, Equatable, Sendable {
    /// α, every entry positive.
    public var scale: [Double]
    /// β.
    public var offset: [Double]
    /// The inputs that are angles (nil: none).
    public var angles: [Angle]?

    /// An input that is an angle y = σ_y z + μ_y, which the data give reduced to [−P/2, P/2): fed back reduced
    /// the same way, in normalised units
    ///   z ↦ z − p·⌊(z + c)/p + 1/2⌋,   p = P/σ_y,  c = μ_y/σ_y.
    /// The reduction's derivative is 1 wherever it is continuous, so the gradient of the closed loop is unchanged;
    /// the error of a fed-back angle is its difference from the data's, reduced to [−p/2, p/2).
    public struct Angle: Codable, Equatable, Sendable {
        /// The input's index.
        public var component: Int
        /// p = P/σ_y.
        public var period: Double
        /// c = μ_y/σ_y.
        public var shift: Double
        public init(component: Int, period: Double, shift: Double) {
            precondition(component >= 0 && period > 0 && period.isFinite && shift.isFinite)
            self.component = component; self.period = period; self.shift = shift
        }
        /// The normalised input z of an angle reduced into the data's range.
        @inline(__always)
        public func reduced(_ z: Double) -> Double { z - period * ((z + shift) / period + 0.5).rounded(.down) }
    }

    public init(scale: [Double], offset: [Double], angles: [Angle]? = nil) {
        precondition(scale.count == offset.count && scale.allSatisfy { $0 > 0 && $0.isFinite })
        precondition((angles ?? []).allSatisfy { $0.component < scale.count })
        self.scale = scale; self.offset = offset; self.angles = angles?.isEmpty == true ? nil : angles
    }

    /// Per input, p of an angle, 0 for the others.
    var periods: [Double] {
        var p = [Double](repeating: 0, count: scale.count)
        for a in angles ?? [] { p[a.component] = a.period }
        return p
    }
}

/// Closed-loop training: R fed-back steps after the warm-up, grown by a curriculum.
public struct ClosedLoopTraining: Codable, Equatable, Sendable {
    public var feedback: ClosedLoopFeedback
    /// R at the end of the curriculum (0: teacher forcing only).
    public var rolloutSteps: Int
    public init(feedback: ClosedLoopFeedback, rolloutSteps: Int) {
        precondition(rolloutSteps >= 0)
        self.feedback = feedback; self.rolloutSteps = rolloutSteps
    }

    /// The curriculum: R_f at a fraction f of training (epochs, or seconds of a budget): teacher forcing
    /// (R_f = 0) while f < 1/4, then R_f = 1 + ⌊(f − 1/4)/(1/2) · R⌋ capped at R, i.e. R from f = 3/4 on.
    public func rollout(atFraction f: Double) -> Int {
        guard rolloutSteps > 0, f >= 0.25 else { return 0 }
        return min(rolloutSteps, 1 + Int(((f - 0.25) / 0.5 * Double(rolloutSteps)).rounded(.down)))
    }
}

extension SequenceDataset {
    /// The first `steps` steps of every sequence (lossFromStep kept).
    func prefix(steps t: Int) -> SequenceDataset {
        precondition(t > lossFromStep && t <= steps)
        if t == steps { return self }
        var inputs: [Double] = [], targets: [Double] = []
        inputs.reserveCapacity(count * t * inputSize); targets.reserveCapacity(count * t * outputSize)
        for s in 0..<count {
            inputs += self.inputs[(s * steps * inputSize)..<((s * steps + t) * inputSize)]
            targets += self.targets[(s * steps * outputSize)..<((s * steps + t) * outputSize)]
        }
        return SequenceDataset(count: count, steps: t, inputSize: inputSize, outputSize: outputSize,
                               inputs: inputs, targets: targets, lossFromStep: lossFromStep)
    }
}

/// Scratch of the closed-loop pass for one workspace: the forward caches the backward overwrites, the data's
/// inputs, the direct loss gradient, ∂L/∂x through the network, and a throw-away parameter gradient.
final class ClosedLoopScratch<Scalar: RecurrentScalar> {
    let maxBatch: Int, maxSteps: Int
    let savedGates: [Buffer<Scalar>]
    let savedRecurrentGates: [Buffer<Scalar>]
    let dataInputs: Buffer<Scalar>
    let directGradient: Buffer<Scalar>
    let inputGradient: Buffer<Scalar>
    let adjoint: Buffer<Scalar>
    let parameterGradient: Buffer<Scalar>

    init(_ ws: BPTTWorkspace<Scalar>, parameterCount: Int) {
        maxBatch = ws.maxBatch; maxSteps = ws.maxSteps
        savedGates = ws.layers.map { Buffer<Scalar>(count: $0.gates.count) }
        savedRecurrentGates = ws.layers.map { Buffer<Scalar>(count: $0.recurrentGates.count) }
        let rows = ws.maxSteps * ws.maxBatch
        dataInputs = Buffer<Scalar>(count: rows * ws.configuration.inputSize)
        directGradient = Buffer<Scalar>(count: rows * ws.configuration.outputSize)
        inputGradient = Buffer<Scalar>(count: rows * ws.configuration.inputSize)
        adjoint = Buffer<Scalar>(count: ws.maxBatch * ws.configuration.inputSize)
        parameterGradient = Buffer<Scalar>(count: parameterCount)
    }

    var bytes: Int {
        (savedGates + savedRecurrentGates + [dataInputs, directGradient, inputGradient, adjoint, parameterGradient])
            .reduce(0) { $0 + $1.bytes }
    }
}

extension BPTTWorkspace {
    /// The closed-loop loss of sequences `indices` of `data` (whole sequences, no truncation) and, when asked, its
    /// gradient added into `g`. Steps n < k = lossFromStep + 1 are teacher-forced (x̃_n = x_n); from step k on the
    /// input is fed back, x̃_{n+1} = x̃_n + α ⊙ ŷ_n + β (an angle reduced). The error of step n ≥ lossFromStep is the
    /// next state's error in increment units,
    ///   e_n = (x̃_{n+1} − x_{n+1}*)/α = (x̃_n − x_n)/α + ŷ_n − y_n,   x_{n+1}* = x_n + α ⊙ y_n + β (the data's),
    /// x̃_n − x_n of an angle reduced to [−p/2, p/2), so with no fed-back step it is the teacher-forced error, and
    /// L = scale · Σ e², scale = 1/(counted entries).
    ///
    /// Forward: the fed-back inputs are set one step at a time (step n's output needs only steps ≤ n), then one
    /// full pass. Backward: with D_n = ∂L/∂e_n, the adjoint of the fed-back inputs is
    ///   λ_n = D_n/α + ∂L/∂x_n|network + λ_{n+1} (λ_T = 0),  and the output gradient is G_n = D_n + α ⊙ λ_{n+1}.
    /// ∂L/∂x|network depends on G, but only on later steps, so R sweeps starting from G = D fix one more step each
    /// (G_{T−1−j} is exact after sweep j); a last sweep with the exact G accumulates ∂L/∂θ.
    func closedLoopSquaredError(_ data: SequenceDataset, indices: ArraySlice<Int>, feedback: ClosedLoopFeedback,
                                parameters p: UnsafePointer<Scalar>, gradient g: UnsafeMutablePointer<Scalar>?,
                                scratch: ClosedLoopScratch<Scalar>, averagedOver batchCount: Int? = nil) -> Double {
        let b = indices.count, t = data.steps, d = configuration.inputSize
        precondition(configuration.outputSize == d && feedback.scale.count == d && scratch.maxBatch >= b && scratch.maxSteps >= t)
        let k = data.lossFromStep + 1
        let scale = 1 / Double((batchCount ?? b) * (t - data.lossFromStep) * d)
        let alpha = feedback.scale, beta = feedback.offset
        let alphaScalar = alpha.map { Scalar($0) }, betaScalar = beta.map { Scalar($0) }
        let angles = feedback.angles ?? [], periods = feedback.periods
        zeroState(batch: b)
        gather(data, indices: indices, from: 0, steps: t)
        let x = inputs.base, y = outputs.base, target = targets.base, x0 = scratch.dataInputs.base
        x0.update(from: x, count: t * b * d)
        // Forward, one fed-back step at a time: x̃_{n+1} from the outputs of steps ≤ n.
        if k < t {
            for n in (k - 1)..<(t - 1) {
                forward(p, batch: b, steps: n + 1)
                for r in 0..<b {
                    let from = (n * b + r) * d, to = ((n + 1) * b + r) * d
                    for i in 0..<d { x[to + i] = x[from + i] + alphaScalar[i] * y[from + i] + betaScalar[i] }
                    for a in angles { x[to + a.component] = Scalar(a.reduced(Double(x[to + a.component]))) }
                }
            }
        }
        forward(p, batch: b, steps: t)
        // Loss and D.
        let direct = scratch.directGradient.base
        direct.update(repeating: 0, count: data.lossFromStep * b * d)
        var sum = 0.0
        for n in data.lossFromStep..<t {
            for r in 0..<b {
                let row = (n * b + r) * d
                for i in 0..<d {
                    // In Double whatever the precision (exactly the Double expression for Double).
                    var dx = Double(x[row + i]) - Double(x0[row + i])
                    if periods[i] > 0 { dx -= periods[i] * (dx / periods[i] + 0.5).rounded(.down) }
                    let e = dx / alpha[i] + Double(y[row + i]) - Double(target[row + i])
                    sum += e * e
                    direct[row + i] = Scalar(2 * scale * e)
                }
            }
        }
        guard let g else { return sum * scale }
        let dY = outputGradient.base
        dY.update(from: direct, count: t * b * d)
        if k < t {
            // Keep the forward caches the reverse sweep overwrites.
            for (l, ws) in layers.enumerated() {
                scratch.savedGates[l].base.update(from: ws.gates.base, count: ws.gates.count)
                scratch.savedRecurrentGates[l].base.update(from: ws.recurrentGates.base, count: ws.recurrentGates.count)
            }
            let bottom = layers[0], width = bottom.ranges.width
            let inputWeights = LayerWeights(p, layout.layers[0]).inputWeights
            let lambda = scratch.adjoint.base, dX = scratch.inputGradient.base
            for _ in 0..<(t - k) {
                scratch.parameterGradient.zero()
                backward(p, gradient: scratch.parameterGradient.base, batch: b, steps: t)
                // ∂L/∂x|network = ∂Z_x·W_xᵀ of the bottom layer (its gates hold ∂Z_x after the sweep).
                BLAS.gemm(bottom.gates.matrix(rows: t * b, columns: width).readOnly, inputWeights, transposeB: true,
                          into: scratch.inputGradient.matrix(rows: t * b, columns: d), beta: 0)
                for (l, ws) in layers.enumerated() {
                    ws.gates.base.update(from: scratch.savedGates[l].base, count: ws.gates.count)
                    ws.recurrentGates.base.update(from: scratch.savedRecurrentGates[l].base, count: ws.recurrentGates.count)
                }
                // λ_n for n = T−1 … k, and G_{n−1} = D_{n−1} + α ⊙ λ_n.
                lambda.update(repeating: 0, count: b * d)
                for n in stride(from: t - 1, through: k, by: -1) {
                    for r in 0..<b {
                        let row = (n * b + r) * d, previous = ((n - 1) * b + r) * d
                        for i in 0..<d {
                            lambda[r * d + i] += direct[row + i] / alphaScalar[i] + dX[row + i]
                            dY[previous + i] = direct[previous + i] + alphaScalar[i] * lambda[r * d + i]
                        }
                    }
                }
            }
        }
        backward(p, gradient: g, batch: b, steps: t)
        return sum * scale
    }
}
