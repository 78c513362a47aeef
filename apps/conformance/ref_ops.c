/* Plain C reference ops with Caffe semantics; see ref_ops.h. Written from the
 * math and from reading BVLC/caffe src/caffe/layers (*_layer.cpp) and the SphereFace
 * margin_inner_product_layer.cpp, not translated from them. */
#include "ref_ops.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- sizes */

int ref_conv_out_size(int in, int k, int stride, int pad, int dil)
{
    /* conv_layer.cpp compute_output_shape: integer division, i.e. floor. */
    int extent = dil * (k - 1) + 1;
    return (in + 2 * pad - extent) / stride + 1;
}

int ref_pool_out_size(int in, int k, int stride, int pad)
{
    /* pooling_layer.cpp Reshape: ceil((in + 2p - k) / s) + 1 ... */
    int out = (int)ceil((double)(in + 2 * pad - k) / stride) + 1;
    /* ... and with padding the last window must start strictly inside the
     * image, not in the right/bottom padding. */
    if (pad > 0 && (out - 1) * stride >= in + pad)
        --out;
    return out;
}

/* ---------------------------------------------------------- convolution */

/* Index helpers for NCHW and KCHW arrays. */
static size_t at4(int d1, int d2, int d3, int i0, int i1, int i2, int i3)
{
    return (((size_t)i0 * d1 + i1) * d2 + i2) * d3 + i3;
}

void ref_conv_forward(int N, int C, int H, int W, int K, int kh, int kw, int sh, int sw,
                      int ph, int pw, int dh, int dw, int group,
                      const double *x, const double *w, const double *bias, double *y)
{
    int OH = ref_conv_out_size(H, kh, sh, ph, dh), OW = ref_conv_out_size(W, kw, sw, pw, dw);
    int Cg = C / group, Kg = K / group;
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            int g = k / Kg; /* output channel k sees input channels of its group only */
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double sum = bias ? bias[k] : 0.0;
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++) {
                                int ih = oh * sh - ph + i * dh, iw = ow * sw - pw + j * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue; /* zero padding */
                                sum += x[at4(C, H, W, n, g * Cg + c, ih, iw)] *
                                       w[at4(Cg, kh, kw, k, c, i, j)];
                            }
                    y[at4(K, OH, OW, n, k, oh, ow)] = sum;
                }
        }
}

void ref_conv_backward_data(int N, int C, int H, int W, int K, int kh, int kw, int sh, int sw,
                            int ph, int pw, int dh, int dw, int group,
                            const double *w, const double *dy, double *dx)
{
    int OH = ref_conv_out_size(H, kh, sh, ph, dh), OW = ref_conv_out_size(W, kw, sw, pw, dw);
    int Cg = C / group, Kg = K / group;
    memset(dx, 0, sizeof(double) * (size_t)N * C * H * W);
    /* Scatter each output's gradient back along exactly the products of the forward. */
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            int g = k / Kg;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double d = dy[at4(K, OH, OW, n, k, oh, ow)];
                    for (int c = 0; c < Cg; c++)
                        for (int i = 0; i < kh; i++)
                            for (int j = 0; j < kw; j++) {
                                int ih = oh * sh - ph + i * dh, iw = ow * sw - pw + j * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                dx[at4(C, H, W, n, g * Cg + c, ih, iw)] +=
                                    d * w[at4(Cg, kh, kw, k, c, i, j)];
                            }
                }
        }
}

void ref_conv_backward_weight(int N, int C, int H, int W, int K, int kh, int kw, int sh,
                              int sw, int ph, int pw, int dh, int dw, int group,
                              const double *x, const double *dy, double *dwt)
{
    int OH = ref_conv_out_size(H, kh, sh, ph, dh), OW = ref_conv_out_size(W, kw, sw, pw, dw);
    int Cg = C / group, Kg = K / group;
    for (int k = 0; k < K; k++) {
        int g = k / Kg;
        for (int c = 0; c < Cg; c++)
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) {
                    double sum = 0.0;
                    for (int n = 0; n < N; n++)
                        for (int oh = 0; oh < OH; oh++)
                            for (int ow = 0; ow < OW; ow++) {
                                int ih = oh * sh - ph + i * dh, iw = ow * sw - pw + j * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                sum += dy[at4(K, OH, OW, n, k, oh, ow)] *
                                       x[at4(C, H, W, n, g * Cg + c, ih, iw)];
                            }
                    dwt[at4(Cg, kh, kw, k, c, i, j)] = sum;
                }
    }
}

void ref_conv_backward_bias(int N, int K, int OHW, const double *dy, double *db)
{
    for (int k = 0; k < K; k++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < OHW; p++)
                sum += dy[((size_t)n * K + k) * OHW + p];
        db[k] = sum;
    }
}

/* -------------------------------------------------------- inner product */

/* Weight element linking input feature kk to output n, for either blob layout. */
static double ip_weight(const double *w, int K, int N, int transpose, int n, int kk)
{
    return transpose ? w[(size_t)kk * N + n] : w[(size_t)n * K + kk];
}

void ref_inner_product_forward(int M, int K, int N, const double *x, const double *w,
                               const double *bias, int transpose, double *y)
{
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) {
            double sum = bias ? bias[n] : 0.0;
            for (int kk = 0; kk < K; kk++)
                sum += x[(size_t)i * K + kk] * ip_weight(w, K, N, transpose, n, kk);
            y[(size_t)i * N + n] = sum;
        }
}

void ref_inner_product_backward(int M, int K, int N, const double *x, const double *w,
                                const double *dy, int transpose,
                                double *dx, double *dwt, double *db)
{
    if (dx)
        for (int i = 0; i < M; i++)
            for (int kk = 0; kk < K; kk++) {
                double sum = 0.0;
                for (int n = 0; n < N; n++)
                    sum += dy[(size_t)i * N + n] * ip_weight(w, K, N, transpose, n, kk);
                dx[(size_t)i * K + kk] = sum;
            }
    if (dwt)
        for (int n = 0; n < N; n++)
            for (int kk = 0; kk < K; kk++) {
                double sum = 0.0;
                for (int i = 0; i < M; i++)
                    sum += dy[(size_t)i * N + n] * x[(size_t)i * K + kk];
                if (transpose)
                    dwt[(size_t)kk * N + n] = sum;
                else
                    dwt[(size_t)n * K + kk] = sum;
            }
    if (db)
        for (int n = 0; n < N; n++) {
            double sum = 0.0;
            for (int i = 0; i < M; i++)
                sum += dy[(size_t)i * N + n];
            db[n] = sum;
        }
}

/* ---------------------------------------------------------------- PReLU */

void ref_prelu_forward(int N, int C, int HW, const double *x, const double *slope,
                       int channel_shared, double *y)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double a = slope[channel_shared ? 0 : c];
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                y[idx] = fmax(x[idx], 0.0) + a * fmin(x[idx], 0.0);
            }
        }
}

void ref_prelu_backward(int N, int C, int HW, const double *x, const double *slope,
                        int channel_shared, const double *dy, double *dx, double *dslope)
{
    if (dslope)
        memset(dslope, 0, sizeof(double) * (size_t)(channel_shared ? 1 : C));
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            int s = channel_shared ? 0 : c;
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                /* prelu_layer.cpp: x > 0 takes slope 1, x <= 0 (zero included) the slope. */
                if (dx)
                    dx[idx] = dy[idx] * (x[idx] > 0 ? 1.0 : slope[s]);
                if (dslope && x[idx] <= 0)
                    dslope[s] += dy[idx] * x[idx];
            }
        }
}

/* ------------------------------------------------------------ BatchNorm */

static double channel_mean(int N, int C, int HW, const double *x, int c)
{
    double sum = 0.0;
    for (int n = 0; n < N; n++)
        for (int p = 0; p < HW; p++)
            sum += x[((size_t)n * C + c) * HW + p];
    return sum / ((double)N * HW);
}

/* Biased variance E((x - mu)^2), as batch_norm_layer.cpp computes it. */
static double channel_var(int N, int C, int HW, const double *x, int c, double mu)
{
    double sum = 0.0;
    for (int n = 0; n < N; n++)
        for (int p = 0; p < HW; p++) {
            double d = x[((size_t)n * C + c) * HW + p] - mu;
            sum += d * d;
        }
    return sum / ((double)N * HW);
}

static void normalize_channel(int N, int C, int HW, const double *x, int c, double mu,
                              double var, double eps, double *y)
{
    double sd = sqrt(var + eps);
    for (int n = 0; n < N; n++)
        for (int p = 0; p < HW; p++) {
            size_t idx = ((size_t)n * C + c) * HW + p;
            y[idx] = (x[idx] - mu) / sd;
        }
}

/* Caffe: a zero scale_factor blob (never trained) gives factor 0, not a division by 0. */
static double bn_stat_factor(double scale_factor)
{
    return scale_factor == 0.0 ? 0.0 : 1.0 / scale_factor;
}

void ref_batchnorm_forward(int N, int C, int HW, const double *x, int use_global_stats,
                           double *mean_blob, double *var_blob, double *scale_factor,
                           double eps, double maf, double *y)
{
    if (use_global_stats) {
        double f = bn_stat_factor(*scale_factor);
        for (int c = 0; c < C; c++)
            normalize_channel(N, C, HW, x, c, mean_blob[c] * f, var_blob[c] * f, eps, y);
        return;
    }
    long m = (long)N * HW;
    double correction = m > 1 ? (double)m / (double)(m - 1) : 1.0; /* unbiased running var */
    *scale_factor = *scale_factor * maf + 1.0;
    for (int c = 0; c < C; c++) {
        double mu = channel_mean(N, C, HW, x, c);
        double var = channel_var(N, C, HW, x, c, mu);
        mean_blob[c] = maf * mean_blob[c] + mu;
        var_blob[c] = maf * var_blob[c] + correction * var;
        normalize_channel(N, C, HW, x, c, mu, var, eps, y); /* biased var normalises */
    }
}

void ref_batchnorm_backward(int N, int C, int HW, const double *x, const double *dy,
                            double eps, double *dx)
{
    double m = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double mu = channel_mean(N, C, HW, x, c);
        double sd = sqrt(channel_var(N, C, HW, x, c, mu) + eps);
        double mean_dy = 0.0, mean_dy_y = 0.0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                mean_dy += dy[idx] / m;
                mean_dy_y += dy[idx] * (x[idx] - mu) / sd / m;
            }
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                double yv = (x[idx] - mu) / sd;
                dx[idx] = (dy[idx] - mean_dy - mean_dy_y * yv) / sd;
            }
    }
}

void ref_batchnorm_backward_global(int N, int C, int HW, const double *var_blob,
                                   double scale_factor, double eps, const double *dy,
                                   double *dx)
{
    double f = bn_stat_factor(scale_factor);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double sd = sqrt(var_blob[c] * f + eps);
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                dx[idx] = dy[idx] / sd;
            }
        }
}

/* ---------------------------------------------------------------- Scale */

void ref_scale_forward(int N, int C, int HW, const double *x, const double *gamma,
                       const double *beta, double *y)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                y[idx] = x[idx] * gamma[c] + (beta ? beta[c] : 0.0);
            }
}

void ref_scale_backward(int N, int C, int HW, const double *x, const double *gamma,
                        const double *dy, double *dx, double *dgamma, double *dbeta)
{
    for (int c = 0; c < C; c++) {
        double sg = 0.0, sb = 0.0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                size_t idx = ((size_t)n * C + c) * HW + p;
                if (dx)
                    dx[idx] = dy[idx] * gamma[c];
                sg += dy[idx] * x[idx];
                sb += dy[idx];
            }
        if (dgamma)
            dgamma[c] = sg;
        if (dbeta)
            dbeta[c] = sb;
    }
}

/* -------------------------------------------------------------- Eltwise */

/* eltwise_layer.cpp MAX: inputs 0 and 1 compare with '>', so 1 wins a tie;
 * every later input must be strictly greater than the running maximum. */
static void eltwise_max_at(int n_inputs, const double *const *inputs, size_t i,
                           double *best, int *which)
{
    *best = inputs[1][i];
    *which = 1;
    if (inputs[0][i] > inputs[1][i]) {
        *best = inputs[0][i];
        *which = 0;
    }
    for (int b = 2; b < n_inputs; b++)
        if (inputs[b][i] > *best) {
            *best = inputs[b][i];
            *which = b;
        }
}

void ref_eltwise_forward(ref_eltwise_op op, int n_inputs, size_t count,
                         const double *const *inputs, const double *coeffs,
                         double *y, int *argmax)
{
    for (size_t i = 0; i < count; i++) {
        double v;
        int which = -1;
        if (op == REF_ELTWISE_MAX) {
            eltwise_max_at(n_inputs, inputs, i, &v, &which);
        } else if (op == REF_ELTWISE_PROD) {
            v = 1.0;
            for (int b = 0; b < n_inputs; b++)
                v *= inputs[b][i];
        } else {
            v = 0.0;
            for (int b = 0; b < n_inputs; b++)
                v += (coeffs ? coeffs[b] : 1.0) * inputs[b][i];
        }
        y[i] = v;
        if (argmax)
            argmax[i] = which;
    }
}

void ref_eltwise_backward(ref_eltwise_op op, int n_inputs, size_t count,
                          const double *const *inputs, const double *coeffs,
                          const int *argmax, const double *dy, double *const *dx)
{
    for (int b = 0; b < n_inputs; b++) {
        if (!dx[b])
            continue;
        for (size_t i = 0; i < count; i++) {
            if (op == REF_ELTWISE_SUM) {
                dx[b][i] = (coeffs ? coeffs[b] : 1.0) * dy[i];
            } else if (op == REF_ELTWISE_MAX) {
                dx[b][i] = argmax[i] == b ? dy[i] : 0.0;
            } else {
                double others = 1.0; /* stable_prod_grad: no division by the input */
                for (int o = 0; o < n_inputs; o++)
                    if (o != b)
                        others *= inputs[o][i];
                dx[b][i] = dy[i] * others;
            }
        }
    }
}

/* -------------------------------------------------------------- Pooling */

/* The pooling geometry after Caffe's global_pooling override. */
typedef struct pool_geom {
    int kh, kw, sh, sw, ph, pw, OH, OW;
} pool_geom;

static pool_geom pool_geometry(int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
                               int global)
{
    pool_geom g;
    if (global) {
        kh = H, kw = W, sh = sw = 1, ph = pw = 0;
    }
    g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw, g.ph = ph, g.pw = pw;
    g.OH = ref_pool_out_size(H, kh, sh, ph);
    g.OW = ref_pool_out_size(W, kw, sw, pw);
    return g;
}

/* One window: [h0, h1) x [w0, w1) clipped to the image, and the AVE divisor,
 * which counts the padding but not what lies past it (pooling_layer.cpp). */
typedef struct pool_window {
    int h0, h1, w0, w1, size;
} pool_window;

static pool_window pool_window_at(const pool_geom *g, int H, int W, int oh, int ow)
{
    pool_window r;
    int hs = oh * g->sh - g->ph, ws = ow * g->sw - g->pw;
    int he = hs + g->kh < H + g->ph ? hs + g->kh : H + g->ph;
    int we = ws + g->kw < W + g->pw ? ws + g->kw : W + g->pw;
    r.size = (he - hs) * (we - ws);
    r.h0 = hs > 0 ? hs : 0;
    r.w0 = ws > 0 ? ws : 0;
    r.h1 = he < H ? he : H;
    r.w1 = we < W ? we : W;
    return r;
}

void ref_pooling_forward(ref_pool_method method, int N, int C, int H, int W, int kh, int kw,
                         int sh, int sw, int ph, int pw, int global,
                         const double *x, double *y, int *argmax)
{
    pool_geom g = pool_geometry(H, W, kh, kw, sh, sw, ph, pw, global);
    for (int nc = 0; nc < N * C; nc++) {
        const double *plane = x + (size_t)nc * H * W;
        for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++) {
                pool_window r = pool_window_at(&g, H, W, oh, ow);
                size_t o = ((size_t)nc * g.OH + oh) * g.OW + ow;
                double best = -FLT_MAX, sum = 0.0; /* Caffe starts MAX at -FLT_MAX */
                int best_at = -1;
                for (int h = r.h0; h < r.h1; h++)
                    for (int w = r.w0; w < r.w1; w++) {
                        double v = plane[h * W + w];
                        sum += v;
                        if (v > best) {
                            best = v;
                            best_at = h * W + w;
                        }
                    }
                y[o] = method == REF_POOL_MAX ? best : sum / r.size;
                if (argmax && method == REF_POOL_MAX)
                    argmax[o] = best_at;
            }
    }
}

void ref_pooling_backward(ref_pool_method method, int N, int C, int H, int W, int kh, int kw,
                          int sh, int sw, int ph, int pw, int global,
                          const int *argmax, const double *dy, double *dx)
{
    pool_geom g = pool_geometry(H, W, kh, kw, sh, sw, ph, pw, global);
    memset(dx, 0, sizeof(double) * (size_t)N * C * H * W);
    for (int nc = 0; nc < N * C; nc++) {
        double *plane = dx + (size_t)nc * H * W;
        for (int oh = 0; oh < g.OH; oh++)
            for (int ow = 0; ow < g.OW; ow++) {
                size_t o = ((size_t)nc * g.OH + oh) * g.OW + ow;
                if (method == REF_POOL_MAX) {
                    if (argmax[o] >= 0)
                        plane[argmax[o]] += dy[o];
                    continue;
                }
                pool_window r = pool_window_at(&g, H, W, oh, ow);
                for (int h = r.h0; h < r.h1; h++)
                    for (int w = r.w0; w < r.w1; w++)
                        plane[h * W + w] += dy[o] / r.size;
            }
    }
}

/* -------------------------------------------------------------- Dropout */

void ref_dropout_forward(size_t count, const double *x, const uint8_t *mask, double ratio,
                         int train, double *y)
{
    double scale = 1.0 / (1.0 - ratio); /* dropout_layer.cpp: scale_ = 1/(1 - ratio) */
    for (size_t i = 0; i < count; i++)
        y[i] = train ? x[i] * (mask[i] ? 1.0 : 0.0) * scale : x[i];
}

void ref_dropout_backward(size_t count, const double *dy, const uint8_t *mask, double ratio,
                          int train, double *dx)
{
    ref_dropout_forward(count, dy, mask, ratio, train, dx); /* the op is linear and diagonal */
}

/* -------------------------------------------------------------- Softmax */

void ref_softmax_forward(int N, int C, int inner, const double *x, double *y)
{
    for (int n = 0; n < N; n++)
        for (int s = 0; s < inner; s++) {
            const double *xs = x + (size_t)n * C * inner + s;
            double *ys = y + (size_t)n * C * inner + s;
            double mx = xs[0], sum = 0.0;
            for (int c = 1; c < C; c++)
                mx = fmax(mx, xs[(size_t)c * inner]);
            for (int c = 0; c < C; c++) {
                ys[(size_t)c * inner] = exp(xs[(size_t)c * inner] - mx);
                sum += ys[(size_t)c * inner];
            }
            for (int c = 0; c < C; c++)
                ys[(size_t)c * inner] /= sum;
        }
}

void ref_softmax_backward(int N, int C, int inner, const double *y, const double *dy,
                          double *dx)
{
    for (int n = 0; n < N; n++)
        for (int s = 0; s < inner; s++) {
            size_t base = (size_t)n * C * inner + s;
            double dot = 0.0;
            for (int c = 0; c < C; c++)
                dot += dy[base + (size_t)c * inner] * y[base + (size_t)c * inner];
            for (int c = 0; c < C; c++) {
                size_t i = base + (size_t)c * inner;
                dx[i] = y[i] * (dy[i] - dot);
            }
        }
}

double ref_loss_normalizer(ref_loss_norm norm, int N, int inner, int valid_count)
{
    double z;
    switch (norm) {
    case REF_NORM_FULL: z = (double)N * inner; break;
    case REF_NORM_VALID: z = valid_count; break;
    case REF_NORM_BATCH_SIZE: z = N; break;
    default: z = 1.0; break;
    }
    return z > 1.0 ? z : 1.0; /* loss_layer.cpp: max(1, normalizer) */
}

static int is_ignored(int label, int has_ignore_label, int ignore_label)
{
    return has_ignore_label && label == ignore_label;
}

static int count_valid(int N, int inner, const int *labels, int has_ignore, int ignore)
{
    int valid = 0;
    for (int i = 0; i < N * inner; i++)
        valid += !is_ignored(labels[i], has_ignore, ignore);
    return valid;
}

double ref_softmax_loss_forward(int N, int C, int inner, const double *x, const int *labels,
                                int has_ignore_label, int ignore_label, ref_loss_norm norm,
                                double *prob)
{
    double loss = 0.0;
    for (int n = 0; n < N; n++)
        for (int s = 0; s < inner; s++) {
            int label = labels[n * inner + s];
            if (is_ignored(label, has_ignore_label, ignore_label))
                continue;
            /* log-sum-exp directly, clamped like Caffe's log(max(p, FLT_MIN)). */
            const double *xs = x + (size_t)n * C * inner + s;
            double mx = xs[0], sum = 0.0;
            for (int c = 1; c < C; c++)
                mx = fmax(mx, xs[(size_t)c * inner]);
            for (int c = 0; c < C; c++)
                sum += exp(xs[(size_t)c * inner] - mx);
            double p = exp(xs[(size_t)label * inner] - mx) / sum;
            loss -= log(p > FLT_MIN ? p : FLT_MIN);
        }
    if (prob)
        ref_softmax_forward(N, C, inner, x, prob);
    int valid = count_valid(N, inner, labels, has_ignore_label, ignore_label);
    return loss / ref_loss_normalizer(norm, N, inner, valid);
}

void ref_softmax_loss_backward(int N, int C, int inner, const double *prob, const int *labels,
                               int has_ignore_label, int ignore_label, ref_loss_norm norm,
                               double loss_weight, double *dx)
{
    int valid = count_valid(N, inner, labels, has_ignore_label, ignore_label);
    double scale = loss_weight / ref_loss_normalizer(norm, N, inner, valid);
    for (int n = 0; n < N; n++)
        for (int s = 0; s < inner; s++) {
            int label = labels[n * inner + s];
            int ignored = is_ignored(label, has_ignore_label, ignore_label);
            for (int c = 0; c < C; c++) {
                size_t i = ((size_t)n * C + c) * inner + s;
                dx[i] = ignored ? 0.0 : (prob[i] - (c == label ? 1.0 : 0.0)) * scale;
            }
        }
}

double ref_accuracy(int N, int C, int inner, const double *x, const int *labels, int top_k,
                    int has_ignore_label, int ignore_label)
{
    int correct = 0, count = 0;
    for (int n = 0; n < N; n++)
        for (int s = 0; s < inner; s++) {
            int label = labels[n * inner + s];
            if (is_ignored(label, has_ignore_label, ignore_label))
                continue;
            const double *xs = x + (size_t)n * C * inner + s;
            int at_least = 0; /* classes scoring >= the true one, the true one included */
            int broken = !isfinite(xs[(size_t)label * inner]); /* NaN scores: wrong */
            for (int c = 0; c < C; c++) {
                broken |= isnan(xs[(size_t)c * inner]);
                at_least += xs[(size_t)c * inner] >= xs[(size_t)label * inner];
            }
            correct += !broken && at_least - 1 < top_k;
            count++;
        }
    return count == 0 ? 0.0 : (double)correct / count;
}

/* ------------------------------------------- A-Softmax (MarginInnerProduct) */

double ref_asoftmax_lambda(double base, double gamma, double power, double lambda_min,
                           int iter)
{
    double lambda = base * pow(1.0 + gamma * iter, -power);
    return lambda > lambda_min ? lambda : lambda_min;
}

void ref_normalize_rows(int N, int K, double *W)
{
    for (int j = 0; j < N; j++) {
        double ss = 0.0;
        for (int k = 0; k < K; k++)
            ss += W[(size_t)j * K + k] * W[(size_t)j * K + k];
        double inv = 1.0 / sqrt(ss);
        for (int k = 0; k < K; k++)
            W[(size_t)j * K + k] *= inv;
    }
}

/* caffe_cpu_sign: -1, 0 or +1 (0 for 0). */
static double sign0(double v)
{
    return (double)((0.0 < v) - (v < 0.0));
}

void ref_asoftmax_signs(double c, double s[5])
{
    s[0] = sign0(c);
    s[1] = sign0(fabs(c) - 0.5);
    s[2] = s[0] * (1.0 + s[1]) - 2.0;
    s[3] = s[0] * sign0(2.0 * c * c - 1.0);
    s[4] = 2.0 * s[0] + s[3] - 3.0;
}

void ref_asoftmax_poly(int m, double c, double *g, double *dg)
{
    double s[5];
    ref_asoftmax_signs(c, s);
    switch (m) {
    case 2: /* psi = cos(2t) folded: 2*s0*c^2 - 1 */
        *g = 2.0 * s[0] * c * c - 1.0;
        *dg = 4.0 * s[0] * c;
        break;
    case 3:
        *g = s[1] * (4.0 * c * c * c - 3.0 * c) + s[2];
        *dg = s[1] * (12.0 * c * c - 3.0);
        break;
    case 4:
        *g = s[3] * (8.0 * c * c * c * c - 8.0 * c * c + 1.0) + s[4];
        *dg = s[3] * (32.0 * c * c * c - 16.0 * c);
        break;
    default: /* m = 1: psi(theta) = cos(theta) */
        *g = c;
        *dg = 1.0;
        break;
    }
}

static double dot(int K, const double *a, const double *b)
{
    double s = 0.0;
    for (int k = 0; k < K; k++)
        s += a[k] * b[k];
    return s;
}

void ref_asoftmax_forward_normalized(int M, int K, int N, int m, double lambda,
                                     const double *x, const double *Wn, const int *labels,
                                     double *f)
{
    for (int i = 0; i < M; i++) {
        const double *xi = x + (size_t)i * K;
        double xnorm = sqrt(dot(K, xi, xi));
        for (int j = 0; j < N; j++)
            f[(size_t)i * N + j] = dot(K, xi, Wn + (size_t)j * K);
        if (m == 1)
            continue; /* SINGLE: plain inner product, lambda unused */
        int y = labels[i];
        double xw = f[(size_t)i * N + y], g, dg;
        ref_asoftmax_poly(m, xw / xnorm, &g, &dg);
        f[(size_t)i * N + y] = (xnorm * g + lambda * xw) / (1.0 + lambda);
    }
}

void ref_asoftmax_forward(int M, int K, int N, int m, double lambda, const double *x,
                          double *W, const int *labels, double *f)
{
    ref_normalize_rows(N, K, W);
    ref_asoftmax_forward_normalized(M, K, N, m, lambda, x, W, labels, f);
}

/* dx_i and (when dWy != NULL) the target-row dW contribution for one row; the
 * target coefficient pair (cw, cx) is scaled to unit length when caffe_mode. */
static void asoftmax_row_backward(int K, int N, int m, double lambda, const double *xi,
                                  const double *Wn, int y, const double *td, int caffe_mode,
                                  double *dxi, double *dWy)
{
    double xnorm = sqrt(dot(K, xi, xi));
    const double *wy = Wn + (size_t)y * K;
    double c = dot(K, xi, wy) / xnorm, g, dg;
    ref_asoftmax_poly(m, c, &g, &dg);
    double cw = dg, cx = (g - c * dg) / xnorm; /* d(|x| g(c))/dx = cw*w_y + cx*x */
    if (caffe_mode) {
        double norm = sqrt(cw * cw + cx * cx);
        cw /= norm, cx /= norm;
    }
    for (int k = 0; k < K; k++) {
        double sum = 0.0;
        for (int j = 0; j < N; j++)
            if (j != y)
                sum += td[j] * Wn[(size_t)j * K + k];
        double target = (cw * wy[k] + cx * xi[k] + lambda * wy[k]) / (1.0 + lambda);
        if (dxi)
            dxi[k] = sum + td[y] * target;
        if (dWy)
            dWy[k] += td[y] * (dg + lambda) / (1.0 + lambda) * xi[k];
    }
}

/* dW = top_diff^T x, optionally skipping each row's target column. */
static void asoftmax_plain_dW(int M, int K, int N, const double *x, const int *labels,
                              const double *top_diff, int skip_target, double *dW)
{
    memset(dW, 0, sizeof(double) * (size_t)N * K);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            if (skip_target && j == labels[i])
                continue;
            for (int k = 0; k < K; k++)
                dW[(size_t)j * K + k] += top_diff[(size_t)i * N + j] * x[(size_t)i * K + k];
        }
}

static void asoftmax_plain_dx(int M, int K, int N, const double *Wn, const double *top_diff,
                              double *dx)
{
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) {
            double sum = 0.0;
            for (int j = 0; j < N; j++)
                sum += top_diff[(size_t)i * N + j] * Wn[(size_t)j * K + k];
            dx[(size_t)i * K + k] = sum;
        }
}

void ref_asoftmax_backward_caffe(int M, int K, int N, int m, double lambda, const double *x,
                                 const double *Wn, const int *labels, const double *top_diff,
                                 double *dx, double *dW)
{
    if (dW) /* the seed ignores the margin and lambda for W */
        asoftmax_plain_dW(M, K, N, x, labels, top_diff, 0, dW);
    if (!dx)
        return;
    if (m == 1) {
        asoftmax_plain_dx(M, K, N, Wn, top_diff, dx);
        return;
    }
    for (int i = 0; i < M; i++)
        asoftmax_row_backward(K, N, m, lambda, x + (size_t)i * K, Wn, labels[i],
                              top_diff + (size_t)i * N, 1, dx + (size_t)i * K, NULL);
}

void ref_asoftmax_backward_exact(int M, int K, int N, int m, double lambda, const double *x,
                                 const double *Wn, const int *labels, const double *top_diff,
                                 double *dx, double *dW)
{
    if (m == 1) { /* f = x W^T: both modes coincide */
        ref_asoftmax_backward_caffe(M, K, N, m, lambda, x, Wn, labels, top_diff, dx, dW);
        return;
    }
    if (dW)
        asoftmax_plain_dW(M, K, N, x, labels, top_diff, 1, dW);
    for (int i = 0; i < M; i++) {
        asoftmax_row_backward(K, N, m, lambda, x + (size_t)i * K, Wn, labels[i],
                              top_diff + (size_t)i * N, 0,
                              dx ? dx + (size_t)i * K : NULL,
                              dW ? dW + (size_t)labels[i] * K : NULL);
    }
}

/* ------------------------------------------------------------------ SGD */

void ref_sgd_update(size_t count, double *w, const double *grad, double *history, double lr,
                    double momentum, double weight_decay, double lr_mult, double decay_mult)
{
    double local_decay = weight_decay * decay_mult, local_rate = lr * lr_mult;
    for (size_t i = 0; i < count; i++) {
        double g = grad[i] + local_decay * w[i];            /* Regularize (L2) */
        history[i] = momentum * history[i] + local_rate * g; /* ComputeUpdateValue */
        w[i] -= history[i];                                  /* Net::Update */
    }
}

/* Caffe's multistep counter: it advances by at most one per call, when the
 * current iteration has reached the next step value; replayed from iteration 0. */
static int multistep_step(const int *stepvalues, int n_stepvalues, int iter)
{
    int step = 0;
    for (int t = 0; t <= iter; t++)
        if (step < n_stepvalues && t >= stepvalues[step])
            step++;
    return step;
}

double ref_lr(const char *policy, double base_lr, double gamma, double power, int stepsize,
              const int *stepvalues, int n_stepvalues, int max_iter, int iter)
{
    if (strcmp(policy, "fixed") == 0)
        return base_lr;
    if (strcmp(policy, "step") == 0)
        return base_lr * pow(gamma, iter / stepsize); /* integer division: floor */
    if (strcmp(policy, "multistep") == 0)
        return base_lr * pow(gamma, multistep_step(stepvalues, n_stepvalues, iter));
    if (strcmp(policy, "exp") == 0)
        return base_lr * pow(gamma, iter);
    if (strcmp(policy, "inv") == 0)
        return base_lr * pow(1.0 + gamma * iter, -power);
    if (strcmp(policy, "poly") == 0)
        return base_lr * pow(1.0 - (double)iter / max_iter, power);
    if (strcmp(policy, "sigmoid") == 0)
        return base_lr * (1.0 / (1.0 + exp(-gamma * ((double)iter - stepsize))));
    return NAN;
}

/* ---------------------------------------------------------------- misc */

double ref_max_abs(const double *a, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(a[i]));
    return mx;
}

double ref_max_abs_diff(const double *a, const double *b, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d > mx || d != d) /* a NaN must not hide */
            mx = d != d ? INFINITY : d;
    }
    return mx;
}

double ref_rel_err(const double *a, const double *ref, size_t n)
{
    double denom = ref_max_abs(ref, n);
    return ref_max_abs_diff(a, ref, n) / (denom > 1e-300 ? denom : 1e-300);
}
