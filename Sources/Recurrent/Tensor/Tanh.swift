// tanh without a libm call, branch-free so that loops over it vectorise: the reservoir applies it N·B times a step,
// where glibc's tanh (through expm1) costs more than the sparse product itself.
// Reference: S. L. Moshier, Cephes Math Library (tanh.c, exp.c), whose coefficients are used here.

enum FastTanh {
    /// tanh(x) for every Double (±∞ and NaN included; −0 gives +0), within 5u·|tanh x| of the exact value (u = 2⁻⁵³):
    ///
    ///   |x| < 0.625:  tanh x = x + x·z·P(z)/Q(z),  z = x²  (Cephes' rational, relative error ≤ 2.5e−16 ≈ 2.3u;
    ///                 evaluating x·z·P/Q with |z·P/Q| ≤ 0.13 adds ≤ 1.1u·|x|, the final sum u·|x|, and tanh x ≥ 0.88x)
    ///   |x| ≥ 0.625:  tanh |x| = 1 − 2/(e^{2|x|} + 1), e^y = 2ⁿ·(Q + P)/(Q − P) by Cephes' Padé form on
    ///                 r = y − n·ln 2 (≤ 1u), so 2/(e + 1) = 2(Q − P)/(2ⁿ(Q + P) + Q − P): positive terms, each sum
    ///                 and the quotient one rounding, q = 2/(e + 1) ≤ 0.445 within 4u·q; 1 − q rounds once, so the
    ///                 error is ≤ (4·0.445 + 1)u ≤ 2.8u ≤ 5u·tanh|x| (tanh|x| ≥ 0.555); the sign is copied.
    /// Both branches share one division (numerator and denominator selected first). |x| is clamped at 20, where
    /// 2/(e^{40} + 1) < 2⁻⁵⁵ rounds away: the result is ±1 exactly.
    @inline(__always)
    static func tanh(_ x: Double) -> Double {
        let a = Swift.min(x.magnitude, 20)   // NaN stays NaN (min keeps its first argument when unordered)
        // Small |x|: the odd rational.
        let z = x * x
        let p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z - 1.61468768441708447952e3
        let q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z + 4.84406305325125486048e3
        // Large |x|: e^y, y = 2|x| ∈ [1.25, 40], n = round(y / ln 2) by the 1.5·2⁵² shift (exact for |n| < 2⁵¹).
        let y = 2 * a
        let shifter = 6755399441055744.0
        let shifted = y * 1.4426950408889634073599 + shifter
        let n = shifted - shifter
        let r = (y - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6   // y − n·ln 2 (ln 2 in two parts)
        let rr = r * r
        let px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1)
        let qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr
            + 2.00000000000000000009e0
        // 2ⁿ: the shifted value's low bits hold n; adding the exponent bias and moving it to the exponent field.
        let scale = Double(bitPattern: (shifted.bitPattern &+ 1023) << 52)
        let isSmall = a < 0.625
        let numerator = isSmall ? x * (z * p) : 2 * (qx - px)
        let denominator = isSmall ? q : (qx + px) * scale + (qx - px)
        let quotient = numerator / denominator
        return isSmall ? x + quotient : Double(signOf: x, magnitudeOf: 1 - quotient)
    }
}
