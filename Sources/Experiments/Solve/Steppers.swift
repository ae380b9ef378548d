// The learned steppers behind one interface: each is fed normalised states one at a time and returns its
// prediction of the next normalised increment. Training-set builders (kernels) sit beside each model.
import Foundation
import Recurrent

/// A learned one-step map in normalised coordinates: after seeing z_0 … z_n it predicts g_n, the normalised
/// increment y_{n+1} − y_n.
public protocol LearnedStepper: AnyObject {
    /// Trainable parameters.
    var parameterCount: Int { get }
    /// Forgets everything seen (zero hidden state, empty window).
    func reset()
    /// Feeds z_n, returns ĝ_n.
    func advance(_ z: [Double]) -> [Double]
}

// MARK: Recurrent networks (rnn, lstm, gru)

/// A `RecurrentNetwork` stepped with batch 1; its hidden state carries the window's memory.
public final class RecurrentStepper: LearnedStepper {
    public let network: RecurrentNetwork
    private var state: RecurrentState

    public init(network: RecurrentNetwork) {
        self.network = network
        self.state = network.makeState(batch: 1)
    }

    public var parameterCount: Int { network.parameterCount }
    public func reset() { state = network.makeState(batch: 1) }
    public func advance(_ z: [Double]) -> [Double] { network.step(z, state: &state) }
}

public enum SequenceBuilder {
    /// Teacher-forcing sequences for the recurrent networks: from each trajectory (row-major (N, d)), windows of
    /// L = k + m consecutive states starting every m steps; input z_s … z_{s+L−1}, target g_s … g_{s+L−1}
    /// (g_n the normalised increment to the next state); the loss counts from step k − 1 on, i.e. once the
    /// network has seen k states, exactly as in evaluation. Nil when no trajectory is long enough.
    public static func dataset(trajectories: [[Double]], dimension d: Int, normalization: Normalization,
                               window k: Int, sequenceSteps m: Int) -> SequenceDataset? {
        let length = k + m
        var inputs: [Double] = [], targets: [Double] = [], count = 0
        var z = [Double](repeating: 0, count: d)
        for trajectory in trajectories {
            let rows = trajectory.count / d
            // Increments exist for n ≤ rows − 2.
            var start = 0
            while start + length - 1 <= rows - 2 {
                for n in start..<(start + length) {
                    trajectory.withUnsafeBufferPointer { normalization.normalizeState($0.baseAddress! + n * d, into: &z) }
                    inputs += z
                    for i in 0..<d {
                        let delta = trajectory[(n + 1) * d + i] - trajectory[n * d + i]
                        targets.append((delta - normalization.incrementMean[i]) / normalization.incrementScale[i])
                    }
                }
                count += 1
                start += m
            }
        }
        guard count > 0 else { return nil }
        return SequenceDataset(count: count, steps: length, inputSize: d, outputSize: d, inputs: inputs,
                               targets: targets, lossFromStep: k - 1)
    }
}

// MARK: Echo state network

/// An `EchoStateNetwork` fed the normalised state; its readout gives the normalised increment.
public final class ReservoirStepper: LearnedStepper {
    public let network: EchoStateNetwork
    private var state: [Double]

    public init(network: EchoStateNetwork) {
        self.network = network
        self.state = network.makeState()
    }

    /// The readout W_out: outputs × (1 + inputs + reservoir).
    public var parameterCount: Int {
        let c = network.configuration
        return c.outputSize * (1 + c.inputSize + c.size)
    }
    public func reset() { state = network.makeState() }
    public func advance(_ z: [Double]) -> [Double] { network.step(z, state: &state) }

    /// Teacher-forcing sequences for the readout fit: per trajectory, inputs z_0 … z_{N−2} and targets
    /// g_0 … g_{N−2}, each row-major.
    public static func sequences(trajectories: [[Double]], dimension d: Int, normalization: Normalization)
        -> (inputs: [[Double]], targets: [[Double]])
    {
        var inputs: [[Double]] = [], targets: [[Double]] = []
        for trajectory in trajectories {
            let rows = trajectory.count / d
            var u: [Double] = [], g: [Double] = []
            u.reserveCapacity((rows - 1) * d); g.reserveCapacity((rows - 1) * d)
            for n in 0..<(rows - 1) {
                for i in 0..<d {
                    u.append((trajectory[n * d + i] - normalization.stateMean[i]) / normalization.stateScale[i])
                    g.append((trajectory[(n + 1) * d + i] - trajectory[n * d + i] - normalization.incrementMean[i])
                             / normalization.incrementScale[i])
                }
            }
            inputs.append(u); targets.append(g)
        }
        return (inputs, targets)
    }
}

// MARK: Linear autoregression (the statistical baseline)

/// ĝ_n = Σ_{j=0}^{k−1} A_j z_{n−j} + b, with [A_{k−1} … A_0; b] = W ((k·d + 1), d) fitted by ridge least squares.
/// Before k states have been seen, the window is padded with the first state.
public final class LinearAutoregressiveStepper: LearnedStepper {
    public let window: Int
    public let dimension: Int
    /// Row-major ((k·d + 1), d): rows for z_{n−k+1} … z_n, then the bias row.
    public let weights: [Double]
    /// The last k states, oldest first, plus a trailing 1.
    private var features: [Double]
    private var seen = 0

    public init(window: Int, dimension: Int, weights: [Double]) {
        precondition(weights.count == (window * dimension + 1) * dimension)
        self.window = window; self.dimension = dimension; self.weights = weights
        features = [Double](repeating: 0, count: window * dimension + 1)
        features[window * dimension] = 1
    }

    public var parameterCount: Int { weights.count }
    public func reset() { seen = 0 }

    public func advance(_ z: [Double]) -> [Double] {
        let d = dimension, p = window * d
        if seen == 0 {
            for j in 0..<window { for i in 0..<d { features[j * d + i] = z[i] } }
        } else {
            // Shift the window one state older and append z.
            for index in 0..<(p - d) { features[index] = features[index + d] }
            for i in 0..<d { features[p - d + i] = z[i] }
        }
        seen += 1
        var g = [Double](repeating: 0, count: d)
        for r in 0...p {
            let f = features[r]
            for i in 0..<d { g[i] += f * weights[r * d + i] }
        }
        return g
    }

    /// Fits W by ridge regression on every window of every training trajectory: rows
    /// [z_{n−k+1} … z_n, 1] → g_n for n = k−1 … N−2.
    public static func fit(trajectories: [[Double]], dimension d: Int, normalization: Normalization, window k: Int,
                           ridge: Double) throws -> LinearAutoregressiveStepper {
        let p = k * d + 1
        var features: [Double] = [], targets: [Double] = [], rows = 0
        for trajectory in trajectories {
            let count = trajectory.count / d
            let z = (0..<count).flatMap { n in (0..<d).map { (trajectory[n * d + $0] - normalization.stateMean[$0]) / normalization.stateScale[$0] } }
            guard count >= k + 1 else { continue }
            for n in (k - 1)...(count - 2) {
                features += z[((n - k + 1) * d)..<((n + 1) * d)]
                features.append(1)
                for i in 0..<d {
                    targets.append((trajectory[(n + 1) * d + i] - trajectory[n * d + i] - normalization.incrementMean[i])
                                   / normalization.incrementScale[i])
                }
                rows += 1
            }
        }
        guard rows >= p else {
            throw SolveConfigurationError("the linear model needs at least \(p) training windows, the data give \(rows); use more or longer training trajectories or a shorter --window")
        }
        let weights = try ridgeRegression(features: features, rows: rows, columns: p, targets: targets, outputs: d, ridge: ridge)
        return LinearAutoregressiveStepper(window: k, dimension: d, weights: weights)
    }
}
