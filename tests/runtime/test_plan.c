/* Plans: steps recorded once replay with the same effect every run, errors
 * name the step, profiling reports every step. */
#include "sc_test.h"

#include <string.h>

static sc_status add_one_host(sc_ctx *ctx, void *user)
{
    (void)ctx;
    (*(int *)user)++;
    return SC_OK;
}

static sc_status failing_host(sc_ctx *ctx, void *user)
{
    (void)user;
    return sc_fail(sc_ctx_error(ctx), SC_ERR_NUMERIC, "loss is NaN");
}

static void test_record_and_replay(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const int n = 1001; /* not a multiple of the work-group size */
    cl_mem x, y;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, n * sizeof(float), &x));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, n * sizeof(float), &y));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    size_t g = (size_t)n;
    int host_calls = 0;
    sc_assert_ok(ctx, sc_plan_kernel(plan, "fill x", "util", "fill", NULL, 1, &g, NULL,
                                     SC_ARGS(SC_ARG_INT(n), SC_ARG_FLOAT(2.0f), SC_ARG_MEM(x))));
    sc_assert_ok(ctx, sc_plan_kernel(plan, "y += 0.5 x", "util", "axpy", NULL, 1, &g, NULL,
                                     SC_ARGS(SC_ARG_INT(n), SC_ARG_FLOAT(0.5f), SC_ARG_MEM(x),
                                             SC_ARG_MEM(y))));
    sc_assert_ok(ctx, sc_plan_host(plan, "count", add_one_host, &host_calls));
    assert_int_equal(sc_plan_steps(plan), 3);
    sc_assert_ok(ctx, sc_buffer_fill(ctx, y, 0.0f, 0, n));
    for (int run = 1; run <= 3; run++) {
        sc_assert_ok(ctx, sc_plan_run(plan));
        float v[1001];
        sc_assert_ok(ctx, sc_buffer_read(ctx, y, 0, sizeof v, v));
        for (int i = 0; i < n; i++)
            assert_true(v[i] == 1.0f * (float)run);
        assert_int_equal(host_calls, run);
    }
    sc_plan_destroy(plan);

    /* a failing step names itself */
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_assert_ok(ctx, sc_plan_host(plan, "loss check", failing_host, NULL));
    assert_int_equal(sc_plan_run(plan), SC_ERR_NUMERIC);
    assert_non_null(strstr(sc_ctx_message(ctx), "loss check: loss is NaN"));
    sc_plan_destroy(plan);

    /* a bad kernel name fails at record time */
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    assert_int_not_equal(sc_plan_kernel(plan, "bad", "util", "nope", NULL, 1, &g, NULL,
                                        SC_ARGS(SC_ARG_INT(n))),
                         SC_OK);
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    sc_ctx_destroy(ctx);
}

static void test_profile(void **state)
{
    (void)state;
    sc_ctx_options opts = {.selector = "cpu", .cache_dir = "", .profiling = 1};
    sc_error err = {0};
    sc_ctx *ctx;
    sc_assert_ok_err(&err, sc_ctx_create(&opts, &ctx, &err));
    cl_mem x;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 4096 * sizeof(float), &x));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    size_t g = 4096;
    sc_assert_ok(ctx, sc_plan_kernel(plan, "fill", "util", "fill", NULL, 1, &g, NULL,
                                     SC_ARGS(SC_ARG_INT(4096), SC_ARG_FLOAT(1.0f), SC_ARG_MEM(x))));
    sc_assert_ok(ctx, sc_plan_run(plan));
    sc_plan_profile_entry *e;
    size_t n;
    sc_assert_ok(ctx, sc_plan_profile(plan, &e, &n));
    assert_int_equal(n, 1);
    assert_string_equal(e[0].label, "fill");
    assert_true(e[0].ms >= 0.0);
    free(e);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_replay),
        cmocka_unit_test(test_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
