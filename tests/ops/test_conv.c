/* Convolution: direct tests of the argument errors and of the workspace
 * queries (the conformance suite runs under each provider in
 * test_conv_providers.c). */
#include "conf_check.h"
#include "suite_dense.h"

static const sc_conv_params k_params = {.num_output = 5, .kernel_h = 3, .kernel_w = 3,
                                        .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
                                        .group = 1, .bias_term = 1};

static sc_status forward(sc_test_bufs *f, const sc_conv_params *p, sc_shape in, sc_shape w_shape,
                         cl_mem w, cl_mem ws)
{
    return sc_conv_forward(f->plan, "conv3", p, in, f->a, w_shape, w, f->a, f->b, ws);
}

static void test_conv_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_shape in = {2, 3, 7, 9}, w = {5, 3, 3, 3};
    /* input channels vs weights */
    sc_test_expect_error(B.ctx, forward(&B, &k_params, in, (sc_shape){5, 4, 3, 3}, B.a, B.a),
                         SC_ERR_SHAPE, "conv3 (Convolution)", "2x3x7x9", "5x4x3x3", NULL);
    /* group not dividing the channels */
    sc_conv_params p = k_params;
    p.group = 2;
    sc_test_expect_error(B.ctx, forward(&B, &p, in, (sc_shape){5, 1, 3, 3}, B.a, B.a),
                         SC_ERR_SHAPE, "conv3 (Convolution)", "group 2", "2x3x7x9", NULL);
    /* zero dimension */
    sc_test_expect_error(B.ctx, forward(&B, &k_params, (sc_shape){2, 3, 7, 0}, w, B.a, B.a),
                         SC_ERR_SHAPE, "conv3 (Convolution)", "2x3x7x0", NULL);
    /* kernel larger than the padded input */
    p = k_params;
    p.kernel_w = 12;
    sc_test_expect_error(B.ctx, forward(&B, &p, in, (sc_shape){5, 3, 3, 12}, B.a, B.a),
                         SC_ERR_SHAPE, "conv3 (Convolution)", "3x12", "2x3x7x9", NULL);
    /* weight buffer too small (135 floats needed) */
    sc_test_expect_error(B.ctx, forward(&B, &k_params, in, w, B.small, B.a), SC_ERR_SHAPE,
                         "conv3 (Convolution)", "weight buffer holds",
                         "needs 135 (weight 5x3x3x3)", NULL);
    /* dilation */
    p = k_params;
    p.dilation_w = 2;
    sc_test_expect_error(B.ctx, forward(&B, &p, in, w, B.a, B.a), SC_ERR_UNSUPPORTED,
                         "conv3 (Convolution)", "dilation 1x2", "2x3x7x9", NULL);
    /* workspace smaller than one image's column matrix (27 x 63 floats): the
     * OpenCL provider's contract (oneDNN takes no workspace) */
    sc_ctx_set_conv_provider(B.ctx, SC_CONV_OPENCL);
    sc_test_expect_error(B.ctx, forward(&B, &k_params, in, w, B.a, B.small), SC_ERR_SHAPE,
                         "conv3 (Convolution)", "workspace holds", "needs at least 1701", NULL);
    sc_ctx_set_conv_provider(B.ctx, SC_CONV_AUTO);
    /* in place is refused */
    sc_test_expect_error(B.ctx,
                         sc_conv_forward(B.plan, "conv3", &k_params, in, B.a, w, B.a, B.a, B.a,
                                         B.b),
                         SC_ERR_ARG, "conv3 (Convolution)", "same buffer", NULL);
    /* backward: weight diff buffer too small */
    sc_test_expect_error(B.ctx,
                         sc_conv_backward(B.plan, "conv3", &k_params, in, B.a, w, B.a, B.b, NULL,
                                          0.0f, B.small, NULL, B.a),
                         SC_ERR_SHAPE, "conv3 (Convolution)", "weight diff buffer holds", NULL);
    /* nothing was recorded by the failing calls */
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_test_bufs_close(&B);
}

static void test_conv_shapes(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_shape in = {2, 6, 9, 7}, out;
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 2, .stride_h = 2,
                        .stride_w = 1, .pad_h = 1, .pad_w = 0, .group = 2};
    sc_assert_ok(ctx, sc_conv_output_shape(ctx, "c", in, &p, &out));
    /* floor((9 + 2 - 3) / 2) + 1 = 5, floor((7 - 2) / 1) + 1 = 6 */
    assert_int_equal(out.n, 2);
    assert_int_equal(out.c, 4);
    assert_int_equal(out.h, 5);
    assert_int_equal(out.w, 6);
    sc_shape w = sc_conv_weight_shape(in, &p);
    assert_int_equal(w.n, 4);
    assert_int_equal(w.c, 3);
    /* rows 6*3*2 = 36, P = 30: one image needs the column matrix only, chunks
     * of n images the column matrix and the K x n*P product */
    assert_int_equal(sc_conv_workspace_floats(in, &p, 1), 36 * 30);
    assert_int_equal(sc_conv_workspace_floats(in, &p, 2), 2 * (36 + 4) * 30);
    assert_int_equal(sc_conv_workspace_floats(in, &p, 0), 2 * (36 + 4) * 30);
    /* 1x1 stride 1 pad 0 one image at a time: none */
    sc_conv_params q = {.num_output = 4, .kernel_h = 1, .kernel_w = 1, .stride_h = 1,
                        .stride_w = 1, .group = 1};
    assert_int_equal(sc_conv_workspace_floats(in, &q, 1), 0);
    /* depthwise (group == C == K): none */
    sc_conv_params d = {.num_output = 6, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                        .stride_w = 1, .group = 6};
    assert_int_equal(sc_conv_workspace_floats(in, &d, 0), 0);
    /* the provider-aware query: oneDNN needs none, OpenCL the column matrix */
    sc_ctx_set_conv_provider(ctx, SC_CONV_DNNL);
    assert_int_equal(sc_conv_workspace_needed(ctx, in, &p, 1), 0);
    sc_ctx_set_conv_provider(ctx, SC_CONV_OPENCL);
    assert_int_equal(sc_conv_workspace_needed(ctx, in, &p, 1), 36 * 30);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_shapes),
        cmocka_unit_test(test_conv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
