// Optimizers over the flat parameter buffer: Adam and SGD with momentum (PyTorch's update rules).
import Foundation

/// The optimizer and its state (moments and step count), which a checkpoint stores so resuming is exact.
struct Optimizer {
    let kind: OptimizerKind
    /// Adam: first moment m; SGD: velocity v.
    var firstMoment: [Double]
    /// Adam: second moment v (empty for SGD).
    var secondMoment: [Double]
    /// Updates taken so far (Adam's bias correction uses it).
    var steps: Int = 0

    init(kind: OptimizerKind, count: Int) {
        self.kind = kind
        firstMoment = [Double](repeating: 0, count: count)
        if case .adam = kind { secondMoment = [Double](repeating: 0, count: count) } else { secondMoment = [] }
    }

    /// One update with gradient g and rate η:
    ///   Adam (Kingma & Ba 2015):  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
    ///                             θ ← θ − η · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
    ///   SGD with momentum μ:      v ← μv + g,  θ ← θ − η·v
    mutating func update(_ theta: UnsafeMutablePointer<Double>, gradient g: UnsafePointer<Double>, count n: Int,
                         learningRate eta: Double) {
        precondition(n == firstMoment.count)
        steps += 1
        switch kind {
        case .adam(let beta1, let beta2, let epsilon):
            let correction1 = 1 - pow(beta1, Double(steps)), correction2 = 1 - pow(beta2, Double(steps))
            let stepSize = eta / correction1, rootCorrection2 = correction2.squareRoot()
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    for k in 0..<n {
                        m[k] = beta1 * m[k] + (1 - beta1) * g[k]
                        v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k]
                        theta[k] -= stepSize * m[k] / (v[k].squareRoot() / rootCorrection2 + epsilon)
                    }
                }
            }
        case .sgd(let momentum):
            firstMoment.withUnsafeMutableBufferPointer { v in
                for k in 0..<n {
                    v[k] = momentum * v[k] + g[k]
                    theta[k] -= eta * v[k]
                }
            }
        }
    }
}

/// ‖g‖₂ over the whole buffer.
func globalNorm(_ g: UnsafePointer<Double>, count n: Int) -> Double { BLAS.dot(g, g, count: n).squareRoot() }
