// Stable hashes for cache keys (compiled right-hand sides, datasets, trained models).

/// Stable (process- and platform-independent) hashes for cache keys; Swift's `Hasher` is randomly seeded per run.
public enum StableHash {
    /// 64-bit FNV-1a over the UTF-8 bytes.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// 16 hex digits of `fnv1a64`.
    public static func hex(_ text: String) -> String {
        let value = fnv1a64(text)
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
