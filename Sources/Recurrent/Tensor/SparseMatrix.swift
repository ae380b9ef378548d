// Compressed sparse row (CSR) matrices and their two products: SpMV (one vector) and SpMM (a dense batch).
// Hand-written: OpenBLAS has no sparse routines, and the reservoir's products are short loops that need none.

/// A (rows, columns) matrix in CSR form: row i holds `values[k]` at column `columnIndices[k]` for
/// k in `rowStart[i] ..< rowStart[i + 1]`, columns ascending within a row. Only non-zero entries are stored.
struct SparseMatrix: Equatable {
    let rows: Int
    let columns: Int
    /// rows + 1 offsets into `columnIndices` and `values`; rowStart[0] = 0, rowStart[rows] = nonZeroCount.
    let rowStart: [Int]
    let columnIndices: [Int32]
    let values: [Double]

    var nonZeroCount: Int { values.count }

    /// The non-zero entries of a dense row-major (rows, columns) matrix.
    init(dense: [Double], rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0 && dense.count == rows * columns && columns <= Int(Int32.max),
                     "CSR from dense: \(dense.count) values for \(rows)×\(columns)")
        var starts = [0], indices: [Int32] = [], entries: [Double] = []
        starts.reserveCapacity(rows + 1)
        for i in 0..<rows {
            for j in 0..<columns where dense[i * columns + j] != 0 {
                indices.append(Int32(j)); entries.append(dense[i * columns + j])
            }
            starts.append(entries.count)
        }
        self.rows = rows; self.columns = columns; rowStart = starts; columnIndices = indices; values = entries
    }

    /// CSR arrays as read from a file; nil unless they describe a valid matrix (offsets non-decreasing from 0 to
    /// the entry count, columns strictly ascending within each row and inside 0 ..< columns, values finite).
    init?(rows: Int, columns: Int, rowStart: [Int], columnIndices: [Int32], values: [Double]) {
        guard rows >= 0, columns >= 0, columns <= Int(Int32.max), rowStart.count == rows + 1, rowStart.first == 0,
              rowStart.last == values.count, columnIndices.count == values.count, values.allSatisfy(\.isFinite) else { return nil }
        for i in 0..<rows {
            guard rowStart[i] <= rowStart[i + 1] else { return nil }
            var previous = -1
            for k in rowStart[i]..<rowStart[i + 1] {
                let j = Int(columnIndices[k])
                guard j > previous, j < columns else { return nil }
                previous = j
            }
        }
        self.rows = rows; self.columns = columns; self.rowStart = rowStart; self.columnIndices = columnIndices; self.values = values
    }

    /// The dense row-major (rows, columns) matrix.
    var dense: [Double] {
        var a = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for k in rowStart[i]..<rowStart[i + 1] { a[i * columns + Int(columnIndices[k])] = values[k] }
        }
        return a
    }

    /// SpMV, accumulating: y_i ← y_i + Σ_{k ∈ row i} W_k x_{c_k}, the sum taken in ascending k (column) order.
    /// Shapes: x (columns), y (rows). 2·nnz floating-point operations.
    func multiplyAdd(_ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        rowStart.withUnsafeBufferPointer { starts in
            columnIndices.withUnsafeBufferPointer { c in
                values.withUnsafeBufferPointer { w in
                    for i in 0..<rows {
                        var sum = y[i]
                        for k in starts[i]..<starts[i + 1] { sum += w[k] * x[Int(c[k])] }
                        y[i] = sum
                    }
                }
            }
        }
    }

    /// SpMM with a dense batch, accumulating: Y ← Y + W·X, i.e. Y_{ib} ← Y_{ib} + Σ_{k ∈ row i} W_k X_{c_k, b}.
    /// Shapes: X (columns, B) and Y (rows, B) row-major, so column b is one vector of the batch. Each Y_{ib}
    /// receives its terms in ascending k order, exactly as `multiplyAdd(_:into:)` does: column b of the result
    /// equals the SpMV of column b bit for bit, for every B. The innermost loop runs over b (contiguous, vectorised).
    func multiplyAdd(batch x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, batch b: Int) {
        precondition(b >= 1, "SpMM batch \(b)")
        if b == 1 { multiplyAdd(x, into: y); return }
        rowStart.withUnsafeBufferPointer { starts in
            columnIndices.withUnsafeBufferPointer { c in
                values.withUnsafeBufferPointer { w in
                    for i in 0..<rows {
                        let yi = y + i * b, range = starts[i]..<starts[i + 1]
                        // Eight columns at a time (then four), held in registers across the row's entries.
                        func block<V: SIMD>(_: V.Type, _ j: Int) where V.Scalar == Double {
                            var sum = V.load(yi + j)
                            for k in range { sum += V(repeating: w[k]) * V.load(x + Int(c[k]) * b + j) }
                            sum.store(yi + j)
                        }
                        var j = 0
                        while j + 8 <= b { block(SIMD8<Double>.self, j); j += 8 }
                        if j + 4 <= b { block(SIMD4<Double>.self, j); j += 4 }
                        while j < b {
                            var sum = yi[j]
                            for k in range { sum += w[k] * x[Int(c[k]) * b + j] }
                            yi[j] = sum
                            j += 1
                        }
                    }
                }
            }
        }
    }
}

// The blocks the batched kernels keep in registers: SIMD8 and SIMD4 of Double. Lane arithmetic is IEEE per lane
// (no fused multiply-add), so a lane computes exactly what the scalar loop computes.
extension SIMD where Scalar == Double {
    @inline(__always) static func load(_ p: UnsafePointer<Double>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>) -> Self { load(UnsafePointer(p)) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
