// Deterministic random numbers: SplitMix64 to seed, xoshiro256** to draw; one stream per matrix from one seed.
import Support
// Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2021).

/// xoshiro256**: 256-bit state, period 2^256 − 1; the state is public so a checkpoint can store it.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Equatable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// The generator for stream `stream` of `seed`: distinct streams are seeded by SplitMix64 from seed ⊕ stream.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    public init(state: (UInt64, UInt64, UInt64, UInt64)) { self.state = state }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0; state.3 ^= state.1; state.1 ^= state.2; state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [−a, a).
    public mutating func nextSymmetric(_ a: Double) -> Double { (2 * nextUniform() - 1) * a }

    /// A uniformly random integer in [0, n) without modulo bias (Lemire's method).
    public mutating func nextIndex(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// Fisher–Yates shuffle of 0..<n, reproducible for a given state.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextIndex(below: i + 1)) } }
        return p
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.state.0 == b.state.0 && a.state.1 == b.state.1 && a.state.2 == b.state.2 && a.state.3 == b.state.3
    }
}

@inline(__always) private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
