/* Host launchers of Softmax, SoftmaxWithLoss and Accuracy (cl/softmax.cl). */
#include "sc_ops.h"

#include <limits.h>
#include <stdio.h>

/* Work-group size of the reductions: a power of two every OpenCL GPU and CPU
 * device supports; smaller only when the device maximum is below it. */
#define GROUP_SIZE 128
/* A position with at least this many classes and inner == 1 (a classifier
 * output) gets a whole work-group; otherwise one work-item per position. With
 * few positions (a batch of 64..512) and ~10k classes, the per-position form
 * would leave a GPU idle. */
#define GROUP_MIN_CLASSES 128

static int positions(sc_shape s)
{
    return s.n * s.h * s.w;
}

static int inner_size(sc_shape s)
{
    return s.h * s.w;
}

/* Positive dimensions, and small enough for the kernels' int indexing. */
static sc_status check_tensor(sc_ctx *ctx, const char *name, const char *op, const char *what,
                              sc_shape s)
{
    SC_TRY(sc_op_check_shape(ctx, name, op, what, s));
    if (sc_shape_count(s) <= INT_MAX)
        return SC_OK;
    char b[64];
    return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                   "%s (%s): %s %s has more than 2^31-1 elements", name, op, what,
                   sc_shape_str(s, b, sizeof b));
}

static int use_groups(sc_shape s)
{
    return inner_size(s) == 1 && s.c >= GROUP_MIN_CLASSES;
}

/* ------------------------------------------------------------ Softmax */

#define SOFTMAX "Softmax"

sc_status sc_softmax_output_shape(sc_ctx *ctx, const char *name, sc_shape x, sc_shape *y)
{
    SC_TRY(check_tensor(ctx, name, SOFTMAX, "input", x));
    *y = x;
    return SC_OK;
}

sc_status sc_softmax_forward(sc_plan *plan, const char *name, sc_shape x_shape, cl_mem x,
                             sc_shape y_shape, cl_mem y)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_tensor(ctx, name, SOFTMAX, "input", x_shape));
    if (x_shape.n != y_shape.n || x_shape.c != y_shape.c || x_shape.h != y_shape.h ||
        x_shape.w != y_shape.w) {
        char bx[64], by[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (" SOFTMAX "): output is %s, expected the input shape %s", name,
                       sc_shape_str(y_shape, by, sizeof by), sc_shape_str(x_shape, bx, sizeof bx));
    }
    const size_t count = sc_shape_count(x_shape);
    SC_TRY(sc_op_check_buffer(ctx, name, SOFTMAX, "input", x, count));
    SC_TRY(sc_op_check_buffer(ctx, name, SOFTMAX, "output", y, count));
    const int C = x_shape.c, inner = inner_size(x_shape);
    if (use_groups(x_shape)) {
        size_t local = sc_op_group_size(ctx, GROUP_SIZE);
        return sc_op_launch_groups(plan, name, "softmax", "softmax_forward_group", NULL,
                                   (size_t)positions(x_shape), local,
                                   SC_ARGS(SC_ARG_INT(C), SC_ARG_INT(inner), SC_ARG_MEM(x),
                                           SC_ARG_MEM(y), SC_ARG_LOCAL(local * sizeof(float))));
    }
    return sc_op_launch_1d(plan, name, "softmax", "softmax_forward", (size_t)positions(x_shape),
                           SC_ARGS(SC_ARG_INT(positions(x_shape)), SC_ARG_INT(C),
                                   SC_ARG_INT(inner), SC_ARG_MEM(x), SC_ARG_MEM(y)));
}

sc_status sc_softmax_backward(sc_plan *plan, const char *name, sc_shape shape, cl_mem y,
                              cl_mem dy, cl_mem dx, float beta_dx)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_tensor(ctx, name, SOFTMAX, "output", shape));
    if (!dx)
        return SC_OK;
    const size_t count = sc_shape_count(shape);
    SC_TRY(sc_op_check_buffer(ctx, name, SOFTMAX, "output", y, count));
    SC_TRY(sc_op_check_buffer(ctx, name, SOFTMAX, "output gradient", dy, count));
    SC_TRY(sc_op_check_buffer(ctx, name, SOFTMAX, "input gradient", dx, count));
    const int C = shape.c, inner = inner_size(shape);
    if (use_groups(shape)) {
        size_t local = sc_op_group_size(ctx, GROUP_SIZE);
        return sc_op_launch_groups(plan, name, "softmax", "softmax_backward_group", NULL,
                                   (size_t)positions(shape), local,
                                   SC_ARGS(SC_ARG_INT(C), SC_ARG_INT(inner), SC_ARG_MEM(y),
                                           SC_ARG_MEM(dy), SC_ARG_MEM(dx), SC_ARG_FLOAT(beta_dx),
                                           SC_ARG_LOCAL(local * sizeof(float))));
    }
    return sc_op_launch_1d(plan, name, "softmax", "softmax_backward", (size_t)positions(shape),
                           SC_ARGS(SC_ARG_INT(positions(shape)), SC_ARG_INT(C),
                                   SC_ARG_INT(inner), SC_ARG_MEM(y), SC_ARG_MEM(dy),
                                   SC_ARG_MEM(dx), SC_ARG_FLOAT(beta_dx)));
}

/* ---------------------------------------------------- SoftmaxWithLoss */

#define LOSS "SoftmaxWithLoss"
#define LOSS_SAVED_FLOATS 4 /* valid count, normaliser, bad labels, spare */

sc_softmax_loss_params sc_softmax_loss_defaults(void)
{
    return (sc_softmax_loss_params){SC_LOSS_NORM_VALID, 0, 0};
}

size_t sc_softmax_loss_state_floats(void)
{
    return LOSS_SAVED_FLOATS;
}

/* One label per position; the message names the input shape it must match. */
static sc_status check_labels(sc_ctx *ctx, const char *name, const char *op, sc_shape x,
                              cl_mem labels)
{
    char what[128], b[64];
    snprintf(what, sizeof what, "labels (one per position of input %s)",
             sc_shape_str(x, b, sizeof b));
    return sc_op_check_buffer(ctx, name, op, what, labels, (size_t)positions(x));
}

static sc_status check_loss_params(sc_ctx *ctx, const char *name,
                                   const sc_softmax_loss_params *p)
{
    if (p->normalization >= SC_LOSS_NORM_FULL && p->normalization <= SC_LOSS_NORM_NONE)
        return SC_OK;
    return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                   "%s (" LOSS "): unknown normalization mode %d (FULL 0, VALID 1, "
                   "BATCH_SIZE 2, NONE 3)",
                   name, (int)p->normalization);
}

sc_status sc_softmax_loss_forward(sc_plan *plan, const char *name,
                                  const sc_softmax_loss_params *p, sc_shape x_shape, cl_mem x,
                                  cl_mem labels, cl_mem prob, cl_mem saved, cl_mem loss)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_tensor(ctx, name, LOSS, "input", x_shape));
    SC_TRY(check_loss_params(ctx, name, p));
    const size_t count = sc_shape_count(x_shape);
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "input", x, count));
    SC_TRY(check_labels(ctx, name, LOSS, x_shape, labels));
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "prob", prob, count));
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "saved state", saved, LOSS_SAVED_FLOATS));
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "loss", loss, 1));
    SC_TRY(sc_softmax_forward(plan, name, x_shape, x, x_shape, prob));
    size_t local = sc_op_group_size(ctx, GROUP_SIZE);
    return sc_op_launch_groups(plan, name, "softmax", "softmax_loss_reduce", NULL, 1, local,
                               SC_ARGS(SC_ARG_INT(x_shape.n), SC_ARG_INT(x_shape.c),
                                       SC_ARG_INT(inner_size(x_shape)), SC_ARG_MEM(prob),
                                       SC_ARG_MEM(labels), SC_ARG_INT(p->has_ignore_label != 0),
                                       SC_ARG_INT(p->ignore_label), SC_ARG_INT(p->normalization),
                                       SC_ARG_MEM(loss), SC_ARG_MEM(saved),
                                       SC_ARG_LOCAL(local * sizeof(float)),
                                       SC_ARG_LOCAL(local * sizeof(cl_int))));
}

sc_status sc_softmax_loss_backward(sc_plan *plan, const char *name,
                                   const sc_softmax_loss_params *p, sc_shape x_shape,
                                   cl_mem prob, cl_mem labels, cl_mem saved, float loss_weight,
                                   cl_mem dx, float beta_dx)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_tensor(ctx, name, LOSS, "input", x_shape));
    SC_TRY(check_loss_params(ctx, name, p));
    if (!dx)
        return SC_OK;
    const size_t count = sc_shape_count(x_shape);
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "prob", prob, count));
    SC_TRY(check_labels(ctx, name, LOSS, x_shape, labels));
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "saved state", saved, LOSS_SAVED_FLOATS));
    SC_TRY(sc_op_check_buffer(ctx, name, LOSS, "input gradient", dx, count));
    return sc_op_launch_1d(plan, name, "softmax", "softmax_loss_backward", count,
                           SC_ARGS(SC_ARG_INT(count), SC_ARG_INT(x_shape.c),
                                   SC_ARG_INT(inner_size(x_shape)), SC_ARG_MEM(prob),
                                   SC_ARG_MEM(labels), SC_ARG_INT(p->has_ignore_label != 0),
                                   SC_ARG_INT(p->ignore_label), SC_ARG_MEM(saved),
                                   SC_ARG_FLOAT(loss_weight), SC_ARG_MEM(dx),
                                   SC_ARG_FLOAT(beta_dx)));
}

/* ----------------------------------------------------------- Accuracy */

#define ACCURACY "Accuracy"

sc_status sc_accuracy_forward(sc_plan *plan, const char *name, const sc_accuracy_params *p,
                              sc_shape x_shape, cl_mem x, cl_mem labels, cl_mem accuracy)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    SC_TRY(check_tensor(ctx, name, ACCURACY, "input", x_shape));
    if (p->top_k < 1 || p->top_k > x_shape.c) {
        char b[64];
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "%s (" ACCURACY "): top_k %d must be between 1 and the %d classes of "
                       "input %s",
                       name, p->top_k, x_shape.c, sc_shape_str(x_shape, b, sizeof b));
    }
    SC_TRY(sc_op_check_buffer(ctx, name, ACCURACY, "input", x, sc_shape_count(x_shape)));
    SC_TRY(check_labels(ctx, name, ACCURACY, x_shape, labels));
    SC_TRY(sc_op_check_buffer(ctx, name, ACCURACY, "accuracy", accuracy, 1));
    size_t local = sc_op_group_size(ctx, GROUP_SIZE);
    return sc_op_launch_groups(plan, name, "softmax", "accuracy_reduce", NULL, 1, local,
                               SC_ARGS(SC_ARG_INT(x_shape.n), SC_ARG_INT(x_shape.c),
                                       SC_ARG_INT(inner_size(x_shape)), SC_ARG_MEM(x),
                                       SC_ARG_MEM(labels), SC_ARG_INT(p->top_k),
                                       SC_ARG_INT(p->has_ignore_label != 0),
                                       SC_ARG_INT(p->ignore_label), SC_ARG_MEM(accuracy),
                                       SC_ARG_LOCAL(local * sizeof(cl_int))));
}
