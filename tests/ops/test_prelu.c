/* PReLU (per channel and channel_shared, in place): kernel conformance against
 * the reference and finite differences, and the argument errors. */
#include "sc_test.h"

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

static void test_prelu_conformance(void **state)
{
    (void)state;
    run_suite(sc_conf_prelu);
}

static void test_prelu_errors(void **state)
{
    (void)state;
    bufs B = bufs_open();
    sc_prelu_params p = {.channel_shared = 0};
    sc_shape s = {2, 3, 7, 9}, out;
    assert_error(B.ctx, sc_prelu_output_shape(B.ctx, "mylayer", &p, (sc_shape){2, 0, 7, 9}, &out),
                 SC_ERR_SHAPE, "(PReLU)", "2x0x7x9", NULL);
    /* one slope per channel: 3 needed, the buffer holds 2 */
    assert_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.small, B.b, NULL),
                 SC_ERR_SHAPE, "(PReLU)", "2x3x7x9", "needs 3");
    assert_error(B.ctx,
                 sc_prelu_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.small, B.c, B.c,
                                   0.0f, NULL),
                 SC_ERR_SHAPE, "(PReLU)", "2x3x7x9", "needs 3");
    /* in place needs the saved copy of x, and not x itself */
    assert_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, NULL),
                 SC_ERR_ARG, "(PReLU)", "saved", "2x3x7x9");
    assert_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, B.a),
                 SC_ERR_ARG, "(PReLU)", "saved", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* channel_shared: one slope is enough */
    p.channel_shared = 1;
    assert_int_equal(sc_prelu_slope_count(&p, s), 1);
    sc_assert_ok(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.small, B.b, NULL));
    assert_int_equal(sc_plan_steps(B.plan), 1);
    bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prelu_errors),
        cmocka_unit_test(test_prelu_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
