/* SoftmaxWithLoss and Accuracy on the test device: the conformance suites, the
 * golden A-Softmax cases' loss records, out-of-range labels, and the argument
 * errors. */
#include "conf_check.h"

#include <math.h>
#include <string.h>

#include "suite_pool_loss.h"

static void test_softmax_loss_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_softmax_loss, 0);
}

static void test_accuracy_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_accuracy, 0);
}

static void test_golden(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_softmax_loss_golden(ctx, sc_test_shared("golden/asoftmax"), &rep);
    sc_test_check_suite(ctx, st, &rep, 2 * 29); /* loss and dx of every case */
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void test_golden_missing_folder(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    assert_int_equal(sc_conf_softmax_loss_golden(ctx, "/nonexistent/golden", &rep), SC_ERR_IO);
    assert_non_null(strstr(sc_ctx_message(ctx), "/nonexistent/golden"));
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* Labels outside [0, C) do not crash: they are ignored and counted. */
static void test_bad_labels(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const float x[8] = {0, 0, 0, 0, 1, 2, 3, 4}; /* N2 C4 */
    const float labels[2] = {1e6f, 1.0f};
    cl_mem xm, lm, prob, st, loss, dx;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof x, &xm));
    sc_assert_ok(ctx, sc_buffer_write(ctx, xm, 0, sizeof x, x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof labels, &lm));
    sc_assert_ok(ctx, sc_buffer_write(ctx, lm, 0, sizeof labels, labels));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof x, &prob));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sc_softmax_loss_state_floats() * sizeof(float), &st));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof(float), &loss));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof x, &dx));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_softmax_loss_params p = sc_softmax_loss_defaults();
    sc_shape s = {2, 4, 1, 1};
    sc_assert_ok(ctx, sc_softmax_loss_forward(plan, "loss", &p, s, xm, lm, prob, st, loss));
    sc_assert_ok(ctx, sc_softmax_loss_backward(plan, "loss", &p, s, prob, lm, st, 1.0f, dx, 0));
    sc_assert_ok(ctx, sc_plan_run(plan));
    float state_v[4], loss_v, dx_v[8];
    sc_assert_ok(ctx, sc_buffer_read(ctx, st, 0, sizeof state_v, state_v));
    sc_assert_ok(ctx, sc_buffer_read(ctx, loss, 0, sizeof loss_v, &loss_v));
    sc_assert_ok(ctx, sc_buffer_read(ctx, dx, 0, sizeof dx_v, dx_v));
    assert_true(state_v[SC_SOFTMAX_LOSS_BAD_LABELS] == 1.0f);
    assert_true(state_v[SC_SOFTMAX_LOSS_VALID] == 1.0f);
    assert_true(state_v[SC_SOFTMAX_LOSS_NORMALIZER] == 1.0f);
    /* row 1: -log softmax(1,2,3,4)[1] */
    double z = exp(1) + exp(2) + exp(3) + exp(4);
    assert_float_equal(loss_v, -log(exp(2) / z), 1e-5);
    for (int c = 0; c < 4; c++)
        assert_true(dx_v[c] == 0.0f); /* the bad row gets no gradient */
    sc_plan_destroy(plan);
    cl_mem all[] = {xm, lm, prob, st, loss, dx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sc_buffer_release(ctx, all[i]);
    sc_ctx_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_ctx *ctx = B.ctx;
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.small;
    sc_softmax_loss_params p = sc_softmax_loss_defaults();
    /* 64 positions, a label buffer of 16 floats (at most 32 from the pool) */
    sc_test_expect_error(ctx,
                         sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){64, 10, 1, 1},
                                                 x, y, x, x, x),
                         SC_ERR_SHAPE, "fc6_loss (SoftmaxWithLoss)", "labels", "64x10x1x1", NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_loss_backward(plan, "fc6_loss", &p, (sc_shape){64, 10, 1, 1},
                                                  x, y, x, 1.0f, x, 0.0f),
                         SC_ERR_SHAPE, "fc6_loss (SoftmaxWithLoss)", "labels", "64x10x1x1", NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){0, 10, 1, 1},
                                                 x, x, x, x, x),
                         SC_ERR_SHAPE, "fc6_loss (SoftmaxWithLoss)", "0x10x1x1", "zero", NULL);
    sc_test_expect_error(ctx,
                         sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){4, 10, 1, 1},
                                                 x, x, x, NULL, x),
                         SC_ERR_ARG, "fc6_loss (SoftmaxWithLoss)", "state", "missing", NULL);
    sc_accuracy_params a = {11, 0, 0};
    sc_test_expect_error(ctx,
                         sc_accuracy_forward(plan, "acc", &a, (sc_shape){4, 10, 1, 1}, x, x, x),
                         SC_ERR_ARG, "acc (Accuracy)", "top_k 11", "4x10x1x1", NULL);
    a.top_k = 0;
    sc_test_expect_error(ctx,
                         sc_accuracy_forward(plan, "acc", &a, (sc_shape){4, 10, 1, 1}, x, x, x),
                         SC_ERR_ARG, "acc (Accuracy)", "top_k 0", "4x10x1x1", NULL);
    a.top_k = 1;
    sc_test_expect_error(ctx,
                         sc_accuracy_forward(plan, "acc", &a, (sc_shape){64, 10, 1, 1}, x, y, x),
                         SC_ERR_SHAPE, "acc (Accuracy)", "labels", "64x10x1x1", NULL);
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_loss_suite),
        cmocka_unit_test(test_accuracy_suite),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_golden_missing_folder),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
