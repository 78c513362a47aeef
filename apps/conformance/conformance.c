/* Report rows, comparisons and device helpers shared by every suite. */
#include "conformance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sc_conf_report_free(sc_conf_report *rep)
{
    free(rep->rows);
    rep->rows = NULL;
    rep->n = rep->cap = 0;
}

size_t sc_conf_failures(const sc_conf_report *rep)
{
    size_t f = 0;
    for (size_t i = 0; i < rep->n; i++)
        f += !rep->rows[i].pass;
    return f;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    strncpy(dst, src ? src : "", cap - 1);
    dst[cap - 1] = '\0';
}

/* Appends a zeroed row labelled op / shape / direction; NULL when out of memory. */
static sc_conf_row *new_row(sc_conf_report *rep, const char *op, const char *shape,
                            const char *direction)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 64;
        sc_conf_row *r = realloc(rep->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        rep->rows = r;
        rep->cap = cap;
    }
    sc_conf_row *row = &rep->rows[rep->n++];
    memset(row, 0, sizeof *row);
    copy_str(row->op, sizeof row->op, op);
    copy_str(row->shape, sizeof row->shape, shape);
    copy_str(row->direction, sizeof row->direction, direction);
    return row;
}

sc_status sc_conf_compare(sc_conf_report *rep, const char *op, const char *shape,
                          const char *direction, const float *got, const double *ref, size_t n,
                          double tol, double gflops)
{
    sc_conf_row *row = new_row(rep, op, shape, direction);
    if (!row)
        return SC_ERR_NOMEM;
    double max_abs = 0, max_ref = 0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]))
            finite = 0;
        double d = fabs((double)got[i] - ref[i]);
        if (d > max_abs)
            max_abs = d;
        if (fabs(ref[i]) > max_ref)
            max_ref = fabs(ref[i]);
    }
    row->max_abs = finite ? max_abs : INFINITY;
    row->max_rel = finite ? max_abs / (max_ref > 1e-30 ? max_ref : 1e-30) : INFINITY;
    row->tol = tol;
    row->pass = finite && row->max_rel <= tol;
    row->gflops = gflops;
    return SC_OK;
}

sc_status sc_conf_add_check(sc_conf_report *rep, const char *op, const char *shape,
                            const char *direction, int pass)
{
    sc_conf_row *row = new_row(rep, op, shape, direction);
    if (!row)
        return SC_ERR_NOMEM;
    row->pass = pass != 0;
    row->max_abs = row->max_rel = row->tol = 0;
    row->gflops = -1;
    return SC_OK;
}

sc_status sc_conf_add_measure(sc_conf_report *rep, const char *op, const char *shape,
                              const char *direction, double max_abs, double max_rel, double tol)
{
    sc_conf_row *row = new_row(rep, op, shape, direction);
    if (!row)
        return SC_ERR_NOMEM;
    row->max_abs = isfinite(max_abs) ? max_abs : INFINITY;
    row->max_rel = isfinite(max_rel) ? max_rel : INFINITY;
    row->tol = tol;
    row->pass = isfinite(max_rel) && max_rel <= tol;
    row->gflops = -1;
    return SC_OK;
}

sc_status sc_conf_upload(sc_ctx *ctx, const float *host, size_t n, cl_mem *out)
{
    SC_TRY(sc_buffer_alloc(ctx, n * sizeof(float), out));
    sc_status st = host ? sc_buffer_write(ctx, *out, 0, n * sizeof(float), host)
                        : sc_buffer_fill(ctx, *out, 0.0f, 0, n);
    if (st != SC_OK) {
        sc_buffer_release(ctx, *out);
        *out = NULL;
    }
    return st;
}

sc_status sc_conf_download(sc_ctx *ctx, cl_mem mem, size_t n, float *host)
{
    return sc_buffer_read(ctx, mem, 0, n * sizeof(float), host);
}

sc_status sc_conf_run(sc_plan *plan)
{
    SC_TRY(sc_plan_run(plan));
    return sc_ctx_finish(sc_plan_ctx(plan));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

sc_status sc_conf_time(sc_plan *plan, int reps, double *ms)
{
    SC_TRY(sc_conf_run(plan));
    double t0 = now_ms();
    for (int i = 0; i < reps; i++)
        SC_TRY(sc_plan_run(plan));
    SC_TRY(sc_ctx_finish(sc_plan_ctx(plan)));
    *ms = (now_ms() - t0) / (reps > 0 ? reps : 1);
    return SC_OK;
}

void sc_conf_rng_seed(sc_conf_rng *r, uint64_t seed)
{
    r->state = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
}

double sc_conf_uniform(sc_conf_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(sc_splitmix64(&r->state) >> 11) / 9007199254740992.0);
}

double sc_conf_normal(sc_conf_rng *r)
{
    double u1 = sc_conf_uniform(r, 1e-12, 1.0), u2 = sc_conf_uniform(r, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sc_conf_fill(sc_conf_rng *r, float *x, double *xd, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)sc_conf_uniform(r, lo, hi);
        if (xd)
            xd[i] = (double)x[i];
    }
}
