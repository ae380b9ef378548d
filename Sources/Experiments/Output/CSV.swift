// Comma-separated values: a generic table writer (atomic), a field formatter that round-trips doubles, and a
// small RFC 4180 reader for reading results and data files back.
import Foundation

/// A CSV table with a fixed header. Numbers are written in Swift's shortest round-trip form, so a value read
/// back is bit-identical; non-finite values are written `nan`, `inf`, `-inf`.
public struct CSVTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    /// Appends a row of text fields; the count must match the header.
    public mutating func append(_ fields: [String]) {
        precondition(fields.count == header.count, "CSV row has \(fields.count) fields, header has \(header.count)")
        rows.append(fields)
    }

    /// Appends a row of numbers.
    public mutating func append(_ values: [Double]) {
        append(values.map(CSV.format))
    }

    /// The whole table as CSV text (header line first, `\n` line endings).
    public var text: String {
        var out = CSV.line(header)
        for row in rows { out += CSV.line(row) }
        return out
    }

    /// Writes the table atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }

    /// Reads a table written by `write(to:)` (or any CSV with a header line).
    public static func read(from url: URL) throws -> CSVTable {
        try CSVTable(parsing: FileSystem.readText(url), url: url)
    }

    /// Parses CSV text read from `url` (named in errors).
    public init(parsing text: String, url: URL) throws {
        let records = try CSV.parse(text, file: url.path)
        guard let header = records.first else { throw OutputError(url: url, message: "empty CSV file (no header line)") }
        for (index, record) in records.dropFirst().enumerated() where record.count != header.count {
            throw OutputError(url: url, message: "line \(index + 2): \(record.count) fields, header has \(header.count)")
        }
        self.init(header: header, rows: Array(records.dropFirst()))
    }

    /// The index of a header column, or an error naming the file and the missing column.
    public func column(_ name: String, in url: URL? = nil) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw OutputError(url: url ?? URL(fileURLWithPath: "-"), message: "missing column '\(name)' (header: \(header.joined(separator: ",")))")
        }
        return index
    }
}

public enum CSV {
    /// Shortest text that parses back to the same double; `nan`, `inf`, `-inf` for non-finite values.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return "\(value)"
    }

    /// Parses a number written by `format` (also accepts `NaN`, `Infinity`).
    public static func number(_ field: String) -> Double? {
        switch field.lowercased() {
        case "nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(field.trimmingCharacters(in: .whitespaces))
        }
    }

    /// Quotes a field when it contains a comma, quote or line break (RFC 4180). Tested on Unicode scalars, as
    /// `parse` splits: a comma followed by a combining mark is one Character that is not ",", and "\r\n" is one
    /// Character that is neither "\r" nor "\n", yet each still separates fields when read back.
    public static func escape(_ field: String) -> String {
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in field.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// One CSV line with its trailing newline.
    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }

    /// Splits CSV text into records of fields (quoted fields may hold commas, quotes and newlines).
    public static func parse(_ text: String, file: String = "-") throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var line = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        func next() -> Unicode.Scalar? { let c = pending; pending = iterator.next(); return c }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if pending == "\"" { _ = next(); field.unicodeScalars.append("\"") } else { quoted = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty, !afterQuote else {
                    throw OutputError(url: URL(fileURLWithPath: file), message: "line \(line): stray quote in field")
                }
                quoted = true
            case ",":
                record.append(field); field = ""; afterQuote = false
            case "\r":
                continue
            case "\n":
                record.append(field); field = ""; afterQuote = false
                records.append(record); record = []
                line += 1
            default:
                guard !afterQuote else {
                    throw OutputError(url: URL(fileURLWithPath: file), message: "line \(line): text after closing quote")
                }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { throw OutputError(url: URL(fileURLWithPath: file), message: "line \(line): unterminated quoted field") }
        if !field.isEmpty || !record.isEmpty || afterQuote { record.append(field); records.append(record) }
        return records
    }
}
