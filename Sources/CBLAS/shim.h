// OpenBLAS's CBLAS interface for the Recurrent module, plus LAPACK through LAPACKE (liblapacke-dev): LAPACKE's C
// prototypes pass Fortran's hidden string-length arguments for us, which hand-declared `dposv_` prototypes omit.
#ifndef RNNODE_CBLAS_SHIM_H
#define RNNODE_CBLAS_SHIM_H

#include <cblas.h>
#include <lapacke.h>

#endif
