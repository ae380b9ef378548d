// Matrices built directly in compressed sparse rows, never dense: the 2-D Dirichlet Laplacian on a G × G grid
// (n = G², e.g. 10⁴), with its exact eigenpairs as the reference (GSL's dense solver is O(n³) there).
import Foundation
import Reference

extension SparseSymmetricMatrix {
    /// From compressed rows (columns ascending within a row); Gershgorin bounds computed from them.
    convenience init(rowStart: [Int], columns: [Int], values: [Double]) {
        let n = rowStart.count - 1
        var lower = Double.infinity, upper = -Double.infinity
        for i in 0..<n {
            var diagonal = 0.0, radius = 0.0
            for p in rowStart[i]..<rowStart[i + 1] {
                if columns[p] == i { diagonal = values[p] } else { radius += abs(values[p]) }
            }
            lower = min(lower, diagonal - radius); upper = max(upper, diagonal + radius)
        }
        self.init(dimension: n, rowStart: rowStart, columns: columns, values: values, lower: lower, upper: upper)
    }

    /// Stored entries: nnz.
    public var storedEntries: Int { values.count }

    /// The dense row-major matrix (tests and small training matrices only).
    func dense() -> [Double] {
        var a = [Double](repeating: 0, count: dimension * dimension)
        for i in 0..<dimension { for p in rowStart[i]..<rowStart[i + 1] { a[i * dimension + columns[p]] = values[p] } }
        return a
    }
}

/// The 2-D Laplacian on a G × G interior grid, Dirichlet boundary, unit spacing: 4 on the diagonal, −1 to the
/// four neighbours; unknown (i, j) (0-based, row-major) is i·G + j.
func gridLaplacian(_ g: Int) -> SparseSymmetricMatrix {
    precondition(g >= 1)
    var rowStart = [0], columns: [Int] = [], values: [Double] = []
    columns.reserveCapacity(5 * g * g); values.reserveCapacity(5 * g * g)
    for i in 0..<g {
        for j in 0..<g {
            let k = i * g + j
            if i > 0 { columns.append(k - g); values.append(-1) }
            if j > 0 { columns.append(k - 1); values.append(-1) }
            columns.append(k); values.append(4)
            if j + 1 < g { columns.append(k + 1); values.append(-1) }
            if i + 1 < g { columns.append(k + g); values.append(-1) }
            rowStart.append(columns.count)
        }
    }
    return SparseSymmetricMatrix(rowStart: rowStart, columns: columns, values: values)
}

/// A generated sparse matrix with an exact spectrum: name `laplacian2d-GxG`.
public struct GeneratedMatrix: Sendable {
    public let name: String
    public let title: String
    public let gridSize: Int
    public var dimension: Int { gridSize * gridSize }

    /// Recognises `laplacian2d-GxG` (2 ≤ G ≤ 1000); nil for any other name.
    public init?(name: String) {
        guard name.hasPrefix("laplacian2d-") else { return nil }
        let parts = name.dropFirst("laplacian2d-".count).split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a == b, (2...1000).contains(a) else { return nil }
        self.name = name; gridSize = a
        title = "2-D Laplacian, \(a) × \(a) grid (sparse, generated; exact eigenpairs as reference)"
    }

    public static let usage = "laplacian2d-GxG (a generated sparse 2-D Laplacian, 2 ≤ G ≤ 1000)"

    public func matrix() -> SparseSymmetricMatrix { gridLaplacian(gridSize) }

    /// λ(p, q) = 4 − 2cos(pπ/(G+1)) − 2cos(qπ/(G+1)), p, q = 1…G, in ascending order with their (p, q).
    func spectrum() -> [(value: Double, p: Int, q: Int)] {
        let g = gridSize, h = Double.pi / Double(g + 1)
        var all: [(value: Double, p: Int, q: Int)] = []
        all.reserveCapacity(g * g)
        for p in 1...g { for q in 1...g { all.append((4 - 2 * cos(Double(p) * h) - 2 * cos(Double(q) * h), p, q)) } }
        return all.sorted { ($0.value, $0.p, $0.q) < ($1.value, $1.p, $1.q) }
    }

    /// The unit eigenvector of (p, q): sin(p(i+1)π/(G+1)) sin(q(j+1)π/(G+1)) normalised.
    func eigenvector(p: Int, q: Int) -> [Double] {
        let g = gridSize, h = Double.pi / Double(g + 1)
        var v = [Double](repeating: 0, count: g * g)
        for i in 0..<g { for j in 0..<g { v[i * g + j] = sin(Double(p * (i + 1)) * h) * sin(Double(q * (j + 1)) * h) } }
        return normalised(v)
    }
}
