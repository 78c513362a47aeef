/* Dropout (device-drawn masks, TRAIN and TEST, in place): kernel conformance
 * against the reference with the downloaded mask, mask statistics and replay,
 * and the argument errors. */
#include "conf_check.h"

#include <math.h>

#include "suite_elementwise.h"

static void test_dropout_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_dropout, 0);
}

static void test_dropout_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_dropout_params p = sc_dropout_default_params();
    assert_true(p.ratio == 0.5f && p.train);
    sc_shape s = {2, 3, 7, 9}, out;
    sc_test_expect_error(B.ctx,
                         sc_dropout_output_shape(B.ctx, "mylayer", &p, (sc_shape){2, 3, 7, 0},
                                                 &out),
                         SC_ERR_SHAPE, "mylayer", "(Dropout)", "2x3x7x0", NULL);
    const float bad[] = {1.0f, -0.1f, 2.0f, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.ratio = bad[i];
        sc_test_expect_error(B.ctx, sc_dropout_output_shape(B.ctx, "mylayer", &p, s, &out),
                             SC_ERR_ARG, "mylayer", "(Dropout)", "dropout_ratio", "2x3x7x9",
                             NULL);
    }
    p.ratio = 0.0f; /* allowed: keeps everything */
    sc_assert_ok(B.ctx, sc_dropout_output_shape(B.ctx, "mylayer", &p, s, &out));
    /* TRAIN needs the generator state and the mask (378 bytes = 95 floats) */
    p.ratio = 0.5f;
    assert_int_equal(sc_dropout_saved_floats(&p, s), 95);
    sc_test_expect_error(B.ctx, sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.b, NULL, B.c),
                         SC_ERR_ARG, "mylayer", "(Dropout)", "state", "2x3x7x9", NULL);
    sc_test_expect_error(B.ctx,
                         sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.b, B.c, B.tiny),
                         SC_ERR_SHAPE, "mylayer", "(Dropout)", "mask", "needs 95", NULL);
    assert_int_equal(sc_plan_steps(B.plan), 0);
    /* TEST in place records nothing */
    p.train = 0;
    assert_int_equal(sc_dropout_saved_floats(&p, s), 0);
    sc_assert_ok(B.ctx, sc_dropout_forward(B.plan, "mylayer", &p, s, B.a, B.a, NULL, NULL));
    assert_int_equal(sc_plan_steps(B.plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_errors),
        cmocka_unit_test(test_dropout_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
