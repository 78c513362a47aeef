/* From decoded images to network input (see image_input.h). */
#include "image_input.h"

#include <math.h>
#include <stdlib.h>

sc_status sc_image_check_shape(const sc_image *img, const sc_input_shape *shape, const char *name,
                               sc_error *err)
{
    if (img->c == shape->c && img->h == shape->h && img->w == shape->w && img->px)
        return SC_OK;
    return sc_fail(err, SC_ERR_SHAPE,
                   "%s: image is %dx%d (%d channel%s), the net's input is %dx%d (%d channel%s)",
                   name, img->w, img->h, img->c, img->c == 1 ? "" : "s", shape->w, shape->h,
                   shape->c, shape->c == 1 ? "" : "s");
}

/* ----------------------------------------------------------- resize */

/* Source sample positions and weights along one axis (OpenCV's geometry). */
typedef struct axis_tap {
    int i0, i1;
    double f; /* weight of i1 */
} axis_tap;

static void axis_taps(int src, int dst, axis_tap *taps)
{
    double ratio = (double)src / dst;
    for (int i = 0; i < dst; i++) {
        double s = (i + 0.5) * ratio - 0.5;
        int i0 = (int)floor(s);
        double f = s - i0;
        if (i0 < 0) {
            i0 = 0;
            f = 0;
        }
        if (i0 >= src - 1) {
            i0 = src - 1;
            f = 0;
        }
        taps[i] = (axis_tap){i0, i0 + 1 < src ? i0 + 1 : i0, f};
    }
}

sc_status sc_image_resize_bilinear(const sc_image *src, int w, int h, sc_image *out,
                                   sc_error *err)
{
    *out = (sc_image){0};
    if (!src->px || src->w < 1 || src->h < 1)
        return sc_fail(err, SC_ERR_ARG, "resize: empty source image");
    SC_TRY(sc_image_alloc(out, w, h, src->c, err));
    axis_tap *tx = malloc((size_t)w * sizeof *tx), *ty = malloc((size_t)h * sizeof *ty);
    if (!tx || !ty) {
        free(tx);
        free(ty);
        sc_image_free(out);
        return sc_fail(err, SC_ERR_NOMEM, "resize: out of host memory");
    }
    axis_taps(src->w, w, tx);
    axis_taps(src->h, h, ty);
    int c = src->c;
    for (int y = 0; y < h; y++) {
        const unsigned char *r0 = src->px + (size_t)ty[y].i0 * src->w * c;
        const unsigned char *r1 = src->px + (size_t)ty[y].i1 * src->w * c;
        double fy = ty[y].f;
        for (int x = 0; x < w; x++) {
            double fx = tx[x].f;
            for (int k = 0; k < c; k++) {
                size_t a = (size_t)tx[x].i0 * c + k, b = (size_t)tx[x].i1 * c + k;
                double top = r0[a] + fx * (r0[b] - r0[a]);
                double bottom = r1[a] + fx * (r1[b] - r1[a]);
                double v = top + fy * (bottom - top);
                out->px[((size_t)y * w + x) * c + k] = (unsigned char)lround(v);
            }
        }
    }
    free(tx);
    free(ty);
    return SC_OK;
}

/* ---------------------------------------------------- planar floats */

/* One destination plane: source channel k of the window, mirrored if asked. */
static void plane_to_float(const sc_image *img, int k, int x0, int y0, int cw, int ch, float *dst,
                           float mean, float scale, int mirror)
{
    int c = img->c;
    for (int y = 0; y < ch; y++) {
        const unsigned char *row = img->px + ((size_t)(y0 + y) * img->w + x0) * c + k;
        float *o = dst + (size_t)y * cw;
        for (int x = 0; x < cw; x++) {
            int sx = mirror ? cw - 1 - x : x;
            o[x] = ((float)row[(size_t)sx * c] - mean) * scale;
        }
    }
}

sc_status sc_image_crop_to_input(const sc_image *img, int x0, int y0, const sc_input_shape *shape,
                                 const sc_pixel_norm *norm, int mirror, float *dst,
                                 const char *name, sc_error *err)
{
    if (!img->px || img->c != shape->c || shape->w < 1 || shape->h < 1)
        return sc_image_check_shape(img, shape, name, err);
    if (x0 < 0 || y0 < 0 || x0 > img->w - shape->w || y0 > img->h - shape->h)
        return sc_fail(err, SC_ERR_SHAPE,
                       "%s: a %dx%d window at (%d, %d) does not fit the %dx%d image", name,
                       shape->w, shape->h, x0, y0, img->w, img->h);
    size_t plane = (size_t)shape->w * (size_t)shape->h;
    for (int k = 0; k < img->c; k++) {
        int src_k = (norm->bgr && img->c == 3) ? 2 - k : k;
        plane_to_float(img, src_k, x0, y0, shape->w, shape->h, dst + (size_t)k * plane,
                       norm->mean[k], norm->scale, mirror);
    }
    return SC_OK;
}

sc_status sc_image_to_input(const sc_image *img, const sc_input_shape *shape,
                            const sc_pixel_norm *norm, int mirror, float *dst, const char *name,
                            sc_error *err)
{
    SC_TRY(sc_image_check_shape(img, shape, name, err));
    return sc_image_crop_to_input(img, 0, 0, shape, norm, mirror, dst, name, err);
}
