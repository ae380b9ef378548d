// Seeded randomness for experiments: SplitMix64, and independent named streams derived from one seed so that,
// e.g., the test trajectories do not change when the number of training trajectories does.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// z ← (s += 0x9E3779B97F4A7C15); z = (z ⊕ z≫30)·0xBF58476D1CE4E5B9; z = (z ⊕ z≫27)·0x94D049BB133111EB; z ⊕ z≫31
    /// (Steele, Lea & Flood 2014, as in java.util.SplittableRandom).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for the named stream `name` of `seed`: independent of the other names.
    public static func stream(_ name: String, seed: UInt64) -> SplitMix64 {
        SplitMix64(seed: seed ^ StableHash.fnv1a64(name))
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

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
