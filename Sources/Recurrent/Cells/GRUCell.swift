// The GRU cell, forward and backward over a window of steps for a whole batch; gates fused as [r | z | n].

/// Gated recurrent unit (Cho et al. 2014), PyTorch's convention (reset applied after the recurrent product):
///   [a_r | a_z | a_n] = x_t·W_x + b,   [c_r | c_z | c_n] = h_{t−1}·W_h + [0 | 0 | b_hn]   (B, 3H) each
///   r = σ(a_r + c_r),  z = σ(a_z + c_z),  n = tanh(a_n + r ⊙ c_n)
///   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
/// Backward (∂h = from above + carried):
///   ∂n = ∂h ⊙ (1 − z), ∂z = ∂h ⊙ (h_{t−1} − n);  ∂a_n = ∂n ⊙ (1 − n²);  ∂c_n = ∂a_n ⊙ r
///   ∂a_r = ∂c_r = ∂a_n ⊙ c_n ⊙ r(1 − r);  ∂a_z = ∂c_z = ∂z ⊙ z(1 − z)
///   carried ∂h_{t−1} = ∂h ⊙ z + [∂c_r | ∂c_z | ∂c_n]·W_hᵀ
enum GRUCell {
    static func forward(_ w: LayerWeights, input x: MatrixRef, _ ws: LayerWorkspace, batch b: Int, steps t: Int) {
        let h = ws.ranges.hiddenSize, width = 3 * h, n = b * h
        ws.projectInputs(w, input: x)                                        // A = X·W_x + b   (T·B, 3H)
        let biasRow = ws.recurrentBiasRow.base
        biasRow.update(repeating: 0, count: 2 * h)
        (biasRow + 2 * h).update(from: w.candidateRecurrentBias, count: h)
        for s in 0..<t {
            let a = ws.gates.base + s * b * width
            let c = ws.recurrentGates.matrix(rows: b, columns: width, fromRow: s * b)
            broadcastRows(biasRow, into: c)
            BLAS.gemm(ws.hiddenState(s, batch: b).readOnly, w.recurrentWeights, into: c, beta: 1)  // C = h_{t−1}·W_h + [0|0|b_hn]
            let hPrev = ws.hidden.base + s * n, hNext = ws.hidden.base + (s + 1) * n
            for r in 0..<b {
                let ar = a + r * width, cr = c.base + r * width, o = r * h
                for j in 0..<(2 * h) { ar[j] += cr[j] }
                applySigmoid(ar, count: 2 * h)                               // r, z
                for j in 0..<h { ar[2 * h + j] += ar[j] * cr[2 * h + j] }    // a_n + r⊙c_n
                applyTanh(ar + 2 * h, into: ar + 2 * h, count: h)            // n
                let hPrevRow = hPrev + o, hRow = hNext + o, update = ar + h, candidate = ar + 2 * h
                for j in 0..<h { hRow[j] = (1 - update[j]) * candidate[j] + update[j] * hPrevRow[j] }  // h_t = (1−z)⊙n + z⊙h_{t−1}
            }
        }
    }

    static func backward(_ w: LayerWeights, _ g: LayerGradients, input x: MatrixRef, _ ws: LayerWorkspace,
                         batch b: Int, steps t: Int, inputGradient dX: MutableMatrixRef?) {
        let h = ws.ranges.hiddenSize, width = 3 * h, n = b * h
        let carried = ws.carriedHiddenGradient.matrix(rows: b, columns: h)
        carried.base.update(repeating: 0, count: n)
        for s in stride(from: t - 1, through: 0, by: -1) {
            let a = ws.gates.base + s * b * width, c = ws.recurrentGates.base + s * b * width
            let hPrev = ws.hidden.base + s * n, dhAbove = ws.hiddenGradient.base + s * n
            for r in 0..<b {
                let ar = a + r * width, cr = c + r * width, o = r * h
                for j in 0..<h {
                    let reset = ar[j], update = ar[h + j], candidate = ar[2 * h + j], cn = cr[2 * h + j]
                    let dh = dhAbove[o + j] + carried.base[o + j]
                    let dan = dh * (1 - update) * (1 - candidate * candidate)   // through n = tanh(·)
                    let daz = dh * (hPrev[o + j] - candidate) * update * (1 - update)
                    let dar = dan * cn * reset * (1 - reset)
                    ar[j] = dar; ar[h + j] = daz; ar[2 * h + j] = dan
                    cr[j] = dar; cr[h + j] = daz; cr[2 * h + j] = dan * reset   // ∂c_n = ∂a_n ⊙ r
                    carried.base[o + j] = dh * update                        // direct path z⊙h_{t−1}
                }
            }
            if s > 0 {                                                       // ∂h_{t−1} += ∂C·W_hᵀ
                BLAS.gemm(MatrixRef(c, rows: b, columns: width), w.recurrentWeights, transposeB: true, into: carried, beta: 1)
            }
        }
        let dC = ws.recurrentGates.matrix(rows: t * b, columns: width).readOnly
        // ∂b_hn += Σ_rows ∂c_n
        for r in 0..<(t * b) {
            let cr = dC.base + r * width + 2 * h
            for j in 0..<h { g.candidateRecurrentBias[j] += cr[j] }
        }
        ws.accumulateWeightGradients(w, g, input: x, recurrent: dC, batch: b, steps: t, inputGradient: dX)
    }
}
