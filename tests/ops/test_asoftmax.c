/* A-Softmax (MarginInnerProduct): the generated conformance suite and every
 * golden case of ../shared/golden/asoftmax, plus direct tests of the argument
 * errors and of the state helpers. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "suite_asoftmax.h"

static void print_failures(const sc_conf_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (!r->pass)
            fprintf(stderr, "FAIL %s | %s | %s | max_rel %.3g tol %.3g\n", r->op, r->shape,
                    r->direction, r->max_rel, r->tol);
    }
}

static void run_suite_checked(sc_ctx *ctx, sc_conf_report *rep, sc_status st, size_t min_rows)
{
    if (st != SC_OK)
        fail_msg("suite could not run: %s: %s", sc_status_name(st), sc_ctx_message(ctx));
    print_failures(rep);
    assert_true(rep->n >= min_rows);
    assert_int_equal(sc_conf_failures(rep), 0);
}

static void test_generated_suite(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_asoftmax(ctx, &rep);
    /* 17 generated cases (8+ rows each), sign-zero, labels, schedule, errors */
    run_suite_checked(ctx, &rep, st, 100);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void test_golden_cases(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    sc_status st = sc_conf_asoftmax_golden(ctx, sc_test_shared("golden/asoftmax"), &rep);
    /* 29 cases x (lambda, iteration, W, f, 4 gradients, 2 saved) */
    run_suite_checked(ctx, &rep, st, 29 * 10);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void test_golden_missing_dir(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    assert_int_equal(sc_conf_asoftmax_golden(ctx, "/nonexistent/golden", &rep), SC_ERR_IO);
    assert_non_null(strstr(sc_ctx_message(ctx), "/nonexistent/golden"));
    assert_int_equal(rep.n, 0);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

/* Buffers large enough for every error case below, so only the tested
 * problem can fail. */
typedef struct err_fixture {
    sc_ctx *ctx;
    cl_mem big, labels4, labels3;
    sc_plan *plan;
} err_fixture;

static void fixture_open(err_fixture *fx)
{
    fx->ctx = sc_test_ctx();
    sc_assert_ok(fx->ctx, sc_buffer_alloc(fx->ctx, 4096 * sizeof(float), &fx->big));
    sc_assert_ok(fx->ctx, sc_buffer_alloc(fx->ctx, 4 * sizeof(float), &fx->labels4));
    sc_assert_ok(fx->ctx, sc_buffer_alloc(fx->ctx, 3 * sizeof(float), &fx->labels3));
    sc_assert_ok(fx->ctx, sc_plan_create(fx->ctx, &fx->plan));
}

static void fixture_close(err_fixture *fx)
{
    assert_int_equal(sc_plan_steps(fx->plan), 0); /* a failed call records nothing */
    sc_plan_destroy(fx->plan);
    sc_buffer_release(fx->ctx, fx->big);
    sc_buffer_release(fx->ctx, fx->labels4);
    sc_buffer_release(fx->ctx, fx->labels3);
    sc_ctx_destroy(fx->ctx);
}

static sc_status forward_with(err_fixture *fx, const sc_asoftmax_params *p, sc_shape x,
                              sc_shape w, cl_mem labels)
{
    return sc_asoftmax_forward(fx->plan, "fc6", p, x, fx->big, labels, w, fx->big, fx->big, 1,
                               fx->big, fx->big, fx->big);
}

static sc_status backward_with(err_fixture *fx, const sc_asoftmax_params *p, sc_shape x,
                               sc_shape w, cl_mem labels)
{
    return sc_asoftmax_backward(fx->plan, "fc6", p, x, fx->big, labels, w, fx->big, fx->big,
                                fx->big, fx->big, fx->big, fx->big, 0.0f, fx->big);
}

static void assert_message(sc_ctx *ctx, const char *x, const char *w, const char *problem)
{
    const char *msg = sc_ctx_message(ctx);
    if (!strstr(msg, "fc6") || !strstr(msg, "MarginInnerProduct") || !strstr(msg, x) ||
        !strstr(msg, w) || !strstr(msg, problem))
        fail_msg("unexpected message: %s", msg);
}

static void test_error_margin(void **state)
{
    (void)state;
    err_fixture fx;
    fixture_open(&fx);
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    sc_shape x = {4, 8, 1, 1}, w = {5, 8, 1, 1};
    p.m = 5;
    assert_int_equal(forward_with(&fx, &p, x, w, fx.labels4), SC_ERR_ARG);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "m = 5 is outside 1..4");
    p.m = 0;
    assert_int_equal(backward_with(&fx, &p, x, w, fx.labels4), SC_ERR_ARG);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "m = 0 is outside 1..4");
    p.m = 2;
    p.mode = (sc_asoftmax_mode)3;
    assert_int_equal(backward_with(&fx, &p, x, w, fx.labels4), SC_ERR_ARG);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "backward mode 3");
    fixture_close(&fx);
}

static void test_error_shapes(void **state)
{
    (void)state;
    err_fixture fx;
    fixture_open(&fx);
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    p.m = 4;
    /* K mismatch: 3x1x3 = 9 input values per row, weights of 8 */
    assert_int_equal(forward_with(&fx, &p, (sc_shape){4, 3, 1, 3}, (sc_shape){5, 8, 1, 1},
                                  fx.labels4),
                     SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x3x1x3", "5x8x1x1", "K = 9");
    assert_int_equal(backward_with(&fx, &p, (sc_shape){4, 3, 1, 3}, (sc_shape){5, 8, 1, 1},
                                   fx.labels4),
                     SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x3x1x3", "5x8x1x1", "K = 8");
    /* zero M */
    assert_int_equal(forward_with(&fx, &p, (sc_shape){0, 8, 1, 1}, (sc_shape){5, 8, 1, 1},
                                  fx.labels4),
                     SC_ERR_SHAPE);
    assert_message(fx.ctx, "0x8x1x1", "5x8x1x1", "zero");
    /* weights rows vs num_output */
    assert_int_equal(forward_with(&fx, &p, (sc_shape){4, 8, 1, 1}, (sc_shape){6, 8, 1, 1},
                                  fx.labels4),
                     SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x8x1x1", "6x8x1x1", "num_output is 5");
    /* output shape inference shares the checks */
    sc_shape out;
    assert_int_equal(sc_asoftmax_output_shape(fx.ctx, "fc6", &p, (sc_shape){4, 3, 1, 3},
                                              (sc_shape){5, 8, 1, 1}, &out),
                     SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x3x1x3", "5x8x1x1", "K = 9");
    sc_assert_ok(fx.ctx, sc_asoftmax_output_shape(fx.ctx, "fc6", &p, (sc_shape){4, 2, 2, 2},
                                                  (sc_shape){5, 8, 1, 1}, &out));
    assert_int_equal(out.n, 4);
    assert_int_equal(out.c, 5);
    assert_int_equal(out.h * out.w, 1);
    fixture_close(&fx);
}

static void test_error_buffers(void **state)
{
    (void)state;
    err_fixture fx;
    fixture_open(&fx);
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    p.m = 2;
    sc_shape x = {4, 8, 1, 1}, w = {5, 8, 1, 1};
    assert_int_equal(forward_with(&fx, &p, x, w, fx.labels3), SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "label buffer holds 3 floats, needs 4");
    assert_int_equal(backward_with(&fx, &p, x, w, fx.labels3), SC_ERR_SHAPE);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "label buffer holds 3 floats, needs 4");
    assert_int_equal(forward_with(&fx, &p, x, w, NULL), SC_ERR_ARG);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "label buffer is missing");
    /* m >= 2 needs the workspace for dx */
    assert_int_equal(sc_asoftmax_backward(fx.plan, "fc6", &p, x, fx.big, fx.labels4, w, fx.big,
                                          fx.big, fx.big, fx.big, NULL, fx.big, 0.0f, fx.big),
                     SC_ERR_ARG);
    assert_message(fx.ctx, "4x8x1x1", "5x8x1x1", "workspace buffer is missing");
    fixture_close(&fx);
}

static void test_sizes_and_state(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_asoftmax_params p = sc_asoftmax_params_default(10);
    assert_int_equal(p.m, 1);
    assert_true(p.base == 1.0f && p.gamma == 0.0f && p.power == 1.0f && p.lambda_min == 0.0f);
    assert_int_equal(p.mode, SC_ASOFTMAX_CAFFE);
    assert_int_equal(sc_asoftmax_workspace_floats(&p, 7), 0); /* m = 1 needs none */
    p.m = 3;
    assert_int_equal(sc_asoftmax_workspace_floats(&p, 7), 7 * 10 + 7);
    assert_int_equal(sc_asoftmax_saved_floats(7), 14);
    p.base = 1000.0f, p.gamma = 0.12f, p.power = 1.0f, p.lambda_min = 5.0f;
    assert_true(fabsf(sc_asoftmax_lambda(&p, 1) - 892.857142857f) < 1e-3f);
    assert_true(sc_asoftmax_lambda(&p, 28001) == 5.0f);

    cl_mem st;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sc_asoftmax_state_floats() * sizeof(float), &st));
    int iter = 0;
    float lambda = 0;
    sc_assert_ok(ctx, sc_asoftmax_state_set(ctx, st, 2147483000, 0.125f));
    sc_assert_ok(ctx, sc_asoftmax_state_get(ctx, st, &iter, &lambda));
    assert_int_equal(iter, 2147483000);
    assert_true(lambda == 0.125f);
    p.iteration = 99;
    sc_assert_ok(ctx, sc_asoftmax_state_init(ctx, &p, st));
    sc_assert_ok(ctx, sc_asoftmax_state_get(ctx, st, &iter, &lambda));
    assert_int_equal(iter, 99);
    assert_true(lambda == sc_asoftmax_lambda(&p, 99));
    sc_buffer_release(ctx, st);

    /* one float (not from the pool, which may hand out the 2-float buffer again) */
    cl_int rc;
    cl_mem tiny = clCreateBuffer(sc_ctx_cl(ctx), CL_MEM_READ_WRITE, 4, NULL, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    assert_int_equal(sc_asoftmax_state_get(ctx, tiny, &iter, &lambda), SC_ERR_SHAPE);
    assert_non_null(strstr(sc_ctx_message(ctx), "A-Softmax state"));
    clReleaseMemObject(tiny);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_margin),     cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_error_buffers),    cmocka_unit_test(test_sizes_and_state),
        cmocka_unit_test(test_golden_missing_dir), cmocka_unit_test(test_golden_cases),
        cmocka_unit_test(test_generated_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
