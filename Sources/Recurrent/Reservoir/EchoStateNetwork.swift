// Echo state networks: a sparse random reservoir with a ridge-regression readout.
// CONTRACT SKELETON: public signatures are fixed (they may grow); bodies are filled in by the Recurrent work.

public struct ReservoirConfiguration: Codable, Equatable, Sendable {
    public var inputSize: Int
    public var outputSize: Int
    public var size: Int = 300
    /// Fraction of non-zero entries of W.
    public var connectivity: Double = 0.05
    public var spectralRadius: Double = 0.9
    public var leakRate: Double = 1.0
    public var inputScaling: Double = 1.0
    public var biasScaling: Double = 0.0
    /// Ridge (Tikhonov) regularisation λ of the readout.
    public var ridge: Double = 1e-6
    public init(inputSize: Int, outputSize: Int) { self.inputSize = inputSize; self.outputSize = outputSize }
}

/// x_t = (1 − a) x_{t−1} + a tanh(W_in u_t + W x_{t−1} + b),  y_t = W_out [1; u_t; x_t]
public final class EchoStateNetwork {
    public let configuration: ReservoirConfiguration
    /// The spectral radius of W as computed after scaling.
    public var measuredSpectralRadius: Double { fatalError("not implemented") }

    public init(configuration: ReservoirConfiguration, seed: UInt64) throws { fatalError("not implemented") }

    /// Teacher-forced fit of the readout on sequences (each row-major (steps, inputSize) with targets
    /// (steps, outputSize)); the first `warmup` steps of each sequence are discarded.
    public func fit(inputs: [[Double]], targets: [[Double]], warmup: Int) throws { fatalError("not implemented") }

    /// A zero reservoir state.
    public func makeState() -> [Double] { fatalError("not implemented") }

    /// One step: advance the reservoir with input u and return the readout.
    public func step(_ input: [Double], state: inout [Double]) -> [Double] { fatalError("not implemented") }

    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint { fatalError("not implemented") }
    public convenience init(checkpoint: Checkpoint) throws { fatalError("not implemented") }
}

/// Least squares with Tikhonov regularisation: W = argmin ‖X W − Y‖² + λ‖W‖², X (n, p), Y (n, q) row-major;
/// returns W (p, q) row-major. Solved by LAPACK (Cholesky of XᵀX + λI).
public func ridgeRegression(features: [Double], rows n: Int, columns p: Int, targets: [Double], outputs q: Int,
                            ridge: Double) throws -> [Double] {
    fatalError("not implemented")
}
