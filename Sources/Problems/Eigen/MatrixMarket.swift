// Reader for real Matrix Market files (NIST format, https://math.nist.gov/MatrixMarket/formats.html):
// `coordinate` or `array` layout, `symmetric` or `general` symmetry; errors name the file and line.
import Foundation

public enum MatrixMarket {
    /// Reads a square real matrix, row-major. Symmetric files fill both triangles; general files are returned as
    /// they are (the caller checks symmetry). Entries that are NaN or infinite, indices out of range, a wrong entry
    /// count, a non-square size or an unsupported header are errors naming `file` and the line.
    public static func read(_ url: URL) throws -> (dimension: Int, entries: [Double]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ProblemError(file: url.path, message: "cannot read the Matrix Market file: \(error.localizedDescription)")
        }
        return try parse(text, file: url.path)
    }

    /// Parses Matrix Market text; `file` is used in error messages.
    public static func parse(_ text: String, file: String) throws -> (dimension: Int, entries: [Double]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
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
        var entries = [Double](repeating: 0, count: n * n)

        func value(_ field: Substring, line: Int) throws -> Double {
            guard let v = Double(field) else { throw fail(line, "'\(field)' is not a number") }
            guard v.isFinite else { throw fail(line, "entry \(field) is not finite") }
            return v
        }

        let body = data.dropFirst()
        if layout == "coordinate" {
            let count = sizes[2]!
            guard body.count == count else {
                throw fail(body.last?.line ?? sizeLine.line, "the size line promises \(count) entries, the file has \(body.count)")
            }
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
            var positions: [(Int, Int)] = []
            for j in 0..<n { for i in (symmetry == "symmetric" ? j : 0)..<n { positions.append((i, j)) } }
            let values = body.flatMap { entry in entry.fields.map { (entry.line, $0) } }
            guard values.count == positions.count else {
                throw fail(body.last?.line ?? sizeLine.line, "an \(n)×\(n) \(symmetry) array needs \(positions.count) values, the file has \(values.count)")
            }
            for ((i, j), (line, field)) in zip(positions, values) {
                let v = try value(field, line: line)
                entries[i * n + j] = v
                if symmetry == "symmetric" { entries[j * n + i] = v }
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
