/* Elementwise layers with Caffe's semantics: PReLU, Scale, Eltwise, Dropout.
 *
 * Tensors are NCHW; "C" is axis 1 and "HW" the product of the axes after it,
 * so element i belongs to channel (i / HW) % C. Elementwise kernels run one
 * work-item per element (consecutive items along W: coalesced) and
 * bounds-check their id, since the runtime rounds 1-D launches up.
 *
 * Input gradients follow the op convention: out = g + beta * out, where
 * beta == 0 overwrites (even an out that held NaN). Parameter gradients are
 * added onto the diff buffer.
 *
 * Per-channel sums (PReLU slopes, Scale gamma/beta) use one work-group per
 * channel with a local-memory tree: fixed order, no float atomics, so results
 * are deterministic. The launcher passes a power-of-two local size. */

/* out = g + beta * out, overwriting when beta == 0. */
inline float blend(const float g, const float beta, const float out)
{
    return beta == 0.0f ? g : g + beta * out;
}

/* ------------------------------------------------------------------ PReLU */

/* y = max(x, 0) + a * min(x, 0), a = slope[c] (slope[0] when shared), over
 * a (HW, N*C) range: dimension 1 is the (n, c) plane, so the channel costs
 * one modulo per plane instead of a division per element (a CPU device has
 * no vector integer division). With keep != 0 the input is also copied to
 * saved first (y == x: in place). */
__kernel void prelu_forward(const int HW, const int C, const int shared,
                            __global const float *x, __global const float *slope,
                            __global float *y, const int keep, __global float *saved)
{
    const int hw = get_global_id(0), plane = get_global_id(1);
    const size_t i = (size_t)plane * HW + hw;
    const float v = x[i];
    const float a = slope[shared ? 0 : plane % C];
    if (keep)
        saved[i] = v;
    y[i] = fmax(v, 0.0f) + a * fmin(v, 0.0f);
}

/* dx = dy * (x > 0 ? 1 : a), as prelu_layer.cpp (x == 0 takes the slope),
 * over the (HW, N*C) range of prelu_forward. */
__kernel void prelu_backward_data(const int HW, const int C, const int shared,
                                  __global const float *x, __global const float *slope,
                                  __global const float *dy, const float beta,
                                  __global float *dx)
{
    const int hw = get_global_id(0), plane = get_global_id(1);
    const size_t i = (size_t)plane * HW + hw;
    const float a = slope[shared ? 0 : plane % C];
    const float g = dy[i];
    dx[i] = blend(x[i] > 0.0f ? g : g * a, beta, dx[i]);
}

/* One work-item per (n, c) plane, walking its HW elements in float8 steps
 * (x and dy read once): with want_dx, dx = dy * (x > 0 ? 1 : a) as
 * prelu_backward_data; partial[plane] = the plane's sum of dy * x * (x <= 0).
 * A CPU device runs each work-item's loop with its vector unit; a GPU reads
 * whole 32-byte sectors. Each work-item reads dy before it writes dx, so
 * dx == dy (an in-place diff) is safe. channel_shared passes C = 1 and
 * HW = channels * HW: one plane per image. */
__kernel void prelu_backward_planes(const int planes, const int HW, const int C,
                                    __global const float *x,
                                    __global const float *slope, __global const float *dy,
                                    const int want_dx, const float beta, __global float *dx,
                                    __global float *partial)
{
    const int plane = get_global_id(0);
    if (plane >= planes)
        return;
    const size_t base = (size_t)plane * HW;
    const float a = slope[plane % C];
    float8 acc = (float8)(0.0f);
    int hw = 0;
    for (; hw + 8 <= HW; hw += 8) {
        const float8 v = vload8(0, x + base + hw), g = vload8(0, dy + base + hw);
        const int8 negative = v <= (float8)(0.0f);
        acc += select((float8)(0.0f), g * v, negative);
        if (want_dx) {
            const float8 d = select(g, g * a, negative);
            vstore8(beta == 0.0f ? d : d + beta * vload8(0, dx + base + hw), 0, dx + base + hw);
        }
    }
    float sum = sc_sum8(acc);
    for (; hw < HW; hw++) {
        const size_t i = base + hw;
        const float v = x[i], g = dy[i];
        if (v <= 0.0f)
            sum += g * v;
        if (want_dx)
            dx[i] = blend(v > 0.0f ? g : g * a, beta, dx[i]);
    }
    partial[plane] = sum;
}

/* dslope[c] += the sum over n of partial[n * C + c], in order (deterministic). */
__kernel void prelu_slope_sum(const int N, const int C, __global const float *partial,
                              __global float *dslope)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    float sum = 0.0f;
    for (int n = 0; n < N; n++)
        sum += partial[n * C + c];
    dslope[c] += sum;
}

/* ------------------------------------------------------------------ Scale */

/* y = gamma[c] * x + beta[c] (has_bias == 0: no beta) over a (HW, N*C)
 * range (see prelu_forward). keep != 0 copies x to saved first (in place). */
__kernel void scale_forward(const int HW, const int C, __global const float *x,
                            __global const float *gamma, const int has_bias,
                            __global const float *bias, __global float *y, const int keep,
                            __global float *saved)
{
    const int hw = get_global_id(0), plane = get_global_id(1), c = plane % C;
    const size_t i = (size_t)plane * HW + hw;
    const float v = x[i];
    if (keep)
        saved[i] = v;
    y[i] = gamma[c] * v + (has_bias ? bias[c] : 0.0f);
}

/* dx = gamma[c] * dy over a (HW, N*C) range. */
__kernel void scale_backward_data(const int HW, const int C, __global const float *gamma,
                                  __global const float *dy, const float beta,
                                  __global float *dx)
{
    const int hw = get_global_id(0), plane = get_global_id(1);
    const size_t i = (size_t)plane * HW + hw;
    dx[i] = blend(gamma[plane % C] * dy[i], beta, dx[i]);
}

/* Per plane (one work-item each, float8 steps): work[plane] = sum dy * x
 * (want_gamma) and work[planes + plane] = sum dy. */
__kernel void scale_backward_planes(const int planes, const int HW, __global const float *x,
                                    __global const float *dy, const int want_gamma,
                                    __global float *work)
{
    const int plane = get_global_id(0);
    if (plane >= planes)
        return;
    const size_t base = (size_t)plane * HW;
    float8 sg8 = (float8)(0.0f), sb8 = (float8)(0.0f);
    int hw = 0;
    for (; hw + 8 <= HW; hw += 8) {
        const float8 d = vload8(0, dy + base + hw);
        sb8 += d;
        if (want_gamma)
            sg8 += d * vload8(0, x + base + hw);
    }
    float sg = sc_sum8(sg8), sb = sc_sum8(sb8);
    for (; hw < HW; hw++) {
        const float d = dy[base + hw];
        sb += d;
        if (want_gamma)
            sg += d * x[base + hw];
    }
    work[plane] = sg;
    work[planes + plane] = sb;
}

/* dgamma[c] += the sum over n of the planes' dy * x sums, dbeta[c] += that of
 * their dy sums, in n order (each only when its flag is set). */
__kernel void scale_backward_params(const int N, const int C, __global const float *work,
                                    const int want_gamma, __global float *dgamma,
                                    const int want_beta, __global float *dbeta)
{
    const int c = get_global_id(0);
    if (c >= C)
        return;
    const int planes = N * C;
    float sg = 0.0f, sb = 0.0f;
    for (int n = 0; n < N; n++) {
        sg += work[n * C + c];
        sb += work[planes + n * C + c];
    }
    if (want_gamma)
        dgamma[c] += sg;
    if (want_beta)
        dbeta[c] += sb;
}

/* ---------------------------------------------------------------- Eltwise */
/* Any number of inputs: the first kernel combines inputs 0 and 1, the next
 * ones fold in one input each (as Caffe's GPU code does). */

/* y = ca * a + cb * b */
__kernel void eltwise_sum_first(const int count, __global const float *a, const float ca,
                                __global const float *b, const float cb, __global float *y)
{
    const int i = get_global_id(0);
    if (i < count)
        y[i] = ca * a[i] + cb * b[i];
}

/* y += cb * b */
__kernel void eltwise_sum_next(const int count, __global const float *b, const float cb,
                               __global float *y)
{
    const int i = get_global_id(0);
    if (i < count)
        y[i] += cb * b[i];
}

/* y = a * b */
__kernel void eltwise_prod_first(const int count, __global const float *a,
                                 __global const float *b, __global float *y)
{
    const int i = get_global_id(0);
    if (i < count)
        y[i] = a[i] * b[i];
}

/* y *= b */
__kernel void eltwise_prod_next(const int count, __global const float *b, __global float *y)
{
    const int i = get_global_id(0);
    if (i < count)
        y[i] *= b[i];
}

/* Caffe's tie rule: input 0 wins only when strictly greater than input 1. */
__kernel void eltwise_max_first(const int count, __global const float *a,
                                __global const float *b, __global float *y,
                                __global int *argmax)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const float va = a[i], vb = b[i];
    const int a_wins = va > vb;
    y[i] = a_wins ? va : vb;
    argmax[i] = a_wins ? 0 : 1;
}

/* Input `index` (>= 2) replaces the running maximum only when strictly greater. */
__kernel void eltwise_max_next(const int count, __global const float *b, const int index,
                               __global float *y, __global int *argmax)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const float vb = b[i];
    if (vb > y[i]) {
        y[i] = vb;
        argmax[i] = index;
    }
}

/* dx = coeff * dy (SUM). */
__kernel void eltwise_scale_grad(const int count, __global const float *dy, const float coeff,
                                 const float beta, __global float *dx)
{
    const int i = get_global_id(0);
    if (i < count)
        dx[i] = blend(coeff * dy[i], beta, dx[i]);
}

/* out = a * b + beta * out: the building block of the PROD gradient
 * dy * prod_{j != i} x_j, multiplied out without dividing by x_i. */
__kernel void eltwise_mul_grad(const int count, __global const float *a,
                               __global const float *b, const float beta, __global float *out)
{
    const int i = get_global_id(0);
    if (i < count)
        out[i] = blend(a[i] * b[i], beta, out[i]);
}

/* dx = argmax == index ? dy : 0 (MAX). */
__kernel void eltwise_max_grad(const int count, __global const float *dy,
                               __global const int *argmax, const int index, const float beta,
                               __global float *dx)
{
    const int i = get_global_id(0);
    if (i < count)
        dx[i] = blend(argmax[i] == index ? dy[i] : 0.0f, beta, dx[i]);
}

/* ---------------------------------------------------------------- Dropout */

/* Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11): a counter-based generator, so element i of iteration t draws
 * its own independent number with no state shared between work-items. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

inline uint4 philox_round(const uint4 ctr, const uint2 key)
{
    const uint hi0 = mul_hi(PHILOX_M0, ctr.x), lo0 = PHILOX_M0 * ctr.x;
    const uint hi1 = mul_hi(PHILOX_M1, ctr.z), lo1 = PHILOX_M1 * ctr.z;
    return (uint4)(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
}

inline uint4 philox4x32_10(uint4 ctr, uint2 key)
{
    for (int r = 0; r < 10; r++) {
        ctr = philox_round(ctr, key);
        key += (uint2)(PHILOX_W0, PHILOX_W1);
    }
    return ctr;
}

/* state[0] = seed, state[1] = iteration counter (advanced by dropout_advance
 * after each draw). mask = u >= threshold with u uniform on 32 bits and
 * threshold = ratio * 2^32, so P(keep) = 1 - ratio exactly;
 * y = x * mask * scale with scale = 1 / (1 - ratio). stream separates layers
 * that share a seed. y may be x (in place). */
__kernel void dropout_forward(const int count, __global const float *x,
                              __global const uint *state, const uint stream,
                              const uint threshold, const float scale,
                              __global uchar *mask, __global float *y)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const uint4 ctr = (uint4)((uint)i, state[1], stream, 0x5EEDu);
    const uint u = philox4x32_10(ctr, (uint2)(state[0], 0x3C6EF372u)).x;
    const int keep = u >= threshold;
    mask[i] = (uchar)keep;
    y[i] = x[i] * (keep ? scale : 0.0f); /* as Caffe: x * mask * scale (NaN stays NaN) */
}

/* Moves the generator to the next iteration: one work-item. */
__kernel void dropout_advance(__global uint *state)
{
    if (get_global_id(0) == 0)
        state[1] += 1u;
}

/* dx = dy * mask * scale. */
__kernel void dropout_backward(const int count, __global const float *dy,
                               __global const uchar *mask, const float scale, const float beta,
                               __global float *dx)
{
    const int i = get_global_id(0);
    if (i < count)
        dx[i] = blend(dy[i] * (mask[i] ? scale : 0.0f), beta, dx[i]);
}
