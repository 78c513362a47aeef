/* DepthwiseConvolution: the conformance suite (direct kernels, and a
 * Convolution with group == channels routed to them) plus direct tests of
 * the argument errors. Set SPHERECL_CONF_VERBOSE=1 to print every row. */
#include "conf_check.h"
#include "suite_dense.h"

#include <stdlib.h>

static void test_depthwise_suite(void **state)
{
    (void)state;
    /* 6 cases x 4-5 rows, 5 error rows */
    sc_test_run_suite(sc_conf_depthwise, 6 * 4 + 5);
}

/* The forward's other form: an item per output, the GPU form on this CPU device
 * (the row form is this device's default), and a bad value named. */
static void test_depthwise_suite_items_form(void **state)
{
    (void)state;
    setenv("SPHERECL_DEPTHWISE", "items", 1);
    sc_test_run_suite(sc_conf_depthwise, 6 * 4 + 5);
    setenv("SPHERECL_DEPTHWISE", "both", 1);
    sc_test_bufs B = sc_test_bufs_open();
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                        .stride_w = 1, .pad_h = 1, .pad_w = 1, .group = 4};
    sc_test_expect_error(B.ctx,
                         sc_depthwise_forward(B.plan, "dw3", &p, (sc_shape){2, 4, 6, 5}, B.a,
                                              (sc_shape){4, 1, 3, 3}, B.a, NULL, B.b),
                         SC_ERR_ARG, "dw3 (DepthwiseConvolution)", "SPHERECL_DEPTHWISE='both'",
                         NULL);
    unsetenv("SPHERECL_DEPTHWISE");
    sc_test_bufs_close(&B);
}

static void test_depthwise_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    cl_mem big = B.a, small = B.small, y = B.b;
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 3, .stride_h = 2,
                        .stride_w = 2, .pad_h = 1, .pad_w = 1, .group = 4};
    sc_shape in = {2, 4, 6, 5}, w = {4, 1, 3, 3};
    /* num_output differs from the channels */
    sc_conv_params q = p;
    q.num_output = q.group = 8;
    sc_test_expect_error(B.ctx,
                         sc_depthwise_forward(B.plan, "dw2", &q, in, big, (sc_shape){8, 1, 3, 3},
                                              big, NULL, y),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "num_output 8", "2x4x6x5",
                         NULL);
    /* weights of a full convolution */
    sc_test_expect_error(B.ctx,
                         sc_depthwise_forward(B.plan, "dw2", &p, in, big, (sc_shape){4, 4, 3, 3},
                                              big, NULL, y),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "4x4x3x3", "2x4x6x5", NULL);
    /* zero dimension */
    sc_test_expect_error(B.ctx,
                         sc_depthwise_forward(B.plan, "dw2", &p, (sc_shape){0, 4, 6, 5}, big, w,
                                              big, NULL, y),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "0x4x6x5", NULL);
    /* kernel larger than the padded input */
    q = p;
    q.kernel_w = 8;
    sc_test_expect_error(B.ctx,
                         sc_depthwise_forward(B.plan, "dw2", &q, in, big, (sc_shape){4, 1, 3, 8},
                                              big, NULL, y),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "3x8", "2x4x6x5", NULL);
    /* weight buffer too small; bias buffer missing */
    sc_test_expect_error(B.ctx, sc_depthwise_forward(B.plan, "dw2", &p, in, big, w, small, NULL, y),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "weight buffer holds",
                         "needs 36", NULL);
    q = p;
    q.bias_term = 1;
    sc_test_expect_error(B.ctx, sc_depthwise_forward(B.plan, "dw2", &q, in, big, w, big, NULL, y),
                         SC_ERR_ARG, "dw2 (DepthwiseConvolution)", "bias buffer is missing", NULL);
    /* backward: dy too small */
    sc_test_expect_error(B.ctx,
                         sc_depthwise_backward(B.plan, "dw2", &p, in, big, w, big, small, big,
                                               0.0f, NULL, NULL),
                         SC_ERR_SHAPE, "dw2 (DepthwiseConvolution)", "output diff buffer holds",
                         "needs 72 (output diff 2x4x3x3)", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depthwise_errors),
        cmocka_unit_test(test_depthwise_suite),
        cmocka_unit_test(test_depthwise_suite_items_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
