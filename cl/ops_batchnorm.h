/* Caffe's BatchNorm layer (kernels in cl/batchnorm.cl): normalisation only;
 * the affine part is a following Scale layer. See sc_ops.h for the shared
 * conventions.
 *
 * Blobs (Caffe's order): mean_blob (C floats), var_blob (C), scale_factor (1).
 * They are running sums, never trained (lr_mult 0 in Caffe): no gradients.
 *  - training (use_global_stats 0): y = (x - mean) / sqrt(var + eps) with the
 *    batch mean and biased variance over N*H*W per channel; the blobs are
 *    updated on the device exactly as Caffe: scale_factor = scale_factor*maf + 1,
 *    mean_blob = maf*mean_blob + mean, var_blob = maf*var_blob + m/(m-1)*var
 *    (m = N*H*W; factor 1 when m == 1).
 *  - inference (use_global_stats 1): mean = mean_blob / scale_factor,
 *    var = var_blob / scale_factor (a zero scale_factor gives 0, as Caffe);
 *    the blobs are only read.
 * In place (y == x) is supported. The caller's `saved` buffer
 * (sc_batchnorm_saved_floats) keeps the per-channel mean and 1/sqrt(var + eps)
 * and, in training, x_hat, so backward works even after a following in-place
 * layer overwrote y. */
#ifndef SC_OPS_BATCHNORM_H
#define SC_OPS_BATCHNORM_H

typedef struct sc_batchnorm_params {
    int use_global_stats;          /* Caffe: off in TRAIN, on in TEST unless set */
    float eps;                     /* default 1e-5 */
    float moving_average_fraction; /* default 0.999 */
} sc_batchnorm_params;

/* Caffe's defaults for the TRAIN phase: batch statistics, eps 1e-5, maf 0.999. */
sc_batchnorm_params sc_batchnorm_default_params(void);

/* Output shape (== input); fails on a zero dimension, eps < 0 or a
 * moving_average_fraction outside [0, 1]. */
sc_status sc_batchnorm_output_shape(sc_ctx *ctx, const char *name,
                                    const sc_batchnorm_params *p, sc_shape in, sc_shape *out);
/* Floats of the saved buffer: 2*C (+ N*C*H*W for x_hat in training). */
size_t sc_batchnorm_saved_floats(const sc_batchnorm_params *p, sc_shape in);

/* Floats of the work buffer of training (per-plane partial sums and the
 * channel means of the backward): 2*N*C + 2*C; 0 with use_global_stats. */
size_t sc_batchnorm_work_floats(const sc_batchnorm_params *p, sc_shape in);

/* Records the forward; mean_blob and var_blob hold C floats, scale_factor 1.
 * work (sc_batchnorm_work_floats; may be NULL when 0) is scratch. */
sc_status sc_batchnorm_forward(sc_plan *plan, const char *name, const sc_batchnorm_params *p,
                               sc_shape in, cl_mem x, cl_mem y, cl_mem mean_blob,
                               cl_mem var_blob, cl_mem scale_factor, cl_mem saved, cl_mem work);
/* Training: dx = inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)) per channel;
 * global stats: dx = dy * inv_std. Then dx = that + beta_dx * dx. Reads only
 * saved (from the forward) and dy; dx may equal dy; work as for the forward. */
sc_status sc_batchnorm_backward(sc_plan *plan, const char *name,
                                const sc_batchnorm_params *p, sc_shape in, cl_mem saved,
                                cl_mem dy, cl_mem dx, float beta_dx, cl_mem work);

/* Inference: folds BatchNorm (its stored statistics) and an optional Scale
 * into the weights w (K x per_k) and bias b (K, or NULL) of the layer before
 * it, writing w_out and b_out, so that conv(x; w_out, b_out) equals
 * Scale(BatchNorm(conv(x; w, b))). gamma and beta may be NULL (1 and 0).
 * Recorded as one step, so folded weights follow every weight update. */
sc_status sc_batchnorm_fold(sc_plan *plan, const char *name, int K, int per_k, float eps,
                            cl_mem w, cl_mem b, cl_mem mean_blob, cl_mem var_blob,
                            cl_mem scale_factor, cl_mem gamma, cl_mem beta, cl_mem w_out,
                            cl_mem b_out);

#endif
