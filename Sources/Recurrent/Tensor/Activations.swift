// Activations used by the cells' pointwise loops, scalar and on 8-lane vectors (the same operations in the same
// order, so both give the same bits), in Double and Float, and small row/column helpers for bias handling.
import Foundation

// The generic entry points are `@_transparent`, inlined before specialisation, so each cell's kernel becomes one
// function per scalar type with the activations inside.

/// eˣ (Double's or Float's kernel below).
@_transparent func exponential<Scalar: RecurrentScalar>(_ x: Scalar) -> Scalar { Scalar.exponential(x) }

extension Double {
/// eˣ, inlined so the cells' pointwise loops make no library calls: x = n·ln2 + r with |r| ≤ ln2/2
/// (Cody–Waite split of ln2), eʳ by its Taylor polynomial to degree 13 (truncation < 4e-18), times 2ⁿ built
/// from the exponent bits. Within 2 ulp of libm on [−708, 709]; clamped outside (e⁻⁷⁰⁸ ≈ 3e−308, e⁷⁰⁹ ≈ 8e307).
@inline(__always) static func exponential(_ x: Double) -> Double {
    let x = min(max(x, -708), 709)
    let shifter = 0x1.8p52                                   // adding it rounds to an integer (|v| < 2⁵¹)
    let n = (x * 1.4426950408889634 + shifter) - shifter     // round(x / ln2)
    let r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10   // ln2 = hi + lo
    var p = 1.0 / 6227020800                                 // 1/13!
    p = p * r + 1.0 / 479001600
    p = p * r + 1.0 / 39916800
    p = p * r + 1.0 / 3628800
    p = p * r + 1.0 / 362880
    p = p * r + 1.0 / 40320
    p = p * r + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    // 2ⁿ: the low bits of (v + shifter) hold n, so its bit pattern minus the shifter's is n (integer lanes only,
    // which keeps loops over this function vectorisable)
    let exponentBits = ((x * 1.4426950408889634 + shifter).bitPattern &- shifter.bitPattern &+ 1023) << 52
    return p * Double(bitPattern: exponentBits)
}
}

/// σ(x) = 1 / (1 + e⁻ˣ).
@_transparent func sigmoid<Scalar: RecurrentScalar>(_ x: Scalar) -> Scalar { 1 / (1 + exponential(-x)) }

/// tanh x (Double's or Float's kernel below).
@_transparent func hyperbolicTangent<Scalar: RecurrentScalar>(_ x: Scalar) -> Scalar { Scalar.hyperbolicTangent(x) }

extension Double {
/// tanh x: for |x| ≥ 0.625, (e²ˣ − 1) / (e²ˣ + 1); below, x + x³·P(x²)/Q(x²), the rational approximation of
/// Cephes' tanh.c (S. Moshier), which keeps the relative accuracy near 0. Both numerators and denominators are
/// formed and one quotient taken, so loops over this function have no branches and one division per entry.
@inline(__always) static func hyperbolicTangent(_ x: Double) -> Double {
    let z = abs(x)
    let e = exponential(2 * z)
    let s = z * z
    let p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3
    let q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3
    let large = z >= 0.625
    let t = (large ? e - 1 : z * q + z * s * p) / (large ? e + 1 : q)
    return x < 0 ? -t : t
}
}

// MARK: Vectors of 8 lanes

/// Eight Doubles (or Floats): the cells' pointwise kernels run on these, so eight independent chains of the
/// activations' polynomials and divisions are in flight at once (a scalar loop leaves it to the auto-vectoriser).
typealias Lanes<Scalar: SIMDScalar> = SIMD8<Scalar>

/// 8 entries from `p` (any alignment).
@_transparent func loadLanes<Scalar: RecurrentScalar>(_ p: UnsafePointer<Scalar>) -> Lanes<Scalar> {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes<Scalar>.self)
}

/// 8 entries to `p` (any alignment).
@_transparent func storeLanes<Scalar: RecurrentScalar>(_ v: Lanes<Scalar>, _ p: UnsafeMutablePointer<Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes<Scalar>.self)
}

/// eˣ lane by lane.
@_transparent func exponential<Scalar: RecurrentScalar>(_ x: Lanes<Scalar>) -> Lanes<Scalar> { Scalar.exponential(x) }

extension Double {
/// eˣ lane by lane: the scalar `exponential`'s operations in the same order (NaN stays NaN, as there).
@inline(__always) static func exponential(_ x: Lanes<Double>) -> Lanes<Double> {
    typealias Lanes = SIMD8<Double>
    let low = Lanes(repeating: -708), high = Lanes(repeating: 709)
    let x = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    let shifter = 0x1.8p52
    let shifted = x * 1.4426950408889634 + shifter
    let n = shifted - shifter
    let r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10
    var p = Lanes(repeating: 1.0 / 6227020800)
    p = p * r + 1.0 / 479001600
    p = p * r + 1.0 / 39916800
    p = p * r + 1.0 / 3628800
    p = p * r + 1.0 / 362880
    p = p * r + 1.0 / 40320
    p = p * r + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int64>.self) &- Int64(bitPattern: shifter.bitPattern) &+ 1023) &<< 52
    return p * unsafeBitCast(bits, to: Lanes.self)
}

}

extension Float {
/// eˣ in Float (Cephes' expf, S. Moshier): x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), eʳ as
/// 1 + r + r²·P(r) with P of degree 5, times 2ⁿ built from the exponent bits; clamped to [−87, 88] (e⁻⁸⁷ ≈ 1.6e−38,
/// e⁸⁸ ≈ 1.7e38). Within 2 ulp of libm's expf there.
@inline(__always) static func exponential(_ x: Float) -> Float {
    let x = min(max(x, -87), 88)
    let shifter: Float = 0x1.8p23                                   // adding it rounds to an integer (|v| < 2²²)
    let shifted = x * 1.44269504088896341 + shifter
    let n = shifted - shifter                                       // round(x / ln2)
    let r = (x - n * 0.693359375) - n * -2.12194440e-4              // ln2 = hi + lo
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let exponentBits = (shifted.bitPattern &- shifter.bitPattern &+ 127) << 23
    return p * Float(bitPattern: exponentBits)
}

/// eˣ lane by lane: the scalar Float `exponential`'s operations in the same order.
@inline(__always) static func exponential(_ x: Lanes<Float>) -> Lanes<Float> {
    typealias Lanes = SIMD8<Float>
    let low = Lanes(repeating: -87), high = Lanes(repeating: 88)
    let x = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    let shifter: Float = 0x1.8p23
    let shifted = x * 1.44269504088896341 + shifter
    let n = shifted - shifter
    let r = (x - n * 0.693359375) - n * -2.12194440e-4
    var p = Lanes(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: shifter.bitPattern) &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: Lanes.self)
}

}

/// σ(x) lane by lane.
@_transparent func sigmoid<Scalar: RecurrentScalar>(_ x: Lanes<Scalar>) -> Lanes<Scalar> { Scalar.sigmoid(x) }

/// tanh x lane by lane, as the scalar `hyperbolicTangent`.
@_transparent func hyperbolicTangent<Scalar: RecurrentScalar>(_ x: Lanes<Scalar>) -> Lanes<Scalar> { Scalar.hyperbolicTangent(x) }

// The lane kernels are written for each concrete type: there the SIMD operators are the standard library's
// concrete vector instructions (in generic code they are per-lane loops, about 40 % slower in an LSTM step).
extension Double {
@inline(__always) static func sigmoid(_ x: Lanes<Double>) -> Lanes<Double> { 1 / (1 + exponential(-x)) }

/// tanh x lane by lane, as the scalar `hyperbolicTangent` (|x| by clearing the sign bit, as `abs` does).
@inline(__always) static func hyperbolicTangent(_ x: Lanes<Double>) -> Lanes<Double> {
    typealias Lanes = SIMD8<Double>
    let z = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF, to: Lanes.self)
    let e = exponential(2 * z)
    let s = z * z
    let p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3
    let q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3
    let large = z .>= 0.625
    let t = (z * q + z * s * p).replacing(with: e - 1, where: large) / q.replacing(with: e + 1, where: large)
    return t.replacing(with: -t, where: x .< 0)
}
}

extension Float {
@inline(__always) static func sigmoid(_ x: Lanes<Float>) -> Lanes<Float> { 1 / (1 + exponential(-x)) }

/// tanh x in Float (Cephes' tanhf): for |x| ≥ 0.625, 1 − 2 / (e²ˣ + 1); below, x + x³·P(x²) with P of degree 4.
/// Both are formed and one chosen, so loops have no branches.
@inline(__always) static func hyperbolicTangent(_ x: Float) -> Float {
    let z = abs(x)
    let large = 1 - 2 / (exponential(2 * z) + 1)
    let s = x * x
    var p: Float = -5.70498872745e-3
    p = p * s + 2.06390887954e-2
    p = p * s - 5.37397155531e-2
    p = p * s + 1.33314422036e-1
    p = p * s - 3.33332819422e-1
    let small = p * s * x + x
    return z >= 0.625 ? (x < 0 ? -large : large) : small
}

/// tanh x lane by lane, as the scalar Float `hyperbolicTangent`.
@inline(__always) static func hyperbolicTangent(_ x: Lanes<Float>) -> Lanes<Float> {
    let z = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Lanes<Float>.self)
    let large = 1 - 2 / (exponential(2 * z) + 1)
    let s = x * x
    var p = Lanes<Float>(repeating: -5.70498872745e-3)
    p = p * s + 2.06390887954e-2
    p = p * s - 5.37397155531e-2
    p = p * s + 1.33314422036e-1
    p = p * s - 3.33332819422e-1
    let small = p * s * x + x
    return small.replacing(with: large.replacing(with: -large, where: x .< 0), where: z .>= 0.625)
}
}

// MARK: Whole arrays

/// x ← σ(x) over `count` entries, 8 at a time.
@inline(__always) func applySigmoid<Scalar: RecurrentScalar>(_ x: UnsafeMutablePointer<Scalar>, count n: Int) {
    var k = 0
    while k + 8 <= n { storeLanes(sigmoid(loadLanes(x + k)), x + k); k += 8 }
    while k < n { x[k] = sigmoid(x[k]); k += 1 }
}

/// y ← tanh(x) over `count` entries, 8 at a time (x and y may be the same).
@inline(__always) func applyTanh<Scalar: RecurrentScalar>(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, count n: Int) {
    var k = 0
    while k + 8 <= n { storeLanes(hyperbolicTangent(loadLanes(x + k)), y + k); k += 8 }
    while k < n { y[k] = hyperbolicTangent(x[k]); k += 1 }
}

/// Every row of the (rows, columns) matrix `m` ← `row` (a bias broadcast before a GEMM with β = 1).
@inline(__always) func broadcastRows<Scalar>(_ row: UnsafePointer<Scalar>, into m: MutableMatrixRef<Scalar>) {
    for i in 0..<m.rows { (m.base + i * m.columns).update(from: row, count: m.columns) }
}

/// sums[j] += Σᵢ m[i, j]: the bias gradient of a (rows, columns) matrix of pre-activation gradients.
@inline(__always) func accumulateColumnSums<Scalar: RecurrentScalar>(_ m: MatrixRef<Scalar>, into sums: UnsafeMutablePointer<Scalar>) {
    for i in 0..<m.rows {
        let r = m.base + i * m.columns
        for j in 0..<m.columns { sums[j] += r[j] }
    }
}
