/* A-Softmax (MarginInnerProduct) conformance: generated cases against the
 * plain-C reference and finite differences, and the golden cases of
 * ../shared/golden/asoftmax/ (see suite_asoftmax.h). */
#include "suite_asoftmax.h"

#include "gtext.h"
#include "ref_grad.h"
#include "ref_ops.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AS_OP "asoftmax"

/* f, and the closed-form backward (caffe mode, exact mode): float32 GEMMs over
 * K <= 512 terms plus the target polynomial in float; the golden README
 * measures 2.6e-7..3.6e-7 of max|ref| for a float32 evaluation and states
 * 1e-5 * max|ref| per array, which leaves ~10x for another summation order. */
static const double AS_TOL = 1e-5;
/* Exact-mode backward against central differences of the double reference:
 * the float32 device gradient (~1e-6) dominates the FD error (h^2 terms
 * ~1e-8); the usual 1e-4 for backward-vs-FD. */
static const double AS_FD_TOL = 1e-4;
/* Device lambda vs the double schedule: OpenCL's pow may be off by 16 ulp
 * (16 * 6e-8 = 1e-6) plus the float rounding of 1 + gamma*iter. */
static const double AS_LAMBDA_TOL = 2e-6;
/* Central-difference step: moves a target cosine by at most ~4e-4 (|x| >= 0.5),
 * well inside AS_SIGN_GAP, and keeps the O(h^2) error near 1e-8. */
static const double AS_FD_STEP = 1e-4;
/* Generated target cosines stay this far from every sign boundary
 * (0, +-0.5, +-1/sqrt(2)), so finite differences never cross a kink. */
static const double AS_SIGN_GAP = 0.02;
/* Entries checked by finite differences when an array is larger than AS_FD_ALL. */
enum { AS_FD_ALL = 400, AS_FD_PICK = 200 };
/* Floats after f that the forward must leave untouched. */
enum { AS_CANARY = 16 };
static const float AS_CANARY_VALUE = 12345.0f;
/* dx content a beta_dx = 0 backward must overwrite. */
static const float AS_DX_GARBAGE = 1000.0f;

/* ---------------------------------------------------------- small helpers */

/* Host allocations freed together. */
typedef struct as_bag {
    void *p[64];
    int n;
} as_bag;

static void *bag_calloc(as_bag *b, size_t count, size_t size)
{
    if (b->n >= (int)(sizeof b->p / sizeof b->p[0]))
        return NULL;
    void *q = calloc(count ? count : 1, size);
    if (q)
        b->p[b->n++] = q;
    return q;
}

static void bag_free(as_bag *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->p[i]);
    b->n = 0;
}

/* Device buffers released together. */
typedef struct as_mems {
    sc_ctx *ctx;
    cl_mem m[24];
    int n;
} as_mems;

static sc_status mems_upload(as_mems *ms, const float *host, size_t n, cl_mem *out)
{
    if (ms->n >= (int)(sizeof ms->m / sizeof ms->m[0]))
        return sc_fail(sc_ctx_error(ms->ctx), SC_ERR_NOMEM, "asoftmax suite: too many buffers");
    SC_TRY(sc_conf_upload(ms->ctx, host, n, out));
    ms->m[ms->n++] = *out;
    return SC_OK;
}

static void mems_release(as_mems *ms)
{
    for (int i = 0; i < ms->n; i++)
        sc_buffer_release(ms->ctx, ms->m[i]);
    ms->n = 0;
}

static sc_status nomem(sc_ctx *ctx)
{
    return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "asoftmax suite: out of host memory");
}

/* ------------------------------------------------------------ one case */

/* Inputs of one case (host side) and what the device run produced. */
typedef struct as_case {
    sc_asoftmax_params p;
    sc_shape xs, ws;
    int M, K, N;
    float *x, *w, *labels, *dy;  /* what the device gets */
    double *xd, *wnd, *dyd;      /* x, W normalised in double, dy */
    int *lab;                    /* target class, -1 for an out-of-range label */
    const float *dx0, *dw0;      /* caffe-mode dx / dW contents before the backward (NULL: 0) */
    float beta_dx;               /* caffe mode's beta_dx; exact mode overwrites (0) */
} as_case;

typedef struct as_result {
    float *f, *w_after, *saved, *dx[2], *dw[2]; /* [0] caffe mode, [1] exact mode */
    float lambda_top, lambda_state;
    int iter;
    int canary_ok;
} as_result;

static sc_status case_alloc(sc_ctx *ctx, as_bag *bag, as_case *c, int M, int K, int N)
{
    c->M = M, c->K = K, c->N = N;
    size_t mk = (size_t)M * K, nk = (size_t)N * K, mn = (size_t)M * N;
    c->x = bag_calloc(bag, mk, sizeof(float));
    c->w = bag_calloc(bag, nk, sizeof(float));
    c->labels = bag_calloc(bag, (size_t)M, sizeof(float));
    c->dy = bag_calloc(bag, mn, sizeof(float));
    c->xd = bag_calloc(bag, mk, sizeof(double));
    c->wnd = bag_calloc(bag, nk, sizeof(double));
    c->dyd = bag_calloc(bag, mn, sizeof(double));
    c->lab = bag_calloc(bag, (size_t)M, sizeof(int));
    if (!c->x || !c->w || !c->labels || !c->dy || !c->xd || !c->wnd || !c->dyd || !c->lab)
        return nomem(ctx);
    return SC_OK;
}

/* The device's rule: the target of a float label, -1 outside [0, N). */
static int target_of(float label, int N)
{
    return (label >= 0.0f && label < (float)N) ? (int)label : -1;
}

/* Fills the double copies (x, dy, W normalised, targets) from the float inputs. */
static void case_derive(as_case *c)
{
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    for (size_t i = 0; i < mk; i++)
        c->xd[i] = c->x[i];
    for (size_t i = 0; i < nk; i++)
        c->wnd[i] = c->w[i];
    for (size_t i = 0; i < mn; i++)
        c->dyd[i] = c->dy[i];
    ref_normalize_rows(c->N, c->K, c->wnd);
    for (int i = 0; i < c->M; i++)
        c->lab[i] = target_of(c->labels[i], c->N);
}

static sc_status result_alloc(sc_ctx *ctx, as_bag *bag, const as_case *c, as_result *r)
{
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    r->f = bag_calloc(bag, mn + AS_CANARY, sizeof(float));
    r->w_after = bag_calloc(bag, nk, sizeof(float));
    r->saved = bag_calloc(bag, sc_asoftmax_saved_floats(c->M), sizeof(float));
    for (int k = 0; k < 2; k++) {
        r->dx[k] = bag_calloc(bag, mk, sizeof(float));
        r->dw[k] = bag_calloc(bag, nk, sizeof(float));
        if (!r->dx[k] || !r->dw[k])
            return nomem(ctx);
    }
    if (!r->f || !r->w_after || !r->saved)
        return nomem(ctx);
    return SC_OK;
}

typedef struct as_dev {
    cl_mem x, labels, w, state, f, lambda, saved, dy, ws, dx[2], dw[2];
} as_dev;

static sc_status dev_upload(as_mems *ms, const as_case *c, float *garbage, as_dev *d)
{
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    size_t wsf = sc_asoftmax_workspace_floats(&c->p, c->M);
    SC_TRY(mems_upload(ms, c->x, mk, &d->x));
    SC_TRY(mems_upload(ms, c->labels, (size_t)c->M, &d->labels));
    SC_TRY(mems_upload(ms, c->w, nk, &d->w));
    SC_TRY(mems_upload(ms, NULL, sc_asoftmax_state_floats(), &d->state));
    SC_TRY(mems_upload(ms, NULL, mn + AS_CANARY, &d->f));
    SC_TRY(mems_upload(ms, NULL, 1, &d->lambda));
    SC_TRY(mems_upload(ms, NULL, sc_asoftmax_saved_floats(c->M), &d->saved));
    SC_TRY(mems_upload(ms, c->dy, mn, &d->dy));
    d->ws = NULL;
    if (wsf)
        SC_TRY(mems_upload(ms, NULL, wsf, &d->ws));
    SC_TRY(mems_upload(ms, c->dx0, mk, &d->dx[0]));
    SC_TRY(mems_upload(ms, c->dw0, nk, &d->dw[0]));
    SC_TRY(mems_upload(ms, garbage, mk, &d->dx[1]));
    SC_TRY(mems_upload(ms, NULL, nk, &d->dw[1]));
    SC_TRY(sc_buffer_fill(ms->ctx, d->f, AS_CANARY_VALUE, 0, mn + AS_CANARY));
    /* Caffe's iter_ holds `iteration` before the first forward; lambda is
     * garbage on purpose: the advancing forward must not read it */
    return sc_asoftmax_state_set(ms->ctx, d->state, c->p.iteration, -1.0f);
}

static sc_status dev_record(sc_plan *plan, const as_case *c, const as_dev *d)
{
    SC_TRY(sc_asoftmax_forward(plan, "asoftmax", &c->p, c->xs, d->x, d->labels, c->ws, d->w,
                               d->state, 1, d->f, d->lambda, d->saved));
    for (int k = 0; k < 2; k++) {
        sc_asoftmax_params p = c->p;
        p.mode = k == 0 ? SC_ASOFTMAX_CAFFE : SC_ASOFTMAX_EXACT;
        SC_TRY(sc_asoftmax_backward(plan, "asoftmax", &p, c->xs, d->x, d->labels, c->ws, d->w,
                                    d->state, d->saved, d->dy, d->ws, d->dx[k],
                                    k == 0 ? c->beta_dx : 0.0f, d->dw[k]));
    }
    return SC_OK;
}

static sc_status dev_download(sc_ctx *ctx, const as_case *c, const as_dev *d, as_result *r)
{
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    SC_TRY(sc_conf_download(ctx, d->f, mn + AS_CANARY, r->f));
    SC_TRY(sc_conf_download(ctx, d->w, nk, r->w_after));
    SC_TRY(sc_conf_download(ctx, d->saved, sc_asoftmax_saved_floats(c->M), r->saved));
    SC_TRY(sc_conf_download(ctx, d->lambda, 1, &r->lambda_top));
    for (int k = 0; k < 2; k++) {
        SC_TRY(sc_conf_download(ctx, d->dx[k], mk, r->dx[k]));
        SC_TRY(sc_conf_download(ctx, d->dw[k], nk, r->dw[k]));
    }
    SC_TRY(sc_asoftmax_state_get(ctx, d->state, &r->iter, &r->lambda_state));
    r->canary_ok = 1;
    for (int i = 0; i < AS_CANARY; i++)
        r->canary_ok &= r->f[mn + i] == AS_CANARY_VALUE;
    return SC_OK;
}

/* Runs forward + caffe backward + exact backward in one plan; when gflops is
 * not NULL also times a forward-only plan (afterwards: it advances the state). */
static sc_status case_run(sc_ctx *ctx, as_bag *bag, const as_case *c, as_result *r,
                          double *gflops)
{
    SC_TRY(result_alloc(ctx, bag, c, r));
    size_t mk = (size_t)c->M * c->K;
    float *garbage = bag_calloc(bag, mk, sizeof(float));
    if (!garbage)
        return nomem(ctx);
    for (size_t i = 0; i < mk; i++)
        garbage[i] = AS_DX_GARBAGE;
    as_mems ms = {.ctx = ctx};
    as_dev d;
    sc_plan *plan = NULL;
    sc_status st = dev_upload(&ms, c, garbage, &d);
    if (st == SC_OK)
        st = sc_plan_create(ctx, &plan);
    if (st == SC_OK)
        st = dev_record(plan, c, &d);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    if (st == SC_OK)
        st = dev_download(ctx, c, &d, r);
    sc_plan_destroy(plan);
    plan = NULL;
    if (st == SC_OK && gflops) {
        st = sc_plan_create(ctx, &plan);
        if (st == SC_OK)
            st = sc_asoftmax_forward(plan, "asoftmax-timing", &c->p, c->xs, d.x, d.labels, c->ws,
                                     d.w, d.state, 1, d.f, d.lambda, d.saved);
        double ms_per = 0;
        if (st == SC_OK)
            st = sc_conf_time(plan, 5, &ms_per);
        if (st == SC_OK)
            *gflops = ms_per > 0 ? 2.0 * c->M * c->N * c->K / (ms_per * 1e6) : -1;
        sc_plan_destroy(plan);
    }
    mems_release(&ms);
    return st;
}

/* ------------------------------------------------------ reference helpers */

/* Row by row, so a row whose label is out of range gets the plain inner
 * product (m = 1) as the device does; otherwise the same as one full call. */
static void ref_forward_rows(const as_case *c, double lambda, double *f)
{
    for (int i = 0; i < c->M; i++) {
        int y = c->lab[i] >= 0 ? c->lab[i] : 0;
        int m = c->lab[i] >= 0 ? c->p.m : 1;
        ref_asoftmax_forward_normalized(1, c->K, c->N, m, lambda, c->xd + (size_t)i * c->K,
                                        c->wnd, &y, f + (size_t)i * c->N);
    }
}

/* dx and dW (from zero) of one mode, row by row as above; scratch: N*K doubles. */
static void ref_backward_rows(const as_case *c, int exact, double lambda, double *dx, double *dw,
                              double *scratch)
{
    size_t nk = (size_t)c->N * c->K;
    memset(dw, 0, nk * sizeof(double));
    for (int i = 0; i < c->M; i++) {
        int y = c->lab[i] >= 0 ? c->lab[i] : 0;
        int m = c->lab[i] >= 0 ? c->p.m : 1;
        const double *xi = c->xd + (size_t)i * c->K, *td = c->dyd + (size_t)i * c->N;
        double *dxi = dx + (size_t)i * c->K;
        if (exact)
            ref_asoftmax_backward_exact(1, c->K, c->N, m, lambda, xi, c->wnd, &y, td, dxi,
                                        scratch);
        else
            ref_asoftmax_backward_caffe(1, c->K, c->N, m, lambda, xi, c->wnd, &y, td, dxi,
                                        scratch);
        for (size_t k = 0; k < nk; k++)
            dw[k] += scratch[k];
    }
}

/* ref += initial (the caffe-mode run starts from dx0 / dw0). */
static void add_initial(double *ref, const float *initial, size_t n)
{
    if (initial)
        for (size_t i = 0; i < n; i++)
            ref[i] += initial[i];
}

typedef struct as_fd_ctx {
    const as_case *c;
    double lambda;
} as_fd_ctx;

static void fd_wrt_x(void *ctx, const double *in, double *out)
{
    const as_fd_ctx *f = ctx;
    ref_asoftmax_forward_normalized(f->c->M, f->c->K, f->c->N, f->c->p.m, f->lambda, in,
                                    f->c->wnd, f->c->lab, out);
}

static void fd_wrt_w(void *ctx, const double *in, double *out)
{
    const as_fd_ctx *f = ctx;
    ref_asoftmax_forward_normalized(f->c->M, f->c->K, f->c->N, f->c->p.m, f->lambda, f->c->xd,
                                    in, f->c->lab, out);
}

/* Central differences of L = sum(dy * f) w.r.t. x (wrt_w = 0) or the
 * normalised W, on all entries or a subset, compared with the device's. */
static sc_status fd_compare(sc_ctx *ctx, sc_conf_report *rep, const as_case *c, double lambda,
                            int wrt_w, const float *got, const char *shape)
{
    size_t n = wrt_w ? (size_t)c->N * c->K : (size_t)c->M * c->K;
    size_t n_idx = n <= AS_FD_ALL ? n : AS_FD_PICK;
    as_bag bag = {0};
    double *in = bag_calloc(&bag, n, sizeof(double));
    double *fd = bag_calloc(&bag, n_idx, sizeof(double));
    size_t *idx = bag_calloc(&bag, n_idx, sizeof(size_t));
    float *got_sub = bag_calloc(&bag, n_idx, sizeof(float));
    if (!in || !fd || !idx || !got_sub) {
        bag_free(&bag);
        return nomem(ctx);
    }
    memcpy(in, wrt_w ? c->wnd : c->xd, n * sizeof(double));
    n_idx = ref_pick_indices(n, n_idx, 0xA50F + (uint64_t)n, idx);
    as_fd_ctx fctx = {c, lambda};
    int rc = ref_fd_grad(wrt_w ? fd_wrt_w : fd_wrt_x, &fctx, in, n, (size_t)c->M * c->N, c->dyd,
                         AS_FD_STEP, idx, n_idx, fd);
    for (size_t k = 0; k < n_idx; k++)
        got_sub[k] = got[idx[k]];
    sc_status st = rc == 0 ? sc_conf_compare(rep, AS_OP, shape,
                                             wrt_w ? "backward-filter-exact-fd"
                                                   : "backward-data-exact-fd",
                                             got_sub, fd, n_idx, AS_FD_TOL, -1)
                           : nomem(ctx);
    bag_free(&bag);
    return st;
}

/* ----------------------------------------------------------- input builders */

static double dot_d(int K, const double *a, const double *b)
{
    double s = 0;
    for (int k = 0; k < K; k++)
        s += a[k] * b[k];
    return s;
}

/* Distance of c from the nearest sign boundary of the layer (any m). */
static double boundary_distance(double c)
{
    const double b[] = {0.0, 0.5, -0.5, 0.70710678118654752, -0.70710678118654752};
    double best = INFINITY;
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        best = fmin(best, fabs(c - b[i]));
    return best;
}

/* Weights: N(0,1) rows scaled by a log-uniform factor in [0.2, 5] (so the
 * normalisation matters). */
static void build_weights(sc_conf_rng *rng, as_case *c)
{
    for (int j = 0; j < c->N; j++) {
        double scale = exp(sc_conf_uniform(rng, log(0.2), log(5.0)));
        for (int k = 0; k < c->K; k++)
            c->w[(size_t)j * c->K + k] = (float)(scale * sc_conf_normal(rng));
    }
}

/* Row i of x = r (c w_y + sqrt(1 - c^2) u), u a unit vector orthogonal to
 * w_y, r log-uniform in [0.5, 20], c uniform in (-0.95, 0.95): all branches of
 * psi get used, and the float row keeps its cosine AS_SIGN_GAP away from every
 * boundary (retried until it does). wnd must hold the normalised weights. */
static void build_row(sc_conf_rng *rng, as_case *c, int i, double *u)
{
    const int K = c->K;
    const double *wy = c->wnd + (size_t)c->lab[i] * K;
    float *xi = c->x + (size_t)i * K;
    for (int attempt = 0; attempt < 1000; attempt++) {
        double cs;
        do
            cs = sc_conf_uniform(rng, -0.95, 0.95);
        while (boundary_distance(cs) < 2 * AS_SIGN_GAP);
        for (int k = 0; k < K; k++)
            u[k] = sc_conf_normal(rng);
        double proj = dot_d(K, u, wy);
        for (int k = 0; k < K; k++)
            u[k] -= proj * wy[k];
        double un = sqrt(dot_d(K, u, u));
        if (un < 1e-6)
            continue;
        double r = exp(sc_conf_uniform(rng, log(0.5), log(20.0)));
        double s = sqrt(1.0 - cs * cs);
        double xx = 0, xw = 0;
        for (int k = 0; k < K; k++) {
            xi[k] = (float)(r * (cs * wy[k] + s * u[k] / un));
            xx += (double)xi[k] * xi[k];
            xw += (double)xi[k] * wy[k];
        }
        if (xx > 0 && boundary_distance(xw / sqrt(xx)) >= AS_SIGN_GAP)
            return;
    }
}

/* A generated case: labels uniform in [0, N), rows built by build_row, dy
 * N(0,1); the caffe-mode run starts from random dx0/dW0 (beta_dx 1 when
 * accumulate, else beta_dx 0 over the same values). */
static sc_status build_generated(sc_ctx *ctx, as_bag *bag, sc_conf_rng *rng, as_case *c,
                                 sc_shape xs, int N, int accumulate)
{
    int M = xs.n, K = xs.c * xs.h * xs.w;
    c->xs = xs;
    c->ws = (sc_shape){N, K, 1, 1};
    SC_TRY(case_alloc(ctx, bag, c, M, K, N));
    double *u = bag_calloc(bag, (size_t)K, sizeof(double));
    float *dx0 = bag_calloc(bag, (size_t)M * K, sizeof(float));
    float *dw0 = bag_calloc(bag, (size_t)N * K, sizeof(float));
    if (!u || !dx0 || !dw0)
        return nomem(ctx);
    build_weights(rng, c);
    for (int i = 0; i < M; i++)
        c->labels[i] = (float)(int)sc_conf_uniform(rng, 0, N - 1e-9);
    case_derive(c); /* wnd and targets, needed by build_row */
    for (int i = 0; i < M; i++)
        build_row(rng, c, i, u);
    for (size_t i = 0; i < (size_t)M * N; i++)
        c->dy[i] = (float)sc_conf_normal(rng);
    sc_conf_fill(rng, dx0, NULL, (size_t)M * K, -1, 1);
    sc_conf_fill(rng, dw0, NULL, (size_t)N * K, -1, 1);
    c->dx0 = dx0;
    c->dw0 = dw0;
    c->beta_dx = accumulate ? 1.0f : 0.0f;
    case_derive(c);
    return SC_OK;
}

/* ------------------------------------------------------- generated checks */

static void case_shape(const as_case *c, double lambda, const char *tag, char *buf, size_t cap)
{
    snprintf(buf, cap, "%sM%d C%d H%d W%d K%d N%d m%d lambda%.4g beta%g", tag, c->xs.n, c->xs.c,
             c->xs.h, c->xs.w, c->K, c->N, c->p.m, lambda, (double)c->beta_dx);
}

typedef struct as_checks {
    int fd;         /* exact mode also against finite differences */
    int canary;     /* add a row for the bytes after f */
    double gflops;  /* for the forward row */
} as_checks;

/* Compares one run with the reference: forward, both backward modes (closed
 * forms, and finite differences when asked). */
static sc_status compare_case(sc_ctx *ctx, sc_conf_report *rep, const as_case *c,
                              const as_result *r, const char *tag, as_checks chk)
{
    double lambda = ref_asoftmax_lambda(c->p.base, c->p.gamma, c->p.power, c->p.lambda_min,
                                        c->p.iteration + 1);
    char shape[128];
    case_shape(c, lambda, tag, shape, sizeof shape);
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    as_bag bag = {0};
    double *f = bag_calloc(&bag, mn, sizeof(double));
    double *dx = bag_calloc(&bag, mk, sizeof(double));
    double *dw = bag_calloc(&bag, nk, sizeof(double));
    double *scratch = bag_calloc(&bag, nk, sizeof(double));
    double *lam = bag_calloc(&bag, 1, sizeof(double));
    if (!f || !dx || !dw || !scratch || !lam) {
        bag_free(&bag);
        return nomem(ctx);
    }
    sc_status st = SC_OK;
    *lam = lambda;
    ref_forward_rows(c, lambda, f);
#define AS_ROW(expr)        \
    if (st == SC_OK)        \
        st = (expr);
    AS_ROW(sc_conf_compare(rep, AS_OP, shape, "lambda", &r->lambda_top, lam, 1, AS_LAMBDA_TOL, -1));
    AS_ROW(sc_conf_compare(rep, AS_OP, shape, "forward", r->f, f, mn, AS_TOL, chk.gflops));
    if (chk.canary)
        AS_ROW(sc_conf_add_check(rep, AS_OP, shape, "output-bounds-untouched", r->canary_ok));
    for (int exact = 0; exact < 2; exact++) {
        ref_backward_rows(c, exact, lambda, dx, dw, scratch);
        if (!exact) {
            add_initial(dx, c->beta_dx != 0.0f ? c->dx0 : NULL, mk);
            add_initial(dw, c->dw0, nk);
        }
        AS_ROW(sc_conf_compare(rep, AS_OP, shape,
                               exact ? "backward-data-exact" : "backward-data-caffe", r->dx[exact],
                               dx, mk, AS_TOL, -1));
        AS_ROW(sc_conf_compare(rep, AS_OP, shape,
                               exact ? "backward-filter-exact" : "backward-filter-caffe",
                               r->dw[exact], dw, nk, AS_TOL, -1));
    }
    if (chk.fd) {
        AS_ROW(fd_compare(ctx, rep, c, lambda, 0, r->dx[1], shape));
        AS_ROW(fd_compare(ctx, rep, c, lambda, 1, r->dw[1], shape));
    }
#undef AS_ROW
    bag_free(&bag);
    return st;
}

typedef struct as_gen_shape {
    sc_shape x;
    int N;
    int iteration;    /* schedule base 1000, gamma 0.12, power 1 */
    float lambda_min;
    int fd;           /* check exact mode by finite differences */
    int m_only;       /* 0: m = 1..4 */
    int timed;        /* report GFLOP/s of the forward */
} as_gen_shape;

/* lambda: 892.9 (Caffe's first iteration), 5 (the usual floor), 0.083 (the
 * margin dominates f: the hardest test of the target terms). */
static const as_gen_shape AS_GEN_SHAPES[] = {
    {{1, 3, 1, 3}, 4, 0, 5.0f, 1, 0, 0},         /* batch 1, K = 9 */
    {{7, 33, 1, 1}, 11, 28000, 5.0f, 1, 0, 0},   /* 33 channels */
    {{5, 2, 3, 5}, 7, 100000, 0.0f, 1, 0, 0},    /* C x H x W flattened */
    {{17, 32, 2, 2}, 61, 100000, 0.0f, 1, 0, 0}, /* FD on subsets */
    {{64, 512, 1, 1}, 1000, 99, 5.0f, 0, 4, 1},  /* SphereFace-like, timed */
};

static sc_status run_generated(sc_ctx *ctx, sc_conf_report *rep)
{
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 20240601);
    sc_status st = SC_OK;
    int case_no = 0;
    for (size_t s = 0; st == SC_OK && s < sizeof AS_GEN_SHAPES / sizeof AS_GEN_SHAPES[0]; s++) {
        const as_gen_shape *g = &AS_GEN_SHAPES[s];
        for (int m = 1; st == SC_OK && m <= 4; m++) {
            if (g->m_only && m != g->m_only)
                continue;
            as_bag bag = {0};
            as_case c = {0};
            c.p = sc_asoftmax_params_default(g->N);
            c.p.m = m;
            c.p.base = 1000.0f, c.p.gamma = 0.12f, c.p.power = 1.0f;
            c.p.lambda_min = g->lambda_min;
            c.p.iteration = g->iteration;
            st = build_generated(ctx, &bag, &rng, &c, g->x, g->N, case_no++ % 2);
            as_result r = {0};
            as_checks chk = {.fd = g->fd, .canary = 1, .gflops = -1};
            if (st == SC_OK)
                st = case_run(ctx, &bag, &c, &r, g->timed ? &chk.gflops : NULL);
            if (st == SC_OK)
                st = compare_case(ctx, rep, &c, &r, "", chk);
            bag_free(&bag);
        }
    }
    return st;
}

/* Rows 0 and 2 have an exactly-zero target cosine (w_1 = (2.5, 0, ...), x_0 = 0):
 * sign(0) = 0 as Caffe's caffe_cpu_sign. Closed forms only (FD has a kink there). */
static sc_status run_sign_zero(sc_ctx *ctx, sc_conf_report *rep)
{
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 77);
    sc_status st = SC_OK;
    for (int m = 2; st == SC_OK && m <= 4; m++) {
        as_bag bag = {0};
        as_case c = {0};
        c.p = sc_asoftmax_params_default(4);
        c.p.m = m, c.p.base = 1000.0f, c.p.gamma = 0.12f, c.p.lambda_min = 0.5f;
        c.p.iteration = 50000;
        c.xs = (sc_shape){3, 5, 1, 1};
        c.ws = (sc_shape){4, 5, 1, 1};
        st = case_alloc(ctx, &bag, &c, 3, 5, 4);
        if (st == SC_OK) {
            build_weights(&rng, &c);
            for (int k = 0; k < 5; k++)
                c.w[5 + k] = k == 0 ? 2.5f : 0.0f;
            sc_conf_fill(&rng, c.x, NULL, 15, -2, 2);
            c.x[0] = c.x[10] = 0.0f;
            c.labels[0] = 1, c.labels[1] = 3, c.labels[2] = 1;
            for (int i = 0; i < 12; i++)
                c.dy[i] = (float)sc_conf_normal(&rng);
            case_derive(&c);
        }
        as_result r = {0};
        as_checks chk = {.fd = 0, .canary = 0, .gflops = -1};
        if (st == SC_OK)
            st = case_run(ctx, &bag, &c, &r, NULL);
        if (st == SC_OK)
            st = compare_case(ctx, rep, &c, &r, "cos0 ", chk);
        bag_free(&bag);
    }
    return st;
}

/* Labels N, -1, 1e9 and NaN: those rows get the plain inner product and the
 * floats after f stay untouched. */
static sc_status run_bad_labels(sc_ctx *ctx, sc_conf_report *rep)
{
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 99);
    as_bag bag = {0};
    as_case c = {0};
    c.p = sc_asoftmax_params_default(5);
    c.p.m = 4, c.p.base = 1000.0f, c.p.gamma = 0.12f, c.p.lambda_min = 0.0f;
    c.p.iteration = 100000;
    c.xs = (sc_shape){5, 6, 1, 1};
    c.ws = (sc_shape){5, 6, 1, 1};
    sc_status st = case_alloc(ctx, &bag, &c, 5, 6, 5);
    if (st == SC_OK) {
        build_weights(&rng, &c);
        sc_conf_fill(&rng, c.x, NULL, 30, -2, 2);
        c.labels[0] = 2.0f, c.labels[1] = 5.0f, c.labels[2] = -1.0f, c.labels[3] = 1e9f;
        c.labels[4] = NAN;
        for (int i = 0; i < 25; i++)
            c.dy[i] = (float)sc_conf_normal(&rng);
        case_derive(&c);
    }
    as_result r = {0};
    as_checks chk = {.fd = 0, .canary = 1, .gflops = -1};
    if (st == SC_OK)
        st = case_run(ctx, &bag, &c, &r, NULL);
    if (st == SC_OK)
        st = compare_case(ctx, rep, &c, &r, "labels{2,N,-1,1e9,nan} ", chk);
    bag_free(&bag);
    return st;
}

/* ------------------------------------------------------- schedule and state */

static sc_status schedule_plan(sc_ctx *ctx, const sc_asoftmax_params *p, int advance,
                               cl_mem *bufs, sc_plan **plan)
{
    SC_TRY(sc_plan_create(ctx, plan));
    return sc_asoftmax_forward(*plan, "asoftmax-schedule", p, (sc_shape){3, 5, 1, 1}, bufs[0],
                               bufs[1], (sc_shape){4, 5, 1, 1}, bufs[2], bufs[3], advance,
                               bufs[4], bufs[5], bufs[6]);
}

/* Runs `runs` times and checks iter = start + runs*advance and lambda (state
 * and top) against the double schedule. */
static sc_status schedule_step(sc_ctx *ctx, sc_conf_report *rep, const sc_asoftmax_params *p,
                               cl_mem *bufs, int advance, int runs, int start, double expect,
                               const char *what)
{
    sc_plan *plan = NULL;
    sc_status st = schedule_plan(ctx, p, advance, bufs, &plan);
    for (int i = 0; st == SC_OK && i < runs; i++)
        st = sc_conf_run(plan);
    sc_plan_destroy(plan);
    int iter = 0;
    float lambda = 0, top = 0;
    if (st == SC_OK)
        st = sc_asoftmax_state_get(ctx, bufs[3], &iter, &lambda);
    if (st == SC_OK)
        st = sc_conf_download(ctx, bufs[5], 1, &top);
    char shape[128], dir[32];
    snprintf(shape, sizeof shape, "schedule %s iter %d -> %d", what, start, iter);
    snprintf(dir, sizeof dir, "%s-iteration", what);
    if (st == SC_OK)
        st = sc_conf_add_check(rep, AS_OP, shape, dir,
                               iter == start + (advance ? runs : 0) && lambda == top);
    snprintf(dir, sizeof dir, "%s-lambda", what);
    if (st == SC_OK)
        st = sc_conf_compare(rep, AS_OP, shape, dir, &lambda, &expect, 1, AS_LAMBDA_TOL, -1);
    return st;
}

/* Two consecutive advancing forwards, a replay, a non-advancing forward, and
 * the state get/set/init round trips. */
static sc_status run_schedule(sc_ctx *ctx, sc_conf_report *rep)
{
    sc_asoftmax_params p = sc_asoftmax_params_default(4);
    p.m = 3, p.base = 1000.0f, p.gamma = 0.12f, p.power = 1.0f, p.lambda_min = 5.0f;
    float x[15], w[20], labels[3] = {0, 3, 1};
    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 5);
    sc_conf_fill(&rng, x, NULL, 15, -1, 1);
    sc_conf_fill(&rng, w, NULL, 20, -1, 1);
    as_mems ms = {.ctx = ctx};
    cl_mem b[7]; /* x, labels, w, state, f, lambda, saved */
    sc_status st = mems_upload(&ms, x, 15, &b[0]);
    if (st == SC_OK)
        st = mems_upload(&ms, labels, 3, &b[1]);
    if (st == SC_OK)
        st = mems_upload(&ms, w, 20, &b[2]);
    if (st == SC_OK)
        st = mems_upload(&ms, NULL, sc_asoftmax_state_floats(), &b[3]);
    if (st == SC_OK)
        st = mems_upload(&ms, NULL, 12, &b[4]);
    if (st == SC_OK)
        st = mems_upload(&ms, NULL, 1, &b[5]);
    if (st == SC_OK)
        st = mems_upload(&ms, NULL, sc_asoftmax_saved_floats(3), &b[6]);

    /* get/set round trip, exact, and init from the parameters */
    int it = 0;
    float lam = 0;
    if (st == SC_OK)
        st = sc_asoftmax_state_set(ctx, b[3], 123456789, 3.25f);
    if (st == SC_OK)
        st = sc_asoftmax_state_get(ctx, b[3], &it, &lam);
    if (st == SC_OK)
        st = sc_conf_add_check(rep, AS_OP, "state set(123456789, 3.25)", "state-round-trip",
                               it == 123456789 && lam == 3.25f);
    p.iteration = 7;
    if (st == SC_OK)
        st = sc_asoftmax_state_init(ctx, &p, b[3]);
    if (st == SC_OK)
        st = sc_asoftmax_state_get(ctx, b[3], &it, &lam);
    if (st == SC_OK)
        st = sc_conf_add_check(rep, AS_OP, "state init(iteration 7)", "state-init",
                               it == 7 && lam == sc_asoftmax_lambda(&p, 7));

    /* from 5: two forwards -> 7, a replay of both -> 9 (the plan needs no host step) */
    if (st == SC_OK)
        st = sc_asoftmax_state_set(ctx, b[3], 5, 0.0f);
    if (st == SC_OK)
        st = schedule_step(ctx, rep, &p, b, 1, 2, 5, ref_asoftmax_lambda(1000, 0.12f, 1, 5, 7),
                           "advance");
    if (st == SC_OK)
        st = schedule_step(ctx, rep, &p, b, 1, 2, 7, ref_asoftmax_lambda(1000, 0.12f, 1, 5, 9),
                           "replay");
    /* advance = 0 keeps iter and lambda, and still writes the lambda top */
    if (st == SC_OK)
        st = sc_buffer_fill(ctx, b[5], 0.0f, 0, 1);
    if (st == SC_OK)
        st = schedule_step(ctx, rep, &p, b, 0, 1, 9, ref_asoftmax_lambda(1000, 0.12f, 1, 5, 9),
                           "no-advance");
    /* far out the floor holds exactly */
    if (st == SC_OK)
        st = sc_asoftmax_state_set(ctx, b[3], 1000000, 0.0f);
    if (st == SC_OK)
        st = schedule_step(ctx, rep, &p, b, 1, 1, 1000000, 5.0, "floor");
    mems_release(&ms);
    return st;
}

/* --------------------------------------------------------- argument errors */

typedef struct as_err_case {
    const char *what;   /* row direction */
    int backward;
    int m;
    sc_asoftmax_mode mode;
    sc_shape x, w;
    size_t label_floats;
    const char *needle; /* part of the message that says what is wrong */
} as_err_case;

static const as_err_case AS_ERR_CASES[] = {
    {"error-m-5", 0, 5, SC_ASOFTMAX_CAFFE, {4, 8, 1, 1}, {5, 8, 1, 1}, 4, "m = 5"},
    {"error-m-0-backward", 1, 0, SC_ASOFTMAX_CAFFE, {4, 8, 1, 1}, {5, 8, 1, 1}, 4, "m = 0"},
    {"error-k-mismatch", 0, 2, SC_ASOFTMAX_CAFFE, {4, 3, 1, 3}, {5, 8, 1, 1}, 4, "K = 9"},
    {"error-label-too-small", 0, 2, SC_ASOFTMAX_CAFFE, {4, 8, 1, 1}, {5, 8, 1, 1}, 3, "label"},
    {"error-zero-m", 0, 2, SC_ASOFTMAX_CAFFE, {0, 8, 1, 1}, {5, 8, 1, 1}, 4, "zero"},
    {"error-num-output", 0, 2, SC_ASOFTMAX_CAFFE, {4, 8, 1, 1}, {6, 8, 1, 1}, 4, "num_output"},
    {"error-mode", 1, 2, (sc_asoftmax_mode)7, {4, 8, 1, 1}, {5, 8, 1, 1}, 4, "mode"},
};

/* Records one invalid call; passes when it fails, records nothing and the
 * message names the layer, the op, both shapes and the problem. */
static sc_status check_error_case(sc_ctx *ctx, sc_conf_report *rep, const as_err_case *e,
                                  cl_mem big, cl_mem labels)
{
    sc_asoftmax_params p = sc_asoftmax_params_default(5);
    p.m = e->m;
    p.mode = e->mode;
    sc_plan *plan = NULL;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status got = e->backward
                        ? sc_asoftmax_backward(plan, "fc6", &p, e->x, big, labels, e->w, big, big,
                                               big, big, big, big, 0.0f, big)
                        : sc_asoftmax_forward(plan, "fc6", &p, e->x, big, labels, e->w, big, big,
                                              1, big, big, big);
    size_t steps = sc_plan_steps(plan);
    sc_plan_destroy(plan);
    char xs[64], ws[64], shape[192];
    sc_shape_str(e->x, xs, sizeof xs);
    sc_shape_str(e->w, ws, sizeof ws);
    const char *msg = sc_ctx_message(ctx);
    int pass = got != SC_OK && steps == 0 && strstr(msg, "fc6") &&
               strstr(msg, "MarginInnerProduct") && strstr(msg, xs) && strstr(msg, ws) &&
               strstr(msg, e->needle);
    snprintf(shape, sizeof shape, "x %s w %s m%d", xs, ws, e->m);
    return sc_conf_add_check(rep, AS_OP, shape, e->what, pass);
}

static sc_status run_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    as_mems ms = {.ctx = ctx};
    cl_mem big = NULL;
    sc_status st = mems_upload(&ms, NULL, 4096, &big);
    for (size_t i = 0; st == SC_OK && i < sizeof AS_ERR_CASES / sizeof AS_ERR_CASES[0]; i++) {
        const as_err_case *e = &AS_ERR_CASES[i];
        /* exactly label_floats: the pool may hand out a larger buffer */
        cl_int rc;
        cl_mem labels = clCreateBuffer(sc_ctx_cl(ctx), CL_MEM_READ_WRITE,
                                       e->label_floats * sizeof(float), NULL, &rc);
        if (rc != CL_SUCCESS) {
            st = sc_cl_fail(ctx, rc, "clCreateBuffer", "asoftmax error-case labels");
            break;
        }
        st = check_error_case(ctx, rep, e, big, labels);
        clReleaseMemObject(labels);
    }
    mems_release(&ms);
    return st;
}

sc_status sc_conf_asoftmax(sc_ctx *ctx, sc_conf_report *rep)
{
    SC_TRY(run_generated(ctx, rep));
    SC_TRY(run_sign_zero(ctx, rep));
    SC_TRY(run_bad_labels(ctx, rep));
    SC_TRY(run_schedule(ctx, rep));
    return run_errors(ctx, rep);
}

/* ------------------------------------------------------------------ golden */

static const char *const AS_GOLDEN_RECORDS[] = {
    "m", "M", "K", "N", "base", "gamma", "power", "lambda_min", "iteration", "lambda", "x", "W",
    "label", "top_diff", "W_normalized", "f", "dx_caffe", "dW_caffe", "dx_exact", "dW_exact"};

static int golden_has_records(const sc_gtext *g)
{
    for (size_t i = 0; i < sizeof AS_GOLDEN_RECORDS / sizeof AS_GOLDEN_RECORDS[0]; i++)
        if (!sc_gtext_find(g, AS_GOLDEN_RECORDS[i]))
            return 0;
    return 1;
}

/* The values of a record that must hold n values. */
static sc_status golden_array(sc_ctx *ctx, const sc_gtext *g, const char *name, size_t n,
                              const double **out)
{
    const sc_gtext_rec *rec;
    SC_TRY(sc_gtext_get(g, name, &rec, sc_ctx_error(ctx)));
    if (rec->count != n)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE, "%s:%d: %s holds %zu values, expected %zu",
                       g->path, rec->line, name, rec->count, n);
    *out = rec->v;
    return SC_OK;
}

static sc_status golden_int(sc_ctx *ctx, const sc_gtext *g, const char *name, int lo, int *out)
{
    double v;
    SC_TRY(sc_gtext_scalar(g, name, &v, sc_ctx_error(ctx)));
    if (!(v >= lo && v <= INT_MAX) || v != floor(v))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_PARSE, "%s: %s = %g is not an integer >= %d",
                       g->path, name, v, lo);
    *out = (int)v;
    return SC_OK;
}

/* Reads the case's parameters and inputs into c. */
static sc_status golden_case(sc_ctx *ctx, as_bag *bag, const sc_gtext *g, as_case *c)
{
    int m = 0, M = 0, K = 0, N = 0, iteration = 0;
    double base = 0, gamma = 0, power = 0, lambda_min = 0;
    SC_TRY(golden_int(ctx, g, "m", 1, &m));
    SC_TRY(golden_int(ctx, g, "M", 1, &M));
    SC_TRY(golden_int(ctx, g, "K", 1, &K));
    SC_TRY(golden_int(ctx, g, "N", 1, &N));
    SC_TRY(golden_int(ctx, g, "iteration", INT_MIN, &iteration));
    SC_TRY(sc_gtext_scalar(g, "base", &base, sc_ctx_error(ctx)));
    SC_TRY(sc_gtext_scalar(g, "gamma", &gamma, sc_ctx_error(ctx)));
    SC_TRY(sc_gtext_scalar(g, "power", &power, sc_ctx_error(ctx)));
    SC_TRY(sc_gtext_scalar(g, "lambda_min", &lambda_min, sc_ctx_error(ctx)));
    c->p = sc_asoftmax_params_default(N);
    c->p.m = m;
    c->p.base = (float)base, c->p.gamma = (float)gamma, c->p.power = (float)power;
    c->p.lambda_min = (float)lambda_min;
    c->p.iteration = iteration;
    c->xs = (sc_shape){M, K, 1, 1};
    c->ws = (sc_shape){N, K, 1, 1};
    SC_TRY(case_alloc(ctx, bag, c, M, K, N));
    sc_error *err = sc_ctx_error(ctx);
    SC_TRY(sc_gtext_copy_f32(g, "x", c->x, (size_t)M * K, err));
    SC_TRY(sc_gtext_copy_f32(g, "W", c->w, (size_t)N * K, err));
    SC_TRY(sc_gtext_copy_f32(g, "label", c->labels, (size_t)M, err));
    SC_TRY(sc_gtext_copy_f32(g, "top_diff", c->dy, (size_t)M * N, err));
    c->dx0 = c->dw0 = NULL;
    c->beta_dx = 0.0f;
    case_derive(c);
    return SC_OK;
}

/* "case03_m2_4x8x5_first" from a path. */
static void golden_label(const char *path, char *buf, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, cap, "%s", base);
    char *dot = strrchr(buf, '.');
    if (dot && strcmp(dot, ".txt") == 0)
        *dot = '\0';
}

static sc_status golden_compare(sc_ctx *ctx, sc_conf_report *rep, const sc_gtext *g,
                                const as_case *c, const as_result *r, const char *shape)
{
    size_t mk = (size_t)c->M * c->K, nk = (size_t)c->N * c->K, mn = (size_t)c->M * c->N;
    static const struct {
        const char *rec, *direction;
    } arrays[] = {{"W_normalized", "weights-normalized"}, {"f", "forward"},
                  {"dx_caffe", "backward-data-caffe"},    {"dW_caffe", "backward-filter-caffe"},
                  {"dx_exact", "backward-data-exact"},    {"dW_exact", "backward-filter-exact"}};
    const float *got[] = {r->w_after, r->f, r->dx[0], r->dw[0], r->dx[1], r->dw[1]};
    const size_t count[] = {nk, mn, mk, nk, mk, nk};
    double lambda = 0;
    SC_TRY(sc_gtext_scalar(g, "lambda", &lambda, sc_ctx_error(ctx)));
    SC_TRY(sc_conf_compare(rep, AS_OP, shape, "lambda", &r->lambda_top, &lambda, 1,
                           AS_LAMBDA_TOL, -1));
    double iter_expect = c->p.iteration + 1.0;
    if (sc_gtext_find(g, "iter"))
        SC_TRY(sc_gtext_scalar(g, "iter", &iter_expect, sc_ctx_error(ctx)));
    SC_TRY(sc_conf_add_check(rep, AS_OP, shape, "iteration",
                             r->iter == iter_expect && r->lambda_state == r->lambda_top));
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        const double *ref = NULL;
        SC_TRY(golden_array(ctx, g, arrays[i].rec, count[i], &ref));
        SC_TRY(sc_conf_compare(rep, AS_OP, shape, arrays[i].direction, got[i], ref, count[i],
                               AS_TOL, -1));
    }
    /* the saved |x| and target cosines, when the file has them */
    const char *saved_recs[] = {"x_norm", "cos_target"};
    const char *saved_dirs[] = {"saved-x-norm", "saved-cos"};
    for (int k = 0; k < 2; k++) {
        if (!sc_gtext_find(g, saved_recs[k]))
            continue;
        const double *ref = NULL;
        SC_TRY(golden_array(ctx, g, saved_recs[k], (size_t)c->M, &ref));
        SC_TRY(sc_conf_compare(rep, AS_OP, shape, saved_dirs[k], r->saved + (size_t)k * c->M,
                               ref, (size_t)c->M, AS_TOL, -1));
    }
    return SC_OK;
}

/* One golden file. required: a file without the case records is an error
 * (listed in cases.txt) rather than skipped (found by scanning). */
static sc_status golden_file(sc_ctx *ctx, sc_conf_report *rep, const char *path, int required,
                             int *ran)
{
    sc_gtext g = {0};
    sc_status st = sc_gtext_load(path, &g, sc_ctx_error(ctx));
    if (st != SC_OK) {
        sc_gtext_free(&g);
        return required ? st : SC_OK;
    }
    if (!golden_has_records(&g)) {
        st = SC_OK;
        for (size_t i = 0; required && i < sizeof AS_GOLDEN_RECORDS / sizeof AS_GOLDEN_RECORDS[0];
             i++) {
            const sc_gtext_rec *rec;
            st = sc_gtext_get(&g, AS_GOLDEN_RECORDS[i], &rec, sc_ctx_error(ctx));
            if (st != SC_OK)
                break;
        }
        sc_gtext_free(&g);
        return st;
    }
    as_bag bag = {0};
    as_case c = {0};
    as_result r = {0};
    char name[96], shape[128];
    golden_label(path, name, sizeof name);
    st = golden_case(ctx, &bag, &g, &c);
    if (st == SC_OK) {
        snprintf(shape, sizeof shape, "%s m%d M%d K%d N%d iteration %d", name, c.p.m, c.M, c.K,
                 c.N, c.p.iteration);
        st = case_run(ctx, &bag, &c, &r, NULL);
    }
    if (st == SC_OK)
        st = golden_compare(ctx, rep, &g, &c, &r, shape);
    if (st == SC_OK)
        (*ran)++;
    bag_free(&bag);
    sc_gtext_free(&g);
    return st;
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* The files named in cases.txt: the first token of every non-comment line. */
static sc_status golden_listed(sc_ctx *ctx, sc_conf_report *rep, const char *dir, FILE *list,
                               int *ran)
{
    char line[4096];
    sc_status st = SC_OK;
    while (st == SC_OK && fgets(line, sizeof line, list)) {
        char file[1024];
        if (line[0] == '#' || sscanf(line, "%1023s", file) != 1)
            continue;
        char *path = join_path(dir, file);
        if (!path)
            return nomem(ctx);
        st = golden_file(ctx, rep, path, 1, ran);
        free(path);
    }
    return st;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Without cases.txt: every *.txt file of dir that holds the records, in name order. */
static sc_status golden_scan(sc_ctx *ctx, sc_conf_report *rep, const char *dir, int *ran)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_IO,
                       "asoftmax golden: cannot open folder %s (nor %s/cases.txt)", dir, dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    sc_status st = SC_OK;
    struct dirent *e;
    while (st == SC_OK && (e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                st = nomem(ctx);
                break;
            }
            names = grown;
        }
        names[n] = join_path(dir, e->d_name);
        if (!names[n])
            st = nomem(ctx);
        else
            n++;
    }
    closedir(dp);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; st == SC_OK && i < n; i++)
        st = golden_file(ctx, rep, names[i], 0, ran);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

sc_status sc_conf_asoftmax_golden(sc_ctx *ctx, const char *dir, sc_conf_report *rep)
{
    if (!dir)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "asoftmax golden: no folder given");
    char *list_path = join_path(dir, "cases.txt");
    if (!list_path)
        return nomem(ctx);
    FILE *list = fopen(list_path, "r");
    free(list_path);
    int ran = 0;
    sc_status st;
    if (list) {
        st = golden_listed(ctx, rep, dir, list, &ran);
        fclose(list);
    } else {
        st = golden_scan(ctx, rep, dir, &ran);
    }
    if (st == SC_OK && ran == 0)
        st = sc_fail(sc_ctx_error(ctx), SC_ERR_IO, "asoftmax golden: no A-Softmax cases in %s",
                     dir);
    return st;
}
