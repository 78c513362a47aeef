/* Conformance suites of Pooling, Softmax, SoftmaxWithLoss, Accuracy and the
 * SGD update: device results against the double-precision reference of
 * tests/common/ref_ops.h, backward passes against central finite differences
 * of that reference (tests/common/ref_grad.h). */
#include "suite_pool_loss.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtext.h"
#include "ref_grad.h"
#include "ref_ops.h"

/* ------------------------------------------------------------ tolerances */

/* MAX pooling copies a value; AVE sums at most 42 float terms (global 7x6) and
 * divides: a few ulp, well under 1e-5 of max|y|. */
#define POOL_FWD_TOL 1e-5
/* Pooling is piecewise linear, so central differences in double are exact up
 * to ~1e-12; the device gathers at most 9 float terms per pixel. */
#define POOL_BWD_TOL 1e-5
/* MAX inputs are distinct multiples of POOL_SPACING; the step is 10x smaller,
 * so no perturbation changes which input wins a window. */
#define POOL_SPACING 0.01
#define POOL_FD_H 1e-3

/* exp within 3 ulp, the normaliser a float sum of up to 1001 terms (relative
 * error ~sqrt(C) eps, worst C eps = 1.2e-4 of a sum; the tree sum keeps the
 * typical case near 1e-6 of max|y|). */
#define SOFTMAX_FWD_TOL 1e-5
/* dx = y*(dy - dot): float rounding of the dot over C terms (~1e-6 of max|dx|)
 * against double central differences with h = 1e-4 (truncation ~h^2 = 1e-8). */
#define SOFTMAX_BWD_TOL 1e-4
#define SOFTMAX_FD_H 1e-4

/* The loss is a float sum of at most 64 terms of -log(prob): ~1e-6 relative. */
#define LOSS_FWD_TOL 1e-5
/* prob - onehot in float, scaled once; FD in double with h = 1e-4. */
#define LOSS_BWD_TOL 1e-4
#define LOSS_FD_H 1e-4

/* Accuracy is a ratio of exact integer counts: one float division. */
#define ACCURACY_TOL 1e-6

/* A few float operations per element per step over three steps, against
 * double: ~1e-7 of max|w| or max|history|. */
#define SGD_TOL 1e-5

/* The golden README: float32 evaluations stay within 1e-5 * max|ref| per array. */
#define GOLDEN_TOL 1e-5

/* Finite differences on every input of a small case, on this many picked
 * inputs of a larger one (each is two reference forwards). */
#define FD_POINTS 256

/* ----------------------------------------------------------------- helpers */

static sc_status no_memory(sc_ctx *ctx)
{
    return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "conformance: out of host memory");
}

/* Host allocations of one case, freed together. */
#define HOST_MAX 40
typedef struct host_mem {
    void *p[HOST_MAX];
    int n;
    int failed;
} host_mem;

static void *hm_alloc(host_mem *h, size_t bytes)
{
    void *p = h->n < HOST_MAX ? calloc(1, bytes ? bytes : 1) : NULL;
    if (!p) {
        h->failed = 1;
        return NULL;
    }
    h->p[h->n++] = p;
    return p;
}

static float *hm_floats(host_mem *h, size_t n)
{
    return hm_alloc(h, n * sizeof(float));
}

static double *hm_doubles(host_mem *h, size_t n)
{
    return hm_alloc(h, n * sizeof(double));
}

static void hm_free(host_mem *h)
{
    for (int i = 0; i < h->n; i++)
        free(h->p[i]);
    h->n = 0;
}

/* Device buffers of one case, released together. */
#define DEV_MAX 16
typedef struct dev_mem {
    sc_ctx *ctx;
    cl_mem m[DEV_MAX];
    int n;
} dev_mem;

/* A buffer of n floats holding host (NULL: zeros). */
static sc_status dm_upload(dev_mem *d, const float *host, size_t n, cl_mem *out)
{
    if (d->n == DEV_MAX)
        return sc_fail(sc_ctx_error(d->ctx), SC_ERR_ARG, "conformance: too many buffers");
    SC_TRY(sc_conf_upload(d->ctx, host, n, out));
    d->m[d->n++] = *out;
    return SC_OK;
}

static void dm_release(dev_mem *d)
{
    for (int i = 0; i < d->n; i++)
        sc_buffer_release(d->ctx, d->m[i]);
    d->n = 0;
}

#define TRY_GOTO(expr)        \
    do {                      \
        st = (expr);          \
        if (st != SC_OK)      \
            goto done;        \
    } while (0)

static void copy_to_double(const float *x, double *xd, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xd[i] = (double)x[i];
}

/* Central differences of L = sum top_diff * f(in) at every input of a small
 * case, or at FD_POINTS picked inputs of a larger one. */
typedef struct fd_result {
    size_t *idx;
    double *grad;
    size_t n;
} fd_result;

static sc_status fd_gradient(sc_ctx *ctx, host_mem *hm, ref_fd_fn fn, void *fctx, double *in,
                             size_t n_in, size_t n_out, const double *top_diff, double h,
                             uint64_t seed, fd_result *r)
{
    r->idx = hm_alloc(hm, n_in * sizeof(size_t));
    r->grad = hm_doubles(hm, n_in);
    if (!r->idx || !r->grad)
        return no_memory(ctx);
    r->n = ref_pick_indices(n_in, FD_POINTS, seed, r->idx);
    if (ref_fd_grad(fn, fctx, in, n_in, n_out, top_diff, h, r->idx, r->n, r->grad) != 0)
        return no_memory(ctx);
    return SC_OK;
}

/* A row for got[idx[k]] against base[idx[k]] + fd[k] (base NULL: 0): the
 * beta_dx = 1 check passes a non-zero base, the starting dx. */
static sc_status compare_fd(sc_ctx *ctx, sc_conf_report *rep, const char *op, const char *shape,
                            const char *direction, const float *got, const float *base,
                            const fd_result *fd, double tol)
{
    float *g = malloc((fd->n ? fd->n : 1) * sizeof *g);
    double *r = malloc((fd->n ? fd->n : 1) * sizeof *r);
    sc_status st = SC_OK;
    if (!g || !r) {
        st = no_memory(ctx);
    } else {
        for (size_t k = 0; k < fd->n; k++) {
            g[k] = got[fd->idx[k]];
            r[k] = fd->grad[k] + (base ? (double)base[fd->idx[k]] : 0.0);
        }
        st = sc_conf_compare(rep, op, shape, direction, g, r, fd->n, tol, -1);
    }
    free(g);
    free(r);
    return st;
}

/* One value against its reference. */
static sc_status compare_scalar(sc_conf_report *rep, const char *op, const char *shape,
                                const char *direction, float got, double ref, double tol)
{
    return sc_conf_compare(rep, op, shape, direction, &got, &ref, 1, tol, -1);
}

/* A row for an argument error: passes when the call failed and the context's
 * message names every non-NULL needle (the layer, the op, the shapes). */
static sc_status expect_error(sc_conf_report *rep, sc_ctx *ctx, const char *op,
                              const char *shape, const char *what, sc_status got,
                              const char *n1, const char *n2, const char *n3)
{
    const char *msg = sc_ctx_message(ctx);
    int pass = got != SC_OK;
    const char *needles[] = {n1, n2, n3, op};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (needles[i] && !strstr(msg, needles[i]))
            pass = 0;
    char dir[32];
    snprintf(dir, sizeof dir, "error: %s", what);
    return sc_conf_add_check(rep, op, shape, dir, pass);
}

/* ----------------------------------------------------------------- Pooling */

typedef struct pool_case {
    ref_pool_method method;
    int N, C, H, W, kh, kw, sh, sw, ph, pw, global;
} pool_case;

static void pool_reference(void *user, const double *in, double *out)
{
    const pool_case *c = user;
    ref_pooling_forward(c->method, c->N, c->C, c->H, c->W, c->kh, c->kw, c->sh, c->sw, c->ph,
                        c->pw, c->global, in, out, NULL);
}

static sc_pooling_params pool_params(const pool_case *c)
{
    return (sc_pooling_params){
        c->method == REF_POOL_MAX ? SC_POOL_MAX : SC_POOL_AVE, c->kh, c->kw, c->sh, c->sw,
        c->ph, c->pw, c->global};
}

static void pool_describe(const pool_case *c, char *buf, size_t cap)
{
    const char *m = c->method == REF_POOL_MAX ? "MAX" : "AVE";
    if (c->global)
        snprintf(buf, cap, "%s N%d C%d H%d W%d global", m, c->N, c->C, c->H, c->W);
    else
        snprintf(buf, cap, "%s N%d C%d H%d W%d k%dx%d s%dx%d p%dx%d", m, c->N, c->C, c->H,
                 c->W, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw);
}

/* Distinct values (a shuffled ramp POOL_SPACING apart), so MAX has no ties. */
static void fill_distinct(sc_conf_rng *rng, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(((double)i - (double)n / 2) * POOL_SPACING);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sc_conf_uniform(rng, 0.0, (double)i);
        j = j < i ? j : i - 1;
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

typedef struct pool_run {
    const pool_case *c;
    sc_pooling_params p;
    sc_shape xs;
    cl_mem x, y, argmax, dy, dx_a, dx_b;
} pool_run;

/* forward, backward with beta 0 into dx_a, backward with beta 1 into dx_b */
static sc_status pool_record(sc_plan *plan, const pool_run *r)
{
    SC_TRY(sc_pooling_forward(plan, "pool", &r->p, r->xs, r->x, r->y, r->argmax));
    SC_TRY(sc_pooling_backward(plan, "pool", &r->p, r->xs, r->dy, r->argmax, r->dx_a, 0.0f));
    return sc_pooling_backward(plan, "pool", &r->p, r->xs, r->dy, r->argmax, r->dx_b, 1.0f);
}

static sc_status run_plan(sc_ctx *ctx, sc_status (*record)(sc_plan *, const void *),
                          const void *user)
{
    sc_plan *plan = NULL;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = record(plan, user);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    sc_plan_destroy(plan);
    return st;
}

static sc_status pool_record_any(sc_plan *plan, const void *user)
{
    return pool_record(plan, user);
}

/* Compares the argmax (ints) exactly. */
static sc_status compare_argmax(sc_ctx *ctx, sc_conf_report *rep, const char *shape,
                                const int *got, const int *ref, size_t n)
{
    float *g = malloc(n * sizeof *g);
    double *r = malloc(n * sizeof *r);
    sc_status st = SC_OK;
    if (!g || !r) {
        st = no_memory(ctx);
    } else {
        for (size_t i = 0; i < n; i++) {
            g[i] = (float)got[i];
            r[i] = (double)ref[i];
        }
        st = sc_conf_compare(rep, "Pooling", shape, "forward-argmax", g, r, n, 0.0, -1);
    }
    free(g);
    free(r);
    return st;
}

static sc_status pool_case_check(sc_ctx *ctx, sc_conf_report *rep, const pool_case *c,
                                 uint64_t seed)
{
    char shape[128];
    pool_describe(c, shape, sizeof shape);
    pool_run r = {.c = c, .p = pool_params(c), .xs = {c->N, c->C, c->H, c->W}};
    sc_shape ys;
    SC_TRY(sc_pooling_output_shape(ctx, "pool", &r.p, r.xs, &ys));
    int oh = c->global ? 1 : ref_pool_out_size(c->H, c->kh, c->sh, c->ph);
    int ow = c->global ? 1 : ref_pool_out_size(c->W, c->kw, c->sw, c->pw);
    int shape_ok = ys.n == c->N && ys.c == c->C && ys.h == oh && ys.w == ow;
    SC_TRY(sc_conf_add_check(rep, "Pooling", shape, "output shape", shape_ok));
    if (!shape_ok)
        return SC_OK;

    const size_t nx = sc_shape_count(r.xs), ny = sc_shape_count(ys);
    const int is_max = c->method == REF_POOL_MAX;
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, nx), *dy = hm_floats(&hm, ny), *dx0 = hm_floats(&hm, nx);
    float *y = hm_floats(&hm, ny), *dx_a = hm_floats(&hm, nx), *dx_b = hm_floats(&hm, nx);
    double *xd = hm_doubles(&hm, nx), *dyd = hm_doubles(&hm, ny), *y_ref = hm_doubles(&hm, ny);
    int *am = hm_alloc(&hm, ny * sizeof(int)), *am_ref = hm_alloc(&hm, ny * sizeof(int));
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, seed);
    if (is_max)
        fill_distinct(&rng, x, nx);
    else
        sc_conf_fill(&rng, x, NULL, nx, -2.0, 2.0);
    copy_to_double(x, xd, nx);
    sc_conf_fill(&rng, dy, dyd, ny, -1.0, 1.0);
    sc_conf_fill(&rng, dx0, NULL, nx, -1.0, 1.0);

    TRY_GOTO(dm_upload(&dm, x, nx, &r.x));
    TRY_GOTO(dm_upload(&dm, NULL, ny, &r.y));
    if (is_max)
        TRY_GOTO(dm_upload(&dm, NULL, ny, &r.argmax));
    TRY_GOTO(dm_upload(&dm, dy, ny, &r.dy));
    TRY_GOTO(dm_upload(&dm, NULL, nx, &r.dx_a));
    TRY_GOTO(dm_upload(&dm, dx0, nx, &r.dx_b));
    TRY_GOTO(run_plan(ctx, pool_record_any, &r));
    TRY_GOTO(sc_conf_download(ctx, r.y, ny, y));
    TRY_GOTO(sc_conf_download(ctx, r.dx_a, nx, dx_a));
    TRY_GOTO(sc_conf_download(ctx, r.dx_b, nx, dx_b));
    if (is_max)
        TRY_GOTO(sc_buffer_read(ctx, r.argmax, 0, ny * sizeof(int), am));

    ref_pooling_forward(c->method, c->N, c->C, c->H, c->W, c->kh, c->kw, c->sh, c->sw, c->ph,
                        c->pw, c->global, xd, y_ref, am_ref);
    TRY_GOTO(sc_conf_compare(rep, "Pooling", shape, "forward", y, y_ref, ny, POOL_FWD_TOL, -1));
    if (is_max)
        TRY_GOTO(compare_argmax(ctx, rep, shape, am, am_ref, ny));

    fd_result fd;
    pool_case copy = *c;
    TRY_GOTO(fd_gradient(ctx, &hm, pool_reference, &copy, xd, nx, ny, dyd, POOL_FD_H, seed,
                         &fd));
    TRY_GOTO(compare_fd(ctx, rep, "Pooling", shape, "backward-data", dx_a, NULL, &fd,
                        POOL_BWD_TOL));
    TRY_GOTO(compare_fd(ctx, rep, "Pooling", shape, "backward-data beta=1", dx_b, dx0, &fd,
                        POOL_BWD_TOL));
done:
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

/* Forward only: MAX with ties (integer inputs: the first maximum in raster
 * order must win, exactly as the reference) or without an argmax buffer
 * (inference), which must give the same output. */
static sc_status pool_forward_only_check(sc_ctx *ctx, sc_conf_report *rep, const pool_case *c,
                                         int ties, int with_argmax, uint64_t seed)
{
    char shape[128];
    pool_describe(c, shape, sizeof shape);
    if (ties)
        strncat(shape, " ties", sizeof shape - strlen(shape) - 1);
    sc_pooling_params p = pool_params(c);
    sc_shape xs = {c->N, c->C, c->H, c->W}, ys;
    SC_TRY(sc_pooling_output_shape(ctx, "pool", &p, xs, &ys));
    size_t nx = sc_shape_count(xs), ny = sc_shape_count(ys);
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_plan *plan = NULL;
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, nx), *y = hm_floats(&hm, ny);
    double *xd = hm_doubles(&hm, nx), *y_ref = hm_doubles(&hm, ny);
    int *am = hm_alloc(&hm, ny * sizeof(int)), *am_ref = hm_alloc(&hm, ny * sizeof(int));
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, seed);
    if (ties)
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)floor(sc_conf_uniform(&rng, -1.0, 2.0)); /* -1, 0 or 1 */
    else
        fill_distinct(&rng, x, nx);
    copy_to_double(x, xd, nx);
    cl_mem x_dev, y_dev, am_dev = NULL;
    TRY_GOTO(dm_upload(&dm, x, nx, &x_dev));
    TRY_GOTO(dm_upload(&dm, NULL, ny, &y_dev));
    if (with_argmax)
        TRY_GOTO(dm_upload(&dm, NULL, ny, &am_dev));
    TRY_GOTO(sc_plan_create(ctx, &plan));
    TRY_GOTO(sc_pooling_forward(plan, "pool", &p, xs, x_dev, y_dev, am_dev));
    TRY_GOTO(sc_conf_run(plan));
    TRY_GOTO(sc_conf_download(ctx, y_dev, ny, y));
    if (with_argmax)
        TRY_GOTO(sc_buffer_read(ctx, am_dev, 0, ny * sizeof(int), am));
    ref_pooling_forward(c->method, c->N, c->C, c->H, c->W, c->kh, c->kw, c->sh, c->sw, c->ph,
                        c->pw, c->global, xd, y_ref, am_ref);
    TRY_GOTO(sc_conf_compare(rep, "Pooling", shape,
                             with_argmax ? "forward" : "forward no argmax", y, y_ref, ny,
                             POOL_FWD_TOL, -1));
    if (with_argmax)
        TRY_GOTO(compare_argmax(ctx, rep, shape, am, am_ref, ny));
done:
    sc_plan_destroy(plan);
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

/* Buffers of the error checks: x is large enough for every shape used; y
 * (64 floats) is more than 2x too small for the one check that needs it, so
 * the buffer pool cannot hand out a larger buffer that happens to fit. */
#define ERR_X_FLOATS 4096
#define ERR_Y_FLOATS 64

/* The error checks of one op: failing calls recorded into plan, with x
 * (ERR_X_FLOATS) and y (ERR_Y_FLOATS) as their buffers, a row each. */
typedef sc_status (*error_rows_fn)(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                   cl_mem y);

/* Runs rows with a fresh plan and buffers, then adds a row for "the failed
 * calls recorded nothing". */
static sc_status with_error_setup(sc_ctx *ctx, sc_conf_report *rep, const char *op,
                                  error_rows_fn rows)
{
    sc_plan *plan = NULL;
    cl_mem x = NULL, y = NULL;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = sc_conf_upload(ctx, NULL, ERR_X_FLOATS, &x);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, NULL, ERR_Y_FLOATS, &y);
    if (st == SC_OK)
        st = rows(ctx, rep, plan, x, y);
    if (st == SC_OK)
        st = sc_conf_add_check(rep, op, "(errors)", "no step recorded",
                               sc_plan_steps(plan) == 0);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, x);
    sc_buffer_release(ctx, y);
    return st;
}

static sc_status pool_error_checks(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                   cl_mem y)
{
    sc_status st;
    const sc_pooling_params k3s2 = {SC_POOL_MAX, 3, 3, 2, 2, 0, 0, 0};
    sc_pooling_params p = k3s2;
    sc_shape out;

    p.kernel_h = p.kernel_w = 5;
    st = sc_pooling_forward(plan, "pool5", &p, (sc_shape){1, 2, 3, 4}, x, y, NULL);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N1 C2 H3 W4 k5 p0", "kernel > input", st,
                        "pool5", "1x2x3x4", "larger than the padded input"));
    p = k3s2;
    p.stride_w = 0;
    st = sc_pooling_output_shape(ctx, "pool0", &p, (sc_shape){1, 3, 4, 4}, &out);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N1 C3 H4 W4 k3 s2x0", "zero stride", st,
                        "pool0", "1x3x4x4", "stride"));
    p = k3s2;
    p.pad_h = 3;
    st = sc_pooling_output_shape(ctx, "poolpad", &p, (sc_shape){1, 3, 4, 4}, &out);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N1 C3 H4 W4 k3 p3", "pad >= kernel", st,
                        "poolpad", "1x3x4x4", "pad"));
    p = k3s2;
    st = sc_pooling_forward(plan, "poolz", &p, (sc_shape){2, 0, 4, 4}, x, y, NULL);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N2 C0 H4 W4", "zero dimension", st, "poolz",
                        "2x0x4x4", NULL));
    p = k3s2;
    p.global_pooling = 1;
    p.pad_h = 1;
    st = sc_pooling_output_shape(ctx, "poolg", &p, (sc_shape){1, 3, 4, 4}, &out);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N1 C3 H4 W4 global p1", "global with pad", st,
                        "poolg", "1x3x4x4", "global"));
    /* 2x3x16x16 pools to 2x3x8x8 = 384 floats */
    p = k3s2;
    st = sc_pooling_forward(plan, "poolsmall", &p, (sc_shape){2, 3, 16, 16}, x, y, NULL);
    SC_TRY(expect_error(rep, ctx, "Pooling", "N2 C3 H16 W16 k3 s2", "small buffer", st,
                        "poolsmall", "output buffer holds", NULL));
    st = sc_pooling_backward(plan, "poolnomask", &p, (sc_shape){1, 1, 4, 4}, y, NULL, x, 0.0f);
    return expect_error(rep, ctx, "Pooling", "MAX N1 C1 H4 W4 k3 s2", "no argmax", st,
                        "poolnomask", "argmax", NULL);
}

sc_status sc_conf_pooling(sc_ctx *ctx, sc_conf_report *rep)
{
    static const pool_case shapes[] = {
        /* method, N, C, H, W, kh, kw, sh, sw, ph, pw, global */
        {REF_POOL_MAX, 2, 3, 7, 7, 3, 3, 2, 2, 0, 0, 0},
        {REF_POOL_MAX, 2, 3, 8, 10, 3, 3, 2, 2, 0, 0, 0}, /* ceil: partial last windows */
        {REF_POOL_MAX, 1, 5, 6, 5, 2, 2, 2, 2, 1, 1, 0},  /* pad: last window dropped along W */
        {REF_POOL_MAX, 2, 33, 9, 8, 3, 3, 1, 1, 1, 1, 0},
        {REF_POOL_MAX, 1, 7, 8, 9, 3, 2, 2, 1, 1, 0, 0}, /* rectangular everything */
        {REF_POOL_MAX, 2, 7, 7, 6, 0, 0, 0, 0, 0, 0, 1},
    };
    uint64_t seed = 1000;
    for (int m = 0; m < 2; m++)
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            pool_case c = shapes[i];
            c.method = m == 0 ? REF_POOL_MAX : REF_POOL_AVE;
            SC_TRY(pool_case_check(ctx, rep, &c, seed++));
        }
    const pool_case overlap = {REF_POOL_MAX, 2, 7, 9, 8, 3, 3, 1, 2, 1, 1, 0};
    SC_TRY(pool_forward_only_check(ctx, rep, &overlap, 1, 1, seed++));
    const pool_case global = {REF_POOL_MAX, 1, 5, 7, 6, 0, 0, 0, 0, 0, 0, 1};
    SC_TRY(pool_forward_only_check(ctx, rep, &global, 1, 1, seed++));
    SC_TRY(pool_forward_only_check(ctx, rep, &shapes[2], 0, 0, seed++));
    return with_error_setup(ctx, rep, "Pooling", pool_error_checks);
}
/* ----------------------------------------------------------------- Softmax */

typedef struct softmax_case {
    int N, C, H, W;
} softmax_case;

static void softmax_reference(void *user, const double *in, double *out)
{
    const softmax_case *c = user;
    ref_softmax_forward(c->N, c->C, c->H * c->W, in, out);
}

typedef struct softmax_run {
    sc_shape s;
    cl_mem x, y, x_inplace, dy, dx_a, dx_b;
} softmax_run;

/* forward, forward in place, backward beta 0 into dx_a and beta 1 into dx_b */
static sc_status softmax_record(sc_plan *plan, const void *user)
{
    const softmax_run *r = user;
    SC_TRY(sc_softmax_forward(plan, "prob", r->s, r->x, r->s, r->y));
    SC_TRY(sc_softmax_forward(plan, "prob", r->s, r->x_inplace, r->s, r->x_inplace));
    SC_TRY(sc_softmax_backward(plan, "prob", r->s, r->y, r->dy, r->dx_a, 0.0f));
    return sc_softmax_backward(plan, "prob", r->s, r->y, r->dy, r->dx_b, 1.0f);
}

static sc_status softmax_case_check(sc_ctx *ctx, sc_conf_report *rep, const softmax_case *c,
                                    uint64_t seed)
{
    char shape[128];
    snprintf(shape, sizeof shape, "N%d C%d H%d W%d", c->N, c->C, c->H, c->W);
    softmax_run r = {.s = {c->N, c->C, c->H, c->W}};
    const size_t n = sc_shape_count(r.s);
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, n), *dy = hm_floats(&hm, n), *dx0 = hm_floats(&hm, n);
    float *y = hm_floats(&hm, n), *y_in = hm_floats(&hm, n);
    float *dx_a = hm_floats(&hm, n), *dx_b = hm_floats(&hm, n);
    double *xd = hm_doubles(&hm, n), *dyd = hm_doubles(&hm, n), *y_ref = hm_doubles(&hm, n);
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, seed);
    sc_conf_fill(&rng, x, xd, n, -4.0, 4.0);
    sc_conf_fill(&rng, dy, dyd, n, -1.0, 1.0);
    sc_conf_fill(&rng, dx0, NULL, n, -1.0, 1.0);
    TRY_GOTO(dm_upload(&dm, x, n, &r.x));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.y));
    TRY_GOTO(dm_upload(&dm, x, n, &r.x_inplace));
    TRY_GOTO(dm_upload(&dm, dy, n, &r.dy));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.dx_a));
    TRY_GOTO(dm_upload(&dm, dx0, n, &r.dx_b));
    TRY_GOTO(run_plan(ctx, softmax_record, &r));
    TRY_GOTO(sc_conf_download(ctx, r.y, n, y));
    TRY_GOTO(sc_conf_download(ctx, r.x_inplace, n, y_in));
    TRY_GOTO(sc_conf_download(ctx, r.dx_a, n, dx_a));
    TRY_GOTO(sc_conf_download(ctx, r.dx_b, n, dx_b));

    ref_softmax_forward(c->N, c->C, c->H * c->W, xd, y_ref);
    TRY_GOTO(sc_conf_compare(rep, "Softmax", shape, "forward", y, y_ref, n, SOFTMAX_FWD_TOL,
                             -1));
    TRY_GOTO(sc_conf_compare(rep, "Softmax", shape, "forward in place", y_in, y_ref, n,
                             SOFTMAX_FWD_TOL, -1));
    fd_result fd;
    softmax_case copy = *c;
    TRY_GOTO(fd_gradient(ctx, &hm, softmax_reference, &copy, xd, n, n, dyd, SOFTMAX_FD_H, seed,
                         &fd));
    TRY_GOTO(compare_fd(ctx, rep, "Softmax", shape, "backward-data", dx_a, NULL, &fd,
                        SOFTMAX_BWD_TOL));
    TRY_GOTO(compare_fd(ctx, rep, "Softmax", shape, "backward-data beta=1", dx_b, dx0, &fd,
                        SOFTMAX_BWD_TOL));
done:
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

static sc_status softmax_error_checks(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                      cl_mem y)
{
    sc_status st;
    st = sc_softmax_forward(plan, "probmm", (sc_shape){2, 3, 4, 5}, x, (sc_shape){2, 3, 4, 4},
                            x);
    SC_TRY(expect_error(rep, ctx, "Softmax", "N2 C3 H4 W5 -> 2x3x4x4", "in/out mismatch", st,
                        "probmm", "2x3x4x5", "2x3x4x4"));
    st = sc_softmax_forward(plan, "probz", (sc_shape){0, 3, 1, 1}, x, (sc_shape){0, 3, 1, 1}, x);
    SC_TRY(expect_error(rep, ctx, "Softmax", "N0 C3 H1 W1", "zero dimension", st, "probz",
                        "0x3x1x1", NULL));
    st = sc_softmax_backward(plan, "probsmall", (sc_shape){2, 300, 1, 1}, x, x, y, 0.0f);
    return expect_error(rep, ctx, "Softmax", "N2 C300 H1 W1", "small buffer", st,
                        "probsmall", "input gradient buffer holds", NULL);
}

sc_status sc_conf_softmax(sc_ctx *ctx, sc_conf_report *rep)
{
    static const softmax_case shapes[] = {
        {3, 7, 5, 4},    /* one work-item per position, inner 20 */
        {1, 33, 1, 1},   /* batch 1, per position */
        {2, 300, 1, 1},  /* one work-group per position */
        {4, 1001, 1, 1}, /* work-group form, C not a multiple of the group size */
        {2, 3, 1, 7},    /* few classes, odd inner */
    };
    uint64_t seed = 2000;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        SC_TRY(softmax_case_check(ctx, rep, &shapes[i], seed++));
    return with_error_setup(ctx, rep, "Softmax", softmax_error_checks);
}
/* --------------------------------------------------------- SoftmaxWithLoss */

typedef struct loss_case {
    int N, C, H, W;
    sc_loss_norm norm;
    int has_ignore, ignore_label;
    double loss_weight;
    int ignore_every; /* positions p with p % k == k-1 get the ignore_label (0: none) */
    int bad_labels;   /* a few labels outside [0, C), NaN and a fractional one */
} loss_case;

/* The reference view of a case: integer labels, with every out-of-range
 * label mapped onto an ignore label (the device treats them as ignored). */
typedef struct loss_reference {
    int N, C, inner;
    const int *labels;
    int has_ignore, ignore_label;
    ref_loss_norm norm;
} loss_reference;

static void loss_reference_fn(void *user, const double *in, double *out)
{
    const loss_reference *r = user;
    out[0] = ref_softmax_loss_forward(r->N, r->C, r->inner, in, r->labels, r->has_ignore,
                                      r->ignore_label, r->norm, NULL);
}

static void loss_describe(const loss_case *c, char *buf, size_t cap)
{
    static const char *norms[] = {"FULL", "VALID", "BATCH_SIZE", "NONE"};
    int len = snprintf(buf, cap, "N%d C%d H%d W%d %s lw%g", c->N, c->C, c->H, c->W,
                       norms[c->norm], c->loss_weight);
    if (c->has_ignore && len > 0 && (size_t)len < cap)
        len += snprintf(buf + len, cap - (size_t)len, " ignore%d", c->ignore_label);
    if (c->bad_labels && len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, " bad-labels");
}

/* Device labels (floats) for a case; the bad ones at fixed positions. */
static void make_labels(sc_conf_rng *rng, const loss_case *c, float *labels, int positions)
{
    for (int p = 0; p < positions; p++) {
        int l = (int)sc_conf_uniform(rng, 0.0, (double)c->C);
        labels[p] = (float)(l < c->C ? l : c->C - 1);
        if (c->ignore_every && p % c->ignore_every == c->ignore_every - 1)
            labels[p] = (float)c->ignore_label;
    }
    if (!c->bad_labels)
        return;
    const float bad[] = {(float)c->C, -2.0f, 1e9f, NAN, 2.9f /* valid: truncates to 2 */};
    for (int i = 0; i < (int)(sizeof bad / sizeof *bad) && i < positions; i++)
        labels[i] = bad[i];
}

/* Caffe's static_cast<int>, with labels outside [0, C) mapped to ref_ignore;
 * returns how many were. */
static int reference_labels(const loss_case *c, const float *labels, int positions,
                            int ref_ignore, int *out)
{
    int bad = 0;
    for (int p = 0; p < positions; p++) {
        float f = labels[p];
        int ok = f == f && f > (float)INT_MIN && f < (float)INT_MAX;
        int l = ok ? (int)f : INT_MIN;
        if (c->has_ignore && l == c->ignore_label) {
            out[p] = l;
        } else if (l < 0 || l >= c->C) {
            out[p] = ref_ignore;
            bad++;
        } else {
            out[p] = l;
        }
    }
    return bad;
}

typedef struct loss_run {
    const loss_case *c;
    sc_softmax_loss_params p;
    sc_shape s;
    cl_mem x, labels, prob, saved, loss, dx_a, dx_b;
} loss_run;

static sc_status loss_record(sc_plan *plan, const void *user)
{
    const loss_run *r = user;
    SC_TRY(sc_softmax_loss_forward(plan, "loss", &r->p, r->s, r->x, r->labels, r->prob,
                                   r->saved, r->loss));
    SC_TRY(sc_softmax_loss_backward(plan, "loss", &r->p, r->s, r->prob, r->labels, r->saved,
                                    (float)r->c->loss_weight, r->dx_a, 0.0f));
    return sc_softmax_loss_backward(plan, "loss", &r->p, r->s, r->prob, r->labels, r->saved,
                                    (float)r->c->loss_weight, r->dx_b, 1.0f);
}

static sc_status loss_case_check(sc_ctx *ctx, sc_conf_report *rep, const loss_case *c,
                                 uint64_t seed)
{
    char shape[128];
    loss_describe(c, shape, sizeof shape);
    loss_run r = {.c = c,
                  .p = {c->norm, c->has_ignore, c->ignore_label},
                  .s = {c->N, c->C, c->H, c->W}};
    const int inner = c->H * c->W, positions = c->N * inner;
    const size_t n = sc_shape_count(r.s), n_saved = sc_softmax_loss_state_floats();
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, n), *labels = hm_floats(&hm, positions), *dx0 = hm_floats(&hm, n);
    float *prob = hm_floats(&hm, n), *dx_a = hm_floats(&hm, n), *dx_b = hm_floats(&hm, n);
    float *saved = hm_floats(&hm, n_saved), loss = 0;
    double *xd = hm_doubles(&hm, n), *prob_ref = hm_doubles(&hm, n);
    int *ref_labels = hm_alloc(&hm, positions * sizeof(int));
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, seed);
    sc_conf_fill(&rng, x, xd, n, -3.0, 3.0);
    sc_conf_fill(&rng, dx0, NULL, n, -0.1, 0.1);
    make_labels(&rng, c, labels, positions);
    const int ref_ignore = c->has_ignore ? c->ignore_label : INT_MIN;
    const int bad = reference_labels(c, labels, positions, ref_ignore, ref_labels);
    loss_reference ref = {c->N, c->C, inner, ref_labels, c->has_ignore || bad > 0, ref_ignore,
                          (ref_loss_norm)c->norm};
    int valid = 0;
    for (int p = 0; p < positions; p++)
        valid += !(ref.has_ignore && ref_labels[p] == ref_ignore);

    TRY_GOTO(dm_upload(&dm, x, n, &r.x));
    TRY_GOTO(dm_upload(&dm, labels, positions, &r.labels));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.prob));
    TRY_GOTO(dm_upload(&dm, NULL, n_saved, &r.saved));
    TRY_GOTO(dm_upload(&dm, NULL, 1, &r.loss));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.dx_a));
    TRY_GOTO(dm_upload(&dm, dx0, n, &r.dx_b));
    TRY_GOTO(run_plan(ctx, loss_record, &r));
    TRY_GOTO(sc_conf_download(ctx, r.prob, n, prob));
    TRY_GOTO(sc_conf_download(ctx, r.loss, 1, &loss));
    TRY_GOTO(sc_conf_download(ctx, r.saved, n_saved, saved));
    TRY_GOTO(sc_conf_download(ctx, r.dx_a, n, dx_a));
    TRY_GOTO(sc_conf_download(ctx, r.dx_b, n, dx_b));

    double loss_ref = ref_softmax_loss_forward(c->N, c->C, inner, xd, ref_labels, ref.has_ignore,
                                               ref_ignore, ref.norm, prob_ref);
    TRY_GOTO(sc_conf_compare(rep, "SoftmaxWithLoss", shape, "forward-prob", prob, prob_ref, n,
                             SOFTMAX_FWD_TOL, -1));
    TRY_GOTO(compare_scalar(rep, "SoftmaxWithLoss", shape, "forward-loss", loss, loss_ref,
                            LOSS_FWD_TOL));
    TRY_GOTO(sc_conf_add_check(rep, "SoftmaxWithLoss", shape, "saved valid/bad counts",
                               saved[SC_SOFTMAX_LOSS_VALID] == (float)valid &&
                                   saved[SC_SOFTMAX_LOSS_BAD_LABELS] == (float)bad));
    fd_result fd;
    const double top = c->loss_weight;
    TRY_GOTO(fd_gradient(ctx, &hm, loss_reference_fn, &ref, xd, n, 1, &top, LOSS_FD_H, seed,
                         &fd));
    TRY_GOTO(compare_fd(ctx, rep, "SoftmaxWithLoss", shape, "backward-data", dx_a, NULL, &fd,
                        LOSS_BWD_TOL));
    TRY_GOTO(compare_fd(ctx, rep, "SoftmaxWithLoss", shape, "backward-data beta=1", dx_b, dx0,
                        &fd, LOSS_BWD_TOL));
done:
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

static sc_status loss_error_checks(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                   cl_mem y)
{
    sc_status st;
    sc_softmax_loss_params p = sc_softmax_loss_defaults();
    /* 300 positions need 300 labels; the label buffer holds at most 128 */
    st = sc_softmax_loss_forward(plan, "losslab", &p, (sc_shape){300, 2, 1, 1}, x, y, x, x, x);
    SC_TRY(expect_error(rep, ctx, "SoftmaxWithLoss", "N300 C2 H1 W1", "small label buffer",
                        st, "losslab", "labels", "300x2x1x1"));
    st = sc_softmax_loss_backward(plan, "losslab", &p, (sc_shape){300, 2, 1, 1}, x, y, x, 1.0f,
                                  x, 0.0f);
    SC_TRY(expect_error(rep, ctx, "SoftmaxWithLoss", "N300 C2 H1 W1", "small label buffer",
                        st, "losslab", "labels", "300x2x1x1"));
    st = sc_softmax_loss_forward(plan, "lossz", &p, (sc_shape){4, 0, 1, 1}, x, y, x, x, x);
    SC_TRY(expect_error(rep, ctx, "SoftmaxWithLoss", "N4 C0 H1 W1", "zero dimension", st,
                        "lossz", "4x0x1x1", NULL));
    p.normalization = (sc_loss_norm)7;
    st = sc_softmax_loss_forward(plan, "lossnorm", &p, (sc_shape){4, 3, 1, 1}, x, y, x, x, x);
    return expect_error(rep, ctx, "SoftmaxWithLoss", "N4 C3 H1 W1", "bad normalization", st,
                        "lossnorm", "normalization", NULL);
}

sc_status sc_conf_softmax_loss(sc_ctx *ctx, sc_conf_report *rep)
{
    static const loss_case cases[] = {
        /* N, C, H, W, norm, has_ignore, ignore_label, loss_weight, ignore_every, bad */
        {4, 5, 1, 1, SC_LOSS_NORM_VALID, 0, 0, 1.0, 0, 0},
        {3, 7, 2, 3, SC_LOSS_NORM_VALID, 1, 2, 0.5, 3, 0},
        {2, 300, 1, 1, SC_LOSS_NORM_BATCH_SIZE, 1, -1, 2.0, 2, 0},
        {1, 33, 3, 1, SC_LOSS_NORM_FULL, 1, 5, 1.0, 2, 0},
        {8, 5, 1, 1, SC_LOSS_NORM_NONE, 0, 0, 1.0, 0, 1},
        {9, 4, 1, 1, SC_LOSS_NORM_VALID, 1, 255, 1.0, 4, 1}, /* ignored at 7 */
        {2, 3, 1, 1, SC_LOSS_NORM_VALID, 1, 0, 1.0, 1, 0}, /* every label ignored */
    };
    uint64_t seed = 3000;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        SC_TRY(loss_case_check(ctx, rep, &cases[i], seed++));
    return with_error_setup(ctx, rep, "SoftmaxWithLoss", loss_error_checks);
}
/* ------------------------------------------------ SoftmaxWithLoss, golden */

/* The case files of a golden folder: those named in dir/cases.txt, else every
 * *.txt but cases.txt, sorted. Free with free_names. */
typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void free_names(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int push_name(name_list *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, len + 1);
    l->v[l->n++] = copy;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sc_status names_from_listing(sc_ctx *ctx, const char *path, FILE *f, name_list *l)
{
    char line[1024], tok[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%511s", tok) != 1)
            continue;
        if (push_name(l, tok) != 0)
            return no_memory(ctx);
    }
    if (ferror(f))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_IO, "cannot read %s", path);
    return SC_OK;
}

static sc_status names_from_folder(sc_ctx *ctx, const char *dir, name_list *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_IO, "cannot open the golden folder %s", dir);
    struct dirent *e;
    sc_status st = SC_OK;
    while (st == SC_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0 &&
            strcmp(e->d_name, "cases.txt") != 0 && push_name(l, e->d_name) != 0)
            st = no_memory(ctx);
    }
    closedir(d);
    if (st == SC_OK && l->n)
        qsort(l->v, l->n, sizeof *l->v, compare_names);
    return st;
}

static sc_status golden_names(sc_ctx *ctx, const char *dir, name_list *l)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *f = fopen(path, "r");
    sc_status st;
    if (f) {
        st = names_from_listing(ctx, path, f, l);
        fclose(f);
    } else {
        st = names_from_folder(ctx, dir, l);
    }
    if (st == SC_OK && l->n == 0)
        st = sc_fail(sc_ctx_error(ctx), SC_ERR_IO, "no golden cases in %s", dir);
    return st;
}

typedef struct golden_run {
    sc_softmax_loss_params p;
    sc_shape s;
    cl_mem x, labels, prob, saved, loss, dx;
} golden_run;

static sc_status golden_record(sc_plan *plan, const void *user)
{
    const golden_run *r = user;
    SC_TRY(sc_softmax_loss_forward(plan, "loss", &r->p, r->s, r->x, r->labels, r->prob,
                                   r->saved, r->loss));
    return sc_softmax_loss_backward(plan, "loss", &r->p, r->s, r->prob, r->labels, r->saved,
                                    1.0f, r->dx, 0.0f);
}

/* The f, label, loss and dloss_df records of one loaded case. */
typedef struct golden_records {
    const sc_gtext_rec *f, *label, *loss, *dloss;
} golden_records;

static int golden_records_ok(const sc_gtext *g, golden_records *r)
{
    r->f = sc_gtext_find(g, "f");
    r->label = sc_gtext_find(g, "label");
    r->loss = sc_gtext_find(g, "loss");
    r->dloss = sc_gtext_find(g, "dloss_df");
    if (!r->f || !r->label || !r->loss || !r->dloss || r->f->ndim != 2)
        return 0;
    size_t M = (size_t)r->f->dims[0], N = (size_t)r->f->dims[1];
    return M > 0 && N > 0 && M <= INT_MAX && N <= INT_MAX && r->label->count == M &&
           r->dloss->count == M * N && r->loss->count == 1;
}

static sc_status golden_case_check(sc_ctx *ctx, sc_conf_report *rep, const char *case_name,
                                   const golden_records *g)
{
    const int M = (int)g->f->dims[0], C = (int)g->f->dims[1];
    golden_run r = {.p = sc_softmax_loss_defaults(), .s = {M, C, 1, 1}};
    const size_t n = (size_t)M * C;
    char shape[128];
    snprintf(shape, sizeof shape, "%.100s M%d C%d", case_name, M, C);
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, n), *labels = hm_floats(&hm, M), *dx = hm_floats(&hm, n);
    float loss = 0;
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g->f->v[i];
    for (int i = 0; i < M; i++)
        labels[i] = (float)g->label->v[i];
    TRY_GOTO(dm_upload(&dm, x, n, &r.x));
    TRY_GOTO(dm_upload(&dm, labels, M, &r.labels));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.prob));
    TRY_GOTO(dm_upload(&dm, NULL, sc_softmax_loss_state_floats(), &r.saved));
    TRY_GOTO(dm_upload(&dm, NULL, 1, &r.loss));
    TRY_GOTO(dm_upload(&dm, NULL, n, &r.dx));
    TRY_GOTO(run_plan(ctx, golden_record, &r));
    TRY_GOTO(sc_conf_download(ctx, r.loss, 1, &loss));
    TRY_GOTO(sc_conf_download(ctx, r.dx, n, dx));
    TRY_GOTO(compare_scalar(rep, "SoftmaxWithLoss", shape, "golden loss", loss, g->loss->v[0],
                            GOLDEN_TOL));
    TRY_GOTO(sc_conf_compare(rep, "SoftmaxWithLoss", shape, "golden backward", dx, g->dloss->v,
                             n, GOLDEN_TOL, -1));
done:
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

sc_status sc_conf_softmax_loss_golden(sc_ctx *ctx, const char *dir, sc_conf_report *rep)
{
    name_list names = {0};
    sc_status st = golden_names(ctx, dir, &names);
    for (size_t i = 0; st == SC_OK && i < names.n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names.v[i]);
        char case_name[128];
        snprintf(case_name, sizeof case_name, "%s", names.v[i]);
        char *dot = strrchr(case_name, '.');
        if (dot)
            *dot = '\0';
        sc_gtext g = {0};
        st = sc_gtext_load(path, &g, sc_ctx_error(ctx));
        if (st != SC_OK)
            break;
        golden_records recs;
        if (golden_records_ok(&g, &recs))
            st = golden_case_check(ctx, rep, case_name, &recs);
        else
            st = sc_conf_add_check(rep, "SoftmaxWithLoss", case_name,
                                   "golden: records missing", 0);
        sc_gtext_free(&g);
    }
    free_names(&names);
    return st;
}

/* ---------------------------------------------------------------- Accuracy */

typedef struct accuracy_case {
    int N, C, H, W, top_k;
    int has_ignore, ignore_label, ignore_every;
    int ties; /* integer scores in [0, 4): many classes tie with the true one */
    int nans; /* NaN scores: the true class of every 3rd position, another class of the next */
} accuracy_case;

static sc_status accuracy_case_check(sc_ctx *ctx, sc_conf_report *rep, const accuracy_case *c,
                                     uint64_t seed)
{
    char shape[128];
    snprintf(shape, sizeof shape, "N%d C%d H%d W%d top%d%s%s%s", c->N, c->C, c->H, c->W,
             c->top_k, c->has_ignore ? " ignore" : "", c->ties ? " ties" : "",
             c->nans ? " NaN" : "");
    const sc_shape s = {c->N, c->C, c->H, c->W};
    const int inner = c->H * c->W, positions = c->N * inner;
    const size_t n = sc_shape_count(s);
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sc_plan *plan = NULL;
    sc_status st = SC_OK;
    float *x = hm_floats(&hm, n), *labels = hm_floats(&hm, positions), acc = -1;
    double *xd = hm_doubles(&hm, n);
    int *ref_labels = hm_alloc(&hm, positions * sizeof(int));
    if (hm.failed) {
        st = no_memory(ctx);
        goto done;
    }
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = c->ties ? (float)floor(sc_conf_uniform(&rng, 0.0, 4.0))
                       : (float)sc_conf_uniform(&rng, -1.0, 1.0);
    for (int p = 0; p < positions; p++) {
        int l = (int)sc_conf_uniform(&rng, 0.0, (double)c->C);
        ref_labels[p] = l < c->C ? l : c->C - 1;
        if (c->ignore_every && p % c->ignore_every == c->ignore_every - 1)
            ref_labels[p] = c->ignore_label;
        labels[p] = (float)ref_labels[p];
        /* lift the true class of every other position, so accuracy is not ~1/C */
        int n_i = p / inner, s_i = p % inner;
        if (!c->ties && ref_labels[p] >= 0 && ref_labels[p] < c->C && p % 2 == 0)
            x[((size_t)n_i * c->C + ref_labels[p]) * inner + s_i] += 0.9f;
        /* a NaN score never makes a position correct (it compares false) */
        if (c->nans && p % 3 == 0)
            x[((size_t)n_i * c->C + ref_labels[p]) * inner + s_i] = NAN;
        if (c->nans && p % 3 == 1)
            x[((size_t)n_i * c->C + (ref_labels[p] + 1) % c->C) * inner + s_i] = NAN;
    }
    copy_to_double(x, xd, n);
    cl_mem xm, lm, am;
    TRY_GOTO(dm_upload(&dm, x, n, &xm));
    TRY_GOTO(dm_upload(&dm, labels, positions, &lm));
    TRY_GOTO(dm_upload(&dm, NULL, 1, &am));
    sc_accuracy_params p = {c->top_k, c->has_ignore, c->ignore_label};
    TRY_GOTO(sc_plan_create(ctx, &plan));
    TRY_GOTO(sc_accuracy_forward(plan, "accuracy", &p, s, xm, lm, am));
    TRY_GOTO(sc_conf_run(plan));
    TRY_GOTO(sc_conf_download(ctx, am, 1, &acc));
    double ref = ref_accuracy(c->N, c->C, inner, xd, ref_labels, c->top_k, c->has_ignore,
                              c->ignore_label);
    TRY_GOTO(compare_scalar(rep, "Accuracy", shape, "forward", acc, ref, ACCURACY_TOL));
done:
    sc_plan_destroy(plan);
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

static sc_status accuracy_error_checks(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                       cl_mem y)
{
    sc_status st;
    sc_accuracy_params p = {6, 0, 0};
    st = sc_accuracy_forward(plan, "acctop", &p, (sc_shape){4, 5, 1, 1}, x, y, x);
    SC_TRY(expect_error(rep, ctx, "Accuracy", "N4 C5 H1 W1 top6", "top_k > classes", st,
                        "acctop", "4x5x1x1", "top_k"));
    p.top_k = 1;
    st = sc_accuracy_forward(plan, "acclab", &p, (sc_shape){300, 2, 1, 1}, x, y, x);
    SC_TRY(expect_error(rep, ctx, "Accuracy", "N300 C2 H1 W1", "small label buffer", st,
                        "acclab", "labels", "300x2x1x1"));
    st = sc_accuracy_forward(plan, "accz", &p, (sc_shape){4, 5, 0, 1}, x, y, x);
    return expect_error(rep, ctx, "Accuracy", "N4 C5 H0 W1", "zero dimension", st, "accz",
                        "4x5x0x1", NULL);
}

sc_status sc_conf_accuracy(sc_ctx *ctx, sc_conf_report *rep)
{
    static const accuracy_case cases[] = {
        /* N, C, H, W, top_k, has_ignore, ignore_label, ignore_every, ties, nans */
        {7, 5, 1, 1, 1, 0, 0, 0, 0, 0},
        {6, 10, 2, 2, 3, 1, 0, 3, 0, 0},
        {16, 300, 1, 1, 5, 0, 0, 0, 1, 0},
        {9, 7, 1, 1, 1, 0, 0, 0, 1, 0},
        {1, 33, 3, 5, 2, 1, -1, 4, 0, 0},
        {3, 4, 1, 1, 1, 1, 2, 1, 0, 0}, /* every label ignored: 0 */
        {12, 6, 1, 1, 1, 0, 0, 0, 0, 1},
    };
    uint64_t seed = 4000;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        SC_TRY(accuracy_case_check(ctx, rep, &cases[i], seed++));
    return with_error_setup(ctx, rep, "Accuracy", accuracy_error_checks);
}
/* --------------------------------------------------------------------- SGD */

/* ref_ops has the L2 update only; L1 is Caffe's Regularize with sign(w)
 * (caffe_cpu_sign: 0 at 0), then the same momentum step. */
static void ref_sgd_update_l1(size_t count, double *w, const double *grad, double *history,
                              double lr, double momentum, double weight_decay, double lr_mult,
                              double decay_mult)
{
    double local_decay = weight_decay * decay_mult, local_rate = lr * lr_mult;
    for (size_t i = 0; i < count; i++) {
        double sign = (w[i] > 0) - (w[i] < 0);
        double g = grad[i] + local_decay * sign;
        history[i] = momentum * history[i] + local_rate * g;
        w[i] -= history[i];
    }
}

#define SGD_BLOBS 3
#define SGD_STEPS 3
#define SGD_PARAMS(lr_mult_, decay_mult_, momentum_, weight_decay_, iter_size_, reg_)          \
    {.type = SC_SOLVER_SGD, .lr_mult = (lr_mult_), .decay_mult = (decay_mult_),               \
     .momentum = (momentum_), .weight_decay = (weight_decay_), .iter_size = (iter_size_),      \
     .regularization = (reg_)}

typedef struct sgd_blob {
    size_t count;
    sc_sgd_params p;
    int random_history; /* start from a non-zero history (a resumed run) */
} sgd_blob;

static const sgd_blob sgd_blobs[SGD_BLOBS] = {
    /* count, {lr_mult, decay_mult, momentum, weight_decay, iter_size, reg}, history */
    {1001, SGD_PARAMS(1.0f, 1.0f, 0.9f, 5e-4f, 1, SC_REG_L2), 0},
    {33, SGD_PARAMS(2.0f, 0.0f, 0.9f, 5e-4f, 2, SC_REG_L2), 1},
    {257, SGD_PARAMS(1.0f, 1.0f, 0.0f, 1e-2f, 3, SC_REG_L1), 1},
};

/* Host and device state of one blob. */
typedef struct sgd_state {
    float *w, *diff, *hist, *got;
    double *w_ref, *hist_ref, *grad;
    cl_mem w_dev, diff_dev, hist_dev;
} sgd_state;

static sc_status sgd_state_init(sc_ctx *ctx, host_mem *hm, dev_mem *dm, sc_conf_rng *rng,
                                const sgd_blob *b, sgd_state *s)
{
    size_t n = b->count;
    s->w = hm_floats(hm, n);
    s->diff = hm_floats(hm, n);
    s->hist = hm_floats(hm, n);
    s->got = hm_floats(hm, n);
    s->w_ref = hm_doubles(hm, n);
    s->hist_ref = hm_doubles(hm, n);
    s->grad = hm_doubles(hm, n);
    if (hm->failed)
        return no_memory(ctx);
    sc_conf_fill(rng, s->w, s->w_ref, n, -1.0, 1.0);
    s->w[0] = 0.0f; /* sign(0) = 0 under L1 */
    s->w_ref[0] = 0.0;
    if (b->random_history)
        sc_conf_fill(rng, s->hist, s->hist_ref, n, -0.01, 0.01);
    SC_TRY(dm_upload(dm, s->w, n, &s->w_dev));
    SC_TRY(dm_upload(dm, NULL, n, &s->diff_dev));
    return dm_upload(dm, s->hist, n, &s->hist_dev);
}

/* New diffs (a fresh backward), then one update in double. */
static sc_status sgd_step_inputs(sc_ctx *ctx, sc_conf_rng *rng, const sgd_blob *b,
                                 sgd_state *s, double lr)
{
    size_t n = b->count;
    sc_conf_fill(rng, s->diff, NULL, n, -1.0, 1.0);
    SC_TRY(sc_buffer_write(ctx, s->diff_dev, 0, n * sizeof(float), s->diff));
    const sc_sgd_params *p = &b->p;
    for (size_t i = 0; i < n; i++)
        s->grad[i] = (double)s->diff[i] / p->iter_size;
    if (p->regularization == SC_REG_L1)
        ref_sgd_update_l1(n, s->w_ref, s->grad, s->hist_ref, lr, p->momentum, p->weight_decay,
                          p->lr_mult, p->decay_mult);
    else
        ref_sgd_update(n, s->w_ref, s->grad, s->hist_ref, lr, p->momentum, p->weight_decay,
                       p->lr_mult, p->decay_mult);
    return SC_OK;
}

static void sgd_describe(const sgd_blob *b, char *buf, size_t cap)
{
    snprintf(buf, cap, "count%zu lr_mult%g decay_mult%g mom%g wd%g iter%d %s", b->count,
             b->p.lr_mult, b->p.decay_mult, b->p.momentum, b->p.weight_decay, b->p.iter_size,
             b->p.regularization == SC_REG_L1 ? "L1" : "L2");
}

static sc_status sgd_compare_step(sc_ctx *ctx, sc_conf_report *rep, const sgd_blob *b,
                                  sgd_state *s, int step)
{
    char shape[128], dir[32];
    sgd_describe(b, shape, sizeof shape);
    SC_TRY(sc_conf_download(ctx, s->w_dev, b->count, s->got));
    snprintf(dir, sizeof dir, "update w step%d", step);
    SC_TRY(sc_conf_compare(rep, "SGD", shape, dir, s->got, s->w_ref, b->count, SGD_TOL, -1));
    SC_TRY(sc_conf_download(ctx, s->hist_dev, b->count, s->got));
    snprintf(dir, sizeof dir, "update history step%d", step);
    SC_TRY(sc_conf_compare(rep, "SGD", shape, dir, s->got, s->hist_ref, b->count, SGD_TOL, -1));
    if (step < SGD_STEPS)
        return SC_OK;
    /* Caffe leaves the update value (the new history) in the diff */
    SC_TRY(sc_conf_download(ctx, s->diff_dev, b->count, s->got));
    return sc_conf_compare(rep, "SGD", shape, "update diff = history", s->got, s->hist_ref,
                           b->count, SGD_TOL, -1);
}

/* Records the clear of one blob's diff, runs it, checks every value is 0. */
static sc_status sgd_clear_check(sc_ctx *ctx, sc_conf_report *rep, const sgd_blob *b,
                                 sgd_state *s)
{
    char shape[128];
    sgd_describe(b, shape, sizeof shape);
    sc_plan *plan = NULL;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = sc_sgd_clear_diff(plan, "clear", b->count, s->diff_dev);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    if (st == SC_OK)
        st = sc_conf_download(ctx, s->diff_dev, b->count, s->got);
    sc_plan_destroy(plan);
    SC_TRY(st);
    int zero = 1;
    for (size_t i = 0; i < b->count; i++)
        zero &= s->got[i] == 0.0f;
    return sc_conf_add_check(rep, "SGD", shape, "clear diff", zero);
}

static sc_status sgd_replays(sc_ctx *ctx, sc_conf_report *rep)
{
    static const float rates[SGD_STEPS] = {0.1f, 0.05f, 0.01f};
    host_mem hm = {0};
    dev_mem dm = {.ctx = ctx};
    sgd_state s[SGD_BLOBS];
    sc_plan *plan = NULL;
    cl_mem lr;
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 5000);
    sc_status st = SC_OK;
    TRY_GOTO(dm_upload(&dm, NULL, SC_SGD_SCALARS, &lr));
    for (int b = 0; b < SGD_BLOBS; b++)
        TRY_GOTO(sgd_state_init(ctx, &hm, &dm, &rng, &sgd_blobs[b], &s[b]));
    /* one plan, recorded once, replayed with a new rate in the buffer */
    TRY_GOTO(sc_plan_create(ctx, &plan));
    for (int b = 0; b < SGD_BLOBS; b++) {
        sc_sgd_blob blob = {.w = s[b].w_dev, .diff = s[b].diff_dev, .history = s[b].hist_dev,
                            .count = sgd_blobs[b].count};
        TRY_GOTO(sc_sgd_update(plan, "sgd", &blob, lr, &sgd_blobs[b].p));
    }
    for (int step = 1; step <= SGD_STEPS; step++) {
        float rate = rates[step - 1];
        TRY_GOTO(sc_buffer_write(ctx, lr, SC_SGD_LR * sizeof rate, sizeof rate, &rate));
        for (int b = 0; b < SGD_BLOBS; b++)
            TRY_GOTO(sgd_step_inputs(ctx, &rng, &sgd_blobs[b], &s[b], (double)rate));
        TRY_GOTO(sc_conf_run(plan));
        for (int b = 0; b < SGD_BLOBS; b++)
            TRY_GOTO(sgd_compare_step(ctx, rep, &sgd_blobs[b], &s[b], step));
    }
    TRY_GOTO(sgd_clear_check(ctx, rep, &sgd_blobs[0], &s[0]));
done:
    sc_plan_destroy(plan);
    dm_release(&dm);
    hm_free(&hm);
    return st;
}

static sc_status sgd_error_checks(sc_ctx *ctx, sc_conf_report *rep, sc_plan *plan, cl_mem x,
                                  cl_mem y)
{
    sc_status st;
    sc_sgd_params p = sgd_blobs[0].p;
    sc_sgd_blob b = {.w = x, .diff = x, .history = x, .count = 0};
    st = sc_sgd_update(plan, "conv1.w", &b, x, &p);
    SC_TRY(expect_error(rep, ctx, "SGD", "count0", "zero count", st, "conv1.w", "0 elements",
                        NULL));
    st = sc_sgd_clear_diff(plan, "conv1.w", 0, x);
    SC_TRY(expect_error(rep, ctx, "SGD", "count0", "clear zero count", st, "conv1.w",
                        "0 elements", NULL));
    p.iter_size = 0;
    b.count = 16;
    st = sc_sgd_update(plan, "conv1.b", &b, x, &p);
    SC_TRY(expect_error(rep, ctx, "SGD", "count16 iter0", "iter_size 0", st, "conv1.b",
                        "iter_size", NULL));
    p = sgd_blobs[0].p;
    b = (sc_sgd_blob){.w = x, .diff = y, .history = x, .count = 1000};
    st = sc_sgd_update(plan, "fc5.w", &b, x, &p);
    SC_TRY(expect_error(rep, ctx, "SGD", "count1000", "small diff buffer", st, "fc5.w",
                        "diff buffer holds", NULL));
    b = (sc_sgd_blob){.w = x, .diff = x, .history = x, .count = 16};
    st = sc_sgd_update(plan, "fc5.w", &b, NULL, &p);
    return expect_error(rep, ctx, "SGD", "count16", "no scalars buffer", st, "fc5.w",
                        "scalars buffer is missing", NULL);
}

sc_status sc_conf_sgd(sc_ctx *ctx, sc_conf_report *rep)
{
    SC_TRY(sgd_replays(ctx, rep));
    return with_error_setup(ctx, rep, "SGD", sgd_error_checks);
}
