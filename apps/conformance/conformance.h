/* Kernel conformance: each op family has a suite that runs its kernels on the
 * context's device and compares them with the plain-C double-precision
 * reference (ref_ops.h) or with finite differences of it (ref_grad.h). The
 * cmocka tests and the sphere-conformance app run the same suites. */
#ifndef SC_CONFORMANCE_H
#define SC_CONFORMANCE_H

#include "sc_ops.h"

typedef struct sc_conf_row {
    char op[32];
    char shape[128];
    char direction[64]; /* "forward", "backward-data", "backward-filter", "update", ... */
    double max_abs;     /* max |device - reference| */
    double max_rel;     /* max_abs / max |reference| */
    double tol;         /* pass when max_rel <= tol */
    int pass;
    double gflops;      /* < 0 when not meaningful */
} sc_conf_row;

typedef struct sc_conf_report {
    sc_conf_row *rows;
    size_t n, cap;
} sc_conf_report;

void sc_conf_report_free(sc_conf_report *rep);
size_t sc_conf_failures(const sc_conf_report *rep);

/* Compares n device values with the reference and appends a row:
 * max_rel = max|got - ref| / max(max|ref|, 1e-30); NaN/Inf fail. */
sc_status sc_conf_compare(sc_conf_report *rep, const char *op, const char *shape,
                          const char *direction, const float *got, const double *ref, size_t n,
                          double tol, double gflops);
/* Appends a row for a check that is not an array comparison (e.g. an error
 * message test): pass or fail with a note in `direction`. */
sc_status sc_conf_add_check(sc_conf_report *rep, const char *op, const char *shape,
                            const char *direction, int pass);

/* Appends a row for an error already measured by the caller. */
sc_status sc_conf_add_measure(sc_conf_report *rep, const char *op, const char *shape,
                              const char *direction, double max_abs, double max_rel, double tol);

/* Allocates a device buffer holding n floats from host (host NULL: zeros). */
sc_status sc_conf_upload(sc_ctx *ctx, const float *host, size_t n, cl_mem *out);
sc_status sc_conf_download(sc_ctx *ctx, cl_mem mem, size_t n, float *host);

/* Runs a plan once and waits. */
sc_status sc_conf_run(sc_plan *plan);
/* Average wall time in ms of `reps` runs of a plan (after one warm-up run). */
sc_status sc_conf_time(sc_plan *plan, int reps, double *ms);

/* A suite: runs every case of one op family, appending rows. Returns an
 * error only when the check itself cannot run (OpenCL failure); wrong
 * results are failed rows. */
typedef sc_status (*sc_conf_suite_fn)(sc_ctx *ctx, sc_conf_report *rep);

/* Deterministic inputs. */
typedef struct sc_conf_rng {
    uint64_t state;
} sc_conf_rng;
void sc_conf_rng_seed(sc_conf_rng *r, uint64_t seed);
double sc_conf_uniform(sc_conf_rng *r, double lo, double hi);
double sc_conf_normal(sc_conf_rng *r);
/* Fills x (float) and xd (double copy of the same float values, may be NULL). */
void sc_conf_fill(sc_conf_rng *r, float *x, double *xd, size_t n, double lo, double hi);

#endif
