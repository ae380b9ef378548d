/* The C side of the reference benchmark: Lorenz-63 with a hand-written right-hand side, integrated by GSL's
 * rk8pd driver with rtol = atol = 1e-10 from t = 0 to T_END (default 1000), writing t,x,y,z every 0.01 as CSV.
 * Same settings as `rnnode reference lorenz` (initial step 1e-6, y-control). Reference: Lorenz (1963),
 * J. Atmos. Sci. 20, 130; GSL manual, "Ordinary Differential Equations".
 *
 * usage: gsl_lorenz [OUT.csv|-|none] [T_END]      (none: integrate only, format nothing)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

struct lorenz_parameters { double sigma, rho, beta; };

/* x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz */
static int lorenz(double t, const double y[], double dydt[], void *params)
{
    const struct lorenz_parameters *p = params;
    (void) t;
    dydt[0] = p->sigma * (y[1] - y[0]);
    dydt[1] = y[0] * (p->rho - y[2]) - y[1];
    dydt[2] = y[0] * y[1] - p->beta * y[2];
    return GSL_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "-";
    const double t_end = argc > 2 ? atof(argv[2]) : 1000.0;
    const double output_step = 0.01;
    const int quiet = strcmp(path, "none") == 0;
    FILE *out = quiet ? NULL : strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (out == NULL && !quiet) { perror(path); return 1; }

    gsl_set_error_handler_off();
    struct lorenz_parameters p = { 10.0, 28.0, 8.0 / 3.0 };
    gsl_odeiv2_system system = { lorenz, NULL, 3, &p };
    gsl_odeiv2_driver *driver = gsl_odeiv2_driver_alloc_y_new(&system, gsl_odeiv2_step_rk8pd, 1e-6, 1e-10, 1e-10);
    if (driver == NULL) { fprintf(stderr, "cannot allocate the GSL driver\n"); return 1; }

    double y[3] = { 1.0, 1.0, 1.0 };
    double t = 0.0;
    long outputs = (long) (t_end / output_step + 1e-9);
    if (out) fprintf(out, "t,x,y,z\n%.17g,%.17g,%.17g,%.17g\n", t, y[0], y[1], y[2]);
    int status = GSL_SUCCESS;
    for (long k = 1; k <= outputs; k++) {
        const double target = k * output_step;
        status = gsl_odeiv2_driver_apply(driver, &t, target, y);
        if (status != GSL_SUCCESS) {
            fprintf(stderr, "GSL failed at t = %g: %s\n", t, gsl_strerror(status));
            break;
        }
        if (out) fprintf(out, "%.17g,%.17g,%.17g,%.17g\n", t, y[0], y[1], y[2]);
    }
    fprintf(stderr, "gsl_lorenz: %lu steps, %ld outputs to t = %g\n", driver->e->count, outputs + 1, t);
    gsl_odeiv2_driver_free(driver);
    if (out != NULL && out != stdout) fclose(out);
    return status == GSL_SUCCESS ? 0 : 1;
}
