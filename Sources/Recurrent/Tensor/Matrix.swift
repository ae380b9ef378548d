// Row-major matrix views over raw Double or Float storage, and the owned buffers the workspaces are carved from.
// Views are plain structs (no allocation); a `Buffer` owns its memory and frees it in `deinit`.

/// A read-only row-major view: element (i, j) at `base[i * columns + j]`.
struct MatrixRef<Scalar> {
    let base: UnsafePointer<Scalar>
    let rows: Int
    let columns: Int
    init(_ base: UnsafePointer<Scalar>, rows: Int, columns: Int) {
        self.base = base; self.rows = rows; self.columns = columns
    }
    init(_ m: MutableMatrixRef<Scalar>) { self.init(UnsafePointer(m.base), rows: m.rows, columns: m.columns) }
}

/// A writable row-major view.
struct MutableMatrixRef<Scalar> {
    let base: UnsafeMutablePointer<Scalar>
    let rows: Int
    let columns: Int
    init(_ base: UnsafeMutablePointer<Scalar>, rows: Int, columns: Int) {
        self.base = base; self.rows = rows; self.columns = columns
    }
    var readOnly: MatrixRef<Scalar> { MatrixRef(self) }
}

/// Zero-initialised storage owned by a workspace; never resized.
final class Buffer<Scalar: BinaryFloatingPoint> {
    let base: UnsafeMutablePointer<Scalar>
    let count: Int
    init(count: Int) {
        self.count = count
        base = UnsafeMutablePointer<Scalar>.allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { base.deallocate() }
    var bytes: Int { count * MemoryLayout<Scalar>.stride }
    func zero() { base.update(repeating: 0, count: count) }
    /// Rows [row, row + rows) of a (·, columns) matrix stored here.
    func matrix(rows: Int, columns: Int, fromRow row: Int = 0) -> MutableMatrixRef<Scalar> {
        precondition((row + rows) * columns <= count, "view past the end of a workspace buffer")
        return MutableMatrixRef(base + row * columns, rows: rows, columns: columns)
    }
}
