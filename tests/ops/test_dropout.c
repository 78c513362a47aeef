/* Dropout (device-drawn masks, TRAIN and TEST, in place): kernel conformance
 * against the reference with the downloaded mask, mask statistics and replay,
 * and the argument errors. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_elementwise.h"

/* Prints the failing rows (every row with SPHERECL_CONF_VERBOSE set) and
 * fails the test when any row failed. */
static void check_report(const sc_conf_report *rep)
{
    int verbose = getenv("SPHERECL_CONF_VERBOSE") != NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (verbose || !r->pass)
            printf("%-4s %-10s %-34s %-24s max_rel %.3g tol %.3g\n", r->pass ? "ok" : "FAIL",
                   r->op, r->shape, r->direction, r->max_rel, r->tol);
    }
    printf("%zu rows, %zu failed\n", rep->n, sc_conf_failures(rep));
    assert_int_equal(sc_conf_failures(rep), 0);
}

static void run_suite(sc_conf_suite_fn suite)
{
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, suite(ctx, &rep));
    check_report(&rep);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* The call failed with `status`; its message names the layer, the op and the fragments. */
static void assert_error(sc_ctx *ctx, sc_status got, sc_status status, const char *op,
                         const char *frag1, const char *frag2)
{
    const char *msg = sc_ctx_message(ctx);
    if (got != status)
        fail_msg("status %s, expected %s (%s)", sc_status_name(got), sc_status_name(status), msg);
    const char *frags[] = {"mylayer", op, frag1, frag2};
    for (int i = 0; i < 4; i++)
        if (frags[i] && !strstr(msg, frags[i]))
            fail_msg("'%s' not in '%s'", frags[i], msg);
}

/* A few device buffers for the argument checks. */
typedef struct bufs {
    sc_ctx *ctx;
    sc_plan *plan;
    cl_mem a, b, c, small;
} bufs;

static bufs bufs_open(void)
{
    bufs B = {.ctx = sc_test_ctx()};
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, 1024 * sizeof(float), &B.a));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, 1024 * sizeof(float), &B.b));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, 1024 * sizeof(float), &B.c));
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, sizeof(float), &B.small));
    sc_assert_ok(B.ctx, sc_plan_create(B.ctx, &B.plan));
    return B;
}

static void bufs_close(bufs *B)
{
    sc_plan_destroy(B->plan);
    sc_buffer_release(B->ctx, B->a);
    sc_buffer_release(B->ctx, B->b);
    sc_buffer_release(B->ctx, B->c);
    sc_buffer_release(B->ctx, B->small);
    sc_ctx_destroy(B->ctx);
}

static void test_dropout_conformance(void **state)
{
    (void)state;
    run_suite(sc_conf_dropout);
}

static void test_dropout_errors(void **state)
{
    (void)state;
    bufs B = bufs_open();
    sc_dropout_params p = sc_dropout_default_params();
    assert_true(p.ratio == 0.5f && p.train);
    sc_shape s = {2, 3, 7, 9}, out;
    assert_error(B.ctx, sc_dropout_output_shape(B.ctx, "mylayer", &p, (sc_shape){2, 3, 7, 0}, &out),
                 SC_ERR_SHAPE, "(Dropout)", "2x3x7x0", NULL);
    const float bad[] = {1.0f, -0.1f, 2.0f, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.ratio = bad[i];
        assert_error(B.ctx, sc_dropout_output_shape(B.ctx, "mylayer", &p, s, &out), SC_ERR_ARG,
                     "(Dropout)", "dropout_ratio", "2x3x7x9");
    }
    p.ratio = 0.0f; /* allowed: keeps everything */
    sc_assert_ok(B.ctx, sc_dropout_output_shape(B.ctx, "mylayer", &p, s, &out));
    /* TRAIN needs the generator state and the mask (378 bytes = 95 floats) */
    p.ratio = 0.5f;
    assert_int_equal(sc_dropout_saved_floats(&p, s), 95);
    assert_error(B.ctx, sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.c),
                 SC_ERR_ARG, "(Dropout)", "state", "2x3x7x9");
    assert_error(B.ctx, sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.c, B.small),
                 SC_ERR_SHAPE, "(Dropout)", "mask", "needs 95");
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* TEST in place records nothing */
    p.train = 0;
    assert_int_equal(sc_dropout_saved_floats(&p, s), 0);
    sc_assert_ok(B.ctx, sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.a, NULL, NULL));
    assert_int_equal(sc_plan_steps(B.plan), 0);
    bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_errors),
        cmocka_unit_test(test_dropout_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
