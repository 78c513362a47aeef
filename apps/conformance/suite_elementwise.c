/* Conformance of PReLU, BatchNorm, Scale, Eltwise and Dropout: every case
 * builds deterministic inputs, records the op into a fresh plan, runs it,
 * downloads the results and compares them with the double-precision
 * reference (tests/common/ref_ops.h). Every backward output is compared with
 * central finite differences of the reference forward, L = sum(top * f(x)),
 * on all entries of small tensors and FD_PICK entries of big ones. Cases
 * marked "acc" start dx (and the parameter diffs) non-zero with beta_dx = 1 to
 * check accumulation; the others fill dx with NaN with beta_dx = 0 to check
 * that it is overwritten. */
#include "suite_elementwise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_grad.h"
#include "ref_ops.h"

/* ------------------------------------------------------------ tolerances */

/* One or two float roundings per element (x*a, (x-mean)*inv_std, ...):
 * ~1e-7 relative; 1e-6 leaves a margin for the reference's max in the denominator. */
#define TOL_ELEMENT 1e-6
/* Per-channel float sums over up to a few thousand terms (dslope, dgamma,
 * dbeta), or an elementwise value built from such sums (BatchNorm's
 * normalisation, its backward): sqrt(m)*eps .. m*eps worst case; 1e-4 as the
 * brief's "long reductions". */
#define TOL_REDUCTION 1e-4
/* A gradient compared with finite differences: the FD of a piecewise-linear
 * or smooth double function with h = FD_H is exact to ~1e-9, so the float
 * rounding of the kernel dominates; same bounds as the forward. */
#define TOL_FD_ELEMENT 1e-5
#define TOL_FD_REDUCTION 1e-4
/* BatchNorm running statistics after 3 forwards: Kahan sums of the batch mean
 * and variance (~1e-7) plus three float axpby updates. */
#define TOL_RUNNING_STATS 1e-5
/* Dropout: the dropped fraction of a tensor of n elements is within 4
 * standard deviations sqrt(r(1-r)/n) of the ratio r (fails by chance with
 * probability ~6e-5 for a fresh seed; the seed here is fixed). */
#define DROPOUT_SIGMAS 4.0

#define FD_H 1e-3       /* inputs stay >= 0.05 away from kinks (PReLU 0, MAX ties) */
#define FD_ALL_MAX 1000 /* tensors up to this size: every entry by FD */
#define FD_PICK 200     /* bigger ones: this many picked entries */

/* ------------------------------------------------------------ resources */

/* Host and device allocations of one case, freed together. */
#define MAX_HOST 64
#define MAX_DEV 32
#define MAX_PLANS 4
typedef struct arena {
    sc_ctx *ctx;
    void *host[MAX_HOST];
    int n_host;
    cl_mem dev[MAX_DEV];
    int n_dev;
    sc_plan *plans[MAX_PLANS];
    int n_plans;
} arena;

static void arena_free(arena *a)
{
    for (int i = 0; i < a->n_host; i++)
        free(a->host[i]);
    for (int i = 0; i < a->n_dev; i++)
        sc_buffer_release(a->ctx, a->dev[i]);
    for (int i = 0; i < a->n_plans; i++)
        sc_plan_destroy(a->plans[i]);
    a->n_host = a->n_dev = a->n_plans = 0;
}

/* Zeroed host memory owned by the arena; NULL when out of memory. */
static void *host_alloc(arena *a, size_t bytes)
{
    if (a->n_host == MAX_HOST)
        return NULL;
    void *p = calloc(1, bytes ? bytes : 1);
    if (p)
        a->host[a->n_host++] = p;
    return p;
}

static sc_status oom(arena *a)
{
    return sc_fail(sc_ctx_error(a->ctx), SC_ERR_NOMEM, "conformance: out of host memory");
}

static sc_status dev_track(arena *a, cl_mem m)
{
    if (a->n_dev == MAX_DEV) {
        sc_buffer_release(a->ctx, m);
        return sc_fail(sc_ctx_error(a->ctx), SC_ERR_NOMEM, "conformance: too many buffers");
    }
    a->dev[a->n_dev++] = m;
    return SC_OK;
}

/* A device buffer holding host (n floats; NULL: zeros). */
static sc_status dev_upload(arena *a, const float *host, size_t n, cl_mem *out)
{
    SC_TRY(sc_conf_upload(a->ctx, host, n, out));
    return dev_track(a, *out);
}

static sc_status new_plan(arena *a, sc_plan **out)
{
    if (a->n_plans == MAX_PLANS)
        return sc_fail(sc_ctx_error(a->ctx), SC_ERR_NOMEM, "conformance: too many plans");
    SC_TRY(sc_plan_create(a->ctx, out));
    a->plans[a->n_plans++] = *out;
    return SC_OK;
}

#define ALLOC(a, type, n) ((type *)host_alloc((a), sizeof(type) * (size_t)(n)))
/* Inside a case function with `sc_status st` and a `done:` label. */
#define TRY(expr)                 \
    do {                          \
        st = (expr);              \
        if (st != SC_OK)          \
            goto done;            \
    } while (0)
#define NEED(ptr)                 \
    do {                          \
        if (!(ptr)) {             \
            st = oom(&A);         \
            goto done;            \
        }                         \
    } while (0)

/* --------------------------------------------------------------- helpers */

static void fill_value(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        x[i] = v;
}

/* Uniform values with |v| in [lo, hi] and a random sign: away from 0 by lo. */
static void fill_away_from_zero(sc_conf_rng *r, float *x, double *xd, size_t n, double lo,
                                double hi)
{
    for (size_t i = 0; i < n; i++) {
        double v = sc_conf_uniform(r, lo, hi);
        x[i] = (float)(sc_conf_uniform(r, 0, 1) < 0.5 ? -v : v);
        if (xd)
            xd[i] = x[i];
    }
}

static void shape_label(char *buf, size_t cap, sc_shape s, const char *extra)
{
    snprintf(buf, cap, "N%d C%d H%d W%d%s%s", s.n, s.c, s.h, s.w, extra && *extra ? " " : "",
             extra ? extra : "");
}

/* A backward output against finite differences of the reference forward f
 * around `in` (n_in values, f writes n_out): every entry up to FD_ALL_MAX,
 * else FD_PICK picked ones. base (NULL: zeros) is what the gradient buffer
 * held before an accumulating backward. */
static sc_status compare_fd(sc_conf_report *rep, sc_ctx *ctx, const char *op, const char *shape,
                            const char *dir, const float *got, const double *base, ref_fd_fn f,
                            void *fctx, double *in, size_t n_in, size_t n_out,
                            const double *top, double tol)
{
    size_t n_idx = n_in <= FD_ALL_MAX ? n_in : FD_PICK;
    size_t *idx = malloc(n_idx * sizeof *idx);
    double *fd = malloc(n_idx * sizeof *fd);
    float *sub = malloc(n_idx * sizeof *sub);
    sc_status st = SC_OK;
    if (!idx || !fd || !sub) {
        st = sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "conformance: out of host memory");
        goto done;
    }
    n_idx = ref_pick_indices(n_in, n_idx, 0x5C0FFEEULL + n_in, idx);
    if (ref_fd_grad(f, fctx, in, n_in, n_out, top, FD_H, idx, n_idx, fd) != 0) {
        st = sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "conformance: out of host memory");
        goto done;
    }
    for (size_t k = 0; k < n_idx; k++) {
        fd[k] += base ? base[idx[k]] : 0.0;
        sub[k] = got[idx[k]];
    }
    st = sc_conf_compare(rep, op, shape, dir, sub, fd, n_idx, tol, -1);
done:
    free(idx);
    free(fd);
    free(sub);
    return st;
}

/* Starting content of a gradient buffer: random with beta 1 (acc), else NaN
 * with beta 0, which the op must overwrite. base gets the double copy (zeros
 * when not accumulating). */
static void init_grad(sc_conf_rng *r, int acc, float *g, double *base, size_t n)
{
    if (acc) {
        sc_conf_fill(r, g, base, n, -1.0, 1.0);
        return;
    }
    fill_value(g, n, NAN);
    memset(base, 0, n * sizeof *base);
}

/* Starting content of a parameter diff: random (acc) or zeros. */
static void init_param_diff(sc_conf_rng *r, int acc, float *g, double *base, size_t n)
{
    if (acc) {
        sc_conf_fill(r, g, base, n, -1.0, 1.0);
        return;
    }
    fill_value(g, n, 0.0f);
    memset(base, 0, n * sizeof *base);
}

/* An argument-error row: the call failed and its message names the layer,
 * the op type and each of the given fragments (shapes). */
static sc_status expect_error(sc_conf_report *rep, sc_ctx *ctx, sc_status got, const char *op,
                              const char *shape, const char *dir, const char *frag1,
                              const char *frag2)
{
    const char *msg = sc_ctx_message(ctx);
    char tag[64];
    snprintf(tag, sizeof tag, "(%s)", op);
    int pass = got != SC_OK && strstr(msg, "errlayer") && strstr(msg, tag) &&
               (!frag1 || strstr(msg, frag1)) && (!frag2 || strstr(msg, frag2));
    return sc_conf_add_check(rep, op, shape, dir, pass);
}

/* ------------------------------------------------------------------ PReLU */

typedef struct prelu_case {
    sc_shape s;
    int shared, in_place, acc, dx_is_dy;
    int frozen; /* no slope gradient (lr_mult 0): the data-only kernel */
} prelu_case;

typedef struct prelu_fd {
    const prelu_case *c;
    const double *x, *slope;
} prelu_fd;

static void prelu_fd_x(void *ctx, const double *in, double *out)
{
    const prelu_fd *f = ctx;
    ref_prelu_forward(f->c->s.n, f->c->s.c, f->c->s.h * f->c->s.w, in, f->slope, f->c->shared,
                      out);
}

static void prelu_fd_slope(void *ctx, const double *in, double *out)
{
    const prelu_fd *f = ctx;
    ref_prelu_forward(f->c->s.n, f->c->s.c, f->c->s.h * f->c->s.w, f->x, in, f->c->shared, out);
}

static sc_status prelu_run_case(sc_ctx *ctx, sc_conf_report *rep, const prelu_case *c,
                                uint64_t seed)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_prelu_params p = {.channel_shared = c->shared};
    size_t n = sc_shape_count(c->s), ns = sc_prelu_slope_count(&p, c->s);
    int HW = c->s.h * c->s.w;
    float *x = ALLOC(&A, float, n), *slope = ALLOC(&A, float, ns), *dy = ALLOC(&A, float, n);
    float *dx = ALLOC(&A, float, n), *ds = ALLOC(&A, float, ns), *y = ALLOC(&A, float, n);
    double *xd = ALLOC(&A, double, n), *sd = ALLOC(&A, double, ns), *dyd = ALLOC(&A, double, n);
    double *dx0 = ALLOC(&A, double, n), *ds0 = ALLOC(&A, double, ns);
    double *yref = ALLOC(&A, double, n);
    NEED(x && slope && dy && dx && ds && y && xd && sd && dyd && dx0 && ds0 && yref);
    fill_away_from_zero(&r, x, xd, n, 0.05, 1.0); /* FD steps never cross the kink at 0 */
    sc_conf_fill(&r, slope, sd, ns, 0.05, 0.5);
    sc_conf_fill(&r, dy, dyd, n, -1.0, 1.0);
    init_grad(&r, c->acc, dx, dx0, n);
    init_param_diff(&r, c->acc, ds, ds0, ns);

    cl_mem bx, bslope, by, bsaved = NULL, bdy, bdx, bds;
    TRY(dev_upload(&A, x, n, &bx));
    TRY(dev_upload(&A, slope, ns, &bslope));
    TRY(dev_upload(&A, dy, n, &bdy));
    TRY(dev_upload(&A, ds, ns, &bds));
    cl_mem bwork;
    TRY(dev_upload(&A, NULL, sc_prelu_backward_work_floats(&p, c->s), &bwork));
    by = bx;
    if (!c->in_place)
        TRY(dev_upload(&A, NULL, n, &by));
    else
        TRY(dev_upload(&A, NULL, sc_prelu_saved_floats(c->s, 1), &bsaved));
    bdx = bdy;
    if (!c->dx_is_dy)
        TRY(dev_upload(&A, dx, n, &bdx));
    float beta = c->acc ? 1.0f : 0.0f;

    sc_plan *plan;
    TRY(new_plan(&A, &plan));
    TRY(sc_prelu_forward(plan, "prelu", &p, c->s, bx, bslope, by, bsaved));
    TRY(sc_prelu_backward(plan, "prelu", &p, c->s, bx, by, bsaved, bslope, bdy, bdx, beta,
                          c->frozen ? NULL : bds, bwork));
    TRY(sc_conf_run(plan));
    TRY(sc_conf_download(ctx, by, n, y));
    TRY(sc_conf_download(ctx, bdx, n, dx));
    TRY(sc_conf_download(ctx, bds, ns, ds));

    char shape[128];
    shape_label(shape, sizeof shape, c->s,
                c->shared ? (c->in_place ? "shared inplace" : "shared") : (c->in_place ? "inplace" : ""));
    if (c->acc)
        strncat(shape, " acc", sizeof shape - strlen(shape) - 1);
    if (c->dx_is_dy)
        strncat(shape, " dx=dy", sizeof shape - strlen(shape) - 1);
    if (c->frozen)
        strncat(shape, " frozen", sizeof shape - strlen(shape) - 1);
    ref_prelu_forward(c->s.n, c->s.c, HW, xd, sd, c->shared, yref);
    TRY(sc_conf_compare(rep, "PReLU", shape, "forward", y, yref, n, TOL_ELEMENT, -1));
    prelu_fd f = {.c = c, .x = xd, .slope = sd};
    TRY(compare_fd(rep, ctx, "PReLU", shape, "backward-data", dx, dx0, prelu_fd_x, &f, xd, n, n,
                   dyd, TOL_FD_ELEMENT));
    if (c->frozen) /* the slope diff is left as it was */
        TRY(sc_conf_compare(rep, "PReLU", shape, "backward-slope untouched", ds, ds0, ns, 0.0,
                            -1));
    else
        TRY(compare_fd(rep, ctx, "PReLU", shape, "backward-slope", ds, ds0, prelu_fd_slope, &f,
                       sd, ns, n, dyd, TOL_FD_REDUCTION));
done:
    arena_free(&A);
    return st;
}

static sc_status prelu_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    cl_mem big, small;
    sc_plan *plan;
    TRY(dev_upload(&A, NULL, 512, &big));
    TRY(dev_upload(&A, NULL, 1, &small)); /* the pool may hand out up to 2x */
    TRY(new_plan(&A, &plan));
    sc_prelu_params p = {0};
    sc_shape s = {2, 3, 7, 9}, zero = {2, 0, 7, 9};
    TRY(expect_error(rep, ctx, sc_prelu_forward(plan, "errlayer", &p, zero, big, big, big, NULL),
                     "PReLU", "N2 C0 H7 W9", "error: zero dimension", "2x0x7x9", NULL));
    TRY(expect_error(rep, ctx, sc_prelu_forward(plan, "errlayer", &p, s, big, small, big, NULL),
                     "PReLU", "N2 C3 H7 W9", "error: slope shape", "needs 3", "2x3x7x9"));
    TRY(expect_error(rep, ctx, sc_prelu_forward(plan, "errlayer", &p, s, big, big, big, NULL),
                     "PReLU", "N2 C3 H7 W9", "error: in place, no saved", "saved", "2x3x7x9"));
    TRY(sc_conf_add_check(rep, "PReLU", "N2 C3 H7 W9", "error: nothing recorded",
                          sc_plan_steps(plan) == 0));
done:
    arena_free(&A);
    return st;
}

sc_status sc_conf_prelu(sc_ctx *ctx, sc_conf_report *rep)
{
    static const prelu_case cases[] = {
        {{2, 3, 7, 9}, 0, 0, 0, 0, 0},
        {{1, 7, 5, 3}, 1, 0, 1, 0, 0},
        {{3, 33, 9, 11}, 0, 1, 1, 0, 0},
        {{4, 64, 1, 1}, 1, 1, 0, 1, 0}, /* after an InnerProduct; Caffe's shared in-place diff */
        {{2, 5, 8, 6}, 0, 1, 0, 1, 0},  /* planes of whole float8 steps, no tail */
        {{2, 3, 7, 9}, 0, 1, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SC_TRY(prelu_run_case(ctx, rep, &cases[i], 100 + i));
    return prelu_errors(ctx, rep);
}

/* -------------------------------------------------------------- BatchNorm */

typedef struct bn_case {
    sc_shape s;
    int global, in_place, acc, dx_is_dy, backward;
    double offset;       /* |channel mean| up to this: tests the two-pass accuracy */
    double scale_factor; /* starting scale_factor blob (0: Caffe's fresh blobs) */
} bn_case;

typedef struct bn_fd {
    const bn_case *c;
    const double *mean0, *var0;
    double *mean, *var; /* scratch: the reference updates blobs in training */
    double eps, maf;
} bn_fd;

static void bn_fd_x(void *ctx, const double *in, double *out)
{
    const bn_fd *f = ctx;
    int C = f->c->s.c;
    memcpy(f->mean, f->mean0, sizeof(double) * (size_t)C);
    memcpy(f->var, f->var0, sizeof(double) * (size_t)C);
    double sf = f->c->scale_factor;
    ref_batchnorm_forward(f->c->s.n, C, f->c->s.h * f->c->s.w, in, f->c->global, f->mean, f->var,
                          &sf, f->eps, f->maf, out);
}

/* Channel c's values: offset_c + spread_c * U(-1, 1). */
static void bn_fill_input(sc_conf_rng *r, const bn_case *c, float *x, double *xd)
{
    int HW = c->s.h * c->s.w;
    for (int ch = 0; ch < c->s.c; ch++) {
        double off = sc_conf_uniform(r, -c->offset, c->offset);
        double spread = sc_conf_uniform(r, 0.5, 2.0);
        for (int nn = 0; nn < c->s.n; nn++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)nn * c->s.c + ch) * HW + i;
                x[k] = (float)(off + spread * sc_conf_uniform(r, -1.0, 1.0));
                xd[k] = x[k];
            }
    }
}

/* Starting blobs: zeros when the case starts from Caffe's fresh blobs, else random. */
static void bn_fill_blobs(sc_conf_rng *r, const bn_case *c, float *mean, float *var,
                          double *meand, double *vard)
{
    size_t C = (size_t)c->s.c;
    if (c->scale_factor == 0.0 && !c->global) {
        memset(mean, 0, C * sizeof *mean);
        memset(var, 0, C * sizeof *var);
        memset(meand, 0, C * sizeof *meand);
        memset(vard, 0, C * sizeof *vard);
        return;
    }
    sc_conf_fill(r, mean, meand, C, -2.0, 2.0);
    sc_conf_fill(r, var, vard, C, 0.2, 3.0);
}

#define BN_FORWARDS 3 /* training forwards before the running stats are compared */

static sc_status bn_run_case(sc_ctx *ctx, sc_conf_report *rep, const bn_case *c, uint64_t seed)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_batchnorm_params p = sc_batchnorm_default_params();
    p.use_global_stats = c->global;
    size_t n = sc_shape_count(c->s), C = (size_t)c->s.c;
    int HW = c->s.h * c->s.w;
    float *x = ALLOC(&A, float, n), *y = ALLOC(&A, float, n), *dy = ALLOC(&A, float, n);
    float *dx = ALLOC(&A, float, n), *mean = ALLOC(&A, float, C), *var = ALLOC(&A, float, C);
    float sf = (float)c->scale_factor, sf_got = 0;
    double *xd = ALLOC(&A, double, n), *yref = ALLOC(&A, double, n);
    double *dyd = ALLOC(&A, double, n), *dx0 = ALLOC(&A, double, n);
    double *meand = ALLOC(&A, double, C), *vard = ALLOC(&A, double, C);
    double *mean_ref = ALLOC(&A, double, C), *var_ref = ALLOC(&A, double, C);
    double *scratch_m = ALLOC(&A, double, C), *scratch_v = ALLOC(&A, double, C);
    NEED(x && y && dy && dx && mean && var && xd && yref && dyd && dx0 && meand && vard &&
         mean_ref && var_ref && scratch_m && scratch_v);
    bn_fill_input(&r, c, x, xd);
    bn_fill_blobs(&r, c, mean, var, meand, vard);
    sc_conf_fill(&r, dy, dyd, n, -1.0, 1.0);
    init_grad(&r, c->acc, dx, dx0, n);

    cl_mem bx, by, bmean, bvar, bsf, bsaved, bdy, bdx;
    TRY(dev_upload(&A, x, n, &bx));
    by = bx;
    if (!c->in_place)
        TRY(dev_upload(&A, NULL, n, &by));
    TRY(dev_upload(&A, mean, C, &bmean));
    TRY(dev_upload(&A, var, C, &bvar));
    TRY(dev_upload(&A, &sf, 1, &bsf));
    TRY(dev_upload(&A, NULL, sc_batchnorm_saved_floats(&p, c->s), &bsaved));
    cl_mem bwork = NULL;
    if (sc_batchnorm_work_floats(&p, c->s) > 0)
        TRY(dev_upload(&A, NULL, sc_batchnorm_work_floats(&p, c->s), &bwork));
    TRY(dev_upload(&A, dy, n, &bdy));
    bdx = bdy; /* Caffe's in-place layers share the diff too */
    if (!c->dx_is_dy)
        TRY(dev_upload(&A, dx, n, &bdx));

    sc_plan *fwd, *bwd;
    TRY(new_plan(&A, &fwd));
    TRY(sc_batchnorm_forward(fwd, "bn", &p, c->s, bx, by, bmean, bvar, bsf, bsaved, bwork));
    int forwards = c->global ? 1 : BN_FORWARDS;
    for (int i = 0; i < forwards; i++) {
        if (c->in_place && i > 0) /* y overwrote x: every forward sees the same batch */
            TRY(sc_buffer_write(ctx, bx, 0, n * sizeof(float), x));
        TRY(sc_conf_run(fwd));
    }
    TRY(sc_conf_download(ctx, by, n, y));
    TRY(sc_conf_download(ctx, bmean, C, mean));
    TRY(sc_conf_download(ctx, bvar, C, var));
    TRY(sc_conf_download(ctx, bsf, 1, &sf_got));

    char shape[128];
    shape_label(shape, sizeof shape, c->s, c->global ? (c->in_place ? "global inplace" : "global")
                                                     : (c->in_place ? "train inplace" : "train"));
    if (c->global && c->scale_factor == 0.0)
        strncat(shape, " sf0", sizeof shape - strlen(shape) - 1);
    if (c->acc)
        strncat(shape, " acc", sizeof shape - strlen(shape) - 1);
    if (c->dx_is_dy)
        strncat(shape, " dx=dy", sizeof shape - strlen(shape) - 1);

    memcpy(mean_ref, meand, C * sizeof *mean_ref);
    memcpy(var_ref, vard, C * sizeof *var_ref);
    double sf_ref = c->scale_factor;
    for (int i = 0; i < forwards; i++)
        ref_batchnorm_forward(c->s.n, c->s.c, HW, xd, c->global, mean_ref, var_ref, &sf_ref,
                              p.eps, p.moving_average_fraction, yref);
    TRY(sc_conf_compare(rep, "BatchNorm", shape, "forward", y, yref, n,
                        c->global ? TOL_ELEMENT : TOL_REDUCTION, -1));
    TRY(sc_conf_compare(rep, "BatchNorm", shape, c->global ? "blobs kept: mean" : "running mean",
                        mean, mean_ref, C, TOL_RUNNING_STATS, -1));
    TRY(sc_conf_compare(rep, "BatchNorm", shape, c->global ? "blobs kept: var" : "running var",
                        var, var_ref, C, TOL_RUNNING_STATS, -1));
    TRY(sc_conf_compare(rep, "BatchNorm", shape, c->global ? "blobs kept: scale" : "scale_factor",
                        &sf_got, &sf_ref, 1, TOL_RUNNING_STATS, -1));
    if (!c->backward)
        goto done;

    TRY(new_plan(&A, &bwd));
    TRY(sc_batchnorm_backward(bwd, "bn", &p, c->s, bsaved, bdy, bdx, c->acc ? 1.0f : 0.0f,
                              bwork));
    if (c->in_place) /* a following in-place layer may overwrite y: backward must not need it */
        TRY(sc_buffer_fill(ctx, by, NAN, 0, n));
    TRY(sc_conf_run(bwd));
    TRY(sc_conf_download(ctx, bdx, n, dx));
    bn_fd f = {.c = c, .mean0 = meand, .var0 = vard, .mean = scratch_m, .var = scratch_v,
               .eps = p.eps, .maf = p.moving_average_fraction};
    TRY(compare_fd(rep, ctx, "BatchNorm", shape, "backward-data", dx, dx0, bn_fd_x, &f, xd, n, n,
                   dyd, c->global ? TOL_FD_ELEMENT : TOL_FD_REDUCTION));
done:
    arena_free(&A);
    return st;
}

static sc_status bn_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    cl_mem big, small, saved;
    sc_plan *plan;
    TRY(dev_upload(&A, NULL, 512, &big));
    TRY(dev_upload(&A, NULL, 1, &small)); /* the pool may hand out up to 2x */
    TRY(dev_upload(&A, NULL, 512, &saved));
    TRY(new_plan(&A, &plan));
    sc_batchnorm_params p = sc_batchnorm_default_params();
    sc_shape s = {2, 3, 7, 9}, zero = {0, 3, 7, 9};
    TRY(expect_error(rep, ctx,
                     sc_batchnorm_forward(plan, "errlayer", &p, zero, big, big, big, big, big,
                                          saved, big),
                     "BatchNorm", "N0 C3 H7 W9", "error: zero dimension", "0x3x7x9", NULL));
    TRY(expect_error(rep, ctx,
                     sc_batchnorm_forward(plan, "errlayer", &p, s, big, big, small, big, big,
                                          saved, big),
                     "BatchNorm", "N2 C3 H7 W9", "error: mean blob shape", "needs 3", "2x3x7x9"));
    p.moving_average_fraction = 1.5f;
    TRY(expect_error(rep, ctx,
                     sc_batchnorm_forward(plan, "errlayer", &p, s, big, big, big, big, big,
                                          saved, big),
                     "BatchNorm", "N2 C3 H7 W9", "error: maf 1.5", "moving_average_fraction",
                     "2x3x7x9"));
    TRY(sc_conf_add_check(rep, "BatchNorm", "N2 C3 H7 W9", "error: nothing recorded",
                          sc_plan_steps(plan) == 0));
done:
    arena_free(&A);
    return st;
}

sc_status sc_conf_batchnorm(sc_ctx *ctx, sc_conf_report *rep)
{
    static const bn_case cases[] = {
        /* shape, global, in_place, acc, dx_is_dy, backward, offset, scale_factor */
        {{2, 3, 7, 9}, 0, 1, 0, 1, 1, 3.0, 0.0},
        {{1, 7, 5, 3}, 0, 1, 1, 0, 1, 3.0, 1.7},
        {{3, 33, 9, 11}, 0, 0, 1, 0, 1, 10.0, 2.5},
        {{1, 5, 1, 1}, 0, 0, 0, 0, 1, 3.0, 0.0}, /* m == 1: zero variance, no bias correction */
        {{2, 7, 3, 5}, 1, 0, 0, 0, 1, 3.0, 2.5},
        {{1, 3, 5, 7}, 1, 1, 1, 0, 1, 3.0, 0.0}, /* scale_factor 0: Caffe's factor 0 */
        {{8, 64, 28, 24}, 0, 0, 0, 0, 0, 10.0, 1.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SC_TRY(bn_run_case(ctx, rep, &cases[i], 200 + i));
    return bn_errors(ctx, rep);
}

/* ------------------------------------------------------------------ Scale */

typedef struct scale_case {
    sc_shape s;
    int bias, in_place, acc, dx_is_dy;
} scale_case;

typedef struct scale_fd {
    const scale_case *c;
    const double *x, *gamma, *beta;
} scale_fd;

static void scale_fd_x(void *ctx, const double *in, double *out)
{
    const scale_fd *f = ctx;
    ref_scale_forward(f->c->s.n, f->c->s.c, f->c->s.h * f->c->s.w, in, f->gamma, f->beta, out);
}

static void scale_fd_gamma(void *ctx, const double *in, double *out)
{
    const scale_fd *f = ctx;
    ref_scale_forward(f->c->s.n, f->c->s.c, f->c->s.h * f->c->s.w, f->x, in, f->beta, out);
}

static void scale_fd_beta(void *ctx, const double *in, double *out)
{
    const scale_fd *f = ctx;
    ref_scale_forward(f->c->s.n, f->c->s.c, f->c->s.h * f->c->s.w, f->x, f->gamma, in, out);
}

static sc_status scale_run_case(sc_ctx *ctx, sc_conf_report *rep, const scale_case *c,
                                uint64_t seed)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_scale_params p = {.bias_term = c->bias, .gamma_count = c->s.c};
    size_t n = sc_shape_count(c->s), C = (size_t)c->s.c;
    float *x = ALLOC(&A, float, n), *y = ALLOC(&A, float, n), *dy = ALLOC(&A, float, n);
    float *dx = ALLOC(&A, float, n), *g = ALLOC(&A, float, C), *b = ALLOC(&A, float, C);
    float *dg = ALLOC(&A, float, C), *db = ALLOC(&A, float, C);
    double *xd = ALLOC(&A, double, n), *yref = ALLOC(&A, double, n);
    double *dyd = ALLOC(&A, double, n), *dx0 = ALLOC(&A, double, n);
    double *gd = ALLOC(&A, double, C), *bd = ALLOC(&A, double, C);
    double *dg0 = ALLOC(&A, double, C), *db0 = ALLOC(&A, double, C);
    NEED(x && y && dy && dx && g && b && dg && db && xd && yref && dyd && dx0 && gd && bd &&
         dg0 && db0);
    sc_conf_fill(&r, x, xd, n, -2.0, 2.0);
    sc_conf_fill(&r, g, gd, C, -1.5, 1.5);
    sc_conf_fill(&r, b, bd, C, -1.0, 1.0);
    sc_conf_fill(&r, dy, dyd, n, -1.0, 1.0);
    init_grad(&r, c->acc, dx, dx0, n);
    init_param_diff(&r, c->acc, dg, dg0, C);
    init_param_diff(&r, c->acc, db, db0, C);

    cl_mem bx, by, bg, bb = NULL, bsaved = NULL, bdy, bdx, bdg, bdb = NULL;
    TRY(dev_upload(&A, x, n, &bx));
    by = bx;
    if (c->in_place)
        TRY(dev_upload(&A, NULL, sc_scale_saved_floats(c->s, 1), &bsaved));
    else
        TRY(dev_upload(&A, NULL, n, &by));
    TRY(dev_upload(&A, g, C, &bg));
    TRY(dev_upload(&A, dy, n, &bdy));
    bdx = bdy;
    if (!c->dx_is_dy)
        TRY(dev_upload(&A, dx, n, &bdx));
    TRY(dev_upload(&A, dg, C, &bdg));
    if (c->bias) {
        TRY(dev_upload(&A, b, C, &bb));
        TRY(dev_upload(&A, db, C, &bdb));
    }
    sc_plan *plan;
    TRY(new_plan(&A, &plan));
    TRY(sc_scale_forward(plan, "scale", &p, c->s, bx, bg, bb, by, bsaved));
    cl_mem bwork;
    TRY(dev_upload(&A, NULL, sc_scale_backward_work_floats(c->s), &bwork));
    TRY(sc_scale_backward(plan, "scale", &p, c->s, bx, by, bsaved, bg, bdy, bdx,
                          c->acc ? 1.0f : 0.0f, bdg, bdb, bwork));
    TRY(sc_conf_run(plan));
    TRY(sc_conf_download(ctx, by, n, y));
    TRY(sc_conf_download(ctx, bdx, n, dx));
    TRY(sc_conf_download(ctx, bdg, C, dg));
    if (c->bias)
        TRY(sc_conf_download(ctx, bdb, C, db));

    char shape[128];
    shape_label(shape, sizeof shape, c->s, c->bias ? "bias" : "nobias");
    if (c->in_place)
        strncat(shape, " inplace", sizeof shape - strlen(shape) - 1);
    if (c->acc)
        strncat(shape, " acc", sizeof shape - strlen(shape) - 1);
    if (c->dx_is_dy)
        strncat(shape, " dx=dy", sizeof shape - strlen(shape) - 1);
    const double *beta = c->bias ? bd : NULL;
    ref_scale_forward(c->s.n, c->s.c, c->s.h * c->s.w, xd, gd, beta, yref);
    TRY(sc_conf_compare(rep, "Scale", shape, "forward", y, yref, n, TOL_ELEMENT, -1));
    scale_fd f = {.c = c, .x = xd, .gamma = gd, .beta = beta};
    TRY(compare_fd(rep, ctx, "Scale", shape, "backward-data", dx, dx0, scale_fd_x, &f, xd, n, n,
                   dyd, TOL_FD_ELEMENT));
    TRY(compare_fd(rep, ctx, "Scale", shape, "backward-gamma", dg, dg0, scale_fd_gamma, &f, gd, C,
                   n, dyd, TOL_FD_REDUCTION));
    if (c->bias)
        TRY(compare_fd(rep, ctx, "Scale", shape, "backward-beta", db, db0, scale_fd_beta, &f, bd,
                       C, n, dyd, TOL_FD_REDUCTION));
done:
    arena_free(&A);
    return st;
}

static sc_status scale_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    cl_mem big, y;
    sc_plan *plan;
    TRY(dev_upload(&A, NULL, 512, &big));
    TRY(dev_upload(&A, NULL, 512, &y));
    TRY(new_plan(&A, &plan));
    sc_scale_params p = {.bias_term = 1, .gamma_count = 5};
    sc_shape s = {2, 3, 7, 9}, zero = {2, 3, 0, 9};
    TRY(expect_error(rep, ctx, sc_scale_forward(plan, "errlayer", &p, s, big, big, big, y, NULL),
                     "Scale", "N2 C3 H7 W9", "error: gamma shape 5", "shape 5", "2x3x7x9"));
    p.gamma_count = 0;
    TRY(expect_error(rep, ctx,
                     sc_scale_forward(plan, "errlayer", &p, zero, big, big, big, y, NULL),
                     "Scale", "N2 C3 H0 W9", "error: zero dimension", "2x3x0x9", NULL));
    TRY(expect_error(rep, ctx, sc_scale_forward(plan, "errlayer", &p, s, big, big, NULL, y, NULL),
                     "Scale", "N2 C3 H7 W9", "error: bias_term, no beta", "beta", "2x3x7x9"));
    TRY(sc_conf_add_check(rep, "Scale", "N2 C3 H7 W9", "error: nothing recorded",
                          sc_plan_steps(plan) == 0));
done:
    arena_free(&A);
    return st;
}

sc_status sc_conf_scale(sc_ctx *ctx, sc_conf_report *rep)
{
    static const scale_case cases[] = {
        /* shape, bias, in_place, acc, dx_is_dy */
        {{2, 3, 7, 9}, 1, 0, 0, 1},
        {{1, 7, 5, 3}, 0, 1, 1, 0},
        {{3, 33, 9, 11}, 1, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SC_TRY(scale_run_case(ctx, rep, &cases[i], 300 + i));
    return scale_errors(ctx, rep);
}

/* ---------------------------------------------------------------- Eltwise */

#define ELT_MAX_INPUTS 4

typedef struct elt_case {
    sc_shape s;
    sc_eltwise_op op;
    int n_inputs, acc;
    int n_coeffs;
    float coeffs[ELT_MAX_INPUTS];
    int ties; /* MAX with exact ties: compared with the analytic reference, not FD */
} elt_case;

typedef struct elt_fd {
    const elt_case *c;
    size_t count;
    double coeffs[ELT_MAX_INPUTS];
} elt_fd;

static ref_eltwise_op ref_op(sc_eltwise_op op)
{
    return op == SC_ELTWISE_PROD ? REF_ELTWISE_PROD
                                 : op == SC_ELTWISE_SUM ? REF_ELTWISE_SUM : REF_ELTWISE_MAX;
}

/* in: the inputs one after the other. */
static void elt_fd_x(void *ctx, const double *in, double *out)
{
    const elt_fd *f = ctx;
    const double *inputs[ELT_MAX_INPUTS];
    for (int i = 0; i < f->c->n_inputs; i++)
        inputs[i] = in + (size_t)i * f->count;
    ref_eltwise_forward(ref_op(f->c->op), f->c->n_inputs, f->count, inputs,
                        f->c->n_coeffs ? f->coeffs : NULL, out, NULL);
}

/* Inputs for a case: MAX gets values >= 0.1 apart at every element (no FD
 * step crosses a tie), or quantised to {-1, 0, 1} when testing ties; PROD
 * gets a few exact zeros (the gradient must not divide by the input). */
static void elt_fill_inputs(sc_conf_rng *r, const elt_case *c, size_t count, float *x, double *xd)
{
    for (size_t e = 0; e < count; e++) {
        double base = sc_conf_uniform(r, -1.0, 1.0);
        int order[ELT_MAX_INPUTS];
        for (int i = 0; i < c->n_inputs; i++)
            order[i] = i;
        for (int i = c->n_inputs - 1; i > 0; i--) { /* Fisher-Yates: a random rank per input */
            int j = (int)sc_conf_uniform(r, 0, i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < c->n_inputs; i++) {
            size_t k = (size_t)i * count + e;
            double v;
            if (c->op == SC_ELTWISE_MAX && c->ties)
                v = floor(sc_conf_uniform(r, 0, 3)) - 1.0;
            else if (c->op == SC_ELTWISE_MAX)
                v = base + 0.2 * order[i] + sc_conf_uniform(r, 0.0, 0.1);
            else if (c->op == SC_ELTWISE_PROD && sc_conf_uniform(r, 0, 1) < 0.05)
                v = 0.0;
            else
                v = sc_conf_uniform(r, -1.5, 1.5);
            x[k] = (float)v;
            xd[k] = x[k];
        }
    }
}

static void elt_shape_label(char *shape, size_t cap, const elt_case *c)
{
    static const char *names[] = {"PROD", "SUM", "MAX"};
    char extra[64];
    snprintf(extra, sizeof extra, "%s x%d%s%s%s", names[c->op], c->n_inputs,
             c->n_coeffs ? " coeff" : "", c->ties ? " ties" : "", c->acc ? " acc" : "");
    shape_label(shape, cap, c->s, extra);
}

/* MAX: argmax (downloaded as int) against the reference's, and the ties case's
 * backward against the analytic reference (FD is undefined at a tie). */
static sc_status elt_check_max(arena *a, sc_conf_report *rep, const elt_case *c,
                               const char *shape, cl_mem bsaved, const double *const *inputs,
                               const double *dyd, const double *dx0, const float *dx)
{
    size_t count = sc_shape_count(c->s), total = count * (size_t)c->n_inputs;
    int *arg = ALLOC(a, int, count), *arg_ref = ALLOC(a, int, count);
    float *argf = ALLOC(a, float, count);
    double *argd = ALLOC(a, double, count), *yref = ALLOC(a, double, count);
    double *dref = ALLOC(a, double, total);
    if (!arg || !arg_ref || !argf || !argd || !yref || !dref)
        return oom(a);
    SC_TRY(sc_buffer_read(a->ctx, bsaved, 0, count * sizeof(int), arg));
    ref_eltwise_forward(REF_ELTWISE_MAX, c->n_inputs, count, inputs, NULL, yref, arg_ref);
    for (size_t i = 0; i < count; i++) {
        argf[i] = (float)arg[i];
        argd[i] = arg_ref[i];
    }
    SC_TRY(sc_conf_compare(rep, "Eltwise", shape, "argmax", argf, argd, count, 0.0, -1));
    if (!c->ties)
        return SC_OK;
    double *dx_ref[ELT_MAX_INPUTS];
    for (int i = 0; i < c->n_inputs; i++)
        dx_ref[i] = dref + (size_t)i * count;
    ref_eltwise_backward(REF_ELTWISE_MAX, c->n_inputs, count, inputs, NULL, arg_ref, dyd, dx_ref);
    for (size_t k = 0; k < total; k++)
        dref[k] += dx0[k];
    return sc_conf_compare(rep, "Eltwise", shape, "backward-data", dx, dref, total, TOL_ELEMENT,
                           -1);
}

static sc_status elt_run_case(sc_ctx *ctx, sc_conf_report *rep, const elt_case *c,
                              uint64_t seed)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_eltwise_params p = {.op = c->op, .coeffs = c->n_coeffs ? c->coeffs : NULL,
                           .n_coeffs = c->n_coeffs};
    int k = c->n_inputs;
    size_t count = sc_shape_count(c->s), total = count * (size_t)k;
    float *x = ALLOC(&A, float, total), *y = ALLOC(&A, float, count);
    float *dy = ALLOC(&A, float, count), *dx = ALLOC(&A, float, total);
    double *xd = ALLOC(&A, double, total), *yref = ALLOC(&A, double, count);
    double *dyd = ALLOC(&A, double, count), *dx0 = ALLOC(&A, double, total);
    NEED(x && y && dy && dx && xd && yref && dyd && dx0);
    elt_fill_inputs(&r, c, count, x, xd);
    sc_conf_fill(&r, dy, dyd, count, -1.0, 1.0);
    init_grad(&r, c->acc, dx, dx0, total);

    sc_shape shapes[ELT_MAX_INPUTS];
    cl_mem bx[ELT_MAX_INPUTS], bdx[ELT_MAX_INPUTS], by, bdy, bsaved = NULL, bws = NULL;
    for (int i = 0; i < k; i++) {
        shapes[i] = c->s;
        TRY(dev_upload(&A, x + (size_t)i * count, count, &bx[i]));
        TRY(dev_upload(&A, dx + (size_t)i * count, count, &bdx[i]));
    }
    TRY(dev_upload(&A, NULL, count, &by));
    TRY(dev_upload(&A, dy, count, &bdy));
    if (sc_eltwise_saved_floats(&p, c->s))
        TRY(dev_upload(&A, NULL, sc_eltwise_saved_floats(&p, c->s), &bsaved));
    if (sc_eltwise_workspace_floats(&p, k, c->s))
        TRY(dev_upload(&A, NULL, sc_eltwise_workspace_floats(&p, k, c->s), &bws));
    sc_plan *plan;
    TRY(new_plan(&A, &plan));
    TRY(sc_eltwise_forward(plan, "elt", &p, k, shapes, bx, by, bsaved));
    TRY(sc_eltwise_backward(plan, "elt", &p, k, shapes, bx, bsaved, bdy, bdx,
                            c->acc ? 1.0f : 0.0f, bws));
    TRY(sc_conf_run(plan));
    TRY(sc_conf_download(ctx, by, count, y));
    for (int i = 0; i < k; i++)
        TRY(sc_conf_download(ctx, bdx[i], count, dx + (size_t)i * count));

    char shape[128];
    elt_shape_label(shape, sizeof shape, c);
    elt_fd f = {.c = c, .count = count};
    for (int i = 0; i < c->n_coeffs; i++)
        f.coeffs[i] = c->coeffs[i];
    elt_fd_x(&f, xd, yref);
    TRY(sc_conf_compare(rep, "Eltwise", shape, "forward", y, yref, count, TOL_ELEMENT, -1));
    const double *inputs[ELT_MAX_INPUTS];
    for (int i = 0; i < k; i++)
        inputs[i] = xd + (size_t)i * count;
    if (c->op == SC_ELTWISE_MAX)
        TRY(elt_check_max(&A, rep, c, shape, bsaved, inputs, dyd, dx0, dx));
    if (!c->ties)
        TRY(compare_fd(rep, ctx, "Eltwise", shape, "backward-data", dx, dx0, elt_fd_x, &f, xd,
                       total, count, dyd, TOL_FD_ELEMENT));
done:
    arena_free(&A);
    return st;
}

static sc_status elt_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    cl_mem b[3], y;
    sc_plan *plan;
    for (int i = 0; i < 3; i++)
        TRY(dev_upload(&A, NULL, 512, &b[i]));
    TRY(dev_upload(&A, NULL, 512, &y));
    TRY(new_plan(&A, &plan));
    sc_eltwise_params p = {.op = SC_ELTWISE_SUM};
    sc_shape mismatch[2] = {{2, 3, 7, 9}, {2, 3, 7, 8}}, zero[2] = {{2, 3, 7, 0}, {2, 3, 7, 0}};
    sc_shape ok[2] = {{2, 3, 7, 9}, {2, 3, 7, 9}};
    TRY(expect_error(rep, ctx, sc_eltwise_forward(plan, "errlayer", &p, 2, mismatch, b, y, NULL),
                     "Eltwise", "N2 C3 H7 W9 / W8", "error: shape mismatch", "2x3x7x8",
                     "2x3x7x9"));
    TRY(expect_error(rep, ctx, sc_eltwise_forward(plan, "errlayer", &p, 2, zero, b, y, NULL),
                     "Eltwise", "N2 C3 H7 W0", "error: zero dimension", "2x3x7x0", NULL));
    static const float three[3] = {1, 2, 3};
    p.coeffs = three;
    p.n_coeffs = 3;
    TRY(expect_error(rep, ctx, sc_eltwise_forward(plan, "errlayer", &p, 2, ok, b, y, NULL),
                     "Eltwise", "N2 C3 H7 W9", "error: 3 coeffs, 2 inputs", "3 coefficients",
                     "2x3x7x9"));
    p.op = SC_ELTWISE_PROD;
    p.n_coeffs = 2;
    TRY(expect_error(rep, ctx, sc_eltwise_forward(plan, "errlayer", &p, 2, ok, b, y, NULL),
                     "Eltwise", "N2 C3 H7 W9", "error: coeffs with PROD", "PROD", "2x3x7x9"));
    p.n_coeffs = 0;
    TRY(expect_error(rep, ctx, sc_eltwise_forward(plan, "errlayer", &p, 1, ok, b, y, NULL),
                     "Eltwise", "N2 C3 H7 W9", "error: one input", "at least 2", NULL));
    TRY(sc_conf_add_check(rep, "Eltwise", "N2 C3 H7 W9", "error: nothing recorded",
                          sc_plan_steps(plan) == 0));
done:
    arena_free(&A);
    return st;
}

sc_status sc_conf_eltwise(sc_ctx *ctx, sc_conf_report *rep)
{
    static const elt_case cases[] = {
        /* shape, op, inputs, acc, n_coeffs, coeffs, ties */
        {{2, 3, 7, 9}, SC_ELTWISE_SUM, 2, 0, 0, {0}, 0},
        {{1, 7, 5, 3}, SC_ELTWISE_SUM, 3, 1, 3, {0.5f, -1.25f, 2.0f}, 0},
        {{3, 33, 9, 11}, SC_ELTWISE_SUM, 2, 1, 2, {1.0f, -1.0f}, 0},
        {{3, 33, 9, 11}, SC_ELTWISE_PROD, 2, 0, 0, {0}, 0},
        {{1, 7, 5, 3}, SC_ELTWISE_PROD, 3, 1, 0, {0}, 0},
        {{2, 3, 7, 9}, SC_ELTWISE_PROD, 4, 0, 0, {0}, 0},
        {{2, 3, 7, 9}, SC_ELTWISE_MAX, 2, 0, 0, {0}, 0},
        {{3, 33, 9, 11}, SC_ELTWISE_MAX, 4, 1, 0, {0}, 0},
        {{1, 7, 5, 3}, SC_ELTWISE_MAX, 3, 0, 0, {0}, 1},
        {{1, 7, 5, 3}, SC_ELTWISE_MAX, 2, 1, 0, {0}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SC_TRY(elt_run_case(ctx, rep, &cases[i], 400 + i));
    return elt_errors(ctx, rep);
}

/* ---------------------------------------------------------------- Dropout */

typedef struct drop_case {
    sc_shape s;
    float ratio;
    int train, in_place, acc, dx_is_dy;
} drop_case;

typedef struct drop_fd {
    size_t count;
    const uint8_t *mask;
    double ratio;
    int train;
} drop_fd;

static void drop_fd_x(void *ctx, const double *in, double *out)
{
    const drop_fd *f = ctx;
    ref_dropout_forward(f->count, in, f->mask, f->ratio, f->train, out);
}

static sc_status drop_run_case(sc_ctx *ctx, sc_conf_report *rep, const drop_case *c,
                               uint64_t seed)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_dropout_params p = {.ratio = c->ratio, .train = c->train};
    size_t n = sc_shape_count(c->s);
    float *x = ALLOC(&A, float, n), *y = ALLOC(&A, float, n), *dy = ALLOC(&A, float, n);
    float *dx = ALLOC(&A, float, n);
    uint8_t *mask = ALLOC(&A, uint8_t, n);
    double *xd = ALLOC(&A, double, n), *yref = ALLOC(&A, double, n);
    double *dyd = ALLOC(&A, double, n), *dx0 = ALLOC(&A, double, n);
    NEED(x && y && dy && dx && mask && xd && yref && dyd && dx0);
    sc_conf_fill(&r, x, xd, n, -2.0, 2.0);
    sc_conf_fill(&r, dy, dyd, n, -1.0, 1.0);
    init_grad(&r, c->acc, dx, dx0, n);

    cl_mem bx, by, bstate = NULL, bsaved = NULL, bdy, bdx;
    TRY(dev_upload(&A, x, n, &bx));
    by = bx;
    if (!c->in_place)
        TRY(dev_upload(&A, NULL, n, &by));
    if (c->train) {
        TRY(dev_upload(&A, NULL, SC_DROPOUT_STATE_FLOATS, &bstate));
        TRY(sc_dropout_seed(ctx, bstate, (uint32_t)seed));
        TRY(dev_upload(&A, NULL, sc_dropout_saved_floats(&p, c->s), &bsaved));
    }
    TRY(dev_upload(&A, dy, n, &bdy));
    bdx = bdy;
    if (!c->dx_is_dy)
        TRY(dev_upload(&A, dx, n, &bdx));
    sc_plan *plan;
    TRY(new_plan(&A, &plan));
    TRY(sc_dropout_forward(plan, "drop", &p, c->s, bx, by, bstate, bsaved));
    TRY(sc_dropout_backward(plan, "drop", &p, c->s, bsaved, bdy, bdx, c->acc ? 1.0f : 0.0f));
    TRY(sc_conf_run(plan));
    TRY(sc_conf_download(ctx, by, n, y));
    TRY(sc_conf_download(ctx, bdx, n, dx));
    if (c->train)
        TRY(sc_buffer_read(ctx, bsaved, 0, n, mask));

    char shape[128], extra[64];
    snprintf(extra, sizeof extra, "r%g %s%s%s%s", (double)c->ratio, c->train ? "train" : "test",
             c->in_place ? " inplace" : "", c->acc ? " acc" : "", c->dx_is_dy ? " dx=dy" : "");
    shape_label(shape, sizeof shape, c->s, extra);
    int binary = 1;
    for (size_t i = 0; c->train && i < n; i++)
        binary &= mask[i] <= 1;
    if (c->train)
        TRY(sc_conf_add_check(rep, "Dropout", shape, "mask is 0/1", binary));
    ref_dropout_forward(n, xd, mask, c->ratio, c->train, yref);
    TRY(sc_conf_compare(rep, "Dropout", shape, "forward", y, yref, n, TOL_ELEMENT, -1));
    drop_fd f = {.count = n, .mask = mask, .ratio = c->ratio, .train = c->train};
    TRY(compare_fd(rep, ctx, "Dropout", shape, "backward-data", dx, dx0, drop_fd_x, &f, xd, n, n,
                   dyd, TOL_FD_ELEMENT));
done:
    arena_free(&A);
    return st;
}

/* Fraction of positions where two masks differ; with fresh independent masks
 * it is 2r(1-r) on average. */
static double mask_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += (a[i] != 0) != (b[i] != 0);
    return (double)d / (double)n;
}

static double dropped_fraction(const uint8_t *m, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += m[i] == 0;
    return (double)d / (double)n;
}

/* A large tensor: the dropped fraction, fresh masks on every replay of the
 * plan, and the same masks again from the same seed. */
static sc_status drop_statistics(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    sc_shape s = {8, 64, 28, 24};
    sc_dropout_params p = {.ratio = 0.3f, .train = 1};
    size_t n = sc_shape_count(s);
    uint8_t *m1 = ALLOC(&A, uint8_t, n), *m2 = ALLOC(&A, uint8_t, n), *m3 = ALLOC(&A, uint8_t, n);
    NEED(m1 && m2 && m3);
    cl_mem bx, bstate, bsaved;
    TRY(dev_upload(&A, NULL, n, &bx));
    TRY(dev_upload(&A, NULL, SC_DROPOUT_STATE_FLOATS, &bstate));
    TRY(dev_upload(&A, NULL, sc_dropout_saved_floats(&p, s), &bsaved));
    TRY(sc_dropout_seed(ctx, bstate, 1234));
    sc_plan *plan, *again;
    TRY(new_plan(&A, &plan));
    TRY(sc_dropout_forward(plan, "drop", &p, s, bx, bx, bstate, bsaved));
    TRY(sc_conf_run(plan));
    TRY(sc_buffer_read(ctx, bsaved, 0, n, m1));
    TRY(sc_conf_run(plan));
    TRY(sc_buffer_read(ctx, bsaved, 0, n, m2));

    char shape[128];
    shape_label(shape, sizeof shape, s, "r0.3 train");
    double r = p.ratio;
    float frac = (float)dropped_fraction(m1, n);
    double sigma = sqrt(r * (1 - r) / (double)n);
    TRY(sc_conf_compare(rep, "Dropout", shape, "dropped fraction", &frac, &r, 1,
                        DROPOUT_SIGMAS * sigma / r, -1));
    double q = 2 * r * (1 - r), sigma_q = sqrt(q * (1 - q) / (double)n);
    float diff = (float)mask_difference(m1, m2, n);
    TRY(sc_conf_compare(rep, "Dropout", shape, "replay: fresh mask", &diff, &q, 1,
                        DROPOUT_SIGMAS * sigma_q / q, -1));

    TRY(sc_dropout_seed(ctx, bstate, 1234));
    TRY(new_plan(&A, &again));
    TRY(sc_dropout_forward(again, "drop", &p, s, bx, bx, bstate, bsaved));
    TRY(sc_conf_run(again));
    TRY(sc_buffer_read(ctx, bsaved, 0, n, m3));
    TRY(sc_conf_add_check(rep, "Dropout", shape, "same seed: same mask",
                          memcmp(m1, m3, n) == 0));
done:
    arena_free(&A);
    return st;
}

static sc_status drop_errors(sc_ctx *ctx, sc_conf_report *rep)
{
    arena A = {.ctx = ctx};
    sc_status st = SC_OK;
    cl_mem big, small, state;
    sc_plan *plan;
    TRY(dev_upload(&A, NULL, 512, &big));
    TRY(dev_upload(&A, NULL, 100, &small));
    TRY(dev_upload(&A, NULL, SC_DROPOUT_STATE_FLOATS, &state));
    TRY(new_plan(&A, &plan));
    sc_dropout_params p = {.ratio = 1.0f, .train = 1};
    sc_shape s = {2, 3, 7, 9}, zero = {2, 3, 0, 0};
    TRY(expect_error(rep, ctx, sc_dropout_forward(plan, "errlayer", &p, s, big, big, state, big),
                     "Dropout", "N2 C3 H7 W9", "error: ratio 1", "dropout_ratio", "2x3x7x9"));
    p.ratio = -0.25f;
    TRY(expect_error(rep, ctx, sc_dropout_forward(plan, "errlayer", &p, s, big, big, state, big),
                     "Dropout", "N2 C3 H7 W9", "error: ratio -0.25", "dropout_ratio", "2x3x7x9"));
    p.ratio = 0.5f;
    TRY(expect_error(rep, ctx,
                     sc_dropout_forward(plan, "errlayer", &p, zero, big, big, state, big),
                     "Dropout", "N2 C3 H0 W0", "error: zero dimension", "2x3x0x0", NULL));
    TRY(expect_error(rep, ctx,
                     sc_dropout_forward(plan, "errlayer", &p, s, big, small, state, big),
                     "Dropout", "N2 C3 H7 W9", "error: y too small", "needs 378", "2x3x7x9"));
    TRY(sc_conf_add_check(rep, "Dropout", "N2 C3 H7 W9", "error: nothing recorded",
                          sc_plan_steps(plan) == 0));
done:
    arena_free(&A);
    return st;
}

sc_status sc_conf_dropout(sc_ctx *ctx, sc_conf_report *rep)
{
    static const drop_case cases[] = {
        /* shape, ratio, train, in_place, acc, dx_is_dy */
        {{2, 3, 7, 9}, 0.5f, 1, 0, 0, 0},
        {{1, 7, 5, 3}, 0.1f, 1, 1, 1, 0},
        {{3, 33, 9, 11}, 0.9f, 1, 1, 0, 1},
        {{1, 3, 5, 7}, 0.0f, 1, 0, 0, 0},
        {{2, 3, 7, 9}, 0.5f, 0, 0, 1, 0},
        {{1, 7, 5, 3}, 0.5f, 0, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        SC_TRY(drop_run_case(ctx, rep, &cases[i], 500 + i));
    SC_TRY(drop_statistics(ctx, rep));
    return drop_errors(ctx, rep);
}
