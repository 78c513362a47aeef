/* Convolution helpers around the GEMM (cl/conv.c records them):
 *   im2col / col2im for a chunk of images laid side by side,
 *   the layout shuffles between NCHW and the GEMM's channel-major [C] x [n*P],
 *   the bias epilogue and the per-channel bias gradient.
 *
 * The column matrix of a chunk of nc images is [C*kh*kw] x [nc*P] (P = OH*OW),
 * row (c*kh + ky)*kw + kx, column n*P + oh*OW + ow: one GEMM per group then
 * covers the whole chunk. Every kernel bounds-checks its global id (global
 * sizes are rounded up to a multiple of the work-group size). Indices are int:
 * the launchers reject tensors over INT_MAX elements. */


/* col[(c*kh + ky)*kw + kx][n*P + p] for the nc images of a chunk (x_off
 * floats into x). One work-item per (channel, column) writes its kh*kw rows:
 * the index arithmetic is paid once per window instead of once per value,
 * and for every (ky, kx) consecutive work-items (consecutive ow) write
 * consecutive addresses, so the stores stay coalesced on GPUs. */
__kernel void conv_im2col(const int total, __global const float *x, const int x_off,
                          const int C, const int H, const int W, const int kh, const int kw,
                          const int sh, const int sw, const int ph, const int pw, const int OH,
                          const int OW, const int ncols, __global float *col)
{
    const int i = get_global_id(0);
    if (i >= total) /* total = C * ncols */
        return;
    const int P = OH * OW;
    const int column = i % ncols, c = i / ncols;
    const int n = column / P, p = column % P;
    const int oh = p / OW, ow = p % OW;
    const int h0 = oh * sh - ph, w0 = ow * sw - pw;
    __global const float *xp = x + x_off + (n * C + c) * H * W;
    __global float *out = col + c * kh * kw * ncols + column;
    for (int ky = 0; ky < kh; ky++) {
        const int ih = h0 + ky;
        const int row_ok = ih >= 0 && ih < H;
        for (int kx = 0; kx < kw; kx++) {
            const int iw = w0 + kx;
            *out = row_ok && iw >= 0 && iw < W ? xp[ih * W + iw] : 0.0f;
            out += ncols;
        }
    }
}

/* dx[n][c][h][w] = beta * dx + sum of the column entries that the forward
 * im2col copied from this pixel: a gather over the (ky, kx) windows covering
 * it, so no two work-items write the same value and no atomics are needed.
 * beta == 0 overwrites (even NaN). */
__kernel void conv_col2im(const int total, __global const float *col, const int C, const int H,
                          const int W, const int kh, const int kw, const int sh, const int sw,
                          const int ph, const int pw, const int OH, const int OW,
                          const int ncols, const float beta, __global float *dx, const int dx_off)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    const int P = OH * OW;
    float sum = 0.0f;
    for (int ky = 0; ky < kh; ky++) {
        const int th = h + ph - ky; /* = oh * sh for the window starting row oh */
        if (th < 0 || th % sh != 0)
            continue;
        const int oh = th / sh;
        if (oh >= OH)
            continue;
        for (int kx = 0; kx < kw; kx++) {
            const int tw = w + pw - kx;
            if (tw < 0 || tw % sw != 0)
                continue;
            const int ow = tw / sw;
            if (ow >= OW)
                continue;
            const int row = (c * kh + ky) * kw + kx;
            sum += col[row * ncols + n * P + oh * OW + ow];
        }
    }
    const int o = dx_off + i;
    dx[o] = beta == 0.0f ? sum : beta * dx[o] + sum;
}

/* dst[c][n*P + p] = src[n][c][p]: NCHW of nc images to the channel-major GEMM
 * layout. Used for the 1x1 convolution's column matrix (replacing im2col) and
 * for gathering dy before the backward GEMMs. */
__kernel void conv_nchw_to_cnp(const int total, __global const float *src, const int src_off,
                               const int C, const int P, const int nc, __global float *dst,
                               const int dst_off)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int ncols = nc * P;
    const int column = i % ncols, c = i / ncols;
    const int n = column / P, p = column % P;
    dst[dst_off + i] = src[src_off + (n * C + c) * P + p];
}

/* y[n][k][p] = beta * y + src[k][n*P + p] (+ bias[k] when has_bias): scatters
 * a GEMM product back to NCHW with the bias fused in. beta == 0 overwrites. */
__kernel void conv_cnp_to_nchw(const int total, __global const float *src, const int src_off,
                               const int K,
                               const int P, const int nc, __global const float *bias,
                               const int has_bias, const float beta, __global float *y,
                               const int y_off)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int p = i % P, k = (i / P) % K, n = i / (P * K);
    float v = src[src_off + k * (nc * P) + n * P + p];
    if (has_bias)
        v += bias[k];
    const int o = y_off + i;
    y[o] = beta == 0.0f ? v : beta * y[o] + v;
}

/* y[y_off + i] = bias[(i / P) % K]: fills an NCHW block with the broadcast
 * bias so a following GEMM with beta = 1 adds the product onto it. */
__kernel void conv_bias_fill(const int total, __global const float *bias, const int K,
                             const int P, __global float *y, const int y_off)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    y[y_off + i] = bias[(i / P) % K];
}

/* db[k] += sum over n < N, p < P of dy[(n*K + k)*P + p]. One work-group of
 * REDUCE_LOCAL items per channel: strided partial sums (coalesced along p),
 * then a tree in local memory. Deterministic, no float atomics. */
__kernel void conv_channel_sum(const int N, const int K, const int P,
                               __global const float *dy, __global float *db)
{
    __local float part[REDUCE_LOCAL];
    const int k = get_group_id(0), lid = get_local_id(0);
    const int count = N * P;
    float s = 0.0f;
    for (int j = lid; j < count; j += REDUCE_LOCAL) {
        const int n = j / P, p = j % P;
        s += dy[(n * K + k) * P + p];
    }
    s = sc_group_sum(s, part);
    if (lid == 0 && k < K)
        db[k] += s;
}
