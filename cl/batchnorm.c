/* Host launchers of Caffe's BatchNorm: check shapes and buffers, then record
 * launches of cl/batchnorm.cl into a plan. Nothing runs here. */
#include "sc_ops.h"
#include "sc_cl_shared.h"

#include <limits.h>
#include <math.h>

#define PROGRAM "batchnorm"
static const char *const BN = "BatchNorm";

/* Work-group size of the per-channel reductions: a power of two (the kernels'
 * tree needs one), lowered when the device allows less. */

/* sc_op_check_buffer, with the input shape in the message. */
static sc_status check_buffer(sc_ctx *ctx, const char *name, const char *what, cl_mem mem,
                              size_t floats, sc_shape in)
{
    char b[64];
    sc_shape_str(in, b, sizeof b);
    if (!mem)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (BatchNorm): %s buffer is missing (input %s)", name, what, b);
    size_t have = sc_buffer_size(mem) / sizeof(float);
    if (have < floats)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (BatchNorm): %s buffer holds %zu floats, needs %zu for input %s",
                       name, what, have, floats, b);
    return SC_OK;
}

sc_batchnorm_params sc_batchnorm_default_params(void)
{
    return (sc_batchnorm_params){
        .use_global_stats = 0, .eps = 1e-5f, .moving_average_fraction = 0.999f};
}

sc_status sc_batchnorm_output_shape(sc_ctx *ctx, const char *name,
                                    const sc_batchnorm_params *p, sc_shape in, sc_shape *out)
{
    char b[64];
    SC_TRY(sc_op_check_shape(ctx, name, BN, "input", in));
    sc_shape_str(in, b, sizeof b);
    if (sc_shape_count(in) > (size_t)INT_MAX)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (BatchNorm): input %s has more than 2^31-1 elements", name, b);
    if (!(p->eps >= 0.0f) || isinf(p->eps))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (BatchNorm): eps %g must be finite and >= 0 (input %s)", name,
                       (double)p->eps, b);
    float maf = p->moving_average_fraction;
    if (!(maf >= 0.0f && maf <= 1.0f))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (BatchNorm): moving_average_fraction %g is outside [0, 1] (input %s)",
                       name, (double)maf, b);
    *out = in;
    return SC_OK;
}

size_t sc_batchnorm_saved_floats(const sc_batchnorm_params *p, sc_shape in)
{
    return 2 * (size_t)in.c + (p->use_global_stats ? 0 : sc_shape_count(in));
}

size_t sc_batchnorm_work_floats(const sc_batchnorm_params *p, sc_shape in)
{
    return p->use_global_stats ? 0 : 2 * (size_t)in.n * (size_t)in.c + 2 * (size_t)in.c;
}

/* Training statistics: the planes' sums, the means, the planes' squared
 * deviations, the variances (and the running blobs). */
static sc_status record_train_stats(sc_plan *plan, const char *name, const sc_batchnorm_params *p,
                                    sc_shape in, cl_mem x, cl_mem mean_blob, cl_mem var_blob,
                                    cl_mem scale_factor, cl_mem saved, cl_mem work)
{
    int HW = in.h * in.w, planes = in.n * in.c;
    long long m = (long long)in.n * HW;
    /* Caffe's bias correction of the running variance: m / (m - 1), 1 when m == 1 */
    float correction = m > 1 ? (float)((double)m / (double)(m - 1)) : 1.0f;
    for (int squares = 0; squares <= 1; squares++) {
        SC_TRY(sc_op_launch_1d(plan, name, PROGRAM, "bn_plane_sums", (size_t)planes,
                               SC_ARGS(SC_ARG_INT(planes), SC_ARG_INT(in.c), SC_ARG_INT(HW),
                                       SC_ARG_MEM(x), SC_ARG_INT(squares), SC_ARG_MEM(saved),
                                       SC_ARG_MEM(work))));
        if (!squares)
            SC_TRY(sc_op_launch_1d(plan, name, PROGRAM, "bn_mean", (size_t)in.c,
                                   SC_ARGS(SC_ARG_INT(in.n), SC_ARG_INT(in.c),
                                           SC_ARG_FLOAT((float)m), SC_ARG_MEM(work),
                                           SC_ARG_MEM(saved))));
    }
    return sc_op_launch_1d(plan, name, PROGRAM, "bn_variance", (size_t)in.c,
                           SC_ARGS(SC_ARG_INT(in.n), SC_ARG_INT(in.c), SC_ARG_FLOAT((float)m),
                                   SC_ARG_MEM(work), SC_ARG_FLOAT(p->eps),
                                   SC_ARG_FLOAT(p->moving_average_fraction),
                                   SC_ARG_FLOAT(correction), SC_ARG_MEM(mean_blob),
                                   SC_ARG_MEM(var_blob), SC_ARG_MEM(scale_factor),
                                   SC_ARG_MEM(saved)));
}

/* Blob and state buffers; saved must not alias the tensors it is read with. */
static sc_status check_forward_buffers(sc_ctx *ctx, const char *name,
                                       const sc_batchnorm_params *p, sc_shape in, cl_mem x,
                                       cl_mem y, cl_mem mean_blob, cl_mem var_blob,
                                       cl_mem scale_factor, cl_mem saved)
{
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, "x", x, count, in));
    SC_TRY(check_buffer(ctx, name, "y", y, count, in));
    SC_TRY(check_buffer(ctx, name, "mean blob", mean_blob, (size_t)in.c, in));
    SC_TRY(check_buffer(ctx, name, "variance blob", var_blob, (size_t)in.c, in));
    SC_TRY(check_buffer(ctx, name, "scale_factor blob", scale_factor, 1, in));
    SC_TRY(check_buffer(ctx, name, "saved", saved, sc_batchnorm_saved_floats(p, in), in));
    if (saved == x || saved == y)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (BatchNorm): the saved buffer must differ from x and y", name);
    return SC_OK;
}

sc_status sc_batchnorm_forward(sc_plan *plan, const char *name, const sc_batchnorm_params *p,
                               sc_shape in, cl_mem x, cl_mem y, cl_mem mean_blob,
                               cl_mem var_blob, cl_mem scale_factor, cl_mem saved, cl_mem work)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_batchnorm_output_shape(ctx, name, p, in, &out));
    SC_TRY(check_forward_buffers(ctx, name, p, in, x, y, mean_blob, var_blob, scale_factor,
                                 saved));
    int training = !p->use_global_stats;
    if (training) {
        SC_TRY(check_buffer(ctx, name, "work", work, sc_batchnorm_work_floats(p, in), in));
        SC_TRY(record_train_stats(plan, name, p, in, x, mean_blob, var_blob, scale_factor, saved,
                                  work));
    } else {
        SC_TRY(sc_op_launch_1d(plan, name, PROGRAM, "bn_global_stats", (size_t)in.c,
                               SC_ARGS(SC_ARG_INT(in.c), SC_ARG_FLOAT(p->eps),
                                       SC_ARG_MEM(mean_blob), SC_ARG_MEM(var_blob),
                                       SC_ARG_MEM(scale_factor), SC_ARG_MEM(saved))));
    }
    return sc_op_launch_planes(plan, name, PROGRAM, "bn_normalize", in,
                         SC_ARGS(SC_ARG_INT(in.h * in.w), SC_ARG_INT(in.c), SC_ARG_MEM(x),
                                 SC_ARG_MEM(saved), SC_ARG_INT(training), SC_ARG_MEM(y)));
}

sc_status sc_batchnorm_backward(sc_plan *plan, const char *name,
                                const sc_batchnorm_params *p, sc_shape in, cl_mem saved,
                                cl_mem dy, cl_mem dx, float beta_dx, cl_mem work)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    sc_shape out;
    SC_TRY(sc_batchnorm_output_shape(ctx, name, p, in, &out));
    size_t count = sc_shape_count(in);
    SC_TRY(check_buffer(ctx, name, "saved", saved, sc_batchnorm_saved_floats(p, in), in));
    SC_TRY(check_buffer(ctx, name, "dy", dy, count, in));
    if (!dx)
        return SC_OK;
    SC_TRY(check_buffer(ctx, name, "dx", dx, count, in));
    if (saved == dx || saved == dy)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (BatchNorm): the saved buffer must differ from dy and dx", name);
    int HW = in.h * in.w, planes = in.n * in.c;
    if (p->use_global_stats)
        return sc_op_launch_planes(plan, name, PROGRAM, "bn_backward_global", in,
                             SC_ARGS(SC_ARG_INT(HW), SC_ARG_INT(in.c), SC_ARG_MEM(saved),
                                     SC_ARG_MEM(dy), SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx)));
    SC_TRY(check_buffer(ctx, name, "work", work, sc_batchnorm_work_floats(p, in), in));
    float m = (float)((double)in.n * HW);
    SC_TRY(sc_op_launch_1d(plan, name, PROGRAM, "bn_backward_plane_sums", (size_t)planes,
                           SC_ARGS(SC_ARG_INT(planes), SC_ARG_INT(in.c), SC_ARG_INT(HW),
                                   SC_ARG_MEM(saved), SC_ARG_MEM(dy), SC_ARG_MEM(work))));
    SC_TRY(sc_op_launch_1d(plan, name, PROGRAM, "bn_backward_means", (size_t)in.c,
                           SC_ARGS(SC_ARG_INT(in.n), SC_ARG_INT(in.c), SC_ARG_FLOAT(m),
                                   SC_ARG_MEM(work))));
    return sc_op_launch_planes(plan, name, PROGRAM, "bn_backward_train", in,
                         SC_ARGS(SC_ARG_INT(HW), SC_ARG_INT(in.c), SC_ARG_MEM(saved),
                                 SC_ARG_MEM(work), SC_ARG_INT(2 * planes), SC_ARG_MEM(dy),
                                 SC_ARG_FLOAT(beta_dx), SC_ARG_MEM(dx)));
}

sc_status sc_batchnorm_fold(sc_plan *plan, const char *name, int K, int per_k, float eps,
                            cl_mem w, cl_mem b, cl_mem mean_blob, cl_mem var_blob,
                            cl_mem scale_factor, cl_mem gamma, cl_mem beta, cl_mem w_out,
                            cl_mem b_out)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    const char *op = "BatchNorm fold";
    if (K <= 0 || per_k <= 0)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE, "%s (%s): %d channels x %d weights", name,
                       op, K, per_k);
    size_t n = (size_t)K * (size_t)per_k;
    SC_TRY(sc_op_check_buffer(ctx, name, op, "weights", w, n));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "folded weights", w_out, n));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "folded bias", b_out, (size_t)K));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "mean", mean_blob, (size_t)K));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "variance", var_blob, (size_t)K));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "scale_factor", scale_factor, 1));
    if (b)
        SC_TRY(sc_op_check_buffer(ctx, name, op, "bias", b, (size_t)K));
    if (gamma)
        SC_TRY(sc_op_check_buffer(ctx, name, op, "gamma", gamma, (size_t)K));
    if (beta)
        SC_TRY(sc_op_check_buffer(ctx, name, op, "beta", beta, (size_t)K));
    /* absent operands are bound to w (never read: the has_* flags are 0) */
    return sc_op_launch_1d(plan, name, PROGRAM, "bn_fold", n,
                           SC_ARGS(SC_ARG_INT(K), SC_ARG_INT(per_k), SC_ARG_FLOAT(eps),
                                   SC_ARG_MEM(w), SC_ARG_MEM(b ? b : w), SC_ARG_MEM(mean_blob),
                                   SC_ARG_MEM(var_blob), SC_ARG_MEM(scale_factor),
                                   SC_ARG_MEM(gamma ? gamma : w), SC_ARG_MEM(beta ? beta : w),
                                   SC_ARG_INT(b != NULL), SC_ARG_INT(gamma != NULL),
                                   SC_ARG_INT(beta != NULL), SC_ARG_MEM(w_out),
                                   SC_ARG_MEM(b_out)));
}
