/* Softmax on the test device: the conformance suite (every row must pass),
 * a hand-checked value and the argument errors. */
#include "conf_check.h"

#include <math.h>

#include "suite_pool_loss.h"

static void test_softmax_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_softmax, 0);
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
    sc_test_bufs B = sc_test_bufs_open();
    sc_ctx *ctx = B.ctx;
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.small;
    sc_test_expect_error(ctx,
                         sc_softmax_forward(plan, "prob1", (sc_shape){8, 10, 1, 1}, x,
                                            (sc_shape){8, 9, 1, 1}, x),
                         SC_ERR_SHAPE, "prob1 (Softmax)", "8x10x1x1", "8x9x1x1", NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_forward(plan, "prob2", (sc_shape){8, 10, 0, 1}, x,
                                            (sc_shape){8, 10, 0, 1}, x),
                         SC_ERR_SHAPE, "prob2 (Softmax)", "8x10x0x1", "zero", NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_forward(plan, "prob3", (sc_shape){8, 10, 1, 1}, x,
                                            (sc_shape){8, 10, 1, 1}, y),
                         SC_ERR_SHAPE, "prob3 (Softmax)", "output buffer holds", "needs 80",
                         NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_backward(plan, "prob4", (sc_shape){8, 10, 1, 1}, x, NULL, x,
                                             0),
                         SC_ERR_ARG, "prob4 (Softmax)", "output gradient", "missing", NULL);
    assert_int_equal(sc_plan_steps(plan), 0);
    /* dx NULL records nothing and succeeds */
    sc_assert_ok(ctx, sc_softmax_backward(plan, "prob5", (sc_shape){8, 10, 1, 1}, x, x, NULL, 0));
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_test_bufs_close(&B);
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
