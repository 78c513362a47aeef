/* A-Softmax (MarginInnerProduct): the generated conformance suite and every
 * golden case of ../shared/golden/asoftmax, plus direct tests of the argument
 * errors and of the state helpers. */
#include "conf_check.h"

#include <math.h>
#include <string.h>

#include "suite_asoftmax.h"

static void test_generated_suite(void **state)
{
    (void)state;
    /* 17 generated cases (8+ rows each), sign-zero, labels, schedule, errors */
    sc_test_run_suite(sc_conf_asoftmax, 100);
}

static void test_golden_cases(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_asoftmax_golden(ctx, sc_test_shared("golden/asoftmax"), &rep);
    /* 29 cases x (lambda, iteration, W, f, 4 gradients, 2 saved) */
    sc_test_check_suite(ctx, st, &rep, 29 * 10);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void test_golden_missing_dir(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    assert_int_equal(sc_conf_asoftmax_golden(ctx, "/nonexistent/golden", &rep), SC_ERR_IO);
    assert_non_null(strstr(sc_ctx_message(ctx), "/nonexistent/golden"));
    assert_int_equal(rep.n, 0);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* The error cases use the fixture's big buffers for every tensor and its
 * small one (16 floats) for the 4 labels, so only the tested problem fails. */
static sc_status forward_with(sc_test_bufs *B, const sc_asoftmax_params *p, sc_shape x,
                              sc_shape w, cl_mem labels)
{
    return sc_asoftmax_forward(B->plan, "fc6", p, x, B->a, labels, w, B->a, B->a, 1, B->a, B->a,
                               B->a);
}

static sc_status backward_with(sc_test_bufs *B, const sc_asoftmax_params *p, sc_shape x,
                               sc_shape w, cl_mem labels)
{
    return sc_asoftmax_backward(B->plan, "fc6", p, x, B->a, labels, w, B->a, B->a, B->a, B->a,
                                B->a, B->a, 0.0f, B->a);
}

/* The call failed with `want`; the message names the layer, the op, both shapes and the problem. */
static void expect(sc_test_bufs *B, sc_status got, sc_status want, const char *x, const char *w,
                   const char *problem)
{
    sc_test_expect_error(B->ctx, got, want, "fc6", "MarginInnerProduct", x, w, problem, NULL);
}

static void test_error_margin(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    sc_shape x = {4, 8, 1, 1}, w = {5, 8, 1, 1};
    p.m = 5;
    expect(&B, forward_with(&B, &p, x, w, B.small), SC_ERR_ARG, "4x8x1x1", "5x8x1x1",
           "m = 5 is outside 1..4");
    p.m = 0;
    expect(&B, backward_with(&B, &p, x, w, B.small), SC_ERR_ARG, "4x8x1x1", "5x8x1x1",
           "m = 0 is outside 1..4");
    p.m = 2;
    p.mode = (sc_asoftmax_mode)3;
    expect(&B, backward_with(&B, &p, x, w, B.small), SC_ERR_ARG, "4x8x1x1", "5x8x1x1",
           "backward mode 3");
    assert_int_equal(sc_plan_steps(B.plan), 0); /* a failed call records nothing */
    sc_test_bufs_close(&B);
}

static void test_error_shapes(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    p.m = 4;
    /* K mismatch: 3x1x3 = 9 input values per row, weights of 8 */
    expect(&B, forward_with(&B, &p, (sc_shape){4, 3, 1, 3}, (sc_shape){5, 8, 1, 1}, B.small),
           SC_ERR_SHAPE, "4x3x1x3", "5x8x1x1", "K = 9");
    expect(&B, backward_with(&B, &p, (sc_shape){4, 3, 1, 3}, (sc_shape){5, 8, 1, 1}, B.small),
           SC_ERR_SHAPE, "4x3x1x3", "5x8x1x1", "K = 8");
    /* zero M */
    expect(&B, forward_with(&B, &p, (sc_shape){0, 8, 1, 1}, (sc_shape){5, 8, 1, 1}, B.small),
           SC_ERR_SHAPE, "0x8x1x1", "5x8x1x1", "zero");
    /* weights rows vs num_output */
    expect(&B, forward_with(&B, &p, (sc_shape){4, 8, 1, 1}, (sc_shape){6, 8, 1, 1}, B.small),
           SC_ERR_SHAPE, "4x8x1x1", "6x8x1x1", "num_output is 5");
    /* output shape inference shares the checks */
    sc_shape out;
    expect(&B,
           sc_asoftmax_output_shape(B.ctx, "fc6", &p, (sc_shape){4, 3, 1, 3},
                                    (sc_shape){5, 8, 1, 1}, &out),
           SC_ERR_SHAPE, "4x3x1x3", "5x8x1x1", "K = 9");
    sc_assert_ok(B.ctx, sc_asoftmax_output_shape(B.ctx, "fc6", &p, (sc_shape){4, 2, 2, 2},
                                                 (sc_shape){5, 8, 1, 1}, &out));
    assert_int_equal(out.n, 4);
    assert_int_equal(out.c, 5);
    assert_int_equal(out.h * out.w, 1);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_test_bufs_close(&B);
}

static void test_error_buffers(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    cl_mem labels3;
    sc_assert_ok(B.ctx, sc_buffer_alloc(B.ctx, 3 * sizeof(float), &labels3));
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    p.m = 2;
    sc_shape x = {4, 8, 1, 1}, w = {5, 8, 1, 1};
    expect(&B, forward_with(&B, &p, x, w, labels3), SC_ERR_SHAPE, "4x8x1x1", "5x8x1x1",
           "label buffer holds 3 floats, needs 4");
    expect(&B, backward_with(&B, &p, x, w, labels3), SC_ERR_SHAPE, "4x8x1x1", "5x8x1x1",
           "label buffer holds 3 floats, needs 4");
    expect(&B, forward_with(&B, &p, x, w, NULL), SC_ERR_ARG, "4x8x1x1", "5x8x1x1",
           "label buffer is missing");
    /* m >= 2 needs the workspace for dx */
    expect(&B,
           sc_asoftmax_backward(B.plan, "fc6", &p, x, B.a, B.small, w, B.a, B.a, B.a, B.a, NULL,
                                B.a, 0.0f, B.a),
           SC_ERR_ARG, "4x8x1x1", "5x8x1x1", "workspace buffer is missing");
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_buffer_release(B.ctx, labels3);
    sc_test_bufs_close(&B);
}

static void test_sizes_and_state(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_asoftmax_params p = sc_asoftmax_params_default(10);
    assert_int_equal(p.m, 1);
    assert_true(p.base == 1.0f && p.gamma == 0.0f && p.power == 1.0f && p.lambda_min == 0.0f);
    assert_int_equal(p.mode, SC_ASOFTMAX_CAFFE);
    assert_int_equal(sc_asoftmax_workspace_floats(&p, 7), 0); /* m = 1 needs none */
    p.m = 3;
    assert_int_equal(sc_asoftmax_workspace_floats(&p, 7), 7 * 10 + 7);
    assert_int_equal(sc_asoftmax_saved_floats(7), 14);
    p.base = 1000.0f, p.gamma = 0.12f, p.power = 1.0f, p.lambda_min = 5.0f;
    assert_true(fabsf(sc_asoftmax_lambda(&p, 1) - 892.857142857f) < 1e-3f);
    assert_true(sc_asoftmax_lambda(&p, 28001) == 5.0f);

    cl_mem st;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sc_asoftmax_state_floats() * sizeof(float), &st));
    int iter = 0;
    float lambda = 0;
    sc_assert_ok(ctx, sc_asoftmax_state_set(ctx, st, 2147483000, 0.125f));
    sc_assert_ok(ctx, sc_asoftmax_state_get(ctx, st, &iter, &lambda));
    assert_int_equal(iter, 2147483000);
    assert_true(lambda == 0.125f);
    p.iteration = 99;
    sc_assert_ok(ctx, sc_asoftmax_state_init(ctx, &p, st));
    sc_assert_ok(ctx, sc_asoftmax_state_get(ctx, st, &iter, &lambda));
    assert_int_equal(iter, 99);
    assert_true(lambda == sc_asoftmax_lambda(&p, 99));
    sc_buffer_release(ctx, st);

    /* one float (not from the pool, which may hand out the 2-float buffer again) */
    cl_int rc;
    cl_mem tiny = clCreateBuffer(sc_ctx_cl(ctx), CL_MEM_READ_WRITE, 4, NULL, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    assert_int_equal(sc_asoftmax_state_get(ctx, tiny, &iter, &lambda), SC_ERR_SHAPE);
    assert_non_null(strstr(sc_ctx_message(ctx), "A-Softmax state"));
    clReleaseMemObject(tiny);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_margin),     cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_error_buffers),    cmocka_unit_test(test_sizes_and_state),
        cmocka_unit_test(test_golden_missing_dir), cmocka_unit_test(test_golden_cases),
        cmocka_unit_test(test_generated_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
