/* A small plotting module: line and scatter charts with axes, ticks, labels
 * and a legend, drawn into an RGB sc_image (written as PNG by image_write.h).
 * Text uses a built-in 5x7 bitmap font, so nothing outside the project
 * (no fonts, no Python) is needed to make a figure.
 *
 * Two layers:
 *  - axis maths (sc_axis_*): "nice" tick steps (1, 2 or 5 times a power of
 *    ten), ranges widened to whole steps, logarithmic axes, the mapping from
 *    data to pixels and the tick labels; pure functions, unit-tested;
 *  - drawing (sc_canvas_*, sc_chart_draw): pixels, lines, dots and text on a
 *    canvas, and a chart (axes, grid, series, legend) inside a rectangle of
 *    it, so several charts make one figure. */
#ifndef SC_PLOT_H
#define SC_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "sc_error.h"

/* ---------------------------------------------------------------- axes */

#define SC_AXIS_MAX_TICKS 32

typedef struct sc_axis {
    double lo, hi;    /* the data range the axis shows (lo < hi; > 0 when log) */
    int log;          /* log10 scale */
    double step;      /* linear: the tick step; log: 1 (a decade) or less */
    double ticks[SC_AXIS_MAX_TICKS];
    int n_ticks;
} sc_axis;

/* The smallest step of the form {1, 2, 5} x 10^k that divides `range` into at
 * most max_ticks intervals (max_ticks >= 1, range > 0). */
double sc_axis_nice_step(double range, int max_ticks);

/* A linear axis over [lo, hi]: a degenerate range (lo == hi) is widened to
 * show the value in the middle; with `expand`, lo and hi move out to whole
 * steps (the usual chart), else they stay and the ticks are the multiples of
 * the step inside them. Non-finite inputs give [0, 1]. */
void sc_axis_linear(sc_axis *ax, double lo, double hi, int max_ticks, int expand);

/* A log10 axis over [lo, hi] (lo > 0; a non-positive lo becomes hi / 10),
 * widened to whole decades; ticks at 10^k, plus 2x and 5x when the range
 * spans fewer than three decades (and every decade's 1 only over many). */
void sc_axis_log(sc_axis *ax, double lo, double hi, int max_ticks);

/* The pixel coordinate of value v on an axis drawn from p0 (at lo) to p1
 * (at hi); p1 < p0 for a y axis that grows upwards. Log axes map log10(v);
 * v <= 0 on a log axis gives NaN (the caller skips it). */
double sc_axis_map(const sc_axis *ax, double v, double p0, double p1);

/* A tick label: as many decimals as the step needs, the same on every tick
 * (0.1 steps: "0.0", "0.3", never "0.30000000000000004"), zero without a minus
 * sign, and %g on log axes and for very large or very small magnitudes
 * ("2e+07", "0.0005"). Returns buf. */
char *sc_axis_format(const sc_axis *ax, double v, char *buf, size_t cap);

/* -------------------------------------------------------------- canvas */

typedef struct sc_canvas {
    sc_image img;             /* RGB */
    int clip_x0, clip_y0;     /* pixels outside [clip_x0, clip_x1) x [clip_y0, clip_y1) */
    int clip_x1, clip_y1;     /* are left alone */
} sc_canvas;

/* A w x h RGB canvas filled with bg (0xRRGGBB), clipped to itself. */
sc_status sc_canvas_create(sc_canvas *cv, int w, int h, uint32_t bg, sc_error *err);
void sc_canvas_free(sc_canvas *cv);
void sc_canvas_clip(sc_canvas *cv, int x0, int y0, int x1, int y1); /* intersected with the image */
void sc_canvas_unclip(sc_canvas *cv);

/* alpha in [0, 1]: 1 paints over, smaller blends with what is there. */
void sc_canvas_blend(sc_canvas *cv, int x, int y, uint32_t rgb, double alpha);
void sc_canvas_fill(sc_canvas *cv, int x0, int y0, int x1, int y1, uint32_t rgb); /* [x0,x1) */
void sc_canvas_line(sc_canvas *cv, double x0, double y0, double x1, double y1, uint32_t rgb,
                    double width);
void sc_canvas_disc(sc_canvas *cv, double cx, double cy, double r, uint32_t rgb, double alpha);

/* Text in the 5x7 font, each font pixel a scale x scale square, left and top
 * at (x, y); `vertical` turns it 90 degrees anticlockwise (reading upwards,
 * for a y axis label; then (x, y) is the top-left of the turned box).
 * Characters outside printable ASCII draw as '?'. */
void sc_canvas_text(sc_canvas *cv, int x, int y, const char *text, uint32_t rgb, int scale,
                    int vertical);
int sc_text_width(const char *text, int scale);  /* pixels along the reading direction */
int sc_text_height(int scale);                   /* one line, across it */

/* -------------------------------------------------------------- charts */

typedef enum sc_series_kind { SC_SERIES_LINE, SC_SERIES_POINTS } sc_series_kind;

typedef struct sc_series {
    const char *label;      /* legend text; NULL keeps it out of the legend */
    const double *x, *y;    /* n points; non-finite ones are skipped (lines break there) */
    size_t n;
    uint32_t rgb;
    sc_series_kind kind;
    double size;            /* line width or dot radius in pixels (0: 2 and 1.5) */
    double alpha;           /* points' opacity (0: 1) */
} sc_series;

typedef struct sc_chart {
    const char *title, *xlabel, *ylabel;  /* each may be NULL */
    const sc_series *series;
    size_t n_series;
    int log_y;              /* log10 y axis */
    int equal_aspect;       /* one data unit is as long on both axes (scatter of angles) */
    int unit_circle;        /* also draw the circle of radius 1 around the origin */
    int fixed_x, fixed_y;   /* use xlim / ylim as given instead of the data's range */
    double xlim[2], ylim[2];
    int legend;             /* draw a legend of the labelled series (top right) */
    int scale;              /* font scale (0: 2) */
} sc_chart;

/* The default colours: ten distinguishable hues (Tableau's), then again. */
uint32_t sc_plot_color(size_t i);

/* Draws the chart into the rectangle [x, x + w) x [y, y + h) of the canvas:
 * title, axes with ticks, grid and labels, the series clipped to the plot
 * area, the legend. A chart without finite points shows its frame and
 * "no data". SC_ERR_ARG when the rectangle is too small for the axes. */
sc_status sc_chart_draw(sc_canvas *cv, int x, int y, int w, int h, const sc_chart *c,
                        sc_error *err);

#endif
