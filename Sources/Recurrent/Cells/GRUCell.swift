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
    static func forward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, input x: MatrixRef<Scalar>, _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int) {
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
                forwardRow(a + r * width, c.base + r * width, hPrev + r * h, hNext + r * h, hidden: h)
            }
        }
    }

    /// One row of one step, fused: r, z and n over the input part `a` in place, then h_t; 8 hidden units at a
    /// time, the rest one by one (the same operations, so the same bits).
    @inline(__always)
    static func forwardRow<Scalar: RecurrentScalar>(_ a: UnsafeMutablePointer<Scalar>, _ c: UnsafePointer<Scalar>, _ hPrev: UnsafePointer<Scalar>,
                           _ hNext: UnsafeMutablePointer<Scalar>, hidden h: Int) {
        var j = 0
        while j + 8 <= h {
            let reset = sigmoid(loadLanes(a + j) + loadLanes(c + j))
            let update = sigmoid(loadLanes(a + h + j) + loadLanes(c + h + j))
            let candidate = hyperbolicTangent(loadLanes(a + 2 * h + j) + reset * loadLanes(c + 2 * h + j))   // n = tanh(a_n + r⊙c_n)
            storeLanes(reset, a + j); storeLanes(update, a + h + j); storeLanes(candidate, a + 2 * h + j)
            storeLanes((1 - update) * candidate + update * loadLanes(hPrev + j), hNext + j)   // h_t = (1−z)⊙n + z⊙h_{t−1}
            j += 8
        }
        while j < h {
            let reset = sigmoid(a[j] + c[j]), update = sigmoid(a[h + j] + c[h + j])
            let candidate = hyperbolicTangent(a[2 * h + j] + reset * c[2 * h + j])
            a[j] = reset; a[h + j] = update; a[2 * h + j] = candidate
            hNext[j] = (1 - update) * candidate + update * hPrev[j]
            j += 1
        }
    }

    static func backward<Scalar: RecurrentScalar>(_ w: LayerWeights<Scalar>, _ g: LayerGradients<Scalar>, input x: MatrixRef<Scalar>,
                                                 _ ws: LayerWorkspace<Scalar>, batch b: Int, steps t: Int,
                                                 inputGradient dX: MutableMatrixRef<Scalar>?) {
        let h = ws.ranges.hiddenSize, width = 3 * h, n = b * h
        let carried = ws.carriedHiddenGradient.matrix(rows: b, columns: h)
        carried.base.update(repeating: 0, count: n)
        for s in stride(from: t - 1, through: 0, by: -1) {
            let a = ws.gates.base + s * b * width, c = ws.recurrentGates.base + s * b * width
            let hPrev = ws.hidden.base + s * n, dhAbove = ws.hiddenGradient.base + s * n
            for r in 0..<b {
                let o = r * h
                backwardRow(a + r * width, c + r * width, hPrev + o, dhAbove + o, carried.base + o, hidden: h)
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

    /// One row of one step of the reverse sweep, fused: the activations in `a` become [∂a_r | ∂a_z | ∂a_n], the
    /// recurrent part `c` becomes [∂c_r | ∂c_z | ∂c_n], `carried` becomes the direct path ∂h ⊙ z; 8 units at a time.
    @inline(__always)
    static func backwardRow<Scalar: RecurrentScalar>(_ a: UnsafeMutablePointer<Scalar>, _ c: UnsafeMutablePointer<Scalar>, _ hPrev: UnsafePointer<Scalar>,
                            _ dhAbove: UnsafePointer<Scalar>, _ carried: UnsafeMutablePointer<Scalar>, hidden h: Int) {
        var j = 0
        while j + 8 <= h {
            let reset = loadLanes(a + j), update = loadLanes(a + h + j), candidate = loadLanes(a + 2 * h + j)
            let cn = loadLanes(c + 2 * h + j)
            let dh = loadLanes(dhAbove + j) + loadLanes(carried + j)
            let dan = dh * (1 - update) * (1 - candidate * candidate)          // through n = tanh(·)
            let daz = dh * (loadLanes(hPrev + j) - candidate) * update * (1 - update)
            let dar = dan * cn * reset * (1 - reset)
            storeLanes(dar, a + j); storeLanes(daz, a + h + j); storeLanes(dan, a + 2 * h + j)
            storeLanes(dar, c + j); storeLanes(daz, c + h + j); storeLanes(dan * reset, c + 2 * h + j)   // ∂c_n = ∂a_n ⊙ r
            storeLanes(dh * update, carried + j)                               // direct path z⊙h_{t−1}
            j += 8
        }
        while j < h {
            let reset = a[j], update = a[h + j], candidate = a[2 * h + j], cn = c[2 * h + j]
            let dh = dhAbove[j] + carried[j]
            let dan = dh * (1 - update) * (1 - candidate * candidate)
            let daz = dh * (hPrev[j] - candidate) * update * (1 - update)
            let dar = dan * cn * reset * (1 - reset)
            a[j] = dar; a[h + j] = daz; a[2 * h + j] = dan
            c[j] = dar; c[h + j] = daz; c[2 * h + j] = dan * reset
            carried[j] = dh * update
            j += 1
        }
    }
}
