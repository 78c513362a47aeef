/* The GEMM on oneDNN's sgemm (the host GEMM provider SC_GEMM_DNNL), on host
 * pointers to mapped buffers.
 *
 * oneDNN's dnnl_sgemm is row-major only: a column-major C = op(A) op(B) is
 * the row-major C^T = op(B)^T op(A)^T. One row-major form is slow there:
 * C = A B^T with few rows in A (an inner product's forward, a batch of 32
 * against 512 x 21504 weights: 11-15 ms on the development machine) while
 * the same product computed as C^T = B A^T takes 2.7-3.3 ms; the other forms
 * measured no faster transposed (bench/README.md, "GEMM forms"). That form
 * is computed into the scratch given and transposed into C. */
#include "ctx_internal.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>

/* One row-major GEMM; the call's own arguments. */
typedef struct row_gemm {
    char ta, tb;
    size_t m, n, k, lda, ldb, ldc;
} row_gemm;

static sc_status sgemm_failed(const row_gemm *r, dnnl_status_t st, sc_error *err)
{
    return sc_fail(err, st == dnnl_out_of_memory ? SC_ERR_NOMEM : SC_ERR_ARG,
                   "oneDNN sgemm %c%c %zux%zux%zu failed (dnnl_status_t %d)", r->ta, r->tb, r->m,
                   r->n, r->k, (int)st);
}

static sc_status sgemm(const row_gemm *r, float alpha, const float *a, const float *b, float beta,
                       float *c, size_t ldc, sc_error *err)
{
    dnnl_status_t st = dnnl_sgemm(r->ta, r->tb, (dnnl_dim_t)r->m, (dnnl_dim_t)r->n,
                                  (dnnl_dim_t)r->k, alpha, a, (dnnl_dim_t)r->lda, b,
                                  (dnnl_dim_t)r->ldb, beta, c, (dnnl_dim_t)ldc);
    return st == dnnl_success ? SC_OK : sgemm_failed(r, st, err);
}

/* The scratch holds at least `floats` floats (it only grows). */
static sc_status scratch_reserve(sc_gemm_scratch *s, size_t floats, sc_error *err)
{
    if (s->cap >= floats)
        return SC_OK;
    float *p = realloc(s->data, floats * sizeof *p);
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory for a GEMM's %zu-float scratch",
                       floats);
    s->data = p;
    s->cap = floats;
    return SC_OK;
}

/* C = A B^T through T = B A^T (n x m, in the scratch): C = T^T + beta C. */
static sc_status sgemm_through_transpose(const row_gemm *r, float alpha, const float *a,
                                         const float *b, float beta, float *c,
                                         sc_gemm_scratch *s, sc_error *err)
{
    SC_TRY(scratch_reserve(s, r->m * r->n, err));
    row_gemm t = {'N', 'T', r->n, r->m, r->k, r->ldb, r->lda, r->m};
    SC_TRY(sgemm(&t, alpha, b, a, 0.0f, s->data, r->m, err));
    const float *tp = s->data;
    for (size_t i = 0; i < r->m; i++) {
        float *row = c + i * r->ldc;
        if (beta == 0.0f) /* BLAS: C is not read when beta is 0 */
            for (size_t j = 0; j < r->n; j++)
                row[j] = tp[j * r->m + i];
        else
            for (size_t j = 0; j < r->n; j++)
                row[j] = tp[j * r->m + i] + beta * row[j];
    }
    return SC_OK;
}

static sc_status one_gemm(const row_gemm *r, float alpha, const float *a, const float *b,
                          float beta, float *c, sc_gemm_scratch *s, sc_error *err)
{
    if (r->ta == 'N' && r->tb == 'T' && r->m < r->n)
        return sgemm_through_transpose(r, alpha, a, b, beta, c, s, err);
    return sgemm(r, alpha, a, b, beta, c, r->ldc, err);
}

sc_status sc_gemm_dnnl_run(const sc_gemm_args *g, const float *a, const float *b, float *c,
                           sc_gemm_scratch *s, sc_error *err)
{
    char ta = g->trans_a ? 'T' : 'N', tb = g->trans_b ? 'T' : 'N';
    int row = g->layout == SC_ROW_MAJOR;
    /* the row-major call: as given, or C^T = op(B)^T op(A)^T for column-major */
    row_gemm r = row ? (row_gemm){ta, tb, g->m, g->n, g->k, g->lda, g->ldb, g->ldc}
                     : (row_gemm){tb, ta, g->n, g->m, g->k, g->ldb, g->lda, g->ldc};
    size_t batch = g->batch ? g->batch : 1;
    for (size_t i = 0; i < batch; i++) {
        const float *ai = a + g->a_off + i * g->a_stride, *bi = b + g->b_off + i * g->b_stride;
        float *ci = c + g->c_off + i * g->c_stride;
        SC_TRY(row ? one_gemm(&r, g->alpha, ai, bi, g->beta, ci, s, err)
                   : one_gemm(&r, g->alpha, bi, ai, g->beta, ci, s, err));
    }
    return SC_OK;
}
