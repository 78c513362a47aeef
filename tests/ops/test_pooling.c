/* Pooling on the test device: the conformance suite (every row must pass) and
 * the argument errors, checked directly. */
#include "sc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_pool_loss.h"

static void print_rows(const sc_conf_report *rep)
{
    int all = getenv("SPHERECL_CONF_VERBOSE") != NULL;
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (all || !r->pass)
            printf("%s %-16s %-44s %-24s max_rel %.3g tol %.3g\n", r->pass ? "PASS" : "FAIL",
                   r->op, r->shape, r->direction, r->max_rel, r->tol);
    }
}

static void test_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_assert_ok(ctx, sc_conf_pooling(ctx, &rep));
    print_rows(&rep);
    printf("pooling: %zu rows, %zu failed\n", rep.n, sc_conf_failures(&rep));
    size_t failures = sc_conf_failures(&rep);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    assert_int_equal(failures, 0);
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

static void expect_message(sc_ctx *ctx, sc_status st, const char *a, const char *b,
                           const char *c)
{
    assert_int_not_equal(st, SC_OK);
    const char *msg = sc_ctx_message(ctx);
    const char *needles[] = {a, b, c, "(Pooling)"};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            fail_msg("message \"%s\" lacks \"%s\"", msg, needles[i]);
}

static void test_errors(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_mem x, y;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &y));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_pooling_params p = {SC_POOL_MAX, 5, 5, 1, 1, 1, 1, 0};
    sc_shape out;

    /* kernel 5 > 2 + 2*1 */
    expect_message(ctx, sc_pooling_forward(plan, "pool1", &p, (sc_shape){1, 3, 2, 9}, x, y, NULL),
                   "pool1", "1x3x2x9", "larger than the padded input along H");
    p = (sc_pooling_params){SC_POOL_AVE, 3, 3, 0, 2, 0, 0, 0};
    expect_message(ctx, sc_pooling_output_shape(ctx, "pool2", &p, (sc_shape){1, 3, 8, 8}, &out),
                   "pool2", "1x3x8x8", "stride must be positive along H");
    p = (sc_pooling_params){SC_POOL_AVE, 3, 3, 2, 2, 0, 3, 0};
    expect_message(ctx, sc_pooling_output_shape(ctx, "pool3", &p, (sc_shape){1, 3, 8, 8}, &out),
                   "pool3", "1x3x8x8", "pad must be smaller than the kernel along W");
    p = (sc_pooling_params){SC_POOL_MAX, 3, 3, 2, 2, 0, 0, 0};
    expect_message(ctx,
                   sc_pooling_backward(plan, "pool4", &p, (sc_shape){1, 0, 8, 8}, y, y, x, 0.0f),
                   "pool4", "1x0x8x8", "zero");
    /* 1x3x32x32 pools to 1x3x16x16 = 768 floats; y holds 16 (at most 32 from the pool) */
    expect_message(ctx,
                   sc_pooling_forward(plan, "pool5", &p, (sc_shape){1, 3, 32, 32}, x, y, NULL),
                   "pool5", "output buffer holds", "needs 768");
    expect_message(ctx,
                   sc_pooling_backward(plan, "pool6", &p, (sc_shape){1, 1, 4, 4}, x, NULL, x, 0.0f),
                   "pool6", "argmax", "missing");
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    sc_ctx_destroy(ctx);
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
