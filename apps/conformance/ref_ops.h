/* Plain C reference implementations of every SphereCL op, with Caffe's semantics.
 *
 * Every OpenCL kernel is checked against these functions, so they are written to
 * be obviously right rather than fast: simple loops that read like the math,
 * double precision throughout, no global state, no allocation (except where a
 * comment says so). Inputs and outputs are double arrays; tests convert float
 * data with (double). Tensors are NCHW in Caffe blob layout. Shapes are explicit
 * ints; the caller sizes the output arrays (see ref_conv_out_size and
 * ref_pool_out_size).
 *
 * Backward functions OVERWRITE their outputs (they compute the contribution of
 * one backward call starting from zero, even where Caffe accumulates into a
 * parameter diff). Any gradient output pointer may be NULL to skip it.
 */
#ifndef REF_OPS_H
#define REF_OPS_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- sizes */

/* Convolution output size, Caffe's rule (rounds down):
 * (in + 2*pad - (dil*(k-1)+1)) / stride + 1. */
int ref_conv_out_size(int in, int k, int stride, int pad, int dil);

/* Pooling output size, Caffe's rule (rounds up), including the correction that
 * the last window must start inside the image (not in the padding) when pad > 0. */
int ref_pool_out_size(int in, int k, int stride, int pad);

/* ---------------------------------------------------------- convolution */

/* x: N x C x H x W; w: K x (C/group) x kh x kw; bias: K or NULL;
 * y: N x K x OH x OW with OH = ref_conv_out_size(H, kh, sh, ph, dh), same for OW.
 * Depthwise convolution is group == C == K. */
void ref_conv_forward(int N, int C, int H, int W, int K, int kh, int kw, int sh, int sw,
                      int ph, int pw, int dh, int dw, int group,
                      const double *x, const double *w, const double *bias, double *y);

/* dx (N x C x H x W) from dy (N x K x OH x OW). */
void ref_conv_backward_data(int N, int C, int H, int W, int K, int kh, int kw, int sh, int sw,
                            int ph, int pw, int dh, int dw, int group,
                            const double *w, const double *dy, double *dx);

/* dw (K x C/group x kh x kw) from x and dy. */
void ref_conv_backward_weight(int N, int C, int H, int W, int K, int kh, int kw, int sh,
                              int sw, int ph, int pw, int dh, int dw, int group,
                              const double *x, const double *dy, double *dwt);

/* db (K) = sum of dy over batch and space; OHW = OH*OW. */
void ref_conv_backward_bias(int N, int K, int OHW, const double *dy, double *db);

/* -------------------------------------------------------- inner product */

/* x: M x K; y: M x N; bias: N or NULL.
 * transpose == 0: w is N x K (Caffe's default blob shape), y = x w^T.
 * transpose != 0: w is K x N, y = x w. */
void ref_inner_product_forward(int M, int K, int N, const double *x, const double *w,
                               const double *bias, int transpose, double *y);

/* dx (M x K), dw (same shape as w), db (N); any may be NULL. */
void ref_inner_product_backward(int M, int K, int N, const double *x, const double *w,
                                const double *dy, int transpose,
                                double *dx, double *dwt, double *db);

/* ---------------------------------------------------------------- PReLU */

/* y = max(x,0) + slope * min(x,0); slope has C entries, or 1 when channel_shared. */
void ref_prelu_forward(int N, int C, int HW, const double *x, const double *slope,
                       int channel_shared, double *y);

/* Caffe: dx = dy * (x > 0 ? 1 : slope); dslope = sum dy * x * (x <= 0). */
void ref_prelu_backward(int N, int C, int HW, const double *x, const double *slope,
                        int channel_shared, const double *dy, double *dx, double *dslope);

/* ------------------------------------------------------------ BatchNorm */

/* Caffe BatchNorm. Blobs: mean_blob (C), var_blob (C), scale_factor (1 value).
 * use_global_stats: y = (x - mean_blob*f) / sqrt(var_blob*f + eps),
 *   f = scale_factor == 0 ? 0 : 1/scale_factor; the blobs are only read.
 * training: y = (x - mu) / sqrt(var + eps) with the batch mean mu and the biased
 *   batch variance var over m = N*HW values per channel, and the blobs are
 *   updated in place as Caffe does: scale_factor = scale_factor*maf + 1;
 *   mean_blob = maf*mean_blob + mu; var_blob = maf*var_blob + m/(m-1)*var
 *   (factor 1 when m == 1). */
void ref_batchnorm_forward(int N, int C, int HW, const double *x, int use_global_stats,
                           double *mean_blob, double *var_blob, double *scale_factor,
                           double eps, double maf, double *y);

/* Training-mode backward (batch statistics recomputed from x):
 * dx = (dy - mean(dy) - mean(dy*y)*y) / sqrt(var + eps), means per channel. */
void ref_batchnorm_backward(int N, int C, int HW, const double *x, const double *dy,
                            double eps, double *dx);

/* use_global_stats backward: dx = dy / sqrt(var_blob*f + eps) (f as in forward). */
void ref_batchnorm_backward_global(int N, int C, int HW, const double *var_blob,
                                   double scale_factor, double eps, const double *dy,
                                   double *dx);

/* ---------------------------------------------------------------- Scale */

/* y = x * gamma[c] + beta[c] (beta NULL: no bias term). */
void ref_scale_forward(int N, int C, int HW, const double *x, const double *gamma,
                       const double *beta, double *y);

/* dx = dy*gamma; dgamma = sum dy*x; dbeta = sum dy. */
void ref_scale_backward(int N, int C, int HW, const double *x, const double *gamma,
                        const double *dy, double *dx, double *dgamma, double *dbeta);

/* -------------------------------------------------------------- Eltwise */

/* Values of Caffe's EltwiseParameter.EltwiseOp. */
typedef enum ref_eltwise_op { REF_ELTWISE_PROD = 0, REF_ELTWISE_SUM = 1, REF_ELTWISE_MAX = 2 }
    ref_eltwise_op;

/* inputs[i]: count values each (n_inputs >= 2). SUM: y = sum coeffs[i]*inputs[i]
 * (coeffs NULL = all 1). PROD: product. MAX: Caffe's tie rule (input 1 wins a tie
 * with input 0, later inputs must be strictly greater); argmax (count ints, or
 * NULL) receives the winning input index. */
void ref_eltwise_forward(ref_eltwise_op op, int n_inputs, size_t count,
                         const double *const *inputs, const double *coeffs,
                         double *y, int *argmax);

/* dx[i] for every input. SUM: coeffs[i]*dy. PROD: dy * product of the other
 * inputs (Caffe's default stable_prod_grad). MAX: dy where argmax == i. */
void ref_eltwise_backward(ref_eltwise_op op, int n_inputs, size_t count,
                          const double *const *inputs, const double *coeffs,
                          const int *argmax, const double *dy, double *const *dx);

/* -------------------------------------------------------------- Pooling */

/* Values of Caffe's PoolingParameter.PoolMethod. */
typedef enum ref_pool_method { REF_POOL_MAX = 0, REF_POOL_AVE = 1 } ref_pool_method;

/* x: N x C x H x W; y: N x C x OH x OW, OH = ref_pool_out_size(H, kh, sh, ph)
 * (global != 0: the kernel is H x W, stride 1, pad 0, output 1 x 1, and
 * kh..pw are ignored). MAX: strict '>' in raster order, so the first maximum
 * wins; argmax (N*C*OH*OW, or NULL) gets h*W + w inside the channel plane, as
 * Caffe's mask. AVE: divides by the window size clipped to H+pad (padding
 * counts, the area past the padding does not), summing only inside the image. */
void ref_pooling_forward(ref_pool_method method, int N, int C, int H, int W, int kh, int kw,
                         int sh, int sw, int ph, int pw, int global,
                         const double *x, double *y, int *argmax);

/* dx from dy (N x C x OH x OW). MAX routes through argmax (from the forward);
 * AVE spreads dy/pool_size over the window. */
void ref_pooling_backward(ref_pool_method method, int N, int C, int H, int W, int kh, int kw,
                          int sh, int sw, int ph, int pw, int global,
                          const int *argmax, const double *dy, double *dx);

/* -------------------------------------------------------------- Dropout */

/* train != 0: y = x * mask * 1/(1-ratio) (mask: 1 keep, 0 drop, chosen by the
 * caller); train == 0: y = x (Caffe's TEST phase; mask unused, may be NULL). */
void ref_dropout_forward(size_t count, const double *x, const uint8_t *mask, double ratio,
                         int train, double *y);
void ref_dropout_backward(size_t count, const double *dy, const uint8_t *mask, double ratio,
                          int train, double *dx);

/* -------------------------------------------------------------- Softmax */

/* Softmax over axis 1 of N x C x inner (max subtracted first, as Caffe). */
void ref_softmax_forward(int N, int C, int inner, const double *x, double *y);

/* dx = y * (dy - sum_c dy*y). */
void ref_softmax_backward(int N, int C, int inner, const double *y, const double *dy,
                          double *dx);

/* Values of Caffe's LossParameter.NormalizationMode. */
typedef enum ref_loss_norm {
    REF_NORM_FULL = 0, REF_NORM_VALID = 1, REF_NORM_BATCH_SIZE = 2, REF_NORM_NONE = 3
} ref_loss_norm;

/* Caffe's normalizer: FULL N*inner, VALID the count of non-ignored labels,
 * BATCH_SIZE N, NONE 1; then max(1, that). */
double ref_loss_normalizer(ref_loss_norm norm, int N, int inner, int valid_count);

/* SoftmaxWithLoss: x is N x C x inner, labels N x inner. Returns
 * sum over non-ignored -log(max(prob[label], FLT_MIN)) / normalizer.
 * prob (N*C*inner, or NULL) receives the softmax. */
double ref_softmax_loss_forward(int N, int C, int inner, const double *x, const int *labels,
                                int has_ignore_label, int ignore_label, ref_loss_norm norm,
                                double *prob);

/* dx = (prob - onehot(label)) * loss_weight / normalizer; 0 for ignored positions. */
void ref_softmax_loss_backward(int N, int C, int inner, const double *prob, const int *labels,
                               int has_ignore_label, int ignore_label, ref_loss_norm norm,
                               double loss_weight, double *dx);

/* Caffe Accuracy: correct when fewer than top_k classes score >= the true class
 * (ties count against); mean over non-ignored positions (0 when there are none). */
double ref_accuracy(int N, int C, int inner, const double *x, const int *labels, int top_k,
                    int has_ignore_label, int ignore_label);

/* ------------------------------------------- A-Softmax (MarginInnerProduct) */

/* lambda = max(lambda_min, base * (1 + gamma*iter)^(-power)); the layer's first
 * forward uses iter = iteration + 1. */
double ref_asoftmax_lambda(double base, double gamma, double power, double lambda_min,
                           int iter);

/* Scale every row of W (N x K) to unit L2 norm, in place (Caffe's forward does it). */
void ref_normalize_rows(int N, int K, double *W);

/* Caffe's sign terms for a cosine c, with sign(0) = 0:
 * s[0] = sign(c); s[1] = sign(|c| - 0.5); s[2] = s0*(1 + s1) - 2;
 * s[3] = s0*sign(2c^2 - 1); s[4] = 2*s0 + s3 - 3. */
void ref_asoftmax_signs(double c, double s[5]);

/* The target-logit polynomial g(c) with the sign terms held at their values for
 * c, and dg/dc: m=1 g=c; m=2 g=2*s0*c^2-1; m=3 g=s1*(4c^3-3c)+s2;
 * m=4 g=s3*(8c^4-8c^2+1)+s4. Equals psi(theta) = (-1)^k cos(m*theta) - 2k. */
void ref_asoftmax_poly(int m, double c, double *g, double *dg);

/* Forward with W already normalised (Wn, N x K): x M x K, labels M in [0, N),
 * f M x N. f_ij = x.w_j for j != y_i; m=1: f_iy = x.w_y;
 * m>=2: f_iy = (|x|*g(c) + lambda*x.w_y)/(1 + lambda), c = x.w_y/|x|. */
void ref_asoftmax_forward_normalized(int M, int K, int N, int m, double lambda,
                                     const double *x, const double *Wn, const int *labels,
                                     double *f);

/* The layer's forward: normalises W in place (W then holds Wn), then as above. */
void ref_asoftmax_forward(int M, int K, int N, int m, double lambda, const double *x,
                          double *W, const int *labels, double *f);

/* Caffe-mode backward (not a true gradient): dW = top_diff^T x (margin ignored);
 * dx as the seed code: non-target w_j*td, target td*[(cw'*w_y + cx'*x)/(1+lambda)
 * + lambda/(1+lambda)*w_y] with (cw', cx') = (cw, cx)/|(cw, cx)|,
 * cw = g'(c), cx = (g(c) - c*g'(c))/|x|. m=1: dx = top_diff Wn. */
void ref_asoftmax_backward_caffe(int M, int K, int N, int m, double lambda, const double *x,
                                 const double *Wn, const int *labels, const double *top_diff,
                                 double *dx, double *dW);

/* Exact-mode backward: the true gradient of sum(f * top_diff) w.r.t. x and the
 * normalised Wn (no chain rule through the normalisation), signs held constant. */
void ref_asoftmax_backward_exact(int M, int K, int N, int m, double lambda, const double *x,
                                 const double *Wn, const int *labels, const double *top_diff,
                                 double *dx, double *dW);

/* ------------------------------------------------------------------ SGD */

/* Caffe SGDSolver::ApplyUpdate for one blob (L2 regularisation):
 * g = grad + weight_decay*decay_mult*w; history = momentum*history + lr*lr_mult*g;
 * w -= history. lr is the solver rate of this iteration (ref_lr). */
void ref_sgd_update(size_t count, double *w, const double *grad, double *history, double lr,
                    double momentum, double weight_decay, double lr_mult, double decay_mult);

/* Caffe SGDSolver::GetLearningRate for policy "fixed", "step", "multistep", "inv",
 * "poly", "exp" or "sigmoid" at solver iteration iter (0 for the first update).
 * multistep replays Caffe's stateful counter from iteration 0. Unknown policy: NAN. */
double ref_lr(const char *policy, double base_lr, double gamma, double power, int stepsize,
              const int *stepvalues, int n_stepvalues, int max_iter, int iter);

/* ---------------------------------------------------------------- misc */

double ref_max_abs(const double *a, size_t n);
double ref_max_abs_diff(const double *a, const double *b, size_t n);
/* max|a - ref| / max|ref| (denominator floored at 1e-300). */
double ref_rel_err(const double *a, const double *ref, size_t n);

#endif
