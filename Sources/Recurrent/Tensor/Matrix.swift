// Row-major matrix views over raw Double storage, and the owned buffers the workspaces are carved from.
// Views are plain structs (no allocation); a `Buffer` owns its memory and frees it in `deinit`.

/// A read-only row-major view: element (i, j) at `base[i * columns + j]`.
struct MatrixRef {
    let base: UnsafePointer<Double>
    let rows: Int
    let columns: Int
    init(_ base: UnsafePointer<Double>, rows: Int, columns: Int) {
        self.base = base; self.rows = rows; self.columns = columns
    }
    init(_ m: MutableMatrixRef) { self.init(UnsafePointer(m.base), rows: m.rows, columns: m.columns) }
}

/// A writable row-major view.
struct MutableMatrixRef {
    let base: UnsafeMutablePointer<Double>
    let rows: Int
    let columns: Int
    init(_ base: UnsafeMutablePointer<Double>, rows: Int, columns: Int) {
        self.base = base; self.rows = rows; self.columns = columns
    }
    var readOnly: MatrixRef { MatrixRef(self) }
}

/// Zero-initialised Double storage owned by a workspace; never resized.
final class Buffer {
    let base: UnsafeMutablePointer<Double>
    let count: Int
    init(count: Int) {
        self.count = count
        base = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { base.deallocate() }
    var bytes: Int { count * MemoryLayout<Double>.stride }
    func zero() { base.update(repeating: 0, count: count) }
    /// Rows [row, row + rows) of a (·, columns) matrix stored here.
    func matrix(rows: Int, columns: Int, fromRow row: Int = 0) -> MutableMatrixRef {
        precondition((row + rows) * columns <= count, "view past the end of a workspace buffer")
        return MutableMatrixRef(base + row * columns, rows: rows, columns: columns)
    }
}
