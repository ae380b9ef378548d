// Backpropagation through time for a stack of cells with a linear readout: the workspaces (allocated once,
// reused for every step and batch), the data gather into time-major layout, forward, loss gradient, backward.
// The per-step recurrences live in Cells/; this file holds the GEMMs shared by every cell type.

/// Views of one layer's weights inside the flat parameter buffer.
struct LayerWeights<Scalar: RecurrentScalar> {
    let inputWeights: MatrixRef<Scalar>        // W_x (I, G·H)
    let recurrentWeights: MatrixRef<Scalar>    // W_h (H, G·H)
    let bias: UnsafePointer<Scalar>    // b (G·H)
    let candidateRecurrentBias: UnsafePointer<Scalar>  // GRU b_hn (H)
    init(_ p: UnsafePointer<Scalar>, _ r: LayerParameterRanges) {
        inputWeights = MatrixRef(p + r.inputWeights.lowerBound, rows: r.inputSize, columns: r.width)
        recurrentWeights = MatrixRef(p + r.recurrentWeights.lowerBound, rows: r.hiddenSize, columns: r.width)
        bias = p + r.bias.lowerBound
        candidateRecurrentBias = p + r.candidateRecurrentBias.lowerBound
    }
}

/// Views of one layer's gradients (same layout as the weights).
struct LayerGradients<Scalar: RecurrentScalar> {
    let inputWeights: MutableMatrixRef<Scalar>
    let recurrentWeights: MutableMatrixRef<Scalar>
    let bias: UnsafeMutablePointer<Scalar>
    let candidateRecurrentBias: UnsafeMutablePointer<Scalar>
    init(_ g: UnsafeMutablePointer<Scalar>, _ r: LayerParameterRanges) {
        inputWeights = MutableMatrixRef(g + r.inputWeights.lowerBound, rows: r.inputSize, columns: r.width)
        recurrentWeights = MutableMatrixRef(g + r.recurrentWeights.lowerBound, rows: r.hiddenSize, columns: r.width)
        bias = g + r.bias.lowerBound
        candidateRecurrentBias = g + r.candidateRecurrentBias.lowerBound
    }
}

/// One layer's forward cache and backward scratch for up to `maxSteps` steps of `maxBatch` sequences.
/// With an actual batch b ≤ maxBatch, step t's rows start at t·b (time-major, contiguous).
final class LayerWorkspace<Scalar: RecurrentScalar> {
    let cell: CellKind
    let ranges: LayerParameterRanges
    /// (T·B, G·H): pre-activations, then gate activations (forward), then pre-activation gradients (backward).
    let gates: Buffer<Scalar>
    /// GRU: (T·B, 3H) recurrent part h_{t−1}·W_h + [0, 0, b_hn], then its gradient. Empty otherwise.
    let recurrentGates: Buffer<Scalar>
    /// ((T+1)·B, H): h_0 (initial or carried state) … h_T.
    let hidden: Buffer<Scalar>
    /// LSTM: ((T+1)·B, H) C_0 … C_T and (T·B, H) tanh(C_t). Empty otherwise.
    let cellState: Buffer<Scalar>
    let cellTanh: Buffer<Scalar>
    /// (T·B, H): ∂L/∂h_t arriving from above (readout or next layer).
    let hiddenGradient: Buffer<Scalar>
    /// (B, H): ∂L/∂h_{t} and ∂L/∂C_t arriving through step t + 1.
    let carriedHiddenGradient: Buffer<Scalar>
    let carriedCellGradient: Buffer<Scalar>
    /// GRU: the row [0, 0, b_hn] broadcast before the recurrent GEMM.
    let recurrentBiasRow: Buffer<Scalar>

    init(cell: CellKind, ranges: LayerParameterRanges, maxBatch b: Int, maxSteps t: Int) {
        self.cell = cell; self.ranges = ranges
        let h = ranges.hiddenSize, w = ranges.width
        gates = Buffer<Scalar>(count: t * b * w)
        recurrentGates = Buffer<Scalar>(count: cell == .gru ? t * b * w : 0)
        hidden = Buffer<Scalar>(count: (t + 1) * b * h)
        cellState = Buffer<Scalar>(count: cell == .lstm ? (t + 1) * b * h : 0)
        cellTanh = Buffer<Scalar>(count: cell == .lstm ? t * b * h : 0)
        hiddenGradient = Buffer<Scalar>(count: t * b * h)
        carriedHiddenGradient = Buffer<Scalar>(count: b * h)
        carriedCellGradient = Buffer<Scalar>(count: cell == .lstm ? b * h : 0)
        recurrentBiasRow = Buffer<Scalar>(count: cell == .gru ? w : 0)
    }

    var bytes: Int {
        [gates, recurrentGates, hidden, cellState, cellTanh, hiddenGradient, carriedHiddenGradient,
         carriedCellGradient, recurrentBiasRow].reduce(0) { $0 + $1.bytes }
    }

    /// h_t for the actual batch: rows [t·b, (t+1)·b) of `hidden`.
    func hiddenState(_ t: Int, batch b: Int) -> MutableMatrixRef<Scalar> {
        hidden.matrix(rows: b, columns: ranges.hiddenSize, fromRow: t * b)
    }

    // MARK: GEMMs shared by every cell

    /// Z_x = X·W_x + b for all T steps at once (T·B, G·H): one GEMM up front instead of one per step.
    func projectInputs(_ w: LayerWeights<Scalar>, input x: MatrixRef<Scalar>) {
        let z = gates.matrix(rows: x.rows, columns: ranges.width)
        broadcastRows(w.bias, into: z)
        BLAS.gemm(x, w.inputWeights, into: z, beta: 1)
    }

    /// After the reverse sweep, with ∂L/∂Z_x in `gates` and ∂L/∂Z_h in `recurrent` (T·B, G·H):
    /// ∂W_h += H_{0…T−1}ᵀ·∂Z_h,  ∂W_x += Xᵀ·∂Z_x,  ∂b += Σ_rows ∂Z_x,  ∂X = ∂Z_x·W_xᵀ (the layer below's ∂h).
    func accumulateWeightGradients(_ w: LayerWeights<Scalar>, _ g: LayerGradients<Scalar>, input x: MatrixRef<Scalar>,
                                   recurrent dZh: MatrixRef<Scalar>, batch b: Int, steps t: Int,
                                   inputGradient dX: MutableMatrixRef<Scalar>?) {
        let dZx = gates.matrix(rows: t * b, columns: ranges.width).readOnly
        let previous = hidden.matrix(rows: t * b, columns: ranges.hiddenSize).readOnly
        BLAS.gemm(previous, transposeA: true, dZh, into: g.recurrentWeights, beta: 1)
        BLAS.gemm(x, transposeA: true, dZx, into: g.inputWeights, beta: 1)
        accumulateColumnSums(dZx, into: g.bias)
        if let dX { BLAS.gemm(dZx, w.inputWeights, transposeB: true, into: dX, beta: 0) }
    }
}

/// Everything one forward/backward pass over a (batch, steps) window needs, allocated once.
final class BPTTWorkspace<Scalar: RecurrentScalar> {
    let configuration: NetworkConfiguration
    let layout: ParameterLayout
    let maxBatch: Int
    let maxSteps: Int
    let layers: [LayerWorkspace<Scalar>]
    /// Time-major (T·B, I) inputs, (T·B, O) targets, outputs and ∂L/∂outputs.
    let inputs: Buffer<Scalar>
    let targets: Buffer<Scalar>
    let outputs: Buffer<Scalar>
    let outputGradient: Buffer<Scalar>

    init(configuration c: NetworkConfiguration, layout: ParameterLayout, maxBatch: Int, maxSteps: Int) {
        precondition(maxBatch > 0 && maxSteps > 0)
        configuration = c; self.layout = layout; self.maxBatch = maxBatch; self.maxSteps = maxSteps
        layers = layout.layers.map { LayerWorkspace(cell: c.cell, ranges: $0, maxBatch: maxBatch, maxSteps: maxSteps) }
        inputs = Buffer<Scalar>(count: maxSteps * maxBatch * c.inputSize)
        targets = Buffer<Scalar>(count: maxSteps * maxBatch * c.outputSize)
        outputs = Buffer<Scalar>(count: maxSteps * maxBatch * c.outputSize)
        outputGradient = Buffer<Scalar>(count: maxSteps * maxBatch * c.outputSize)
    }

    /// Bytes of all caches and scratch (the memory BPTT needs beyond the parameters and optimizer state).
    var cacheBytes: Int { layers.reduce(0) { $0 + $1.bytes } + [inputs, targets, outputs, outputGradient].reduce(0) { $0 + $1.bytes } }

    // MARK: State

    /// h_0 = 0 (and C_0 = 0) in every layer.
    func zeroState(batch b: Int) {
        for l in layers {
            l.hidden.base.update(repeating: 0, count: b * l.ranges.hiddenSize)
            if l.cell == .lstm { l.cellState.base.update(repeating: 0, count: b * l.ranges.hiddenSize) }
        }
    }

    /// h_0 ← h_T (and C_0 ← C_T): the state carried into the next window, detached from the gradient.
    func carryState(batch b: Int, steps t: Int) {
        for l in layers {
            let n = b * l.ranges.hiddenSize
            l.hidden.base.update(from: l.hidden.base + t * n, count: n)
            if l.cell == .lstm { l.cellState.base.update(from: l.cellState.base + t * n, count: n) }
        }
    }

    /// Copies steps [start, start + steps) of sequences `indices` from sample-major `source` (count, totalSteps,
    /// width) into time-major `destination` (steps, b, width), rounded to `Scalar`.
    private func gather(_ source: UnsafePointer<Double>, width: Int, totalSteps: Int, indices: ArraySlice<Int>,
                        from start: Int, steps t: Int, into destination: Buffer<Scalar>) {
        let b = indices.count
        precondition(b <= maxBatch && t <= maxSteps && start + t <= totalSteps && t * b * width <= destination.count)
        for (k, n) in indices.enumerated() {
            for s in 0..<t {
                convert(source + (n * totalSteps + start + s) * width, into: destination.base + (s * b + k) * width, count: width)
            }
        }
    }

    /// Loads steps [start, start + steps) of sequences `indices` of `data` into `inputs` and `targets`.
    func gather(_ data: SequenceDataset, indices: ArraySlice<Int>, from start: Int, steps t: Int) {
        data.inputs.withUnsafeBufferPointer {
            gather($0.baseAddress!, width: data.inputSize, totalSteps: data.steps, indices: indices, from: start, steps: t, into: inputs)
        }
        data.targets.withUnsafeBufferPointer {
            gather($0.baseAddress!, width: data.outputSize, totalSteps: data.steps, indices: indices, from: start, steps: t, into: targets)
        }
    }

    /// Loads inputs only (for prediction), from sample-major (count, totalSteps, I) storage.
    func gatherInputs(_ source: UnsafePointer<Double>, totalSteps: Int, indices: ArraySlice<Int>, from start: Int, steps t: Int) {
        gather(source, width: configuration.inputSize, totalSteps: totalSteps, indices: indices, from: start, steps: t, into: inputs)
    }

    /// Writes time-major `outputs` (steps, b, O) back into sample-major (count, totalSteps, O) storage.
    func scatterOutputs(into destination: UnsafeMutablePointer<Double>, totalSteps: Int, indices: ArraySlice<Int>,
                        from start: Int, steps t: Int) {
        let b = indices.count, o = configuration.outputSize
        for (k, n) in indices.enumerated() {
            for s in 0..<t {
                convert(outputs.base + (s * b + k) * o, into: destination + (n * totalSteps + start + s) * o, count: o)
            }
        }
    }

    // MARK: Forward

    /// Runs every layer over `steps` from the current h_0 (C_0), then Y = H_top·W_y + b_y into `outputs`.
    func forward(_ p: UnsafePointer<Scalar>, batch b: Int, steps t: Int) {
        precondition(b <= maxBatch && t <= maxSteps)
        var input = inputs.matrix(rows: t * b, columns: configuration.inputSize).readOnly
        for (l, ws) in layers.enumerated() {
            let w = LayerWeights(p, layout.layers[l])
            switch configuration.cell {
            case .rnn: ElmanCell.forward(w, input: input, ws, batch: b, steps: t)
            case .lstm: LSTMCell.forward(w, input: input, ws, batch: b, steps: t)
            case .gru: GRUCell.forward(w, input: input, ws, batch: b, steps: t)
            }
            input = ws.hidden.matrix(rows: t * b, columns: ws.ranges.hiddenSize, fromRow: b).readOnly
        }
        let y = outputs.matrix(rows: t * b, columns: configuration.outputSize)
        broadcastRows(p + layout.readoutBias.lowerBound, into: y)
        BLAS.gemm(input, readoutWeights(p), into: y, beta: 1)
    }

    private func readoutWeights(_ p: UnsafePointer<Scalar>) -> MatrixRef<Scalar> {
        MatrixRef(p + layout.readoutWeights.lowerBound, rows: configuration.hiddenSize, columns: configuration.outputSize)
    }

    // MARK: Loss

    /// Σ (y − target)² over steps ≥ `firstCountedStep` of this window, and ∂L/∂y = scale·2(y − target) there
    /// (0 before), where L = Σ(y − target)² · scale; scale = 1/(number of counted entries in the batch).
    func squaredError(batch b: Int, steps t: Int, firstCountedStep: Int, scale: Double) -> Double {
        let o = configuration.outputSize
        let first = min(max(firstCountedStep, 0), t) * b * o, end = t * b * o
        outputGradient.base.update(repeating: 0, count: first)
        var sum = 0.0
        let y = outputs.base, target = targets.base, dy = outputGradient.base
        for k in first..<end {                                         // in Double whatever the Scalar
            let e = Double(y[k]) - Double(target[k])
            sum += e * e
            dy[k] = Scalar(2 * scale * e)
        }
        return sum
    }

    // MARK: Backward

    /// Accumulates ∂L/∂θ into `g` (β = 1 throughout) from ∂L/∂y in `outputGradient`, walking the layers top down
    /// and each layer's steps in reverse. The gradient does not flow into h_0 (a carried state is detached).
    func backward(_ p: UnsafePointer<Scalar>, gradient g: UnsafeMutablePointer<Scalar>, batch b: Int, steps t: Int) {
        let top = layers[layers.count - 1], h = configuration.hiddenSize, o = configuration.outputSize
        let dY = outputGradient.matrix(rows: t * b, columns: o).readOnly
        let hTop = top.hidden.matrix(rows: t * b, columns: h, fromRow: b).readOnly
        // readout: ∂W_y += H_topᵀ·∂Y, ∂b_y += Σ_rows ∂Y, ∂H_top = ∂Y·W_yᵀ
        BLAS.gemm(hTop, transposeA: true, dY,
                  into: MutableMatrixRef(g + layout.readoutWeights.lowerBound, rows: h, columns: o), beta: 1)
        accumulateColumnSums(dY, into: g + layout.readoutBias.lowerBound)
        BLAS.gemm(dY, readoutWeights(p), transposeB: true, into: top.hiddenGradient.matrix(rows: t * b, columns: h), beta: 0)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let ws = layers[l], r = layout.layers[l]
            let input = l == 0
                ? inputs.matrix(rows: t * b, columns: configuration.inputSize).readOnly
                : layers[l - 1].hidden.matrix(rows: t * b, columns: h, fromRow: b).readOnly
            let below = l == 0 ? nil : layers[l - 1].hiddenGradient.matrix(rows: t * b, columns: h)
            let w = LayerWeights(p, r), gl = LayerGradients(g, r)
            switch configuration.cell {
            case .rnn: ElmanCell.backward(w, gl, input: input, ws, batch: b, steps: t, inputGradient: below)
            case .lstm: LSTMCell.backward(w, gl, input: input, ws, batch: b, steps: t, inputGradient: below)
            case .gru: GRUCell.backward(w, gl, input: input, ws, batch: b, steps: t, inputGradient: below)
            }
        }
    }
}

/// destination[k] ← source[k] for k < count, rounded to the destination's precision (exact for Double to Double
/// and for Float to Double).
@inline(__always)
func convert<Source: BinaryFloatingPoint, Destination: BinaryFloatingPoint>(
    _ source: UnsafePointer<Source>, into destination: UnsafeMutablePointer<Destination>, count: Int) {
    if Source.self == Destination.self {
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Source>.stride)
    } else {
        for k in 0..<count { destination[k] = Destination(source[k]) }
    }
}
