// OpenBLAS's CBLAS interface for the Recurrent module, plus the few LAPACK routines it needs,
// declared with their Fortran calling convention (OpenBLAS exports them; no LAPACKE needed).
#ifndef RNNODE_CBLAS_SHIM_H
#define RNNODE_CBLAS_SHIM_H

#include <cblas.h>

/// Cholesky solve of A X = B for symmetric positive definite A (column-major).
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info);
/// Linear solve A X = B with LU and partial pivoting (column-major).
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
            double *b, const int *ldb, int *info);
/// Eigenvalues (and vectors) of a real symmetric matrix (column-major).
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info);
/// Eigenvalues of a real general matrix (column-major): wr + i wi.
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda,
            double *wr, double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr,
            double *work, const int *lwork, int *info);

#endif
