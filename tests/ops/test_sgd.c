/* The SGD update on the test device: the conformance suite (a recorded plan
 * replayed with a changing learning-rate buffer), a hand-computed step and the
 * argument errors. */
#include "conf_check.h"
#include "suite_pool_loss.h"

static void test_sgd_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_sgd, 0);
}

/* One L2 + momentum step with iter_size 2, by hand:
 * g = 4/2 + 0.1*2*w; h = 0.5*h0 + 0.1*3*g; w -= h. */
static void test_hand_step(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const float w0[2] = {1.0f, -2.0f}, d0[2] = {4.0f, 2.0f}, h0[2] = {1.0f, 0.0f}, lr = 0.1f;
    cl_mem w, d, h, l;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof w0, &w));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof d0, &d));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof h0, &h));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof lr, &l));
    sc_assert_ok(ctx, sc_buffer_write(ctx, w, 0, sizeof w0, w0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, d, 0, sizeof d0, d0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, h, 0, sizeof h0, h0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, l, 0, sizeof lr, &lr));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_sgd_params p = {.lr_mult = 3.0f, .decay_mult = 2.0f, .momentum = 0.5f,
                       .weight_decay = 0.1f, .iter_size = 2, .regularization = SC_REG_L2};
    sc_assert_ok(ctx, sc_sgd_update(plan, "ip1.w", 2, w, d, h, l, &p));
    sc_assert_ok(ctx, sc_plan_run(plan));
    float wv[2], hv[2], dv[2];
    sc_assert_ok(ctx, sc_buffer_read(ctx, w, 0, sizeof wv, wv));
    sc_assert_ok(ctx, sc_buffer_read(ctx, h, 0, sizeof hv, hv));
    sc_assert_ok(ctx, sc_buffer_read(ctx, d, 0, sizeof dv, dv));
    /* element 0: g = 2 + 0.2 = 2.2, h = 0.5 + 0.66 = 1.16, w = -0.16
     * element 1: g = 1 - 0.4 = 0.6, h = 0.18, w = -2.18 */
    assert_float_equal(hv[0], 1.16, 1e-6);
    assert_float_equal(wv[0], -0.16, 1e-6);
    assert_float_equal(hv[1], 0.18, 1e-6);
    assert_float_equal(wv[1], -2.18, 1e-6);
    assert_true(dv[0] == hv[0] && dv[1] == hv[1]);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, w);
    sc_buffer_release(ctx, d);
    sc_buffer_release(ctx, h);
    sc_buffer_release(ctx, l);
    sc_ctx_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_ctx *ctx = B.ctx;
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.small;
    sc_sgd_params p = {1.0f, 1.0f, 0.9f, 5e-4f, 1, SC_REG_L2};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", 0, x, x, x, x, &p), SC_ERR_ARG,
                         "conv1_1.w (SGD)", "0 elements", NULL);
    sc_test_expect_error(ctx, sc_sgd_clear_diff(plan, "conv1_1.w", 0, x), SC_ERR_ARG,
                         "conv1_1.w (SGD)", "0 elements", NULL);
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", 100, x, x, y, x, &p), SC_ERR_SHAPE,
                         "conv1_1.w (SGD)", "history buffer holds", "needs 100", NULL);
    sc_test_expect_error(ctx, sc_sgd_clear_diff(plan, "conv1_1.w", 100, y), SC_ERR_SHAPE,
                         "conv1_1.w (SGD)", "diff buffer holds", "needs 100", NULL);
    p.iter_size = 0;
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", 4, x, x, x, x, &p), SC_ERR_ARG,
                         "conv1_1.b (SGD)", "iter_size 0", NULL);
    p.iter_size = 1;
    p.regularization = (sc_regularization)5;
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", 4, x, x, x, x, &p), SC_ERR_ARG,
                         "conv1_1.b (SGD)", "regularization", NULL);
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_suite),
        cmocka_unit_test(test_hand_step),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
