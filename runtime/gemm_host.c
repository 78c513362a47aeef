/* GEMM on the host BLAS over mapped buffers. On CPU OpenCL devices the
 * buffers live in host memory, mapping is (nearly) free, and OpenBLAS is
 * several times faster than CLBlast's generic kernels compiled by PoCL. The
 * blocking map is the one host synchronisation this path costs. */
#include "ctx_internal.h"

#include <cblas.h>

typedef struct mapping {
    cl_mem mem;
    float *ptr;
} mapping;

/* Maps each distinct buffer once (A, B and C may share one). */
static sc_status map_all(sc_ctx *ctx, cl_mem mems[3], mapping maps[3], int *n_maps)
{
    *n_maps = 0;
    for (int i = 0; i < 3; i++) {
        int seen = 0;
        for (int j = 0; j < *n_maps; j++)
            seen |= maps[j].mem == mems[i];
        if (seen)
            continue;
        cl_int rc;
        size_t bytes = sc_buffer_size(mems[i]);
        void *p = clEnqueueMapBuffer(ctx->queue, mems[i], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                     bytes, 0, NULL, NULL, &rc);
        if (rc != CL_SUCCESS)
            return sc_cl_fail(ctx, rc, "clEnqueueMapBuffer", "host gemm");
        maps[*n_maps].mem = mems[i];
        maps[*n_maps].ptr = p;
        (*n_maps)++;
    }
    return SC_OK;
}

static float *mapped(const mapping *maps, int n, cl_mem mem)
{
    for (int i = 0; i < n; i++)
        if (maps[i].mem == mem)
            return maps[i].ptr;
    return NULL;
}

static sc_status unmap_all(sc_ctx *ctx, mapping *maps, int n)
{
    sc_status st = SC_OK;
    for (int i = 0; i < n; i++) {
        cl_int rc = clEnqueueUnmapMemObject(ctx->queue, maps[i].mem, maps[i].ptr, 0, NULL, NULL);
        if (rc != CL_SUCCESS && st == SC_OK)
            st = sc_cl_fail(ctx, rc, "clEnqueueUnmapMemObject", "host gemm");
    }
    return st;
}

sc_status sc_gemm_host(sc_ctx *ctx, const sc_gemm_args *g)
{
    cl_mem mems[3] = {g->a, g->b, g->c};
    mapping maps[3];
    int n = 0;
    sc_status st = map_all(ctx, mems, maps, &n);
    if (st == SC_OK) {
        const float *a = mapped(maps, n, g->a) + g->a_off;
        const float *b = mapped(maps, n, g->b) + g->b_off;
        float *c = mapped(maps, n, g->c) + g->c_off;
        enum CBLAS_ORDER order = g->layout == SC_ROW_MAJOR ? CblasRowMajor : CblasColMajor;
        enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
        enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
        size_t batch = g->batch ? g->batch : 1;
        for (size_t i = 0; i < batch; i++)
            cblas_sgemm(order, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha,
                        a + i * g->a_stride, (int)g->lda, b + i * g->b_stride, (int)g->ldb,
                        g->beta, c + i * g->c_stride, (int)g->ldc);
    }
    sc_status st2 = unmap_all(ctx, maps, n);
    return st != SC_OK ? st : st2;
}
