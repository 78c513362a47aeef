/* A-Softmax: Caffe-SphereFace's MarginInnerProduct layer (kernels in cl/asoftmax.cl).
 *
 * Bottoms: x (M x C x H x W, flattened to M x K with K = C*H*W, Caffe axis 1)
 * and the labels (M floats, Caffe's label blob). Parameter: W (num_output x K,
 * Caffe blob (N, K)). Tops: f (M x N) and lambda (1 float, Caffe's top[1]).
 *
 * Forward, as Caffe does on every call:
 *   - (advance != 0) iter += 1 and lambda = max(lambda_min, base*(1 + gamma*iter)^-power),
 *     computed on the device from the layer state, so a recorded plan replays
 *     with no host step; lambda is written to the lambda top;
 *   - the rows of W are normalised to unit L2 norm IN PLACE;
 *   - f = x W^T; for m >= 2 the target logit of row i (class y = label_i) becomes
 *     (|x| psi(theta) + lambda x.w_y) / (1 + lambda), c = cos(theta) = x.w_y/|x|,
 *     psi from powers of c with Caffe's sign terms (sign(0) = 0).
 * Backward (see ../shared/golden/asoftmax/README.md for the closed forms):
 *   - SC_ASOFTMAX_CAFFE (Caffe's code): dW += dy^T x (margin ignored); for the
 *     target the pair (coeff_w, coeff_x) is scaled to unit length.
 *   - SC_ASOFTMAX_EXACT: the true gradient w.r.t. x and the normalised W (no
 *     chain rule through the normalisation), sign terms held constant.
 *   For m = 1 both modes are f = x W^T's gradient.
 *
 * Labels outside [0, N) (or NaN) are not an error and never touch memory
 * outside the buffers: that row gets no margin (f = x W^T there) and its
 * backward is the plain inner product's. (Caffe indexes out of bounds.)
 * A zero row of W stays zero and a zero x row gets cos = 0 (Caffe: NaN).
 *
 * Layer state: a small device buffer of sc_asoftmax_state_floats() floats
 * holding the iteration (int32) and the current lambda (float). The graph
 * keeps it; the solver saves and restores it with sc_asoftmax_state_get/set
 * (Caffe forgot to save it). */
#ifndef SC_OPS_ASOFTMAX_H
#define SC_OPS_ASOFTMAX_H

#include "sc_ops.h" /* sc_shape; include guards make the cycle harmless */

typedef enum sc_asoftmax_mode {
    SC_ASOFTMAX_CAFFE = 0, /* default: the seed's backward */
    SC_ASOFTMAX_EXACT = 1  /* the true gradient */
} sc_asoftmax_mode;

typedef struct sc_asoftmax_params {
    int m;            /* margin 1..4 = Caffe's MarginType + 1 (SINGLE=1 .. QUADRUPLE=4) */
    int num_output;   /* N */
    float base;       /* lambda schedule: max(lambda_min, base*(1 + gamma*iter)^-power) */
    float gamma;
    float power;
    float lambda_min;
    int iteration;    /* iter before the first forward (margin_inner_product_param.iteration) */
    sc_asoftmax_mode mode;
} sc_asoftmax_params;

/* Caffe's defaults (caffe.proto): m 1, base 1, gamma 0, power 1, lambda_min 0,
 * iteration 0, caffe backward; num_output as given. */
sc_asoftmax_params sc_asoftmax_params_default(int num_output);

/* The schedule on the host, in float as Caffe (and the device) computes it. */
float sc_asoftmax_lambda(const sc_asoftmax_params *p, int iter);

/* Top shape {M, N, 1, 1}; checks m, the shapes and that w is num_output x K
 * (w given as {N, K, 1, 1} or any {N, C, H, W} with C*H*W = K). */
sc_status sc_asoftmax_output_shape(sc_ctx *ctx, const char *name, const sc_asoftmax_params *p,
                                   sc_shape x, sc_shape w, sc_shape *out);

/* Sizes, in floats, of the buffers the caller allocates. */
size_t sc_asoftmax_state_floats(void);                                  /* 2 */
size_t sc_asoftmax_saved_floats(int M);                                 /* 2*M: |x_i|, cos_i */
size_t sc_asoftmax_workspace_floats(const sc_asoftmax_params *p, int M); /* M*N + M; 0 if m = 1 */

/* Blocking host access to the state (snapshots). init sets iter = p->iteration
 * and lambda = sc_asoftmax_lambda(p, p->iteration) (the lambda a forward with
 * advance = 0 uses before any advancing forward). */
sc_status sc_asoftmax_state_init(sc_ctx *ctx, const sc_asoftmax_params *p, cl_mem state);
sc_status sc_asoftmax_state_get(sc_ctx *ctx, cl_mem state, int *iter, float *lambda);
sc_status sc_asoftmax_state_set(sc_ctx *ctx, cl_mem state, int iter, float lambda);

/* Records the forward. advance: 1 advances the schedule (every Caffe forward,
 * TRAIN and TEST phase alike); 0 reuses the stored lambda and leaves the
 * state alone. lambda_top may be NULL. saved receives |x_i| and the target
 * cosines for the backward. W is modified (normalised) when the plan runs. */
sc_status sc_asoftmax_forward(sc_plan *plan, const char *name, const sc_asoftmax_params *p,
                              sc_shape x_shape, cl_mem x, cl_mem labels, sc_shape w_shape,
                              cl_mem w, cl_mem state, int advance, cl_mem f, cl_mem lambda_top,
                              cl_mem saved);

/* Records the backward of the last forward (same x, labels, W, state, saved)
 * in mode p->mode. dx = beta_dx*dx + grad (dx NULL skips it); dw += grad (dw
 * NULL skips it). workspace: sc_asoftmax_workspace_floats floats (may be NULL
 * when that is 0). */
sc_status sc_asoftmax_backward(sc_plan *plan, const char *name, const sc_asoftmax_params *p,
                               sc_shape x_shape, cl_mem x, cl_mem labels, sc_shape w_shape,
                               cl_mem w, cl_mem state, cl_mem saved, cl_mem dy, cl_mem workspace,
                               cl_mem dx, float beta_dx, cl_mem dw);

#endif
