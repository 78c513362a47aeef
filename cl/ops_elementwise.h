/* Elementwise layers with Caffe's semantics: PReLU, Scale, Eltwise, Dropout
 * (kernels in cl/elementwise.cl). See sc_ops.h for the shared conventions:
 * forward overwrites its output; backward adds parameter gradients onto their
 * diff buffers and writes input gradients with beta_dx (0 overwrite, 1 add);
 * a NULL gradient buffer skips that gradient.
 *
 * In place (y == x) is supported where Caffe supports it (PReLU, Scale,
 * Dropout): pass the same buffer as x and y to forward, and the same (x, y)
 * pair again to backward. Whatever backward needs from the forward lives in a
 * caller-allocated `saved` buffer sized by the *_saved_floats query and
 * passed to both calls. dx may equal dy (Caffe's in-place diff sharing). */
#ifndef SC_OPS_ELEMENTWISE_H
#define SC_OPS_ELEMENTWISE_H

#include <stdint.h>

/* ------------------------------------------------------------------ PReLU */

typedef struct sc_prelu_params {
    int channel_shared; /* one slope for every channel instead of one per channel */
} sc_prelu_params;

/* Output shape (== input); fails on a zero dimension. */
sc_status sc_prelu_output_shape(sc_ctx *ctx, const char *name, const sc_prelu_params *p,
                                sc_shape in, sc_shape *out);
/* Number of slopes: 1 when channel_shared, else in.c. */
size_t sc_prelu_slope_count(const sc_prelu_params *p, sc_shape in);
/* Floats of the saved buffer: a copy of x when in place (y == x), else 0. */
size_t sc_prelu_saved_floats(sc_shape in, int in_place);

/* y = max(x, 0) + a * min(x, 0) with a = slope[c] (slope[0] when shared).
 * When y == x, saved (sc_prelu_saved_floats(in, 1) floats) receives x. */
sc_status sc_prelu_forward(sc_plan *plan, const char *name, const sc_prelu_params *p,
                           sc_shape in, cl_mem x, cl_mem slope, cl_mem y, cl_mem saved);
/* y = max(y, 0) + a * min(y, 0) in place, keeping no copy of the input:
 * for nets without a backward (a PReLU fused after a convolution). */
sc_status sc_prelu_forward_inference(sc_plan *plan, const char *name, const sc_prelu_params *p,
                                     sc_shape in, cl_mem y, cl_mem slope);
/* Floats of the backward's work buffer: one partial slope sum per (n, c)
 * plane (per image when shared). */
size_t sc_prelu_backward_work_floats(const sc_prelu_params *p, sc_shape in);
/* dx = dy * (x > 0 ? 1 : a) (+ beta_dx * dx); dslope += sum dy * x * (x <= 0)
 * per channel (over everything when shared). x, y, saved as given to forward
 * (x is read from saved when y == x). dslope or dx may be NULL; with dslope,
 * work holds sc_prelu_backward_work_floats floats (its contents are lost). */
sc_status sc_prelu_backward(sc_plan *plan, const char *name, const sc_prelu_params *p,
                            sc_shape in, cl_mem x, cl_mem y, cl_mem saved, cl_mem slope,
                            cl_mem dy, cl_mem dx, float beta_dx, cl_mem dslope, cl_mem work);

/* ------------------------------------------------------------------ Scale */

typedef struct sc_scale_params {
    int bias_term;   /* y = gamma * x + beta when set, else y = gamma * x */
    int gamma_count; /* length of the gamma (and beta) blob; must equal the channels.
                        0 means "the input's channel count" */
} sc_scale_params;

/* Output shape (== input); fails on a zero dimension or a gamma_count that
 * differs from the input's channels (Caffe's Scale with axis 1, one bottom). */
sc_status sc_scale_output_shape(sc_ctx *ctx, const char *name, const sc_scale_params *p,
                                sc_shape in, sc_shape *out);
/* Floats of the saved buffer: a copy of x when in place, else 0. */
size_t sc_scale_saved_floats(sc_shape in, int in_place);

/* y = gamma[c] * x + beta[c] (beta ignored, may be NULL, without bias_term).
 * When y == x, saved receives x. */
sc_status sc_scale_forward(sc_plan *plan, const char *name, const sc_scale_params *p,
                           sc_shape in, cl_mem x, cl_mem gamma, cl_mem beta, cl_mem y,
                           cl_mem saved);
/* Floats of the backward's work buffer: two partial sums per (n, c) plane. */
size_t sc_scale_backward_work_floats(sc_shape in);
/* dx = gamma * dy (+ beta_dx * dx); dgamma += sum dy * x; dbeta += sum dy
 * (per channel). Any of dx, dgamma, dbeta may be NULL (dbeta must be NULL
 * without bias_term); with dgamma or dbeta, work holds
 * sc_scale_backward_work_floats floats (its contents are lost). */
sc_status sc_scale_backward(sc_plan *plan, const char *name, const sc_scale_params *p,
                            sc_shape in, cl_mem x, cl_mem y, cl_mem saved, cl_mem gamma,
                            cl_mem dy, cl_mem dx, float beta_dx, cl_mem dgamma, cl_mem dbeta,
                            cl_mem work);

/* ---------------------------------------------------------------- Eltwise */

/* Values of Caffe's EltwiseParameter.EltwiseOp. */
typedef enum sc_eltwise_op {
    SC_ELTWISE_PROD = 0,
    SC_ELTWISE_SUM = 1,
    SC_ELTWISE_MAX = 2
} sc_eltwise_op;

typedef struct sc_eltwise_params {
    sc_eltwise_op op;
    const float *coeffs; /* SUM only: one per input (n_coeffs == n_inputs), or NULL for 1s;
                            read when recording, not kept */
    int n_coeffs;
} sc_eltwise_params;

/* Output shape (== every input's); needs 2 or more inputs of identical,
 * non-empty shapes (the error names both shapes), a coefficient count equal
 * to the input count (or none), and no coefficients for PROD/MAX. */
sc_status sc_eltwise_output_shape(sc_ctx *ctx, const char *name, const sc_eltwise_params *p,
                                  int n_inputs, const sc_shape *in, sc_shape *out);
/* Floats of the saved buffer: MAX keeps the winning input index (int32) of
 * every element; SUM and PROD keep nothing. */
size_t sc_eltwise_saved_floats(const sc_eltwise_params *p, sc_shape in);
/* Floats of the backward workspace: PROD with more than two inputs needs one
 * tensor of partial products; 0 otherwise. */
size_t sc_eltwise_workspace_floats(const sc_eltwise_params *p, int n_inputs, sc_shape in);

/* SUM: y = sum coeff_i x_i; PROD: y = prod x_i; MAX: y = max x_i with Caffe's
 * tie rule (input 1 wins a tie with input 0, a later input must be strictly
 * greater), the winner's index kept in saved (argmax). y must not be an input
 * (backward reads the inputs). */
sc_status sc_eltwise_forward(sc_plan *plan, const char *name, const sc_eltwise_params *p,
                             int n_inputs, const sc_shape *in, const cl_mem *x, cl_mem y,
                             cl_mem saved);
/* dx[i] (NULL entries skipped): SUM coeff_i * dy; PROD dy * prod_{j != i} x_j
 * (multiplied out, so zero inputs work); MAX dy where argmax == i. */
sc_status sc_eltwise_backward(sc_plan *plan, const char *name, const sc_eltwise_params *p,
                              int n_inputs, const sc_shape *in, const cl_mem *x, cl_mem saved,
                              cl_mem dy, const cl_mem *dx, float beta_dx, cl_mem workspace);

/* ---------------------------------------------------------------- Dropout */

typedef struct sc_dropout_params {
    float ratio; /* dropout_ratio, in [0, 1) */
    int train;   /* TRAIN phase: random mask; TEST: identity */
} sc_dropout_params;

/* Caffe's defaults: ratio 0.5, TRAIN. */
sc_dropout_params sc_dropout_default_params(void);

/* Output shape (== input); fails on a zero dimension or a ratio outside [0, 1). */
sc_status sc_dropout_output_shape(sc_ctx *ctx, const char *name, const sc_dropout_params *p,
                                  sc_shape in, sc_shape *out);
/* Floats of the saved buffer: the mask, one byte per element, in TRAIN; 0 in TEST. */
size_t sc_dropout_saved_floats(const sc_dropout_params *p, sc_shape in);

/* The generator state: a device buffer of SC_DROPOUT_STATE_FLOATS 32-bit
 * words {seed, iteration}. The recorded forward draws the mask of the
 * current iteration and advances it, so replays draw fresh masks with no host
 * step; the trainer saves and restores the buffer with the solver state. */
#define SC_DROPOUT_STATE_FLOATS 2
/* Writes {seed, 0} into state (a blocking write: done at setup, not per iteration). */
sc_status sc_dropout_seed(sc_ctx *ctx, cl_mem state, uint32_t seed);

/* TRAIN: mask_i = 1 with probability 1 - ratio, drawn on the device from a
 * counter-based generator keyed by (seed, iteration, layer name, i);
 * y = x * mask / (1 - ratio); mask kept in saved. TEST: y = x (nothing is
 * recorded when y == x; state and saved may be NULL). */
sc_status sc_dropout_forward(sc_plan *plan, const char *name, const sc_dropout_params *p,
                             sc_shape in, cl_mem x, cl_mem y, cl_mem state, cl_mem saved);
/* TRAIN: dx = dy * mask / (1 - ratio); TEST: dx = dy (+ beta_dx * dx). */
sc_status sc_dropout_backward(sc_plan *plan, const char *name, const sc_dropout_params *p,
                              sc_shape in, cl_mem saved, cl_mem dy, cl_mem dx, float beta_dx);

#endif
