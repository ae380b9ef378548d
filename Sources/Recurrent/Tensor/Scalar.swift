// The two arithmetic precisions the BPTT nets run in: what a scalar type must provide (its BLAS routines and its
// vectorised eˣ) for the generic workspaces, cells and kernels, and the public choice between them.

/// Double (the default, and what gradient checks use) or Float (about twice the GEMM rate and half the memory).
public enum Precision: String, CaseIterable, Codable, Sendable {
    case double, single

    /// Unit roundoff u = 2⁻ᵖ (p: significand bits): 2⁻⁵³ for Double, 2⁻²⁴ for Float.
    public var unitRoundoff: Double { self == .double ? 0x1p-53 : 0x1p-24 }
}

/// A floating-point type the recurrent kernels are instantiated for (Double and Float). Every generic kernel is
/// specialised for both inside this module, so the Double path runs the same operations as before, bit for bit.
protocol RecurrentScalar: BinaryFloatingPoint, SIMDScalar, Sendable where Self.RawSignificand: FixedWidthInteger {
    static var precision: Precision { get }

    // MARK: BLAS (row-major, in BLAS.swift)

    /// C ← α·op(A)·op(B) + β·C through cblas_?gemm.
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
                     beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    /// y ← α·x + y through cblas_?axpy.
    static func axpy(count: Int, alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    /// x ← α·x through cblas_?scal.
    static func scal(count: Int, alpha: Self, _ x: UnsafeMutablePointer<Self>)
    /// Σ xᵢ yᵢ through cblas_?dot.
    static func dot(count: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self

    // MARK: Activations (in Activations.swift)

    /// eˣ, σ and tanh without library calls, within a few ulp of libm over the type's range.
    static func exponential(_ x: Self) -> Self
    static func exponential(_ x: SIMD8<Self>) -> SIMD8<Self>
    static func sigmoid(_ x: SIMD8<Self>) -> SIMD8<Self>
    static func hyperbolicTangent(_ x: Self) -> Self
    static func hyperbolicTangent(_ x: SIMD8<Self>) -> SIMD8<Self>
}

extension Double: RecurrentScalar { static var precision: Precision { .double } }
extension Float: RecurrentScalar { static var precision: Precision { .single } }
