// The GSL calls of the symmetric eigenproblem: gsl_eigen_symmv (Householder tridiagonalization + implicit
// symmetric QR) and gsl_eigen_symmv_sort, with GSL's matrices and workspace freed on every path.
internal import CGSL

/// Eigenvalues (ascending) and eigenvectors (columns of the returned row-major n×n matrix) of the symmetric
/// row-major matrix `a`. Only the lower triangle is read by GSL.
func gslSymmetricEigen(_ a: [Double], dimension n: Int) throws(EigenError) -> (values: [Double], vectors: [Double]) {
    _ = gslErrorHandlerSwitchedOff
    let failedAllocation = EigenError(message: "GSL could not allocate the workspace of a \(n)×\(n) eigenproblem")
    guard let matrix = gsl_matrix_alloc(n, n) else { throw failedAllocation }
    defer { gsl_matrix_free(matrix) }
    guard let vectors = gsl_matrix_alloc(n, n) else { throw failedAllocation }
    defer { gsl_matrix_free(vectors) }
    guard let values = gsl_vector_alloc(n) else { throw failedAllocation }
    defer { gsl_vector_free(values) }
    guard let workspace = gsl_eigen_symmv_alloc(n) else { throw failedAllocation }
    defer { gsl_eigen_symmv_free(workspace) }
    for i in 0..<n {
        for j in 0..<n { matrix.pointee.data[i * matrix.pointee.tda + j] = a[i * n + j] }
    }
    let solved = GSLStatus(gsl_eigen_symmv(matrix, values, vectors, workspace))
    guard solved.isSuccess else {
        throw EigenError(message: "gsl_eigen_symmv failed on the \(n)×\(n) matrix: GSL: \(solved.message)")
    }
    let sorted = GSLStatus(gsl_eigen_symmv_sort(values, vectors, GSL_EIGEN_SORT_VAL_ASC))
    guard sorted.isSuccess else {
        throw EigenError(message: "gsl_eigen_symmv_sort failed: GSL: \(sorted.message)")
    }
    var lambda = [Double](repeating: 0, count: n)
    var v = [Double](repeating: 0, count: n * n)
    for k in 0..<n {
        lambda[k] = values.pointee.data[k * values.pointee.stride]
        for i in 0..<n { v[i * n + k] = vectors.pointee.data[i * vectors.pointee.tda + k] }
    }
    return (lambda, v)
}
