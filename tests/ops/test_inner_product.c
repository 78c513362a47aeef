/* InnerProduct: the conformance suite (both GEMM providers, with and without
 * transpose) plus direct tests of the argument errors. Set
 * SPHERECL_TEST_VERBOSE=1 to print every row. */
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

static void test_inner_product_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_inner_product(ctx, &rep);
    print_rows(&rep);
    if (st != SC_OK)
        fail_msg("suite could not run: %s: %s", sc_status_name(st), sc_ctx_message(ctx));
    /* 5 cases x 2 providers x 4-5 rows, 5 error rows */
    assert_true(rep.n >= 5 * 2 * 4 + 5);
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

static void test_inner_product_errors(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_mem x, y, small;
    sc_plan *plan;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &y));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &small));
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_inner_product_params p = {.num_output = 6, .bias_term = 1};
    sc_shape in = {5, 2, 3, 4}, w = {6, 24, 1, 1};
    /* features (K = 24) vs weights */
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &p, in, x, (sc_shape){6, 23, 1, 1}, x,
                                              x, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "5x2x3x4", "6x23x1x1");
    /* transpose expects K x N */
    sc_inner_product_params t = p;
    t.transpose = 1;
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &t, in, x, w, x, x, y), SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "expected 24x6x1x1", "5x2x3x4");
    /* zero dimension, zero outputs */
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &p, (sc_shape){5, 2, 0, 4}, x, w, x, x,
                                              y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "5x2x0x4", NULL);
    sc_inner_product_params z = {.num_output = 0};
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &z, in, x, w, x, x, y), SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "num_output is 0", "5x2x3x4");
    /* buffers too small */
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &p, in, x, w, small, x, y),
                     SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "weight buffer holds", "needs 144 (weight 6x24x1x1)");
    assert_int_equal(sc_inner_product_forward(plan, "fc5", &p, in, x, w, x, x, small),
                     SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "output buffer holds", "needs 30 (output 5x6x1x1)");
    assert_int_equal(sc_inner_product_backward(plan, "fc5", &p, in, x, w, x, y, NULL, 0.0f, NULL,
                                               small),
                     SC_OK); /* 16 >= 6 bias floats: fine */
    assert_int_equal(sc_inner_product_backward(plan, "fc5", &p, in, x, w, x, y, NULL, 0.0f, small,
                                               NULL),
                     SC_ERR_SHAPE);
    assert_message(ctx, "fc5 (InnerProduct)", "weight diff buffer holds", "needs 144");
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    sc_buffer_release(ctx, small);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inner_product_errors),
        cmocka_unit_test(test_inner_product_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
