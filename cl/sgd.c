/* Host launchers of the SGD-family updates (cl/sgd.cl). */
#include "sc_ops.h"

#include <limits.h>
#include <stdio.h>

static const char *const k_type_names[SC_SOLVER_TYPES] = {"SGD",     "Nesterov", "AdaGrad",
                                                          "RMSProp", "AdaDelta", "Adam"};

/* The kernel of each type, indexed by sc_solver_type. */
static const char *const k_kernels[SC_SOLVER_TYPES] = {
    "sgd_update", "nesterov_update", "adagrad_update", "rmsprop_update", "adadelta_update",
    "adam_update"};

/* Work-group size of the clipping reductions (SUMSQ_LOCAL in cl/sgd.cl). */
#define SUMSQ_LOCAL 256
/* At most this many work-groups (partial sums) per blob. */
#define SUMSQ_MAX_GROUPS 64

static int type_valid(sc_solver_type type) { return type >= 0 && type < SC_SOLVER_TYPES; }

/* Every sgd.cl launch builds the program with the same options: the scalar
 * slots (defined once, in ops_sgd.h) and the device's reduction size. */
static size_t program_options(sc_ctx *ctx, char *options, size_t cap)
{
    size_t local = sc_op_group_size(ctx, SUMSQ_LOCAL);
    snprintf(options, cap, "-DSGD_LR=%d -DSGD_ADAM_CORRECTION=%d -DSGD_CLIP_SCALE=%d "
             "-DSUMSQ_LOCAL=%zu", SC_SGD_LR, SC_SGD_ADAM_CORRECTION, SC_SGD_CLIP_SCALE, local);
    return local;
}

const char *sc_solver_type_name(sc_solver_type type)
{
    return type_valid(type) ? k_type_names[type] : "?";
}

int sc_solver_type_histories(sc_solver_type type)
{
    if (!type_valid(type))
        return 0;
    return type == SC_SOLVER_ADADELTA || type == SC_SOLVER_ADAM ? 2 : 1;
}

/* The kernels index with int: the blob must end below 2^31. */
static sc_status check_range(sc_ctx *ctx, const char *name, const char *op, size_t offset,
                             size_t count)
{
    if (count == 0)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s): parameter blob has 0 elements",
                       name, op);
    if (count > INT_MAX || offset > INT_MAX - count)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (%s): parameter blob [%zu, %zu) ends beyond 2^31-1 values", name, op,
                       offset, offset + count);
    return SC_OK;
}

static sc_status check_params(sc_ctx *ctx, const char *name, const sc_sgd_params *p)
{
    if (!type_valid(p->type))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (SGD): unknown solver type %d (SGD 0 ... Adam 5)", name, (int)p->type);
    const char *op = k_type_names[p->type];
    if (p->iter_size < 1)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s): iter_size %d must be >= 1", name,
                       op, p->iter_size);
    if (p->regularization != SC_REG_L2 && p->regularization != SC_REG_L1)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (%s): unknown regularization type %d (L2 0, L1 1)", name, op,
                       (int)p->regularization);
    return SC_OK;
}

static sc_status check_buffers(sc_ctx *ctx, const char *name, const sc_sgd_blob *b,
                               cl_mem scalars, sc_solver_type type)
{
    const char *op = k_type_names[type];
    size_t end = b->offset + b->count;
    SC_TRY(sc_op_check_buffer(ctx, name, op, "weights", b->w, end));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "diff", b->diff, end));
    SC_TRY(sc_op_check_buffer(ctx, name, op, "history", b->history, end));
    if (sc_solver_type_histories(type) == 2)
        SC_TRY(sc_op_check_buffer(ctx, name, op, "second history", b->history2, end));
    return sc_op_check_buffer(ctx, name, op, "scalars", scalars, SC_SGD_SCALARS);
}

/* The type's own kernel arguments, after the common ones (cl/sgd.cl): its
 * history buffers, then its float parameters. */
typedef struct type_args {
    cl_mem mems[2];
    cl_float floats[3];
    size_t n_mems, n_floats;
} type_args;

static type_args type_args_of(const sc_sgd_blob *b, const sc_sgd_params *p)
{
    type_args t = {.mems = {b->history, b->history2}, .n_mems = 1, .n_floats = 1};
    switch (p->type) {
    case SC_SOLVER_SGD:
    case SC_SOLVER_NESTEROV:
        t.floats[0] = p->momentum;
        break;
    case SC_SOLVER_ADAGRAD:
        t.floats[0] = p->delta;
        break;
    case SC_SOLVER_RMSPROP:
        t.floats[0] = p->rms_decay;
        t.floats[1] = p->delta;
        t.n_floats = 2;
        break;
    case SC_SOLVER_ADADELTA:
        t.floats[0] = p->momentum;
        t.floats[1] = p->delta;
        t.n_mems = t.n_floats = 2;
        break;
    case SC_SOLVER_ADAM:
        t.floats[0] = p->momentum;
        t.floats[1] = p->momentum2;
        t.floats[2] = p->delta;
        t.n_mems = 2;
        t.n_floats = 3;
        break;
    }
    return t;
}

sc_status sc_sgd_update(sc_plan *plan, const char *name, const sc_sgd_blob *b, cl_mem scalars,
                        const sc_sgd_params *p)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_params(ctx, name, p));
    SC_TRY(check_range(ctx, name, k_type_names[p->type], b->offset, b->count));
    SC_TRY(check_buffers(ctx, name, b, scalars, p->type));
    /* Caffe computes both products in the blob type (float). */
    const float local_decay = p->weight_decay * p->decay_mult;
    const float diff_scale = p->iter_size > 1 ? 1.0f / (float)p->iter_size : 1.0f;
    /* SC_ARG_* point at compound literals, which live to the end of this
     * function: sc_plan_kernel binds them before it returns. */
    sc_arg args[16] = {SC_ARG_INT(b->count),      SC_ARG_INT(b->offset),
                       SC_ARG_MEM(b->w),          SC_ARG_MEM(b->diff),
                       SC_ARG_MEM(scalars),       SC_ARG_FLOAT(p->lr_mult),
                       SC_ARG_FLOAT(local_decay), SC_ARG_FLOAT(diff_scale),
                       SC_ARG_INT(p->regularization == SC_REG_L1), SC_ARG_INT(p->clip != 0)};
    size_t nargs = 10;
    type_args t = type_args_of(b, p);
    for (size_t k = 0; k < t.n_mems; k++)
        args[nargs++] = (sc_arg){sizeof(cl_mem), &t.mems[k]};
    for (size_t k = 0; k < t.n_floats; k++)
        args[nargs++] = (sc_arg){sizeof(cl_float), &t.floats[k]};
    char label[256], options[160];
    snprintf(label, sizeof label, "%s/%s", name, k_kernels[p->type]);
    program_options(ctx, options, sizeof options);
    return sc_plan_kernel(plan, label, "sgd", k_kernels[p->type], options, 1, &b->count, NULL,
                          nargs, args);
}

size_t sc_sgd_sumsq_groups(sc_ctx *ctx, size_t count)
{
    size_t local = sc_op_group_size(ctx, SUMSQ_LOCAL);
    size_t groups = (count + local - 1) / local;
    return groups < 1 ? 1 : groups > SUMSQ_MAX_GROUPS ? SUMSQ_MAX_GROUPS : groups;
}

sc_status sc_sgd_sumsq(sc_plan *plan, const char *name, const sc_sgd_blob *b, cl_mem partial,
                       size_t slot)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_range(ctx, name, "ClipGradients", b->offset, b->count));
    size_t groups = sc_sgd_sumsq_groups(ctx, b->count);
    if (slot > INT_MAX - groups)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s (ClipGradients): partial sum slot %zu beyond 2^31-1", name, slot);
    SC_TRY(sc_op_check_buffer(ctx, name, "ClipGradients", "diff", b->diff, b->offset + b->count));
    SC_TRY(sc_op_check_buffer(ctx, name, "ClipGradients", "partial sums", partial, slot + groups));
    char options[160];
    size_t local = program_options(ctx, options, sizeof options);
    return sc_op_launch_groups(plan, name, "sgd", "sgd_sumsq", options, groups, local,
                               SC_ARGS(SC_ARG_INT(b->count), SC_ARG_INT(b->offset),
                                       SC_ARG_MEM(b->diff), SC_ARG_MEM(partial),
                                       SC_ARG_INT(slot)));
}

sc_status sc_sgd_clip_scale(sc_plan *plan, const char *name, cl_mem partial, size_t n_partial,
                            cl_mem scalars, float clip)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    if (n_partial == 0 || n_partial > INT_MAX || !(clip >= 0.0f))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (ClipGradients): %zu partial sums, clip %g (needs > 0 sums, clip >= 0)",
                       name, n_partial, (double)clip);
    SC_TRY(sc_op_check_buffer(ctx, name, "ClipGradients", "partial sums", partial, n_partial));
    SC_TRY(sc_op_check_buffer(ctx, name, "ClipGradients", "scalars", scalars, SC_SGD_SCALARS));
    char options[160];
    size_t local = program_options(ctx, options, sizeof options);
    return sc_op_launch_groups(plan, name, "sgd", "sgd_clip_scale", options, 1, local,
                               SC_ARGS(SC_ARG_INT(n_partial), SC_ARG_MEM(partial),
                                       SC_ARG_MEM(scalars), SC_ARG_FLOAT(clip)));
}

sc_status sc_sgd_clear_diff(sc_plan *plan, const char *name, size_t count, cl_mem diff)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_range(ctx, name, "SGD", 0, count));
    SC_TRY(sc_op_check_buffer(ctx, name, "SGD", "diff", diff, count));
    return sc_op_fill(plan, name, count, 0.0f, diff);
}
