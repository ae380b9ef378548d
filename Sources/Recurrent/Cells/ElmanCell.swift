// The Elman cell, forward and backward over a window of steps for a whole batch.

/// Elman (1990) recurrent cell:  h_t = tanh(x_t·W_x + h_{t−1}·W_h + b).
/// Backward:  ∂z_t = (∂h_t + ∂z_{t+1}·W_hᵀ) ⊙ (1 − h_t²).
enum ElmanCell {
    static func forward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, input x: MatrixRef<Scalar>, _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int) {
        let h = ws.ranges.hiddenSize, n = b * h
        ws.projectInputs(w, input: x)                                        // Z = X·W_x + b   (T·B, H)
        for s in 0..<t {
            let z = ws.gates.matrix(rows: b, columns: h, fromRow: s * b)
            BLAS.gemm(ws.hiddenState(s, batch: b).readOnly, w.recurrentWeights, into: z, beta: 1)  // z += h_{t−1}·W_h
            let hNext = ws.hidden.base + (s + 1) * n
            applyTanh(z.base, into: hNext, count: n)                         // h_t = tanh(z)
        }
    }

    static func backward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, _ g: LayerGradients<Scalar>, input x: MatrixRef<Scalar>,
                                                 _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int,
                                                 inputGradient dX: MutableMatrixRef<Scalar>?) {
        let h = ws.ranges.hiddenSize, n = b * h
        let carried = ws.carriedHiddenGradient.matrix(rows: b, columns: h)
        carried.base.update(repeating: 0, count: n)
        for s in stride(from: t - 1, through: 0, by: -1) {
            let dz = ws.gates.base + s * n, dh = ws.hiddenGradient.base + s * n, hs = ws.hidden.base + (s + 1) * n
            var k = 0                                                        // backprop through tanh, 8 at a time
            while k + 8 <= n {
                let hk = loadLanes(hs + k)
                storeLanes((loadLanes(dh + k) + loadLanes(carried.base + k)) * (1 - hk * hk), dz + k)
                k += 8
            }
            while k < n { let hk = hs[k]; dz[k] = (dh[k] + carried.base[k]) * (1 - hk * hk); k += 1 }
            if s > 0 {                                                       // ∂h_{t−1} = ∂z_t·W_hᵀ
                BLAS.gemm(MatrixRef(dz, rows: b, columns: h), w.recurrentWeights, transposeB: true, into: carried, beta: 0)
            }
        }
        ws.accumulateWeightGradients(w, g, input: x, recurrent: ws.gates.matrix(rows: t * b, columns: h).readOnly,
                                     batch: b, steps: t, inputGradient: dX)
    }
}
