/* Depthwise convolution (group == channels == outputs): direct kernels, no
 * im2col. Each channel c has one kh x kw filter w[c][ky][kx]. A GEMM would be
 * C tiny matrix products, so direct loops are faster here and need no
 * workspace. 1-D kernels bounds-check their global id (the runtime rounds
 * 1-D launches up); the others run over exact ranges. */


/* An inference net's PReLU fused into the store (act == 0: none), the
 * formula of prelu_forward, so the fused and the separate pass agree. */
inline float dw_act(const float v, const int act, const float a)
{
    return act ? fmax(v, 0.0f) + a * fmin(v, 0.0f) : v;
}

inline float8 dw_act8(const float8 v, const int act, const float a)
{
    return act ? fmax(v, 0.0f) + a * fmin(v, 0.0f) : v;
}

/* The slope of channel c (0: no activation). */
inline float dw_slope(__global const float *slope, const int act, const int shared, const int c)
{
    return act ? slope[shared ? 0 : c] : 0.0f;
}

/* One output of a row (the taps that fall inside the image). */
inline float dw_output(__global const float *xp, __global const float *wp, const float b,
                       const int H, const int W, const int kh, const int kw, const int h0,
                       const int w0)
{
    float sum = b;
    for (int ky = 0; ky < kh; ky++) {
        const int ih = h0 + ky;
        if (ih < 0 || ih >= H)
            continue;
        for (int kx = 0; kx < kw; kx++) {
            const int iw = w0 + kx;
            if (iw >= 0 && iw < W)
                sum += wp[ky * kw + kx] * xp[ih * W + iw];
        }
    }
    return sum;
}

/* y[n][c][oh][ow] = bias[c] + sum_{ky,kx} w[c][ky][kx] * x[n][c][oh*sh-ph+ky][ow*sw-pw+kx]
 * (then PReLU when act); one work-item per output element over an
 * (OW, OH, N*C) range (no index division; consecutive items along ow).
 * The GPU form. */
__kernel void dw_forward(__global const float *x, __global const float *w,
                         __global const float *bias, const int has_bias, const int C,
                         const int H, const int W, const int kh, const int kw, const int sh,
                         const int sw, const int ph, const int pw, const int act,
                         const int shared, __global const float *slope, __global float *y)
{
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    const int OW = get_global_size(0), OH = get_global_size(1), c = plane % C;
    __global const float *xp = x + (size_t)plane * H * W;
    __global const float *wp = w + c * kh * kw;
    const float v =
        dw_output(xp, wp, has_bias ? bias[c] : 0.0f, H, W, kh, kw, oh * sh - ph, ow * sw - pw);
    y[((size_t)plane * OH + oh) * OW + ow] = dw_act(v, act, dw_slope(slope, act, shared, c));
}

/* 8 consecutive outputs ow0..ow0+7 of an interior run (every tap inside the
 * row): stride 1 reads 8 consecutive inputs per tap; stride 2 the even ones
 * of 15, as two loads of 8 (never past the last input the outputs use). */
inline float8 dw_outputs8(__global const float *xp, __global const float *wp, const float b,
                          const int H, const int W, const int kh, const int kw, const int sw,
                          const int h0, const int w0)
{
    float8 acc = (float8)(b);
    for (int ky = 0; ky < kh; ky++) {
        const int ih = h0 + ky;
        if (ih < 0 || ih >= H)
            continue;
        __global const float *xr = xp + ih * W + w0;
        for (int kx = 0; kx < kw; kx++) {
            float8 v;
            if (sw == 1) {
                v = vload8(0, xr + kx);
            } else {
                const float8 lo8 = vload8(0, xr + kx), hi8 = vload8(0, xr + kx + 7);
                v = (float8)(lo8.even, hi8.odd);
            }
            acc += wp[ky * kw + kx] * v;
        }
    }
    return acc;
}

/* One output row: the outputs whose taps are all inside the row (ow in
 * [lo, hi)) go 8 at a time (stride 1 or 2; the last group overlaps the one
 * before rather than leaving a scalar tail: it writes the same values again),
 * the few at the borders one by one. */
inline void dw_row(__global const float *xp, __global const float *wp, const float b,
                   const int H, const int W, const int kh, const int kw, const int sw,
                   const int pw, const int h0, const int OW, const int act, const float a,
                   __global float *yp)
{
    /* interior: ow*sw - pw >= 0 and ow*sw - pw + kw - 1 <= W - 1 */
    const int lo = min(OW, (pw + sw - 1) / sw);
    const int hi = max(lo, min(OW, (W - kw + pw) / sw + 1));
    const int vector = (sw == 1 || sw == 2) && hi - lo >= 8;
    int ow = vector ? lo : 0;
    for (int o = 0; o < ow; o++)
        yp[o] = dw_act(dw_output(xp, wp, b, H, W, kh, kw, h0, o * sw - pw), act, a);
    for (; vector && ow < hi; ow += 8) {
        const int o = min(ow, hi - 8);
        const float8 v = dw_outputs8(xp, wp, b, H, W, kh, kw, sw, h0, o * sw - pw);
        vstore8(dw_act8(v, act, a), 0, yp + o);
    }
    for (ow = vector ? hi : ow; ow < OW; ow++)
        yp[ow] = dw_act(dw_output(xp, wp, b, H, W, kh, kw, h0, ow * sw - pw), act, a);
}

/* The CPU form: one work-item per (n, c) plane, N*C items, each computing its
 * OH rows with dw_row (enough work per item to amortise its start on the
 * small maps of the last stages), PReLU applied as each output is stored
 * when act. */
__kernel void dw_forward_planes(const int planes, __global const float *x,
                                __global const float *w, __global const float *bias,
                                const int has_bias, const int C, const int H, const int W,
                                const int kh, const int kw, const int sh, const int sw,
                                const int ph, const int pw, const int OH, const int OW,
                                const int act, const int shared,
                                __global const float *slope, __global float *y)
{
    const int plane = get_global_id(0);
    if (plane >= planes)
        return;
    const int c = plane % C;
    __global const float *xp = x + (size_t)plane * H * W;
    __global const float *wp = w + c * kh * kw;
    const float b = has_bias ? bias[c] : 0.0f, a = dw_slope(slope, act, shared, c);
    for (int oh = 0; oh < OH; oh++)
        dw_row(xp, wp, b, H, W, kh, kw, sw, pw, oh * sh - ph, OW, act, a,
               y + ((size_t)plane * OH + oh) * OW);
}

/* dx[n][c][h][w] = beta * dx + sum over the windows (oh, ow) covering the
 * pixel of w[c][ky][kx] * dy[n][c][oh][ow]: a gather, so no atomics.
 * beta == 0 overwrites (even NaN). */
__kernel void dw_backward_data(const int total, __global const float *dy,
                               __global const float *w, const int C, const int H, const int W,
                               const int kh, const int kw, const int sh, const int sw,
                               const int ph, const int pw, const int OH, const int OW,
                               const float beta, __global float *dx)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int iw = i % W, ih = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    __global const float *dyp = dy + (n * C + c) * OH * OW;
    __global const float *wp = w + c * kh * kw;
    float sum = 0.0f;
    for (int ky = 0; ky < kh; ky++) {
        const int th = ih + ph - ky; /* = oh * sh for a window that covers ih */
        if (th < 0 || th % sh != 0)
            continue;
        const int oh = th / sh;
        if (oh >= OH)
            continue;
        for (int kx = 0; kx < kw; kx++) {
            const int tw = iw + pw - kx;
            if (tw < 0 || tw % sw != 0)
                continue;
            const int ow = tw / sw;
            if (ow < OW)
                sum += wp[ky * kw + kx] * dyp[oh * OW + ow];
        }
    }
    dx[i] = beta == 0.0f ? sum : beta * dx[i] + sum;
}

/* dw[c][ky][kx] += sum over n, oh, ow of dy[n][c][oh][ow] * x[n][c][ih][iw].
 * One work-group of REDUCE_LOCAL items per weight (global size
 * C*kh*kw*REDUCE_LOCAL): strided partial sums over N*OH*OW (consecutive items
 * read consecutive ow), then a tree in local memory. Deterministic. */
__kernel void dw_backward_filter(const int N, const int C, const int H, const int W,
                                 const int kh, const int kw, const int sh, const int sw,
                                 const int ph, const int pw, const int OH, const int OW,
                                 __global const float *x, __global const float *dy,
                                 __global float *dw)
{
    __local float part[REDUCE_LOCAL];
    const int g = get_group_id(0), lid = get_local_id(0);
    const int kx = g % kw, ky = (g / kw) % kh, c = g / (kw * kh);
    const int P = OH * OW, count = N * P;
    float s = 0.0f;
    if (c < C)
        for (int j = lid; j < count; j += REDUCE_LOCAL) {
            const int n = j / P, p = j % P;
            const int oh = p / OW, ow = p % OW;
            const int ih = oh * sh - ph + ky, iw = ow * sw - pw + kx;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                s += dy[(n * C + c) * P + p] * x[((n * C + c) * H + ih) * W + iw];
        }
    s = sc_group_sum(s, part);
    if (lid == 0 && c < C)
        dw[g] += s;
}
