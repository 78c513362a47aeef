/* A-Softmax (MarginInnerProduct) launchers: checks, then the recorded sequence
 *   forward:  schedule (1 item) -> normalise W rows -> |x| rows -> GEMM f = x W^T -> margin
 *   backward: [prep dy'] -> GEMM dW += dy'^T x -> GEMM dx = dy' W + beta dx -> dx += r x
 * (see cl/asoftmax.cl for what each kernel computes). */
#include "sc_ops.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ASOFTMAX_OP "MarginInnerProduct"
#define ASOFTMAX_PROGRAM "asoftmax"

/* Work-group size of the row-norm reductions: 128 work-items (a power of two,
 * as the tree reduction needs) keep a GPU busy on K = 512 rows and stay far
 * below every device's limit; smaller devices get the largest power of two
 * they allow. */
#define ASOFTMAX_NORM_LOCAL 128

/* The state buffer: an int32 iteration and a float lambda, 4 bytes each. */
#define ASOFTMAX_STATE_WORDS 2

typedef struct asoftmax_dims {
    int M, K, N;
} asoftmax_dims;

static const char *layer_name(const char *name)
{
    return name ? name : "(unnamed)";
}

/* Fails with "name (MarginInnerProduct): <what> (input AxBxCxD, weights ExFxGxH)". */
static sc_status fail_with_shapes(sc_ctx *ctx, sc_status status, const char *name, sc_shape x,
                                  sc_shape w, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static sc_status fail_with_shapes(sc_ctx *ctx, sc_status status, const char *name, sc_shape x,
                                  sc_shape w, const char *fmt, ...)
{
    char what[512], xs[64], ws[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sc_fail(sc_ctx_error(ctx), status, "%s (%s): %s (input %s, weights %s)",
                   layer_name(name), ASOFTMAX_OP, what, sc_shape_str(x, xs, sizeof xs),
                   sc_shape_str(w, ws, sizeof ws));
}

static int shape_positive(sc_shape s)
{
    return s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0;
}

/* Checks the parameters and both shapes; fills M, K, N. */
static sc_status check_layer(sc_ctx *ctx, const char *name, const sc_asoftmax_params *p,
                             sc_shape x, sc_shape w, asoftmax_dims *d)
{
    if (!p)
        return fail_with_shapes(ctx, SC_ERR_ARG, name, x, w, "parameters are missing");
    if (p->m < 1 || p->m > 4)
        return fail_with_shapes(ctx, SC_ERR_ARG, name, x, w,
                                "margin m = %d is outside 1..4 (Caffe type %d)", p->m, p->m - 1);
    if (!shape_positive(x))
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "input has a zero or negative dimension");
    if (!shape_positive(w))
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "weights have a zero or negative dimension");
    if (p->num_output <= 0 || w.n != p->num_output)
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "weights have %d rows but num_output is %d", w.n, p->num_output);
    size_t xk = (size_t)x.c * (size_t)x.h * (size_t)x.w;
    size_t wk = (size_t)w.c * (size_t)w.h * (size_t)w.w;
    if (xk != wk)
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "input rows have K = %zu values but the weights expect K = %zu", xk,
                                wk);
    size_t M = (size_t)x.n, N = (size_t)w.n;
    if (xk > INT_MAX / M || N > INT_MAX / M || xk > INT_MAX / N)
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "too large for 32-bit indexing (M*K, M*N or N*K > %d)", INT_MAX);
    d->M = x.n;
    d->K = (int)xk;
    d->N = w.n;
    return SC_OK;
}

static sc_status check_buffer(sc_ctx *ctx, const char *name, sc_shape x, sc_shape w,
                              const char *what, cl_mem mem, size_t floats)
{
    if (!mem)
        return fail_with_shapes(ctx, SC_ERR_ARG, name, x, w, "%s buffer is missing", what);
    size_t have = sc_buffer_size(mem) / sizeof(float);
    if (have < floats)
        return fail_with_shapes(ctx, SC_ERR_SHAPE, name, x, w,
                                "%s buffer holds %zu floats, needs %zu", what, have, floats);
    return SC_OK;
}

sc_asoftmax_params sc_asoftmax_params_default(int num_output)
{
    sc_asoftmax_params p = {.m = 1,
                            .num_output = num_output,
                            .base = 1.0f,
                            .gamma = 0.0f,
                            .power = 1.0f,
                            .lambda_min = 0.0f,
                            .iteration = 0,
                            .mode = SC_ASOFTMAX_CAFFE};
    return p;
}

float sc_asoftmax_lambda(const sc_asoftmax_params *p, int iter)
{
    float lambda = p->base * powf(1.0f + p->gamma * (float)iter, -p->power);
    return lambda > p->lambda_min ? lambda : p->lambda_min;
}

sc_status sc_asoftmax_output_shape(sc_ctx *ctx, const char *name, const sc_asoftmax_params *p,
                                   sc_shape x, sc_shape w, sc_shape *out)
{
    asoftmax_dims d = {0, 0, 0};
    SC_TRY(check_layer(ctx, name, p, x, w, &d));
    *out = (sc_shape){d.M, d.N, 1, 1};
    return SC_OK;
}

size_t sc_asoftmax_state_floats(void)
{
    return ASOFTMAX_STATE_WORDS;
}

size_t sc_asoftmax_saved_floats(int M)
{
    return M > 0 ? 2 * (size_t)M : 0;
}

size_t sc_asoftmax_workspace_floats(const sc_asoftmax_params *p, int M)
{
    if (!p || p->m <= 1 || M <= 0 || p->num_output <= 0)
        return 0;
    return (size_t)M * (size_t)p->num_output + (size_t)M;
}

static sc_status check_state(sc_ctx *ctx, cl_mem state)
{
    if (!state)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "A-Softmax state: buffer is missing");
    if (sc_buffer_size(state) < ASOFTMAX_STATE_WORDS * 4)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "A-Softmax state: buffer holds %zu bytes, needs %d", sc_buffer_size(state),
                       ASOFTMAX_STATE_WORDS * 4);
    return SC_OK;
}

sc_status sc_asoftmax_state_set(sc_ctx *ctx, cl_mem state, int iter, float lambda)
{
    SC_TRY(check_state(ctx, state));
    int32_t it = (int32_t)iter;
    unsigned char bytes[ASOFTMAX_STATE_WORDS * 4];
    memcpy(bytes, &it, 4);
    memcpy(bytes + 4, &lambda, 4);
    return sc_buffer_write(ctx, state, 0, sizeof bytes, bytes);
}

sc_status sc_asoftmax_state_get(sc_ctx *ctx, cl_mem state, int *iter, float *lambda)
{
    SC_TRY(check_state(ctx, state));
    unsigned char bytes[ASOFTMAX_STATE_WORDS * 4];
    SC_TRY(sc_buffer_read(ctx, state, 0, sizeof bytes, bytes));
    int32_t it;
    memcpy(&it, bytes, 4);
    if (iter)
        *iter = (int)it;
    if (lambda)
        memcpy(lambda, bytes + 4, 4);
    return SC_OK;
}

sc_status sc_asoftmax_state_init(sc_ctx *ctx, const sc_asoftmax_params *p, cl_mem state)
{
    if (!p)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "A-Softmax state: parameters are missing");
    return sc_asoftmax_state_set(ctx, state, p->iteration, sc_asoftmax_lambda(p, p->iteration));
}

/* One work-group per row: normalize ? row /= |row| in place : norm_out[row] = |row|. */
static sc_status record_row_norm(sc_plan *plan, const char *name, const char *step, int rows,
                                 int K, cl_mem a, cl_mem norm_out, int normalize)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s", layer_name(name), step);
    size_t local = sc_op_group_size(sc_plan_ctx(plan), ASOFTMAX_NORM_LOCAL);
    size_t global = (size_t)rows * local;
    return sc_plan_kernel(plan, label, ASOFTMAX_PROGRAM, "asoftmax_row_norm", NULL, 1, &global,
                          &local,
                          SC_ARGS(SC_ARG_INT(rows), SC_ARG_INT(K), SC_ARG_MEM(a),
                                  SC_ARG_MEM(norm_out), SC_ARG_INT(normalize),
                                  SC_ARG_LOCAL(local * sizeof(float))));
}

static sc_status record_gemm(sc_plan *plan, const char *name, const char *step,
                             const sc_gemm_args *g)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s", layer_name(name), step);
    return sc_plan_gemm(plan, label, g);
}

static sc_status check_forward_buffers(sc_ctx *ctx, const char *name, sc_shape xs, sc_shape ws,
                                       asoftmax_dims d, cl_mem x, cl_mem labels, cl_mem w,
                                       cl_mem state, cl_mem f, cl_mem lambda_top, cl_mem saved)
{
    size_t M = (size_t)d.M, K = (size_t)d.K, N = (size_t)d.N;
    SC_TRY(check_buffer(ctx, name, xs, ws, "input", x, M * K));
    SC_TRY(check_buffer(ctx, name, xs, ws, "label", labels, M));
    SC_TRY(check_buffer(ctx, name, xs, ws, "weight", w, N * K));
    SC_TRY(check_buffer(ctx, name, xs, ws, "state", state, ASOFTMAX_STATE_WORDS));
    SC_TRY(check_buffer(ctx, name, xs, ws, "output", f, M * N));
    SC_TRY(check_buffer(ctx, name, xs, ws, "saved", saved, sc_asoftmax_saved_floats(d.M)));
    if (lambda_top)
        SC_TRY(check_buffer(ctx, name, xs, ws, "lambda output", lambda_top, 1));
    return SC_OK;
}

sc_status sc_asoftmax_forward(sc_plan *plan, const char *name, const sc_asoftmax_params *p,
                              sc_shape x_shape, cl_mem x, cl_mem labels, sc_shape w_shape,
                              cl_mem w, cl_mem state, int advance, cl_mem f, cl_mem lambda_top,
                              cl_mem saved)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    asoftmax_dims d = {0, 0, 0};
    SC_TRY(check_layer(ctx, name, p, x_shape, w_shape, &d));
    SC_TRY(check_forward_buffers(ctx, name, x_shape, w_shape, d, x, labels, w, state, f,
                                 lambda_top, saved));
    const char *lname = layer_name(name);

    SC_TRY(sc_op_launch_1d(plan, lname, ASOFTMAX_PROGRAM, "asoftmax_schedule", 1,
                           SC_ARGS(SC_ARG_MEM(state), SC_ARG_MEM(lambda_top ? lambda_top : state),
                                   SC_ARG_INT(lambda_top != NULL), SC_ARG_INT(advance != 0),
                                   SC_ARG_FLOAT(p->base), SC_ARG_FLOAT(p->gamma),
                                   SC_ARG_FLOAT(p->power), SC_ARG_FLOAT(p->lambda_min))));
    SC_TRY(record_row_norm(plan, lname, "normalize_weights", d.N, d.K, w, w, 1));
    SC_TRY(record_row_norm(plan, lname, "input_norms", d.M, d.K, x, saved, 0));

    sc_gemm_args g = {.layout = SC_ROW_MAJOR, .trans_a = 0, .trans_b = 1,
                      .m = (size_t)d.M, .n = (size_t)d.N, .k = (size_t)d.K,
                      .alpha = 1.0f, .a = x, .lda = (size_t)d.K,
                      .b = w, .ldb = (size_t)d.K,
                      .beta = 0.0f, .c = f, .ldc = (size_t)d.N};
    SC_TRY(record_gemm(plan, lname, "gemm_xwt", &g));

    return sc_op_launch_1d(plan, lname, ASOFTMAX_PROGRAM, "asoftmax_margin", (size_t)d.M,
                           SC_ARGS(SC_ARG_INT(d.M), SC_ARG_INT(d.N), SC_ARG_INT(p->m),
                                   SC_ARG_MEM(f), SC_ARG_MEM(labels), SC_ARG_MEM(state),
                                   SC_ARG_MEM(saved)));
}

static sc_status check_backward_buffers(sc_ctx *ctx, const char *name, const sc_asoftmax_params *p,
                                        sc_shape xs, sc_shape ws, asoftmax_dims d, cl_mem x,
                                        cl_mem labels, cl_mem w, cl_mem state, cl_mem saved,
                                        cl_mem dy, cl_mem workspace, cl_mem dx, cl_mem dw,
                                        int needs_prep)
{
    size_t M = (size_t)d.M, K = (size_t)d.K, N = (size_t)d.N;
    SC_TRY(check_buffer(ctx, name, xs, ws, "input", x, M * K));
    SC_TRY(check_buffer(ctx, name, xs, ws, "label", labels, M));
    SC_TRY(check_buffer(ctx, name, xs, ws, "weight", w, N * K));
    SC_TRY(check_buffer(ctx, name, xs, ws, "state", state, ASOFTMAX_STATE_WORDS));
    SC_TRY(check_buffer(ctx, name, xs, ws, "saved", saved, sc_asoftmax_saved_floats(d.M)));
    SC_TRY(check_buffer(ctx, name, xs, ws, "output diff", dy, M * N));
    if (dx)
        SC_TRY(check_buffer(ctx, name, xs, ws, "input diff", dx, M * K));
    if (dw)
        SC_TRY(check_buffer(ctx, name, xs, ws, "weight diff", dw, N * K));
    if (needs_prep)
        SC_TRY(check_buffer(ctx, name, xs, ws, "workspace", workspace,
                            sc_asoftmax_workspace_floats(p, d.M)));
    return SC_OK;
}

sc_status sc_asoftmax_backward(sc_plan *plan, const char *name, const sc_asoftmax_params *p,
                               sc_shape x_shape, cl_mem x, cl_mem labels, sc_shape w_shape,
                               cl_mem w, cl_mem state, cl_mem saved, cl_mem dy, cl_mem workspace,
                               cl_mem dx, float beta_dx, cl_mem dw)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    asoftmax_dims d = {0, 0, 0};
    SC_TRY(check_layer(ctx, name, p, x_shape, w_shape, &d));
    if (p->mode != SC_ASOFTMAX_CAFFE && p->mode != SC_ASOFTMAX_EXACT)
        return fail_with_shapes(ctx, SC_ERR_ARG, name, x_shape, w_shape,
                                "unknown backward mode %d", (int)p->mode);
    const int exact = p->mode == SC_ASOFTMAX_EXACT;
    /* m = 1 is a plain inner product in both modes: dy is used as it is. Else
     * dx always needs dy', dW only in exact mode (Caffe ignores the margin). */
    const int needs_prep = p->m > 1 && (dx || (exact && dw));
    SC_TRY(check_backward_buffers(ctx, name, p, x_shape, w_shape, d, x, labels, w, state, saved,
                                  dy, workspace, dx, dw, needs_prep));
    const char *lname = layer_name(name);

    if (needs_prep)
        SC_TRY(sc_op_launch_1d(plan, lname, ASOFTMAX_PROGRAM, "asoftmax_backward_prep",
                               (size_t)d.M * (size_t)d.N,
                               SC_ARGS(SC_ARG_INT(d.M), SC_ARG_INT(d.N), SC_ARG_INT(p->m),
                                       SC_ARG_INT(!exact), SC_ARG_MEM(dy), SC_ARG_MEM(labels),
                                       SC_ARG_MEM(state), SC_ARG_MEM(saved),
                                       SC_ARG_MEM(workspace))));
    if (dw) {
        cl_mem a = (p->m > 1 && exact) ? workspace : dy;
        sc_gemm_args g = {.layout = SC_ROW_MAJOR, .trans_a = 1, .trans_b = 0,
                          .m = (size_t)d.N, .n = (size_t)d.K, .k = (size_t)d.M,
                          .alpha = 1.0f, .a = a, .lda = (size_t)d.N,
                          .b = x, .ldb = (size_t)d.K,
                          .beta = 1.0f, .c = dw, .ldc = (size_t)d.K};
        SC_TRY(record_gemm(plan, lname, "gemm_dw", &g));
    }
    if (!dx)
        return SC_OK;
    sc_gemm_args g = {.layout = SC_ROW_MAJOR, .trans_a = 0, .trans_b = 0,
                      .m = (size_t)d.M, .n = (size_t)d.K, .k = (size_t)d.N,
                      .alpha = 1.0f, .a = p->m > 1 ? workspace : dy, .lda = (size_t)d.N,
                      .b = w, .ldb = (size_t)d.K,
                      .beta = beta_dx, .c = dx, .ldc = (size_t)d.K};
    SC_TRY(record_gemm(plan, lname, "gemm_dx", &g));
    if (p->m == 1)
        return SC_OK;
    return sc_op_launch_1d(plan, lname, ASOFTMAX_PROGRAM, "asoftmax_add_row_scaled",
                           (size_t)d.M * (size_t)d.K,
                           SC_ARGS(SC_ARG_INT(d.M), SC_ARG_INT(d.K), SC_ARG_INT(d.N),
                                   SC_ARG_MEM(x), SC_ARG_MEM(workspace), SC_ARG_MEM(dx)));
}
