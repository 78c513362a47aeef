/* Caffe's solvers (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam) with
 * Caffe's semantics: solver prototxt, learning-rate policies, weight decay,
 * lr_mult/decay_mult, iter_size; and the solver state that snapshots save so
 * that a resumed run continues exactly. */
#ifndef SC_SOLVER_H
#define SC_SOLVER_H

#include "sc_files.h"
#include "sc_graph.h"

#define SC_SOLVER_MAX_STEPS 32

typedef struct sc_solver_params {
    char net[4096];          /* net prototxt, resolved to an existing path when possible */
    double base_lr;
    char lr_policy[16];      /* fixed, step, multistep, inv, poly, exp, sigmoid */
    double gamma, power;
    int stepsize;
    int stepvalue[SC_SOLVER_MAX_STEPS];
    int n_stepvalue;
    sc_solver_type type;     /* `type` ("SGD", ...), or the deprecated `solver_type` enum */
    double momentum;         /* SGD, Nesterov: momentum; AdaDelta: decay; Adam: beta1 */
    double momentum2;        /* Adam: beta2 (default 0.999) */
    double rms_decay;        /* RMSProp (default 0.99) */
    double delta;            /* AdaGrad, RMSProp, AdaDelta, Adam (default 1e-8) */
    double weight_decay;
    double clip_gradients;   /* >= 0: scale the gradients down to this L2 norm; < 0: off */
    int max_iter, display, snapshot, iter_size, average_loss;
    char snapshot_prefix[4096];
    long long random_seed;   /* -1: not set */
    int regularization_l1;
} sc_solver_params;

/* Parses a solver prototxt with caffe.proto's defaults and checks every
 * numeric field's range, the lr policy's fields and that each solver-specific
 * field is one the chosen type reads (as Caffe does): errors name the field,
 * its value, the valid range and FILE:LINE:COL. A relative `net:` is looked up
 * relative to the current directory (as Caffe does), then relative to the
 * solver's folder. */
sc_status sc_solver_params_load(const char *path, sc_solver_params *out, sc_error *err);

/* Caffe's learning rate at iteration iter. */
double sc_solver_lr(const sc_solver_params *p, int iter);

typedef struct sc_solver sc_solver;

/* Host callback that writes one mini-batch into the net's input blobs. */
typedef sc_status (*sc_feed_fn)(void *user, sc_net *net);

/* Builds the TRAIN net and the update plan. net_opts->phase is forced to TRAIN. */
sc_status sc_solver_create(sc_ctx *ctx, const sc_solver_params *p, const sc_net_options *net_opts,
                           sc_solver **out);
void sc_solver_destroy(sc_solver *s);
sc_net *sc_solver_net(sc_solver *s);
/* The recorded parameter update (clear of the gradients included), for
 * profiles (sphere-bench --profile). */
sc_plan *sc_solver_update_plan(sc_solver *s);
int sc_solver_iter(const sc_solver *s);

/* The type the solver runs (from `type` or the deprecated `solver_type`). */
sc_solver_type sc_solver_get_type(const sc_solver *s);

/* What an iteration reports (read from the device's monitor). */
typedef struct sc_step_result {
    double loss;     /* mean over iter_size passes of the weighted loss tops */
    double accuracy; /* mean of Accuracy tops (or of the training accuracy when asked),
                        -1 when there is none */
    double lr;       /* the rate the iteration's update used */
    int iter;        /* the iteration count after this iteration's update */
    int nonfinite;   /* a loss or accuracy value was NaN or infinite */
    int stop;        /* the reduce function asked every rank to stop (data-parallel) */
} sc_step_result;

/* Iterations the solver may have enqueued and not yet collected. */
#define SC_SOLVER_PIPELINE 2

/* Enqueues one iteration and returns without waiting for the device:
 * iter_size x (feed, forward, backward), the update, and an asynchronous read
 * of the iteration's loss, accuracy and non-finite flag, which the device
 * gathers itself. with_accuracy also computes the training accuracy of a net
 * without an Accuracy layer (for display iterations). Collect the results in
 * order with sc_solver_collect; at most SC_SOLVER_PIPELINE may be pending. */
sc_status sc_solver_enqueue(sc_solver *s, sc_feed_fn feed, void *user, int with_accuracy);
/* Waits for the oldest pending iteration (one host-blocking call) and
 * returns its results. */
sc_status sc_solver_collect(sc_solver *s, sc_step_result *res);
int sc_solver_pending(const sc_solver *s);

/* Data-parallel training: fn runs after the last backward pass of every
 * iteration, before the update, on the runtime's host thread, with the
 * whole gradient store (n floats, every parameter's region and the padding
 * between them, host-mapped) and the iteration's monitor (SC_MONITOR_FLOATS
 * floats: loss, accuracy, non-finite flag, stop flag). It averages them
 * across ranks (sphere-train: MPI_Allreduce); what it leaves is what the
 * update applies and what sc_solver_collect reports. */
typedef void (*sc_solver_reduce_fn)(void *user, float *grads, size_t n, float *monitor);
sc_status sc_solver_set_reduce(sc_solver *s, sc_solver_reduce_fn fn, void *user);

/* Whether every parameter value is finite (a device reduction over the
 * parameter store, then one read): checked before a snapshot is written. */
sc_status sc_solver_params_finite(sc_solver *s, int *finite);
/* One iteration, waited for: sc_solver_enqueue + sc_solver_collect when
 * want_loss (one host sync), else the work alone (no read). */
sc_status sc_solver_step(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                         sc_step_result *res);
/* The two halves of a step, for callers that inspect gradients in between:
 * iter_size x (feed, forward, backward), then the solver's update and iter += 1. */
sc_status sc_solver_forward_backward(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                                     sc_step_result *res);
sc_status sc_solver_apply_update(sc_solver *s);

/* Solver state file (.solverstate): iteration, solver type, every history
 * blob the type keeps (1 or 2 per parameter), A-Softmax iterations, plus an
 * opaque block for the caller (data order, RNG). Written atomically with a
 * CRC32; a damaged file, or one written by another solver type, is rejected. */
/* weights (may be NULL): the .caffemodel already written for this state; its
 * byte length and CRC32 are recorded, and a load given the weights' path
 * refuses any other file. */
sc_status sc_solver_save_state(sc_solver *s, const char *path, const char *weights,
                               const void *user, size_t user_size);
/* Restores a state; *user receives a malloc'd copy of the caller's block. */
sc_status sc_solver_load_state(sc_solver *s, const char *path, const char *weights, void **user,
                               size_t *user_size);

#endif
