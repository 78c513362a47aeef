/* A-Softmax: Caffe-SphereFace's MarginInnerProduct layer (see cl/ops_asoftmax.h).
 *
 * The GEMMs (f = x W^T, dx = dy' W, dW += dy'^T x) are recorded by the host;
 * these kernels do what is left: the lambda schedule, the row norms (and the
 * in-place normalisation of W), the margin on the target logits and the
 * per-row coefficients of the backward.
 *
 * Layer state (int[2]): state[0] = iteration, state[1] = lambda (float bits).
 * Saved buffer (2*M floats): saved[i] = |x_i|, saved[M + i] = cos of the target. */

/* caffe_cpu_sign: -1, 0 or +1, and 0 for 0 (so sign(0) = 0 as Caffe). */
inline float asoftmax_sign(const float v)
{
    return (float)((0.0f < v) - (v < 0.0f));
}

/* The target class of row i, or -1 when the label is outside [0, N) (or NaN):
 * such a row keeps plain inner products (Caffe would write out of bounds). */
inline int asoftmax_target(const float label, const int N)
{
    return (label >= 0.0f && label < (float)N) ? (int)label : -1;
}

/* The target polynomial with Caffe's sign terms (m = 1..4):
 * .x = g(c) = psi(theta), .y = g'(c) (Caffe's coeff_w) and
 * .z = g(c) - c*g'(c) (Caffe's coeff_x times |x|), each written in the closed
 * form the Caffe source uses. */
inline float3 asoftmax_poly(const int m, const float c)
{
    const float s0 = asoftmax_sign(c);
    const float c2 = c * c;
    if (m == 2) {
        return (float3)(2.0f * s0 * c2 - 1.0f, 4.0f * s0 * c, -(2.0f * s0 * c2 + 1.0f));
    }
    if (m == 3) {
        const float s1 = asoftmax_sign(fabs(c) - 0.5f);
        const float s2 = s0 * (1.0f + s1) - 2.0f;
        return (float3)(s1 * (4.0f * c2 * c - 3.0f * c) + s2, s1 * (12.0f * c2 - 3.0f),
                        -(8.0f * s1 * c2 * c - s2));
    }
    if (m == 4) {
        const float s3 = s0 * asoftmax_sign(2.0f * c2 - 1.0f);
        const float s4 = 2.0f * s0 + s3 - 3.0f;
        return (float3)(s3 * (8.0f * c2 * c2 - 8.0f * c2 + 1.0f) + s4,
                        s3 * (32.0f * c2 * c - 16.0f * c),
                        -(s3 * (24.0f * c2 * c2 - 8.0f * c2 - 1.0f) - s4));
    }
    return (float3)(c, 1.0f, 0.0f); /* m = 1: psi = cos */
}

/* One work-item. advance != 0 (a forward that updates the schedule, as every
 * Caffe forward does): iter += 1, lambda = max(lambda_min, base*(1 + gamma*iter)^-power)
 * in float as Caffe. Otherwise the stored lambda is kept. Writes lambda to
 * top[1] when has_top. */
__kernel void asoftmax_schedule(__global int *state, __global float *lambda_top,
                                const int has_top, const int advance, const float base,
                                const float gamma, const float power, const float lambda_min)
{
    if (get_global_id(0) != 0)
        return;
    float lambda = as_float(state[1]);
    if (advance) {
        const int iter = state[0] + 1;
        lambda = base * pow(1.0f + gamma * (float)iter, -power);
        lambda = lambda > lambda_min ? lambda : lambda_min;
        state[0] = iter;
        state[1] = as_int(lambda);
    }
    if (has_top)
        lambda_top[0] = lambda;
}

/* One work-group per row of a (rows x K), local size a power of two with
 * `partial` holding one float per work-item. normalize != 0 scales the row to
 * unit L2 norm in place (a zero row stays zero; Caffe would make it NaN);
 * otherwise norm_out[row] = |row|. */
__kernel void asoftmax_row_norm(const int rows, const int K, __global float *a,
                                __global float *norm_out, const int normalize,
                                __local float *partial)
{
    const int row = get_group_id(0);
    const int lid = get_local_id(0);
    const int L = get_local_size(0);
    if (row >= rows)
        return; /* the whole group leaves together: no barrier is skipped by part of it */
    __global float *r = a + (size_t)row * (size_t)K;
    float sum = 0.0f;
    for (int k = lid; k < K; k += L)
        sum += r[k] * r[k];
    const float ss = sc_group_sum(sum, partial);
    if (normalize) {
        if (ss > 0.0f) {
            const float inv = 1.0f / sqrt(ss);
            for (int k = lid; k < K; k += L)
                r[k] *= inv;
        }
    } else if (lid == 0) {
        norm_out[row] = sqrt(ss);
    }
}

/* One work-item per row. f holds x W^T; replaces the target logit by
 * (|x| psi + lambda x.w) / (1 + lambda) for m >= 2 and saves the target cosine. */
__kernel void asoftmax_margin(const int M, const int N, const int m, __global float *f,
                              __global const float *labels, __global const int *state,
                              __global float *saved)
{
    const int i = get_global_id(0);
    if (i >= M)
        return;
    const int y = asoftmax_target(labels[i], N);
    const float xnorm = saved[i];
    float c = 0.0f;
    if (y >= 0) {
        const size_t at = (size_t)i * (size_t)N + (size_t)y;
        const float xw = f[at];
        c = xnorm > 0.0f ? xw / xnorm : 0.0f;
        if (m > 1) {
            const float lambda = as_float(state[1]);
            const float g = asoftmax_poly(m, c).x;
            f[at] = (xnorm * g + lambda * xw) / (1.0f + lambda);
        }
    }
    saved[M + i] = c;
}

/* One work-item per element of dy (M x N), m >= 2. Writes dy' (ws[0, M*N)): dy
 * with each target entry scaled by (cw + lambda)/(1 + lambda), and the row
 * scalars r_i = dy_iy cx/(1 + lambda) (ws[M*N, M*N + M)), so that
 *   dx = dy' W + diag(r) x   and (exact mode)   dW += dy'^T x.
 * (cw, cx) = (g'(c), (g - c g')/|x|); caffe_mode scales the pair to unit length. */
__kernel void asoftmax_backward_prep(const int M, const int N, const int m, const int caffe_mode,
                                     __global const float *dy, __global const float *labels,
                                     __global const int *state, __global const float *saved,
                                     __global float *ws)
{
    const int gid = get_global_id(0);
    if (gid >= M * N)
        return;
    const int i = gid / N;
    const int j = gid - i * N;
    const int y = asoftmax_target(labels[i], N);
    __global float *row_scale = ws + (size_t)M * (size_t)N;
    const float d = dy[gid];
    if (j != y) {
        ws[gid] = d;
        if (y < 0 && j == 0)
            row_scale[i] = 0.0f; /* no target: plain inner product */
        return;
    }
    const float xnorm = saved[i];
    const float c = saved[M + i];
    const float lambda = as_float(state[1]);
    const float3 p = asoftmax_poly(m, c);
    float cw = p.y;
    float cx = xnorm > 0.0f ? p.z / xnorm : 0.0f;
    if (caffe_mode) {
        const float len = sqrt(cw * cw + cx * cx);
        if (len > 0.0f) {
            cw /= len;
            cx /= len;
        }
    }
    const float inv = 1.0f / (1.0f + lambda);
    ws[gid] = d * (cw + lambda) * inv;
    row_scale[i] = d * cx * inv;
}

/* One work-item per element of dx (M x K): dx_ik += r_i x_ik, r at ws[M*N + i]. */
__kernel void asoftmax_add_row_scaled(const int M, const int K, const int N,
                                      __global const float *x, __global const float *ws,
                                      __global float *dx)
{
    const int gid = get_global_id(0);
    if (gid >= M * K)
        return;
    const int i = gid / K;
    dx[gid] += ws[(size_t)M * (size_t)N + (size_t)i] * x[gid];
}
