/* The asynchronous runtime: non-blocking transfers with events, a host GEMM
 * enqueued between device kernels with no host wait (its result is ordered
 * with the kernels around it through the queue), and the runtime's count of
 * host-blocking calls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_test.h"

static const char *k_scale_src =
    "__kernel void scale(__global float *x, float a, int n) {\n"
    "    int i = get_global_id(0); if (i < n) x[i] *= a; }\n";

static void launch_scale(sc_ctx *ctx, cl_kernel k, cl_mem x, float a, int n)
{
    sc_assert_ok(ctx, sc_kernel_set_args(ctx, k, "scale", SC_ARGS(SC_ARG_MEM(x), SC_ARG_FLOAT(a),
                                                                   SC_ARG_INT(n))));
    size_t g = (size_t)n;
    sc_assert_ok(ctx, sc_kernel_launch(ctx, k, "scale", 1, &g, NULL));
}

static void test_async_transfers_and_host_gemm(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_ctx_set_gemm_provider(ctx, SC_GEMM_HOST);
    cl_program prog;
    sc_assert_ok(ctx, sc_program_from_source(ctx, "async_scale", k_scale_src, NULL, &prog));
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, "scale", &rc);
    assert_int_equal(rc, CL_SUCCESS);
    enum { M = 19, N = 23, K = 31 };
    float a[M * K], b[K * N], c[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 7) % 13) - 6;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 5) % 11) - 5;
    cl_mem da, db, dc;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof a, &da));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof b, &db));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof c, &dc));
    size_t before = sc_ctx_sync_stats(ctx).blocking_calls;
    for (int round = 1; round <= 3; round++) {
        /* A is written, scaled by a kernel, multiplied on the host, and the
         * product scaled again: all enqueued, one wait at the end. */
        cl_event wa = NULL, wb = NULL, rd = NULL;
        sc_assert_ok(ctx, sc_buffer_write_async(ctx, da, 0, sizeof a, a, &wa));
        sc_assert_ok(ctx, sc_buffer_write_async(ctx, db, 0, sizeof b, b, &wb));
        launch_scale(ctx, k, da, (float)round, M * K);
        sc_gemm_args g = {.layout = SC_ROW_MAJOR, .m = M, .n = N, .k = K, .alpha = 1, .a = da,
                          .lda = K, .b = db, .ldb = N, .beta = 0, .c = dc, .ldc = N};
        sc_assert_ok(ctx, sc_gemm(ctx, &g));
        launch_scale(ctx, k, dc, 0.5f, M * N);
        sc_assert_ok(ctx, sc_buffer_read_async(ctx, dc, 0, sizeof c, c, &rd));
        assert_non_null(rd);
        sc_assert_ok(ctx, sc_event_wait(ctx, &rd));
        sc_event_release(&wa);
        sc_event_release(&wb);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double ref = 0;
                for (int p = 0; p < K; p++)
                    ref += (double)a[i * K + p] * round * b[p * N + j];
                ref *= 0.5;
                /* small integers: every partial sum is exact in float */
                if (c[i * N + j] != (float)ref)
                    fail_msg("round %d: C[%d,%d] = %g, reference %g", round, i, j, c[i * N + j],
                             ref);
            }
    }
    size_t waits = sc_ctx_sync_stats(ctx).blocking_calls - before;
    printf("host-blocking calls for 3 rounds of write, kernel, host GEMM, kernel, read: %zu\n",
           waits);
    assert_int_equal(waits, 3);
    clReleaseKernel(k);
    sc_buffer_release(ctx, da);
    sc_buffer_release(ctx, db);
    sc_buffer_release(ctx, dc);
    sc_ctx_destroy(ctx);
}

/* y[i] = 2 * x[i] + i on the host, between two device steps. */
static sc_status host_double_plus_index(void *user, float **b, sc_error *err)
{
    (void)err;
    int n = *(const int *)user;
    for (int i = 0; i < n; i++)
        b[1][i] = 2.0f * b[0][i] + (float)i;
    return SC_OK;
}

/* A task that fails the way a host provider reports a failed call. */
static sc_status host_fail(void *user, float **b, sc_error *err)
{
    (void)b;
    return sc_fail(err, SC_ERR_UNSUPPORTED, "layer %s: dnnl_primitive_execute failed",
                   (const char *)user);
}

static void test_host_task_in_queue_order(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_program prog;
    sc_assert_ok(ctx, sc_program_from_source(ctx, "async_scale", k_scale_src, NULL, &prog));
    cl_int rc;
    cl_kernel k = clCreateKernel(prog, "scale", &rc);
    assert_int_equal(rc, CL_SUCCESS);
    enum { N = 1000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(i % 17);
    cl_mem dx, dy;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof x, &dx));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof y, &dy));
    size_t before = sc_ctx_sync_stats(ctx).blocking_calls;
    sc_assert_ok(ctx, sc_buffer_write_async(ctx, dx, 0, sizeof x, x, NULL));
    launch_scale(ctx, k, dx, 3.0f, N); /* x *= 3 on the device */
    int n = N;
    cl_mem mems[2] = {dx, dy};
    sc_assert_ok(ctx, sc_host_task(ctx, host_double_plus_index, &n, mems, 2, NULL, NULL));
    launch_scale(ctx, k, dy, 0.5f, N); /* y *= 0.5 on the device */
    sc_assert_ok(ctx, sc_buffer_read(ctx, dy, 0, sizeof y, y));
    assert_int_equal(sc_ctx_sync_stats(ctx).blocking_calls - before, 1);
    for (int i = 0; i < N; i++)
        assert_float_equal(y[i], (2.0f * 3.0f * (float)(i % 17) + (float)i) * 0.5f, 0);
    clReleaseKernel(k);
    sc_buffer_release(ctx, dx);
    sc_buffer_release(ctx, dy);
    sc_ctx_destroy(ctx);
}

/* A failing host task never blocks the caller; its status and message come
 * back from the next blocking call, and the context keeps working after. */
static void test_host_task_failure_reported(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    cl_mem m;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 64, &m));
    sc_assert_ok(ctx, sc_host_task(ctx, host_fail, "conv7", &m, 1, NULL, NULL));
    sc_status st = sc_ctx_finish(ctx);
    assert_int_equal(st, SC_ERR_UNSUPPORTED);
    assert_non_null(strstr(sc_ctx_message(ctx), "layer conv7: dnnl_primitive_execute failed"));
    int n = 16;
    cl_mem mems[2] = {m, m};
    sc_assert_ok(ctx, sc_host_task(ctx, host_double_plus_index, &n, mems, 2, NULL, NULL));
    sc_assert_ok(ctx, sc_ctx_finish(ctx));
    sc_buffer_release(ctx, m);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_transfers_and_host_gemm),
        cmocka_unit_test(test_host_task_in_queue_order),
        cmocka_unit_test(test_host_task_failure_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
