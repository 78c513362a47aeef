/* DepthwiseConvolution: the conformance suite (direct kernels, and a
 * Convolution with group == channels routed to them) plus direct tests of
 * the argument errors. Set SPHERECL_TEST_VERBOSE=1 to print every row. */
#include "sc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_dense.h"

static void print_rows(const sc_conf_report *rep)
{
    const char *verbose = getenv("SPHERECL_TEST_VERBOSE");
    int all = verbose && *verbose && strcmp(verbose, "0") != 0;
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (!r->pass || all)
            fprintf(r->pass ? stdout : stderr, "%s %s | %s | %s | max_rel %.3g tol %.3g\n",
                    r->pass ? "PASS" : "FAIL", r->op, r->shape, r->direction, r->max_rel, r->tol);
    }
}

static void test_depthwise_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_depthwise(ctx, &rep);
    print_rows(&rep);
    if (st != SC_OK)
        fail_msg("suite could not run: %s: %s", sc_status_name(st), sc_ctx_message(ctx));
    /* 4 cases x 4-5 rows, 5 error rows */
    assert_true(rep.n >= 4 * 4 + 5);
    assert_int_equal(sc_conf_failures(&rep), 0);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void assert_message(sc_ctx *ctx, const char *a, const char *b, const char *c)
{
    const char *msg = sc_ctx_message(ctx);
    const char *needles[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            fail_msg("message '%s' lacks '%s'", msg, needles[i]);
}

static void test_depthwise_errors(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_mem big, small;
    sc_plan *plan;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &big));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &small));
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 3, .stride_h = 2,
                        .stride_w = 2, .pad_h = 1, .pad_w = 1, .group = 4};
    sc_shape in = {2, 4, 6, 5}, w = {4, 1, 3, 3};
    cl_mem y;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &y));
    /* num_output differs from the channels */
    sc_conv_params q = p;
    q.num_output = q.group = 8;
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &q, in, big, (sc_shape){8, 1, 3, 3}, big,
                                          NULL, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "num_output 8", "2x4x6x5");
    /* weights of a full convolution */
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &p, in, big, (sc_shape){4, 4, 3, 3}, big,
                                          NULL, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "4x4x3x3", "2x4x6x5");
    /* zero dimension */
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &p, (sc_shape){0, 4, 6, 5}, big, w, big,
                                          NULL, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "0x4x6x5", NULL);
    /* kernel larger than the padded input */
    q = p;
    q.kernel_w = 8;
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &q, in, big, (sc_shape){4, 1, 3, 8}, big,
                                          NULL, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "3x8", "2x4x6x5");
    /* weight buffer too small; bias buffer missing */
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &p, in, big, w, small, NULL, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "weight buffer holds", "needs 36");
    q = p;
    q.bias_term = 1;
    assert_int_equal(sc_depthwise_forward(plan, "dw2", &q, in, big, w, big, NULL, y), SC_ERR_ARG);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "bias buffer is missing", NULL);
    /* backward: dy too small */
    assert_int_equal(sc_depthwise_backward(plan, "dw2", &p, in, big, w, big, small, big, 0.0f,
                                           NULL, NULL),
                     SC_ERR_SHAPE);
    assert_message(ctx, "dw2 (DepthwiseConvolution)", "output diff buffer holds", "needs 72 (output diff 2x4x3x3)");
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, big);
    sc_buffer_release(ctx, small);
    sc_buffer_release(ctx, y);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depthwise_errors),
        cmocka_unit_test(test_depthwise_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
