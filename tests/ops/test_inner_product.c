/* InnerProduct: the conformance suite (both GEMM providers, with and without
 * transpose) plus direct tests of the argument errors. Set
 * SPHERECL_CONF_VERBOSE=1 to print every row. */
#include "conf_check.h"
#include "suite_dense.h"

static void test_inner_product_suite(void **state)
{
    (void)state;
    /* 5 cases x 2 providers x 4-5 rows, 5 error rows */
    sc_test_run_suite(sc_conf_inner_product, 5 * 2 * 4 + 5);
}

static void test_inner_product_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.b, small = B.small;
    sc_inner_product_params p = {.num_output = 6, .bias_term = 1};
    sc_shape in = {5, 2, 3, 4}, w = {6, 24, 1, 1};
    /* features (K = 24) vs weights */
    sc_test_expect_error(B.ctx,
                         sc_inner_product_forward(plan, "fc5", &p, in, x, (sc_shape){6, 23, 1, 1},
                                                  x, x, y),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "5x2x3x4", "6x23x1x1", NULL);
    /* transpose expects K x N */
    sc_inner_product_params t = p;
    t.transpose = 1;
    sc_test_expect_error(B.ctx, sc_inner_product_forward(plan, "fc5", &t, in, x, w, x, x, y),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "expected 24x6x1x1", "5x2x3x4",
                         NULL);
    /* zero dimension, zero outputs */
    sc_test_expect_error(B.ctx,
                         sc_inner_product_forward(plan, "fc5", &p, (sc_shape){5, 2, 0, 4}, x, w,
                                                  x, x, y),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "5x2x0x4", NULL);
    sc_inner_product_params z = {.num_output = 0};
    sc_test_expect_error(B.ctx, sc_inner_product_forward(plan, "fc5", &z, in, x, w, x, x, y),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "num_output is 0", "5x2x3x4", NULL);
    /* buffers too small */
    sc_test_expect_error(B.ctx, sc_inner_product_forward(plan, "fc5", &p, in, x, w, small, x, y),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "weight buffer holds",
                         "needs 144 (weight 6x24x1x1)", NULL);
    sc_test_expect_error(B.ctx, sc_inner_product_forward(plan, "fc5", &p, in, x, w, x, x, small),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "output buffer holds",
                         "needs 30 (output 5x6x1x1)", NULL);
    assert_int_equal(sc_inner_product_backward(plan, "fc5", &p, in, x, w, x, y, NULL, 0.0f, NULL,
                                               small),
                     SC_OK); /* 16 >= 6 bias floats: fine */
    sc_test_expect_error(B.ctx,
                         sc_inner_product_backward(plan, "fc5", &p, in, x, w, x, y, NULL, 0.0f,
                                                   small, NULL),
                         SC_ERR_SHAPE, "fc5 (InnerProduct)", "weight diff buffer holds",
                         "needs 144", NULL);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inner_product_errors),
        cmocka_unit_test(test_inner_product_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
