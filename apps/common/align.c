/* 5-point similarity alignment: template, least-squares fit, bilinear warp. */
#include "align.h"

#include <math.h>
#include <string.h>

/* SphereFace's coord5points (its MATLAB preprocessing), used as they are, as
 * the reference crops do. */
static const sc_point2 k_sphereface[SC_ALIGN_POINTS] = {
    {30.2946, 51.6963}, {65.5318, 51.5014}, {48.0252, 71.7366},
    {33.5493, 92.3655}, {62.7299, 92.2041},
};

sc_status sc_align_template(const char *name, int w, int h, sc_point2 out[SC_ALIGN_POINTS],
                            sc_error *err)
{
    if (!name || strcmp(name, "sphereface") != 0)
        return sc_fail(err, SC_ERR_ARG, "unknown alignment template '%s' (known: sphereface)",
                       name ? name : "");
    if (w < 8 || h < 8)
        return sc_fail(err, SC_ERR_ARG, "crop size %dx%d (WxH) is too small (8x8 at least)", w, h);
    double sx = (double)w / SC_ALIGN_TEMPLATE_W, sy = (double)h / SC_ALIGN_TEMPLATE_H;
    double s = sx < sy ? sx : sy;
    /* The warp reads crop coordinates in the pixel-edge frame, where a
     * plain product scales the whole crop; the spare room on the longer
     * axis goes half to each side. */
    double ox = 0.5 * ((double)w - SC_ALIGN_TEMPLATE_W * s);
    double oy = 0.5 * ((double)h - SC_ALIGN_TEMPLATE_H * s);
    for (int i = 0; i < SC_ALIGN_POINTS; i++) {
        out[i].x = k_sphereface[i].x * s + ox;
        out[i].y = k_sphereface[i].y * s + oy;
    }
    return SC_OK;
}

static sc_status check_finite(const sc_point2 *p, int n, const char *which, sc_error *err)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(p[i].x) || !isfinite(p[i].y))
            return sc_fail(err, SC_ERR_ARG, "%s point %d is not finite (%g, %g)", which, i + 1,
                           p[i].x, p[i].y);
    return SC_OK;
}

static sc_point2 centroid(const sc_point2 *p, int n)
{
    sc_point2 c = {0, 0};
    for (int i = 0; i < n; i++) {
        c.x += p[i].x;
        c.y += p[i].y;
    }
    c.x /= n;
    c.y /= n;
    return c;
}

sc_status sc_align_check_points(const sc_point2 *p, int n, sc_error *err)
{
    if (n < 2)
        return sc_fail(err, SC_ERR_ARG, "a similarity needs 2 points at least, got %d", n);
    SC_TRY(check_finite(p, n, "landmark", err));
    sc_point2 c = centroid(p, n);
    double pp = 0;
    for (int i = 0; i < n; i++)
        pp += (p[i].x - c.x) * (p[i].x - c.x) + (p[i].y - c.y) * (p[i].y - c.y);
    double spread = sqrt(pp / n);
    if (!(spread >= SC_ALIGN_MIN_SPREAD))
        return sc_fail(err, SC_ERR_ARG,
                       "degenerate landmarks: %.3g pixels RMS from their centre (%.3g at least)",
                       spread, SC_ALIGN_MIN_SPREAD);
    return SC_OK;
}

sc_status sc_align_similarity(const sc_point2 *src, const sc_point2 *dst, int n, sc_affine *out,
                              sc_error *err)
{
    SC_TRY(sc_align_check_points(src, n, err));
    SC_TRY(check_finite(dst, n, "target", err));
    /* With both sets centred, the normal equations of the linear parameters
     * (a, b) = s (cos t, sin t) decouple: a = sum(p.q) / sum|p|^2 and
     * b = sum(p x q) / sum|p|^2. Parametrising by (a, b) rather than a 2x2
     * matrix is what rules a reflection out: det = a^2 + b^2 >= 0. */
    sc_point2 cs = centroid(src, n), cd = centroid(dst, n);
    double pp = 0, dot = 0, cross = 0;
    for (int i = 0; i < n; i++) {
        double px = src[i].x - cs.x, py = src[i].y - cs.y;
        double qx = dst[i].x - cd.x, qy = dst[i].y - cd.y;
        pp += px * px + py * py;
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
    }
    double a = dot / pp, b = cross / pp;
    out->m[0] = a;
    out->m[1] = -b;
    out->m[2] = cd.x - (a * cs.x - b * cs.y);
    out->m[3] = b;
    out->m[4] = a;
    out->m[5] = cd.y - (b * cs.x + a * cs.y);
    return SC_OK;
}

sc_status sc_affine_invert(const sc_affine *m, sc_affine *out, sc_error *err)
{
    const double *a = m->m;
    double det = a[0] * a[4] - a[1] * a[3];
    if (!isfinite(det) || det == 0.0)
        return sc_fail(err, SC_ERR_ARG, "the transform is singular (determinant %g)", det);
    double *r = out->m;
    r[0] = a[4] / det;
    r[1] = -a[1] / det;
    r[3] = -a[3] / det;
    r[4] = a[0] / det;
    r[2] = -(r[0] * a[2] + r[1] * a[5]);
    r[5] = -(r[3] * a[2] + r[4] * a[5]);
    for (int i = 0; i < 6; i++)
        if (!isfinite(r[i]))
            return sc_fail(err, SC_ERR_ARG, "the inverse transform is not finite");
    return SC_OK;
}

sc_point2 sc_affine_apply(const sc_affine *m, sc_point2 p)
{
    sc_point2 q = {m->m[0] * p.x + m->m[1] * p.y + m->m[2],
                   m->m[3] * p.x + m->m[4] * p.y + m->m[5]};
    return q;
}

static long clamp_index(long i, int n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Bilinear sample of all channels at (sx, sy) (pixel-centre frame) into px:
 * black outside the image's rectangle, neighbours past an edge replaced by
 * the edge pixel, truncated to whole levels (PIL's bilinear_filter, which
 * made the reference crops). */
static void sample(const sc_image *im, double sx, double sy, unsigned char *px)
{
    if (!(sx >= -0.5 && sy >= -0.5 && sx < im->w - 0.5 && sy < im->h - 0.5)) {
        memset(px, 0, (size_t)im->c);
        return;
    }
    double fx0 = floor(sx), fy0 = floor(sy);
    double fx = sx - fx0, fy = sy - fy0;
    size_t c = (size_t)im->c, stride = (size_t)im->w * c;
    size_t xa = (size_t)clamp_index((long)fx0, im->w) * c;
    size_t xb = (size_t)clamp_index((long)fx0 + 1, im->w) * c;
    const unsigned char *r0 = im->px + (size_t)clamp_index((long)fy0, im->h) * stride;
    const unsigned char *r1 = im->px + (size_t)clamp_index((long)fy0 + 1, im->h) * stride;
    for (size_t k = 0; k < c; k++) {
        double top = r0[xa + k] + (r0[xb + k] - r0[xa + k]) * fx;
        double bot = r1[xa + k] + (r1[xb + k] - r1[xa + k]) * fx;
        double v = top + (bot - top) * fy;
        px[k] = (unsigned char)(v >= 255.0 ? 255 : v <= 0.0 ? 0 : (int)v);
    }
}

sc_status sc_align_warp(const sc_image *src, const sc_affine *src_to_crop, int w, int h,
                        sc_image *out, sc_error *err)
{
    if (!src || !src->px || src->w <= 0 || src->h <= 0 || (src->c != 1 && src->c != 3))
        return sc_fail(err, SC_ERR_ARG, "warp: empty source image or bad channel count");
    sc_affine inv;
    SC_TRY(sc_affine_invert(src_to_crop, &inv, err));
    SC_TRY(sc_image_alloc(out, w, h, src->c, err));
    for (int v = 0; v < h; v++)
        for (int u = 0; u < w; u++) {
            /* Pixel-edge frame on both sides (see align.h). */
            sc_point2 s = sc_affine_apply(&inv, (sc_point2){u + 0.5, v + 0.5});
            unsigned char *px = out->px + ((size_t)v * (size_t)w + (size_t)u) * (size_t)src->c;
            sample(src, s.x - 0.5, s.y - 0.5, px);
        }
    return SC_OK;
}
