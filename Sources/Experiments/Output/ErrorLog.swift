// The long-format error report `errors.csv` shared by every experiment: one row per (experiment, problem, model,
// seed, metric). Rows are appended as they are produced; concurrent appenders do not interleave or lose rows.
import Foundation
import Support
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
/// Each `append` writes its whole batch as one block with one `write(2)` on a descriptor opened with `O_APPEND`,
/// under an exclusive `flock`, so batches from threads of one process and from several processes stay whole; the
/// header is written by whichever appender finds the file empty. Before appending, the file must end on a row
/// boundary: a file that ends inside a row (a write cut short by a crash or a full disk, before this appender
/// rolled such writes back) is repaired by cutting the partial row off, with a warning that names the file and
/// quotes the row dropped. A write that fails half-way is rolled back to the file's previous length, so the file
/// never keeps part of a batch, and the error carries the errno of the call that failed.
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

    /// Appends the rows (creating the file with its header when absent or empty). `warn` receives the warning of a
    /// repair (the default writes it to standard error).
    public func append(_ rows: [ErrorRow], warn: (String) -> Void = FileSystem.warn) throws {
        try append(rows, warn: warn, write: Descriptor.systemWrite)
    }

    /// `append` with the write call passed in (tests simulate short writes with it).
    func append(_ rows: [ErrorRow], warn: (String) -> Void, write: (Int32, UnsafeRawPointer?, Int) -> Int) throws {
        guard !rows.isEmpty else { return }
        try FileSystem.createDirectories(url.deletingLastPathComponent())
        let descriptor = open(url.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw OutputError(url: url, action: "open for appending", errorNumber: errno) }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw OutputError(url: url, action: "lock", errorNumber: errno) }
        defer { flock(descriptor, LOCK_UN) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw OutputError(url: url, action: "examine", errorNumber: errno) }
        let regular = status.st_mode & S_IFMT == S_IFREG
        var size = regular ? Int(status.st_size) : 0
        if size > 0 { size = try repairTail(descriptor, size: size, warn: warn) }
        if size > 0 { try checkHeader(descriptor) }

        var text = size == 0 ? CSV.line(Self.header) : ""
        for row in rows { text += CSV.line(row.fields) }
        let bytes = Array(text.utf8)
        let failure = bytes.withUnsafeBytes { Descriptor.writeAll(descriptor, $0, using: write) }
        guard let failure else { return }
        // Roll back: the file keeps its complete rows and none of this batch.
        let rolledBack = failure.written == 0 || (regular && ftruncate(descriptor, off_t(size)) == 0)
        var error = OutputError(url: url, action: "write", errorNumber: failure.errorNumber)
        if failure.written > 0 {
            error.message += rolledBack ? " (after \(failure.written) of \(bytes.count) bytes; the partial rows were removed)"
                                        : " (after \(failure.written) of \(bytes.count) bytes; the file ends inside a row and is repaired on the next append)"
        }
        throw error
    }

    /// Cuts a partial last row off a file of `size` bytes (one that does not end with a newline); returns the new size.
    private func repairTail(_ descriptor: Int32, size: Int, warn: (String) -> Void) throws -> Int {
        var last: UInt8 = 0
        guard pread(descriptor, &last, 1, off_t(size - 1)) == 1 else { throw OutputError(url: url, action: "read", errorNumber: errno) }
        if last == UInt8(ascii: "\n") { return size }
        // Search backwards for the end of the last complete row.
        var end = size
        var keep = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        search: while end > 0 {
            let start = max(0, end - chunk.count)
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, end - start, off_t(start)) }
            guard count == end - start else { throw OutputError(url: url, action: "read", errorNumber: errno) }
            for index in stride(from: count - 1, through: 0, by: -1) where chunk[index] == UInt8(ascii: "\n") {
                keep = start + index + 1
                break search
            }
            end = start
        }
        var dropped = [UInt8](repeating: 0, count: min(size - keep, 300))
        let read = dropped.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(keep)) }
        let text = String(decoding: dropped.prefix(max(read, 0)), as: UTF8.self)
        guard ftruncate(descriptor, off_t(keep)) == 0 else {
            throw OutputError(url: url, action: "repair", errorNumber: errno)
        }
        warn("warning: \(url.path) ended inside a row (a write was cut short); dropped the partial row "
             + "'\(text.debugDescriptionWithoutQuotes)\(size - keep > dropped.count ? "…" : "")' (\(size - keep) bytes) before appending")
        return keep
    }

    /// Refuses to append to a file whose first line is not the errors.csv header.
    private func checkHeader(_ descriptor: Int32) throws {
        let expected = Array(CSV.line(Self.header).utf8)
        var first = [UInt8](repeating: 0, count: expected.count)
        let count = first.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count == expected.count, first == expected else {
            let line = String(decoding: first.prefix(max(count, 0)), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw OutputError(url: url, message: "not an errors.csv (first line '\(line.debugDescriptionWithoutQuotes)', expected '\(Self.header.joined(separator: ","))'); refusing to append to it")
        }
    }

    /// Every row in the file (an absent file has none). A malformed line, or a last row without its line end (a
    /// write cut short), is an error naming the line.
    public func read() throws -> [ErrorRow] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let text = try FileSystem.readText(url)
        if !text.isEmpty, !text.hasSuffix("\n") {
            let line = text.reduce(1) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 }
            throw OutputError(url: url, message: "line \(line): the last row has no line end (a write was cut short); remove it or rerun the cell")
        }
        let table = try CSVTable(parsing: text, url: url)
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
}
