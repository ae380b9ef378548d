// Teacher-forcing data in normalised coordinates, the one form every model trains from: per trajectory, the
// inputs z_0 … z_{N−2} and the targets g_0 … g_{N−2} (g_n the normalised increment to the next state), optionally
// with Gaussian input noise, and cut into patches for parallel local models.
import Foundation
import Support

public struct TeacherForcing: Sendable {
    public var inputSize: Int
    public var outputSize: Int
    /// Per sequence, row-major (steps, inputSize).
    public var inputs: [[Double]]
    /// Per sequence, row-major (steps, outputSize): the target after seeing the input row of the same step.
    public var targets: [[Double]]

    public init(inputSize: Int, outputSize: Int, inputs: [[Double]], targets: [[Double]]) {
        precondition(inputs.count == targets.count)
        self.inputSize = inputSize; self.outputSize = outputSize; self.inputs = inputs; self.targets = targets
    }

    /// Steps in sequence `s`.
    public func steps(_ s: Int) -> Int { inputs[s].count / inputSize }
    /// Steps over all sequences.
    public var totalSteps: Int { inputs.indices.reduce(0) { $0 + steps($1) } }

    /// Inputs `Normalization.modelInput` of y_n at t_n (z_n = (y_n − μ)/σ, angles reduced, plus the drive's phase
    /// when the problem has one) and targets g_n = (y_{n+1} − y_n − μ_Δ)/σ_Δ for n = 0 … N−2 of every trajectory
    /// (row-major (N, d)). `times` (t_n of every trajectory's row n) is needed only for a driven problem.
    public static func full(trajectories: [[Double]], dimension d: Int, normalization: Normalization,
                            times: [Double]? = nil) -> TeacherForcing {
        let width = normalization.inputSize
        precondition(normalization.forcingPeriod == 0 || times != nil, "a driven problem's inputs need the times")
        var inputs: [[Double]] = [], targets: [[Double]] = []
        for trajectory in trajectories {
            let rows = trajectory.count / d
            guard rows >= 2 else { continue }
            var u = [Double](repeating: 0, count: (rows - 1) * width), g: [Double] = []
            g.reserveCapacity((rows - 1) * d)
            trajectory.withUnsafeBufferPointer { y in
                u.withUnsafeMutableBufferPointer { u in
                    for n in 0..<(rows - 1) {
                        normalization.modelInput(y.baseAddress! + n * d, time: times?[n] ?? 0, into: u.baseAddress! + n * width)
                    }
                }
            }
            for n in 0..<(rows - 1) {
                for i in 0..<d {
                    g.append((trajectory[(n + 1) * d + i] - trajectory[n * d + i] - normalization.incrementMean[i])
                             / normalization.incrementScale[i])
                }
            }
            inputs.append(u); targets.append(g)
        }
        return TeacherForcing(inputSize: width, outputSize: d, inputs: inputs, targets: targets)
    }

    /// The inputs plus independent N(0, σ²) noise (z-units), targets unchanged: the model learns to step from
    /// slightly perturbed states to the true increment, which damps errors that leave the training manifold.
    /// The noise is a function of `seed` alone (one named stream), so the same seed gives the same data.
    /// With `ratio` (σ_y/σ_Δ per column, `Normalization.denoisingRatio`; inputs and targets of one size) each
    /// target becomes the increment from the noisy input to the true next state, g − ε·ratio (`--denoising`).
    /// Only the first `ratio.count` (else `noisyColumns`, default all) columns of each input row get noise: the
    /// state's, not the drive's phase.
    public func addingNoise(_ sigma: Double, seed: UInt64, correctingTargets ratio: [Double]? = nil,
                            noisyColumns: Int? = nil) -> TeacherForcing {
        guard sigma > 0 else { return self }
        let noisy = ratio?.count ?? noisyColumns ?? inputSize
        precondition(noisy <= inputSize && (ratio == nil || ratio!.count == outputSize))
        var generator = SplitMix64.stream("teacher-forcing noise", seed: seed)
        var result = self
        for s in result.inputs.indices {
            for row in 0..<steps(s) {
                for column in 0..<noisy {
                    let e = sigma * generator.nextNormal()
                    result.inputs[s][row * inputSize + column] += e
                    if let ratio { result.targets[s][row * outputSize + column] -= e * ratio[column] }
                }
            }
        }
        return result
    }

    /// Sequences of several data sets one after another (same sizes).
    public static func concatenating(_ parts: [TeacherForcing]) -> TeacherForcing {
        precondition(!parts.isEmpty && Set(parts.map(\.inputSize)).count == 1 && Set(parts.map(\.outputSize)).count == 1)
        return TeacherForcing(inputSize: parts[0].inputSize, outputSize: parts[0].outputSize,
                              inputs: parts.flatMap(\.inputs), targets: parts.flatMap(\.targets))
    }

    /// Columns picked from each row: input column j is `inputColumns[j]` of the full input (nil: the constant
    /// `fill[j]`), output column j is `outputColumns[j]` of the full target.
    public func selecting(inputColumns: [Int?], fill: [Double], outputColumns: [Int]) -> TeacherForcing {
        var inputs: [[Double]] = [], targets: [[Double]] = []
        for s in self.inputs.indices {
            let n = steps(s)
            var u = [Double](repeating: 0, count: n * inputColumns.count)
            var g = [Double](repeating: 0, count: n * outputColumns.count)
            for t in 0..<n {
                for (j, column) in inputColumns.enumerated() {
                    u[t * inputColumns.count + j] = column.map { self.inputs[s][t * inputSize + $0] } ?? fill[j]
                }
                for (j, column) in outputColumns.enumerated() { g[t * outputColumns.count + j] = self.targets[s][t * outputSize + column] }
            }
            inputs.append(u); targets.append(g)
        }
        return TeacherForcing(inputSize: inputColumns.count, outputSize: outputColumns.count, inputs: inputs, targets: targets)
    }
}

extension Normalization {
    /// σ_y/σ_Δ per component: an input error ε (z-units) is an increment error of ε·σ_y/σ_Δ (`--denoising`).
    public var denoisingRatio: [Double] { zip(stateScale, incrementScale).map { $0 / $1 } }
}
