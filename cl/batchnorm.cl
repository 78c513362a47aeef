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
 * Per-channel statistics are per-plane sums (one work-item per (n, c) plane,
 * float8 steps, see sc_sum8) into the caller's work buffer, then a sum over
 * the N planes of each channel in n order (deterministic, no float atomics);
 * both levels use Kahan compensation, since a channel can hold hundreds of
 * thousands of values. The variance is two-pass, E((x - mean)^2), as Caffe
 * computes it, which stays accurate when |mean| >> std. Elementwise kernels
 * run over a (HW, N*C) range: dimension 1 is the plane, so the channel costs
 * one modulo per plane. */

/* Kahan step: sum += v, with comp carrying the low-order bits lost so far. */
inline void kahan_add(float *sum, float *comp, const float v)
{
    const float y = v - *comp;
    const float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

inline void kahan_add8(float8 *sum, float8 *comp, const float8 v)
{
    const float8 y = v - *comp;
    const float8 t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/* work[plane] = the sum over plane (n, c) of v, where v = x (squares == 0)
 * or (x - saved[c])^2 (squares != 0, saved[c] the batch mean). */
__kernel void bn_plane_sums(const int planes, const int C, const int HW,
                            __global const float *x, const int squares,
                            __global const float *saved, __global float *work)
{
    const int plane = get_global_id(0);
    if (plane >= planes)
        return;
    const size_t base = (size_t)plane * HW;
    const float mean = squares ? saved[plane % C] : 0.0f;
    float8 sum8 = (float8)(0.0f), comp8 = (float8)(0.0f);
    int hw = 0;
    for (; hw + 8 <= HW; hw += 8) {
        const float8 d = vload8(0, x + base + hw) - mean;
        kahan_add8(&sum8, &comp8, squares ? d * d : d);
    }
    float sum = sc_sum8(sum8), comp = sc_sum8(comp8);
    for (; hw < HW; hw++) {
        const float d = x[base + hw] - mean;
        kahan_add(&sum, &comp, squares ? d * d : d);
    }
    work[plane] = sum - comp;
}

/* The sum over n of work[n * C + c], in n order. */
inline float channel_sum(const int N, const int C, const int c, __global const float *work)
{
    float sum = 0.0f, comp = 0.0f;
    for (int n = 0; n < N; n++)
        kahan_add(&sum, &comp, work[n * C + c]);
    return sum - comp;
}

/* saved[c] = the batch mean of channel c over its m = N*HW values. */
__kernel void bn_mean(const int N, const int C, const float m, __global const float *work,
                      __global float *saved)
{
    const int c = get_global_id(0);
    if (c < C)
        saved[c] = channel_sum(N, C, c, work) / m;
}

/* From the planes' squared deviations: the biased variance; writes inv_std
 * into saved and updates the running blobs as Caffe: mean_blob =
 * maf*mean_blob + mean, var_blob = maf*var_blob + correction*var
 * (correction = m/(m-1), or 1 when m == 1), scale_factor = scale_factor*maf
 * + 1 (item 0 only). */
__kernel void bn_variance(const int N, const int C, const float m, __global const float *work,
                          const float eps, const float maf, const float correction,
                          __global float *mean_blob, __global float *var_blob,
                          __global float *scale_factor, __global float *saved)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const float var = channel_sum(N, C, c, work) / m;
    saved[C + c] = 1.0f / sqrt(var + eps);
    mean_blob[c] = maf * mean_blob[c] + saved[c];
    var_blob[c] = maf * var_blob[c] + correction * var;
    if (c == 0)
        scale_factor[0] = scale_factor[0] * maf + 1.0f;
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
__kernel void bn_normalize(const int HW, const int C, __global const float *x,
                           __global float *saved, const int want_xhat, __global float *y)
{
    const int hw = get_global_id(0), plane = get_global_id(1), c = plane % C;
    const size_t i = (size_t)plane * HW + hw;
    const float v = (x[i] - saved[c]) * saved[C + c];
    if (want_xhat)
        saved[2 * C + i] = v;
    y[i] = v;
}

/* Training backward, step 1: work[plane] = the plane's sum of dy and
 * work[planes + plane] its sum of dy * x_hat. */
__kernel void bn_backward_plane_sums(const int planes, const int C, const int HW,
                                     __global const float *saved, __global const float *dy,
                                     __global float *work)
{
    const int plane = get_global_id(0);
    if (plane >= planes)
        return;
    const size_t base = (size_t)plane * HW;
    __global const float *xhat = saved + 2 * C;
    float8 s8 = (float8)(0.0f), c8 = (float8)(0.0f), sx8 = (float8)(0.0f), cx8 = (float8)(0.0f);
    int hw = 0;
    for (; hw + 8 <= HW; hw += 8) {
        const float8 d = vload8(0, dy + base + hw);
        kahan_add8(&s8, &c8, d);
        kahan_add8(&sx8, &cx8, d * vload8(0, xhat + base + hw));
    }
    float s = sc_sum8(s8), c = sc_sum8(c8), sx = sc_sum8(sx8), cx = sc_sum8(cx8);
    for (; hw < HW; hw++) {
        const float d = dy[base + hw];
        kahan_add(&s, &c, d);
        kahan_add(&sx, &cx, d * xhat[base + hw]);
    }
    work[plane] = s - c;
    work[planes + plane] = sx - cx;
}

/* Step 2: means[c] = mean(dy), means[C + c] = mean(dy * x_hat) of channel c,
 * with means = work + 2 * planes. */
__kernel void bn_backward_means(const int N, const int C, const float m, __global float *work)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const int planes = N * C;
    work[2 * planes + c] = channel_sum(N, C, c, work) / m;
    work[2 * planes + C + c] = channel_sum(N, C, c, work + planes) / m;
}

/* Step 3: dx = inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)), then
 * dx = that + beta * dx. dx may be dy: each item reads dy before writing. */
__kernel void bn_backward_train(const int HW, const int C, __global const float *saved,
                                __global const float *work, const int means_at,
                                __global const float *dy, const float beta, __global float *dx)
{
    const int hw = get_global_id(0), plane = get_global_id(1), c = plane % C;
    const size_t i = (size_t)plane * HW + hw;
    __global const float *means = work + means_at;
    const float g = saved[C + c] * (dy[i] - means[c] - saved[2 * C + i] * means[C + c]);
    dx[i] = beta == 0.0f ? g : g + beta * dx[i];
}

/* use_global_stats backward: dx = dy * inv_std[c] (+ beta * dx). */
__kernel void bn_backward_global(const int HW, const int C, __global const float *saved,
                                 __global const float *dy, const float beta,
                                 __global float *dx)
{
    const int hw = get_global_id(0), plane = get_global_id(1);
    const size_t i = (size_t)plane * HW + hw;
    const float g = dy[i] * saved[C + plane % C];
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
