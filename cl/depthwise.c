/* Depthwise convolution launchers: checks, then the context's provider:
 * oneDNN (conv_dnnl.c with group == channels) or the direct kernels of
 * cl/depthwise.cl (see ops_depthwise.h). */
#include "sc_ops.h"
#include "sc_cl_shared.h"
#include "dnnl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP "DepthwiseConvolution"

/* The scalar arguments every depthwise kernel takes after its buffers. */
typedef struct dw_geom {
    int n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
} dw_geom;

static sc_status dw_validate(sc_ctx *ctx, const char *name, const sc_depthwise_params *p,
                             sc_shape in, sc_shape w_shape, dw_geom *g)
{
    SC_TRY(sc_op_check_shape(ctx, name, OP, "input", in));
    char is[64], ws[64];
    sc_shape_str(in, is, sizeof is);
    if (p->num_output != in.c || (p->group != in.c && p->group != 1))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): num_output %d and group %d must equal the input channels "
                       "(input %s)",
                       name, p->num_output, p->group, is);
    sc_shape out;
    SC_TRY(sc_conv_infer(ctx, name, OP, in, p, &out));
    if (w_shape.n != in.c || w_shape.c != 1 || w_shape.h != p->kernel_h ||
        w_shape.w != p->kernel_w)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" OP "): weights are %s, expected %dx1x%dx%d for input %s", name,
                       sc_shape_str(w_shape, ws, sizeof ws), in.c, p->kernel_h, p->kernel_w, is);
    *g = (dw_geom){in.n, in.c, in.h, in.w, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w,
                   p->pad_h, p->pad_w, out.h, out.w};
    return SC_OK;
}

sc_status sc_depthwise_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                                    const sc_depthwise_params *p, sc_shape *out)
{
    dw_geom g = {0};
    SC_TRY(dw_validate(ctx, name, p, in, (sc_shape){in.c, 1, p->kernel_h, p->kernel_w}, &g));
    *out = (sc_shape){g.n, g.c, g.oh, g.ow};
    return SC_OK;
}

static sc_shape out_shape(const dw_geom *g)
{
    return (sc_shape){g->n, g->c, g->oh, g->ow};
}

/* The oneDNN provider runs depthwise backward passes too: its direct kernels
 * (jit dw on nChw16c) took 2.1-2.2 s of a MobileNet-SphereFace training pass
 * at batch 64 where these kernels took 7.9-8.3 s, mostly the backward-filter
 * reduction (bench/README.md). */
static int on_dnnl(sc_ctx *ctx)
{
    return sc_ctx_conv_provider(ctx) == SC_CONV_DNNL;
}

/* The group-per-channel parameters oneDNN gets (group 1 is read as C here). */
static sc_conv_params dnnl_params(const sc_depthwise_params *p, const dw_geom *g)
{
    sc_conv_params q = *p;
    q.group = g->c;
    return q;
}

static sc_status forward_checks(sc_ctx *ctx, const char *name, const sc_depthwise_params *p,
                                const dw_geom *g, sc_shape in, sc_shape w_shape, cl_mem x,
                                cl_mem w, cl_mem bias, const sc_conv_prelu *act, cl_mem y)
{
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
    if (p->bias_term)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias", bias, (size_t)g->c));
    if (act && act->slope)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "PReLU slope", act->slope,
                                  act->channel_shared ? 1 : (size_t)g->c));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output", y, out_shape(g)));
    if (x == y)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): input and output are the same buffer (not in place)", name);
    return SC_OK;
}

/* The forward's form: a plane per work-item (CPU devices) or an item per
 * output (elsewhere); $SPHERECL_DEPTHWISE=rows|items overrides it, so the
 * conformance suite covers both on any device. */
static sc_status forward_form(sc_ctx *ctx, const char *name, int *rows)
{
    const char *env = getenv("SPHERECL_DEPTHWISE");
    *rows = (sc_ctx_info(ctx)->type & CL_DEVICE_TYPE_CPU) != 0;
    if (!env || !*env)
        return SC_OK;
    if (strcmp(env, "rows") && strcmp(env, "items"))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): SPHERECL_DEPTHWISE='%s': expected rows or items", name, env);
    *rows = !strcmp(env, "rows");
    return SC_OK;
}

/* The forward, with the PReLU applied as each output is stored when act
 * has a slope (one pass over y instead of two). */
static sc_status record_forward(sc_plan *plan, const char *name, const sc_depthwise_params *p,
                                const dw_geom *gp, cl_mem x, cl_mem w, cl_mem bias,
                                const sc_conv_prelu *act, cl_mem y)
{
    dw_geom g = *gp;
    cl_mem b = p->bias_term ? bias : NULL;
    int has_bias = p->bias_term != 0;
    cl_mem slope = act ? act->slope : NULL;
    int has_act = slope != NULL, shared = has_act && act->channel_shared;
    int rows_form;
    SC_TRY(forward_form(sc_plan_ctx(plan), name, &rows_form));
    if (rows_form) {
        /* a plane per work-item, float8 along its rows (measured 2-3x faster than
         * an item per output on PoCL, MobileNet-SphereFace) */
        size_t planes = (size_t)g.n * g.c;
        return sc_op_launch_1d(plan, name, "depthwise", "dw_forward_planes", planes,
                               SC_ARGS(SC_ARG_INT(planes), SC_ARG_MEM(x), SC_ARG_MEM(w),
                                       SC_ARG_MEM(b), SC_ARG_INT(has_bias), SC_ARG_INT(g.c),
                                       SC_ARG_INT(g.h), SC_ARG_INT(g.w), SC_ARG_INT(g.kh),
                                       SC_ARG_INT(g.kw), SC_ARG_INT(g.sh), SC_ARG_INT(g.sw),
                                       SC_ARG_INT(g.ph), SC_ARG_INT(g.pw), SC_ARG_INT(g.oh),
                                       SC_ARG_INT(g.ow), SC_ARG_INT(has_act),
                                       SC_ARG_INT(shared), SC_ARG_MEM(slope), SC_ARG_MEM(y)));
    }
    char label[256];
    snprintf(label, sizeof label, "%s/dw_forward", name);
    size_t global[3] = {(size_t)g.ow, (size_t)g.oh, (size_t)g.n * (size_t)g.c};
    return sc_plan_kernel(plan, label, "depthwise", "dw_forward", NULL, 3, global, NULL,
                          SC_ARGS(SC_ARG_MEM(x), SC_ARG_MEM(w), SC_ARG_MEM(b),
                                  SC_ARG_INT(has_bias), SC_ARG_INT(g.c), SC_ARG_INT(g.h),
                                  SC_ARG_INT(g.w), SC_ARG_INT(g.kh), SC_ARG_INT(g.kw),
                                  SC_ARG_INT(g.sh), SC_ARG_INT(g.sw), SC_ARG_INT(g.ph),
                                  SC_ARG_INT(g.pw), SC_ARG_INT(has_act), SC_ARG_INT(shared),
                                  SC_ARG_MEM(slope), SC_ARG_MEM(y)));
}

sc_status sc_depthwise_forward(sc_plan *plan, const char *name, const sc_depthwise_params *p,
                               sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias,
                               cl_mem y)
{
    return sc_depthwise_forward_prelu(plan, name, p, in, x, w_shape, w, bias, NULL, y);
}

sc_status sc_depthwise_forward_prelu(sc_plan *plan, const char *name,
                                     const sc_depthwise_params *p, sc_shape in, cl_mem x,
                                     sc_shape w_shape, cl_mem w, cl_mem bias,
                                     const sc_conv_prelu *act, cl_mem y)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    dw_geom g = {0};
    SC_TRY(dw_validate(ctx, name, p, in, w_shape, &g));
    SC_TRY(forward_checks(ctx, name, p, &g, in, w_shape, x, w, bias, act, y));
    /* NCHW blobs stay on these kernels under every provider: oneDNN's
     * depthwise forward with its reorders (and a PReLU post-op) took 4-9x
     * longer on MobileFaceNet's layers (sphere-bench --profile, batch 16).
     * An inference net's channel-blocked blobs go to oneDNN's own kernel
     * instead (sc_conv_forward_blocked), which needs no reorder there. */
    return record_forward(plan, name, p, &g, x, w, bias, act, y);
}

static sc_status record_backward_data(sc_plan *plan, const char *name, const dw_geom *g,
                                      cl_mem dy, cl_mem w, float beta, cl_mem dx)
{
    size_t total = (size_t)g->n * g->c * g->h * g->w;
    return sc_op_launch_1d(plan, name, "depthwise", "dw_backward_data", total,
                           SC_ARGS(SC_ARG_INT(total), SC_ARG_MEM(dy), SC_ARG_MEM(w),
                                   SC_ARG_INT(g->c), SC_ARG_INT(g->h), SC_ARG_INT(g->w),
                                   SC_ARG_INT(g->kh), SC_ARG_INT(g->kw), SC_ARG_INT(g->sh),
                                   SC_ARG_INT(g->sw), SC_ARG_INT(g->ph), SC_ARG_INT(g->pw),
                                   SC_ARG_INT(g->oh), SC_ARG_INT(g->ow), SC_ARG_FLOAT(beta),
                                   SC_ARG_MEM(dx)));
}

/* One work-group per weight (c, ky, kx). */
static sc_status record_backward_filter(sc_plan *plan, const char *name, const dw_geom *g,
                                        cl_mem x, cl_mem dy, cl_mem dw)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    size_t local = sc_op_group_size(ctx, SC_REDUCE_LOCAL);
    char options[48] = "";
    if (local < SC_REDUCE_LOCAL) /* a small device: build with its own power-of-two size */
        snprintf(options, sizeof options, "-DREDUCE_LOCAL=%zu", local);
    return sc_op_launch_groups(plan, name, "depthwise", "dw_backward_filter",
                               options[0] ? options : NULL, (size_t)g->c * g->kh * g->kw, local,
                               SC_ARGS(SC_ARG_INT(g->n), SC_ARG_INT(g->c), SC_ARG_INT(g->h),
                                       SC_ARG_INT(g->w), SC_ARG_INT(g->kh), SC_ARG_INT(g->kw),
                                       SC_ARG_INT(g->sh), SC_ARG_INT(g->sw), SC_ARG_INT(g->ph),
                                       SC_ARG_INT(g->pw), SC_ARG_INT(g->oh), SC_ARG_INT(g->ow),
                                       SC_ARG_MEM(x), SC_ARG_MEM(dy), SC_ARG_MEM(dw)));
}

/* The backward's operand checks, for whichever provider runs it. */
static sc_status backward_checks(sc_ctx *ctx, const char *name, sc_shape in, cl_mem x,
                                 sc_shape w_shape, cl_mem w, cl_mem dy, cl_mem dx, cl_mem dw)
{
    if (dw) {
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input", x, in));
        SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight diff", dw, w_shape));
    }
    if (!dx)
        return SC_OK;
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "weight", w, w_shape));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "input diff", dx, in));
    if (dx == dy)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): input diff and output diff are the same buffer", name);
    return SC_OK;
}

sc_status sc_depthwise_backward(sc_plan *plan, const char *name, const sc_depthwise_params *p,
                                sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem dy,
                                cl_mem dx, float beta_dx, cl_mem dw, cl_mem db)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    dw_geom g = {0};
    SC_TRY(dw_validate(ctx, name, p, in, w_shape, &g));
    SC_TRY(sc_conv_check_tensor(ctx, name, OP, "output diff", dy, out_shape(&g)));
    if (p->bias_term && db)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "bias diff", db, (size_t)g.c));
    SC_TRY(backward_checks(ctx, name, in, x, w_shape, w, dy, dx, dw));
    if (on_dnnl(ctx)) {
        sc_conv_params q = dnnl_params(p, &g);
        return sc_conv_dnnl_backward(plan, name, OP, &q, in, out_shape(&g), x, w, dy, dx,
                                     beta_dx, dw, db);
    }
    if (p->bias_term && db)
        SC_TRY(sc_conv_bias_backward(plan, name, out_shape(&g), dy, db));
    if (dw)
        SC_TRY(record_backward_filter(plan, name, &g, x, dy, dw));
    if (dx)
        SC_TRY(record_backward_data(plan, name, &g, dy, w, beta_dx, dx));
    return SC_OK;
}
