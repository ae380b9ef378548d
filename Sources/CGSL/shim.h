// GSL headers for the Reference module, plus static-inline accessors for GSL's global
// stepper-type pointers (Swift 6 rejects the mutable C globals as not concurrency-safe).
#ifndef RNNODE_CGSL_SHIM_H
#define RNNODE_CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_version.h>

static inline const gsl_odeiv2_step_type *rnnode_step_rk2(void)     { return gsl_odeiv2_step_rk2; }
static inline const gsl_odeiv2_step_type *rnnode_step_rk4(void)     { return gsl_odeiv2_step_rk4; }
static inline const gsl_odeiv2_step_type *rnnode_step_rkf45(void)   { return gsl_odeiv2_step_rkf45; }
static inline const gsl_odeiv2_step_type *rnnode_step_rkck(void)    { return gsl_odeiv2_step_rkck; }
static inline const gsl_odeiv2_step_type *rnnode_step_rk8pd(void)   { return gsl_odeiv2_step_rk8pd; }
static inline const gsl_odeiv2_step_type *rnnode_step_rk1imp(void)  { return gsl_odeiv2_step_rk1imp; }
static inline const gsl_odeiv2_step_type *rnnode_step_rk2imp(void)  { return gsl_odeiv2_step_rk2imp; }
static inline const gsl_odeiv2_step_type *rnnode_step_rk4imp(void)  { return gsl_odeiv2_step_rk4imp; }
static inline const gsl_odeiv2_step_type *rnnode_step_bsimp(void)   { return gsl_odeiv2_step_bsimp; }
static inline const gsl_odeiv2_step_type *rnnode_step_msadams(void) { return gsl_odeiv2_step_msadams; }
static inline const gsl_odeiv2_step_type *rnnode_step_msbdf(void)   { return gsl_odeiv2_step_msbdf; }

static inline const char *rnnode_gsl_version(void) { return gsl_version; }

#endif
