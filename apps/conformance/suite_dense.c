/* Conformance of Convolution, DepthwiseConvolution and InnerProduct.
 *
 * The three ops share one checking scheme (dense_check): inputs x, weights w,
 * an optional bias b and a random top diff dy; the forward is compared with
 * the double-precision reference (tests/common/ref_ops.h); every gradient with
 * central finite differences of that reference (ref_grad.h) on up to
 * FD_MAX_ENTRIES picked entries of each operand. One plan holds, in order:
 *   forward into y (prefilled with NaN: the forward must overwrite),
 *   backward with beta_dx 0 into dx (prefilled with NaN), dW and db
 *     accumulated onto random non-zero values,
 *   backward with beta_dx 1 into dx_acc (random start), dW and db skipped.
 * InnerProduct runs the plan under both GEMM providers. Convolutions run on
 * the context's convolution provider (SPHERECL_CONV): oneDNN once
 * ("conv=dnnl"), the OpenCL path under both GEMM providers ("conv=opencl
 * gemm=..."); sphere-conformance and tests/ops/test_conv_providers.c run
 * the suite under each. */
#include "suite_dense.h"

#include "ref_grad.h"
#include "ref_ops.h"
#include "suite_conv_prelu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forward vs the double reference: float32 sums of at most ~60 products of
 * values in [-1, 1]; the rounding error grows like sqrt(terms) * 2^-24 times
 * the term size, ~1e-7 of max|y| here, so 1e-5 leaves 100x margin while any
 * indexing mistake gives O(1). */
#define TOL_FORWARD 1e-5
/* The timed convolution sums 576 products per output (C64 x 3x3). */
#define TOL_FORWARD_LONG 1e-4
/* Gradients vs finite differences: the device accumulates up to ~200 float32
 * terms (dW over N*OH*OW); the references are linear in the perturbed
 * operand, so central differences are exact up to double rounding
 * (~1e-16 * |L| / FD_STEP ~ 1e-11). 1e-4 is far above the float error and
 * far below any wrong index or missing term. */
#define TOL_BACKWARD 1e-4
/* FD step: the ops are linear in each operand, so the step only trades
 * rounding (smaller h: larger) against nothing; 1e-3 keeps it negligible. */
#define FD_STEP 1e-3
/* Entries of each operand checked by finite differences (all when fewer). */
#define FD_MAX_ENTRIES 200
/* Timed runs of the big convolution (after one warm-up). */
#define TIMING_REPS 3

static const sc_gemm_provider k_providers[] = {SC_GEMM_DNNL, SC_GEMM_HOST, SC_GEMM_CLBLAST};
#define N_PROVIDERS (sizeof k_providers / sizeof k_providers[0])

/* ================================================================ helpers */

/* A float array for the device and the double copy of the same values. */
typedef struct host_arr {
    float *f;
    double *d;
    size_t n;
} host_arr;

static int host_alloc(host_arr *a, size_t n)
{
    a->n = n;
    a->f = calloc(n ? n : 1, sizeof *a->f);
    a->d = calloc(n ? n : 1, sizeof *a->d);
    return a->f && a->d;
}

static void host_free(host_arr *a)
{
    free(a->f);
    free(a->d);
    a->f = NULL;
    a->d = NULL;
}

/* Finite-difference gradient at picked entries of one operand. */
typedef struct fd_grad {
    size_t *idx;
    double *g;
    size_t n;
} fd_grad;

static void fd_free(fd_grad *fd)
{
    free(fd->idx);
    free(fd->g);
    fd->idx = NULL;
    fd->g = NULL;
    fd->n = 0;
}

static int fd_run(fd_grad *fd, ref_fd_fn f, void *fctx, double *in, size_t n_in, size_t n_out,
                  const double *top, uint64_t seed)
{
    size_t want = n_in < FD_MAX_ENTRIES ? n_in : FD_MAX_ENTRIES;
    fd->idx = malloc((want ? want : 1) * sizeof *fd->idx);
    fd->g = malloc((want ? want : 1) * sizeof *fd->g);
    if (!fd->idx || !fd->g)
        return -1;
    fd->n = ref_pick_indices(n_in, want, seed, fd->idx);
    return ref_fd_grad(f, fctx, in, n_in, n_out, top, FD_STEP, fd->idx, fd->n, fd->g);
}

/* Row comparing got[idx[k]] with base[idx[k]] + fd[k] (base NULL: 0). */
static sc_status compare_picked(sc_conf_report *rep, const char *op, const char *shape,
                                const char *dir, const float *got, const double *base,
                                const fd_grad *fd, double tol)
{
    float *g = malloc((fd->n ? fd->n : 1) * sizeof *g);
    double *r = malloc((fd->n ? fd->n : 1) * sizeof *r);
    sc_status st = SC_ERR_NOMEM;
    if (g && r) {
        for (size_t k = 0; k < fd->n; k++) {
            g[k] = got[fd->idx[k]];
            r[k] = fd->g[k] + (base ? base[fd->idx[k]] : 0.0);
        }
        st = sc_conf_compare(rep, op, shape, dir, g, r, fd->n, tol, -1.0);
    }
    free(g);
    free(r);
    return st;
}

/* Allocates n floats: a copy of host, or (host NULL) filled with `fill`.
 * *out is set even when the fill fails, so the caller can release it. */
static sc_status upload_or_fill(sc_ctx *ctx, const float *host, size_t n, float fill, cl_mem *out)
{
    if (host)
        return sc_conf_upload(ctx, host, n, out);
    SC_TRY(sc_buffer_alloc(ctx, n * sizeof(float), out));
    return sc_buffer_fill(ctx, *out, fill, 0, n);
}

/* Error row: pass when the call failed and the message holds every needle. */
static sc_status error_row(sc_conf_report *rep, sc_ctx *ctx, const char *op, const char *shape,
                           const char *what, sc_status st, const char *const *needles)
{
    int pass = st != SC_OK;
    const char *msg = sc_ctx_message(ctx);
    for (size_t i = 0; pass && needles[i]; i++)
        pass = strstr(msg, needles[i]) != NULL;
    char dir[32];
    snprintf(dir, sizeof dir, "error: %s", what);
    return sc_conf_add_check(rep, op, shape, dir, pass);
}

/* "3" for a square parameter, "3x2" otherwise. */
static const char *pair_str(char *buf, size_t cap, int h, int w)
{
    if (h == w)
        snprintf(buf, cap, "%d", h);
    else
        snprintf(buf, cap, "%dx%d", h, w);
    return buf;
}

/* ===================================================== generic dense check */

typedef struct dense_bufs {
    cl_mem x, w, b, dy, y, dx, dw, db, dx_acc, ws;
} dense_bufs;

/* Which providers a case runs under. */
typedef enum dense_runs {
    RUN_ONCE,  /* OpenCL kernels only (no GEMM, no provider choice) */
    RUN_GEMMS, /* once per GEMM provider */
    RUN_CONV,  /* the context's convolution provider (RUN_GEMMS under OpenCL) */
    RUN_DIRECT /* the context's convolution provider, no GEMM (depthwise) */
} dense_runs;

/* One op under test: its reference forward and its recorder. */
typedef struct dense_op {
    const char *op; /* row label */
    dense_runs runs;
    size_t nx, nw, nb, ny, nws;
    const void *cs; /* the case, read by the two functions */
    void (*ref_forward)(const void *cs, const double *x, const double *w, const double *b,
                        double *y);
    /* Records forward, backward (dx beta 0, dw, db), backward (dx_acc beta 1). */
    sc_status (*record)(sc_plan *plan, const char *name, const void *cs, const dense_bufs *b);
} dense_op;

/* Host data and reference results of one case. */
typedef struct dense_data {
    host_arr x, w, b, dy, dx0, dw0, db0;
    double *y_ref;
    fd_grad gx, gw, gb;
} dense_data;

typedef enum wrt { WRT_X, WRT_W, WRT_B } wrt;

typedef struct fd_ctx {
    const dense_op *op;
    const dense_data *d;
    wrt which;
} fd_ctx;

/* L = sum(dy * f) as a function of one operand (the others held fixed). */
static void dense_fd_forward(void *vctx, const double *in, double *out)
{
    const fd_ctx *c = vctx;
    const dense_data *d = c->d;
    c->op->ref_forward(c->op->cs, c->which == WRT_X ? in : d->x.d,
                       c->which == WRT_W ? in : d->w.d,
                       c->which == WRT_B ? in : (c->op->nb ? d->b.d : NULL), out);
}

static void dense_data_free(dense_data *d)
{
    host_arr *arrs[] = {&d->x, &d->w, &d->b, &d->dy, &d->dx0, &d->dw0, &d->db0};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++)
        host_free(arrs[i]);
    free(d->y_ref);
    fd_free(&d->gx);
    fd_free(&d->gw);
    fd_free(&d->gb);
}

/* Random inputs, the reference forward and the FD gradients. Returns 0 when
 * out of memory. */
static int dense_data_make(dense_data *d, const dense_op *op, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (!host_alloc(&d->x, op->nx) || !host_alloc(&d->w, op->nw) || !host_alloc(&d->b, op->nb) ||
        !host_alloc(&d->dy, op->ny) || !host_alloc(&d->dx0, op->nx) ||
        !host_alloc(&d->dw0, op->nw) || !host_alloc(&d->db0, op->nb) ||
        !(d->y_ref = malloc(op->ny * sizeof *d->y_ref)))
        return 0;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    host_arr *arrs[] = {&d->x, &d->w, &d->b, &d->dy, &d->dx0, &d->dw0, &d->db0};
    for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++)
        sc_conf_fill(&r, arrs[i]->f, arrs[i]->d, arrs[i]->n, -1.0, 1.0);
    op->ref_forward(op->cs, d->x.d, d->w.d, op->nb ? d->b.d : NULL, d->y_ref);
    fd_ctx cx = {op, d, WRT_X}, cw = {op, d, WRT_W}, cb = {op, d, WRT_B};
    if (fd_run(&d->gx, dense_fd_forward, &cx, d->x.d, op->nx, op->ny, d->dy.d, seed + 1) ||
        fd_run(&d->gw, dense_fd_forward, &cw, d->w.d, op->nw, op->ny, d->dy.d, seed + 2))
        return 0;
    if (op->nb && fd_run(&d->gb, dense_fd_forward, &cb, d->b.d, op->nb, op->ny, d->dy.d, seed + 3))
        return 0;
    return 1;
}

static void dense_bufs_release(sc_ctx *ctx, dense_bufs *b)
{
    cl_mem all[] = {b->x, b->w, b->b, b->dy, b->y, b->dx, b->dw, b->db, b->dx_acc, b->ws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sc_buffer_release(ctx, all[i]);
    memset(b, 0, sizeof *b);
}

static sc_status dense_bufs_make(sc_ctx *ctx, const dense_op *op, const dense_data *d,
                                 dense_bufs *b)
{
    memset(b, 0, sizeof *b);
    SC_TRY(upload_or_fill(ctx, d->x.f, op->nx, 0.0f, &b->x));
    SC_TRY(upload_or_fill(ctx, d->w.f, op->nw, 0.0f, &b->w));
    SC_TRY(upload_or_fill(ctx, d->dy.f, op->ny, 0.0f, &b->dy));
    SC_TRY(upload_or_fill(ctx, NULL, op->ny, NAN, &b->y));
    SC_TRY(upload_or_fill(ctx, NULL, op->nx, NAN, &b->dx));
    SC_TRY(upload_or_fill(ctx, d->dw0.f, op->nw, 0.0f, &b->dw));
    SC_TRY(upload_or_fill(ctx, d->dx0.f, op->nx, 0.0f, &b->dx_acc));
    if (op->nb) {
        SC_TRY(upload_or_fill(ctx, d->b.f, op->nb, 0.0f, &b->b));
        SC_TRY(upload_or_fill(ctx, d->db0.f, op->nb, 0.0f, &b->db));
    }
    if (op->nws) /* garbage in the workspace must not matter */
        SC_TRY(upload_or_fill(ctx, NULL, op->nws, NAN, &b->ws));
    return SC_OK;
}

typedef struct dense_results {
    float *y, *dx, *dw, *db, *dx_acc;
} dense_results;

static void dense_results_free(dense_results *r)
{
    free(r->y);
    free(r->dx);
    free(r->dw);
    free(r->db);
    free(r->dx_acc);
}

static sc_status dense_download(sc_ctx *ctx, const dense_op *op, const dense_bufs *b,
                                dense_results *r)
{
    r->y = malloc(op->ny * sizeof(float));
    r->dx = malloc(op->nx * sizeof(float));
    r->dw = malloc(op->nw * sizeof(float));
    r->db = malloc((op->nb ? op->nb : 1) * sizeof(float));
    r->dx_acc = malloc(op->nx * sizeof(float));
    if (!r->y || !r->dx || !r->dw || !r->db || !r->dx_acc)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    SC_TRY(sc_conf_download(ctx, b->y, op->ny, r->y));
    SC_TRY(sc_conf_download(ctx, b->dx, op->nx, r->dx));
    SC_TRY(sc_conf_download(ctx, b->dw, op->nw, r->dw));
    SC_TRY(sc_conf_download(ctx, b->dx_acc, op->nx, r->dx_acc));
    if (op->nb)
        SC_TRY(sc_conf_download(ctx, b->db, op->nb, r->db));
    return SC_OK;
}

static sc_status dense_compare(sc_conf_report *rep, const dense_op *op, const dense_data *d,
                               const dense_results *r, const char *shape)
{
    SC_TRY(sc_conf_compare(rep, op->op, shape, "forward", r->y, d->y_ref, op->ny, TOL_FORWARD,
                           -1.0));
    SC_TRY(compare_picked(rep, op->op, shape, "backward-data", r->dx, NULL, &d->gx,
                          TOL_BACKWARD));
    SC_TRY(compare_picked(rep, op->op, shape, "backward-data beta1", r->dx_acc, d->dx0.d, &d->gx,
                          TOL_BACKWARD));
    SC_TRY(compare_picked(rep, op->op, shape, "backward-filter +=", r->dw, d->dw0.d, &d->gw,
                          TOL_BACKWARD));
    if (op->nb)
        SC_TRY(compare_picked(rep, op->op, shape, "backward-bias +=", r->db, d->db0.d, &d->gb,
                              TOL_BACKWARD));
    return SC_OK;
}

/* Uploads, records, runs and compares the case on the context's provider. */
static sc_status dense_on_device(sc_ctx *ctx, sc_conf_report *rep, const dense_op *op,
                                 const dense_data *d, const char *shape)
{
    dense_bufs b;
    dense_results r = {0};
    sc_plan *plan = NULL;
    sc_status st = dense_bufs_make(ctx, op, d, &b);
    if (st == SC_OK)
        st = sc_plan_create(ctx, &plan);
    if (st == SC_OK)
        st = op->record(plan, "conf", op->cs, &b);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    if (st == SC_OK)
        st = dense_download(ctx, op, &b, &r);
    if (st == SC_OK)
        st = dense_compare(rep, op, d, &r, shape);
    dense_results_free(&r);
    sc_plan_destroy(plan);
    dense_bufs_release(ctx, &b);
    return st;
}

/* How many runs a case gets, and the row label suffix of run i. */
static size_t dense_run_count(sc_ctx *ctx, dense_runs runs)
{
    if (runs == RUN_ONCE || runs == RUN_DIRECT ||
        (runs == RUN_CONV && sc_ctx_conv_provider(ctx) == SC_CONV_DNNL))
        return 1;
    return N_PROVIDERS;
}

/* Sets the run's GEMM provider (when it has one) and writes its label. */
static void dense_run_setup(sc_ctx *ctx, dense_runs runs, size_t i, char *label, size_t cap)
{
    const char *conv = runs == RUN_GEMMS ? "" : sc_conv_provider_name(sc_ctx_conv_provider(ctx));
    if (dense_run_count(ctx, runs) == 1) {
        snprintf(label, cap, "conv=%s", conv);
        return;
    }
    sc_ctx_set_gemm_provider(ctx, k_providers[i]);
    snprintf(label, cap, "%s%s%sgemm=%s", conv[0] ? "conv=" : "", conv, conv[0] ? " " : "",
             sc_gemm_provider_name(k_providers[i]));
}

/* The whole check of one case, under each provider its op runs on. */
static sc_status dense_check(sc_ctx *ctx, sc_conf_report *rep, const dense_op *op,
                             const char *shape, uint64_t seed)
{
    dense_data d;
    if (!dense_data_make(&d, op, seed)) {
        dense_data_free(&d);
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory (%s %s)", op->op,
                       shape);
    }
    sc_status st = SC_OK;
    sc_gemm_provider saved = sc_ctx_gemm_provider(ctx);
    for (size_t i = 0; i < dense_run_count(ctx, op->runs) && st == SC_OK; i++) {
        char label[64], full[128];
        dense_run_setup(ctx, op->runs, i, label, sizeof label);
        snprintf(full, sizeof full, "%s %s", shape, label);
        st = dense_on_device(ctx, rep, op, &d, full);
    }
    sc_ctx_set_gemm_provider(ctx, saved);
    dense_data_free(&d);
    return st;
}

/* ============================================================ Convolution */

typedef struct conv_case {
    int n, c, h, w, k, kh, kw, sh, sw, ph, pw, group, bias;
    int chunk; /* images per GEMM the workspace is sized for; 0: the whole batch */
} conv_case;

static const conv_case k_conv_cases[] = {
    {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0},
    {1, 7, 8, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 0}, /* batch 1, stride 2 edge */
    {3, 4, 5, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 0}, /* 1x1 batched: gather, no im2col */
    {2, 6, 9, 7, 4, 3, 2, 2, 1, 1, 0, 2, 1, 0}, /* rectangular kernel, groups */
    {2, 5, 6, 6, 3, 3, 3, 1, 1, 0, 0, 1, 0, 0}, /* no bias */
    {3, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2}, /* chunks of 2, the last of 1 image */
    {3, 4, 5, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1}, /* 1x1 one image at a time: in place */
    {2, 4, 5, 6, 6, 3, 3, 2, 2, 1, 1, 2, 0, 1}, /* groups, one image at a time */
    {1, 33, 4, 3, 7, 2, 3, 1, 2, 1, 1, 1, 1, 0}, /* 33 channels, even kernel side */
};

static sc_conv_params conv_params_of(const conv_case *c)
{
    return (sc_conv_params){.num_output = c->k, .kernel_h = c->kh, .kernel_w = c->kw,
                            .stride_h = c->sh, .stride_w = c->sw, .pad_h = c->ph,
                            .pad_w = c->pw, .dilation_h = 1, .dilation_w = 1,
                            .group = c->group, .bias_term = c->bias};
}

static sc_shape conv_in_of(const conv_case *c)
{
    return (sc_shape){c->n, c->c, c->h, c->w};
}

static void conv_ref_forward(const void *vcs, const double *x, const double *w, const double *b,
                             double *y)
{
    const conv_case *c = vcs;
    ref_conv_forward(c->n, c->c, c->h, c->w, c->k, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, 1, 1,
                     c->group, x, w, b, y);
}

static sc_status conv_record(sc_plan *plan, const char *name, const void *vcs,
                             const dense_bufs *b)
{
    const conv_case *c = vcs;
    sc_conv_params p = conv_params_of(c);
    sc_shape in = conv_in_of(c), ws = sc_conv_weight_shape(in, &p);
    SC_TRY(sc_conv_forward(plan, name, &p, in, b->x, ws, b->w, b->b, b->y, b->ws));
    SC_TRY(sc_conv_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx, 0.0f, b->dw, b->db,
                            b->ws));
    return sc_conv_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx_acc, 1.0f, NULL,
                            NULL, b->ws);
}

static void conv_shape_str(char *buf, size_t cap, const conv_case *c)
{
    char k[16], s[16], p[16];
    int len = snprintf(buf, cap, "N%d C%d H%d W%d K%d k%s s%s p%s g%d%s", c->n, c->c, c->h, c->w,
                       c->k, pair_str(k, sizeof k, c->kh, c->kw),
                       pair_str(s, sizeof s, c->sh, c->sw), pair_str(p, sizeof p, c->ph, c->pw),
                       c->group, c->bias ? "" : " nobias");
    if (c->chunk && len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, " chunk%d", c->chunk);
}

static sc_status conv_case_check(sc_ctx *ctx, sc_conf_report *rep, const conv_case *c,
                                 uint64_t seed)
{
    sc_conv_params p = conv_params_of(c);
    sc_shape in = conv_in_of(c), out;
    SC_TRY(sc_conv_output_shape(ctx, "conf", in, &p, &out));
    dense_op op = {.op = "Convolution", .runs = RUN_CONV, .nx = sc_shape_count(in),
                   .nw = sc_shape_count(sc_conv_weight_shape(in, &p)),
                   .nb = c->bias ? (size_t)c->k : 0, .ny = sc_shape_count(out),
                   .nws = sc_conv_workspace_floats(in, &p, c->chunk), .cs = c,
                   .ref_forward = conv_ref_forward, .record = conv_record};
    char shape[128];
    conv_shape_str(shape, sizeof shape, c);
    return dense_check(ctx, rep, &op, shape, seed);
}

/* ------------------------------------------------ timed big convolution */

/* One output of the convolution in double (the definition, for the picked
 * outputs of the timed case where the full reference would be slow). */
static double conv_ref_one(const conv_case *c, int oh_n, int ow_n, const float *x,
                           const float *w, const float *b, size_t o)
{
    int ow = (int)(o % (size_t)ow_n), oh = (int)(o / (size_t)ow_n % (size_t)oh_n);
    int k = (int)(o / ((size_t)ow_n * oh_n) % (size_t)c->k);
    int n = (int)(o / ((size_t)ow_n * oh_n * c->k));
    int cg = c->c / c->group, g = k / (c->k / c->group);
    double sum = b ? b[k] : 0.0;
    for (int ci = 0; ci < cg; ci++)
        for (int i = 0; i < c->kh; i++)
            for (int j = 0; j < c->kw; j++) {
                int ih = oh * c->sh - c->ph + i, iw = ow * c->sw - c->pw + j;
                if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w)
                    continue;
                size_t xi = (((size_t)n * c->c + g * cg + ci) * c->h + ih) * c->w + iw;
                size_t wi = (((size_t)k * cg + ci) * c->kh + i) * c->kw + j;
                sum += (double)x[xi] * (double)w[wi];
            }
    return sum;
}

typedef struct timed_data {
    float *x, *w, *b, *y;
    size_t nx, nw, ny;
} timed_data;

static sc_status timed_run(sc_ctx *ctx, const conv_case *c, const timed_data *t, double *ms)
{
    sc_conv_params p = conv_params_of(c);
    sc_shape in = conv_in_of(c);
    size_t nws = sc_conv_workspace_floats(in, &p, 0);
    cl_mem x = NULL, w = NULL, b = NULL, y = NULL, ws = NULL;
    sc_plan *plan = NULL;
    sc_status st = sc_conf_upload(ctx, t->x, t->nx, &x);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, t->w, t->nw, &w);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, t->b, (size_t)c->k, &b);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, NULL, t->ny, &y);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, NULL, nws, &ws);
    if (st == SC_OK)
        st = sc_plan_create(ctx, &plan);
    if (st == SC_OK)
        st = sc_conv_forward(plan, "timed", &p, in, x, sc_conv_weight_shape(in, &p), w, b, y, ws);
    if (st == SC_OK)
        st = sc_conf_time(plan, TIMING_REPS, ms);
    if (st == SC_OK)
        st = sc_conf_download(ctx, y, t->ny, t->y);
    sc_plan_destroy(plan);
    cl_mem all[] = {x, w, b, y, ws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sc_buffer_release(ctx, all[i]);
    return st;
}

/* Compares FD_MAX_ENTRIES picked outputs and reports GFLOP/s. */
static sc_status timed_compare(sc_conf_report *rep, const conv_case *c, const timed_data *t,
                               sc_shape out, double ms, const char *shape)
{
    size_t idx[FD_MAX_ENTRIES];
    float got[FD_MAX_ENTRIES];
    double ref[FD_MAX_ENTRIES];
    size_t n = ref_pick_indices(t->ny, FD_MAX_ENTRIES, 77, idx);
    for (size_t i = 0; i < n; i++) {
        got[i] = t->y[idx[i]];
        ref[i] = conv_ref_one(c, out.h, out.w, t->x, t->w, t->b, idx[i]);
    }
    double flops = 2.0 * (double)t->ny * (c->c / c->group) * c->kh * c->kw;
    double gflops = ms > 0 ? flops / (ms * 1e6) : -1.0;
    return sc_conf_compare(rep, "Convolution", shape, "forward (timed)", got, ref, n,
                           TOL_FORWARD_LONG, gflops);
}

static sc_status conv_timed(sc_ctx *ctx, sc_conf_report *rep)
{
    static const conv_case c = {8, 64, 28, 24, 128, 3, 3, 1, 1, 1, 1, 1, 1, 0};
    sc_conv_params p = conv_params_of(&c);
    sc_shape in = conv_in_of(&c), out;
    SC_TRY(sc_conv_output_shape(ctx, "timed", in, &p, &out));
    timed_data t = {.nx = sc_shape_count(in), .nw = sc_shape_count(sc_conv_weight_shape(in, &p)),
                    .ny = sc_shape_count(out)};
    t.x = malloc(t.nx * sizeof(float));
    t.w = malloc(t.nw * sizeof(float));
    t.b = malloc((size_t)c.k * sizeof(float));
    t.y = malloc(t.ny * sizeof(float));
    sc_status st = SC_OK;
    if (!t.x || !t.w || !t.b || !t.y)
        st = sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    if (st == SC_OK) {
        sc_conf_rng r;
        sc_conf_rng_seed(&r, 4242);
        sc_conf_fill(&r, t.x, NULL, t.nx, -1.0, 1.0);
        sc_conf_fill(&r, t.w, NULL, t.nw, -1.0, 1.0);
        sc_conf_fill(&r, t.b, NULL, (size_t)c.k, -1.0, 1.0);
    }
    char base[96], shape[128], label[64];
    conv_shape_str(base, sizeof base, &c);
    sc_gemm_provider saved = sc_ctx_gemm_provider(ctx);
    for (size_t i = 0; i < dense_run_count(ctx, RUN_CONV) && st == SC_OK; i++) {
        double ms = 0;
        dense_run_setup(ctx, RUN_CONV, i, label, sizeof label);
        snprintf(shape, sizeof shape, "%s %s", base, label);
        st = timed_run(ctx, &c, &t, &ms);
        if (st == SC_OK)
            st = timed_compare(rep, &c, &t, out, ms, shape);
    }
    sc_ctx_set_gemm_provider(ctx, saved);
    free(t.x);
    free(t.w);
    free(t.b);
    free(t.y);
    return st;
}

/* ------------------------------------------------------- argument errors */

/* Records sc_conv_forward into a scratch plan and returns its status. */
static sc_status conv_try(sc_ctx *ctx, const sc_conv_params *p, sc_shape in, sc_shape w_shape,
                          cl_mem x, cl_mem w, cl_mem y, cl_mem ws)
{
    sc_plan *plan;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = sc_conv_forward(plan, "conv_err", p, in, x, w_shape, w, NULL, y, ws);
    sc_plan_destroy(plan);
    return st;
}

static sc_status conv_error_rows(sc_ctx *ctx, sc_conf_report *rep, cl_mem big, cl_mem out,
                               cl_mem small)
{
    const char *op = "Convolution";
    sc_conv_params p = {.num_output = 5, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                        .stride_w = 1, .pad_h = 1, .pad_w = 1, .group = 1, .bias_term = 0};
    sc_shape in = {2, 3, 7, 9};
    sc_status st = conv_try(ctx, &p, in, (sc_shape){5, 4, 3, 3}, big, big, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 2x3x7x9 w 5x4x3x3", "channels vs weights", st,
                     (const char *[]){"conv_err", "Convolution", "2x3x7x9", "5x4x3x3", NULL}));
    sc_conv_params pg = p;
    pg.group = 2;
    st = conv_try(ctx, &pg, in, (sc_shape){5, 1, 3, 3}, big, big, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 2x3x7x9 K5 g2", "group vs channels", st,
                     (const char *[]){"conv_err", "group 2", "2x3x7x9", NULL}));
    st = conv_try(ctx, &p, (sc_shape){2, 0, 7, 9}, (sc_shape){5, 0, 3, 3}, big, big, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 2x0x7x9", "zero dimension", st,
                     (const char *[]){"conv_err", "Convolution", "2x0x7x9", NULL}));
    sc_conv_params pk = p;
    pk.kernel_h = pk.kernel_w = 5;
    st = conv_try(ctx, &pk, (sc_shape){1, 3, 2, 2}, (sc_shape){5, 3, 5, 5}, big, big, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 1x3x2x2 k5 p1", "kernel > padded input", st,
                     (const char *[]){"conv_err", "1x3x2x2", "5x5", NULL}));
    st = conv_try(ctx, &p, in, (sc_shape){5, 3, 3, 3}, big, small, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 2x3x7x9 w 5x3x3x3 (16 floats)", "weight buffer small", st,
                     (const char *[]){"conv_err", "weight buffer holds", "(weight 5x3x3x3)", NULL}));
    sc_conv_params pd = p;
    pd.dilation_h = 2;
    st = conv_try(ctx, &pd, in, (sc_shape){5, 3, 3, 3}, big, big, out, big);
    SC_TRY(error_row(rep, ctx, op, "in 2x3x7x9 dilation 2", "dilation unsupported", st,
                     (const char *[]){"conv_err", "dilation 2x1", "2x3x7x9", NULL}));
    if (sc_ctx_conv_provider(ctx) == SC_CONV_DNNL) /* oneDNN needs no workspace */
        return SC_OK;
    st = conv_try(ctx, &p, in, (sc_shape){5, 3, 3, 3}, big, big, out, small);
    return error_row(rep, ctx, op, "in 2x3x7x9 workspace 16 floats", "workspace small", st,
                     (const char *[]){"conv_err", "workspace holds", NULL});
}

typedef sc_status (*error_rows_fn)(sc_ctx *ctx, sc_conf_report *rep, cl_mem big, cl_mem out,
                                   cl_mem small);

/* Scratch buffers for the error checks: two roomy ones (input, output) and
 * one of 16 floats. */
static sc_status with_error_buffers(sc_ctx *ctx, sc_conf_report *rep, error_rows_fn rows)
{
    cl_mem big = NULL, out = NULL, small = NULL;
    sc_status st = sc_conf_upload(ctx, NULL, 4096, &big);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, NULL, 4096, &out);
    if (st == SC_OK)
        st = sc_conf_upload(ctx, NULL, 16, &small);
    if (st == SC_OK)
        st = rows(ctx, rep, big, out, small);
    sc_buffer_release(ctx, big);
    sc_buffer_release(ctx, out);
    sc_buffer_release(ctx, small);
    return st;
}

sc_status sc_conf_conv(sc_ctx *ctx, sc_conf_report *rep)
{
    for (size_t i = 0; i < sizeof k_conv_cases / sizeof k_conv_cases[0]; i++)
        SC_TRY(conv_case_check(ctx, rep, &k_conv_cases[i], 1000 + 10 * i));
    SC_TRY(sc_conf_conv_prelu_rows(ctx, rep, 0));
    SC_TRY(conv_timed(ctx, rep));
    return with_error_buffers(ctx, rep, conv_error_rows);
}

/* ================================================== DepthwiseConvolution */

typedef struct dw_case {
    int n, c, h, w, kh, kw, sh, sw, ph, pw, bias;
    int via_conv; /* call sc_conv_* with group == C == num_output */
} dw_case;

static const dw_case k_dw_cases[] = {
    {2, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 0},
    {1, 33, 9, 8, 3, 3, 2, 2, 1, 1, 1, 0}, /* 33 channels, batch 1, stride 2 edge */
    {2, 5, 7, 6, 7, 6, 1, 1, 0, 0, 0, 0}, /* MobileFaceNet gdc: 7x6 kernel on a 7x6 map */
    {2, 4, 6, 5, 3, 3, 2, 2, 1, 1, 1, 1}, /* Convolution routed to the depthwise kernels */
    /* rows long enough for the CPU form's float8 interiors (stride 1 and 2) */
    {2, 3, 5, 27, 3, 3, 1, 1, 1, 1, 1, 0},
    {1, 4, 6, 40, 3, 3, 2, 2, 1, 1, 0, 0},
};

static sc_conv_params dw_params_of(const dw_case *c)
{
    return (sc_conv_params){.num_output = c->c, .kernel_h = c->kh, .kernel_w = c->kw,
                            .stride_h = c->sh, .stride_w = c->sw, .pad_h = c->ph,
                            .pad_w = c->pw, .dilation_h = 1, .dilation_w = 1, .group = c->c,
                            .bias_term = c->bias};
}

static void dw_ref_forward(const void *vcs, const double *x, const double *w, const double *b,
                           double *y)
{
    const dw_case *c = vcs;
    ref_conv_forward(c->n, c->c, c->h, c->w, c->c, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, 1, 1,
                     c->c, x, w, b, y);
}

static sc_status dw_record(sc_plan *plan, const char *name, const void *vcs, const dense_bufs *b)
{
    const dw_case *c = vcs;
    sc_conv_params p = dw_params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, ws = {c->c, 1, c->kh, c->kw};
    if (c->via_conv) {
        SC_TRY(sc_conv_forward(plan, name, &p, in, b->x, ws, b->w, b->b, b->y, NULL));
        SC_TRY(sc_conv_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx, 0.0f, b->dw,
                                b->db, NULL));
        return sc_conv_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx_acc, 1.0f, NULL,
                                NULL, NULL);
    }
    SC_TRY(sc_depthwise_forward(plan, name, &p, in, b->x, ws, b->w, b->b, b->y));
    SC_TRY(sc_depthwise_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx, 0.0f, b->dw,
                                 b->db));
    return sc_depthwise_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx_acc, 1.0f, NULL,
                                 NULL);
}

static sc_status dw_case_check(sc_ctx *ctx, sc_conf_report *rep, const dw_case *c, uint64_t seed)
{
    sc_conv_params p = dw_params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, out;
    SC_TRY(sc_depthwise_output_shape(ctx, "conf", in, &p, &out));
    dense_op op = {.op = c->via_conv ? "Convolution(dw)" : "DepthwiseConvolution",
                   .runs = RUN_DIRECT, .nx = sc_shape_count(in), .nw = (size_t)c->c * c->kh * c->kw,
                   .nb = c->bias ? (size_t)c->c : 0, .ny = sc_shape_count(out), .cs = c,
                   .ref_forward = dw_ref_forward, .record = dw_record};
    char shape[128], k[16], s[16], pd[16];
    snprintf(shape, sizeof shape, "N%d C%d H%d W%d k%s s%s p%s%s", c->n, c->c, c->h, c->w,
             pair_str(k, sizeof k, c->kh, c->kw), pair_str(s, sizeof s, c->sh, c->sw),
             pair_str(pd, sizeof pd, c->ph, c->pw), c->bias ? "" : " nobias");
    return dense_check(ctx, rep, &op, shape, seed);
}

static sc_status dw_try(sc_ctx *ctx, const sc_conv_params *p, sc_shape in, sc_shape w_shape,
                        cl_mem x, cl_mem w, cl_mem y)
{
    sc_plan *plan;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = sc_depthwise_forward(plan, "dw_err", p, in, x, w_shape, w, NULL, y);
    sc_plan_destroy(plan);
    return st;
}

static sc_status dw_error_rows(sc_ctx *ctx, sc_conf_report *rep, cl_mem big, cl_mem out,
                             cl_mem small)
{
    const char *op = "DepthwiseConvolution";
    sc_conv_params p = {.num_output = 4, .kernel_h = 3, .kernel_w = 3, .stride_h = 1,
                        .stride_w = 1, .pad_h = 1, .pad_w = 1, .group = 4};
    sc_shape in = {2, 4, 6, 5};
    sc_conv_params pk = p;
    pk.num_output = 6;
    sc_status st = dw_try(ctx, &pk, in, (sc_shape){6, 1, 3, 3}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 2x4x6x5 K6", "num_output vs channels", st,
                     (const char *[]){"dw_err", "DepthwiseConvolution", "2x4x6x5", NULL}));
    st = dw_try(ctx, &p, in, (sc_shape){4, 2, 3, 3}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 2x4x6x5 w 4x2x3x3", "weights shape", st,
                     (const char *[]){"dw_err", "4x2x3x3", "2x4x6x5", NULL}));
    st = dw_try(ctx, &p, (sc_shape){2, 4, 0, 5}, (sc_shape){4, 1, 3, 3}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 2x4x0x5", "zero dimension", st,
                     (const char *[]){"dw_err", "2x4x0x5", NULL}));
    sc_conv_params pb = p;
    pb.kernel_h = 9;
    st = dw_try(ctx, &pb, in, (sc_shape){4, 1, 9, 3}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 2x4x6x5 k9x3 p1", "kernel > padded input", st,
                     (const char *[]){"dw_err", "9x3", "2x4x6x5", NULL}));
    st = dw_try(ctx, &p, in, (sc_shape){4, 1, 3, 3}, big, small, out);
    return error_row(rep, ctx, op, "in 2x4x6x5 w 4x1x3x3 (16 floats)", "weight buffer small", st,
                     (const char *[]){"dw_err", "weight buffer holds", "(weight 4x1x3x3)", NULL});
}

sc_status sc_conf_depthwise(sc_ctx *ctx, sc_conf_report *rep)
{
    for (size_t i = 0; i < sizeof k_dw_cases / sizeof k_dw_cases[0]; i++)
        SC_TRY(dw_case_check(ctx, rep, &k_dw_cases[i], 2000 + 10 * i));
    SC_TRY(sc_conf_conv_prelu_rows(ctx, rep, 1));
    return with_error_buffers(ctx, rep, dw_error_rows);
}

/* ========================================================== InnerProduct */

typedef struct ip_case {
    int n, c, h, w; /* input; M = n, K = c*h*w */
    int outputs, bias, transpose;
} ip_case;

static const ip_case k_ip_cases[] = {
    {1, 7, 1, 1, 3, 1, 0},  /* M1 K7 N3 */
    {4, 33, 1, 1, 10, 1, 0}, /* M4 K33 N10 */
    {4, 33, 1, 1, 10, 1, 1}, /* the same with W stored K x N */
    {5, 2, 3, 4, 6, 0, 0},  /* a 4-D input: K = 2*3*4, no bias */
    {5, 2, 3, 4, 6, 1, 1},  /* 4-D input, transpose, bias */
};

static sc_inner_product_params ip_params_of(const ip_case *c)
{
    return (sc_inner_product_params){c->outputs, c->bias, c->transpose};
}

static void ip_ref_forward(const void *vcs, const double *x, const double *w, const double *b,
                           double *y)
{
    const ip_case *c = vcs;
    ref_inner_product_forward(c->n, c->c * c->h * c->w, c->outputs, x, w, b, c->transpose, y);
}

static sc_status ip_record(sc_plan *plan, const char *name, const void *vcs, const dense_bufs *b)
{
    const ip_case *c = vcs;
    sc_inner_product_params p = ip_params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, ws = sc_inner_product_weight_shape(in, &p);
    SC_TRY(sc_inner_product_forward(plan, name, &p, in, b->x, ws, b->w, b->b, b->y));
    SC_TRY(sc_inner_product_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx, 0.0f,
                                     b->dw, b->db));
    return sc_inner_product_backward(plan, name, &p, in, b->x, ws, b->w, b->dy, b->dx_acc, 1.0f,
                                     NULL, NULL);
}

static sc_status ip_case_check(sc_ctx *ctx, sc_conf_report *rep, const ip_case *c, uint64_t seed)
{
    sc_inner_product_params p = ip_params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, out;
    SC_TRY(sc_inner_product_output_shape(ctx, "conf", in, &p, &out));
    dense_op op = {.op = "InnerProduct", .runs = RUN_GEMMS, .nx = sc_shape_count(in),
                   .nw = (size_t)c->outputs * c->c * c->h * c->w,
                   .nb = c->bias ? (size_t)c->outputs : 0, .ny = sc_shape_count(out), .cs = c,
                   .ref_forward = ip_ref_forward, .record = ip_record};
    char shape[128], k[32];
    if (c->h == 1 && c->w == 1)
        snprintf(k, sizeof k, "%d", c->c);
    else
        snprintf(k, sizeof k, "%dx%dx%d", c->c, c->h, c->w);
    snprintf(shape, sizeof shape, "M%d K%s N%d%s%s", c->n, k, c->outputs,
             c->transpose ? " transpose" : "", c->bias ? "" : " nobias");
    return dense_check(ctx, rep, &op, shape, seed);
}

static sc_status ip_try(sc_ctx *ctx, const sc_inner_product_params *p, sc_shape in,
                        sc_shape w_shape, cl_mem x, cl_mem w, cl_mem y)
{
    sc_plan *plan;
    SC_TRY(sc_plan_create(ctx, &plan));
    sc_status st = sc_inner_product_forward(plan, "ip_err", p, in, x, w_shape, w, NULL, y);
    sc_plan_destroy(plan);
    return st;
}

static sc_status ip_error_rows(sc_ctx *ctx, sc_conf_report *rep, cl_mem big, cl_mem out,
                             cl_mem small)
{
    const char *op = "InnerProduct";
    sc_inner_product_params p = {10, 0, 0};
    sc_shape in = {4, 33, 1, 1};
    sc_status st = ip_try(ctx, &p, in, (sc_shape){10, 32, 1, 1}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 4x33x1x1 w 10x32", "features vs weights", st,
                     (const char *[]){"ip_err", "InnerProduct", "4x33x1x1", "10x32x1x1", NULL}));
    sc_inner_product_params pt = {10, 0, 1};
    st = ip_try(ctx, &pt, in, (sc_shape){10, 33, 1, 1}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 4x33x1x1 w 10x33 transpose", "transposed weights", st,
                     (const char *[]){"ip_err", "33x10x1x1", "4x33x1x1", NULL}));
    st = ip_try(ctx, &p, (sc_shape){0, 33, 1, 1}, (sc_shape){10, 33, 1, 1}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 0x33x1x1", "zero dimension", st,
                     (const char *[]){"ip_err", "0x33x1x1", NULL}));
    sc_inner_product_params p0 = {0, 0, 0};
    st = ip_try(ctx, &p0, in, (sc_shape){0, 33, 1, 1}, big, big, out);
    SC_TRY(error_row(rep, ctx, op, "in 4x33x1x1 N0", "zero num_output", st,
                     (const char *[]){"ip_err", "num_output is 0", "4x33x1x1", NULL}));
    st = ip_try(ctx, &p, in, (sc_shape){10, 33, 1, 1}, big, small, out);
    return error_row(rep, ctx, op, "in 4x33x1x1 w 10x33 (16 floats)", "weight buffer small", st,
                     (const char *[]){"ip_err", "weight buffer holds", "(weight 10x33x1x1)", NULL});
}

sc_status sc_conf_inner_product(sc_ctx *ctx, sc_conf_report *rep)
{
    for (size_t i = 0; i < sizeof k_ip_cases / sizeof k_ip_cases[0]; i++)
        SC_TRY(ip_case_check(ctx, rep, &k_ip_cases[i], 3000 + 10 * i));
    return with_error_buffers(ctx, rep, ip_error_rows);
}
