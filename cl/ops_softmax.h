/* Softmax (axis 1), SoftmaxWithLoss and Accuracy, with Caffe's semantics
 * (softmax_layer, softmax_loss_layer, accuracy_layer .cpp/.cu).
 *
 * Tensors are N x C x H x W; the softmax runs over C at each of the N*H*W
 * positions. Labels are a float buffer of N*H*W integers (Caffe's label blob),
 * converted toward zero as static_cast<int>.
 *
 * Labels outside [0, C) (other than the ignore_label) cannot crash a kernel:
 * they are treated as ignored (no loss, no gradient, not counted by VALID
 * normalisation or accuracy) and counted in the SC_SOFTMAX_LOSS_BAD_LABELS slot
 * of the loss's saved buffer (the conformance suite reads it). The trainer
 * does not rely on it: it refuses such labels when it loads the image list,
 * before any work. Caffe itself has only a DCHECK there (out-of-bounds read in
 * release). */
#ifndef SC_OPS_SOFTMAX_H
#define SC_OPS_SOFTMAX_H

/* ------------------------------------------------------------ Softmax */

/* y = x (Caffe's Softmax keeps the shape); fails on a zero dimension. */
sc_status sc_softmax_output_shape(sc_ctx *ctx, const char *name, sc_shape x, sc_shape *y);

/* Records y = softmax(x) over axis 1. y_shape must equal x_shape; y may be x. */
sc_status sc_softmax_forward(sc_plan *plan, const char *name, sc_shape x_shape, cl_mem x,
                             sc_shape y_shape, cl_mem y);

/* Records dx = beta_dx * dx + y * (dy - sum_c dy*y), all of `shape`, from the
 * forward's output y. dx NULL records nothing; dx may be dy. */
sc_status sc_softmax_backward(sc_plan *plan, const char *name, sc_shape shape, cl_mem y,
                              cl_mem dy, cl_mem dx, float beta_dx);

/* ---------------------------------------------------- SoftmaxWithLoss */

/* Values of Caffe's LossParameter.NormalizationMode. The legacy
 * `normalize: true` means VALID and `normalize: false` BATCH_SIZE. */
typedef enum sc_loss_norm {
    SC_LOSS_NORM_FULL = 0,       /* N*H*W */
    SC_LOSS_NORM_VALID = 1,      /* non-ignored labels (Caffe's default) */
    SC_LOSS_NORM_BATCH_SIZE = 2, /* N */
    SC_LOSS_NORM_NONE = 3        /* 1 */
} sc_loss_norm;

typedef struct sc_softmax_loss_params {
    sc_loss_norm normalization;
    int has_ignore_label;
    int ignore_label;
} sc_softmax_loss_params;

/* Caffe's defaults: normalization VALID, no ignore_label. */
sc_softmax_loss_params sc_softmax_loss_defaults(void);

/* The saved state (sc_softmax_loss_state_floats() floats) the forward writes
 * and the backward reads; the host may read it too. Slots: */
#define SC_SOFTMAX_LOSS_VALID 0      /* positions with a usable label */
#define SC_SOFTMAX_LOSS_NORMALIZER 1 /* max(1, normaliser) the loss was divided by */
#define SC_SOFTMAX_LOSS_BAD_LABELS 2 /* labels outside [0, C), treated as ignored */
size_t sc_softmax_loss_state_floats(void);

/* Records prob = softmax(x), loss[0] = sum over valid positions of
 * -log(max(prob[label], FLT_MIN)) / normaliser, and the saved slots. prob
 * (N*C*H*W), labels (N*H*W), saved and loss (1 float) are device buffers;
 * the loss stays on the device until the caller reads it. */
sc_status sc_softmax_loss_forward(sc_plan *plan, const char *name,
                                  const sc_softmax_loss_params *p, sc_shape x_shape, cl_mem x,
                                  cl_mem labels, cl_mem prob, cl_mem saved, cl_mem loss);

/* Records dx = beta_dx * dx + loss_weight * (prob - onehot(label)) / normaliser,
 * 0 at ignored positions. loss_weight is the top diff of the loss (the layer's
 * loss_weight, 1 by default). prob and saved come from the forward. */
sc_status sc_softmax_loss_backward(sc_plan *plan, const char *name,
                                   const sc_softmax_loss_params *p, sc_shape x_shape,
                                   cl_mem prob, cl_mem labels, cl_mem saved, float loss_weight,
                                   cl_mem dx, float beta_dx);

/* ----------------------------------------------------------- Accuracy */

typedef struct sc_accuracy_params {
    int top_k; /* >= 1 and <= C (Caffe's default 1) */
    int has_ignore_label;
    int ignore_label;
} sc_accuracy_params;

/* Records accuracy[0] = fraction of valid positions whose true class is among
 * the top_k scores of x (a class scoring the same as the true one counts as
 * better, as Caffe); 0 when no position is valid. x may be logits or prob. */
sc_status sc_accuracy_forward(sc_plan *plan, const char *name, const sc_accuracy_params *p,
                              sc_shape x_shape, cl_mem x, cl_mem labels, cl_mem accuracy);

#endif
