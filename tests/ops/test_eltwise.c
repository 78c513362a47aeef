/* Eltwise SUM (with coefficients), PROD and MAX (Caffe's tie rule) over 2..4
 * inputs: kernel conformance against the reference and finite differences,
 * and the argument errors. */
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

static void test_eltwise_conformance(void **state)
{
    (void)state;
    run_suite(sc_conf_eltwise);
}

static void test_eltwise_errors(void **state)
{
    (void)state;
    bufs B = bufs_open();
    sc_eltwise_params p = {.op = SC_ELTWISE_SUM};
    sc_shape out, two[2] = {{2, 3, 7, 9}, {2, 3, 9, 7}};
    cl_mem x[3] = {B.a, B.b, B.c};
    /* the message names both shapes */
    assert_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, two, &out), SC_ERR_SHAPE,
                 "(Eltwise)", "2x3x7x9", "2x3x9x7");
    assert_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, two, x, B.c, NULL),
                 SC_ERR_SHAPE, "(Eltwise)", "2x3x7x9", "2x3x9x7");
    sc_shape zero[2] = {{2, 3, 0, 9}, {2, 3, 0, 9}};
    assert_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, zero, &out), SC_ERR_SHAPE,
                 "(Eltwise)", "2x3x0x9", NULL);
    sc_shape same[3] = {{2, 3, 7, 9}, {2, 3, 7, 9}, {2, 3, 7, 9}};
    const float coeffs[2] = {1.0f, -1.0f};
    p.coeffs = coeffs;
    p.n_coeffs = 2;
    assert_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 3, same, &out), SC_ERR_ARG,
                 "(Eltwise)", "2 coefficients for 3 inputs", "2x3x7x9");
    p.op = SC_ELTWISE_MAX;
    assert_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, same, &out), SC_ERR_ARG,
                 "(Eltwise)", "only SUM", "2x3x7x9");
    p.n_coeffs = 0;
    assert_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 1, same, &out), SC_ERR_ARG,
                 "(Eltwise)", "at least 2", NULL);
    /* MAX keeps an argmax; y must not be an input */
    assert_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, same, x, B.c, NULL),
                 SC_ERR_ARG, "(Eltwise)", "argmax", "2x3x7x9");
    assert_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, same, x, B.a, B.c),
                 SC_ERR_ARG, "(Eltwise)", "in place", NULL);
    /* PROD over 3 inputs needs the workspace */
    p.op = SC_ELTWISE_PROD;
    assert_int_equal(sc_eltwise_workspace_floats(&p, 3, same[0]), 378);
    assert_int_equal(sc_eltwise_workspace_floats(&p, 2, same[0]), 0);
    cl_mem dx[3] = {B.c, NULL, NULL};
    assert_error(B.ctx,
                 sc_eltwise_backward(B.plan, "mylayer", &p, 3, same, x, NULL, B.b, dx, 0.0f, NULL),
                 SC_ERR_ARG, "(Eltwise)", "workspace", "2x3x7x9");
    assert_int_equal(sc_plan_steps(B.plan), 0);
    bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eltwise_errors),
        cmocka_unit_test(test_eltwise_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
