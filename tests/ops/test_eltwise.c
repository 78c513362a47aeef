/* Eltwise SUM (with coefficients), PROD and MAX (Caffe's tie rule) over 2..4
 * inputs: kernel conformance against the reference and finite differences,
 * and the argument errors. */
#include "conf_check.h"
#include "suite_elementwise.h"

static void test_eltwise_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_eltwise, 0);
}

static void test_eltwise_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_eltwise_params p = {.op = SC_ELTWISE_SUM};
    sc_shape out, two[2] = {{2, 3, 7, 9}, {2, 3, 9, 7}};
    cl_mem x[3] = {B.a, B.b, B.c};
    /* the message names both shapes */
    sc_test_expect_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, two, &out),
                         SC_ERR_SHAPE, "mylayer", "(Eltwise)", "2x3x7x9", "2x3x9x7", NULL);
    sc_test_expect_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, two, x, B.c, NULL),
                         SC_ERR_SHAPE, "mylayer", "(Eltwise)", "2x3x7x9", "2x3x9x7", NULL);
    sc_shape zero[2] = {{2, 3, 0, 9}, {2, 3, 0, 9}};
    sc_test_expect_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, zero, &out),
                         SC_ERR_SHAPE, "mylayer", "(Eltwise)", "2x3x0x9", NULL);
    sc_shape same[3] = {{2, 3, 7, 9}, {2, 3, 7, 9}, {2, 3, 7, 9}};
    const float coeffs[2] = {1.0f, -1.0f};
    p.coeffs = coeffs;
    p.n_coeffs = 2;
    sc_test_expect_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 3, same, &out),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "2 coefficients for 3 inputs",
                         "2x3x7x9", NULL);
    p.op = SC_ELTWISE_MAX;
    sc_test_expect_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 2, same, &out),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "only SUM", "2x3x7x9", NULL);
    p.n_coeffs = 0;
    sc_test_expect_error(B.ctx, sc_eltwise_output_shape(B.ctx, "mylayer", &p, 1, same, &out),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "at least 2", NULL);
    /* MAX keeps an argmax; y must not be an input */
    sc_test_expect_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, same, x, B.c, NULL),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "argmax", "2x3x7x9", NULL);
    sc_test_expect_error(B.ctx, sc_eltwise_forward(B.plan, "mylayer", &p, 2, same, x, B.a, B.c),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "in place", NULL);
    /* PROD over 3 inputs needs the workspace */
    p.op = SC_ELTWISE_PROD;
    assert_int_equal(sc_eltwise_workspace_floats(&p, 3, same[0]), 378);
    assert_int_equal(sc_eltwise_workspace_floats(&p, 2, same[0]), 0);
    cl_mem dx[3] = {B.c, NULL, NULL};
    sc_test_expect_error(B.ctx,
                         sc_eltwise_backward(B.plan, "mylayer", &p, 3, same, x, NULL, B.b, dx,
                                             0.0f, NULL),
                         SC_ERR_ARG, "mylayer", "(Eltwise)", "workspace", "2x3x7x9", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eltwise_errors),
        cmocka_unit_test(test_eltwise_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
