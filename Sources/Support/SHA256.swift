// SHA-256 (FIPS 180-4) from OpenSSL's libcrypto: the collision-resistant hash, for keys and checksums that must
// not be forgeable (the native-code cache).
import COpenSSL

/// SHA-256, fed incrementally, through OpenSSL's EVP interface. Checked against the FIPS example vectors in
/// SupportTests. (libcrypto is on every Debian machine with libssl-dev; swift-crypto would compile BoringSSL on
/// every CI run for one hash.)
public struct SHA256: @unchecked Sendable {
    /// The digest context; a value of this type is used by one thread at a time, like any mutable struct.
    private final class Context {
        let pointer: OpaquePointer
        init() {
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("OpenSSL could not set up a SHA-256 context")
            }
            pointer = context
        }
        deinit { EVP_MD_CTX_free(pointer) }
    }

    private let context = Context()

    public init() {}

    /// The digest of `bytes` in one call.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The digest of the UTF-8 bytes of `text` as 64 lowercase hex digits.
    public static func hex(_ text: String) -> String { hex(digest: hash(Array(text.utf8))) }

    /// A digest as lowercase hex digits.
    public static func hex(digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(EVP_DigestUpdate(context.pointer, base, bytes.count) == 1, "OpenSSL SHA-256 update failed")
    }

    /// The 32-byte digest of everything fed so far; the value is spent afterwards.
    public mutating func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context.pointer, &digest, &length) == 1 && length == 32, "OpenSSL SHA-256 final failed")
        return digest
    }
}
