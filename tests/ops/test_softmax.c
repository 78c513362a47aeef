/* Softmax on the test device: the conformance suite (every row must pass),
 * a hand-checked value and the argument errors. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_pool_loss.h"

static void print_rows(const sc_conf_report *rep)
{
    int all = getenv("SPHERECL_CONF_VERBOSE") != NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (all || !r->pass)
            printf("%s %-16s %-44s %-24s max_rel %.3g tol %.3g\n", r->pass ? "PASS" : "FAIL",
                   r->op, r->shape, r->direction, r->max_rel, r->tol);
    }
}

static void test_softmax_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, sc_conf_softmax(ctx, &rep));
    print_rows(&rep);
    size_t failures = sc_conf_failures(&rep);
    printf("softmax: %zu rows, %zu failed\n", rep.n, failures);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    assert_int_equal(failures, 0);
}

static void expect_message(sc_ctx *ctx, sc_status st, const char *a, const char *b,
                           const char *c)
{
    assert_int_not_equal(st, SC_OK);
    const char *msg = sc_ctx_message(ctx);
    const char *needles[] = {a, b, c};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            fail_msg("message \"%s\" lacks \"%s\"", msg, needles[i]);
}

/* softmax(0, ln 2, ln 3) = (1, 2, 3) / 6, at an inner position other than 0. */
static void test_values(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const float x[6] = {5.0f, 0.0f, -1.0f, logf(2.0f), 7.0f, logf(3.0f)}; /* N1 C3 H1 W2 */
    cl_mem xm;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof x, &xm));
    sc_assert_ok(ctx, sc_buffer_write(ctx, xm, 0, sizeof x, x));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_shape s = {1, 3, 1, 2};
    sc_assert_ok(ctx, sc_softmax_forward(plan, "prob", s, xm, s, xm)); /* in place */
    sc_assert_ok(ctx, sc_plan_run(plan));
    float y[6];
    sc_assert_ok(ctx, sc_buffer_read(ctx, xm, 0, sizeof y, y));
    assert_float_equal(y[1], 1.0 / 6, 1e-6);
    assert_float_equal(y[3], 2.0 / 6, 1e-6);
    assert_float_equal(y[5], 3.0 / 6, 1e-6);
    assert_float_equal(y[0] + y[2] + y[4], 1.0, 1e-6);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, xm);
    sc_ctx_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_mem x, y;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &y));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    expect_message(ctx,
                   sc_softmax_forward(plan, "prob1", (sc_shape){8, 10, 1, 1}, x,
                                      (sc_shape){8, 9, 1, 1}, x),
                   "prob1 (Softmax)", "8x10x1x1", "8x9x1x1");
    expect_message(ctx,
                   sc_softmax_forward(plan, "prob2", (sc_shape){8, 10, 0, 1}, x,
                                      (sc_shape){8, 10, 0, 1}, x),
                   "prob2 (Softmax)", "8x10x0x1", "zero");
    expect_message(ctx,
                   sc_softmax_forward(plan, "prob3", (sc_shape){8, 10, 1, 1}, x,
                                      (sc_shape){8, 10, 1, 1}, y),
                   "prob3 (Softmax)", "output buffer holds", "needs 80");
    expect_message(ctx, sc_softmax_backward(plan, "prob4", (sc_shape){8, 10, 1, 1}, x, NULL, x, 0),
                   "prob4 (Softmax)", "output gradient", "missing");
    assert_int_equal(sc_plan_steps(plan), 0);
    /* dx NULL records nothing and succeeds */
    sc_assert_ok(ctx, sc_softmax_backward(plan, "prob5", (sc_shape){8, 10, 1, 1}, x, x, NULL, 0));
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_suite),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
