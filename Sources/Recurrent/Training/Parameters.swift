// Where every weight sits in a network's one flat parameter buffer (llm.c's malloc_and_point_parameters), and
// the seeded initialisation. Optimizer, zero-grad, clipping, checkpoints and gradient checks loop over one vector.

/// Index ranges of one recurrent layer's parameters. G = gate count (RNN 1, LSTM 4, GRU 3), I = input size.
struct LayerParameterRanges: Sendable {
    let inputSize: Int
    let hiddenSize: Int
    let gateCount: Int
    /// W_x (I, G·H): z = x·W_x + h·W_h + b, gate blocks side by side in the columns.
    let inputWeights: Range<Int>
    /// W_h (H, G·H).
    let recurrentWeights: Range<Int>
    /// b (G·H).
    let bias: Range<Int>
    /// GRU only: b_hn (H), the bias inside the reset product r ⊙ (h·W_hn + b_hn); empty otherwise.
    let candidateRecurrentBias: Range<Int>
    var width: Int { gateCount * hiddenSize }
}

/// The layout of all parameters: layers bottom to top, then the readout W_y (H, O), b_y (O).
struct ParameterLayout: Sendable {
    let layers: [LayerParameterRanges]
    let readoutWeights: Range<Int>
    let readoutBias: Range<Int>
    let count: Int

    init(_ c: NetworkConfiguration) {
        precondition(c.inputSize > 0 && c.hiddenSize > 0 && c.layers > 0 && c.outputSize > 0,
                     "network sizes must be positive: \(c)")
        var offset = 0
        func take(_ n: Int) -> Range<Int> { defer { offset += n }; return offset..<(offset + n) }
        let h = c.hiddenSize, g = c.cell.gateCount
        var layers: [LayerParameterRanges] = []
        for l in 0..<c.layers {
            let i = l == 0 ? c.inputSize : h
            layers.append(LayerParameterRanges(
                inputSize: i, hiddenSize: h, gateCount: g,
                inputWeights: take(i * g * h), recurrentWeights: take(h * g * h), bias: take(g * h),
                candidateRecurrentBias: take(c.cell == .gru ? h : 0)))
        }
        self.layers = layers
        readoutWeights = take(h * c.outputSize)
        readoutBias = take(c.outputSize)
        count = offset
    }

    /// Every named range, e.g. "layer0.W_x", in buffer order (for messages and gradient-check reports).
    var named: [(name: String, range: Range<Int>)] {
        var result: [(String, Range<Int>)] = []
        for (l, p) in layers.enumerated() {
            result += [("layer\(l).W_x", p.inputWeights), ("layer\(l).W_h", p.recurrentWeights), ("layer\(l).b", p.bias)]
            if !p.candidateRecurrentBias.isEmpty { result.append(("layer\(l).b_hn", p.candidateRecurrentBias)) }
        }
        return result + [("readout.W_y", readoutWeights), ("readout.b_y", readoutBias)]
    }

    /// The name of the range holding flat index `i`, with the index inside it.
    func describe(index i: Int) -> String {
        for (name, range) in named where range.contains(i) { return "\(name)[\(i - range.lowerBound)]" }
        return "index \(i)"
    }

    /// Initial values: every entry uniform in ±1/√H (PyTorch's default), one xoshiro256** stream per range
    /// from `seed`; LSTM forget-gate biases (the first H entries of b) set to 1.
    func initialValues(seed: UInt64, cell: CellKind) -> [Double] {
        var values = [Double](repeating: 0, count: count)
        let bound = 1 / Double(layers[0].hiddenSize).squareRoot()
        for (stream, entry) in named.enumerated() {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(stream))
            for i in entry.range { values[i] = rng.nextSymmetric(bound) }
        }
        if cell == .lstm {
            for p in layers { for i in p.bias.prefix(p.hiddenSize) { values[i] = 1 } }
        }
        return values
    }
}

extension CellKind {
    /// Gate blocks in the fused weight matrix: RNN 1, LSTM 4 (f, i, C̃, o), GRU 3 (r, z, n).
    var gateCount: Int {
        switch self { case .rnn: 1; case .lstm: 4; case .gru: 3 }
    }
}
