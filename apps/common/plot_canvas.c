/* Pixels, lines, dots and bitmap text on an RGB canvas (plot.h). Pixel
 * (i, j) covers [i, i+1) x [j, j+1), so a coordinate of 10.5 is the centre
 * of pixel 10. Nothing here is antialiased: the figures are charts with
 * thin lines and dots, and exact pixels make the tests simple. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "plot_font.h"

sc_status sc_canvas_create(sc_canvas *cv, int w, int h, uint32_t bg, sc_error *err)
{
    memset(cv, 0, sizeof *cv);
    SC_TRY(sc_image_alloc(&cv->img, w, h, 3, err));
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        cv->img.px[3 * i + 0] = (unsigned char)(bg >> 16);
        cv->img.px[3 * i + 1] = (unsigned char)(bg >> 8);
        cv->img.px[3 * i + 2] = (unsigned char)bg;
    }
    sc_canvas_unclip(cv);
    return SC_OK;
}

void sc_canvas_free(sc_canvas *cv)
{
    sc_image_free(&cv->img);
    memset(cv, 0, sizeof *cv);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void sc_canvas_clip(sc_canvas *cv, int x0, int y0, int x1, int y1)
{
    cv->clip_x0 = clampi(x0, 0, cv->img.w);
    cv->clip_y0 = clampi(y0, 0, cv->img.h);
    cv->clip_x1 = clampi(x1, cv->clip_x0, cv->img.w);
    cv->clip_y1 = clampi(y1, cv->clip_y0, cv->img.h);
}

void sc_canvas_unclip(sc_canvas *cv)
{
    cv->clip_x0 = cv->clip_y0 = 0;
    cv->clip_x1 = cv->img.w;
    cv->clip_y1 = cv->img.h;
}

void sc_canvas_blend(sc_canvas *cv, int x, int y, uint32_t rgb, double alpha)
{
    if (x < cv->clip_x0 || x >= cv->clip_x1 || y < cv->clip_y0 || y >= cv->clip_y1)
        return;
    unsigned char *p = cv->img.px + 3 * ((size_t)y * (size_t)cv->img.w + (size_t)x);
    double a = alpha < 0 ? 0 : alpha > 1 ? 1 : alpha;
    for (int k = 0; k < 3; k++) {
        double c = (double)((rgb >> (16 - 8 * k)) & 0xff);
        p[k] = (unsigned char)lround(p[k] * (1 - a) + c * a);
    }
}

void sc_canvas_fill(sc_canvas *cv, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            sc_canvas_blend(cv, x, y, rgb, 1.0);
}

void sc_canvas_disc(sc_canvas *cv, double cx, double cy, double r, uint32_t rgb, double alpha)
{
    if (!isfinite(cx) || !isfinite(cy))
        return;
    if (r < 0.75) { /* smaller than a pixel: the pixel under the centre */
        sc_canvas_blend(cv, (int)floor(cx), (int)floor(cy), rgb, alpha);
        return;
    }
    int x0 = (int)floor(cx - r), x1 = (int)ceil(cx + r), y0 = (int)floor(cy - r),
        y1 = (int)ceil(cy + r);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            if (dx * dx + dy * dy <= r * r)
                sc_canvas_blend(cv, x, y, rgb, alpha);
        }
}

/* A thick line as discs along it, one per pixel of length: simple, and
 * round at the joints of a polyline. A width of 1.5 or less is one pixel
 * wide (the pixel under each step). */
void sc_canvas_line(sc_canvas *cv, double x0, double y0, double x1, double y1, uint32_t rgb,
                    double width)
{
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return;
    double dx = x1 - x0, dy = y1 - y0;
    double len = fmax(fabs(dx), fabs(dy));
    /* a line far outside the canvas (a wild data value) costs no time */
    if (len > 8.0 * (cv->img.w + cv->img.h))
        return;
    int steps = (int)ceil(len);
    for (int i = 0; i <= steps; i++) {
        double t = steps ? (double)i / steps : 0;
        double x = x0 + t * dx, y = y0 + t * dy;
        if (width <= 1.5)
            sc_canvas_blend(cv, (int)floor(x), (int)floor(y), rgb, 1.0);
        else
            sc_canvas_disc(cv, x, y, width / 2, rgb, 1.0);
    }
}

int sc_text_width(const char *text, int scale)
{
    size_t n = strlen(text);
    return n ? (int)n * SC_FONT_ADVANCE * scale - scale : 0;
}

int sc_text_height(int scale) { return SC_FONT_H * scale; }

/* One font pixel: a scale x scale square at the glyph position (u along the
 * reading direction, v across it, both in canvas pixels from the start). */
static void font_square(sc_canvas *cv, int x, int y, int u, int v, int scale, int vertical,
                        int total, uint32_t rgb)
{
    if (vertical) /* turned anticlockwise: reading goes up, the glyph top faces left */
        sc_canvas_fill(cv, x + v, y + total - u - scale, x + v + scale, y + total - u, rgb);
    else
        sc_canvas_fill(cv, x + u, y + v, x + u + scale, y + v + scale, rgb);
}

void sc_canvas_text(sc_canvas *cv, int x, int y, const char *text, uint32_t rgb, int scale,
                    int vertical)
{
    if (scale < 1)
        scale = 1;
    int total = sc_text_width(text, scale);
    for (size_t i = 0; text[i]; i++)
        for (int row = 0; row < SC_FONT_H + SC_FONT_DESCENT; row++)
            for (int col = 0; col < SC_FONT_W; col++)
                if (sc_font_pixel(text[i], col, row))
                    font_square(cv, x, y, ((int)i * SC_FONT_ADVANCE + col) * scale, row * scale,
                                scale, vertical, total, rgb);
}
