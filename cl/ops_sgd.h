/* Caffe's SGD-family parameter updates (sgd_solvers.hpp: SGD, Nesterov,
 * AdaGrad, RMSProp, AdaDelta, Adam) for one parameter blob, and the diff
 * clearing the solver does before each forward/backward.
 *
 * Every update runs, per value and in Caffe's order (sgd_solver.cpp):
 *   ClipGradients:       diff *= clip scale                (when clipping)
 *   Normalize:           diff /= iter_size                 (when iter_size > 1)
 *   Regularize:          diff += weight_decay*decay_mult * w   (L2; L1 uses sign(w))
 *   ComputeUpdateValue:  the type's rule (cl/sgd.cl), leaving the update in diff
 *   Net::Update:         w -= diff
 * with local_rate = lr * lr_mult. Values that change every iteration (the
 * rate, Adam's bias correction, the clip scale) are read from a small device buffer of
 * SC_SGD_SCALARS floats that the solver writes once per iteration, so the
 * recorded update plan replays unchanged. Learning-rate policies are the
 * solver's business (graph/), not this op's. */
#ifndef SC_OPS_SGD_H
#define SC_OPS_SGD_H

/* Caffe's SolverParameter.regularization_type. */
typedef enum sc_regularization { SC_REG_L2 = 0, SC_REG_L1 = 1 } sc_regularization;

/* Caffe's solver types, numbered as the deprecated SolverParameter.SolverType. */
typedef enum sc_solver_type {
    SC_SOLVER_SGD = 0,
    SC_SOLVER_NESTEROV = 1,
    SC_SOLVER_ADAGRAD = 2,
    SC_SOLVER_RMSPROP = 3,
    SC_SOLVER_ADADELTA = 4,
    SC_SOLVER_ADAM = 5
} sc_solver_type;
#define SC_SOLVER_TYPES 6

/* Caffe's `type` string of a solver type ("SGD", "Nesterov", "AdaGrad",
 * "RMSProp", "AdaDelta", "Adam"); "?" for a value out of range. */
const char *sc_solver_type_name(sc_solver_type type);
/* History blobs the type keeps per parameter, as Caffe's history_ does: 1,
 * or 2 for AdaDelta (gradient and update histories) and Adam (m and v);
 * 0 for a value out of range. */
int sc_solver_type_histories(sc_solver_type type);

/* Slots of the per-iteration scalar buffer. */
enum {
    SC_SGD_LR = 0,              /* the solver's rate for this iteration */
    SC_SGD_ADAM_CORRECTION = 1, /* Adam: sqrt(1 - beta2^t) / (1 - beta1^t), t = iter + 1 */
    SC_SGD_CLIP_SCALE = 2,      /* written on the device by sc_sgd_clip_scale */
    SC_SGD_SCALARS = 3
};

typedef struct sc_sgd_params {
    sc_solver_type type;
    float lr_mult;      /* param { lr_mult } of this blob */
    float decay_mult;   /* param { decay_mult } of this blob */
    float momentum;     /* SGD, Nesterov: momentum; AdaDelta: decay; Adam: beta1 */
    float momentum2;    /* Adam: beta2 */
    float rms_decay;    /* RMSProp */
    float delta;        /* AdaGrad, RMSProp, AdaDelta, Adam: the denominator's guard */
    float weight_decay; /* solver weight_decay */
    int iter_size;      /* solver iter_size (>= 1): gradients accumulated over that many passes */
    sc_regularization regularization;
    int clip;           /* 1: scale the diff by scalars[SC_SGD_CLIP_SCALE] first */
} sc_sgd_params;

/* One parameter blob: its values are [offset, offset + count) of w, diff and
 * the history buffers (the same range in each, so a blob may be a sub-range
 * of flat stores laid out alike). history2 is used by the two-history types
 * only (AdaDelta's update history, Adam's v) and may be NULL otherwise. */
typedef struct sc_sgd_blob {
    cl_mem w, diff, history, history2;
    size_t offset, count;
} sc_sgd_blob;

/* Records the update of one blob: w, diff and the histories are updated in
 * place; scalars holds SC_SGD_SCALARS floats (read when the plan runs). */
sc_status sc_sgd_update(sc_plan *plan, const char *name, const sc_sgd_blob *blob, cl_mem scalars,
                        const sc_sgd_params *p);

/* Caffe's ClipGradients, without a host sync: the sums of squares of every
 * blob's diff go to `partial` (sc_sgd_sumsq, sc_sgd_sumsq_groups(ctx, count)
 * slots from `slot` on), then sc_sgd_clip_scale sums the n_partial slots and
 * writes scalars[SC_SGD_CLIP_SCALE] = clip / norm when the L2 norm exceeds
 * clip, else 1, for the updates recorded after it (with .clip set). */
size_t sc_sgd_sumsq_groups(sc_ctx *ctx, size_t count);
sc_status sc_sgd_sumsq(sc_plan *plan, const char *name, const sc_sgd_blob *blob, cl_mem partial,
                       size_t slot);
sc_status sc_sgd_clip_scale(sc_plan *plan, const char *name, cl_mem partial, size_t n_partial,
                            cl_mem scalars, float clip);

/* Records diff[0..count) = 0 (Caffe's ClearParamDiffs). */
sc_status sc_sgd_clear_diff(sc_plan *plan, const char *name, size_t count, cl_mem diff);

#endif
