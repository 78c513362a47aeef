/* Scale (gamma per channel, optional bias, in place): kernel conformance
 * against the reference and finite differences, and the argument errors. */
#include "conf_check.h"
#include "suite_elementwise.h"

static void test_scale_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_scale, 0);
}

static void test_scale_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_scale_params p = {.bias_term = 1, .gamma_count = 4};
    sc_shape s = {2, 3, 7, 9}, out;
    /* gamma length must equal the channels */
    sc_test_expect_error(B.ctx, sc_scale_output_shape(B.ctx, "mylayer", &p, s, &out),
                         SC_ERR_SHAPE, "mylayer", "(Scale)", "shape 4", "2x3x7x9", NULL);
    sc_test_expect_error(B.ctx,
                         sc_scale_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.c, B.c, NULL),
                         SC_ERR_SHAPE, "mylayer", "(Scale)", "shape 4", "2x3x7x9", NULL);
    p.gamma_count = 3;
    sc_test_expect_error(B.ctx,
                         sc_scale_output_shape(B.ctx, "mylayer", &p, (sc_shape){0, 3, 7, 9}, &out),
                         SC_ERR_SHAPE, "mylayer", "(Scale)", "0x3x7x9", NULL);
    /* a gamma buffer too small for the channels */
    sc_test_expect_error(B.ctx,
                         sc_scale_forward(B.plan, "mylayer", &p, s, B.a, B.tiny, B.c, B.b, NULL),
                         SC_ERR_SHAPE, "mylayer", "(Scale)", "gamma", "2x3x7x9", NULL);
    /* bias_term needs beta; a dbeta without bias_term is an error */
    sc_test_expect_error(B.ctx,
                         sc_scale_forward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.c, NULL),
                         SC_ERR_ARG, "mylayer", "(Scale)", "beta", "2x3x7x9", NULL);
    p.bias_term = 0;
    sc_test_expect_error(B.ctx,
                         sc_scale_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.b, B.c,
                                           NULL, 0.0f, NULL, B.a, B.c),
                         SC_ERR_ARG, "mylayer", "(Scale)", "bias_term", NULL);
    /* parameter gradients sum per (n, c) plane into work: 2*N*C floats */
    assert_int_equal(sc_scale_backward_work_floats(s), 12);
    sc_test_expect_error(B.ctx,
                         sc_scale_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.b, B.c,
                                           NULL, 0.0f, B.small, NULL, NULL),
                         SC_ERR_ARG, "mylayer", "(Scale)", "work buffer is missing", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* gamma_count 0 means "the channels" */
    p.gamma_count = 0;
    sc_assert_ok(B.ctx, sc_scale_forward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.c, NULL));
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_errors),
        cmocka_unit_test(test_scale_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
