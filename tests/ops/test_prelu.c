/* PReLU (per channel and channel_shared, in place): kernel conformance against
 * the reference and finite differences, and the argument errors. */
#include "conf_check.h"
#include "suite_elementwise.h"

static void test_prelu_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_prelu, 0);
}

static void test_prelu_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_prelu_params p = {.channel_shared = 0};
    sc_shape s = {2, 3, 7, 9}, out;
    sc_test_expect_error(B.ctx,
                         sc_prelu_output_shape(B.ctx, "mylayer", &p, (sc_shape){2, 0, 7, 9}, &out),
                         SC_ERR_SHAPE, "mylayer", "(PReLU)", "2x0x7x9", NULL);
    /* one slope per channel: 3 needed, the buffer holds 2 */
    sc_test_expect_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.tiny, B.b, NULL),
                         SC_ERR_SHAPE, "mylayer", "(PReLU)", "2x3x7x9", "needs 3", NULL);
    sc_test_expect_error(B.ctx,
                         sc_prelu_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.tiny, B.c,
                                           B.c, 0.0f, NULL, NULL),
                         SC_ERR_SHAPE, "mylayer", "(PReLU)", "2x3x7x9", "needs 3", NULL);
    /* a slope gradient needs the work buffer of per-plane sums (2 x 3 floats) */
    sc_test_expect_error(B.ctx,
                         sc_prelu_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.small, B.c,
                                           B.c, 0.0f, B.small, NULL),
                         SC_ERR_ARG, "mylayer", "(PReLU)", "work buffer is missing", "2x3x7x9",
                         NULL);
    sc_test_expect_error(B.ctx,
                         sc_prelu_backward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.small, B.c,
                                           B.c, 0.0f, B.small, B.tiny),
                         SC_ERR_SHAPE, "mylayer", "(PReLU)", "work", "needs 6", NULL);
    /* in place needs the saved copy of x, and not x itself */
    sc_test_expect_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, NULL),
                         SC_ERR_ARG, "mylayer", "(PReLU)", "saved", "2x3x7x9", NULL);
    sc_test_expect_error(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.a, B.a),
                         SC_ERR_ARG, "mylayer", "(PReLU)", "saved", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* channel_shared: one slope is enough */
    p.channel_shared = 1;
    assert_int_equal(sc_prelu_slope_count(&p, s), 1);
    sc_assert_ok(B.ctx, sc_prelu_forward(B.plan, "mylayer", &p, s, B.a, B.tiny, B.b, NULL));
    assert_int_equal(sc_plan_steps(B.plan), 1);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prelu_errors),
        cmocka_unit_test(test_prelu_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
