// Stable hashes for cache keys and checksums (compiled right-hand sides, datasets, trained models, checkpoints).

/// Stable (process- and platform-independent) hashes; Swift's `Hasher` is randomly seeded per run.
/// Checksums against accidental change only: a cache that must resist a deliberate collision compares the full key.
public enum StableHash {
    /// 64-bit FNV-1a: h ← (h ⊕ byte) · 0x100000001B3 from offset basis 0xCBF29CE484222325.
    public static func fnv1a64<Bytes: Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// FNV-1a's rounds over 64-bit words instead of bytes (one round per word): a fingerprint of many doubles
    /// by their bit patterns, eight times faster than over their bytes. Not the byte-wise FNV-1a value.
    public static func fnv1a64<Words: Sequence>(words: Words, continuing hash: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64
        where Words.Element == UInt64 {
        var hash = hash
        for word in words { hash = (hash ^ word) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// 64-bit FNV-1a over the UTF-8 bytes.
    public static func fnv1a64(_ text: String) -> UInt64 { fnv1a64(bytes: text.utf8) }

    /// 16 hex digits of `fnv1a64`.
    public static func hex(_ text: String) -> String { hex(fnv1a64(text)) }

    /// A 64-bit value as 16 hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
