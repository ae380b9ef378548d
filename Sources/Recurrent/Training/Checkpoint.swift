// The checkpoint file format: magic, format version, length-prefixed binary sections, FNV-1a 64 checksum;
// atomic writes (temporary file in the same directory, then rename) and reads that reject damaged files.
import Foundation
import Support

/// A model on disk: kind, configuration, flat arrays (weights, optimizer moments, normalisation, …) and strings,
/// with a format version and a checksum. Written atomically; a corrupt or mismatched file is a clear error.
public struct Checkpoint: Sendable {
    public var kind: String
    public var arrays: [String: [Double]]
    public var strings: [String: String]
    /// The file this checkpoint was read from (for error messages); "(in memory)" otherwise.
    public internal(set) var file: String = "(in memory)"
    public init(kind: String, arrays: [String: [Double]], strings: [String: String]) {
        self.kind = kind; self.arrays = arrays; self.strings = strings
    }
}

/// Why a checkpoint could not be read, written or used; always names the file.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        case unreadable(String)
        case unwritable(String)
        case notACheckpoint
        case unsupportedVersion(found: UInt32, supported: UInt32)
        case truncated(expectedBytes: Int, actualBytes: Int)
        case trailingBytes(expectedBytes: Int, actualBytes: Int)
        case checksumMismatch(stored: UInt64, computed: UInt64)
        case malformed(String)
        case wrongKind(expected: String, found: String)
        case missing(String)
        case mismatch(String)
    }
    public var file: String
    public var problem: Problem
    public init(file: String, problem: Problem) { self.file = file; self.problem = problem }

    public var description: String {
        let what: String
        switch problem {
        case .unreadable(let m): what = "cannot be read (\(m))"
        case .unwritable(let m): what = "cannot be written (\(m))"
        case .notACheckpoint: what = "is not an rnnode checkpoint (wrong magic bytes)"
        case .unsupportedVersion(let f, let s): what = "has format version \(f); this build reads version \(s)"
        case .truncated(let e, let a): what = "is truncated: \(a) bytes, the header promises \(e)"
        case .trailingBytes(let e, let a): what = "has \(a - e) unexpected bytes after the end (\(a) bytes, expected \(e))"
        case .checksumMismatch(let s, let c):
            what = "is corrupt: checksum \(String(s, radix: 16)) stored, \(String(c, radix: 16)) computed"
        case .malformed(let m): what = "is malformed: \(m)"
        case .wrongKind(let e, let f): what = "holds a '\(f)', expected a '\(e)'"
        case .missing(let m): what = "lacks \(m)"
        case .mismatch(let m): what = "does not match this run: \(m)"
        }
        return "checkpoint \(file) \(what)"
    }
}

extension Checkpoint {
    /// The first 8 bytes of every checkpoint: 0x89 "RNNCKP" 0x0A (PNG's trick: non-ASCII first byte, newline last).
    static let magic: [UInt8] = [0x89, 0x52, 0x4E, 0x4E, 0x43, 0x4B, 0x50, 0x0A]
    static let formatVersion: UInt32 = 1
    /// magic (8) + version (4) + payload length (8); the checksum (8) follows the payload.
    static let headerBytes = 20

    /// The bytes on disk:
    ///   magic[8] | version u32 | payload length u64 | payload | FNV-1a 64 of everything before it (u64)
    ///   payload = kind (u32 length + UTF-8) | string count u32 | (name, value)* | array count u32 | (name, n u64, n f64)*
    /// Strings and names are u32-length-prefixed UTF-8 (values u64-prefixed); integers and Doubles little-endian;
    /// entries sorted by name so equal checkpoints give equal bytes.
    func encoded() -> [UInt8] {
        var payload = ByteWriter()
        payload.string32(kind)
        payload.u32(UInt32(strings.count))
        for name in strings.keys.sorted() { payload.string32(name); payload.string64(strings[name]!) }
        payload.u32(UInt32(arrays.count))
        for name in arrays.keys.sorted() {
            let values = arrays[name]!
            payload.string32(name)
            payload.u64(UInt64(values.count))
            for v in values { payload.u64(v.bitPattern) }
        }
        var file = ByteWriter()
        file.bytes += Checkpoint.magic
        file.u32(Checkpoint.formatVersion)
        file.u64(UInt64(payload.bytes.count))
        file.bytes += payload.bytes
        file.u64(StableHash.fnv1a64(bytes: file.bytes))
        return file.bytes
    }

    /// Parses bytes written by `encoded()`; every inconsistency is a `CheckpointError` naming `file`.
    static func decode(_ bytes: [UInt8], file: String) throws -> Checkpoint {
        func fail(_ p: CheckpointError.Problem) -> CheckpointError { CheckpointError(file: file, problem: p) }
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { throw fail(.notACheckpoint) }
        guard bytes.count >= headerBytes + 8 else {
            throw fail(.truncated(expectedBytes: headerBytes + 8, actualBytes: bytes.count))
        }
        var header = ByteReader(bytes: bytes, position: magic.count)
        let version = try header.u32().get(), length = try header.u64().get()
        guard version == formatVersion else { throw fail(.unsupportedVersion(found: version, supported: formatVersion)) }
        guard length <= UInt64(Int.max - headerBytes - 8) else { throw fail(.malformed("payload length \(length)")) }
        let expected = headerBytes + Int(length) + 8
        if bytes.count < expected { throw fail(.truncated(expectedBytes: expected, actualBytes: bytes.count)) }
        if bytes.count > expected { throw fail(.trailingBytes(expectedBytes: expected, actualBytes: bytes.count)) }
        var tail = ByteReader(bytes: bytes, position: expected - 8)
        let stored = try tail.u64().get(), computed = StableHash.fnv1a64(bytes: bytes[0..<(expected - 8)])
        guard stored == computed else { throw fail(.checksumMismatch(stored: stored, computed: computed)) }

        var r = ByteReader(bytes: bytes, position: headerBytes, end: expected - 8)
        do {
            let kind = try r.string32().get()
            var strings: [String: String] = [:]
            for _ in 0..<(try r.u32().get()) { strings[try r.string32().get()] = try r.string64().get() }
            var arrays: [String: [Double]] = [:]
            for _ in 0..<(try r.u32().get()) {
                let name = try r.string32().get(), n = try r.u64().get()
                guard n <= UInt64(r.remaining / 8) else { throw ByteReader.Failure("array '\(name)' longer than the file") }
                var values = [Double](repeating: 0, count: Int(n))
                for i in 0..<Int(n) { values[i] = Double(bitPattern: try r.u64().get()) }
                arrays[name] = values
            }
            guard r.remaining == 0 else { throw ByteReader.Failure("\(r.remaining) bytes left after the last section") }
            var checkpoint = Checkpoint(kind: kind, arrays: arrays, strings: strings)
            checkpoint.file = file
            return checkpoint
        } catch let failure as ByteReader.Failure {
            throw fail(.malformed(failure.message))
        }
    }

    /// Writes atomically: the bytes go to a temporary file in the same directory, which is then renamed over `url`.
    public func write(to url: URL) throws {
        let bytes = encoded()
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError(file: url.path, problem: .unwritable(error.localizedDescription))
        }
        if rename(temporary.path, url.path) != 0 {
            let message = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError(file: url.path, problem: .unwritable("rename failed: \(message)"))
        }
    }

    public static func read(from url: URL) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError(file: url.path, problem: .unreadable(error.localizedDescription))
        }
        return try decode([UInt8](data), file: url.path)
    }

    // MARK: Typed access with clear errors

    func requireKind(_ expected: String) throws {
        guard kind == expected else { throw CheckpointError(file: file, problem: .wrongKind(expected: expected, found: kind)) }
    }

    func array(_ name: String, count: Int? = nil) throws -> [Double] {
        guard let a = arrays[name] else { throw CheckpointError(file: file, problem: .missing("array '\(name)'")) }
        if let count, a.count != count {
            throw CheckpointError(file: file, problem: .mismatch("array '\(name)' has \(a.count) values, expected \(count)"))
        }
        return a
    }

    func string(_ name: String) throws -> String {
        guard let s = strings[name] else { throw CheckpointError(file: file, problem: .missing("string '\(name)'")) }
        return s
    }

    func decodeJSON<T: Decodable>(_ type: T.Type, from name: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(try string(name).utf8)) } catch let e as CheckpointError {
            throw e
        } catch {
            throw CheckpointError(file: file, problem: .malformed("'\(name)' is not a valid \(T.self): \(error)"))
        }
    }
}

/// JSON with sorted keys, so equal values give equal strings (configurations are compared as strings).
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

private struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string32(_ s: String) { let u = Array(s.utf8); u32(UInt32(u.count)); bytes += u }
    mutating func string64(_ s: String) { let u = Array(s.utf8); u64(UInt64(u.count)); bytes += u }
}

private struct ByteReader {
    struct Failure: Error { let message: String; init(_ m: String) { message = m } }
    let bytes: [UInt8]
    var position: Int
    var end: Int
    init(bytes: [UInt8], position: Int, end: Int? = nil) { self.bytes = bytes; self.position = position; self.end = end ?? bytes.count }
    var remaining: Int { end - position }

    mutating func take(_ n: Int) -> Result<ArraySlice<UInt8>, Failure> {
        guard n >= 0, n <= remaining else { return .failure(Failure("a field runs past the end of the payload at byte \(position)")) }
        defer { position += n }
        return .success(bytes[position..<(position + n)])
    }
    mutating func u32() -> Result<UInt32, Failure> {
        take(4).map { s in s.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
    }
    mutating func u64() -> Result<UInt64, Failure> {
        take(8).map { s in s.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
    mutating func string32() -> Result<String, Failure> {
        u32().flatMap { n in take(Int(n)) }.flatMap(Self.utf8)
    }
    mutating func string64() -> Result<String, Failure> {
        u64().flatMap { n in n > UInt64(remaining) ? .failure(Failure("a string runs past the end")) : take(Int(n)) }.flatMap(Self.utf8)
    }
    static func utf8(_ s: ArraySlice<UInt8>) -> Result<String, Failure> {
        guard let string = String(validating: s, as: UTF8.self) else { return .failure(Failure("a string is not valid UTF-8")) }
        return .success(string)
    }
}
