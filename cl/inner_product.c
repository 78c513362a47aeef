/* InnerProduct launchers: one GEMM per direction (see ops_inner_product.h).
 * The bias uses conv.cl's broadcast and per-channel reduction kernels, read
 * with an M x N x 1 x 1 output shape. */
#include "sc_ops.h"

#include <limits.h>
#include <stdio.h>

#define OP "InnerProduct"

typedef struct ip_geom {
    size_t m, k, n; /* rows, features, outputs */
} ip_geom;

sc_shape sc_inner_product_weight_shape(sc_shape in, const sc_inner_product_params *p)
{
    int k = in.c * in.h * in.w;
    return p->transpose ? (sc_shape){k, p->num_output, 1, 1} : (sc_shape){p->num_output, k, 1, 1};
}

static sc_status ip_infer(sc_ctx *ctx, const char *name, sc_shape in,
                          const sc_inner_product_params *p, ip_geom *g)
{
    SC_TRY(sc_op_check_shape(ctx, name, OP, "input", in));
    char is[64];
    sc_shape_str(in, is, sizeof is);
    if (p->num_output <= 0)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): num_output is %d, must be positive (input %s)", name,
                       p->num_output, is);
    *g = (ip_geom){(size_t)in.n, (size_t)in.c * in.h * in.w, (size_t)p->num_output};
    if (sc_shape_count(in) > INT_MAX || g->m * g->n > INT_MAX || g->k * g->n > INT_MAX)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (" OP "): input %s with %d outputs is too large (over 2^31 elements)",
                       name, is, p->num_output);
    return SC_OK;
}

sc_status sc_inner_product_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                                        const sc_inner_product_params *p, sc_shape *out)
{
    ip_geom g = {0};
    SC_TRY(ip_infer(ctx, name, in, p, &g));
    *out = (sc_shape){in.n, p->num_output, 1, 1};
    return SC_OK;
}

static sc_status ip_validate(sc_ctx *ctx, const char *name, sc_shape in,
                             const sc_inner_product_params *p, sc_shape w_shape, ip_geom *g)
{
    SC_TRY(ip_infer(ctx, name, in, p, g));
    sc_shape want = sc_inner_product_weight_shape(in, p);
    if (w_shape.n != want.n || w_shape.c != want.c || w_shape.h != 1 || w_shape.w != 1) {
        char is[64], ws[64], es[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): weights are %s, expected %s for input %s (K = %zu features, "
                       "num_output %d%s)",
                       name, sc_shape_str(w_shape, ws, sizeof ws),
                       sc_shape_str(want, es, sizeof es), sc_shape_str(in, is, sizeof is), g->k,
                       p->num_output, p->transpose ? ", transpose" : "");
    }
    return SC_OK;
}

sc_status sc_inner_product_forward(sc_plan *plan, const char *name,
                                   const sc_inner_product_params *p, sc_shape in, cl_mem x,
                                   sc_shape w_shape, cl_mem w, cl_mem bias, cl_mem y)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    ip_geom g = {0};
    SC_TRY(ip_validate(ctx, name, in, p, w_shape, &g));
    sc_shape out = {in.n, p->num_output, 1, 1};
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
    if (p->bias_term)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias", bias, g.n));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output", y, out));
    if (x == y)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): input and output are the same buffer (not in place)", name);
    if (p->bias_term) { /* y = broadcast bias, then the GEMM adds x W^T onto it */
        size_t total = g.m * g.n;
        SC_TRY(sc_op_launch_1d(plan, name, "conv", "conv_bias_fill", total,
                               SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(bias), SC_ARG_INT(g.n),
                                       SC_ARG_INT(1), SC_ARG_MEM(y), SC_ARG_INT(0))));
    }
    /* y [M x N] = x [M x K] * W^T, W stored N x K (ld K) or, transposed, K x N (ld N). */
    sc_gemm_args a = {.layout = SC_ROW_MAJOR, .trans_b = !p->transpose, .m = g.m, .n = g.n,
                      .k = g.k, .alpha = 1.0f, .a = x, .lda = g.k, .b = w,
                      .ldb = p->transpose ? g.n : g.k, .beta = p->bias_term ? 1.0f : 0.0f,
                      .c = y, .ldc = g.n};
    char label[256];
    snprintf(label, sizeof label, "%s/gemm", name);
    return sc_plan_gemm(plan, label, &a);
}

/* dW += dy^T x (W stored N x K), or x^T dy (W stored K x N). */
static sc_status record_dw(sc_plan *plan, const char *name, const ip_geom *g, int transpose,
                           cl_mem x, cl_mem dy, cl_mem dw)
{
    sc_gemm_args a = {.layout = SC_ROW_MAJOR, .trans_a = 1, .alpha = 1.0f, .beta = 1.0f,
                      .c = dw, .k = g->m};
    if (transpose) {
        a.m = g->k, a.n = g->n, a.a = x, a.lda = g->k, a.b = dy, a.ldb = g->n, a.ldc = g->n;
    } else {
        a.m = g->n, a.n = g->k, a.a = dy, a.lda = g->n, a.b = x, a.ldb = g->k, a.ldc = g->k;
    }
    char label[256];
    snprintf(label, sizeof label, "%s/gemm_dw", name);
    return sc_plan_gemm(plan, label, &a);
}

/* dx [M x K] = beta dx + dy [M x N] * W [N x K] (or W^T when stored K x N). */
static sc_status record_dx(sc_plan *plan, const char *name, const ip_geom *g, int transpose,
                           cl_mem w, cl_mem dy, float beta, cl_mem dx)
{
    sc_gemm_args a = {.layout = SC_ROW_MAJOR, .trans_b = transpose != 0, .m = g->m, .n = g->k,
                      .k = g->n, .alpha = 1.0f, .a = dy, .lda = g->n, .b = w,
                      .ldb = transpose ? g->n : g->k, .beta = beta, .c = dx, .ldc = g->k};
    char label[256];
    snprintf(label, sizeof label, "%s/gemm_dx", name);
    return sc_plan_gemm(plan, label, &a);
}

sc_status sc_inner_product_backward(sc_plan *plan, const char *name,
                                    const sc_inner_product_params *p, sc_shape in, cl_mem x,
                                    sc_shape w_shape, cl_mem w, cl_mem dy, cl_mem dx,
                                    float beta_dx, cl_mem dw, cl_mem db)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    ip_geom g = {0};
    SC_TRY(ip_validate(ctx, name, in, p, w_shape, &g));
    sc_shape out = {in.n, p->num_output, 1, 1};
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output diff", dy, out));
    if (p->bias_term && db) {
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias diff", db, g.n));
        SC_TRY(sc_conv_bias_backward(plan, name, out, dy, db));
    }
    if (dw) {
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight diff", dw, w_shape));
        SC_TRY(record_dw(plan, name, &g, p->transpose, x, dy, dw));
    }
    if (dx) {
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input diff", dx, in));
        if (dx == dy)
            return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                           "%s (" OP "): input diff and output diff are the same buffer", name);
        SC_TRY(record_dx(plan, name, &g, p->transpose, w, dy, beta_dx, dx));
    }
    return SC_OK;
}
