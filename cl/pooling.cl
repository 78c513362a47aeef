/* Pooling with Caffe's semantics (PoolingLayer): MAX keeps the position of the
 * first maximum in raster order (strict '>', start at -FLT_MAX, -1 for an empty
 * window); AVE sums the part of the window inside the image and divides by the
 * window size clipped to [-pad, size + pad). Outputs are N x C x OH x OW; the
 * host computes OH, OW with Caffe's ceil rule.
 *
 * Backward is a gather: one work-item per input pixel sums the windows that
 * cover it, so no two work-items write the same dx and no atomics are needed.
 * beta == 0 overwrites dx (even NaN), otherwise dx = grad + beta * dx. */

#ifndef FLT_MAX
#define FLT_MAX 0x1.fffffep127f
#endif

/* The pooling geometry shared by every kernel, passed as plain ints. */
#define POOL_GEOMETRY_ARGS                                                              \
    const int H, const int W, const int OH, const int OW, const int kh, const int kw,  \
        const int sh, const int sw, const int ph, const int pw
#define POOL_GEOMETRY H, W, OH, OW, kh, kw, sh, sw, ph, pw

/* The window of output i: its start (*hs, *ws) in the unclipped padded
 * coordinates and its ends (*he, *we) clipped to the image. Returns the offset
 * of output i's channel plane in the input. */
inline size_t output_window(const int i, POOL_GEOMETRY_ARGS, int *hs, int *ws, int *he, int *we)
{
    *hs = ((i / OW) % OH) * sh - ph;
    *ws = (i % OW) * sw - pw;
    *he = min(*hs + kh, H);
    *we = min(*ws + kw, W);
    return (size_t)(i / (OW * OH)) * H * W;
}

/* y[i] = max over the window of output i; argmax[i] = h*W + w of that maximum
 * inside its channel plane (when keep_argmax). */
__kernel void pool_max_forward(const int total, POOL_GEOMETRY_ARGS, __global const float *x,
                               __global float *y, const int keep_argmax,
                               __global int *argmax)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    int hs, ws, he, we;
    __global const float *plane = x + output_window(i, POOL_GEOMETRY, &hs, &ws, &he, &we);
    float best = -FLT_MAX;
    int best_at = -1;
    for (int h = max(hs, 0); h < he; h++)
        for (int w = max(ws, 0); w < we; w++) {
            const float v = plane[h * W + w];
            if (v > best) {
                best = v;
                best_at = h * W + w;
            }
        }
    y[i] = best;
    if (keep_argmax)
        argmax[i] = best_at;
}

/* Caffe's AVE divisor: the window clipped to the padded image, before it is
 * clipped to the image itself. */
inline int ave_pool_size(int hs, int ws, int kh, int kw, int H, int W, int ph, int pw)
{
    const int he = min(hs + kh, H + ph), we = min(ws + kw, W + pw);
    return (he - hs) * (we - ws);
}

__kernel void pool_ave_forward(const int total, POOL_GEOMETRY_ARGS, __global const float *x,
                               __global float *y)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    int hs, ws, he, we;
    __global const float *plane = x + output_window(i, POOL_GEOMETRY, &hs, &ws, &he, &we);
    const int pool_size = ave_pool_size(hs, ws, kh, kw, H, W, ph, pw);
    float sum = 0.0f;
    for (int h = max(hs, 0); h < he; h++)
        for (int w = max(ws, 0); w < we; w++)
            sum += plane[h * W + w];
    y[i] = sum / pool_size;
}

/* The range [*first, *last) of window indices along one axis whose window
 * [o*s - p, o*s - p + k) contains input coordinate v. */
inline void covering_windows(int v, int k, int s, int p, int out, int *first, int *last)
{
    const int padded = v + p;
    *first = padded < k ? 0 : (padded - k) / s + 1;
    *last = min(padded / s + 1, out);
}

/* The windows [*oh0, *oh1) x [*ow0, *ow1) that contain input pixel i. Returns
 * the offset of pixel i's channel plane in the outputs. */
inline size_t windows_covering(const int i, POOL_GEOMETRY_ARGS, int *oh0, int *oh1, int *ow0,
                               int *ow1)
{
    covering_windows((i / W) % H, kh, sh, ph, OH, oh0, oh1);
    covering_windows(i % W, kw, sw, pw, OW, ow0, ow1);
    return (size_t)(i / (W * H)) * OH * OW;
}

inline void store_grad(__global float *dx, int i, float grad, float beta)
{
    dx[i] = beta == 0.0f ? grad : grad + beta * dx[i];
}

/* dx[i] = sum of dy over the windows whose argmax is pixel i. */
__kernel void pool_max_backward(const int total, POOL_GEOMETRY_ARGS, __global const float *dy,
                                __global const int *argmax, __global float *dx,
                                const float beta)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    int oh0, oh1, ow0, ow1;
    const size_t plane = windows_covering(i, POOL_GEOMETRY, &oh0, &oh1, &ow0, &ow1);
    const int self = i % (H * W); /* h * W + w */
    float grad = 0.0f;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = ow0; ow < ow1; ow++) {
            const size_t o = plane + oh * OW + ow;
            if (argmax[o] == self)
                grad += dy[o];
        }
    store_grad(dx, i, grad, beta);
}

/* dx[i] = sum of dy / pool_size over the windows covering pixel i. */
__kernel void pool_ave_backward(const int total, POOL_GEOMETRY_ARGS, __global const float *dy,
                                __global float *dx, const float beta)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    int oh0, oh1, ow0, ow1;
    const size_t plane = windows_covering(i, POOL_GEOMETRY, &oh0, &oh1, &ow0, &ow1);
    float grad = 0.0f;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = ow0; ow < ow1; ow++) {
            const int size = ave_pool_size(oh * sh - ph, ow * sw - pw, kh, kw, H, W, ph, pw);
            grad += dy[plane + oh * OW + ow] / size;
        }
    store_grad(dx, i, grad, beta);
}
