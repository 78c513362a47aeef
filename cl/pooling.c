/* Host launchers of the Pooling layer (cl/pooling.cl): parameter and shape
 * checks with Caffe's rules, output-size inference, launch recording. */
#include "sc_ops.h"

#include <limits.h>
#include <stdio.h>

#define OP "Pooling"

/* The effective pooling geometry after global pooling is resolved. */
typedef struct pool_geom {
    int kh, kw, sh, sw, ph, pw, oh, ow;
} pool_geom;

/* Caffe's ceil rule; `in + 2*pad - k` is known to be >= 0 here, so the
 * integer ceiling is exact. */
static int pooled_size(int in, int k, int stride, int pad)
{
    int out = (in + 2 * pad - k + stride - 1) / stride + 1;
    if (pad > 0 && (out - 1) * stride >= in + pad)
        --out; /* the last window must start inside the image, not in the padding */
    return out;
}

/* Why p cannot pool an input of shape x along one axis, or NULL when it can. */
static const char *axis_problem(int in, int k, int stride, int pad)
{
    if (k <= 0)
        return "kernel must be positive";
    if (stride <= 0)
        return "stride must be positive";
    if (pad < 0)
        return "pad must not be negative";
    if (pad >= k)
        return "pad must be smaller than the kernel";
    if (k > in + 2 * pad)
        return "kernel is larger than the padded input";
    return NULL;
}

/* Resolves global pooling and checks every parameter; returns NULL and fills
 * g, or returns what is wrong (with the axis in `buf`). Needs no context, so
 * the size query can use it too. */
static const char *resolve_geometry(const sc_pooling_params *p, sc_shape x, pool_geom *g,
                                    char *buf, size_t cap)
{
    if (x.n <= 0 || x.c <= 0 || x.h <= 0 || x.w <= 0)
        return "input has a zero or negative dimension";
    if (p->method != SC_POOL_MAX && p->method != SC_POOL_AVE)
        return "unknown pooling method (MAX or AVE)";
    if (p->global_pooling) {
        if (p->pad_h != 0 || p->pad_w != 0 || p->stride_h < 0 || p->stride_h > 1 ||
            p->stride_w < 0 || p->stride_w > 1)
            return "global pooling needs pad 0 and stride 1";
        *g = (pool_geom){x.h, x.w, 1, 1, 0, 0, 1, 1};
        return NULL;
    }
    const char *problem = axis_problem(x.h, p->kernel_h, p->stride_h, p->pad_h);
    const char *axis = "H";
    if (!problem) {
        problem = axis_problem(x.w, p->kernel_w, p->stride_w, p->pad_w);
        axis = "W";
    }
    if (problem) {
        snprintf(buf, cap, "%s along %s", problem, axis);
        return buf;
    }
    *g = (pool_geom){p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                     pooled_size(x.h, p->kernel_h, p->stride_h, p->pad_h),
                     pooled_size(x.w, p->kernel_w, p->stride_w, p->pad_w)};
    return NULL;
}

/* resolve_geometry with the failure recorded in the context, naming the layer,
 * the op, the input shape and the parameters. */
static sc_status check_geometry(sc_ctx *ctx, const char *name, const sc_pooling_params *p,
                                sc_shape x, pool_geom *g)
{
    char buf[128], b[64];
    const char *problem = resolve_geometry(p, x, g, buf, sizeof buf);
    if (!problem)
        return SC_OK;
    return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                   "%s (" OP "): %s (input %s, kernel %dx%d, stride %dx%d, pad %dx%d%s)", name,
                   problem, sc_shape_str(x, b, sizeof b), p->kernel_h, p->kernel_w, p->stride_h,
                   p->stride_w, p->pad_h, p->pad_w, p->global_pooling ? ", global" : "");
}

static sc_shape pooled_shape(sc_shape x, const pool_geom *g)
{
    return (sc_shape){x.n, x.c, g->oh, g->ow};
}

/* The kernels index with int: refuse tensors that do not fit. */
static sc_status check_int_range(sc_ctx *ctx, const char *name, sc_shape x, sc_shape y)
{
    if (sc_shape_count(x) <= INT_MAX && sc_shape_count(y) <= INT_MAX)
        return SC_OK;
    char bx[64], by[64];
    return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                   "%s (" OP "): input %s or output %s has more than 2^31-1 elements", name,
                   sc_shape_str(x, bx, sizeof bx), sc_shape_str(y, by, sizeof by));
}

sc_status sc_pooling_output_shape(sc_ctx *ctx, const char *name, const sc_pooling_params *p,
                                  sc_shape x, sc_shape *y)
{
    pool_geom g = {0};
    SC_TRY(check_geometry(ctx, name, p, x, &g));
    *y = pooled_shape(x, &g);
    return SC_OK;
}

size_t sc_pooling_argmax_floats(const sc_pooling_params *p, sc_shape x)
{
    pool_geom g = {0};
    char buf[128];
    if (p->method != SC_POOL_MAX || resolve_geometry(p, x, &g, buf, sizeof buf) != NULL)
        return 0;
    return sc_shape_count(pooled_shape(x, &g));
}

/* Checks the geometry and the sizes common to forward and backward. */
static sc_status prepare(sc_ctx *ctx, const char *name, const sc_pooling_params *p,
                         sc_shape x_shape, pool_geom *g, sc_shape *y_shape)
{
    SC_TRY(check_geometry(ctx, name, p, x_shape, g));
    *y_shape = pooled_shape(x_shape, g);
    return check_int_range(ctx, name, x_shape, *y_shape);
}

/* The POOL_GEOMETRY_ARGS of every kernel in cl/pooling.cl. */
#define GEOMETRY                                                                          \
    SC_ARG_INT(x_shape.h), SC_ARG_INT(x_shape.w), SC_ARG_INT(g.oh), SC_ARG_INT(g.ow),     \
        SC_ARG_INT(g.kh), SC_ARG_INT(g.kw), SC_ARG_INT(g.sh), SC_ARG_INT(g.sw),           \
        SC_ARG_INT(g.ph), SC_ARG_INT(g.pw)

sc_status sc_pooling_forward(sc_plan *plan, const char *name, const sc_pooling_params *p,
                             sc_shape x_shape, cl_mem x, cl_mem y, cl_mem argmax)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    pool_geom g = {0};
    sc_shape y_shape;
    SC_TRY(prepare(ctx, name, p, x_shape, &g, &y_shape));
    const size_t nx = sc_shape_count(x_shape), ny = sc_shape_count(y_shape);
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "input", x, nx));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "output", y, ny));
    if (p->method == SC_POOL_AVE)
        return sc_op_launch_1d(plan, name, "pooling", "pool_ave_forward", ny,
                               SC_ARGS(SC_ARG_INT(ny), GEOMETRY, SC_ARG_MEM(x), SC_ARG_MEM(y)));
    if (argmax)
        SC_TRY(sc_op_check_buffer(ctx, name, OP, "argmax", argmax, ny));
    /* Without a mask the kernel never touches its argmax argument; y stands in. */
    return sc_op_launch_1d(plan, name, "pooling", "pool_max_forward", ny,
                           SC_ARGS(SC_ARG_INT(ny), GEOMETRY, SC_ARG_MEM(x), SC_ARG_MEM(y),
                                   SC_ARG_INT(argmax != NULL), SC_ARG_MEM(argmax ? argmax : y)));
}

sc_status sc_pooling_backward(sc_plan *plan, const char *name, const sc_pooling_params *p,
                              sc_shape x_shape, cl_mem dy, cl_mem argmax, cl_mem dx,
                              float beta_dx)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    pool_geom g = {0};
    sc_shape y_shape;
    SC_TRY(prepare(ctx, name, p, x_shape, &g, &y_shape));
    if (!dx)
        return SC_OK;
    const size_t nx = sc_shape_count(x_shape), ny = sc_shape_count(y_shape);
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "output gradient", dy, ny));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "input gradient", dx, nx));
    if (p->method == SC_POOL_AVE)
        return sc_op_launch_1d(plan, name, "pooling", "pool_ave_backward", nx,
                               SC_ARGS(SC_ARG_INT(nx), GEOMETRY, SC_ARG_MEM(dy), SC_ARG_MEM(dx),
                                       SC_ARG_FLOAT(beta_dx)));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "argmax (from the MAX forward)", argmax, ny));
    return sc_op_launch_1d(plan, name, "pooling", "pool_max_backward", nx,
                           SC_ARGS(SC_ARG_INT(nx), GEOMETRY, SC_ARG_MEM(dy), SC_ARG_MEM(argmax),
                                   SC_ARG_MEM(dx), SC_ARG_FLOAT(beta_dx)));
}
