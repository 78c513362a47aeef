/* Buffer round trips (1 byte, odd sizes, 64 MiB), the pool, range checks. */
#include "sc_test.h"

#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    *state = sc_test_ctx();
    return 0;
}

static int teardown(void **state)
{
    sc_ctx_destroy(*state);
    return 0;
}

static void round_trip(sc_ctx *ctx, size_t bytes)
{
    unsigned char *src = malloc(bytes), *dst = malloc(bytes);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < bytes; i++)
        src[i] = (unsigned char)(i * 131 + 7 + (i >> 13));
    memset(dst, 0xAB, bytes);
    cl_mem m;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, bytes, &m));
    assert_true(sc_buffer_size(m) >= bytes);
    sc_assert_ok(ctx, sc_buffer_write(ctx, m, 0, bytes, src));
    sc_assert_ok(ctx, sc_buffer_read(ctx, m, 0, bytes, dst));
    assert_memory_equal(src, dst, bytes);
    sc_buffer_release(ctx, m);
    free(src);
    free(dst);
}

static void test_round_trips(void **state)
{
    sc_ctx *ctx = *state;
    size_t sizes[] = {1, 3, 17, 4097, 65537, 1000003, 64u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        round_trip(ctx, sizes[i]);
}

static void test_partial_and_fill(void **state)
{
    sc_ctx *ctx = *state;
    cl_mem m;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 40 * sizeof(float), &m));
    sc_assert_ok(ctx, sc_buffer_fill(ctx, m, 2.5f, 0, 40));
    sc_assert_ok(ctx, sc_buffer_fill(ctx, m, -1.0f, 7, 5));
    float v[40];
    sc_assert_ok(ctx, sc_buffer_read(ctx, m, 0, sizeof v, v));
    for (int i = 0; i < 40; i++)
        assert_true(v[i] == ((i >= 7 && i < 12) ? -1.0f : 2.5f));
    /* out-of-range transfers are argument errors, not crashes */
    assert_int_equal(sc_buffer_read(ctx, m, 39 * sizeof(float), 2 * sizeof(float), v), SC_ERR_ARG);
    assert_non_null(strstr(sc_ctx_message(ctx), "outside"));
    assert_int_equal(sc_buffer_fill(ctx, m, 0.f, 38, 3), SC_ERR_ARG);
    sc_buffer_release(ctx, m);
}

static void test_pool_reuse(void **state)
{
    sc_ctx *ctx = *state;
    cl_mem a, b, c;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 1 << 20, &a));
    sc_buffer_release(ctx, a);
    sc_pool_stats before = sc_ctx_pool_stats(ctx);
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, (1 << 20) - 100, &b)); /* fits: reused */
    assert_ptr_equal(a, b);
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 1 << 20, &c)); /* pool empty: new */
    assert_ptr_not_equal(b, c);
    sc_pool_stats after = sc_ctx_pool_stats(ctx);
    assert_int_equal(after.reuses, before.reuses + 1);
    assert_int_equal(after.allocations, before.allocations + 1);
    sc_buffer_release(ctx, b);
    sc_buffer_release(ctx, c);
    assert_int_equal(sc_buffer_alloc(ctx, 0, &a), SC_ERR_ARG);
}

static void test_too_large(void **state)
{
    sc_ctx *ctx = *state;
    cl_mem m = NULL;
    size_t huge = (size_t)sc_ctx_info(ctx)->max_alloc + 4096;
    sc_status st = sc_buffer_alloc(ctx, huge, &m);
    assert_int_equal(st, SC_ERR_NOMEM);
    assert_null(m);
    assert_non_null(strstr(sc_ctx_message(ctx), "out of memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_partial_and_fill),
        cmocka_unit_test(test_pool_reuse),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
