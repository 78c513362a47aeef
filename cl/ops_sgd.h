/* The SGD parameter update (Caffe's SGDSolver::ApplyUpdate for one blob) and
 * the diff clearing the solver does before each forward/backward.
 *
 * Per blob, in Caffe's order (sgd_solver.cpp):
 *   diff /= iter_size                          (when iter_size > 1)
 *   diff += weight_decay*decay_mult * w        (L2; L1 uses sign(w))
 *   history = momentum*history + lr*lr_mult * diff
 *   diff = history;  w -= history
 * lr is the solver's rate for the current iteration, read from a 1-float
 * device buffer the solver writes once per iteration, so the recorded update
 * plan replays unchanged. Learning-rate policies and gradient clipping are the
 * solver's business (graph/), not this op's. */
#ifndef SC_OPS_SGD_H
#define SC_OPS_SGD_H

/* Caffe's SolverParameter.regularization_type. */
typedef enum sc_regularization { SC_REG_L2 = 0, SC_REG_L1 = 1 } sc_regularization;

typedef struct sc_sgd_params {
    float lr_mult;      /* param { lr_mult } of this blob */
    float decay_mult;   /* param { decay_mult } of this blob */
    float momentum;     /* solver momentum */
    float weight_decay; /* solver weight_decay */
    int iter_size;      /* solver iter_size (>= 1): gradients accumulated over that many passes */
    sc_regularization regularization;
} sc_sgd_params;

/* Records the update of one blob of `count` floats: w, diff and history are
 * updated in place; lr holds the current base learning rate (1 float). */
sc_status sc_sgd_update(sc_plan *plan, const char *name, size_t count, cl_mem w, cl_mem diff,
                        cl_mem history, cl_mem lr, const sc_sgd_params *p);

/* Records diff[0..count) = 0 (Caffe's ClearParamDiffs). */
sc_status sc_sgd_clear_diff(sc_plan *plan, const char *name, size_t count, cl_mem diff);

#endif
