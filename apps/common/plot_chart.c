/* Charts (plot.h): layout of title, axes, ticks and labels around a plot
 * area, the series inside it, and a legend. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"
#include "plot_font.h"

#define INK 0x202020u
#define GRID 0xe4e4e4u
#define FRAME 0x404040u
#define CIRCLE 0xb0b0b0u
#define PAPER 0xffffffu

static const double k_pi = 3.14159265358979323846;

uint32_t sc_plot_color(size_t i)
{
    static const uint32_t k_colors[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                          0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    return k_colors[i % 10];
}

/* The plot area and the axes of one chart being drawn. */
typedef struct frame {
    int x0, y0, x1, y1; /* plot area, pixels [x0, x1) x [y0, y1) */
    sc_axis ax, ay;
    int s;              /* font scale */
} frame;

typedef struct range {
    double xlo, xhi, ylo, yhi;
    size_t points;
} range;

static int usable(const sc_chart *c, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!c->log_y || y > 0);
}

static range data_range(const sc_chart *c)
{
    range r = {INFINITY, -INFINITY, INFINITY, -INFINITY, 0};
    for (size_t k = 0; k < c->n_series; k++) {
        const sc_series *s = &c->series[k];
        for (size_t i = 0; i < s->n; i++) {
            if (!usable(c, s->x[i], s->y[i]))
                continue;
            r.xlo = fmin(r.xlo, s->x[i]), r.xhi = fmax(r.xhi, s->x[i]);
            r.ylo = fmin(r.ylo, s->y[i]), r.yhi = fmax(r.yhi, s->y[i]);
            r.points++;
        }
    }
    if (c->unit_circle)
        r.xlo = fmin(r.xlo, -1), r.xhi = fmax(r.xhi, 1), r.ylo = fmin(r.ylo, -1),
        r.yhi = fmax(r.yhi, 1);
    if (c->fixed_x)
        r.xlo = c->xlim[0], r.xhi = c->xlim[1];
    if (c->fixed_y)
        r.ylo = c->ylim[0], r.yhi = c->ylim[1];
    return r;
}

/* Same data units per pixel on both axes: the shorter side's range grows
 * about its centre. A 4% margin keeps the outermost dots off the frame. */
static void equalise(range *r, int w, int h)
{
    double cx = (r->xlo + r->xhi) / 2, cy = (r->ylo + r->yhi) / 2;
    double u = fmax((r->xhi - r->xlo) / w, (r->yhi - r->ylo) / h) * 1.08;
    if (!(u > 0))
        u = 2.0 / fmin(w, h);
    r->xlo = cx - u * w / 2, r->xhi = cx + u * w / 2;
    r->ylo = cy - u * h / 2, r->yhi = cy + u * h / 2;
}

static int max_label_width(const sc_axis *a, int s)
{
    int w = 0;
    char buf[64];
    for (int i = 0; i < a->n_ticks; i++) {
        int tw = sc_text_width(sc_axis_format(a, a->ticks[i], buf, sizeof buf), s);
        w = tw > w ? tw : w;
    }
    return w;
}

static int clamp_ticks(int n) { return n < 2 ? 2 : n > 10 ? 10 : n; }

static void fit_axes(const sc_chart *c, frame *f, range r)
{
    int w = f->x1 - f->x0, h = f->y1 - f->y0, s = f->s;
    if (c->equal_aspect)
        equalise(&r, w, h);
    int expand = !c->equal_aspect;
    sc_axis_linear(&f->ax, r.xlo, r.xhi, clamp_ticks(w / (36 * s)), expand && !c->fixed_x);
    if (c->log_y)
        sc_axis_log(&f->ay, r.ylo, r.yhi, clamp_ticks(h / (14 * s)));
    else
        sc_axis_linear(&f->ay, r.ylo, r.yhi, clamp_ticks(h / (18 * s)), expand && !c->fixed_y);
}

/* Margins from the text they must hold; the y tick labels need the y axis,
 * which needs the plot height: fit once with a guess, then again. */
static int layout(const sc_chart *c, int x, int y, int w, int h, frame *f)
{
    int s = f->s, th = sc_text_height(s), tick = 3 * s;
    int top = th / 2 + 3 * s + (c->title ? SC_FONT_LINE * s + 2 * s : 0);
    int bottom = tick + 3 * s + th + (c->xlabel ? 3 * s + th : 0) + 3 * s;
    int left_fixed = tick + 3 * s + (c->ylabel ? th + 5 * s : 0) + 2 * s;
    int right = 4 * SC_FONT_ADVANCE * s;
    range r = data_range(c);
    f->x0 = x + left_fixed + 5 * SC_FONT_ADVANCE * s;
    f->y0 = y + top, f->x1 = x + w - right, f->y1 = y + h - bottom;
    for (int pass = 0; pass < 2; pass++) {
        if (f->x1 - f->x0 < 40 || f->y1 - f->y0 < 40)
            return 0;
        fit_axes(c, f, r);
        f->x0 = x + left_fixed + max_label_width(&f->ay, s);
    }
    return f->x1 - f->x0 >= 40;
}

static double px(const frame *f, double v) { return sc_axis_map(&f->ax, v, f->x0, f->x1); }
static double py(const frame *f, double v) { return sc_axis_map(&f->ay, v, f->y1, f->y0); }

static void draw_grid(sc_canvas *cv, const frame *f)
{
    sc_canvas_fill(cv, f->x0, f->y0, f->x1, f->y1, PAPER);
    for (int i = 0; i < f->ax.n_ticks; i++) {
        double gx = floor(px(f, f->ax.ticks[i]));
        sc_canvas_line(cv, gx, f->y0, gx, f->y1 - 1, GRID, 1);
    }
    for (int i = 0; i < f->ay.n_ticks; i++) {
        double gy = floor(py(f, f->ay.ticks[i]));
        sc_canvas_line(cv, f->x0, gy, f->x1 - 1, gy, GRID, 1);
    }
}

static void draw_frame_box(sc_canvas *cv, const frame *f)
{
    sc_canvas_line(cv, f->x0, f->y0, f->x1 - 1, f->y0, FRAME, 1);
    sc_canvas_line(cv, f->x0, f->y1 - 1, f->x1 - 1, f->y1 - 1, FRAME, 1);
    sc_canvas_line(cv, f->x0, f->y0, f->x0, f->y1 - 1, FRAME, 1);
    sc_canvas_line(cv, f->x1 - 1, f->y0, f->x1 - 1, f->y1 - 1, FRAME, 1);
}

static void draw_ticks(sc_canvas *cv, const frame *f)
{
    int s = f->s, tick = 3 * s, th = sc_text_height(s);
    char buf[64];
    for (int i = 0; i < f->ax.n_ticks; i++) {
        int gx = (int)floor(px(f, f->ax.ticks[i]));
        sc_canvas_fill(cv, gx - s / 2, f->y1, gx - s / 2 + s, f->y1 + tick, FRAME);
        sc_axis_format(&f->ax, f->ax.ticks[i], buf, sizeof buf);
        sc_canvas_text(cv, gx - sc_text_width(buf, s) / 2, f->y1 + tick + 3 * s, buf, INK, s, 0);
    }
    for (int i = 0; i < f->ay.n_ticks; i++) {
        int gy = (int)floor(py(f, f->ay.ticks[i]));
        sc_canvas_fill(cv, f->x0 - tick, gy - s / 2, f->x0, gy - s / 2 + s, FRAME);
        sc_axis_format(&f->ay, f->ay.ticks[i], buf, sizeof buf);
        sc_canvas_text(cv, f->x0 - tick - 3 * s - sc_text_width(buf, s), gy - th / 2, buf, INK,
                       s, 0);
    }
}

static void draw_labels(sc_canvas *cv, const frame *f, const sc_chart *c, int x, int y)
{
    int s = f->s, th = sc_text_height(s), cx = (f->x0 + f->x1) / 2;
    if (c->title)
        sc_canvas_text(cv, cx - sc_text_width(c->title, s) / 2, y + 3 * s, c->title, INK, s, 0);
    if (c->xlabel)
        sc_canvas_text(cv, cx - sc_text_width(c->xlabel, s) / 2,
                       f->y1 + 3 * s + 3 * s + th + 3 * s, c->xlabel, INK, s, 0);
    if (c->ylabel)
        sc_canvas_text(cv, x + 2 * s, (f->y0 + f->y1) / 2 - sc_text_width(c->ylabel, s) / 2,
                       c->ylabel, INK, s, 1);
}

static void draw_unit_circle(sc_canvas *cv, const frame *f)
{
    const int n = 720;
    for (int i = 0; i < n; i++) {
        double a0 = 2 * k_pi * i / n, a1 = 2 * k_pi * (i + 1) / n;
        sc_canvas_line(cv, px(f, cos(a0)), py(f, sin(a0)), px(f, cos(a1)), py(f, sin(a1)),
                       CIRCLE, 1);
    }
}

/* A line breaks at non-finite points instead of jumping over them. */
static void draw_series(sc_canvas *cv, const frame *f, const sc_chart *c, const sc_series *s)
{
    double size = s->size > 0 ? s->size : s->kind == SC_SERIES_LINE ? 2 : 1.5;
    double alpha = s->alpha > 0 ? s->alpha : 1;
    int have_prev = 0;
    double prev_x = 0, prev_y = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!usable(c, s->x[i], s->y[i])) {
            have_prev = 0;
            continue;
        }
        double X = px(f, s->x[i]), Y = py(f, s->y[i]);
        if (s->kind == SC_SERIES_POINTS)
            sc_canvas_disc(cv, X, Y, size, s->rgb, alpha);
        else if (have_prev)
            sc_canvas_line(cv, prev_x, prev_y, X, Y, s->rgb, size);
        else
            sc_canvas_disc(cv, X, Y, size / 2, s->rgb, 1);
        prev_x = X, prev_y = Y, have_prev = 1;
    }
}

/* In the legend: labelled series with something to show in this chart (a
 * softmax run has no lambda to list on the lambda chart). */
static int listed(const sc_chart *c, const sc_series *s)
{
    if (!s->label)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (usable(c, s->x[i], s->y[i]))
            return 1;
    return 0;
}

static void draw_legend(sc_canvas *cv, const frame *f, const sc_chart *c)
{
    int s = f->s, row = SC_FONT_LINE * s + 2 * s, swatch = 5 * SC_FONT_ADVANCE * s / 2;
    int n = 0, w = 0;
    for (size_t k = 0; k < c->n_series; k++)
        if (listed(c, &c->series[k])) {
            int tw = sc_text_width(c->series[k].label, s);
            w = tw > w ? tw : w;
            n++;
        }
    if (n == 0)
        return;
    int bw = 3 * s + swatch + 3 * s + w + 3 * s, bh = n * row + 3 * s;
    int bx = f->x1 - bw - 4 * s, by = f->y0 + 4 * s;
    for (int yy = by; yy < by + bh; yy++)
        for (int xx = bx; xx < bx + bw; xx++)
            sc_canvas_blend(cv, xx, yy, PAPER, 0.85);
    int i = 0;
    for (size_t k = 0; k < c->n_series; k++) {
        const sc_series *se = &c->series[k];
        if (!listed(c, se))
            continue;
        int ly = by + 3 * s + i++ * row, mid = ly + sc_text_height(s) / 2;
        if (se->kind == SC_SERIES_LINE)
            sc_canvas_line(cv, bx + 3 * s, mid, bx + 3 * s + swatch, mid, se->rgb, 2 * s);
        else
            sc_canvas_disc(cv, bx + 3 * s + swatch / 2.0, mid + 0.5, 2.5 * s, se->rgb, 1);
        sc_canvas_text(cv, bx + 6 * s + swatch, ly, se->label, INK, s, 0);
    }
}

static void draw_no_data(sc_canvas *cv, const frame *f)
{
    const char *msg = "no data";
    int s = f->s;
    sc_canvas_text(cv, (f->x0 + f->x1 - sc_text_width(msg, s)) / 2,
                   (f->y0 + f->y1 - sc_text_height(s)) / 2, msg, 0x999999u, s, 0);
}

sc_status sc_chart_draw(sc_canvas *cv, int x, int y, int w, int h, const sc_chart *c,
                        sc_error *err)
{
    frame f = {.s = c->scale > 0 ? c->scale : 2};
    if (!layout(c, x, y, w, h, &f))
        return sc_fail(err, SC_ERR_ARG, "a %dx%d chart is too small for its axes and labels",
                       w, h);
    draw_grid(cv, &f);
    draw_ticks(cv, &f);
    draw_labels(cv, &f, c, x, y);
    sc_canvas_clip(cv, f.x0, f.y0, f.x1, f.y1);
    if (c->unit_circle)
        draw_unit_circle(cv, &f);
    for (size_t k = 0; k < c->n_series; k++)
        draw_series(cv, &f, c, &c->series[k]);
    if (data_range(c).points == 0)
        draw_no_data(cv, &f);
    if (c->legend)
        draw_legend(cv, &f, c);
    sc_canvas_unclip(cv);
    draw_frame_box(cv, &f);
    return SC_OK;
}
