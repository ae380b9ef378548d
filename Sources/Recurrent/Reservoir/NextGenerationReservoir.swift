// Next-generation reservoir computing (NG-RC, a nonlinear vector autoregression): a feature vector of delayed
// inputs and their monomials, with a ridge-regression readout. Reference: Gauthier, Bollt, Griffith & Barbosa
// (2021), "Next generation reservoir computing", Nat. Commun. 12:5564; reservoirpy's `NVAR` is the same model.

/// The shape of an NG-RC model.
public struct NextGenerationConfiguration: Codable, Equatable, Sendable {
    public var inputSize: Int
    public var outputSize: Int
    /// k: the number of delayed inputs u_n, u_{n−s}, …, u_{n−(k−1)s} in the linear part.
    public var delays: Int = 2
    /// s: the spacing of the delays, in steps.
    public var skip: Int = 1
    /// p: the highest degree of the monomials of the linear part (1: linear features only).
    public var degree: Int = 2
    /// Ridge (Tikhonov) regularisation λ of the readout.
    public var ridge: Double = 1e-6
    public init(inputSize: Int, outputSize: Int) { self.inputSize = inputSize; self.outputSize = outputSize }

    /// The length of the linear part, k·I.
    public var linearCount: Int { delays * inputSize }
    /// Steps of history the features reach back: (k − 1)·s + 1.
    public var span: Int { (delays - 1) * skip + 1 }
    /// 1 + Σ_{j=1}^{p} C(L + j − 1, j) with L = k·I: the constant, the linear part and every unique monomial of
    /// degree 2 … p (each multiset of linear features once).
    public var featureCount: Int {
        var total = 1, term = 1
        // C(L + j − 1, j) = C(L + j − 2, j − 1) · (L + j − 1) / j.
        for j in 1...max(degree, 1) {
            term = term * (linearCount + j - 1) / j
            total += term
        }
        return total
    }
}

/// y_n = W_out φ_n with φ_n = [1; v_n; every monomial v_{i1} v_{i2} … v_{ij}, i1 ≤ … ≤ ij, 2 ≤ j ≤ p] and
/// v_n = [u_n; u_{n−s}; …; u_{n−(k−1)s}]. Before (k − 1)s steps have been seen, missing delays repeat the first input.
public final class NextGenerationReservoir {
    public let configuration: NextGenerationConfiguration
    /// W_outᵀ (features, outputs) row-major; zero until `fit`.
    public private(set) var readout: [Double]
    /// For each monomial of degree ≥ 2, its last factor's index into the linear part and the index of the
    /// lower-degree monomial it extends (into the feature vector), so each feature is one product.
    private let monomialFactor: [Int]
    private let monomialParent: [Int]
    public private(set) var isFitted = false

    public var featureCount: Int { configuration.featureCount }

    public init(configuration c: NextGenerationConfiguration) throws {
        try Self.validate(c)
        configuration = c
        readout = [Double](repeating: 0, count: c.featureCount * c.outputSize)
        // Feature layout: 0 the constant, 1 … L the linear part, then degree 2, 3, … in lexicographic order.
        // A degree-j monomial with factors i1 ≤ … ≤ ij is (the degree-(j−1) monomial i1 … i(j−1)) · v_ij.
        let l = c.linearCount
        var factor: [Int] = [], parent: [Int] = []
        // Previous degree's monomials: (feature index, largest factor).
        var previous: [(index: Int, last: Int)] = (0..<l).map { (1 + $0, $0) }
        var next = 1 + l
        if c.degree >= 2 {
            for _ in 2...c.degree {
                var current: [(index: Int, last: Int)] = []
                for (index, last) in previous {
                    for i in last..<l {
                        factor.append(i); parent.append(index)
                        current.append((next, i)); next += 1
                    }
                }
                previous = current
            }
        }
        precondition(next == c.featureCount, "NG-RC feature count \(next) ≠ \(c.featureCount)")
        monomialFactor = factor; monomialParent = parent
    }

    static func validate(_ c: NextGenerationConfiguration) throws {
        func check(_ ok: Bool, _ m: String) throws { if !ok { throw ReservoirError("NG-RC configuration: \(m)") } }
        try check(c.inputSize >= 1 && c.outputSize >= 1, "input and output sizes must be at least 1")
        try check(c.delays >= 1, "delays must be at least 1 (got \(c.delays))")
        try check(c.skip >= 1, "skip must be at least 1 (got \(c.skip))")
        try check(c.degree >= 1, "degree must be at least 1 (got \(c.degree))")
        try check(c.ridge >= 0 && c.ridge.isFinite, "ridge must be ≥ 0 (got \(c.ridge))")
        // The feature count grows like L^p/p!; refuse sizes whose normal equations would not fit in memory.
        var count = 1.0, term = 1.0
        for j in 1...c.degree {
            term *= Double(c.delays * c.inputSize + j - 1) / Double(j)
            count += term
        }
        try check(count <= 20_000, "\(c.delays) delays of \(c.inputSize) inputs at degree \(c.degree) give \(Int(count)) features (at most 20000): lower the degree or the delays")
    }

    /// The history of inputs a running model keeps: the last (k − 1)s + 1 inputs, newest last.
    public struct State: Sendable {
        var history: [Double]
        var seen = 0
    }

    public func makeState() -> State {
        State(history: [Double](repeating: 0, count: configuration.span * configuration.inputSize))
    }

    /// Pushes u into the history (the first input fills every slot).
    private func push(_ u: UnsafePointer<Double>, _ state: inout State) {
        let i = configuration.inputSize, span = configuration.span
        if state.seen == 0 {
            for t in 0..<span { for a in 0..<i { state.history[t * i + a] = u[a] } }
        } else {
            state.history.withUnsafeMutableBufferPointer { h in
                h.baseAddress!.update(from: h.baseAddress! + i, count: (span - 1) * i)
                (h.baseAddress! + (span - 1) * i).update(from: u, count: i)
            }
        }
        state.seen += 1
    }

    /// Fills φ (featureCount) from the history.
    private func features(_ state: State, into phi: UnsafeMutablePointer<Double>) {
        let c = configuration, i = c.inputSize, span = c.span, l = c.linearCount
        phi[0] = 1
        for j in 0..<c.delays {
            let row = span - 1 - j * c.skip   // u_{n − j s}
            for a in 0..<i { phi[1 + j * i + a] = state.history[row * i + a] }
        }
        for m in monomialFactor.indices {
            phi[1 + l + m] = phi[monomialParent[m]] * phi[1 + monomialFactor[m]]
        }
    }

    /// The feature vector φ_n after feeding u_n (for tests and diagnostics).
    public func featureVector(after input: [Double], state: inout State) -> [Double] {
        precondition(input.count == configuration.inputSize)
        input.withUnsafeBufferPointer { push($0.baseAddress!, &state) }
        var phi = [Double](repeating: 0, count: featureCount)
        phi.withUnsafeMutableBufferPointer { features(state, into: $0.baseAddress!) }
        return phi
    }

    /// One step: feeds u_n and returns y_n = W_out φ_n.
    public func step(_ input: [Double], state: inout State) -> [Double] {
        precondition(input.count == configuration.inputSize, "NG-RC step: input \(input.count) (expected \(configuration.inputSize))")
        var phi = [Double](repeating: 0, count: featureCount)
        var y = [Double](repeating: 0, count: configuration.outputSize)
        input.withUnsafeBufferPointer { u in
            phi.withUnsafeMutableBufferPointer { f in
                y.withUnsafeMutableBufferPointer { step(u.baseAddress!, state: &state, features: f.baseAddress!, into: $0.baseAddress!) }
            }
        }
        return y
    }

    /// B rows at once: row b of `inputs` (B, inputSize) is fed to `states[b]`, row b of Φ (B, featureCount, caller's
    /// scratch) gets its features, and Y = Φ W_out (B, outputSize) comes from one GEMM. Equal to `step` row by row
    /// up to the order of the readout's sums: |ΔY_bq| ≤ 2γ_p Σ_r |Φ_br W_rq| (p = featureCount).
    public func step(batch inputs: UnsafePointer<Double>, states: inout [State], features phi: UnsafeMutablePointer<Double>,
                     into outputs: UnsafeMutablePointer<Double>) {
        let b = states.count, i = configuration.inputSize, p = featureCount, o = configuration.outputSize
        for r in 0..<b {
            push(inputs + r * i, &states[r])
            features(states[r], into: phi + r * p)
        }
        readout.withUnsafeBufferPointer { w in
            Double.gemm(transposeA: false, transposeB: false, m: b, n: o, k: p, alpha: 1, phi, p, w.baseAddress!, o,
                        beta: 0, outputs, o)
        }
    }

    /// `step` in caller-owned memory (the same arithmetic): feeds u_n (inputSize), writes y_n (outputSize);
    /// φ (featureCount) is scratch.
    public func step(_ input: UnsafePointer<Double>, state: inout State, features phi: UnsafeMutablePointer<Double>,
                     into y: UnsafeMutablePointer<Double>) {
        let p = featureCount, o = configuration.outputSize
        push(input, &state)
        features(state, into: phi)
        y.update(repeating: 0, count: o)
        readout.withUnsafeBufferPointer { w in
            for r in 0..<p {
                let f = phi[r]
                if f == 0 { continue }
                for q in 0..<o { y[q] += f * w[r * o + q] }
            }
        }
    }

    /// Teacher-forced fit of the readout on sequences (each row-major (steps, inputSize) with targets
    /// (steps, outputSize)). Rows count from step max(warmup, (k − 1)s) of each sequence on, so every fitted
    /// feature vector holds real delays.
    public func fit(inputs: [[Double]], targets: [[Double]], warmup: Int = 0) throws {
        let c = configuration, i = c.inputSize, o = c.outputSize, p = featureCount
        guard inputs.count == targets.count, !inputs.isEmpty else {
            throw ReservoirError("NG-RC fit: \(inputs.count) input sequences but \(targets.count) target sequences")
        }
        guard warmup >= 0 else { throw ReservoirError("NG-RC fit: warm-up must be ≥ 0 (got \(warmup))") }
        BLAS.configureOnce()
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
        let first = max(warmup, c.span - 1)
        for (s, (u, y)) in zip(inputs, targets).enumerated() {
            guard u.count % i == 0, y.count == u.count / i * o else {
                throw ReservoirError("NG-RC fit: sequence \(s) has \(u.count) inputs and \(y.count) targets, not (steps × \(i), steps × \(o))")
            }
            if let bad = u.firstIndex(where: { !$0.isFinite }) ?? y.firstIndex(where: { !$0.isFinite }) {
                throw ReservoirError("NG-RC fit: sequence \(s) holds a non-finite value near index \(bad)")
            }
            var state = makeState()
            for t in 0..<(u.count / i) {
                u.withUnsafeBufferPointer { push($0.baseAddress! + t * i, &state) }
                guard t >= first else { continue }
                block.withUnsafeMutableBufferPointer { features(state, into: $0.baseAddress! + filled * p) }
                for k in 0..<o { blockTargets[filled * o + k] = y[t * o + k] }
                filled += 1
                if filled == blockRows { flush() }
            }
        }
        flush()
        guard equations.rows >= 1 else {
            throw ReservoirError("NG-RC fit: no sequence is longer than the \(first) steps the delays need ((k − 1)·s = \(c.span - 1))")
        }
        readout = try equations.solve(ridge: c.ridge)
        isFitted = true
    }

    // MARK: Checkpoints

    static let checkpointKind = "next-generation-reservoir"

    public func checkpoint(metadata: [String: [Double]] = [:]) -> Checkpoint {
        precondition(!metadata.keys.contains { $0.hasPrefix("ngrc.") }, "metadata names 'ngrc.*' are reserved")
        var arrays = metadata
        arrays["ngrc.W_out"] = readout
        return Checkpoint(kind: Self.checkpointKind, arrays: arrays, strings: ["ngrc.configuration": canonicalJSON(configuration)])
    }

    public convenience init(checkpoint: Checkpoint) throws {
        try checkpoint.requireKind(Self.checkpointKind)
        let c = try checkpoint.decodeJSON(NextGenerationConfiguration.self, from: "ngrc.configuration")
        do { try self.init(configuration: c) } catch let e as ReservoirError {
            throw CheckpointError(file: checkpoint.file, problem: .malformed(e.message))
        }
        readout = try checkpoint.array("ngrc.W_out", count: c.featureCount * c.outputSize)
        isFitted = true
    }
}
