/* Program building: on-disk cache miss then hit (the hit skips the
 * compiler), a corrupted entry is rebuilt, a broken kernel's error carries
 * the build log. */
#include "sc_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *k_source =
    "__kernel void scale2(__global float *x, const int n) {\n"
    "    int i = get_global_id(0);\n"
    "    if (i < n) x[i] = 2.0f * x[i] + 1.0f;\n"
    "}\n";

static sc_ctx *ctx_with_cache(const char *dir)
{
    sc_ctx_options opts = {.selector = "cpu", .cache_dir = dir};
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    if (sc_ctx_create(&opts, &ctx, &err) != SC_OK)
        fail_msg("context: %s", err.msg);
    return ctx;
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

/* The single cache entry in dir (the test keeps exactly one). */
static void only_entry(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".bin")) {
            snprintf(path, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
}

/* Builds the test program and runs it once to prove the binary works. */
static void build_and_run(sc_ctx *ctx)
{
    cl_program p;
    sc_assert_ok(ctx, sc_program_from_source(ctx, "scale2", k_source, "-DUNUSED=1", &p));
    cl_int rc;
    cl_kernel k = clCreateKernel(p, "scale2", &rc);
    assert_int_equal(rc, CL_SUCCESS);
    float v[5] = {0, 1, 2, 3, 4};
    cl_mem m;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof v, &m));
    sc_assert_ok(ctx, sc_buffer_write(ctx, m, 0, sizeof v, v));
    sc_assert_ok(ctx, sc_kernel_set_args(ctx, k, "scale2", SC_ARGS(SC_ARG_MEM(m), SC_ARG_INT(5))));
    size_t g = 5;
    sc_assert_ok(ctx, sc_kernel_launch(ctx, k, "scale2", 1, &g, NULL));
    sc_assert_ok(ctx, sc_buffer_read(ctx, m, 0, sizeof v, v));
    for (int i = 0; i < 5; i++)
        assert_true(v[i] == 2.0f * (float)i + 1.0f);
    sc_buffer_release(ctx, m);
    clReleaseKernel(k);
}

static void test_cache_miss_then_hit(void **state)
{
    (void)state;
    char dir[3000];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("program-cache"));
    empty_dir(dir);

    sc_ctx *a = ctx_with_cache(dir);
    build_and_run(a);
    sc_program_stats s = sc_ctx_program_stats(a);
    assert_int_equal(s.compiles, 1);
    assert_int_equal(s.disk_hits, 0);
    assert_int_equal(s.disk_stores, 1);
    build_and_run(a); /* second get: from the context, no compiler */
    assert_int_equal(sc_ctx_program_stats(a).compiles, 1);
    assert_int_equal(sc_ctx_program_stats(a).memory_hits, 1);
    sc_ctx_destroy(a);

    sc_ctx *b = ctx_with_cache(dir);
    build_and_run(b);
    s = sc_ctx_program_stats(b);
    assert_int_equal(s.compiles, 0); /* the hit skipped the compiler */
    assert_int_equal(s.disk_hits, 1);
    sc_ctx_destroy(b);
}

static void corrupt_entry(const char *dir, int cut)
{
    char path[4200];
    only_entry(dir, path, sizeof path);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    if (cut) {
        fclose(f);
        assert_int_equal(truncate(path, n / 2), 0);
        return;
    }
    fseek(f, n / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, n / 2, SEEK_SET);
    fputc(c ^ 0x5A, f);
    fclose(f);
}

static void test_corrupt_entry_is_rebuilt(void **state)
{
    (void)state;
    char dir[3000];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("program-cache-corrupt"));
    for (int truncate = 0; truncate <= 1; truncate++) {
        empty_dir(dir);
        sc_ctx *a = ctx_with_cache(dir);
        build_and_run(a);
        sc_ctx_destroy(a);
        corrupt_entry(dir, truncate);

        sc_ctx *b = ctx_with_cache(dir);
        build_and_run(b); /* still correct results */
        sc_program_stats s = sc_ctx_program_stats(b);
        assert_int_equal(s.disk_corrupt, 1);
        assert_int_equal(s.disk_hits, 0);
        assert_int_equal(s.compiles, 1);
        assert_int_equal(s.disk_stores, 1); /* rewritten */
        sc_ctx_destroy(b);

        sc_ctx *c = ctx_with_cache(dir);
        build_and_run(c);
        assert_int_equal(sc_ctx_program_stats(c).disk_hits, 1);
        sc_ctx_destroy(c);
    }
}

static void test_build_error_has_log(void **state)
{
    (void)state;
    sc_ctx *ctx = ctx_with_cache("");
    const char *broken = "__kernel void broken(__global float *x) {\n"
                         "    x[0] = undeclared_identifier_xyz + 1.0f;\n"
                         "}\n";
    cl_program p = NULL;
    assert_int_equal(sc_program_from_source(ctx, "broken", broken, NULL, &p), SC_ERR_BUILD);
    assert_null(p);
    const char *msg = sc_ctx_message(ctx);
    assert_non_null(strstr(msg, "broken"));
    assert_non_null(strstr(msg, "build log"));
    assert_non_null(strstr(msg, "undeclared_identifier_xyz")); /* the compiler's own words */
    sc_ctx_destroy(ctx);
}

static void test_embedded_sources(void **state)
{
    (void)state;
    assert_non_null(sc_cl_source_find("util"));
    assert_null(sc_cl_source_find("no_such_program"));
    sc_ctx *ctx = ctx_with_cache("");
    cl_kernel k;
    assert_int_equal(sc_kernel_create(ctx, "no_such_program", "x", NULL, &k), SC_ERR_ARG);
    assert_non_null(strstr(sc_ctx_message(ctx), "no_such_program"));
    assert_int_equal(sc_kernel_create(ctx, "util", "no_such_kernel", NULL, &k), SC_ERR_OPENCL);
    assert_non_null(strstr(sc_ctx_message(ctx), "no_such_kernel"));
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_miss_then_hit),
        cmocka_unit_test(test_corrupt_entry_is_rebuilt),
        cmocka_unit_test(test_build_error_has_log),
        cmocka_unit_test(test_embedded_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
