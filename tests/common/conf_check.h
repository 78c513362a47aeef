/* Helpers shared by the op tests (tests/ops): checking a conformance report,
 * running a suite on a fresh context, asserting an argument error and its
 * message, and a small fixture of device buffers for the argument checks.
 *
 * Environment: SPHERECL_CONF_VERBOSE (any value) prints every row of a
 * report, not only the failing ones. */
#ifndef SC_CONF_CHECK_H
#define SC_CONF_CHECK_H

#include "conformance.h"
#include "sc_test.h"

/* Prints the failing rows of a report (every row with SPHERECL_CONF_VERBOSE)
 * and a summary line; fails the test when a row failed or when the report
 * holds fewer than min_rows rows (0: no minimum). */
void sc_test_check_report(const sc_conf_report *rep, size_t min_rows);

/* The outcome of a suite call: st must be SC_OK (else the test fails with the
 * context's message), then sc_test_check_report. */
void sc_test_check_suite(sc_ctx *ctx, sc_status st, const sc_conf_report *rep, size_t min_rows);

/* Runs a suite on a fresh context and checks its report. */
void sc_test_run_suite(sc_conf_suite_fn suite, size_t min_rows);

/* The same on a fresh context created with SPHERECL_CONV=provider ("dnnl",
 * "opencl"; the variable is restored afterwards); also fails unless the
 * context got that provider and at least min_labelled rows name it
 * ("conv=dnnl"), so a suite that ignored the provider cannot pass. */
void sc_test_run_suite_with_conv(sc_conf_suite_fn suite, const char *provider, size_t min_rows,
                                 size_t min_labelled);

/* Asserts that a call returned `want` (an error status) and that the
 * context's message holds every fragment of the NULL-terminated list. */
void sc_test_expect_error(sc_ctx *ctx, sc_status got, sc_status want, ...);

/* Device buffers for the argument checks: a, b and c are large enough for
 * every shape the tests use (SC_TEST_BIG_FLOATS); small holds 16 floats
 * (too small for most tensors, enough for a few biases); tiny holds one. */
#define SC_TEST_BIG_FLOATS 8192
typedef struct sc_test_bufs {
    sc_ctx *ctx;
    sc_plan *plan;
    cl_mem a, b, c, small, tiny;
} sc_test_bufs;

/* A fresh context, the buffers and an empty plan. */
sc_test_bufs sc_test_bufs_open(void);
void sc_test_bufs_close(sc_test_bufs *B);

#endif
