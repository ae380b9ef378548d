// The long-format error report `errors.csv` shared by every experiment: one row per (experiment, problem, model,
// seed, metric). Rows are appended as they are produced; concurrent appenders do not interleave or lose rows.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One measured number. `unit` is free text (`1`, `s`, `lyapunov_times`, the problem's time unit, …).
public struct ErrorRow: Codable, Equatable, Hashable, Sendable {
    public var experiment: String
    public var problem: String
    public var model: String
    public var seed: UInt64
    public var metric: String
    public var value: Double
    public var unit: String

    public init(experiment: String, problem: String, model: String, seed: UInt64, metric: String, value: Double, unit: String) {
        self.experiment = experiment; self.problem = problem; self.model = model; self.seed = seed
        self.metric = metric; self.value = value; self.unit = unit
    }

    /// The fields in header order.
    public var fields: [String] {
        [experiment, problem, model, String(seed), metric, CSV.format(value), unit]
    }
}

/// Appends `ErrorRow`s to `DIR/errors.csv` with the fixed header `experiment,problem,model,seed,metric,value,unit`.
///
/// Each `append` writes its whole batch with one `write(2)` on a descriptor opened with `O_APPEND`, under an
/// exclusive `flock`, so batches from threads of one process and from several processes stay whole; the header is
/// written by whichever appender finds the file empty.
public struct ErrorLog: Sendable {
    public static let header = ["experiment", "problem", "model", "seed", "metric", "value", "unit"]
    public static let fileName = "errors.csv"

    public let url: URL

    /// The log `errors.csv` inside `directory`.
    public init(directory: URL) {
        self.url = directory.appendingPathComponent(ErrorLog.fileName)
    }

    public init(url: URL) {
        self.url = url
    }

    /// Appends the rows (creating the file with its header when absent or empty).
    public func append(_ rows: [ErrorRow]) throws {
        guard !rows.isEmpty else { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw OutputError(url: url, message: "cannot open for appending: \(Self.lastError())") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw OutputError(url: url, message: "cannot lock: \(Self.lastError())") }
        defer { flock(descriptor, LOCK_UN) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw OutputError(url: url, message: "cannot stat: \(Self.lastError())") }
        var text = status.st_size == 0 ? CSV.line(Self.header) : ""
        for row in rows { text += CSV.line(row.fields) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw OutputError(url: url, message: "short write (\(written) of \(bytes.count) bytes): \(Self.lastError())")
        }
    }

    /// Every row in the file (an absent file has none). A malformed line is an error naming the line.
    public func read() throws -> [ErrorRow] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let table = try CSVTable.read(from: url)
        guard table.header == Self.header else {
            throw OutputError(url: url, message: "unexpected header '\(table.header.joined(separator: ","))', expected '\(Self.header.joined(separator: ","))'")
        }
        return try table.rows.enumerated().map { index, fields in
            guard let seed = UInt64(fields[3]), let value = CSV.number(fields[5]) else {
                throw OutputError(url: url, message: "line \(index + 2): seed '\(fields[3])' or value '\(fields[5])' is not a number")
            }
            return ErrorRow(experiment: fields[0], problem: fields[1], model: fields[2], seed: seed,
                            metric: fields[4], value: value, unit: fields[6])
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
