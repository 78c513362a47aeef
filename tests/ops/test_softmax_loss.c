/* SoftmaxWithLoss and Accuracy on the test device: the conformance suites, the
 * golden A-Softmax cases' loss records, out-of-range labels, and the argument
 * errors. */
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

static void test_softmax_loss_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, sc_conf_softmax_loss(ctx, &rep));
    print_rows(&rep);
    size_t failures = sc_conf_failures(&rep);
    printf("softmax_loss: %zu rows, %zu failed\n", rep.n, failures);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    assert_int_equal(failures, 0);
}

static void test_accuracy_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, sc_conf_accuracy(ctx, &rep));
    print_rows(&rep);
    size_t failures = sc_conf_failures(&rep);
    printf("accuracy: %zu rows, %zu failed\n", rep.n, failures);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    assert_int_equal(failures, 0);
}

static void test_golden(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, sc_conf_softmax_loss_golden(ctx, sc_test_shared("golden/asoftmax"), &rep));
    print_rows(&rep);
    size_t failures = sc_conf_failures(&rep);
    printf("golden: %zu rows, %zu failed\n", rep.n, failures);
    assert_true(rep.n >= 2 * 29); /* loss and dx of every case */
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    assert_int_equal(failures, 0);
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
    sc_ctx *ctx = sc_test_ctx();
    cl_mem x, y;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &y));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_softmax_loss_params p = sc_softmax_loss_defaults();
    /* 64 positions, a label buffer of 16 floats (at most 32 from the pool) */
    expect_message(ctx,
                   sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){64, 10, 1, 1}, x, y,
                                           x, x, x),
                   "fc6_loss (SoftmaxWithLoss)", "labels", "64x10x1x1");
    expect_message(ctx,
                   sc_softmax_loss_backward(plan, "fc6_loss", &p, (sc_shape){64, 10, 1, 1}, x, y,
                                            x, 1.0f, x, 0.0f),
                   "fc6_loss (SoftmaxWithLoss)", "labels", "64x10x1x1");
    expect_message(ctx,
                   sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){0, 10, 1, 1}, x, x,
                                           x, x, x),
                   "fc6_loss (SoftmaxWithLoss)", "0x10x1x1", "zero");
    expect_message(ctx,
                   sc_softmax_loss_forward(plan, "fc6_loss", &p, (sc_shape){4, 10, 1, 1}, x, x,
                                           x, NULL, x),
                   "fc6_loss (SoftmaxWithLoss)", "state", "missing");
    sc_accuracy_params a = {11, 0, 0};
    expect_message(ctx, sc_accuracy_forward(plan, "acc", &a, (sc_shape){4, 10, 1, 1}, x, x, x),
                   "acc (Accuracy)", "top_k 11", "4x10x1x1");
    a.top_k = 0;
    expect_message(ctx, sc_accuracy_forward(plan, "acc", &a, (sc_shape){4, 10, 1, 1}, x, x, x),
                   "acc (Accuracy)", "top_k 0", "4x10x1x1");
    a.top_k = 1;
    expect_message(ctx, sc_accuracy_forward(plan, "acc", &a, (sc_shape){64, 10, 1, 1}, x, y, x),
                   "acc (Accuracy)", "labels", "64x10x1x1");
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    sc_ctx_destroy(ctx);
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
