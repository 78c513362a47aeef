/* BatchNorm (training with running statistics, global statistics, in place):
 * kernel conformance against the reference and finite differences, and the
 * argument errors. */
#include "conf_check.h"
#include "suite_elementwise.h"

static void test_batchnorm_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_batchnorm, 0);
}

static void test_batchnorm_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_batchnorm_params p = sc_batchnorm_default_params();
    assert_true(p.eps == 1e-5f && p.moving_average_fraction == 0.999f && !p.use_global_stats);
    sc_shape s = {2, 3, 7, 9}, out;
    sc_test_expect_error(B.ctx,
                         sc_batchnorm_output_shape(B.ctx, "mylayer", &p, (sc_shape){2, 3, 7, 0},
                                                   &out),
                         SC_ERR_SHAPE, "mylayer", "(BatchNorm)", "2x3x7x0", NULL);
    /* the variance blob has one value per channel */
    sc_test_expect_error(B.ctx,
                         sc_batchnorm_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, B.tiny,
                                              B.a, B.c, B.c),
                         SC_ERR_SHAPE, "mylayer", "(BatchNorm)", "2x3x7x9", "needs 3", NULL);
    /* saved keeps x_hat in training: 2*C + N*C*H*W floats */
    assert_int_equal(sc_batchnorm_saved_floats(&p, s), 6 + 378);
    sc_test_expect_error(B.ctx,
                         sc_batchnorm_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, B.a, B.a,
                                              B.tiny, B.c),
                         SC_ERR_SHAPE, "mylayer", "(BatchNorm)", "saved", "needs 384", NULL);
    /* training sums per (n, c) plane into work: 2*N*C + 2*C floats */
    assert_int_equal(sc_batchnorm_work_floats(&p, s), 12 + 6);
    sc_test_expect_error(B.ctx,
                         sc_batchnorm_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, B.a, B.a,
                                              B.c, NULL),
                         SC_ERR_ARG, "mylayer", "(BatchNorm)", "work buffer is missing", NULL);
    sc_test_expect_error(B.ctx,
                         sc_batchnorm_backward(B.plan, "mylayer", &p, s, B.c, B.a, B.b, 0.0f,
                                               B.small),
                         SC_ERR_SHAPE, "mylayer", "(BatchNorm)", "work", "needs 18", NULL);
    p.eps = -1.0f;
    sc_test_expect_error(B.ctx, sc_batchnorm_output_shape(B.ctx, "mylayer", &p, s, &out),
                         SC_ERR_ARG, "mylayer", "(BatchNorm)", "eps", "2x3x7x9", NULL);
    p.eps = 1e-5f;
    p.moving_average_fraction = -0.5f;
    sc_test_expect_error(B.ctx, sc_batchnorm_output_shape(B.ctx, "mylayer", &p, s, &out),
                         SC_ERR_ARG, "mylayer", "(BatchNorm)", "moving_average_fraction",
                         "2x3x7x9", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* global statistics keep only mean and inv_std */
    p = sc_batchnorm_default_params();
    p.use_global_stats = 1;
    assert_int_equal(sc_batchnorm_saved_floats(&p, s), 6);
    assert_int_equal(sc_batchnorm_work_floats(&p, s), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_errors),
        cmocka_unit_test(test_batchnorm_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
