/* Caffe's BatchNorm (batch_norm_layer.cpp): normalisation only, no affine
 * part (a Scale layer follows it). Blobs: mean_blob (C), var_blob (C) and
 * scale_factor (1), the running sums that use_global_stats reads back as
 * mean_blob / scale_factor and var_blob / scale_factor.
 *
 * The caller's "saved" buffer keeps what backward needs, because a following
 * in-place layer (Scale) overwrites y:
 *   saved[0 .. C)            mean used by the forward (batch or global)
 *   saved[C .. 2C)           inv_std = 1 / sqrt(var + eps)
 *   saved[2C .. 2C + count)  x_hat = (x - mean) * inv_std (training only)
 *
 * Per-channel statistics use one work-group per channel with a local-memory
 * tree (fixed order: deterministic, no float atomics); each work-item sums
 * its strided share with Kahan compensation, since a channel can hold
 * hundreds of thousands of values. The variance is two-pass, E((x - mean)^2),
 * as Caffe computes it, which stays accurate when |mean| >> std. */

/* Kahan step: sum += v, with comp carrying the low-order bits lost so far. */
inline void kahan_add(float *sum, float *comp, const float v)
{
    const float y = v - *comp;
    const float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/* Training statistics of channel c (one work-group each): batch mean and
 * biased variance over m = N*HW values; writes mean and inv_std into saved and
 * updates the running blobs as Caffe: mean_blob = maf*mean_blob + mean,
 * var_blob = maf*var_blob + correction*var (correction = m/(m-1), or 1 when
 * m == 1), scale_factor = scale_factor*maf + 1 (group 0 only). */
__kernel void bn_train_stats(const int N, const int C, const int HW,
                             __global const float *x, const float eps, const float maf,
                             const float correction, __global float *mean_blob,
                             __global float *var_blob, __global float *scale_factor,
                             __global float *saved, __local float *scratch)
{
    const int c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    const int m = N * HW;
    float sum = 0.0f, comp = 0.0f;
    for (int j = lid; j < m; j += L)
        kahan_add(&sum, &comp, x[sc_channel_element(j, c, C, HW)]);
    const float mean = sc_group_sum(sum - comp, scratch) / (float)m;

    sum = 0.0f;
    comp = 0.0f;
    for (int j = lid; j < m; j += L) {
        const float d = x[sc_channel_element(j, c, C, HW)] - mean;
        kahan_add(&sum, &comp, d * d);
    }
    const float var = sc_group_sum(sum - comp, scratch) / (float)m;

    if (lid == 0) {
        saved[c] = mean;
        saved[C + c] = 1.0f / sqrt(var + eps);
        mean_blob[c] = maf * mean_blob[c] + mean;
        var_blob[c] = maf * var_blob[c] + correction * var;
        if (c == 0)
            scale_factor[0] = scale_factor[0] * maf + 1.0f;
    }
}

/* use_global_stats: mean = mean_blob * f, var = var_blob * f with
 * f = 1 / scale_factor, or 0 when scale_factor is 0 (Caffe). One item per channel. */
__kernel void bn_global_stats(const int C, const float eps, __global const float *mean_blob,
                              __global const float *var_blob,
                              __global const float *scale_factor, __global float *saved)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const float sf = scale_factor[0];
    const float f = sf == 0.0f ? 0.0f : 1.0f / sf;
    saved[c] = mean_blob[c] * f;
    saved[C + c] = 1.0f / sqrt(var_blob[c] * f + eps);
}

/* y = (x - mean[c]) * inv_std[c]; with want_xhat also saved[2C + i] = y.
 * y may be x (in place): each item reads its element before writing it. */
__kernel void bn_normalize(const int count, const int C, const int HW,
                           __global const float *x, __global float *saved,
                           const int want_xhat, __global float *y)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const int c = (i / HW) % C;
    const float v = (x[i] - saved[c]) * saved[C + c];
    if (want_xhat)
        saved[2 * C + i] = v;
    y[i] = v;
}

/* Training backward of channel c (one work-group each):
 * dx = inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)), then
 * dx = that + beta * dx. dx may be dy: the sums finish before any write. */
__kernel void bn_backward_train(const int N, const int C, const int HW,
                                __global const float *saved, __global const float *dy,
                                const float beta, __global float *dx,
                                __local float *scratch)
{
    const int c = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
    const int m = N * HW;
    __global const float *xhat = saved + 2 * C;
    float sum_dy = 0.0f, comp_dy = 0.0f, sum_dyx = 0.0f, comp_dyx = 0.0f;
    for (int j = lid; j < m; j += L) {
        const int i = sc_channel_element(j, c, C, HW);
        const float d = dy[i];
        kahan_add(&sum_dy, &comp_dy, d);
        kahan_add(&sum_dyx, &comp_dyx, d * xhat[i]);
    }
    const float mean_dy = sc_group_sum(sum_dy - comp_dy, scratch) / (float)m;
    const float mean_dyx = sc_group_sum(sum_dyx - comp_dyx, scratch) / (float)m;
    const float inv_std = saved[C + c];
    for (int j = lid; j < m; j += L) {
        const int i = sc_channel_element(j, c, C, HW);
        const float g = inv_std * (dy[i] - mean_dy - xhat[i] * mean_dyx);
        dx[i] = beta == 0.0f ? g : g + beta * dx[i];
    }
}

/* use_global_stats backward: dx = dy * inv_std[c] (+ beta * dx). */
__kernel void bn_backward_global(const int count, const int C, const int HW,
                                 __global const float *saved, __global const float *dy,
                                 const float beta, __global float *dx)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const float g = dy[i] * saved[C + (i / HW) % C];
    dx[i] = beta == 0.0f ? g : g + beta * dx[i];
}

/* Inference folding of BatchNorm (global stats) and an optional Scale into
 * the preceding convolution: for output channel k with
 * s = gamma[k] / sqrt(var[k]*f + eps) and f = 1/scale_factor (0 if 0):
 *   w_out[k, :] = w[k, :] * s
 *   b_out[k]    = (b[k] - mean[k]*f) * s + beta[k]
 * (b, gamma, beta optional: 0, 1, 0). One item per weight; item k < K of the
 * first per_k items also writes b_out[k]. */
__kernel void bn_fold(const int K, const int per_k, const float eps,
                      __global const float *w, __global const float *b,
                      __global const float *mean_blob, __global const float *var_blob,
                      __global const float *scale_factor, __global const float *gamma,
                      __global const float *beta, const int has_b, const int has_gamma,
                      const int has_beta, __global float *w_out, __global float *b_out)
{
    const int i = get_global_id(0);
    if (i >= K * per_k)
        return;
    const int k = i / per_k;
    const float sf = scale_factor[0];
    const float f = sf == 0.0f ? 0.0f : 1.0f / sf;
    const float s = (has_gamma ? gamma[k] : 1.0f) / sqrt(var_blob[k] * f + eps);
    w_out[i] = w[i] * s;
    if (i % per_k == 0)
        b_out[k] = ((has_b ? b[k] : 0.0f) - mean_blob[k] * f) * s + (has_beta ? beta[k] : 0.0f);
}
