// The only file that calls OpenBLAS (cblas_*) and LAPACK: thin wrappers over row-major views, each with its
// shape preconditions checked before the call (Surge's habit), plus the s/d dispatch of the
// generic kernels, thread control and a dgemm/sgemm peak probe.
internal import CBLAS
import Foundation

enum BLAS {
    // MARK: Level 3

    /// C ← α·op(A)·op(B) + β·C, op(X) = X or Xᵀ.  Shapes: op(A) (m, k), op(B) (k, n), C (m, n).
    @inline(__always)
    static func gemm<Scalar: RecurrentScalar>(_ a: MatrixRef<Scalar>, transposeA ta: Bool = false, _ b: MatrixRef<Scalar>,
                                              transposeB tb: Bool = false, into c: MutableMatrixRef<Scalar>,
                                              alpha: Scalar = 1, beta: Scalar) {
        let m = ta ? a.columns : a.rows, k = ta ? a.rows : a.columns
        let kb = tb ? b.columns : b.rows, n = tb ? b.rows : b.columns
        precondition(k == kb && c.rows == m && c.columns == n,
                     "gemm shapes: op(A) \(m)×\(k), op(B) \(kb)×\(n), C \(c.rows)×\(c.columns)")
        if m == 0 || n == 0 { return }
        if k == 0 { scale(c.base, count: m * n, by: beta); return }
        let clock = GemmClock.enabled ? DispatchTime.now().uptimeNanoseconds : 0
        defer { if GemmClock.enabled { GemmClock.add(DispatchTime.now().uptimeNanoseconds &- clock) } }
        Scalar.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha, a.base, max(a.columns, 1),
                    b.base, max(b.columns, 1), beta: beta, c.base, max(c.columns, 1))
    }

    // MARK: Level 2

    /// y ← α·op(A)·x + β·y.  Shapes: op(A) (m, n), x (n), y (m).
    @inline(__always)
    static func gemv(_ a: MatrixRef<Double>, transposeA ta: Bool = false, _ x: UnsafePointer<Double>, count n: Int,
                     into y: UnsafeMutablePointer<Double>, count m: Int, alpha: Double = 1, beta: Double) {
        precondition((ta ? a.columns : a.rows) == m && (ta ? a.rows : a.columns) == n,
                     "gemv shapes: A \(a.rows)×\(a.columns)\(ta ? "ᵀ" : ""), x \(n), y \(m)")
        if a.rows == 0 || a.columns == 0 { scale(y, count: m, by: beta); return }
        cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, Int32(a.rows), Int32(a.columns), alpha,
                    a.base, Int32(a.columns), x, 1, beta, y, 1)
    }

    // MARK: Level 1

    /// y ← α·x + y over `count` entries.
    @inline(__always)
    static func axpy<Scalar: RecurrentScalar>(_ alpha: Scalar, _ x: UnsafePointer<Scalar>, _ y: UnsafeMutablePointer<Scalar>,
                                              count: Int) {
        precondition(count >= 0)
        Scalar.axpy(count: count, alpha: alpha, x, y)
    }

    /// x ← α·x (β = 0 clears, so NaN in x does not survive).
    @inline(__always)
    static func scale<Scalar: RecurrentScalar>(_ x: UnsafeMutablePointer<Scalar>, count: Int, by alpha: Scalar) {
        precondition(count >= 0)
        if alpha == 0 { x.update(repeating: 0, count: count) } else { Scalar.scal(count: count, alpha: alpha, x) }
    }

    /// Σ xᵢ yᵢ.
    @inline(__always)
    static func dot<Scalar: RecurrentScalar>(_ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, count: Int) -> Scalar {
        precondition(count >= 0)
        return Scalar.dot(count: count, x, y)
    }

    // MARK: LAPACK

    /// Solves A X = B for symmetric positive definite A (n, n) by Cholesky (LAPACKE_dposv). Column-major storage:
    /// A is overwritten by its factor, B (n, nrhs) by X. Returns LAPACK's info (0: success, i > 0: the leading
    /// minor of order i is not positive definite, i < 0: argument −i rejected).
    static func choleskySolve(_ a: UnsafeMutablePointer<Double>, order n: Int,
                              _ b: UnsafeMutablePointer<Double>, rightHandSides nrhs: Int) -> Int {
        precondition(n > 0 && nrhs > 0 && n <= Int(Int32.max) && nrhs <= Int(Int32.max), "dposv shapes: n \(n), nrhs \(nrhs)")
        let n32 = Int32(n)
        return Int(LAPACKE_dposv(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), n32, Int32(nrhs), a, n32, b, n32))
    }

    /// Eigen-decomposition A = V diag(μ) Vᵀ of a symmetric (n, n) matrix (LAPACKE_dsyevd, lower triangle read):
    /// `a` is overwritten by the orthonormal eigenvectors (column-major), `mu` receives the n eigenvalues in
    /// ascending order. Returns LAPACK's info (0: success).
    static func symmetricEigen(_ a: UnsafeMutablePointer<Double>, order n: Int, values mu: UnsafeMutablePointer<Double>) -> Int {
        precondition(n > 0 && n <= Int(Int32.max), "dsyevd order \(n)")
        let n32 = Int32(n)
        return Int(LAPACKE_dsyevd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), n32, a, n32, mu))
    }

    /// Eigenvalues wr + i·wi of a general square matrix (LAPACKE_dgeev, no vectors; LAPACKE sizes the workspace).
    /// `a` (n, n) is destroyed (row- or column-major alike: Aᵀ has the same eigenvalues). Returns info (0: success).
    static func eigenvalues(_ a: UnsafeMutablePointer<Double>, order n: Int,
                            real wr: UnsafeMutablePointer<Double>, imaginary wi: UnsafeMutablePointer<Double>) -> Int {
        precondition(n > 0 && n <= Int(Int32.max), "dgeev order \(n)")
        let none = CChar(UInt8(ascii: "N")), n32 = Int32(n)
        var left = 0.0, right = 0.0   // not referenced with jobvl = jobvr = 'N'; leading dimension 1
        return Int(LAPACKE_dgeev(LAPACK_COL_MAJOR, none, none, n32, a, n32, wr, wi, &left, 1, &right, 1))
    }

    /// Eigenvalues wr + i·wi of the column-major (n, n) `a` (overwritten) and, where `left`/`right` are given,
    /// its unit left/right eigenvectors as (n, n) column-major matrices (LAPACK dgeev's layout).
    static func eigenvectors(_ a: UnsafeMutablePointer<Double>, order n: Int, real wr: UnsafeMutablePointer<Double>,
                             imaginary wi: UnsafeMutablePointer<Double>, left vl: UnsafeMutablePointer<Double>?,
                             right vr: UnsafeMutablePointer<Double>?) -> Int {
        precondition(n > 0 && n <= Int(Int32.max), "dgeev order \(n)")
        let n32 = Int32(n)
        func job(_ p: UnsafeMutablePointer<Double>?) -> CChar { CChar(UInt8(ascii: p == nil ? "N" : "V")) }
        var unusedLeft = 0.0, unusedRight = 0.0   // not referenced with job 'N'; leading dimension 1
        return withUnsafeMutablePointer(to: &unusedLeft) { ul in
            withUnsafeMutablePointer(to: &unusedRight) { ur in
                Int(LAPACKE_dgeev(LAPACK_COL_MAJOR, job(vl), job(vr), n32, a, n32, wr, wi, vl ?? ul, vl == nil ? 1 : n32,
                                  vr ?? ur, vr == nil ? 1 : n32))
            }
        }
    }

    // MARK: Threads

    /// The default thread count, applied once: a `static let` initialiser runs exactly once, thread-safely
    /// (swift_once), however many threads reach it first.
    private static let defaultThreadsApplied: Void = {
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { openblas_set_num_threads(1) }
    }()

    /// Sets OpenBLAS to one thread on first use unless OPENBLAS_NUM_THREADS chose otherwise: the matrices of a
    /// training step are small and threading overhead dominates. A later `setThreads` wins over this default.
    static func configureOnce() { _ = defaultThreadsApplied }

    static func setThreads(_ n: Int) {
        precondition(n >= 1 && n <= Int(Int32.max), "thread count \(n)")
        configureOnce()
        openblas_set_num_threads(Int32(n))
    }

    static var threads: Int { Int(openblas_get_num_threads()) }

    /// One OpenBLAS thread, for callers that run BLAS on several threads of their own (data-parallel training).
    static func useOneThread() {
        configureOnce()
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
    static var configuration: String { String(cString: openblas_get_config()) }
}

// MARK: The s/d dispatch

extension Double {
    @inline(__always)
    static func gemm(transposeA ta: Bool, transposeB tb: Bool, m: Int, n: Int, k: Int, alpha: Double,
                     _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                     beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always)
    static func axpy(count: Int, alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(count), alpha, x, 1, y, 1)
    }
    @inline(__always)
    static func scal(count: Int, alpha: Double, _ x: UnsafeMutablePointer<Double>) { cblas_dscal(Int32(count), alpha, x, 1) }
    @inline(__always)
    static func dot(count: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double { cblas_ddot(Int32(count), x, 1, y, 1) }
}

extension Float {
    @inline(__always)
    static func gemm(transposeA ta: Bool, transposeB tb: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always)
    static func axpy(count: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }
    @inline(__always)
    static func scal(count: Int, alpha: Float, _ x: UnsafeMutablePointer<Float>) { cblas_sscal(Int32(count), alpha, x, 1) }
    @inline(__always)
    static func dot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float { cblas_sdot(Int32(count), x, 1, y, 1) }
}

/// Wall time spent inside `BLAS.gemm`, summed over threads, while enabled (for `rnnode bench train`). Each thread
/// adds to its own counter (found through a thread-specific key), so timing adds no contention between threads.
enum GemmClock {
    /// Set only while no BLAS work is running.
    nonisolated(unsafe) static var enabled = false
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counters: [UnsafeMutablePointer<UInt64>] = []
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static func add(_ nanoseconds: UInt64) {
        if let counter = pthread_getspecific(key) {
            counter.assumingMemoryBound(to: UInt64.self).pointee &+= nanoseconds
            return
        }
        let counter = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)   // one per thread, kept for the process
        counter.initialize(to: nanoseconds)
        lock.withLock { counters.append(counter) }
        pthread_setspecific(key, counter)
    }

    /// Seconds in GEMMs on all threads since the last `reset` (read with no BLAS work running).
    static var seconds: Double { lock.withLock { Double(counters.reduce(0) { $0 &+ $1.pointee }) * 1e-9 } }
    static func reset() { lock.withLock { for c in counters { c.pointee = 0 } } }
}

/// OpenBLAS controls for callers outside this module (benchmarks, the CLI).
public enum LinearAlgebra {
    /// The number of OpenBLAS threads (default 1 for this module's small matrices).
    public static var threads: Int {
        get { BLAS.configureOnce(); return BLAS.threads }
        set { BLAS.setThreads(newValue) }
    }

    /// Runs `body` with the time inside GEMMs clocked on every thread; returns its result and those seconds.
    public static func timingGEMMs<Result>(_ body: () -> Result) -> (result: Result, gemmSeconds: Double) {
        GemmClock.reset(); GemmClock.enabled = true
        let result = body()
        GemmClock.enabled = false
        return (result, GemmClock.seconds)
    }

    /// OpenBLAS's build description (version, kernel, threading).
    public static var libraryDescription: String { BLAS.configuration }

    /// Measured dgemm (or, for `.single`, sgemm) rate in GFLOP/s on square matrices of `size` with the current
    /// thread count: the best of `repetitions` products C = A·B (2·n³ floating-point operations each).
    public static func gemmGigaflops(size n: Int = 1024, repetitions: Int = 5, precision: Precision = .double) -> Double {
        switch precision {
        case .double: gemmGigaflops(Double.self, size: n, repetitions: repetitions)
        case .single: gemmGigaflops(Float.self, size: n, repetitions: repetitions)
        }
    }

    private static func gemmGigaflops<Scalar: RecurrentScalar>(_: Scalar.Type, size n: Int, repetitions: Int) -> Double {
        BLAS.configureOnce()
        let a = Buffer<Scalar>(count: n * n), b = Buffer<Scalar>(count: n * n), c = Buffer<Scalar>(count: n * n)
        var rng = Xoshiro256StarStar(seed: 1)
        for i in 0..<(n * n) { a.base[i] = Scalar(rng.nextSymmetric(1)); b.base[i] = Scalar(rng.nextSymmetric(1)) }
        var best = Double.infinity
        for _ in 0..<max(repetitions, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(a.matrix(rows: n, columns: n).readOnly, b.matrix(rows: n, columns: n).readOnly,
                      into: c.matrix(rows: n, columns: n), beta: 0)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return 2 * Double(n) * Double(n) * Double(n) / best * 1e-9
    }
}
