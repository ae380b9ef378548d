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
    static func forward(_ w: LayerWeights, input x: MatrixRef, _ ws: LayerWorkspace, batch b: Int, steps t: Int) {
        let h = ws.ranges.hiddenSize, width = 4 * h, n = b * h
        ws.projectInputs(w, input: x)                                        // Z = X·W_x + b   (T·B, 4H)
        for s in 0..<t {
            let z = ws.gates.matrix(rows: b, columns: width, fromRow: s * b)
            BLAS.gemm(ws.hiddenState(s, batch: b).readOnly, w.recurrentWeights, into: z, beta: 1)  // z += h_{t−1}·W_h
            let cPrev = ws.cellState.base + s * n, c = ws.cellState.base + (s + 1) * n
            let tanhC = ws.cellTanh.base + s * n, hNext = ws.hidden.base + (s + 1) * n
            for r in 0..<b {
                let zr = z.base + r * width, o = r * h
                applySigmoid(zr, count: 2 * h)                               // f, i
                applyTanh(zr + 2 * h, into: zr + 2 * h, count: h)            // C̃
                applySigmoid(zr + 3 * h, count: h)                           // o
                for j in 0..<h { c[o + j] = zr[j] * cPrev[o + j] + zr[h + j] * zr[2 * h + j] }  // C_t = f⊙C_{t−1} + i⊙C̃
                applyTanh(c + o, into: tanhC + o, count: h)
                for j in 0..<h { hNext[o + j] = zr[3 * h + j] * tanhC[o + j] }                  // h_t = o⊙tanh(C_t)
            }
        }
    }

    static func backward(_ w: LayerWeights, _ g: LayerGradients, input x: MatrixRef, _ ws: LayerWorkspace,
                         batch b: Int, steps t: Int, inputGradient dX: MutableMatrixRef?) {
        let h = ws.ranges.hiddenSize, width = 4 * h, n = b * h
        let carriedH = ws.carriedHiddenGradient.matrix(rows: b, columns: h), dcNext = ws.carriedCellGradient.base
        carriedH.base.update(repeating: 0, count: n)
        dcNext.update(repeating: 0, count: n)
        for s in stride(from: t - 1, through: 0, by: -1) {
            let z = ws.gates.base + s * b * width
            let cPrev = ws.cellState.base + s * n, tanhC = ws.cellTanh.base + s * n
            let dhAbove = ws.hiddenGradient.base + s * n
            for r in 0..<b {
                let zr = z + r * width, o = r * h
                for j in 0..<h {
                    let f = zr[j], i = zr[h + j], gc = zr[2 * h + j], og = zr[3 * h + j], tc = tanhC[o + j]
                    let dh = dhAbove[o + j] + carriedH.base[o + j]
                    let dc = dcNext[o + j] + dh * og * (1 - tc * tc)         // backprop through h = o⊙tanh(C)
                    dcNext[o + j] = dc * f                                   // ∂C_{t−1}
                    zr[j] = dc * cPrev[o + j] * f * (1 - f)                  // ∂z_f
                    zr[h + j] = dc * gc * i * (1 - i)                        // ∂z_i
                    zr[2 * h + j] = dc * i * (1 - gc * gc)                   // ∂z_C
                    zr[3 * h + j] = dh * tc * og * (1 - og)                  // ∂z_o
                }
            }
            if s > 0 {                                                       // ∂h_{t−1} = ∂z_t·W_hᵀ
                BLAS.gemm(MatrixRef(z, rows: b, columns: width), w.recurrentWeights, transposeB: true, into: carriedH, beta: 0)
            }
        }
        ws.accumulateWeightGradients(w, g, input: x, recurrent: ws.gates.matrix(rows: t * b, columns: width).readOnly,
                                     batch: b, steps: t, inputGradient: dX)
    }
}
