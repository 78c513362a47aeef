/* Helpers shared by the cmocka tests. */
#ifndef SC_TEST_H
#define SC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sc_runtime.h"

/* Absolute path of a file under ../shared (or $SPHERECL_SHARED). When the
 * shared folder is missing the test fails loudly, naming the path it looked at. */
const char *sc_test_shared(const char *relative);

/* Path of a file under the build tree's test scratch folder (created on demand). */
const char *sc_test_tmp(const char *relative);

/* The device the tests run on: $SPHERECL_TEST_DEVICE, else "cpu". */
const char *sc_test_device_selector(void);

/* A context on the PoCL CPU device (or $SPHERECL_TEST_DEVICE), with the program
 * cache in the build tree. Fails the test with the error text when it cannot. */
sc_ctx *sc_test_ctx(void);

/* Runs a shell command (apps are at $SPHERECL_APPS_DIR, which the command
 * may spell "{APPS}"), capturing stdout and stderr into the buffers (NUL-
 * terminated, truncated to their capacity; either may be NULL). Returns the
 * exit status, or -1 when the command died from a signal. */
int sc_test_run(const char *cmd, char *out, size_t out_cap, char *err, size_t err_cap);

/* Writes Caffe list lines "path label" to f for the first per_person aligned
 * LFW crops (../shared reference-aligned-112x96, sorted by name) of each
 * person; labels[p] is person p's label (NULL: p). Fails the test when a
 * person has fewer crops. */
void sc_test_write_crops(FILE *f, const char *const *people, int n_people, int per_person,
                         const int *labels);

/* Writes a pairs file with the first per_fold matched and mismatched pairs
 * of every fold of ../shared's pairs.txt; with list (may be NULL), also a
 * Caffe list "relpath 0" of their distinct images, sorted. */
void sc_test_write_pairs_subset(const char *pairs_path, int per_fold, const char *list_path);

/* Assert that a call returned SC_OK; on failure print the status and the
 * error message kept by the context (sc_assert_ok) or by an sc_error (sc_assert_ok_err). */
#define sc_assert_ok(ctx, expr)                                                           \
    do {                                                                                  \
        sc_status st_ = (expr);                                                           \
        if (st_ != SC_OK)                                                                 \
            fail_msg("%s -> %s: %s", #expr, sc_status_name(st_), sc_ctx_message(ctx));    \
    } while (0)
#define sc_assert_ok_err(err, expr)                                                       \
    do {                                                                                  \
        sc_status st_ = (expr);                                                           \
        if (st_ != SC_OK)                                                                 \
            fail_msg("%s -> %s: %s", #expr, sc_status_name(st_), (err)->msg);             \
    } while (0)

/* Deterministic pseudo-random test inputs: sc_conf_rng of conformance.h. */

/* max |a - ref| / max(max |ref|, floor): the per-array relative error the tests use. */
double sc_test_max_abs_diff(const float *a, const double *ref, size_t n);
double sc_test_max_abs(const double *ref, size_t n);

#endif
