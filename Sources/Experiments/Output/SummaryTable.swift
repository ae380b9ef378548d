// Summary tables for the terminal (aligned columns) and for Markdown (README, summary.md).
import Foundation

public struct SummaryTable: Sendable, Equatable {
    public enum Alignment: Sendable, Equatable { case left, right }

    public var header: [String]
    public var rows: [[String]]
    /// One per column; defaults to left for the first column, right for the others (numbers).
    public var alignments: [Alignment]

    public init(header: [String], rows: [[String]] = [], alignments: [Alignment]? = nil) {
        self.header = header
        self.rows = rows
        self.alignments = alignments ?? header.indices.map { $0 == 0 ? .left : .right }
    }

    public mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "table row has \(row.count) cells, header has \(header.count)")
        rows.append(row)
    }

    private var widths: [Int] {
        header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
    }

    private func pad(_ text: String, _ width: Int, _ alignment: Alignment) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return alignment == .left ? text + fill : fill + text
    }

    /// Columns padded to a common width and separated by two spaces, with a dashed rule under the header.
    public var text: String {
        let widths = self.widths
        func render(_ row: [String]) -> String {
            row.indices.map { pad(row[$0], widths[$0], alignments[$0]) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = [render(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(render)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table (`|` in cells escaped).
    public var markdown: String {
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        let rule = alignments.map { $0 == .left ? ":---" : "---:" }
        var lines = ["| " + header.map(cell).joined(separator: " | ") + " |", "| " + rule.joined(separator: " | ") + " |"]
        lines += rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number for a table cell: 4 significant digits, scientific when very large or small.
    public static func format(_ value: Double, significantDigits: Int = 4) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            return String(format: "%.\(significantDigits)g", value)
        }
        return String(format: "%.\(max(significantDigits - 1, 0))e", value)
    }
}
