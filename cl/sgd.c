/* Host launchers of the SGD update (cl/sgd.cl). */
#include "sc_ops.h"

#include <limits.h>

#define OP "SGD"

static sc_status check_count(sc_ctx *ctx, const char *name, size_t count)
{
    if (count == 0)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (" OP "): parameter blob has 0 elements",
                       name);
    if (count > INT_MAX)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (" OP "): parameter blob has %zu elements, more than 2^31-1", name,
                       count);
    return SC_OK;
}

static sc_status check_params(sc_ctx *ctx, const char *name, const sc_sgd_params *p)
{
    if (p->iter_size < 1)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (" OP "): iter_size %d must be >= 1",
                       name, p->iter_size);
    if (p->regularization != SC_REG_L2 && p->regularization != SC_REG_L1)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" OP "): unknown regularization type %d (L2 0, L1 1)", name,
                       (int)p->regularization);
    return SC_OK;
}

sc_status sc_sgd_update(sc_plan *plan, const char *name, size_t count, cl_mem w, cl_mem diff,
                        cl_mem history, cl_mem lr, const sc_sgd_params *p)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_count(ctx, name, count));
    SC_TRY(check_params(ctx, name, p));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "weights", w, count));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "diff", diff, count));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "history", history, count));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "learning rate", lr, 1));
    /* Caffe computes both products in the blob type (float). */
    const float local_decay = p->weight_decay * p->decay_mult;
    const float diff_scale = p->iter_size > 1 ? 1.0f / (float)p->iter_size : 1.0f;
    return sc_op_launch_1d(plan, name, "sgd", "sgd_update", count,
                           SC_ARGS(SC_ARG_INT(count), SC_ARG_MEM(w), SC_ARG_MEM(diff),
                                   SC_ARG_MEM(history), SC_ARG_MEM(lr), SC_ARG_FLOAT(p->lr_mult),
                                   SC_ARG_FLOAT(p->momentum), SC_ARG_FLOAT(local_decay),
                                   SC_ARG_FLOAT(diff_scale),
                                   SC_ARG_INT(p->regularization == SC_REG_L1)));
}

sc_status sc_sgd_clear_diff(sc_plan *plan, const char *name, size_t count, cl_mem diff)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_count(ctx, name, count));
    SC_TRY(sc_op_check_buffer(ctx, name, OP, "diff", diff, count));
    return sc_op_fill(plan, name, count, 0.0f, diff);
}
