/* sc_gemm: argument checks shared by both providers, then dispatch to
 * CLBlast (device kernels), or oneDNN's sgemm or OpenBLAS on mapped buffers
 * (CPU devices). */
#include "ctx_internal.h"

#include <clblast_c.h>
#include <stdio.h>


/* Elements an operand of `rows` x `cols` (logical, as stored) spans. */
static size_t operand_extent(sc_layout layout, size_t rows, size_t cols, size_t ld, size_t off,
                             size_t batch, size_t stride)
{
    size_t outer = layout == SC_ROW_MAJOR ? rows : cols;
    size_t inner = layout == SC_ROW_MAJOR ? cols : rows;
    return off + (outer - 1) * ld + inner + (batch - 1) * stride;
}

static sc_status check_operand(sc_ctx *ctx, const char *name, cl_mem mem, sc_layout layout,
                               size_t rows, size_t cols, size_t ld, size_t off, size_t batch,
                               size_t stride)
{
    size_t inner = layout == SC_ROW_MAJOR ? cols : rows;
    if (!mem)
        return sc_fail(&ctx->err, SC_ERR_ARG, "gemm: operand %s is NULL", name);
    if (ld < inner)
        return sc_fail(&ctx->err, SC_ERR_ARG,
                       "gemm: leading dimension of %s is %zu, needs at least %zu for a %zux%zu %s "
                       "matrix",
                       name, ld, inner, rows, cols,
                       layout == SC_ROW_MAJOR ? "row-major" : "column-major");
    size_t need = operand_extent(layout, rows, cols, ld, off, batch, stride) * sizeof(float);
    size_t have = sc_buffer_size(mem);
    if (need > have)
        return sc_fail(&ctx->err, SC_ERR_ARG,
                       "gemm: operand %s (%zux%zu, ld %zu, offset %zu, batch %zu) needs %zu bytes, "
                       "its buffer has %zu",
                       name, rows, cols, ld, off, batch, need, have);
    return SC_OK;
}

static sc_status gemm_check(sc_ctx *ctx, const sc_gemm_args *g)
{
    if (g->m == 0 || g->n == 0 || g->k == 0)
        return sc_fail(&ctx->err, SC_ERR_ARG, "gemm: zero dimension (m=%zu n=%zu k=%zu)", g->m,
                       g->n, g->k);
    size_t batch = g->batch ? g->batch : 1;
    size_t ar = g->trans_a ? g->k : g->m, ac = g->trans_a ? g->m : g->k;
    size_t br = g->trans_b ? g->n : g->k, bc = g->trans_b ? g->k : g->n;
    SC_TRY(check_operand(ctx, "A", g->a, g->layout, ar, ac, g->lda, g->a_off, batch, g->a_stride));
    SC_TRY(check_operand(ctx, "B", g->b, g->layout, br, bc, g->ldb, g->b_off, batch, g->b_stride));
    SC_TRY(check_operand(ctx, "C", g->c, g->layout, g->m, g->n, g->ldc, g->c_off, batch,
                         g->c_stride));
    return SC_OK;
}

static sc_status gemm_clblast(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev)
{
    CLBlastLayout layout = g->layout == SC_ROW_MAJOR ? CLBlastLayoutRowMajor : CLBlastLayoutColMajor;
    CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    cl_command_queue q = ctx->queue;
    CLBlastStatusCode rc;
    if (g->batch > 1)
        rc = CLBlastSgemmStridedBatched(layout, ta, tb, g->m, g->n, g->k, g->alpha, g->a, g->a_off,
                                        g->lda, g->a_stride, g->b, g->b_off, g->ldb, g->b_stride,
                                        g->beta, g->c, g->c_off, g->ldc, g->c_stride, g->batch, &q,
                                        ev);
    else
        rc = CLBlastSgemm(layout, ta, tb, g->m, g->n, g->k, g->alpha, g->a, g->a_off, g->lda, g->b,
                          g->b_off, g->ldb, g->beta, g->c, g->c_off, g->ldc, &q, ev);
    if (rc != CLBlastSuccess)
        return sc_fail(&ctx->err, rc < -1000 || rc > 0 ? SC_ERR_ARG : SC_ERR_OPENCL,
                       "CLBlastSgemm%s(m=%zu n=%zu k=%zu) failed with status %d%s%s",
                       g->batch > 1 ? "StridedBatched" : "", g->m, g->n, g->k, (int)rc,
                       rc > -1000 && rc <= 0 ? " = " : " (CLBlast code)",
                       rc > -1000 && rc <= 0 ? sc_cl_error_name((cl_int)rc) : "");
    return SC_OK;
}

sc_status sc_gemm_timed(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev, double *host_ms)
{
    if (ev)
        *ev = NULL;
    SC_TRY(gemm_check(ctx, g));
    if (ctx->gemm == SC_GEMM_HOST || ctx->gemm == SC_GEMM_DNNL)
        return sc_gemm_host(ctx, g, ev, host_ms);
    return gemm_clblast(ctx, g, ev);
}

sc_status sc_gemm_ev(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev)
{
    return sc_gemm_timed(ctx, g, ev, NULL);
}

sc_status sc_gemm(sc_ctx *ctx, const sc_gemm_args *g) { return sc_gemm_ev(ctx, g, NULL); }
