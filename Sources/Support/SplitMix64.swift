// The one seeded generator of the package (cache keys and seeds are stable across runs and platforms).
import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator with a fixed sequence on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// Standard normal by Box–Muller (one of the pair; simple and reproducible).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), 0x1.0p-60), u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
