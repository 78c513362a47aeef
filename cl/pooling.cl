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

/* y[i] = max over the window of output i; argmax[i] = h*W + w of that maximum
 * inside its channel plane (when keep_argmax). */
__kernel void pool_max_forward(const int total, POOL_GEOMETRY_ARGS, __global const float *x,
                               __global float *y, const int keep_argmax,
                               __global int *argmax)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int ow = i % OW;
    const int oh = (i / OW) % OH;
    const int nc = i / (OW * OH);
    int hs = oh * sh - ph, ws = ow * sw - pw;
    const int he = min(hs + kh, H), we = min(ws + kw, W);
    hs = max(hs, 0);
    ws = max(ws, 0);
    __global const float *plane = x + (size_t)nc * H * W;
    float best = -FLT_MAX;
    int best_at = -1;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) {
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
    const int ow = i % OW;
    const int oh = (i / OW) % OH;
    const int nc = i / (OW * OH);
    int hs = oh * sh - ph, ws = ow * sw - pw;
    const int pool_size = ave_pool_size(hs, ws, kh, kw, H, W, ph, pw);
    const int he = min(hs + kh, H), we = min(ws + kw, W);
    hs = max(hs, 0);
    ws = max(ws, 0);
    __global const float *plane = x + (size_t)nc * H * W;
    float sum = 0.0f;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++)
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
    const int w = i % W;
    const int h = (i / W) % H;
    const int nc = i / (W * H);
    int oh0, oh1, ow0, ow1;
    covering_windows(h, kh, sh, ph, OH, &oh0, &oh1);
    covering_windows(w, kw, sw, pw, OW, &ow0, &ow1);
    const size_t plane = (size_t)nc * OH * OW;
    const int self = h * W + w;
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
    const int w = i % W;
    const int h = (i / W) % H;
    const int nc = i / (W * H);
    int oh0, oh1, ow0, ow1;
    covering_windows(h, kh, sh, ph, OH, &oh0, &oh1);
    covering_windows(w, kw, sw, pw, OW, &ow0, &ow1);
    const size_t plane = (size_t)nc * OH * OW;
    float grad = 0.0f;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = ow0; ow < ow1; ow++) {
            const int size = ave_pool_size(oh * sh - ph, ow * sw - pw, kh, kw, H, W, ph, pw);
            grad += dy[plane + oh * OW + ow] / size;
        }
    store_grad(dx, i, grad, beta);
}
