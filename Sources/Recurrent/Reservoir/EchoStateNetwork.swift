// Echo state networks: a sparse random reservoir with a ridge-regression readout.
// Reference: Jaeger (2001), "The echo state approach"; Lukoševičius (2012), "A practical guide to applying ESNs".
import Foundation

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
    /// W (N, N) row-major: sparse random entries, scaled to the requested spectral radius.
    let reservoir: [Double]
    /// W_in (N, I) row-major, uniform in ±inputScaling.
    let inputWeights: [Double]
    /// b (N), uniform in ±biasScaling.
    let bias: [Double]
    /// W_outᵀ (1 + I + N, O) row-major (the ridge solution); zero until `fit`.
    var readout: [Double]
    private let radius: Double
    /// Scratch for one step: the pre-activation (N) and the feature vector [1; u; x] (1 + I + N).
    private let preActivation: Buffer<Double>
    private let features: Buffer<Double>

    /// The spectral radius of W as computed after scaling.
    public var measuredSpectralRadius: Double { radius }
    /// Whether `fit` has set the readout.
    public private(set) var isFitted = false
    var featureCount: Int { 1 + configuration.inputSize + configuration.size }

    /// Builds the reservoir from `seed`, one generator stream per matrix: W (sparsity pattern and values uniform
    /// in ±1), W_in, b. W is then scaled so its spectral radius (eigenvalues by LAPACK dgeev) is the requested one.
    public convenience init(configuration c: ReservoirConfiguration, seed: UInt64) throws {
        try Self.validate(c)
        BLAS.configureOnce()
        let n = c.size
        var patternStream = Xoshiro256StarStar(seed: seed, stream: 1)
        var w = [Double](repeating: 0, count: n * n)
        for k in 0..<(n * n) where patternStream.nextUniform() < c.connectivity { w[k] = patternStream.nextSymmetric(1) }
        let unscaled = try Self.spectralRadius(of: w, order: n)
        guard unscaled > 1e-12 else {
            throw ReservoirError("the random reservoir (size \(n), connectivity \(c.connectivity), seed \(seed)) has spectral radius 0: "
                                 + "raise the connectivity or the size")
        }
        for k in w.indices { w[k] *= c.spectralRadius / unscaled }
        var inputStream = Xoshiro256StarStar(seed: seed, stream: 2), biasStream = Xoshiro256StarStar(seed: seed, stream: 3)
        self.init(configuration: c, reservoir: w,
                  inputWeights: (0..<(n * c.inputSize)).map { _ in inputStream.nextSymmetric(c.inputScaling) },
                  bias: (0..<n).map { _ in biasStream.nextSymmetric(c.biasScaling) },
                  readout: [Double](repeating: 0, count: (1 + c.inputSize + n) * c.outputSize),
                  radius: try Self.spectralRadius(of: w, order: n))
    }

    private init(configuration: ReservoirConfiguration, reservoir: [Double], inputWeights: [Double], bias: [Double],
                 readout: [Double], radius: Double) {
        self.configuration = configuration; self.reservoir = reservoir; self.inputWeights = inputWeights
        self.bias = bias; self.readout = readout; self.radius = radius
        preActivation = Buffer<Double>(count: configuration.size)
        features = Buffer<Double>(count: 1 + configuration.inputSize + configuration.size)
    }

    private static func validate(_ c: ReservoirConfiguration) throws {
        func check(_ ok: Bool, _ m: String) throws { if !ok { throw ReservoirError("reservoir configuration: \(m)") } }
        try check(c.inputSize > 0 && c.outputSize > 0 && c.size > 0, "sizes must be positive (input \(c.inputSize), output \(c.outputSize), size \(c.size))")
        // Bounded so that size², size·input and (1 + input + size)·output cannot overflow (a checkpoint's sizes are data).
        try check([c.inputSize, c.outputSize, c.size].allSatisfy { $0 <= 1_000_000 },
                  "sizes must be at most 1000000 (input \(c.inputSize), output \(c.outputSize), size \(c.size))")
        try check(c.connectivity > 0 && c.connectivity <= 1, "connectivity must be in (0, 1] (got \(c.connectivity))")
        try check(c.spectralRadius > 0 && c.spectralRadius.isFinite, "spectral radius must be positive (got \(c.spectralRadius))")
        try check(c.leakRate > 0 && c.leakRate <= 1, "leak rate must be in (0, 1] (got \(c.leakRate))")
        try check(c.inputScaling >= 0 && c.inputScaling.isFinite && c.biasScaling >= 0 && c.biasScaling.isFinite,
                  "input and bias scaling must be ≥ 0 (got \(c.inputScaling), \(c.biasScaling))")
        try check(c.ridge >= 0 && c.ridge.isFinite, "ridge must be ≥ 0 (got \(c.ridge))")
    }

    /// max |λ| over the eigenvalues of the dense (n, n) matrix `w` (LAPACK dgeev).
    static func spectralRadius(of w: [Double], order n: Int) throws -> Double {
        var a = w, re = [Double](repeating: 0, count: n), im = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { ap in
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in BLAS.eigenvalues(ap.baseAddress!, order: n, real: r.baseAddress!, imaginary: i.baseAddress!) }
            }
        }
        guard info == 0 else { throw ReservoirError("LAPACK dgeev failed on the \(n)×\(n) reservoir (info \(info))") }
        return zip(re, im).map { ($0 * $0 + $1 * $1).squareRoot() }.max() ?? 0
    }

    // MARK: Running

    /// A zero reservoir state.
    public func makeState() -> [Double] { [Double](repeating: 0, count: configuration.size) }

    /// x ← (1 − a) x + a tanh(W_in u + W x + b), and fills `features` with [1; u; x].
    private func advance(_ u: UnsafePointer<Double>, state x: UnsafeMutablePointer<Double>) {
        let n = configuration.size, i = configuration.inputSize, a = configuration.leakRate, z = preActivation.base
        bias.withUnsafeBufferPointer { z.update(from: $0.baseAddress!, count: n) }
        inputWeights.withUnsafeBufferPointer {
            BLAS.gemv(MatrixRef($0.baseAddress!, rows: n, columns: i), u, count: i, into: z, count: n, beta: 1)
        }
        reservoir.withUnsafeBufferPointer {
            BLAS.gemv(MatrixRef($0.baseAddress!, rows: n, columns: n), x, count: n, into: z, count: n, beta: 1)
        }
        for k in 0..<n { x[k] = (1 - a) * x[k] + a * tanh(z[k]) }
        features.base[0] = 1
        (features.base + 1).update(from: u, count: i)
        (features.base + 1 + i).update(from: x, count: n)
    }

    /// One step: advance the reservoir with input u and return the readout y = W_out [1; u; x].
    public func step(_ input: [Double], state: inout [Double]) -> [Double] {
        precondition(input.count == configuration.inputSize && state.count == configuration.size,
                     "ESN step: input \(input.count) (expected \(configuration.inputSize)), state \(state.count) (expected \(configuration.size))")
        input.withUnsafeBufferPointer { u in state.withUnsafeMutableBufferPointer { advance(u.baseAddress!, state: $0.baseAddress!) } }
        var y = [Double](repeating: 0, count: configuration.outputSize)
        readout.withUnsafeBufferPointer { w in
            y.withUnsafeMutableBufferPointer { yp in
                BLAS.gemv(MatrixRef(w.baseAddress!, rows: featureCount, columns: configuration.outputSize), transposeA: true,
                          features.base, count: featureCount, into: yp.baseAddress!, count: configuration.outputSize, beta: 0)
            }
        }
        return y
    }

    /// Teacher-forced fit of the readout on sequences (each row-major (steps, inputSize) with targets
    /// (steps, outputSize)); the first `warmup` steps of each sequence are discarded.
    public func fit(inputs: [[Double]], targets: [[Double]], warmup: Int) throws {
        let i = configuration.inputSize, o = configuration.outputSize, p = featureCount
        guard inputs.count == targets.count, !inputs.isEmpty else {
            throw ReservoirError("ESN fit: \(inputs.count) input sequences but \(targets.count) target sequences")
        }
        guard warmup >= 0 else { throw ReservoirError("ESN fit: warm-up must be ≥ 0 (got \(warmup))") }
        let equations = NormalEquations(features: p, outputs: o)
        let blockRows = 512
        var block = [Double](repeating: 0, count: blockRows * p), blockTargets = [Double](repeating: 0, count: blockRows * o)
        var filled = 0
        func flush() {
            block.withUnsafeBufferPointer { x in
                blockTargets.withUnsafeBufferPointer { y in equations.add(x.baseAddress!, y.baseAddress!, rows: filled) }
            }
            filled = 0
        }
        for (s, (u, y)) in zip(inputs, targets).enumerated() {
            guard u.count % i == 0, y.count == u.count / i * o else {
                throw ReservoirError("ESN fit: sequence \(s) has \(u.count) inputs and \(y.count) targets, not (steps × \(i), steps × \(o))")
            }
            if let bad = u.firstIndex(where: { !$0.isFinite }) ?? y.firstIndex(where: { !$0.isFinite }).map({ $0 }) {
                throw ReservoirError("ESN fit: sequence \(s) holds a non-finite value near index \(bad)")
            }
            var x = makeState()
            u.withUnsafeBufferPointer { up in
                x.withUnsafeMutableBufferPointer { xp in
                    for t in 0..<(u.count / i) {
                        advance(up.baseAddress! + t * i, state: xp.baseAddress!)
                        guard t >= warmup else { continue }
                        for k in 0..<p { block[filled * p + k] = features.base[k] }
                        for k in 0..<o { blockTargets[filled * o + k] = y[t * o + k] }
                        filled += 1
                        if filled == blockRows { flush() }
                    }
                }
            }
        }
        flush()
        readout = try equations.solve(ridge: configuration.ridge)
        isFitted = true
    }

    // MARK: Checkpoints

    static let checkpointKind = "echo-state-network"

    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint {
        precondition(!metadata.keys.contains { $0.hasPrefix("reservoir.") }, "metadata names 'reservoir.*' are reserved")
        var arrays = metadata
        arrays["reservoir.W"] = reservoir
        arrays["reservoir.W_in"] = inputWeights
        arrays["reservoir.b"] = bias
        arrays["reservoir.W_out"] = readout
        arrays["reservoir.spectralRadius"] = [radius]
        return Checkpoint(kind: Self.checkpointKind, arrays: arrays, strings: ["reservoir.configuration": canonicalJSON(configuration)])
    }

    public convenience init(checkpoint: Checkpoint) throws {
        try checkpoint.requireKind(Self.checkpointKind)
        let c = try checkpoint.decodeJSON(ReservoirConfiguration.self, from: "reservoir.configuration")
        do { try Self.validate(c) } catch let e as ReservoirError {
            throw CheckpointError(file: checkpoint.file, problem: .malformed(e.message))
        }
        self.init(configuration: c,
                  reservoir: try checkpoint.array("reservoir.W", count: c.size * c.size),
                  inputWeights: try checkpoint.array("reservoir.W_in", count: c.size * c.inputSize),
                  bias: try checkpoint.array("reservoir.b", count: c.size),
                  readout: try checkpoint.array("reservoir.W_out", count: (1 + c.inputSize + c.size) * c.outputSize),
                  radius: try checkpoint.array("reservoir.spectralRadius", count: 1)[0])
        isFitted = true
    }
}
