/* Convolution: the conformance suite (both GEMM providers, every case,
 * the timed forward, argument errors) plus direct tests of the errors and of
 * the workspace query. Set SPHERECL_TEST_VERBOSE=1 to print every row. */
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
            fprintf(r->pass ? stdout : stderr, "%s %s | %s | %s | max_rel %.3g tol %.3g | %.2f\n",
                    r->pass ? "PASS" : "FAIL", r->op, r->shape, r->direction, r->max_rel, r->tol,
                    r->gflops);
    }
}

static void test_conv_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_conv(ctx, &rep);
    print_rows(&rep);
    if (st != SC_OK)
        fail_msg("suite could not run: %s: %s", sc_status_name(st), sc_ctx_message(ctx));
    /* 9 cases x 2 providers x 4-5 rows, 2 timed rows, 7 error rows */
    assert_true(rep.n >= 9 * 2 * 4 + 2 + 7);
    assert_int_equal(sc_conf_failures(&rep), 0);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* Buffers large enough for every error case, so only the tested problem fails. */
typedef struct fixture {
    sc_ctx *ctx;
    cl_mem x, y, small;
    sc_plan *plan;
} fixture;

static void fixture_open(fixture *f)
{
    f->ctx = sc_test_ctx();
    sc_assert_ok(f->ctx, sc_buffer_alloc(f->ctx, 8192 * sizeof(float), &f->x));
    sc_assert_ok(f->ctx, sc_buffer_alloc(f->ctx, 8192 * sizeof(float), &f->y));
    sc_assert_ok(f->ctx, sc_buffer_alloc(f->ctx, 16 * sizeof(float), &f->small));
    sc_assert_ok(f->ctx, sc_plan_create(f->ctx, &f->plan));
}

static void fixture_close(fixture *f)
{
    sc_plan_destroy(f->plan);
    sc_buffer_release(f->ctx, f->x);
    sc_buffer_release(f->ctx, f->y);
    sc_buffer_release(f->ctx, f->small);
    sc_ctx_destroy(f->ctx);
}

static const sc_conv_params k_params = {.num_output = 5, .kernel_h = 3, .kernel_w = 3,
                                        .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
                                        .group = 1, .bias_term = 1};

static void assert_message(sc_ctx *ctx, const char *a, const char *b, const char *c)
{
    const char *msg = sc_ctx_message(ctx);
    const char *needles[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            fail_msg("message '%s' lacks '%s'", msg, needles[i]);
}

static sc_status forward(fixture *f, const sc_conv_params *p, sc_shape in, sc_shape w_shape,
                         cl_mem w, cl_mem ws)
{
    return sc_conv_forward(f->plan, "conv3", p, in, f->x, w_shape, w, f->x, f->y, ws);
}

static void test_conv_errors(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    sc_shape in = {2, 3, 7, 9};
    /* input channels vs weights */
    assert_int_equal(forward(&f, &k_params, in, (sc_shape){5, 4, 3, 3}, f.x, f.x), SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "2x3x7x9", "5x4x3x3");
    /* group not dividing the channels */
    sc_conv_params p = k_params;
    p.group = 2;
    assert_int_equal(forward(&f, &p, in, (sc_shape){5, 1, 3, 3}, f.x, f.x), SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "group 2", "2x3x7x9");
    /* zero dimension */
    assert_int_equal(forward(&f, &k_params, (sc_shape){2, 3, 7, 0}, (sc_shape){5, 3, 3, 3}, f.x,
                             f.x),
                     SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "2x3x7x0", NULL);
    /* kernel larger than the padded input */
    p = k_params;
    p.kernel_w = 12;
    assert_int_equal(forward(&f, &p, in, (sc_shape){5, 3, 3, 12}, f.x, f.x), SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "3x12", "2x3x7x9");
    /* weight buffer too small (135 floats needed) */
    assert_int_equal(forward(&f, &k_params, in, (sc_shape){5, 3, 3, 3}, f.small, f.x),
                     SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "weight buffer holds", "needs 135 (weight 5x3x3x3)");
    /* dilation */
    p = k_params;
    p.dilation_w = 2;
    assert_int_equal(forward(&f, &p, in, (sc_shape){5, 3, 3, 3}, f.x, f.x), SC_ERR_UNSUPPORTED);
    assert_message(f.ctx, "conv3 (Convolution)", "dilation 1x2", "2x3x7x9");
    /* workspace smaller than one image's column matrix (27 x 63 floats) */
    assert_int_equal(forward(&f, &k_params, in, (sc_shape){5, 3, 3, 3}, f.x, f.small),
                     SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "workspace holds", "needs at least 1701");
    /* in place is refused */
    assert_int_equal(sc_conv_forward(f.plan, "conv3", &k_params, in, f.x, (sc_shape){5, 3, 3, 3},
                                     f.x, f.x, f.x, f.y),
                     SC_ERR_ARG);
    assert_message(f.ctx, "conv3 (Convolution)", "same buffer", NULL);
    /* backward: weight diff buffer too small */
    assert_int_equal(sc_conv_backward(f.plan, "conv3", &k_params, in, f.x, (sc_shape){5, 3, 3, 3},
                                      f.x, f.y, NULL, 0.0f, f.small, NULL, f.x),
                     SC_ERR_SHAPE);
    assert_message(f.ctx, "conv3 (Convolution)", "weight diff buffer holds", NULL);
    /* nothing was recorded by the failing calls */
    assert_int_equal(sc_plan_steps(f.plan), 0);
    fixture_close(&f);
}

static void test_conv_shapes(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_shape in = {2, 6, 9, 7}, out;
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 2, .stride_h = 2,
                        .stride_w = 1, .pad_h = 1, .pad_w = 0, .group = 2};
    sc_assert_ok(ctx, sc_conv_output_shape(ctx, "c", in, &p, &out));
    /* floor((9 + 2 - 3) / 2) + 1 = 5, floor((7 - 2) / 1) + 1 = 6 */
    assert_int_equal(out.n, 2);
    assert_int_equal(out.c, 4);
    assert_int_equal(out.h, 5);
    assert_int_equal(out.w, 6);
    sc_shape w = sc_conv_weight_shape(in, &p);
    assert_int_equal(w.n, 4);
    assert_int_equal(w.c, 3);
    /* rows 6*3*2 = 36, P = 30: one image needs the column matrix only, chunks
     * of n images the column matrix and the K x n*P product */
    assert_int_equal(sc_conv_workspace_floats(in, &p, 1), 36 * 30);
    assert_int_equal(sc_conv_workspace_floats(in, &p, 2), 2 * (36 + 4) * 30);
    assert_int_equal(sc_conv_workspace_floats(in, &p, 0), 2 * (36 + 4) * 30);
    /* 1x1 stride 1 pad 0 one image at a time: none */
    sc_conv_params q = {.num_output = 4, .kernel_h = 1, .kernel_w = 1, .stride_h = 1,
                        .stride_w = 1, .group = 1};
    assert_int_equal(sc_conv_workspace_floats(in, &q, 1), 0);
    /* depthwise (group == C == K): none */
    sc_conv_params d = {.num_output = 6, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                        .stride_w = 1, .group = 6};
    assert_int_equal(sc_conv_workspace_floats(in, &d, 0), 0);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_shapes),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_conv_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
