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

    /// z_n = (y_n − μ)/σ (angles reduced first: `Normalization.z`) and g_n = (y_{n+1} − y_n − μ_Δ)/σ_Δ for n = 0 … N−2 of every trajectory (row-major (N, d)).
    public static func full(trajectories: [[Double]], dimension d: Int, normalization: Normalization) -> TeacherForcing {
        var inputs: [[Double]] = [], targets: [[Double]] = []
        for trajectory in trajectories {
            let rows = trajectory.count / d
            guard rows >= 2 else { continue }
            var u: [Double] = [], g: [Double] = []
            u.reserveCapacity((rows - 1) * d); g.reserveCapacity((rows - 1) * d)
            for n in 0..<(rows - 1) {
                for i in 0..<d {
                    u.append(normalization.z(trajectory[n * d + i], i))
                    g.append((trajectory[(n + 1) * d + i] - trajectory[n * d + i] - normalization.incrementMean[i])
                             / normalization.incrementScale[i])
                }
            }
            inputs.append(u); targets.append(g)
        }
        return TeacherForcing(inputSize: d, outputSize: d, inputs: inputs, targets: targets)
    }

    /// The inputs plus independent N(0, σ²) noise (z-units), targets unchanged: the model learns to step from
    /// slightly perturbed states to the true increment, which damps errors that leave the training manifold.
    /// The noise is a function of `seed` alone (one named stream), so the same seed gives the same data.
    /// With `ratio` (σ_y/σ_Δ per column, `Normalization.denoisingRatio`; inputs and targets of one size) each
    /// target becomes the increment from the noisy input to the true next state, g − ε·ratio (`--denoising`).
    public func addingNoise(_ sigma: Double, seed: UInt64, correctingTargets ratio: [Double]? = nil) -> TeacherForcing {
        guard sigma > 0 else { return self }
        precondition(ratio == nil || (ratio!.count == inputSize && inputSize == outputSize))
        var generator = SplitMix64.stream("teacher-forcing noise", seed: seed)
        var noisy = self
        for s in noisy.inputs.indices {
            for k in noisy.inputs[s].indices {
                let e = sigma * generator.nextNormal()
                noisy.inputs[s][k] += e
                if let ratio { noisy.targets[s][k] -= e * ratio[k % inputSize] }
            }
        }
        return noisy
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
