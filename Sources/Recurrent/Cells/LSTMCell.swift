// The LSTM cell, forward and backward over a window of steps for a whole batch; gates fused as [f | i | C̃ | o].

/// Long short-term memory (Hochreiter & Schmidhuber 1997, with forget gate, Gers et al. 2000):
///   [z_f | z_i | z_C | z_o] = x_t·W_x + h_{t−1}·W_h + b           (B, 4H), one GEMM for x (all steps), one for h
///   f = σ(z_f), i = σ(z_i), C̃ = tanh(z_C), o = σ(z_o)
///   C_t = f ⊙ C_{t−1} + i ⊙ C̃,   h_t = o ⊙ tanh(C_t)
/// Backward (∂h = ∂h_t from above + carried, ∂C = carried):
///   ∂C += ∂h ⊙ o ⊙ (1 − tanh²C_t);  ∂z_o = ∂h ⊙ tanh C_t ⊙ o(1 − o);  ∂z_f = ∂C ⊙ C_{t−1} ⊙ f(1 − f)
///   ∂z_i = ∂C ⊙ C̃ ⊙ i(1 − i);  ∂z_C = ∂C ⊙ i ⊙ (1 − C̃²);  carried ∂C_{t−1} = ∂C ⊙ f, ∂h_{t−1} = ∂z·W_hᵀ
/// The forget-gate bias starts at 1 (Jozefowicz et al. 2015).
enum LSTMCell {
    static func forward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, input x: MatrixRef<Scalar>, _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int) {
        let h = ws.ranges.hiddenSize, width = 4 * h, n = b * h
        ws.projectInputs(w, input: x)                                        // Z = X·W_x + b   (T·B, 4H)
        for s in 0..<t {
            let z = ws.gates.matrix(rows: b, columns: width, fromRow: s * b)
            BLAS.gemm(ws.hiddenState(s, batch: b).readOnly, w.recurrentWeights, into: z, beta: 1)  // z += h_{t−1}·W_h
            let cPrev = ws.cellState.base + s * n, c = ws.cellState.base + (s + 1) * n
            let tanhC = ws.cellTanh.base + s * n, hNext = ws.hidden.base + (s + 1) * n
            for r in 0..<b {
                forwardRow(z.base + r * width, cPrev + r * h, c + r * h, tanhC + r * h, hNext + r * h, hidden: h)
            }
        }
    }

    /// One row of one step, fused: the gate activations over the pre-activations in place, then C_t, tanh C_t and
    /// h_t; 8 hidden units at a time, the rest one by one (the same operations, so the same bits).
    @inline(__always)
    static func forwardRow<Scalar: RecurrentScalar>(_ z: UnsafeMutablePointer<Scalar>, _ cPrev: UnsafePointer<Scalar>, _ c: UnsafeMutablePointer<Scalar>,
                           _ tanhC: UnsafeMutablePointer<Scalar>, _ hNext: UnsafeMutablePointer<Scalar>, hidden h: Int) {
        var j = 0
        while j + 8 <= h {
            let f = sigmoid(loadLanes(z + j)), i = sigmoid(loadLanes(z + h + j))
            let g = hyperbolicTangent(loadLanes(z + 2 * h + j)), o = sigmoid(loadLanes(z + 3 * h + j))
            let cj = f * loadLanes(cPrev + j) + i * g                      // C_t = f⊙C_{t−1} + i⊙C̃
            let tc = hyperbolicTangent(cj)
            storeLanes(f, z + j); storeLanes(i, z + h + j); storeLanes(g, z + 2 * h + j); storeLanes(o, z + 3 * h + j)
            storeLanes(cj, c + j); storeLanes(tc, tanhC + j); storeLanes(o * tc, hNext + j)   // h_t = o⊙tanh(C_t)
            j += 8
        }
        while j < h {
            let f = sigmoid(z[j]), i = sigmoid(z[h + j]), g = hyperbolicTangent(z[2 * h + j]), o = sigmoid(z[3 * h + j])
            let cj = f * cPrev[j] + i * g, tc = hyperbolicTangent(cj)
            z[j] = f; z[h + j] = i; z[2 * h + j] = g; z[3 * h + j] = o
            c[j] = cj; tanhC[j] = tc; hNext[j] = o * tc
            j += 1
        }
    }

    static func backward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, _ g: LayerGradients<Scalar>, input x: MatrixRef<Scalar>,
                                                 _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int,
                                                 inputGradient dX: MutableMatrixRef<Scalar>?) {
        let h = ws.ranges.hiddenSize, width = 4 * h, n = b * h
        let carriedH = ws.carriedHiddenGradient.matrix(rows: b, columns: h), dcNext = ws.carriedCellGradient.base
        carriedH.base.update(repeating: 0, count: n)
        dcNext.update(repeating: 0, count: n)
        for s in stride(from: t - 1, through: 0, by: -1) {
            let z = ws.gates.base + s * b * width
            let cPrev = ws.cellState.base + s * n, tanhC = ws.cellTanh.base + s * n
            let dhAbove = ws.hiddenGradient.base + s * n
            for r in 0..<b {
                let o = r * h
                backwardRow(z + r * width, cPrev + o, tanhC + o, dhAbove + o, carriedH.base + o, dcNext + o, hidden: h)
            }
            if s > 0 {                                                       // ∂h_{t−1} = ∂z_t·W_hᵀ
                BLAS.gemm(MatrixRef(z, rows: b, columns: width), w.recurrentWeights, transposeB: true, into: carriedH, beta: 0)
            }
        }
        ws.accumulateWeightGradients(w, g, input: x, recurrent: ws.gates.matrix(rows: t * b, columns: width).readOnly,
                                     batch: b, steps: t, inputGradient: dX)
    }

    /// One row of one step of the reverse sweep, fused: the gate activations in `z` become ∂z, the carried ∂C
    /// becomes ∂C_{t−1}; 8 hidden units at a time, the rest one by one.
    @inline(__always)
    static func backwardRow<Scalar: RecurrentScalar>(_ z: UnsafeMutablePointer<Scalar>, _ cPrev: UnsafePointer<Scalar>, _ tanhC: UnsafePointer<Scalar>,
                            _ dhAbove: UnsafePointer<Scalar>, _ carriedH: UnsafePointer<Scalar>,
                            _ dcNext: UnsafeMutablePointer<Scalar>, hidden h: Int) {
        var j = 0
        while j + 8 <= h {
            let f = loadLanes(z + j), i = loadLanes(z + h + j), gc = loadLanes(z + 2 * h + j), og = loadLanes(z + 3 * h + j)
            let tc = loadLanes(tanhC + j)
            let dh = loadLanes(dhAbove + j) + loadLanes(carriedH + j)
            let dc = loadLanes(dcNext + j) + dh * og * (1 - tc * tc)          // backprop through h = o⊙tanh(C)
            storeLanes(dc * f, dcNext + j)                                    // ∂C_{t−1}
            storeLanes(dc * loadLanes(cPrev + j) * f * (1 - f), z + j)        // ∂z_f
            storeLanes(dc * gc * i * (1 - i), z + h + j)                      // ∂z_i
            storeLanes(dc * i * (1 - gc * gc), z + 2 * h + j)                 // ∂z_C
            storeLanes(dh * tc * og * (1 - og), z + 3 * h + j)                // ∂z_o
            j += 8
        }
        while j < h {
            let f = z[j], i = z[h + j], gc = z[2 * h + j], og = z[3 * h + j], tc = tanhC[j]
            let dh = dhAbove[j] + carriedH[j]
            let dc = dcNext[j] + dh * og * (1 - tc * tc)
            dcNext[j] = dc * f
            z[j] = dc * cPrev[j] * f * (1 - f)
            z[h + j] = dc * gc * i * (1 - i)
            z[2 * h + j] = dc * i * (1 - gc * gc)
            z[3 * h + j] = dh * tc * og * (1 - og)
            j += 1
        }
    }
}
