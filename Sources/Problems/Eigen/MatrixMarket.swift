// Reader for real Matrix Market files (NIST format, https://math.nist.gov/MatrixMarket/formats.html):
// `coordinate` or `array` layout, `symmetric` or `general` symmetry; errors name the file and line.
import Foundation

public enum MatrixMarket {
    /// Reads a square real matrix, row-major. Symmetric files fill both triangles; general files are returned as
    /// they are (the caller checks symmetry). Entries that are NaN or infinite, indices out of range, a wrong entry
    /// count, a non-square size or an unsupported header are errors naming `file` and the line.
    public static func read(_ url: URL) throws -> (dimension: Int, entries: [Double]) {
        try parse(InputFile.text(atPath: url.path, display: url.path), file: url.path)
    }

    /// Parses Matrix Market text; `file` is used in error messages.
    public static func parse(_ text: String, file: String) throws -> (dimension: Int, entries: [Double]) {
        // Lines end in LF or CRLF; trailing white space (and the CR) is dropped.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        func fail(_ line: Int?, _ message: String) -> ProblemError { ProblemError(file: file, line: line, message: message) }

        guard let header = lines.first, header.lowercased().hasPrefix("%%matrixmarket") else {
            throw fail(1, "not a Matrix Market file: the first line must start with %%MatrixMarket")
        }
        let words = header.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count == 5, words[1] == "matrix" else {
            throw fail(1, "expected '%%MatrixMarket matrix <coordinate|array> <real|integer> <general|symmetric>'")
        }
        let layout = words[2], field = words[3], symmetry = words[4]
        guard layout == "coordinate" || layout == "array" else { throw fail(1, "unsupported layout '\(layout)' (coordinate or array)") }
        guard field == "real" || field == "integer" || field == "double" else {
            throw fail(1, "unsupported field '\(field)': only real matrices (real, integer)")
        }
        guard symmetry == "general" || symmetry == "symmetric" else {
            throw fail(1, "unsupported symmetry '\(symmetry)' (general or symmetric)")
        }

        // Data lines: skip comments (%) and blank lines, keep the 1-based line numbers.
        var data: [(line: Int, fields: [Substring])] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix("%") {
            data.append((index + 1, line.split(whereSeparator: { $0 == " " || $0 == "\t" })))
        }
        guard let sizeLine = data.first else { throw fail(nil, "missing the size line") }
        let sizes = sizeLine.fields.map { Int($0) }
        let expectedSizeFields = layout == "coordinate" ? 3 : 2
        guard sizes.count == expectedSizeFields, sizes.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw fail(sizeLine.line, "size line must be '\(layout == "coordinate" ? "rows columns entries" : "rows columns")'")
        }
        let rows = sizes[0]!, columns = sizes[1]!
        guard rows == columns, rows > 0 else { throw fail(sizeLine.line, "the matrix must be square and non-empty (got \(rows)×\(columns))") }
        let n = rows
        // The size cap before anything n×n is allocated.
        guard n <= Limits.matrixDimension else {
            throw fail(sizeLine.line, "the matrix is \(n)×\(n), larger than the limit of \(Limits.matrixDimension)×\(Limits.matrixDimension) (dense storage: n² doubles)")
        }
        let body = data.dropFirst()
        if layout == "coordinate" {
            let count = sizes[2]!
            guard body.count == count else {
                throw fail(body.last?.line ?? sizeLine.line, "the size line promises \(count) entries, the file has \(body.count)")
            }
        }
        var entries = [Double](repeating: 0, count: n * n)

        func value(_ field: Substring, line: Int) throws -> Double {
            guard let v = Double(field) else { throw fail(line, "'\(field)' is not a number") }
            guard v.isFinite else { throw fail(line, "entry \(field) is not finite") }
            return v
        }

        if layout == "coordinate" {
            for (line, fields) in body {
                guard fields.count == 3, let i = Int(fields[0]), let j = Int(fields[1]) else {
                    throw fail(line, "expected 'row column value'")
                }
                guard (1...n).contains(i), (1...n).contains(j) else { throw fail(line, "index (\(i), \(j)) outside 1…\(n)") }
                if symmetry == "symmetric" && j > i { throw fail(line, "a symmetric file stores the lower triangle only; got (\(i), \(j))") }
                let v = try value(fields[2], line: line)
                entries[(i - 1) * n + (j - 1)] += v
                if symmetry == "symmetric" && i != j { entries[(j - 1) * n + (i - 1)] += v }
            }
        } else {
            // Column-major; symmetric: the lower triangle including the diagonal, column by column.
            let needed = symmetry == "symmetric" ? n * (n + 1) / 2 : n * n
            let count = body.reduce(0) { $0 + $1.fields.count }
            guard count == needed else {
                throw fail(body.last?.line ?? sizeLine.line, "an \(n)×\(n) \(symmetry) array needs \(needed) values, the file has \(count)")
            }
            var i = 0, j = 0
            for (line, fields) in body {
                for field in fields {
                    let v = try value(field, line: line)
                    entries[i * n + j] = v
                    if symmetry == "symmetric" { entries[j * n + i] = v }
                    // Next position down the column, then the next column (from the diagonal when symmetric).
                    i += 1
                    if i == n { j += 1; i = symmetry == "symmetric" ? j : 0 }
                }
            }
        }
        return (n, entries)
    }

    /// Writes a dense symmetric matrix as a `coordinate real symmetric` file (lower triangle, non-zeros only).
    public static func format(_ entries: [Double], dimension n: Int, comment: String? = nil) -> String {
        var lines = ["%%MatrixMarket matrix coordinate real symmetric"]
        if let comment { lines.append("% " + comment) }
        var body: [String] = []
        for j in 0..<n { for i in j..<n where entries[i * n + j] != 0 { body.append("\(i + 1) \(j + 1) \(entries[i * n + j])") } }
        lines.append("\(n) \(n) \(body.count)")
        return (lines + body).joined(separator: "\n") + "\n"
    }
}
