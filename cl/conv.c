/* Convolution launchers: shape checks, then the context's provider: oneDNN
 * (conv_dnnl.c), or im2col / GEMM / scatter steps recorded into a plan for
 * each chunk of images (see ops_conv.h). */
#include "sc_ops.h"
#include "sc_cl_shared.h"
#include "dnnl_internal.h"

#include <limits.h>
#include <stdio.h>

#define OP "Convolution"


/* Everything a launch needs, derived once from the input shape and params. */
typedef struct conv_geom {
    int n, c, h, w;       /* input */
    int k, oh, ow, p;     /* output channels, size, p = oh * ow */
    int kh, kw, sh, sw, ph, pw;
    int group, cg, kg;    /* channels and outputs per group */
    int ckk, ckk_g;       /* rows of the column matrix: all channels, one group */
    int is_1x1;           /* 1x1, stride 1, pad 0: the input is its own column matrix */
    int depthwise;        /* group == C == K > 1: handled by depthwise.c */
} conv_geom;

static int dim_or_one(int v)
{
    return v == 0 ? 1 : v;
}

/* Fills g from a valid shape and params; returns 0 when they are invalid
 * (the caller that needs a message uses sc_conv_infer). */
static int conv_geom_make(sc_shape in, const sc_conv_params *p, conv_geom *g)
{
    if (in.n <= 0 || in.c <= 0 || in.h <= 0 || in.w <= 0 || p->num_output <= 0 ||
        p->kernel_h <= 0 || p->kernel_w <= 0 || p->stride_h <= 0 || p->stride_w <= 0 ||
        p->pad_h < 0 || p->pad_w < 0 || p->group <= 0 || in.c % p->group ||
        p->num_output % p->group || dim_or_one(p->dilation_h) != 1 ||
        dim_or_one(p->dilation_w) != 1 || in.h + 2 * p->pad_h < p->kernel_h ||
        in.w + 2 * p->pad_w < p->kernel_w)
        return 0;
    *g = (conv_geom){.n = in.n, .c = in.c, .h = in.h, .w = in.w, .k = p->num_output,
                     .kh = p->kernel_h, .kw = p->kernel_w, .sh = p->stride_h,
                     .sw = p->stride_w, .ph = p->pad_h, .pw = p->pad_w, .group = p->group};
    g->oh = (in.h + 2 * g->ph - g->kh) / g->sh + 1;
    g->ow = (in.w + 2 * g->pw - g->kw) / g->sw + 1;
    g->p = g->oh * g->ow;
    g->cg = g->c / g->group;
    g->kg = g->k / g->group;
    g->ckk = g->c * g->kh * g->kw;
    g->ckk_g = g->cg * g->kh * g->kw;
    g->is_1x1 = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
    g->depthwise = g->group > 1 && g->group == g->c && g->k == g->c;
    return 1;
}

sc_status sc_conv_infer(sc_ctx *ctx, const char *name, const char *op, sc_shape in,
                        const sc_conv_params *p, sc_shape *out)
{
    sc_error *err = sc_ctx_error(ctx);
    char is[64];
    sc_shape_str(in, is, sizeof is);
    SC_TRY(sc_op_check_shape(ctx, name, op, "input", in));
    if (p->num_output <= 0)
        return sc_fail(err, SC_ERR_SHAPE, "%s (%s): num_output is %d, must be positive (input %s)",
                       name, op, p->num_output, is);
    if (p->kernel_h <= 0 || p->kernel_w <= 0 || p->stride_h <= 0 || p->stride_w <= 0)
        return sc_fail(err, SC_ERR_SHAPE,
                       "%s (%s): kernel %dx%d and stride %dx%d must be positive (input %s)", name,
                       op, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, is);
    if (p->pad_h < 0 || p->pad_w < 0)
        return sc_fail(err, SC_ERR_SHAPE, "%s (%s): negative pad %dx%d (input %s)", name, op,
                       p->pad_h, p->pad_w, is);
    if (dim_or_one(p->dilation_h) != 1 || dim_or_one(p->dilation_w) != 1)
        return sc_fail(err, SC_ERR_UNSUPPORTED,
                       "%s (%s): dilation %dx%d is not supported, only 1 (input %s)", name, op,
                       dim_or_one(p->dilation_h), dim_or_one(p->dilation_w), is);
    if (p->group <= 0 || in.c % p->group || p->num_output % p->group)
        return sc_fail(err, SC_ERR_SHAPE,
                       "%s (%s): group %d must divide the input channels and num_output "
                       "(input %s, num_output %d)",
                       name, op, p->group, is, p->num_output);
    if (in.h + 2 * p->pad_h < p->kernel_h || in.w + 2 * p->pad_w < p->kernel_w)
        return sc_fail(err, SC_ERR_SHAPE,
                       "%s (%s): kernel %dx%d is larger than the padded input %dx%d "
                       "(input %s, pad %dx%d)",
                       name, op, p->kernel_h, p->kernel_w, in.h + 2 * p->pad_h,
                       in.w + 2 * p->pad_w, is, p->pad_h, p->pad_w);
    conv_geom g = {0};
    conv_geom_make(in, p, &g); /* valid now */
    *out = (sc_shape){in.n, g.k, g.oh, g.ow};
    /* the kernels index with int */
    size_t biggest = sc_shape_count(in) > sc_shape_count(*out) ? sc_shape_count(in)
                                                                : sc_shape_count(*out);
    if (biggest > INT_MAX || (size_t)g.ckk * (size_t)g.p > INT_MAX)
        return sc_fail(err, SC_ERR_UNSUPPORTED,
                       "%s (%s): input %s with %d outputs is too large (over 2^31 elements)",
                       name, op, is, g.k);
    return SC_OK;
}

sc_status sc_conv_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                               const sc_conv_params *p, sc_shape *out)
{
    return sc_conv_infer(ctx, name, OP, in, p, out);
}

sc_shape sc_conv_weight_shape(sc_shape in, const sc_conv_params *p)
{
    int group = p->group > 0 ? p->group : 1;
    return (sc_shape){p->num_output, in.c / group, p->kernel_h, p->kernel_w};
}

/* Workspace floats for chunks of `chunk` images: the column matrix
 * [ckk] x [chunk*P] then the product [K] x [chunk*P]. One image at a time
 * needs no product buffer (the GEMM writes y, or reads dy, in place) and, for
 * 1x1 stride-1 pad-0, no column matrix either. */
static size_t geom_workspace(const conv_geom *g, int chunk)
{
    if (g->depthwise)
        return 0;
    if (chunk <= 1)
        return g->is_1x1 ? 0 : (size_t)g->ckk * (size_t)g->p;
    return (size_t)chunk * ((size_t)g->ckk + (size_t)g->k) * (size_t)g->p;
}

size_t sc_conv_workspace_floats(sc_shape in, const sc_conv_params *p, int chunk_images)
{
    conv_geom g = {0};
    if (!conv_geom_make(in, p, &g))
        return 0;
    int chunk = chunk_images <= 0 || chunk_images > g.n ? g.n : chunk_images;
    return geom_workspace(&g, chunk);
}

size_t sc_conv_workspace_needed(sc_ctx *ctx, sc_shape in, const sc_conv_params *p,
                                int chunk_images)
{
    if (sc_ctx_conv_provider(ctx) == SC_CONV_DNNL)
        return 0;
    return sc_conv_workspace_floats(in, p, chunk_images);
}

void sc_providers_describe(sc_gemm_provider gemm, sc_conv_provider conv, char *buf, size_t cap)
{
    char what[128] = "im2col + GEMM";
    if (conv == SC_CONV_DNNL)
        sc_dn_describe(what, sizeof what);
    snprintf(buf, cap, "GEMM %s, conv %s (%s)", sc_gemm_provider_name(gemm),
             sc_conv_provider_name(conv), what);
}

/* Offset of the product [K] x [chunk*P] inside the workspace. */
static size_t product_offset(const conv_geom *g, int chunk)
{
    return (size_t)g->ckk * (size_t)chunk * (size_t)g->p;
}

/* The most images per chunk that the workspace holds (at least one). */
static sc_status pick_chunk(sc_ctx *ctx, const char *name, const conv_geom *g, cl_mem workspace,
                            int *chunk)
{
    size_t have = sc_buffer_size(workspace) / sizeof(float);
    size_t one = geom_workspace(g, 1);
    if (have < one)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): workspace holds %zu floats, needs at least %zu for one image "
                       "(%zu for the whole batch of %d)",
                       name, have, one, geom_workspace(g, g->n), g->n);
    size_t per_image = ((size_t)g->ckk + (size_t)g->k) * (size_t)g->p;
    size_t fit = have / per_image;
    *chunk = fit >= (size_t)g->n ? g->n : fit < 2 ? 1 : (int)fit;
    if ((size_t)*chunk * per_image > INT_MAX)
        *chunk = (int)(INT_MAX / per_image) > 1 ? (int)(INT_MAX / per_image) : 1;
    return SC_OK;
}

sc_status sc_conv_check_tensor(sc_ctx *ctx, const char *name, const char *op, const char *what,
                               cl_mem mem, sc_shape s)
{
    sc_status st = sc_op_check_buffer(ctx, name, op, what, mem, sc_shape_count(s));
    if (st == SC_OK || !mem)
        return st;
    char msg[512], ss[64];
    snprintf(msg, sizeof msg, "%s", sc_ctx_message(ctx));
    return sc_fail(sc_ctx_error(ctx), st, "%s (%s %s)", msg, what, sc_shape_str(s, ss, sizeof ss));
}

/* Checks the weight shape, then returns the geometry of a valid call. */
static sc_status conv_validate(sc_ctx *ctx, const char *name, const sc_conv_params *p,
                               sc_shape in, sc_shape w_shape, conv_geom *g)
{
    sc_shape out;
    SC_TRY(sc_conv_infer(ctx, name, OP, in, p, &out));
    sc_shape want = sc_conv_weight_shape(in, p);
    if (w_shape.n != want.n || w_shape.c != want.c || w_shape.h != want.h || w_shape.w != want.w) {
        char is[64], ws[64], es[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): weights are %s, expected %s for input %s, group %d", name,
                       sc_shape_str(w_shape, ws, sizeof ws), sc_shape_str(want, es, sizeof es),
                       sc_shape_str(in, is, sizeof is), p->group);
    }
    conv_geom_make(in, p, g);
    return SC_OK;
}

static sc_status reject_alias(sc_ctx *ctx, const char *name, cl_mem a, cl_mem b, const char *an,
                              const char *bn)
{
    if (a && a == b)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): %s and %s are the same buffer (no in-place convolution)",
                       name, an, bn);
    return SC_OK;
}

/* ------------------------------------------------------------ recording */

static sc_status record_gemm(sc_plan *plan, const char *name, const char *what, int g_index,
                             const sc_gemm_args *args)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s[g%d]", name, what, g_index);
    return sc_plan_gemm(plan, label, args);
}

/* im2col of images n0 .. n0+nc-1 into col [ckk] x [nc*P] at offset 0. */
static sc_status record_im2col(sc_plan *plan, const char *name, const conv_geom *g, cl_mem x,
                               int n0, int nc, cl_mem col)
{
    int ncols = nc * g->p;
    size_t total = (size_t)g->c * (size_t)ncols; /* one work-item per (channel, column) */
    int x_off = n0 * g->c * g->h * g->w;
    return sc_op_launch_1d(plan, name, "conv", "conv_im2col", total,
                           SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(x), SC_ARG_INT(x_off),
                                   SC_ARG_INT(g->c), SC_ARG_INT(g->h), SC_ARG_INT(g->w),
                                   SC_ARG_INT(g->kh), SC_ARG_INT(g->kw), SC_ARG_INT(g->sh),
                                   SC_ARG_INT(g->sw), SC_ARG_INT(g->ph), SC_ARG_INT(g->pw),
                                   SC_ARG_INT(g->oh), SC_ARG_INT(g->ow), SC_ARG_INT(ncols),
                                   SC_ARG_MEM(col)));
}

/* dst[ch][n*P + p] = src[n0 + n][ch][p] for ch < channels, n < nc. */
static sc_status record_to_cnp(sc_plan *plan, const char *name, cl_mem src, int n0, int channels,
                               int P, int nc, cl_mem dst, size_t dst_off)
{
    size_t total = (size_t)channels * (size_t)nc * (size_t)P;
    return sc_op_launch_1d(plan, name, "conv", "conv_nchw_to_cnp", total,
                           SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(src), SC_ARG_INT(n0 * channels * P),
                                   SC_ARG_INT(channels), SC_ARG_INT(P), SC_ARG_INT(nc),
                                   SC_ARG_MEM(dst), SC_ARG_INT(dst_off)));
}

/* y[n0 + n][ch][p] = beta * y + src[ch][n*P + p] (+ bias[ch]). */
static sc_status record_from_cnp(sc_plan *plan, const char *name, cl_mem src, size_t src_off,
                                 int channels, int P, int nc, cl_mem bias, float beta, cl_mem y,
                                 int n0)
{
    size_t total = (size_t)channels * (size_t)nc * (size_t)P;
    return sc_op_launch_1d(plan, name, "conv", "conv_cnp_to_nchw", total,
                           SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(src), SC_ARG_INT(src_off),
                                   SC_ARG_INT(channels), SC_ARG_INT(P), SC_ARG_INT(nc),
                                   SC_ARG_MEM(bias), SC_ARG_INT(bias != NULL), SC_ARG_FLOAT(beta),
                                   SC_ARG_MEM(y), SC_ARG_INT(n0 * channels * P)));
}

/* One GEMM per group: out_g [kg] x [ncols] = w_g [kg] x [ckk_g] * col_g [ckk_g] x [ncols]. */
static sc_status record_forward_gemms(sc_plan *plan, const char *name, const conv_geom *g,
                                      cl_mem w, cl_mem col, size_t col_off, int ncols,
                                      float beta, cl_mem out, size_t out_off)
{
    for (int gi = 0; gi < g->group; gi++) {
        sc_gemm_args a = {.layout = SC_ROW_MAJOR, .m = (size_t)g->kg, .n = (size_t)ncols,
                          .k = (size_t)g->ckk_g, .alpha = 1.0f,
                          .a = w, .a_off = (size_t)gi * g->kg * g->ckk_g, .lda = (size_t)g->ckk_g,
                          .b = col, .b_off = col_off + (size_t)gi * g->ckk_g * ncols,
                          .ldb = (size_t)ncols, .beta = beta,
                          .c = out, .c_off = out_off + (size_t)gi * g->kg * ncols,
                          .ldc = (size_t)ncols};
        SC_TRY(record_gemm(plan, name, "gemm", gi, &a));
    }
    return SC_OK;
}

/* Images n0 .. n0+nc-1 of the forward. */
static sc_status forward_chunk(sc_plan *plan, const char *name, const conv_geom *g, cl_mem x,
                               cl_mem w, cl_mem bias, cl_mem y, cl_mem ws, int chunk, int n0,
                               int nc)
{
    int ncols = nc * g->p;
    if (nc == 1) {
        /* One image: its [K] x [P] output block is the GEMM's C, written in
         * place; the bias is broadcast first and the GEMM adds onto it. */
        cl_mem col = x;
        size_t col_off = (size_t)n0 * g->c * g->h * g->w;
        if (!g->is_1x1) {
            SC_TRY(record_im2col(plan, name, g, x, n0, 1, ws));
            col = ws;
            col_off = 0;
        }
        size_t y_off = (size_t)n0 * g->k * g->p;
        if (bias) {
            size_t total = (size_t)g->k * g->p;
            SC_TRY(sc_op_launch_1d(plan, name, "conv", "conv_bias_fill", total,
                                   SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(bias), SC_ARG_INT(g->k),
                                           SC_ARG_INT(g->p), SC_ARG_MEM(y), SC_ARG_INT(y_off))));
        }
        return record_forward_gemms(plan, name, g, w, col, col_off, ncols, bias ? 1.0f : 0.0f, y,
                                    y_off);
    }
    /* Several images side by side: for 1x1 stride 1 pad 0 the column matrix
     * is just the input regrouped channel-major (a cheap gather, no im2col). */
    if (g->is_1x1)
        SC_TRY(record_to_cnp(plan, name, x, n0, g->c, g->p, nc, ws, 0));
    else
        SC_TRY(record_im2col(plan, name, g, x, n0, nc, ws));
    size_t prod = product_offset(g, chunk);
    SC_TRY(record_forward_gemms(plan, name, g, w, ws, 0, ncols, 0.0f, ws, prod));
    return record_from_cnp(plan, name, ws, prod, g->k, g->p, nc, bias, 0.0f, y, n0);
}

/* The forward's operand checks, shared by both providers. */
static sc_status forward_checks(sc_ctx *ctx, const char *name, const sc_conv_params *p,
                                const conv_geom *g, sc_shape in, sc_shape w_shape, cl_mem x,
                                cl_mem w, cl_mem bias, const sc_conv_prelu *act, cl_mem y)
{
    sc_shape out = {g->n, g->k, g->oh, g->ow};
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
    if (p->bias_term)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias", bias, (size_t)g->k));
    if (act && act->slope)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "PReLU slope", act->slope,
                                  act->channel_shared ? 1 : (size_t)g->k));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output", y, out));
    return reject_alias(ctx, name, x, y, "input", "output");
}

sc_status sc_conv_forward_prelu(sc_plan *plan, const char *name, const sc_conv_params *p,
                                sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias,
                                const sc_conv_prelu *act, cl_mem y, cl_mem workspace)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    conv_geom g = {0};
    SC_TRY(conv_validate(ctx, name, p, in, w_shape, &g));
    if (g.depthwise)
        return sc_depthwise_forward_prelu(plan, name, p, in, x, w_shape, w, bias, act, y);
    SC_TRY(forward_checks(ctx, name, p, &g, in, w_shape, x, w, bias, act, y));
    sc_shape out = {g.n, g.k, g.oh, g.ow};
    if (sc_ctx_conv_provider(ctx) == SC_CONV_DNNL) /* the PReLU runs in its task */
        return sc_conv_dnnl_forward(plan, name, OP, p, in, out, x, w, bias, y, NULL, act);
    int chunk;
    SC_TRY(pick_chunk(ctx, name, &g, workspace, &chunk));
    for (int n0 = 0; n0 < g.n; n0 += chunk) {
        int nc = g.n - n0 < chunk ? g.n - n0 : chunk;
        SC_TRY(forward_chunk(plan, name, &g, x, w, p->bias_term ? bias : NULL, y, workspace,
                             chunk, n0, nc));
    }
    if (!act || !act->slope)
        return SC_OK;
    sc_prelu_params pp = {.channel_shared = act->channel_shared};
    return sc_prelu_forward_inference(plan, name, &pp, out, y, act->slope);
}

sc_status sc_conv_forward(sc_plan *plan, const char *name, const sc_conv_params *p, sc_shape in,
                          cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias, cl_mem y,
                          cl_mem workspace)
{
    return sc_conv_forward_prelu(plan, name, p, in, x, w_shape, w, bias, NULL, y, workspace);
}

/* ------------------------------------------------- channel-blocked forward */

static sc_status whole_blocks(sc_ctx *ctx, const char *name, int blocked, int channels,
                              const char *what)
{
    if (!blocked || channels % 16 == 0)
        return SC_OK;
    return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                   "%s (" OP "): the %s has %d channels, not a whole number of 16-channel blocks "
                   "(channel-blocked layout)",
                   name, what, channels);
}

sc_status sc_conv_forward_blocked(sc_plan *plan, const char *name, const sc_conv_params *p,
                                  sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w,
                                  cl_mem bias, const sc_conv_prelu *act, cl_mem y,
                                  const sc_conv_layout *lay)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    conv_geom g = {0};
    SC_TRY(conv_validate(ctx, name, p, in, w_shape, &g));
    SC_TRY(forward_checks(ctx, name, p, &g, in, w_shape, x, w, bias, act, y));
    if (sc_ctx_conv_provider(ctx) != SC_CONV_DNNL)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (" OP "): channel-blocked activations need the oneDNN convolution "
                       "provider (conv dnnl)",
                       name);
    SC_TRY(whole_blocks(ctx, name, lay->in_blocked, in.c, "input"));
    SC_TRY(whole_blocks(ctx, name, lay->out_blocked, g.k, "output"));
    sc_shape out = {g.n, g.k, g.oh, g.ow};
    /* a depthwise convolution runs as oneDNN's grouped one (its jit_dw
     * kernel takes the blocked layout without reorders) */
    return sc_conv_dnnl_forward(plan, name, g.depthwise ? "DepthwiseConvolution" : OP, p, in, out,
                                x, w, bias, y, lay, act);
}

/* ------------------------------------------------------------- backward */

/* Where one chunk's operands of the backward GEMMs live. */
typedef struct chunk_operands {
    cl_mem dy;     /* dy' [K] x [ncols] */
    size_t dy_off, dy_ld;
    cl_mem col;    /* the column matrix [ckk] x [ncols] */
    size_t col_off, col_ld;
    cl_mem dcol;   /* dW^T dy' target */
    size_t dcol_off, dcol_ld;
    float dcol_beta;
} chunk_operands;

/* dW_g += dy'_g col_g^T for every group. */
static sc_status record_dw_gemms(sc_plan *plan, const char *name, const conv_geom *g, int ncols,
                                 const chunk_operands *o, cl_mem dw)
{
    for (int gi = 0; gi < g->group; gi++) {
        sc_gemm_args a = {.layout = SC_ROW_MAJOR, .trans_b = 1, .m = (size_t)g->kg,
                          .n = (size_t)g->ckk_g, .k = (size_t)ncols, .alpha = 1.0f,
                          .a = o->dy, .a_off = o->dy_off + (size_t)gi * g->kg * o->dy_ld,
                          .lda = o->dy_ld,
                          .b = o->col, .b_off = o->col_off + (size_t)gi * g->ckk_g * o->col_ld,
                          .ldb = o->col_ld, .beta = 1.0f,
                          .c = dw, .c_off = (size_t)gi * g->kg * g->ckk_g, .ldc = (size_t)g->ckk_g};
        SC_TRY(record_gemm(plan, name, "gemm_dw", gi, &a));
    }
    return SC_OK;
}

/* dcol_g = W_g^T dy'_g for every group. */
static sc_status record_dcol_gemms(sc_plan *plan, const char *name, const conv_geom *g, int ncols,
                                   const chunk_operands *o, cl_mem w)
{
    for (int gi = 0; gi < g->group; gi++) {
        sc_gemm_args a = {.layout = SC_ROW_MAJOR, .trans_a = 1, .m = (size_t)g->ckk_g,
                          .n = (size_t)ncols, .k = (size_t)g->kg, .alpha = 1.0f,
                          .a = w, .a_off = (size_t)gi * g->kg * g->ckk_g, .lda = (size_t)g->ckk_g,
                          .b = o->dy, .b_off = o->dy_off + (size_t)gi * g->kg * o->dy_ld,
                          .ldb = o->dy_ld, .beta = o->dcol_beta,
                          .c = o->dcol, .c_off = o->dcol_off + (size_t)gi * g->ckk_g * o->dcol_ld,
                          .ldc = o->dcol_ld};
        SC_TRY(record_gemm(plan, name, "gemm_dx", gi, &a));
    }
    return SC_OK;
}

static sc_status record_col2im(sc_plan *plan, const char *name, const conv_geom *g, cl_mem col,
                               int n0, int nc, float beta, cl_mem dx)
{
    size_t total = (size_t)nc * g->c * g->h * g->w;
    int dx_off = n0 * g->c * g->h * g->w;
    return sc_op_launch_1d(plan, name, "conv", "conv_col2im", total,
                           SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(col), SC_ARG_INT(g->c),
                                   SC_ARG_INT(g->h), SC_ARG_INT(g->w), SC_ARG_INT(g->kh),
                                   SC_ARG_INT(g->kw), SC_ARG_INT(g->sh), SC_ARG_INT(g->sw),
                                   SC_ARG_INT(g->ph), SC_ARG_INT(g->pw), SC_ARG_INT(g->oh),
                                   SC_ARG_INT(g->ow), SC_ARG_INT(nc * g->p), SC_ARG_FLOAT(beta),
                                   SC_ARG_MEM(dx), SC_ARG_INT(dx_off)));
}

typedef struct backward_buffers {
    cl_mem x, w, dy, dx, dw, ws;
    float beta_dx;
} backward_buffers;

/* Images n0 .. n0+nc-1 of the backward. The column matrix is rebuilt from x
 * for dW; dcol then overwrites it (the dW GEMM has consumed it by then: the
 * queue is in order). */
static sc_status backward_chunk(sc_plan *plan, const char *name, const conv_geom *g,
                                const backward_buffers *b, int chunk, int n0, int nc)
{
    int ncols = nc * g->p;
    size_t x_off = (size_t)n0 * g->c * g->h * g->w;
    chunk_operands o = {.col = b->ws, .col_ld = (size_t)ncols, .dcol = b->ws,
                        .dcol_ld = (size_t)ncols};
    if (nc == 1) {
        /* One image: dy's [K] x [P] block is dy' as it is. */
        o.dy = b->dy;
        o.dy_off = (size_t)n0 * g->k * g->p;
        o.dy_ld = (size_t)g->p;
        if (g->is_1x1) { /* x is the column matrix, dx receives dcol directly */
            o.col = b->x;
            o.col_off = x_off;
            o.dcol = b->dx;
            o.dcol_off = x_off;
            o.dcol_beta = b->beta_dx;
        } else if (b->dw) {
            SC_TRY(record_im2col(plan, name, g, b->x, n0, 1, b->ws));
        }
    } else {
        o.dy = b->ws;
        o.dy_off = product_offset(g, chunk);
        o.dy_ld = (size_t)ncols;
        SC_TRY(record_to_cnp(plan, name, b->dy, n0, g->k, g->p, nc, b->ws, o.dy_off));
        if (b->dw && g->is_1x1) /* the gather replaces im2col, as in the forward */
            SC_TRY(record_to_cnp(plan, name, b->x, n0, g->c, g->p, nc, b->ws, 0));
        else if (b->dw)
            SC_TRY(record_im2col(plan, name, g, b->x, n0, nc, b->ws));
    }
    if (b->dw)
        SC_TRY(record_dw_gemms(plan, name, g, ncols, &o, b->dw));
    if (!b->dx)
        return SC_OK;
    SC_TRY(record_dcol_gemms(plan, name, g, ncols, &o, b->w));
    if (nc == 1 && g->is_1x1)
        return SC_OK; /* the GEMM wrote dx */
    if (g->is_1x1)
        return record_from_cnp(plan, name, b->ws, 0, g->c, g->p, nc, NULL, b->beta_dx, b->dx, n0);
    return record_col2im(plan, name, g, b->ws, n0, nc, b->beta_dx, b->dx);
}

sc_status sc_conv_backward(sc_plan *plan, const char *name, const sc_conv_params *p,
                           sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem dy,
                           cl_mem dx, float beta_dx, cl_mem dw, cl_mem db, cl_mem workspace)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    conv_geom g = {0};
    SC_TRY(conv_validate(ctx, name, p, in, w_shape, &g));
    if (g.depthwise)
        return sc_depthwise_backward(plan, name, p, in, x, w_shape, w, dy, dx, beta_dx, dw, db);
    sc_shape out = {g.n, g.k, g.oh, g.ow};
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output diff", dy, out));
    if (dx) {
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input diff", dx, in));
        SC_TRY(reject_alias(ctx, name, dx, dy, "input diff", "output diff"));
    }
    if (dw) {
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight diff", dw, w_shape));
    }
    if (p->bias_term && db)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias diff", db, (size_t)g.k));
    if (sc_ctx_conv_provider(ctx) == SC_CONV_DNNL)
        return sc_conv_dnnl_backward(plan, name, OP, p, in, out, x, w, dy, dx, beta_dx, dw, db);
    if (p->bias_term && db)
        SC_TRY(sc_conv_bias_backward(plan, name, out, dy, db));
    if (!dx && !dw)
        return SC_OK;
    int chunk;
    SC_TRY(pick_chunk(ctx, name, &g, workspace, &chunk));
    backward_buffers b = {.x = x, .w = w, .dy = dy, .dx = dx, .dw = dw, .ws = workspace,
                          .beta_dx = beta_dx};
    for (int n0 = 0; n0 < g.n; n0 += chunk) {
        int nc = g.n - n0 < chunk ? g.n - n0 : chunk;
        SC_TRY(backward_chunk(plan, name, &g, &b, chunk, n0, nc));
    }
    return SC_OK;
}

/* ----------------------------------------------------------------- bias */

sc_status sc_conv_bias_backward(sc_plan *plan, const char *name, sc_shape out, cl_mem dy,
                                cl_mem db)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(sc_op_check_shape(ctx, name, "bias gradient", "output", out));
    SC_TRY(sc_conv_check_tensor(ctx, name, "bias gradient", "output diff", dy, out));
    SC_TRY(sc_op_check_buffer(ctx, name, "bias gradient", "bias diff", db, (size_t)out.c));
    if (sc_shape_count(out) > INT_MAX)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (bias gradient): output is too large (over 2^31 elements)", name);
    /* SC_REDUCE_LOCAL items per work-group; a device that allows fewer gets a
     * program built with its own (power of two) size. */
    size_t local = sc_op_group_size(ctx, SC_REDUCE_LOCAL);
    char options[48] = "";
    if (local < SC_REDUCE_LOCAL)
        snprintf(options, sizeof options, "-DREDUCE_LOCAL=%zu", local);
    return sc_op_launch_groups(plan, name, "conv", "conv_channel_sum", options[0] ? options : NULL,
                               (size_t)out.c, local,
                               SC_ARGS(SC_ARG_INT(out.n), SC_ARG_INT(out.c),
                                       SC_ARG_INT(out.h * out.w), SC_ARG_MEM(dy), SC_ARG_MEM(db)));
}
