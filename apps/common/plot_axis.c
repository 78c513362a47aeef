/* Axis maths of plot.h: tick steps, ranges, data-to-pixel mapping, labels. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

/* Relative slack for comparisons of values that are multiples of a step:
 * 0.3 / 0.1 is 2.9999999999999996 in doubles, and must count as 3. */
#define STEP_EPS 1e-9

double sc_axis_nice_step(double range, int max_ticks)
{
    if (!(range > 0) || !isfinite(range) || max_ticks < 1)
        return 1.0;
    double raw = range / max_ticks;
    double p = pow(10.0, floor(log10(raw)));
    static const double k_mult[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof k_mult / sizeof k_mult[0]; i++)
        if (k_mult[i] * p >= raw * (1 - STEP_EPS))
            return k_mult[i] * p;
    return 10 * p;
}

static int clamp_ticks(int max_ticks)
{
    /* an expanded range may gain a step at each end: room for both */
    int hi = SC_AXIS_MAX_TICKS - 4;
    return max_ticks < 1 ? 1 : max_ticks > hi ? hi : max_ticks;
}

void sc_axis_linear(sc_axis *ax, double lo, double hi, int max_ticks, int expand)
{
    memset(ax, 0, sizeof *ax);
    if (!isfinite(lo) || !isfinite(hi))
        lo = 0, hi = 1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) { /* one value: show it centred */
        double d = lo == 0 ? 1 : 0.1 * fabs(lo);
        lo -= d;
        hi += d;
    }
    double step = sc_axis_nice_step(hi - lo, clamp_ticks(max_ticks));
    if (expand) {
        lo = floor(lo / step + STEP_EPS) * step;
        hi = ceil(hi / step - STEP_EPS) * step;
    }
    ax->lo = lo;
    ax->hi = hi;
    ax->step = step;
    double first = ceil(lo / step - STEP_EPS), last = floor(hi / step + STEP_EPS);
    for (double k = first; k <= last && ax->n_ticks < SC_AXIS_MAX_TICKS; k++) {
        double v = k * step;
        ax->ticks[ax->n_ticks++] = fabs(v) < step * STEP_EPS ? 0.0 : v;
    }
}

static void add_tick(sc_axis *ax, double v)
{
    if (ax->n_ticks < SC_AXIS_MAX_TICKS)
        ax->ticks[ax->n_ticks++] = v;
}

void sc_axis_log(sc_axis *ax, double lo, double hi, int max_ticks)
{
    memset(ax, 0, sizeof *ax);
    if (!(hi > 0) || !isfinite(hi) || !isfinite(lo))
        lo = 1, hi = 10;
    if (!(lo > 0))
        lo = hi / 10;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    int d0 = (int)floor(log10(lo) + STEP_EPS), d1 = (int)ceil(log10(hi) - STEP_EPS);
    if (d1 <= d0)
        d1 = d0 + 1;
    int decades = d1 - d0, max = clamp_ticks(max_ticks);
    int every = (decades + max - 1) / max;
    ax->log = 1;
    ax->lo = pow(10.0, d0);
    ax->hi = pow(10.0, d1);
    ax->step = every;
    /* few decades: 1, 2, 5 in each, so a short range still has labels */
    for (int d = d0; d <= d1; d++) {
        if ((d - d0) % every == 0)
            add_tick(ax, pow(10.0, d));
        if (decades < 3 && d < d1) {
            add_tick(ax, 2 * pow(10.0, d));
            add_tick(ax, 5 * pow(10.0, d));
        }
    }
}

double sc_axis_map(const sc_axis *ax, double v, double p0, double p1)
{
    double a = ax->lo, b = ax->hi;
    if (ax->log) {
        if (!(v > 0))
            return NAN;
        v = log10(v);
        a = log10(a);
        b = log10(b);
    }
    return p0 + (v - a) / (b - a) * (p1 - p0);
}

/* "-0", "-0.0", "-0.00": a rounded negative zero, shown without its sign. */
static void drop_negative_zero(char *s)
{
    if (s[0] != '-')
        return;
    for (const char *p = s + 1; *p; p++)
        if (*p != '0' && *p != '.')
            return;
    memmove(s, s + 1, strlen(s));
}

char *sc_axis_format(const sc_axis *ax, double v, char *buf, size_t cap)
{
    double mag = fmax(fabs(ax->lo), fabs(ax->hi));
    if (ax->log || mag >= 1e6 || (ax->step > 0 && ax->step < 1e-4)) {
        snprintf(buf, cap, "%g", v);
    } else {
        if (ax->step > 0 && fabs(v) < ax->step * STEP_EPS)
            v = 0;
        int dec = ax->step >= 1 || !(ax->step > 0) ? 0 : (int)-floor(log10(ax->step) + STEP_EPS);
        snprintf(buf, cap, "%.*f", dec, v);
    }
    drop_negative_zero(buf);
    return buf;
}
