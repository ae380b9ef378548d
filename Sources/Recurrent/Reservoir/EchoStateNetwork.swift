// Echo state networks: a sparse random reservoir (CSR) with a ridge-regression readout, stepped one trajectory
// or a batch of trajectories at a time, and fitted by teacher forcing split over threads.
// Reference: Jaeger (2001), "The echo state approach"; Lukoševičius (2012), "A practical guide to applying ESNs".
import Foundation

/// What the readout sees of the reservoir state x (the state itself is never changed).
public enum ReservoirReadout: String, Codable, CaseIterable, Sendable {
    /// F = [1; u; x].
    case linear
    /// F = [1; u; x̃] with x̃_i = x_i² for even i and x_i for odd i (Pathak et al. 2017, Chaos 27 121102; 2018,
    /// PRL 120 024102): squaring half the units breaks the odd symmetry x → −x of tanh, which a linear readout of
    /// a reservoir driven without bias cannot, and which Lorenz-63's (x, y, z) → (−x, −y, z) does not share.
    case pathak
    /// F = [1; u; x; x∘x].
    case quadratic
}

/// How W_in is drawn.
public enum ReservoirInputWeights: String, Codable, CaseIterable, Sendable {
    /// Every entry uniform in ±inputScaling.
    case dense
    /// Every unit driven by exactly one input (Pathak et al. 2018): ⌊N/I⌋ or ⌈N/I⌉ units per input, assigned in
    /// random order, each weight uniform in ±inputScaling.
    case one
}

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
    /// The readout's features.
    public var readout: ReservoirReadout = .linear
    /// The pattern of W_in.
    public var inputWeights: ReservoirInputWeights = .dense
    public init(inputSize: Int, outputSize: Int) { self.inputSize = inputSize; self.outputSize = outputSize }

    /// P: the number of features F the readout sees.
    public var featureCount: Int { 1 + inputSize + (readout == .quadratic ? 2 : 1) * size }

    private enum CodingKeys: String, CodingKey {
        case inputSize, outputSize, size, connectivity, spectralRadius, leakRate, inputScaling, biasScaling, ridge, readout, inputWeights
    }

    /// Configurations saved before `readout` and `inputWeights` existed read as `linear` and `dense`.
    public init(from decoder: Decoder) throws {
        let k = try decoder.container(keyedBy: CodingKeys.self)
        inputSize = try k.decode(Int.self, forKey: .inputSize)
        outputSize = try k.decode(Int.self, forKey: .outputSize)
        size = try k.decode(Int.self, forKey: .size)
        connectivity = try k.decode(Double.self, forKey: .connectivity)
        spectralRadius = try k.decode(Double.self, forKey: .spectralRadius)
        leakRate = try k.decode(Double.self, forKey: .leakRate)
        inputScaling = try k.decode(Double.self, forKey: .inputScaling)
        biasScaling = try k.decode(Double.self, forKey: .biasScaling)
        ridge = try k.decode(Double.self, forKey: .ridge)
        readout = try k.decodeIfPresent(ReservoirReadout.self, forKey: .readout) ?? .linear
        inputWeights = try k.decodeIfPresent(ReservoirInputWeights.self, forKey: .inputWeights) ?? .dense
    }
}

/// x_t = (1 − a) x_{t−1} + a tanh(W_in u_t + W x_{t−1} + b),  y_t = W_out F(u_t, x_t) with F = [1; u_t; x_t]
/// or the `ReservoirReadout` variants of it.
public final class EchoStateNetwork {
    public let configuration: ReservoirConfiguration
    /// W (N, N) in CSR form: sparse random entries, scaled to the requested spectral radius.
    let reservoir: SparseMatrix
    /// W_in (N, I) row-major, uniform in ±inputScaling (with `.one`, a single non-zero entry per row).
    let inputWeights: [Double]
    /// With `.one`: the input that drives each unit (the column of its row's entry, 0 for an all-zero row).
    private let inputColumn: [Int]?
    /// b (N), uniform in ±biasScaling.
    let bias: [Double]
    /// W_outᵀ (P, O) row-major (the ridge solution); zero until `fit`.
    var readout: [Double]
    private let radius: Double
    /// Scratch for `step` (batch 1); `fit` and `ReservoirBatch` bring their own.
    private let workspace: ReservoirWorkspace

    /// The spectral radius of W as computed after scaling.
    public var measuredSpectralRadius: Double { radius }
    /// Whether `fit` has set the readout.
    public private(set) var isFitted = false
    /// P: the number of features (1 + I + N, or 1 + I + 2N with the quadratic readout).
    public var featureCount: Int { configuration.featureCount }
    /// Stored entries of W (its density times N²).
    public var reservoirNonZeroCount: Int { reservoir.nonZeroCount }

    /// Reservoirs up to this size get their spectral radius from the dense eigenvalues (LAPACK dgeev, O(N³) time
    /// and N² memory); larger ones from Arnoldi on the CSR matrix (`SparseMatrix.spectralRadius`).
    public static let denseSpectralRadiusLimit = 1024

    /// Builds the reservoir from `seed`, one generator stream per matrix: W (sparsity pattern and values uniform
    /// in ±1, drawn entry by entry in row-major order straight into CSR form), W_in, b. W is then scaled so its
    /// spectral radius is the requested one: for N ≤ `denseSpectralRadiusLimit` from all eigenvalues of a dense
    /// copy (LAPACK dgeev, before and after scaling); above it by Arnoldi on W itself to a relative residual of
    /// 1e-10 (the measured radius is then the estimate times the scale factor), so no N² array is ever made.
    public convenience init(configuration c: ReservoirConfiguration, seed: UInt64) throws {
        try Self.validate(c)
        BLAS.configureOnce()
        let n = c.size
        var patternStream = Xoshiro256StarStar(seed: seed, stream: 1)
        var rowStart = [0], columns: [Int32] = [], values: [Double] = []
        rowStart.reserveCapacity(n + 1)
        let expected = Int((Double(n) * Double(n) * c.connectivity * 1.1).rounded(.up)) + 16
        columns.reserveCapacity(expected); values.reserveCapacity(expected)
        for _ in 0..<n {
            for column in 0..<n where patternStream.nextUniform() < c.connectivity {
                let value = patternStream.nextSymmetric(1)
                if value != 0 { columns.append(Int32(column)); values.append(value) }
            }
            rowStart.append(values.count)
        }
        func matrix(_ values: [Double]) -> SparseMatrix {
            guard let m = SparseMatrix(rows: n, columns: n, rowStart: rowStart, columnIndices: columns, values: values) else {
                preconditionFailure("ESN: the drawn reservoir is not a valid CSR matrix")
            }
            return m
        }
        let dense = n <= Self.denseSpectralRadiusLimit
        let unscaledMatrix = matrix(values)
        let unscaled = dense ? try Self.spectralRadius(of: unscaledMatrix.dense, order: n) : try unscaledMatrix.spectralRadius().radius
        guard unscaled > 1e-12 else {
            throw ReservoirError("the random reservoir (size \(n), connectivity \(c.connectivity), seed \(seed)) has spectral radius 0: "
                                 + "raise the connectivity or the size")
        }
        let factor = c.spectralRadius / unscaled
        let scaled = matrix(values.map { $0 * factor })
        let radius = dense ? try Self.spectralRadius(of: scaled.dense, order: n) : unscaled * factor
        var inputStream = Xoshiro256StarStar(seed: seed, stream: 2), biasStream = Xoshiro256StarStar(seed: seed, stream: 3)
        let inputWeights: [Double]
        switch c.inputWeights {
        case .dense:
            inputWeights = (0..<(n * c.inputSize)).map { _ in inputStream.nextSymmetric(c.inputScaling) }
        case .one:
            // Units r·I/N (rounded down) in a random order: each input drives ⌊N/I⌋ or ⌈N/I⌉ units.
            let order = inputStream.permutation(n)
            var weights = [Double](repeating: 0, count: n * c.inputSize)
            for row in 0..<n { weights[row * c.inputSize + order[row] * c.inputSize / n] = inputStream.nextSymmetric(c.inputScaling) }
            inputWeights = weights
        }
        self.init(configuration: c, reservoir: scaled, inputWeights: inputWeights,
                  bias: (0..<n).map { _ in biasStream.nextSymmetric(c.biasScaling) },
                  readout: [Double](repeating: 0, count: c.featureCount * c.outputSize),
                  radius: radius)
    }

    private init(configuration: ReservoirConfiguration, reservoir: SparseMatrix, inputWeights: [Double], bias: [Double],
                 readout: [Double], radius: Double) {
        self.configuration = configuration; self.reservoir = reservoir; self.inputWeights = inputWeights
        self.bias = bias; self.readout = readout; self.radius = radius
        let i = configuration.inputSize
        inputColumn = configuration.inputWeights == .one
            ? (0..<configuration.size).map { row in (0..<i).first { inputWeights[row * i + $0] != 0 } ?? 0 }
            : nil
        workspace = ReservoirWorkspace(configuration: configuration, batch: 1)
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

    /// Advances B reservoirs at once and fills the features:
    ///   Z = b·1ᵀ + W_in·U + W·X      (N, B): b broadcast, W_in (N, I) dense, W (N, N) CSR (SpMM; SpMV for B = 1)
    ///   X ← (1 − a)·X + a·tanh(Z)    (N, B), tanh by `FastTanh` (within 5u·|tanh z|; no libm call)
    ///   F = [1ᵀ; U; X]               (1 + I + N, B)   linear readout
    ///   F = [1ᵀ; U; X̃]               X̃ = X with its even rows squared (pathak readout)
    ///   F = [1ᵀ; U; X; X∘X]          (1 + I + 2N, B)  (quadratic readout)
    /// with U (I, B) read from `u` laid out (B, I) row-major (row b: trajectory b's input) and X (N, B) row-major
    /// (column b: trajectory b's state); the readout's variants change F only, never X. Every entry is summed in
    /// the same order for every B (the bias, then W_in's terms by j, then W's entries by column), so a trajectory's
    /// numbers do not depend on the batch it is stepped in. With one input per unit, W_in's row holds one non-zero
    /// entry and only its term is added: the skipped terms are exact zeros, so the sums are the same as the dense
    /// loop's for finite inputs.
    func advance(_ u: UnsafePointer<Double>, state x: UnsafeMutablePointer<Double>, workspace ws: ReservoirWorkspace) {
        let n = configuration.size, i = configuration.inputSize, a = configuration.leakRate, b = ws.batch
        let z = ws.preActivation.base, f = ws.features.base
        // F rows 0 … I: [1ᵀ; U], so that U (I, B) is read from F below.
        for column in 0..<b { f[column] = 1 }
        for j in 0..<i { for column in 0..<b { f[(1 + j) * b + column] = u[column * i + j] } }
        let inputs = UnsafePointer(f + b)
        if let inputColumn {
            for row in 0..<n {
                let zr = z + row * b, weight = inputWeights[row * i + inputColumn[row]], ur = inputs + inputColumn[row] * b
                for column in 0..<b { zr[column] = bias[row] + weight * ur[column] }
            }
        } else {
            bias.withUnsafeBufferPointer { bias in
                inputWeights.withUnsafeBufferPointer { win in
                    for row in 0..<n {
                        let zr = z + row * b, wr = win.baseAddress! + row * i
                        func block<V: SIMD>(_: V.Type, _ column: Int) where V.Scalar == Double {
                            var sum = V(repeating: bias[row])
                            for j in 0..<i { sum += V(repeating: wr[j]) * V.load(inputs + j * b + column) }
                            sum.store(zr + column)
                        }
                        var column = 0
                        while column + 8 <= b { block(SIMD8<Double>.self, column); column += 8 }
                        if column + 4 <= b { block(SIMD4<Double>.self, column); column += 4 }
                        while column < b {
                            var sum = bias[row]
                            for j in 0..<i { sum += wr[j] * inputs[j * b + column] }
                            zr[column] = sum
                            column += 1
                        }
                    }
                }
            }
        }
        reservoir.multiplyAdd(batch: x, into: z, batch: b)
        for k in 0..<(n * b) { x[k] = (1 - a) * x[k] + a * FastTanh.tanh(z[k]) }
        let states = f + (1 + i) * b
        states.update(from: x, count: n * b)
        switch configuration.readout {
        case .linear:
            break
        case .pathak:
            for row in stride(from: 0, to: n, by: 2) { for k in (row * b)..<((row + 1) * b) { states[k] = x[k] * x[k] } }
        case .quadratic:
            let squares = states + n * b
            for k in 0..<(n * b) { squares[k] = x[k] * x[k] }
        }
    }

    /// Y = W_out·F for the features of the last `advance`: y (B, O) row-major, y_{bo} = Σ_p W_outᵀ[p, o]·F[p, b]
    /// summed over p ascending from 0 (the same order for every B).
    func readOut(_ ws: ReservoirWorkspace, into y: UnsafeMutablePointer<Double>) {
        let p = featureCount, o = configuration.outputSize, b = ws.batch
        let f = UnsafePointer(ws.features.base)
        readout.withUnsafeBufferPointer { w in
            for output in 0..<o {
                let wo = w.baseAddress! + output
                func block<V: SIMD>(_: V.Type, _ column: Int) where V.Scalar == Double {
                    var sum = V(repeating: 0)
                    for feature in 0..<p { sum += V(repeating: wo[feature * o]) * V.load(f + feature * b + column) }
                    for lane in 0..<V.scalarCount { y[(column + lane) * o + output] = sum[lane] }
                }
                var column = 0
                while column + 8 <= b { block(SIMD8<Double>.self, column); column += 8 }
                if column + 4 <= b { block(SIMD4<Double>.self, column); column += 4 }
                while column < b {
                    var sum = 0.0
                    for feature in 0..<p { sum += wo[feature * o] * f[feature * b + column] }
                    y[column * o + output] = sum
                    column += 1
                }
            }
        }
    }

    /// One step: advance the reservoir with input u and return the readout y = W_out F(u, x).
    public func step(_ input: [Double], state: inout [Double]) -> [Double] {
        precondition(input.count == configuration.inputSize && state.count == configuration.size,
                     "ESN step: input \(input.count) (expected \(configuration.inputSize)), state \(state.count) (expected \(configuration.size))")
        input.withUnsafeBufferPointer { u in state.withUnsafeMutableBufferPointer { advance(u.baseAddress!, state: $0.baseAddress!, workspace: workspace) } }
        var y = [Double](repeating: 0, count: configuration.outputSize)
        y.withUnsafeMutableBufferPointer { readOut(workspace, into: $0.baseAddress!) }
        return y
    }

    // MARK: Fitting

    /// Teacher-forced fit of the readout on sequences (each row-major (steps, inputSize) with targets
    /// (steps, outputSize)); the first `warmup` steps of each sequence are discarded.
    ///
    /// The sequences are split into `threads` contiguous groups (default `EchoStateNetwork.defaultThreads()`,
    /// at most one group per sequence); each thread runs its group with its own state and a single-threaded BLAS
    /// and accumulates its own XᵀX and XᵀY; the groups' sums are then added in group order, so the readout is
    /// the same bits for a given thread count whatever the scheduling.
    public func fit(inputs: [[Double]], targets: [[Double]], warmup: Int, threads: Int? = nil) throws {
        let i = configuration.inputSize, o = configuration.outputSize, p = featureCount
        guard inputs.count == targets.count, !inputs.isEmpty else {
            throw ReservoirError("ESN fit: \(inputs.count) input sequences but \(targets.count) target sequences")
        }
        guard warmup >= 0 else { throw ReservoirError("ESN fit: warm-up must be ≥ 0 (got \(warmup))") }
        for (s, (u, y)) in zip(inputs, targets).enumerated() {
            guard u.count % i == 0, y.count == u.count / i * o else {
                throw ReservoirError("ESN fit: sequence \(s) has \(u.count) inputs and \(y.count) targets, not (steps × \(i), steps × \(o))")
            }
            if let bad = u.firstIndex(where: { !$0.isFinite }) ?? y.firstIndex(where: { !$0.isFinite }) {
                throw ReservoirError("ESN fit: sequence \(s) holds a non-finite value near index \(bad)")
            }
        }
        let threadCount = min(try threads ?? Self.defaultThreads(), inputs.count)
        precondition(threadCount >= 1, "ESN fit: thread count \(threadCount)")
        // Group g holds sequences [g·S/T, (g+1)·S/T).
        let groups = (0..<threadCount).map { g in (g * inputs.count / threadCount)..<((g + 1) * inputs.count / threadCount) }
        let partial = groups.map { _ in NormalEquations(features: p, outputs: o) }
        let collect = { (g: Int) in
            self.collectFeatures(inputs: inputs, targets: targets, sequences: groups[g], warmup: warmup, into: partial[g])
        }
        if threadCount == 1 {
            collect(0)
        } else {
            let saved = BLAS.threads
            BLAS.setThreads(1)
            defer { BLAS.setThreads(saved) }
            Parallelism.forEach(threadCount, collect)
        }
        let equations = partial[0]
        for g in 1..<threadCount { equations.add(partial[g]) }
        readout = try equations.solve(ridge: configuration.ridge)
        isFitted = true
    }

    /// Runs the given sequences teacher-forced and adds their feature rows F(u_t, x_t) (t ≥ warmup) and targets
    /// to `equations`, in blocks of 512 rows. Uses only its own state and scratch (safe on any thread).
    private func collectFeatures(inputs: [[Double]], targets: [[Double]], sequences: Range<Int>, warmup: Int,
                                 into equations: NormalEquations) {
        let i = configuration.inputSize, o = configuration.outputSize, p = featureCount
        let ws = ReservoirWorkspace(configuration: configuration, batch: 1)
        let blockRows = 512
        let block = Buffer<Double>(count: blockRows * p), blockTargets = Buffer<Double>(count: blockRows * o)
        var filled = 0
        func flush() {
            equations.add(block.base, blockTargets.base, rows: filled)
            filled = 0
        }
        var x = makeState()
        for s in sequences {
            let u = inputs[s], y = targets[s]
            for k in x.indices { x[k] = 0 }
            u.withUnsafeBufferPointer { up in
                x.withUnsafeMutableBufferPointer { xp in
                    for t in 0..<(u.count / i) {
                        advance(up.baseAddress! + t * i, state: xp.baseAddress!, workspace: ws)
                        guard t >= warmup else { continue }
                        (block.base + filled * p).update(from: ws.features.base, count: p)
                        for k in 0..<o { blockTargets.base[filled * o + k] = y[t * o + k] }
                        filled += 1
                        if filled == blockRows { flush() }
                    }
                }
            }
        }
        flush()
    }

    /// Threads for `fit`: `RNNODE_THREADS` when set (read and bounded by `Parallelism`, as for training), else
    /// every active core.
    public static func defaultThreads(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        do {
            return try Parallelism.environmentThreads(environment) ?? max(ProcessInfo.processInfo.activeProcessorCount, 1)
        } catch let error as TrainingError {
            throw ReservoirError(error.message)
        }
    }

    // MARK: Checkpoints

    static let checkpointKind = "echo-state-network"

    /// W is stored in CSR form ("reservoir.W.row_start", "reservoir.W.columns", "reservoir.W.values");
    /// checkpoints that hold the dense "reservoir.W" (N·N values, the earlier format) still load.
    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint {
        precondition(!metadata.keys.contains { $0.hasPrefix("reservoir.") }, "metadata names 'reservoir.*' are reserved")
        var arrays = metadata
        arrays["reservoir.W.row_start"] = reservoir.rowStart.map(Double.init)
        arrays["reservoir.W.columns"] = reservoir.columnIndices.map(Double.init)
        arrays["reservoir.W.values"] = reservoir.values
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
        let n = c.size, i = c.inputSize
        let w: SparseMatrix
        if checkpoint.arrays["reservoir.W"] != nil {
            w = SparseMatrix(dense: try checkpoint.array("reservoir.W", count: n * n), rows: n, columns: n)
        } else {
            let starts = try checkpoint.array("reservoir.W.row_start", count: n + 1)
            let values = try checkpoint.array("reservoir.W.values")
            let columns = try checkpoint.array("reservoir.W.columns", count: values.count)
            // Offsets and columns are stored as Doubles: whole numbers in range, else the file is malformed.
            func whole(_ v: Double, below limit: Int) -> Int? { v >= 0 && v < Double(limit) && v.rounded() == v ? Int(v) : nil }
            let startOffsets = starts.compactMap { whole($0, below: values.count + 1) }
            let columnIndices = columns.compactMap { whole($0, below: n).map { Int32($0) } }
            guard startOffsets.count == starts.count, columnIndices.count == columns.count,
                  let sparse = SparseMatrix(rows: n, columns: n, rowStart: startOffsets, columnIndices: columnIndices, values: values) else {
                throw CheckpointError(file: checkpoint.file, problem: .malformed(
                    "the reservoir's CSR arrays do not describe a \(n)×\(n) matrix (offsets from 0 to the entry count, columns ascending in 0..<\(n), finite values)"))
            }
            w = sparse
        }
        let inputWeights = try checkpoint.array("reservoir.W_in", count: n * i)
        if c.inputWeights == .one, let row = (0..<n).first(where: { row in (0..<i).filter { inputWeights[row * i + $0] != 0 }.count > 1 }) {
            throw CheckpointError(file: checkpoint.file, problem: .malformed(
                "row \(row) of reservoir.W_in has more than one non-zero entry, but the configuration says one input per unit"))
        }
        self.init(configuration: c, reservoir: w, inputWeights: inputWeights,
                  bias: try checkpoint.array("reservoir.b", count: n),
                  readout: try checkpoint.array("reservoir.W_out", count: c.featureCount * c.outputSize),
                  radius: try checkpoint.array("reservoir.spectralRadius", count: 1)[0])
        isFitted = true
    }
}

/// Scratch for stepping B reservoirs: the pre-activations Z (N, B) and the features F (P, B).
final class ReservoirWorkspace {
    let batch: Int
    let preActivation: Buffer<Double>
    let features: Buffer<Double>
    init(configuration c: ReservoirConfiguration, batch: Int) {
        precondition(batch >= 1, "reservoir batch \(batch)")
        self.batch = batch
        preActivation = Buffer<Double>(count: c.size * batch)
        features = Buffer<Double>(count: c.featureCount * batch)
    }
}

/// B independent reservoir states of one network, stepped together (SpMM instead of B SpMVs). Trajectory b's
/// outputs equal those of `EchoStateNetwork.step` fed the same inputs, bit for bit (see `advance`).
public final class ReservoirBatch {
    public let network: EchoStateNetwork
    public let batch: Int
    /// X (N, B) row-major: column b is trajectory b's state.
    private let state: Buffer<Double>
    private let workspace: ReservoirWorkspace

    public init(network: EchoStateNetwork, batch: Int) {
        precondition(batch >= 1, "reservoir batch \(batch)")
        self.network = network; self.batch = batch
        state = Buffer<Double>(count: network.configuration.size * batch)
        workspace = ReservoirWorkspace(configuration: network.configuration, batch: batch)
    }

    /// Zero states for every trajectory.
    public func reset() { state.zero() }

    /// Advances every trajectory: inputs (B, I) row-major in, outputs (B, O) row-major out.
    public func step(_ inputs: UnsafePointer<Double>, into outputs: UnsafeMutablePointer<Double>) {
        network.advance(inputs, state: state.base, workspace: workspace)
        network.readOut(workspace, into: outputs)
    }

    /// `step` on arrays: inputs (B, I) → outputs (B, O), both row-major.
    public func step(_ inputs: [Double]) -> [Double] {
        let c = network.configuration
        precondition(inputs.count == batch * c.inputSize, "reservoir batch step: \(inputs.count) inputs, expected \(batch * c.inputSize)")
        var outputs = [Double](repeating: 0, count: batch * c.outputSize)
        inputs.withUnsafeBufferPointer { u in outputs.withUnsafeMutableBufferPointer { step(u.baseAddress!, into: $0.baseAddress!) } }
        return outputs
    }
}
