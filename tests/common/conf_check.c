/* Conformance-report checks, suite runs, argument-error assertions and the
 * buffer fixture of the op tests (see conf_check.h). */
#include "conf_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_test_check_report(const sc_conf_report *rep, size_t min_rows)
{
    int verbose = getenv("SPHERECL_CONF_VERBOSE") != NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (!verbose && r->pass)
            continue;
        printf("%-4s %-16s %-44s %-24s max_rel %.3g tol %.3g", r->pass ? "ok" : "FAIL", r->op,
               r->shape, r->direction, r->max_rel, r->tol);
        if (r->gflops >= 0)
            printf(" %.2f GFLOP/s", r->gflops);
        printf("\n");
    }
    size_t failures = sc_conf_failures(rep);
    printf("%zu rows, %zu failed\n", rep->n, failures);
    if (rep->n < min_rows)
        fail_msg("%zu rows, expected at least %zu", rep->n, min_rows);
    assert_int_equal(failures, 0);
}

void sc_test_check_suite(sc_ctx *ctx, sc_status st, const sc_conf_report *rep, size_t min_rows)
{
    if (st != SC_OK)
        fail_msg("suite could not run: %s: %s", sc_status_name(st), sc_ctx_message(ctx));
    sc_test_check_report(rep, min_rows);
}

void sc_test_run_suite(sc_conf_suite_fn suite, size_t min_rows)
{
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_test_check_suite(ctx, suite(ctx, &rep), &rep, min_rows);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* Rows whose shape names the convolution provider ("conv=dnnl"). */
static size_t rows_labelled(const sc_conf_report *rep, const char *provider)
{
    char tag[64];
    snprintf(tag, sizeof tag, "conv=%s", provider);
    size_t n = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const char *at = strstr(rep->rows[i].shape, tag);
        n += at && (at[strlen(tag)] == '\0' || at[strlen(tag)] == ' ');
    }
    return n;
}

void sc_test_run_suite_with_conv(sc_conf_suite_fn suite, const char *provider, size_t min_rows,
                                 size_t min_labelled)
{
    const char *old = getenv("SPHERECL_CONV");
    char *saved = old ? strdup(old) : NULL;
    setenv("SPHERECL_CONV", provider, 1);
    sc_ctx *ctx = sc_test_ctx();
    if (saved)
        setenv("SPHERECL_CONV", saved, 1);
    else
        unsetenv("SPHERECL_CONV");
    free(saved);
    assert_string_equal(sc_conv_provider_name(sc_ctx_conv_provider(ctx)), provider);
    sc_conf_report rep = {0};
    sc_test_check_suite(ctx, suite(ctx, &rep), &rep, min_rows);
    size_t labelled = rows_labelled(&rep, provider);
    printf("%zu rows on conv=%s\n", labelled, provider);
    if (labelled < min_labelled)
        fail_msg("%zu rows name conv=%s, expected at least %zu", labelled, provider,
                 min_labelled);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

void sc_test_expect_error(sc_ctx *ctx, sc_status got, sc_status want, ...)
{
    const char *msg = sc_ctx_message(ctx);
    if (got != want)
        fail_msg("status %s, expected %s (%s)", sc_status_name(got), sc_status_name(want), msg);
    va_list ap;
    va_start(ap, want);
    for (const char *frag = va_arg(ap, const char *); frag; frag = va_arg(ap, const char *))
        if (!strstr(msg, frag)) {
            va_end(ap);
            fail_msg("'%s' not in '%s'", frag, msg);
        }
    va_end(ap);
}

sc_test_bufs sc_test_bufs_open(void)
{
    sc_test_bufs B = {.ctx = sc_test_ctx()};
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, SC_TEST_BIG_FLOATS * sizeof(float), &B.a));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, SC_TEST_BIG_FLOATS * sizeof(float), &B.b));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, SC_TEST_BIG_FLOATS * sizeof(float), &B.c));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, 16 * sizeof(float), &B.small));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, sizeof(float), &B.tiny));
    sc_assert_ok(B.ctx, sc_plan_create(B.ctx, &B.plan));
    return B;
}

void sc_test_bufs_close(sc_test_bufs *B)
{
    sc_plan_destroy(B->plan);
    cl_mem all[] = {B->a, B->b, B->c, B->small, B->tiny};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_buffer_release(B->ctx, all[i]);
    sc_ctx_destroy(B->ctx);
}
