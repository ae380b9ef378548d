// The mean-squared-error loss of a batch over (possibly truncated) windows, with or without its gradient.

/// The state (every layer's h_0, and C_0 for LSTM) at the start of each window, flattened; recorded by a pass
/// so a gradient check can evaluate the truncated loss with the carried states held fixed.
typealias WindowStartStates = [[Double]]   // exact for Float states too

extension BPTTWorkspace {
    /// L = Σ_{t ≥ lossFromStep} ‖y_t − target_t‖² / (b · (T − lossFromStep) · O) for sequences `indices` of `data`,
    /// run in windows of `window` steps (truncated BPTT: the state is carried into the next window, detached).
    /// With `gradient`, accumulates ∂L/∂θ there (the caller zeroes it). `record` collects each window's start state;
    /// `startStates` (from a recording) replaces the carried states (for gradient checks). With `averagedOver` = B,
    /// the sum is divided by B's count instead of b's: a slice of a B-sequence batch then contributes its share of
    /// the batch's loss and gradient, and the slices' results add up to the batch's.
    func meanSquaredError(_ data: SequenceDataset, indices: ArraySlice<Int>, window: Int, parameters p: UnsafePointer<Scalar>,
                          gradient: UnsafeMutablePointer<Scalar>?, record: UnsafeMutablePointer<WindowStartStates>? = nil,
                          startStates: WindowStartStates? = nil, averagedOver batchCount: Int? = nil) -> Double {
        let b = indices.count
        let counted = (batchCount ?? b) * (data.steps - data.lossFromStep) * data.outputSize
        let scale = 1 / Double(counted)
        zeroState(batch: b)
        var sum = 0.0, start = 0, previous = 0, index = 0
        while start < data.steps {
            let t = min(window, data.steps - start)
            if start > 0 { carryState(batch: b, steps: previous) }
            if let startStates { loadState(startStates[index], batch: b) }
            if let record { record.pointee.append(saveState(batch: b)) }
            gather(data, indices: indices, from: start, steps: t)
            forward(p, batch: b, steps: t)
            let first = data.lossFromStep - start
            sum += squaredError(batch: b, steps: t, firstCountedStep: first, scale: scale)
            if let gradient, first < t { backward(p, gradient: gradient, batch: b, steps: t) }
            previous = t; start += t; index += 1
        }
        return sum * scale
    }

    /// Every layer's h_0 (then C_0) as one array.
    func saveState(batch b: Int) -> [Double] {
        var s: [Double] = []
        for l in layers {
            let n = b * l.ranges.hiddenSize
            s += UnsafeBufferPointer(start: l.hidden.base, count: n).lazy.map { Double($0) }
            if l.cell == .lstm { s += UnsafeBufferPointer(start: l.cellState.base, count: n).lazy.map { Double($0) } }
        }
        return s
    }

    func loadState(_ s: [Double], batch b: Int) {
        var offset = 0
        for l in layers {
            let n = b * l.ranges.hiddenSize
            for k in 0..<n { l.hidden.base[k] = Scalar(s[offset + k]) }
            offset += n
            if l.cell == .lstm { for k in 0..<n { l.cellState.base[k] = Scalar(s[offset + k]) }; offset += n }
        }
    }
}
