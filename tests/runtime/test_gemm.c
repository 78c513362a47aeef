/* sc_gemm against a plain C reference with double accumulation, for both
 * providers (CLBlast, oneDNN's sgemm and OpenBLAS), both layouts, all four transpose
 * combinations, sizes 1x1x1, 17x33x9 and 256x300x129, with offsets, padded
 * leading dimensions and a strided batch.
 *
 * Tolerance: the standard floating-point bound for a dot product of length k,
 * |c - ref| <= gamma * sum_p |alpha a_ip b_pj| + |beta c_ij| u with
 * gamma = (k + 2) * u and u = 2^-24 (Higham, Accuracy and Stability, 3.1).
 * Any indexing or transpose mistake exceeds it by orders of magnitude. */
#include "sc_test.h"
#include "conformance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct gemm_case {
    size_t m, n, k;
} gemm_case;

static const gemm_case k_cases[] = {{1, 1, 1}, {17, 33, 9}, {256, 300, 129}};

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

/* Element (r, c) of a logical rows x cols matrix stored with ld in layout. */
static size_t at(sc_layout layout, size_t r, size_t c, size_t ld)
{
    return layout == SC_ROW_MAJOR ? r * ld + c : c * ld + r;
}

typedef struct host_gemm {
    sc_gemm_args g;
    float *a, *b, *c;
    size_t na, nb, nc;
} host_gemm;

/* Checks the device result against the double-precision reference. */
static void check_result(const host_gemm *h, const float *c_out)
{
    const sc_gemm_args *g = &h->g;
    size_t batch = g->batch ? g->batch : 1;
    const double u = ldexp(1.0, -24);
    for (size_t bi = 0; bi < batch; bi++)
        for (size_t i = 0; i < g->m; i++)
            for (size_t j = 0; j < g->n; j++) {
                double acc = 0, mag = 0;
                for (size_t p = 0; p < g->k; p++) {
                    size_t ia = g->a_off + bi * g->a_stride +
                                (g->trans_a ? at(g->layout, p, i, g->lda) : at(g->layout, i, p, g->lda));
                    size_t ib = g->b_off + bi * g->b_stride +
                                (g->trans_b ? at(g->layout, j, p, g->ldb) : at(g->layout, p, j, g->ldb));
                    double t = (double)g->alpha * h->a[ia] * h->b[ib];
                    acc += t;
                    mag += fabs(t);
                }
                size_t ic = g->c_off + bi * g->c_stride + at(g->layout, i, j, g->ldc);
                double cin = (double)g->beta * h->c[ic];
                double ref = acc + cin;
                double tol = (double)(g->k + 2) * u * mag + 2 * u * fabs(cin) + 1e-30;
                double err = fabs((double)c_out[ic] - ref);
                if (!(err <= tol))
                    fail_msg("m=%zu n=%zu k=%zu ta=%d tb=%d %s batch %zu: C[%zu,%zu] = %.9g, "
                             "reference %.9g, error %.3g > tolerance %.3g",
                             g->m, g->n, g->k, g->trans_a, g->trans_b,
                             g->layout == SC_ROW_MAJOR ? "row" : "col", bi, i, j, c_out[ic], ref,
                             err, tol);
            }
}

static size_t extent(sc_layout layout, size_t rows, size_t cols, size_t ld)
{
    return layout == SC_ROW_MAJOR ? (rows - 1) * ld + cols : (cols - 1) * ld + rows;
}

static void run_case(sc_ctx *ctx, sc_layout layout, int ta, int tb, gemm_case cs, size_t batch)
{
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, cs.m * 1000003 + cs.n * 101 + cs.k + (size_t)ta * 7 + (size_t)tb * 13);
    host_gemm h = {0};
    sc_gemm_args *g = &h.g;
    g->layout = layout;
    g->trans_a = ta;
    g->trans_b = tb;
    g->m = cs.m;
    g->n = cs.n;
    g->k = cs.k;
    g->alpha = 0.75f;
    g->beta = cs.m > 1 ? -0.5f : 0.0f;
    size_t ar = ta ? cs.k : cs.m, ac = ta ? cs.m : cs.k;
    size_t br = tb ? cs.n : cs.k, bc = tb ? cs.k : cs.n;
    /* padded leading dimensions and offsets exercise the indexing */
    g->lda = (layout == SC_ROW_MAJOR ? ac : ar) + 3;
    g->ldb = (layout == SC_ROW_MAJOR ? bc : br) + 1;
    g->ldc = (layout == SC_ROW_MAJOR ? cs.n : cs.m) + 2;
    g->a_off = 5;
    g->b_off = 2;
    g->c_off = 7;
    g->batch = batch;
    g->a_stride = extent(layout, ar, ac, g->lda) + 4;
    g->b_stride = extent(layout, br, bc, g->ldb) + 1;
    g->c_stride = extent(layout, cs.m, cs.n, g->ldc) + 3;
    size_t nb = batch ? batch : 1;
    h.na = g->a_off + nb * g->a_stride;
    h.nb = g->b_off + nb * g->b_stride;
    h.nc = g->c_off + nb * g->c_stride;
    h.a = malloc(h.na * sizeof(float));
    h.b = malloc(h.nb * sizeof(float));
    h.c = malloc(h.nc * sizeof(float));
    float *out = malloc(h.nc * sizeof(float));
    sc_conf_fill(&rng, h.a, NULL, h.na, -1, 1);
    sc_conf_fill(&rng, h.b, NULL, h.nb, -1, 1);
    sc_conf_fill(&rng, h.c, NULL, h.nc, -1, 1);
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, h.na * sizeof(float), &g->a));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, h.nb * sizeof(float), &g->b));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, h.nc * sizeof(float), &g->c));
    sc_assert_ok(ctx, sc_buffer_write(ctx, g->a, 0, h.na * sizeof(float), h.a));
    sc_assert_ok(ctx, sc_buffer_write(ctx, g->b, 0, h.nb * sizeof(float), h.b));
    sc_assert_ok(ctx, sc_buffer_write(ctx, g->c, 0, h.nc * sizeof(float), h.c));
    sc_assert_ok(ctx, sc_gemm(ctx, g));
    sc_assert_ok(ctx, sc_buffer_read(ctx, g->c, 0, h.nc * sizeof(float), out));
    check_result(&h, out);
    /* elements of C outside the matrices are untouched */
    assert_memory_equal(out, h.c, g->c_off * sizeof(float));
    sc_buffer_release(ctx, g->a);
    sc_buffer_release(ctx, g->b);
    sc_buffer_release(ctx, g->c);
    free(h.a);
    free(h.b);
    free(h.c);
    free(out);
}

static void all_cases(sc_ctx *ctx, sc_gemm_provider provider)
{
    sc_ctx_set_gemm_provider(ctx, provider);
    for (size_t c = 0; c < sizeof k_cases / sizeof k_cases[0]; c++)
        for (int layout = 0; layout < 2; layout++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    run_case(ctx, (sc_layout)layout, ta, tb, k_cases[c], 0);
    /* strided batch, including a shared A (stride 0) as convolutions use it */
    run_case(ctx, SC_ROW_MAJOR, 0, 0, (gemm_case){17, 33, 9}, 3);
    run_case(ctx, SC_ROW_MAJOR, 1, 0, (gemm_case){9, 20, 31}, 4);
    /* A B^T with fewer rows than columns: oneDNN's provider goes through B A^T */
    run_case(ctx, SC_ROW_MAJOR, 0, 1, (gemm_case){5, 40, 12}, 3);
    run_case(ctx, SC_COL_MAJOR, 1, 0, (gemm_case){40, 5, 12}, 2);
}

static void test_gemm_host(void **state) { all_cases(*state, SC_GEMM_HOST); }
static void test_gemm_clblast(void **state) { all_cases(*state, SC_GEMM_CLBLAST); }
static void test_gemm_dnnl(void **state) { all_cases(*state, SC_GEMM_DNNL); }

static void test_gemm_argument_errors(void **state)
{
    sc_ctx *ctx = *state;
    cl_mem a, b, c;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &a));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &b));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, 16 * sizeof(float), &c));
    sc_gemm_args g = {.layout = SC_ROW_MAJOR, .m = 4, .n = 4, .k = 4, .alpha = 1, .a = a,
                      .lda = 4, .b = b, .ldb = 4, .c = c, .ldc = 4};
    sc_assert_ok(ctx, sc_gemm(ctx, &g));
    g.m = 5; /* A and C too small */
    assert_int_equal(sc_gemm(ctx, &g), SC_ERR_ARG);
    assert_non_null(strstr(sc_ctx_message(ctx), "operand A"));
    g.m = 4;
    g.ldb = 3; /* leading dimension below the row length */
    assert_int_equal(sc_gemm(ctx, &g), SC_ERR_ARG);
    assert_non_null(strstr(sc_ctx_message(ctx), "leading dimension of B"));
    g.ldb = 4;
    g.k = 0;
    assert_int_equal(sc_gemm(ctx, &g), SC_ERR_ARG);
    assert_non_null(strstr(sc_ctx_message(ctx), "zero dimension"));
    sc_buffer_release(ctx, a);
    sc_buffer_release(ctx, b);
    sc_buffer_release(ctx, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_host),
        cmocka_unit_test(test_gemm_dnnl),
        cmocka_unit_test(test_gemm_clblast),
        cmocka_unit_test(test_gemm_argument_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
