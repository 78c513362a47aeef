/* Pooling on the test device: the conformance suite (every row must pass) and
 * the argument errors, checked directly. */
#include "conf_check.h"
#include "suite_pool_loss.h"

static void test_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_pooling, 0);
}

/* Caffe's ceil rule with the pad correction, on hand-computed sizes. */
static void test_output_shapes(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    struct {
        int h, w, k, s, p, oh, ow;
    } cases[] = {
        {7, 7, 3, 2, 0, 3, 3},     /* exact fit */
        {8, 10, 3, 2, 0, 4, 5},    /* ceil: the last windows are partial */
        {6, 5, 2, 2, 1, 4, 3},     /* W: (4-1)*2 >= 5+1, the last window is dropped */
        {112, 96, 3, 2, 0, 56, 48} /* SphereFace-style stem */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sc_pooling_params p = {SC_POOL_MAX, cases[i].k, cases[i].k, cases[i].s, cases[i].s,
                               cases[i].p, cases[i].p, 0};
        sc_shape y;
        sc_assert_ok(ctx, sc_pooling_output_shape(ctx, "pool", &p,
                                                  (sc_shape){2, 3, cases[i].h, cases[i].w}, &y));
        assert_int_equal(y.n, 2);
        assert_int_equal(y.c, 3);
        assert_int_equal(y.h, cases[i].oh);
        assert_int_equal(y.w, cases[i].ow);
        assert_int_equal(sc_pooling_argmax_floats(&p, (sc_shape){2, 3, cases[i].h, cases[i].w}),
                         (size_t)(6 * cases[i].oh * cases[i].ow));
    }
    sc_pooling_params g = {SC_POOL_AVE, 0, 0, 0, 0, 0, 0, 1};
    sc_shape y;
    sc_assert_ok(ctx, sc_pooling_output_shape(ctx, "gap", &g, (sc_shape){4, 512, 7, 6}, &y));
    assert_true(y.n == 4 && y.c == 512 && y.h == 1 && y.w == 1);
    assert_int_equal(sc_pooling_argmax_floats(&g, (sc_shape){4, 512, 7, 6}), 0);
    sc_ctx_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_ctx *ctx = B.ctx;
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.small;
    sc_pooling_params p = {SC_POOL_MAX, 5, 5, 1, 1, 1, 1, 0};
    sc_shape out;

    /* kernel 5 > 2 + 2*1 */
    sc_test_expect_error(ctx,
                         sc_pooling_forward(plan, "pool1", &p, (sc_shape){1, 3, 2, 9}, x, y,
                                            NULL),
                         SC_ERR_ARG, "(Pooling)", "pool1", "1x3x2x9",
                         "larger than the padded input along H", NULL);
    p = (sc_pooling_params){SC_POOL_AVE, 3, 3, 0, 2, 0, 0, 0};
    sc_test_expect_error(ctx,
                         sc_pooling_output_shape(ctx, "pool2", &p, (sc_shape){1, 3, 8, 8}, &out),
                         SC_ERR_ARG, "(Pooling)", "pool2", "1x3x8x8",
                         "stride must be positive along H", NULL);
    p = (sc_pooling_params){SC_POOL_AVE, 3, 3, 2, 2, 0, 3, 0};
    sc_test_expect_error(ctx,
                         sc_pooling_output_shape(ctx, "pool3", &p, (sc_shape){1, 3, 8, 8}, &out),
                         SC_ERR_ARG, "(Pooling)", "pool3", "1x3x8x8",
                         "pad must be smaller than the kernel along W", NULL);
    p = (sc_pooling_params){SC_POOL_MAX, 3, 3, 2, 2, 0, 0, 0};
    sc_test_expect_error(ctx,
                         sc_pooling_backward(plan, "pool4", &p, (sc_shape){1, 0, 8, 8}, y, y, x,
                                             0.0f),
                         SC_ERR_ARG, "(Pooling)", "pool4", "1x0x8x8", "zero", NULL);
    /* 1x3x32x32 pools to 1x3x16x16 = 768 floats; y holds 16 (at most 32 from the pool) */
    sc_test_expect_error(ctx,
                         sc_pooling_forward(plan, "pool5", &p, (sc_shape){1, 3, 32, 32}, x, y,
                                            NULL),
                         SC_ERR_SHAPE, "(Pooling)", "pool5", "output buffer holds", "needs 768",
                         NULL);
    sc_test_expect_error(ctx,
                         sc_pooling_backward(plan, "pool6", &p, (sc_shape){1, 1, 4, 4}, x, NULL,
                                             x, 0.0f),
                         SC_ERR_ARG, "(Pooling)", "pool6", "argmax", "missing", NULL);
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_test_bufs_close(&B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_output_shapes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
