/* Host launchers of the elementwise layers (PReLU, Scale, Eltwise, Dropout):
 * check shapes and buffers, then record launches of cl/elementwise.cl into a
 * plan. Nothing runs here. */
#include "sc_ops.h"
#include "sc_cl_shared.h"
#include "dnnl_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PROGRAM "elementwise"

/* Work-group size of the per-channel reductions: a power of two (the kernels'
 * tree needs one), small enough for any device, big enough to keep a GPU's
 * memory pipes busy. Lowered when the device allows less. */

#define LAUNCH(plan, name, kernel, n, ...) \
    sc_op_launch_1d((plan), (name), PROGRAM, (kernel), (n), SC_ARGS(__VA_ARGS__))

static int spatial(sc_shape s)
{
    return s.h * s.w;
}

/* Fails on a zero dimension, or on more elements than the kernels' int indices reach. */
static sc_status check_input(sc_ctx *ctx, const char *name, const char *op, sc_shape in)
{
    SC_TRY(sc_op_check_shape(ctx, name, op, "input", in));
    if (sc_shape_count(in) > (size_t)INT_MAX) {
        char b[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (%s): input %s has more than 2^31-1 elements", name, op,
                       sc_shape_str(in, b, sizeof b));
    }
    return SC_OK;
}

/* sc_op_check_buffer, with the input shape in the message. */
static sc_status check_buffer(sc_ctx *ctx, const char *name, const char *op, const char *what,
                              cl_mem mem, size_t floats, sc_shape in)
{
    char b[64];
    sc_shape_str(in, b, sizeof b);
    if (!mem)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s): %s buffer is missing (input %s)",
                       name, op, what, b);
    size_t have = sc_buffer_size(mem) / sizeof(float);
    if (have < floats)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (%s): %s buffer holds %zu floats, needs %zu for input %s", name, op,
                       what, have, floats, b);
    return SC_OK;
}

/* In place, the saved copy of x must be a buffer of its own. */
static sc_status check_saved(sc_ctx *ctx, const char *name, const char *op, cl_mem x,
                             cl_mem saved, size_t floats, sc_shape in)
{
    SC_TRY(check_buffer(ctx, name, op, "saved (in-place copy of x)", saved, floats, in));
    if (saved == x)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (%s): the saved buffer cannot be x itself when running in place",
                       name, op);
    return SC_OK;
}

/* ------------------------------------------------------------------ PReLU */

static const char *const PRELU = "PReLU";

sc_status sc_prelu_output_shape(sc_ctx *ctx, const char *name, const sc_prelu_params *p,
                                sc_shape in, sc_shape *out)
{
    (void)p;
    SC_TRY(check_input(ctx, name, PRELU, in));
    *out = in;
    return SC_OK;
}

size_t sc_prelu_slope_count(const sc_prelu_params *p, sc_shape in)
{
    return p->channel_shared ? 1 : (size_t)in.c;
}

size_t sc_prelu_saved_floats(sc_shape in, int in_place)
{
    return in_place ? sc_shape_count(in) : 0;
}

size_t sc_prelu_backward_work_floats(const sc_prelu_params *p, sc_shape in)
{
    return (size_t)in.n * (p->channel_shared ? 1 : (size_t)in.c);
}

sc_status sc_prelu_forward(sc_plan *plan, const char *name, const sc_prelu_params *p,
                           sc_shape in, cl_mem x, cl_mem slope, cl_mem y, cl_mem saved)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_prelu_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    int in_place = x == y;
    SC_TRY(check_buffer(ctx, name, PRELU, "x", x, count, in));
    SC_TRY(check_buffer(ctx, name, PRELU, "slope", slope, sc_prelu_slope_count(p, in), in));
    SC_TRY(check_buffer(ctx, name, PRELU, "y", y, count, in));
    if (in_place)
        SC_TRY(check_saved(ctx, name, PRELU, x, saved, count, in));
    return sc_op_launch_planes(plan, name, PROGRAM, "prelu_forward", in,
                         SC_ARGS(SC_ARG_INT(spatial(in)), SC_ARG_INT(in.c),
                                 SC_ARG_INT(p->channel_shared != 0), SC_ARG_MEM(x),
                                 SC_ARG_MEM(slope), SC_ARG_MEM(y), SC_ARG_INT(in_place),
                                 SC_ARG_MEM(in_place ? saved : y)));
}

sc_status sc_prelu_forward_inference(sc_plan *plan, const char *name, const sc_prelu_params *p,
                                     sc_shape in, cl_mem y, cl_mem slope)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_prelu_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, PRELU, "y", y, count, in));
    SC_TRY(check_buffer(ctx, name, PRELU, "slope", slope, sc_prelu_slope_count(p, in), in));
    /* the kernel reads x[i] before writing y[i] in the same work-item, so
     * x == y with in_place 0 rewrites y without saving it */
    return sc_op_launch_planes(plan, name, PROGRAM, "prelu_forward", in,
                         SC_ARGS(SC_ARG_INT(spatial(in)), SC_ARG_INT(in.c),
                                 SC_ARG_INT(p->channel_shared != 0), SC_ARG_MEM(y),
                                 SC_ARG_MEM(slope), SC_ARG_MEM(y), SC_ARG_INT(0), SC_ARG_MEM(y)));
}

sc_status sc_prelu_backward(sc_plan *plan, const char *name, const sc_prelu_params *p,
                            sc_shape in, cl_mem x, cl_mem y, cl_mem saved, cl_mem slope,
                            cl_mem dy, cl_mem dx, float beta_dx, cl_mem dslope, cl_mem work)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_prelu_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in), slopes = sc_prelu_slope_count(p, in);
    int in_place = x == y;
    cl_mem input = in_place ? saved : x;
    SC_TRY(check_buffer(ctx, name, PRELU, in_place ? "saved (in-place copy of x)" : "x", input,
                        count, in));
    SC_TRY(check_buffer(ctx, name, PRELU, "slope", slope, slopes, in));
    SC_TRY(check_buffer(ctx, name, PRELU, "dy", dy, count, in));
    if (dx)
        SC_TRY(check_buffer(ctx, name, PRELU, "dx", dx, count, in));
    if (!dslope)
        return dx ? sc_op_launch_planes(plan, name, PROGRAM, "prelu_backward_data", in,
                                  SC_ARGS(SC_ARG_INT(spatial(in)), SC_ARG_INT(in.c),
                                          SC_ARG_INT(p->channel_shared != 0), SC_ARG_MEM(input),
                                          SC_ARG_MEM(slope), SC_ARG_MEM(dy),
                                          SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx)))
                  : SC_OK;
    SC_TRY(check_buffer(ctx, name, PRELU, "dslope", dslope, slopes, in));
    SC_TRY(check_buffer(ctx, name, PRELU, "work", work, sc_prelu_backward_work_floats(p, in), in));
    /* per-plane partial sums, then a fixed-order sum per channel */
    int C = p->channel_shared ? 1 : in.c;
    int HW = p->channel_shared ? in.c * spatial(in) : spatial(in);
    size_t planes = (size_t)in.n * (size_t)C;
    SC_TRY(LAUNCH(plan, name, "prelu_backward_planes", planes, SC_ARG_INT((int)planes), SC_ARG_INT(HW),
                  SC_ARG_INT(C), SC_ARG_MEM(input), SC_ARG_MEM(slope), SC_ARG_MEM(dy),
                  SC_ARG_INT(dx != NULL), SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx ? dx : work),
                  SC_ARG_MEM(work)));
    return LAUNCH(plan, name, "prelu_slope_sum", (size_t)C, SC_ARG_INT(in.n), SC_ARG_INT(C),
                  SC_ARG_MEM(work), SC_ARG_MEM(dslope));
}

/* ------------------------------------------------------------------ Scale */

static const char *const SCALE = "Scale";

sc_status sc_scale_output_shape(sc_ctx *ctx, const char *name, const sc_scale_params *p,
                                sc_shape in, sc_shape *out)
{
    SC_TRY(check_input(ctx, name, SCALE, in));
    if (p->gamma_count != 0 && p->gamma_count != in.c) {
        char b[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (Scale): gamma has shape %d, input %s has %d channels (one gamma "
                       "per channel on axis 1)",
                       name, p->gamma_count, sc_shape_str(in, b, sizeof b), in.c);
    }
    *out = in;
    return SC_OK;
}

size_t sc_scale_saved_floats(sc_shape in, int in_place)
{
    return in_place ? sc_shape_count(in) : 0;
}

size_t sc_scale_backward_work_floats(sc_shape in)
{
    return 2 * (size_t)in.n * (size_t)in.c;
}

sc_status sc_scale_forward(sc_plan *plan, const char *name, const sc_scale_params *p,
                           sc_shape in, cl_mem x, cl_mem gamma, cl_mem beta, cl_mem y,
                           cl_mem saved)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_scale_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    int in_place = x == y;
    SC_TRY(check_buffer(ctx, name, SCALE, "x", x, count, in));
    SC_TRY(check_buffer(ctx, name, SCALE, "gamma", gamma, (size_t)in.c, in));
    if (p->bias_term)
        SC_TRY(check_buffer(ctx, name, SCALE, "beta", beta, (size_t)in.c, in));
    SC_TRY(check_buffer(ctx, name, SCALE, "y", y, count, in));
    if (in_place)
        SC_TRY(check_saved(ctx, name, SCALE, x, saved, count, in));
    return sc_op_launch_planes(plan, name, PROGRAM, "scale_forward", in,
                         SC_ARGS(SC_ARG_INT(spatial(in)), SC_ARG_INT(in.c), SC_ARG_MEM(x),
                                 SC_ARG_MEM(gamma), SC_ARG_INT(p->bias_term != 0),
                                 SC_ARG_MEM(p->bias_term ? beta : gamma), SC_ARG_MEM(y),
                                 SC_ARG_INT(in_place), SC_ARG_MEM(in_place ? saved : y)));
}

sc_status sc_scale_backward(sc_plan *plan, const char *name, const sc_scale_params *p,
                            sc_shape in, cl_mem x, cl_mem y, cl_mem saved, cl_mem gamma,
                            cl_mem dy, cl_mem dx, float beta_dx, cl_mem dgamma, cl_mem dbeta,
                            cl_mem work)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_scale_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, SCALE, "gamma", gamma, (size_t)in.c, in));
    SC_TRY(check_buffer(ctx, name, SCALE, "dy", dy, count, in));
    if (dbeta && !p->bias_term)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (Scale): a dbeta buffer was given but the layer has no bias_term",
                       name);
    if (dgamma || dbeta) {
        /* before dx: with dx == dy (in-place diff) the sums must see dy */
        int in_place = x == y;
        cl_mem input = in_place ? saved : x;
        if (dgamma) {
            SC_TRY(check_buffer(ctx, name, SCALE, in_place ? "saved (in-place copy of x)" : "x",
                                input, count, in));
            SC_TRY(check_buffer(ctx, name, SCALE, "dgamma", dgamma, (size_t)in.c, in));
        }
        if (dbeta)
            SC_TRY(check_buffer(ctx, name, SCALE, "dbeta", dbeta, (size_t)in.c, in));
        SC_TRY(check_buffer(ctx, name, SCALE, "work", work,
                            sc_scale_backward_work_floats(in), in));
        int planes = in.n * in.c;
        SC_TRY(LAUNCH(plan, name, "scale_backward_planes", (size_t)planes, SC_ARG_INT(planes),
                      SC_ARG_INT(spatial(in)), SC_ARG_MEM(dgamma ? input : dy), SC_ARG_MEM(dy),
                      SC_ARG_INT(dgamma != NULL), SC_ARG_MEM(work)));
        SC_TRY(LAUNCH(plan, name, "scale_backward_params", (size_t)in.c, SC_ARG_INT(in.n),
                      SC_ARG_INT(in.c), SC_ARG_MEM(work), SC_ARG_INT(dgamma != NULL),
                      SC_ARG_MEM(dgamma ? dgamma : dbeta), SC_ARG_INT(dbeta != NULL),
                      SC_ARG_MEM(dbeta ? dbeta : dgamma)));
    }
    if (!dx)
        return SC_OK;
    SC_TRY(check_buffer(ctx, name, SCALE, "dx", dx, count, in));
    return sc_op_launch_planes(plan, name, PROGRAM, "scale_backward_data", in,
                         SC_ARGS(SC_ARG_INT(spatial(in)), SC_ARG_INT(in.c), SC_ARG_MEM(gamma),
                                 SC_ARG_MEM(dy), SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx)));
}

/* ---------------------------------------------------------------- Eltwise */

static const char *const ELTWISE = "Eltwise";

static int same_shape(sc_shape a, sc_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

static const char *eltwise_op_name(sc_eltwise_op op)
{
    switch (op) {
    case SC_ELTWISE_PROD:
        return "PROD";
    case SC_ELTWISE_SUM:
        return "SUM";
    case SC_ELTWISE_MAX:
        return "MAX";
    }
    return "?";
}

static sc_status check_eltwise_params(sc_ctx *ctx, const char *name, const sc_eltwise_params *p,
                                      int n_inputs, sc_shape in0)
{
    char b[64];
    sc_shape_str(in0, b, sizeof b);
    if (p->op != SC_ELTWISE_PROD && p->op != SC_ELTWISE_SUM && p->op != SC_ELTWISE_MAX)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (Eltwise): unknown operation %d",
                       name, (int)p->op);
    if (p->n_coeffs == 0)
        return SC_OK;
    if (p->op != SC_ELTWISE_SUM) /* eltwise_layer.cpp: coefficients only for summation */
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (Eltwise): %d coefficients given for operation %s (only SUM takes "
                       "coefficients; inputs %s)",
                       name, p->n_coeffs, eltwise_op_name(p->op), b);
    if (p->n_coeffs != n_inputs || !p->coeffs)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (Eltwise): %d coefficients for %d inputs of shape %s (one per input)",
                       name, p->n_coeffs, n_inputs, b);
    return SC_OK;
}

sc_status sc_eltwise_output_shape(sc_ctx *ctx, const char *name, const sc_eltwise_params *p,
                                  int n_inputs, const sc_shape *in, sc_shape *out)
{
    if (n_inputs < 2 || !in)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (Eltwise): needs at least 2 inputs, got %d", name, n_inputs);
    SC_TRY(check_input(ctx, name, ELTWISE, in[0]));
    for (int i = 1; i < n_inputs; i++) {
        if (!same_shape(in[i], in[0])) {
            char a[64], b[64];
            return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                           "%s (Eltwise): input %d is %s but input 0 is %s (inputs must have "
                           "identical shapes)",
                           name, i, sc_shape_str(in[i], a, sizeof a),
                           sc_shape_str(in[0], b, sizeof b));
        }
    }
    SC_TRY(check_eltwise_params(ctx, name, p, n_inputs, in[0]));
    *out = in[0];
    return SC_OK;
}

size_t sc_eltwise_saved_floats(const sc_eltwise_params *p, sc_shape in)
{
    return p->op == SC_ELTWISE_MAX ? sc_shape_count(in) : 0; /* int32 = one float's bytes */
}

size_t sc_eltwise_workspace_floats(const sc_eltwise_params *p, int n_inputs, sc_shape in)
{
    return p->op == SC_ELTWISE_PROD && n_inputs > 2 ? sc_shape_count(in) : 0;
}

static float coeff_of(const sc_eltwise_params *p, int i)
{
    return p->n_coeffs ? p->coeffs[i] : 1.0f;
}

/* Input buffers: present and big enough. */
static sc_status check_eltwise_inputs(sc_ctx *ctx, const char *name, int n_inputs,
                                      const cl_mem *x, size_t count, sc_shape in)
{
    for (int i = 0; i < n_inputs; i++) {
        char what[32];
        snprintf(what, sizeof what, "input %d", i);
        SC_TRY(check_buffer(ctx, name, ELTWISE, what, x[i], count, in));
    }
    return SC_OK;
}

/* The SUM as a oneDNN host task beside the convolutions' (eltwise_dnnl.c). */
static sc_status sum_on_dnnl(sc_plan *plan, const char *name, const sc_eltwise_params *p,
                             int n_inputs, const cl_mem *x, size_t count, cl_mem y)
{
    float coeffs[SC_DN_MAX_SUM_INPUTS];
    for (int i = 0; i < n_inputs; i++)
        coeffs[i] = coeff_of(p, i);
    return sc_eltwise_dnnl_sum(plan, name, n_inputs, x, coeffs, count, y);
}

sc_status sc_eltwise_forward(sc_plan *plan, const char *name, const sc_eltwise_params *p,
                             int n_inputs, const sc_shape *in, const cl_mem *x, cl_mem y,
                             cl_mem saved)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape s;
    SC_TRY(sc_eltwise_output_shape(ctx, name, p, n_inputs, in, &s));
    size_t count = sc_shape_count(s);
    SC_TRY(check_eltwise_inputs(ctx, name, n_inputs, x, count, s));
    SC_TRY(check_buffer(ctx, name, ELTWISE, "y", y, count, s));
    for (int i = 0; i < n_inputs; i++)
        if (x[i] == y)
            return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                           "%s (Eltwise): y is input %d; Eltwise does not run in place", name, i);
    switch (p->op) {
    case SC_ELTWISE_SUM:
        if (sc_ctx_conv_provider(ctx) == SC_CONV_DNNL && n_inputs <= SC_DN_MAX_SUM_INPUTS)
            return sum_on_dnnl(plan, name, p, n_inputs, x, count, y);
        SC_TRY(LAUNCH(plan, name, "eltwise_sum_first", count, SC_ARG_INT(count),
                      SC_ARG_MEM(x[0]), SC_ARG_FLOAT(coeff_of(p, 0)), SC_ARG_MEM(x[1]),
                      SC_ARG_FLOAT(coeff_of(p, 1)), SC_ARG_MEM(y)));
        for (int i = 2; i < n_inputs; i++)
            SC_TRY(LAUNCH(plan, name, "eltwise_sum_next", count, SC_ARG_INT(count),
                          SC_ARG_MEM(x[i]), SC_ARG_FLOAT(coeff_of(p, i)), SC_ARG_MEM(y)));
        return SC_OK;
    case SC_ELTWISE_PROD:
        SC_TRY(LAUNCH(plan, name, "eltwise_prod_first", count, SC_ARG_INT(count),
                      SC_ARG_MEM(x[0]), SC_ARG_MEM(x[1]), SC_ARG_MEM(y)));
        for (int i = 2; i < n_inputs; i++)
            SC_TRY(LAUNCH(plan, name, "eltwise_prod_next", count, SC_ARG_INT(count),
                          SC_ARG_MEM(x[i]), SC_ARG_MEM(y)));
        return SC_OK;
    case SC_ELTWISE_MAX:
        SC_TRY(check_buffer(ctx, name, ELTWISE, "saved (argmax)", saved, count, s));
        SC_TRY(LAUNCH(plan, name, "eltwise_max_first", count, SC_ARG_INT(count),
                      SC_ARG_MEM(x[0]), SC_ARG_MEM(x[1]), SC_ARG_MEM(y), SC_ARG_MEM(saved)));
        for (int i = 2; i < n_inputs; i++)
            SC_TRY(LAUNCH(plan, name, "eltwise_max_next", count, SC_ARG_INT(count),
                          SC_ARG_MEM(x[i]), SC_ARG_INT(i), SC_ARG_MEM(y), SC_ARG_MEM(saved)));
        return SC_OK;
    }
    return SC_OK;
}

/* dx_i = dy * prod_{j != i} x_j + beta * dx_i, multiplied out (no division by
 * x_i). With more than two inputs the partial product builds up in ws. */
static sc_status record_prod_grad(sc_plan *plan, const char *name, int n_inputs,
                                  const cl_mem *x, int i, cl_mem dy, cl_mem dx, float beta,
                                  cl_mem ws, size_t count)
{
    int others[64], n_others = 0;
    for (int j = 0; j < n_inputs && n_others < 64; j++)
        if (j != i)
            others[n_others++] = j;
    cl_mem partial = dy;
    for (int k = 0; k + 1 < n_others; k++) {
        if (k == 0)
            SC_TRY(LAUNCH(plan, name, "eltwise_mul_grad", count, SC_ARG_INT(count),
                          SC_ARG_MEM(dy), SC_ARG_MEM(x[others[0]]), SC_ARG_FLOAT(0.0f),
                          SC_ARG_MEM(ws)));
        else
            SC_TRY(LAUNCH(plan, name, "eltwise_prod_next", count, SC_ARG_INT(count),
                          SC_ARG_MEM(x[others[k]]), SC_ARG_MEM(ws)));
        partial = ws;
    }
    return LAUNCH(plan, name, "eltwise_mul_grad", count, SC_ARG_INT(count), SC_ARG_MEM(partial),
                  SC_ARG_MEM(x[others[n_others - 1]]), SC_ARG_FLOAT(beta), SC_ARG_MEM(dx));
}

/* Gradient buffers: big enough, and none is dy or the workspace (both are
 * read again after a dx is written). */
static sc_status check_eltwise_grads(sc_ctx *ctx, const char *name, int n_inputs,
                                     const cl_mem *dx, cl_mem dy, cl_mem ws, size_t count,
                                     sc_shape in)
{
    for (int i = 0; i < n_inputs; i++) {
        if (!dx[i])
            continue;
        char what[32];
        snprintf(what, sizeof what, "dx %d", i);
        SC_TRY(check_buffer(ctx, name, ELTWISE, what, dx[i], count, in));
        if (dx[i] == dy || (ws && dx[i] == ws))
            return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                           "%s (Eltwise): dx %d is the same buffer as %s", name, i,
                           dx[i] == dy ? "dy" : "the workspace");
    }
    return SC_OK;
}

sc_status sc_eltwise_backward(sc_plan *plan, const char *name, const sc_eltwise_params *p,
                              int n_inputs, const sc_shape *in, const cl_mem *x, cl_mem saved,
                              cl_mem dy, const cl_mem *dx, float beta_dx, cl_mem workspace)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape s;
    SC_TRY(sc_eltwise_output_shape(ctx, name, p, n_inputs, in, &s));
    if (n_inputs > 64)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (Eltwise): %d inputs, at most 64 supported", name, n_inputs);
    size_t count = sc_shape_count(s);
    SC_TRY(check_buffer(ctx, name, ELTWISE, "dy", dy, count, s));
    size_t ws_floats = sc_eltwise_workspace_floats(p, n_inputs, s);
    if (ws_floats)
        SC_TRY(check_buffer(ctx, name, ELTWISE, "workspace", workspace, ws_floats, s));
    SC_TRY(check_eltwise_grads(ctx, name, n_inputs, dx, dy, ws_floats ? workspace : NULL,
                               count, s));
    if (p->op == SC_ELTWISE_PROD)
        SC_TRY(check_eltwise_inputs(ctx, name, n_inputs, x, count, s));
    if (p->op == SC_ELTWISE_MAX)
        SC_TRY(check_buffer(ctx, name, ELTWISE, "saved (argmax)", saved, count, s));
    for (int i = 0; i < n_inputs; i++) {
        if (!dx[i])
            continue;
        if (p->op == SC_ELTWISE_SUM)
            SC_TRY(LAUNCH(plan, name, "eltwise_scale_grad", count, SC_ARG_INT(count),
                          SC_ARG_MEM(dy), SC_ARG_FLOAT(coeff_of(p, i)), SC_ARG_FLOAT(beta_dx),
                          SC_ARG_MEM(dx[i])));
        else if (p->op == SC_ELTWISE_MAX)
            SC_TRY(LAUNCH(plan, name, "eltwise_max_grad", count, SC_ARG_INT(count),
                          SC_ARG_MEM(dy), SC_ARG_MEM(saved), SC_ARG_INT(i),
                          SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx[i])));
        else
            SC_TRY(record_prod_grad(plan, name, n_inputs, x, i, dy, dx[i], beta_dx, workspace,
                                    count));
    }
    return SC_OK;
}

/* ---------------------------------------------------------------- Dropout */

static const char *const DROPOUT = "Dropout";

sc_dropout_params sc_dropout_default_params(void)
{
    return (sc_dropout_params){.ratio = 0.5f, .train = 1};
}

sc_status sc_dropout_output_shape(sc_ctx *ctx, const char *name, const sc_dropout_params *p,
                                  sc_shape in, sc_shape *out)
{
    SC_TRY(check_input(ctx, name, DROPOUT, in));
    if (!(p->ratio >= 0.0f && p->ratio < 1.0f)) { /* also rejects NaN */
        char b[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (Dropout): dropout_ratio %g is outside [0, 1) (input %s)", name,
                       (double)p->ratio, sc_shape_str(in, b, sizeof b));
    }
    *out = in;
    return SC_OK;
}

size_t sc_dropout_saved_floats(const sc_dropout_params *p, sc_shape in)
{
    return p->train ? (sc_shape_count(in) + sizeof(float) - 1) / sizeof(float) : 0;
}

sc_status sc_dropout_seed(sc_ctx *ctx, cl_mem state, uint32_t seed)
{
    if (sc_buffer_size(state) < SC_DROPOUT_STATE_FLOATS * sizeof(cl_uint))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "dropout state buffer holds %zu bytes, needs %zu", sc_buffer_size(state),
                       SC_DROPOUT_STATE_FLOATS * sizeof(cl_uint));
    cl_uint words[SC_DROPOUT_STATE_FLOATS] = {seed, 0};
    return sc_buffer_write(ctx, state, 0, sizeof words, words);
}

/* Caffe's scale_ = 1 / (1 - ratio). */
static float dropout_scale(const sc_dropout_params *p)
{
    return (float)(1.0 / (1.0 - (double)p->ratio));
}

sc_status sc_dropout_forward(sc_plan *plan, const char *name, const sc_dropout_params *p,
                             sc_shape in, cl_mem x, cl_mem y, cl_mem state, cl_mem saved)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_dropout_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, DROPOUT, "x", x, count, in));
    SC_TRY(check_buffer(ctx, name, DROPOUT, "y", y, count, in));
    if (!p->train) /* TEST: identity */
        return x == y ? SC_OK : sc_op_axpby(plan, name, count, 1.0f, x, 0.0f, y);
    SC_TRY(check_buffer(ctx, name, DROPOUT, "state", state, SC_DROPOUT_STATE_FLOATS, in));
    SC_TRY(check_buffer(ctx, name, DROPOUT, "saved (mask)", saved,
                        sc_dropout_saved_floats(p, in), in));
    /* keep when u >= ratio * 2^32 for u uniform on 32 bits: P(keep) = 1 - ratio */
    cl_uint threshold = (cl_uint)floor((double)p->ratio * 4294967296.0);
    cl_uint stream = (cl_uint)sc_hash64(name, strlen(name), 0);
    SC_TRY(LAUNCH(plan, name, "dropout_forward", count, SC_ARG_INT(count), SC_ARG_MEM(x),
                  SC_ARG_MEM(state), SC_ARG_UINT(stream), SC_ARG_UINT(threshold),
                  SC_ARG_FLOAT(dropout_scale(p)), SC_ARG_MEM(saved), SC_ARG_MEM(y)));
    return LAUNCH(plan, name, "dropout_advance", 1, SC_ARG_MEM(state));
}

sc_status sc_dropout_backward(sc_plan *plan, const char *name, const sc_dropout_params *p,
                              sc_shape in, cl_mem saved, cl_mem dy, cl_mem dx, float beta_dx)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_dropout_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, DROPOUT, "dy", dy, count, in));
    if (!dx)
        return SC_OK;
    SC_TRY(check_buffer(ctx, name, DROPOUT, "dx", dx, count, in));
    if (!p->train) {
        if (dx == dy && beta_dx == 0.0f)
            return SC_OK;
        return sc_op_axpby(plan, name, count, 1.0f, dy, beta_dx, dx);
    }
    SC_TRY(check_buffer(ctx, name, DROPOUT, "saved (mask)", saved,
                        sc_dropout_saved_floats(p, in), in));
    return LAUNCH(plan, name, "dropout_backward", count, SC_ARG_INT(count), SC_ARG_MEM(dy),
                  SC_ARG_MEM(saved), SC_ARG_FLOAT(dropout_scale(p)), SC_ARG_FLOAT(beta_dx),
                  SC_ARG_MEM(dx));
}
