/* Separable resampling: each axis gets a table of taps (input index,
 * weight) per output index, built from the method's formulas; the image is
 * filtered along x into a double buffer, then along y. */
#include "image_resize_matlab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct axis_taps {
    int per;     /* taps reserved per output index */
    int *count;  /* taps used by each output index */
    int *idx;    /* [n_out * per] input indices, 0-based */
    double *wt;  /* [n_out * per] */
} axis_taps;

const char *sc_matlab_resize_name(sc_matlab_resize method)
{
    return method == SC_RESIZE_IMRESIZE ? "imresize" : "imresample";
}

static void taps_free(axis_taps *t)
{
    free(t->count);
    free(t->idx);
    free(t->wt);
}

static int taps_alloc(axis_taps *t, int n_out, int per)
{
    t->per = per;
    t->count = calloc((size_t)n_out, sizeof *t->count);
    t->idx = malloc((size_t)n_out * (size_t)per * sizeof *t->idx);
    t->wt = malloc((size_t)n_out * (size_t)per * sizeof *t->wt);
    return t->count && t->idx && t->wt;
}

static void taps_add(axis_taps *t, int out, int in, double wt)
{
    int k = out * t->per + t->count[out]++;
    t->idx[k] = in;
    t->wt[k] = wt;
}

/* imResample shrinking n_in -> n_out: output b covers input [b/s, (b+1)/s)
 * (s = n_out / n_in); each input pixel weighs s times the part of it that is
 * covered. */
static void imresample_shrink(axis_taps *t, int n_in, int n_out)
{
    const double s = (double)n_out / n_in, s_inv = 1 / s, wt0 = 1e-3 * s;
    for (int b = 0; b < n_out; b++) {
        double a0f = b * s_inv, a1f = a0f + s_inv, sum = 0;
        int a0 = (int)ceil(a0f), a1 = (int)a1f, first = b * t->per;
        for (int a = a0 - 1; a < a1 + 1; a++) {
            double wt = s;
            if (a == a0 - 1)
                wt = (a0 - a0f) * s;
            else if (a == a1)
                wt = (a1f - a1) * s;
            /* a < n_in: the MEX reads zeros there (or past its buffer) with a
             * weight that rounding has already made negligible */
            if (wt > wt0 && a >= 0 && a < n_in) {
                taps_add(t, b, a, wt);
                sum += wt;
            }
        }
        if (sum > 1) /* only rounding pushes the sum over 1; below 1 stays as is */
            for (int k = 0; k < t->count[b]; k++)
                t->wt[first + k] /= sum;
    }
}

/* imResample enlarging (or keeping) n_in -> n_out: plain bilinear, input
 * positions outside [0, n_in - 1] clamped to the border pixel. */
static void imresample_grow(axis_taps *t, int n_in, int n_out)
{
    const double s_inv = (double)n_in / n_out;
    for (int b = 0; b < n_out; b++) {
        double af = (0.5 + b) * s_inv - 0.5;
        int a = (int)floor(af);
        if (a < 0 || a >= n_in - 1) {
            taps_add(t, b, a < 0 ? 0 : n_in - 1, 1.0);
        } else {
            taps_add(t, b, a, 1 - (af - a));
            taps_add(t, b, a + 1, af - a);
        }
    }
}

static int imresample_taps(axis_taps *t, int n_in, int n_out)
{
    int per = n_in > n_out ? (int)ceil((double)n_in / n_out) + 2 : 2;
    if (!taps_alloc(t, n_out, per))
        return 0;
    if (n_in > n_out)
        imresample_shrink(t, n_in, n_out);
    else
        imresample_grow(t, n_in, n_out);
    return 1;
}

/* MATLAB's triangle kernel for 'bilinear'. */
static double triangle(double x)
{
    if (x >= -1 && x < 0)
        return x + 1;
    if (x >= 0 && x <= 1)
        return 1 - x;
    return 0;
}

/* 1-based index j of MATLAB's symmetric padding [1..n, n..1] repeated. */
static int mirror_index(int j, int n)
{
    int period = 2 * n, m = ((j - 1) % period + period) % period;
    return m < n ? m : period - 1 - m; /* 0-based */
}

/* imresize's contributions(): when shrinking (scale < 1) the kernel is
 * scale * triangle(scale * x), 2 / scale wide; weights normalised to 1. */
static int imresize_taps(axis_taps *t, int n_in, int n_out)
{
    const double scale = (double)n_out / n_in;
    const int shrink = scale < 1;
    const double width = shrink ? 2 / scale : 2;
    const int per = (int)ceil(width) + 2;
    double *wts = malloc((size_t)per * sizeof *wts);
    if (!wts || !taps_alloc(t, n_out, per)) {
        free(wts);
        return 0;
    }
    for (int b = 0; b < n_out; b++) {
        double u = (b + 1) / scale + 0.5 * (1 - 1 / scale), sum = 0;
        int left = (int)floor(u - width / 2);
        for (int p = 0; p < per; p++) {
            double d = u - (left + p);
            wts[p] = shrink ? scale * triangle(scale * d) : triangle(d);
            sum += wts[p];
        }
        for (int p = 0; p < per; p++)
            if (wts[p] != 0)
                taps_add(t, b, mirror_index(left + p, n_in), wts[p] / sum);
    }
    free(wts);
    return 1;
}

static int make_taps(axis_taps *t, int n_in, int n_out, sc_matlab_resize method)
{
    return method == SC_RESIZE_IMRESIZE ? imresize_taps(t, n_in, n_out)
                                        : imresample_taps(t, n_in, n_out);
}

/* Filters rows: tmp (h x dw x c) from src (h x w x c). */
static void filter_x(const float *src, int w, int h, int c, const axis_taps *t, int dw,
                     double *tmp)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < dw; x++)
            for (int k = 0; k < c; k++) {
                double acc = 0;
                for (int i = 0; i < t->count[x]; i++) {
                    int j = x * t->per + i;
                    acc += src[((size_t)y * w + t->idx[j]) * c + k] * t->wt[j];
                }
                tmp[((size_t)y * dw + x) * c + k] = acc;
            }
}

/* Filters columns: dst (dh x dw x c) from tmp (h x dw x c), times gain. */
static void filter_y(const double *tmp, int dw, int c, const axis_taps *t, int dh, double gain,
                     float *dst)
{
    const size_t row = (size_t)dw * c;
    for (int y = 0; y < dh; y++)
        for (size_t x = 0; x < row; x++) {
            double acc = 0;
            for (int i = 0; i < t->count[y]; i++) {
                int j = y * t->per + i;
                acc += tmp[(size_t)t->idx[j] * row + x] * t->wt[j];
            }
            dst[(size_t)y * row + x] = (float)(acc * gain);
        }
}

sc_status sc_resize_matlab(const float *src, int w, int h, int c, float *dst, int dw, int dh,
                           sc_matlab_resize method, sc_error *err)
{
    if (w < 1 || h < 1 || c < 1 || dw < 1 || dh < 1)
        return sc_fail(err, SC_ERR_ARG, "cannot resize a %dx%d image (%d channels) to %dx%d", w,
                       h, c, dw, dh);
    if (method == SC_RESIZE_IMRESAMPLE && w == dw && h == dh) {
        memcpy(dst, src, (size_t)w * h * c * sizeof *dst);
        return SC_OK;
    }
    axis_taps tx = {0}, ty = {0};
    double *tmp = malloc((size_t)h * dw * c * sizeof *tmp);
    sc_status st = SC_OK;
    if (!tmp || !make_taps(&tx, w, dw, method) || !make_taps(&ty, h, dh, method)) {
        st = sc_fail(err, SC_ERR_NOMEM, "out of host memory resizing %dx%d to %dx%d", w, h, dw,
                     dh);
    } else {
        /* imResample's MEX divides its gain by 1 + 1e-6 (so that rounding to
         * 8 bits never overshoots 255); kept for the same values */
        double gain = method == SC_RESIZE_IMRESAMPLE ? 1 / (1 + 1e-6) : 1;
        filter_x(src, w, h, c, &tx, dw, tmp);
        filter_y(tmp, dw, c, &ty, dh, gain, dst);
    }
    taps_free(&tx);
    taps_free(&ty);
    free(tmp);
    return st;
}
