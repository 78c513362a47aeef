/* Fused convolution + PReLU against the double reference (see
 * suite_conv_prelu.h). */
#include "suite_conv_prelu.h"

#include "ref_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* As the plain forward: sums of at most ~60 products of values in [-1, 1]. */
#define TOL_FORWARD 1e-5

/* blocked: which activations are channel-blocked (nChw16c,
 * sc_conv_forward_blocked; oneDNN provider only) */
enum { PLAIN = 0, IN16 = 1, OUT16 = 2, BOTH16 = 3 };

typedef struct prelu_case {
    int n, c, h, w, k, kh, kw, s, p, group, bias, shared, blocked;
} prelu_case;

static const prelu_case k_dense[] = {
    {2, 6, 9, 7, 4, 3, 3, 1, 1, 1, 1, 0, PLAIN},  /* per-channel slopes */
    {2, 6, 8, 7, 4, 3, 3, 2, 1, 2, 0, 1, PLAIN},  /* groups, shared slope, no bias */
    {3, 8, 5, 5, 16, 1, 1, 1, 0, 1, 1, 0, PLAIN}, /* 1x1 (MobileNet's pointwise) */
    /* an inference net's blocked blobs: between two 1x1 convolutions, after
     * the first convolution (3 channels in), before an inner product */
    {2, 16, 5, 6, 32, 1, 1, 1, 0, 1, 1, 0, BOTH16},
    {2, 3, 9, 8, 16, 3, 3, 2, 1, 1, 1, 0, OUT16},
    {2, 32, 4, 3, 16, 1, 1, 1, 0, 1, 1, 1, IN16},
};

static const prelu_case k_depthwise[] = {
    {2, 5, 7, 6, 5, 3, 3, 2, 1, 5, 1, 0, PLAIN},
    {2, 4, 6, 6, 4, 3, 3, 1, 1, 4, 0, 1, PLAIN},
    /* rows long enough for the CPU form's 8-wide stores, stride 1 and 2 */
    {2, 6, 10, 24, 6, 3, 3, 1, 1, 6, 1, 0, PLAIN},
    {2, 4, 12, 26, 4, 3, 3, 2, 1, 4, 1, 1, PLAIN},
    /* blocked in and out: oneDNN's depthwise kernel */
    {2, 32, 10, 12, 32, 3, 3, 1, 1, 32, 1, 0, BOTH16},
    {2, 16, 9, 8, 16, 3, 3, 2, 1, 16, 0, 1, BOTH16},
};

typedef struct prelu_host {
    float *x, *w, *b, *a, *y;
    double *xd, *wd, *bd, *ref;
    size_t nx, nw, ny;
    int na;
} prelu_host;

static void host_free(prelu_host *h)
{
    void *all[] = {h->x, h->w, h->b, h->a, h->y, h->xd, h->wd, h->bd, h->ref};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

static sc_conv_params params_of(const prelu_case *c)
{
    return (sc_conv_params){.num_output = c->k, .kernel_h = c->kh, .kernel_w = c->kw,
                            .stride_h = c->s, .stride_w = c->s, .pad_h = c->p, .pad_w = c->p,
                            .dilation_h = 1, .dilation_w = 1, .group = c->group,
                            .bias_term = c->bias};
}

/* Random inputs and the reference: conv, then y > 0 ? y : a * y. */
static int host_make(prelu_host *h, const prelu_case *c, sc_shape out, uint64_t seed)
{
    h->nx = (size_t)c->n * c->c * c->h * c->w;
    h->nw = (size_t)c->k * (c->c / c->group) * c->kh * c->kw;
    h->ny = sc_shape_count(out);
    h->na = c->shared ? 1 : c->k;
    h->x = malloc(h->nx * sizeof *h->x), h->xd = malloc(h->nx * sizeof *h->xd);
    h->w = malloc(h->nw * sizeof *h->w), h->wd = malloc(h->nw * sizeof *h->wd);
    h->b = malloc((size_t)c->k * sizeof *h->b), h->bd = malloc((size_t)c->k * sizeof *h->bd);
    h->a = malloc((size_t)h->na * sizeof *h->a);
    h->y = malloc(h->ny * sizeof *h->y), h->ref = malloc(h->ny * sizeof *h->ref);
    if (!h->x || !h->xd || !h->w || !h->wd || !h->b || !h->bd || !h->a || !h->y || !h->ref)
        return 0;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_conf_fill(&r, h->x, h->xd, h->nx, -1.0, 1.0);
    sc_conf_fill(&r, h->w, h->wd, h->nw, -1.0, 1.0);
    sc_conf_fill(&r, h->b, h->bd, (size_t)c->k, -1.0, 1.0);
    sc_conf_fill(&r, h->a, NULL, (size_t)h->na, 0.05, 0.5);
    ref_conv_forward(c->n, c->c, c->h, c->w, c->k, c->kh, c->kw, c->s, c->s, c->p, c->p, 1, 1,
                     c->group, h->xd, h->wd, c->bias ? h->bd : NULL, h->ref);
    size_t plane = (size_t)out.h * out.w;
    for (size_t i = 0; i < h->ny; i++) {
        double a = h->a[c->shared ? 0 : (i / plane) % (size_t)c->k];
        h->ref[i] = h->ref[i] > 0 ? h->ref[i] : a * h->ref[i];
    }
    return 1;
}

typedef struct prelu_bufs {
    cl_mem x, w, b, a, y, ws;
} prelu_bufs;

/* NCHW <-> nChw16c over n images of c channels (a multiple of 16) of hw
 * pixels; to_blocked 0 goes back. */
static void reblock16(const float *src, float *dst, int n, int c, size_t hw, int to_blocked)
{
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (size_t p = 0; p < hw; p++) {
                size_t plain = ((size_t)i * c + ch) * hw + p;
                size_t blocked = (((size_t)i * (c / 16) + ch / 16) * hw + p) * 16 + ch % 16;
                if (to_blocked)
                    dst[blocked] = src[plain];
                else
                    dst[plain] = src[blocked];
            }
}

/* x in the case's input layout (the host copy stays NCHW). */
static sc_status upload_input(sc_ctx *ctx, const prelu_case *c, const prelu_host *h, cl_mem *x)
{
    if (!(c->blocked & IN16))
        return sc_conf_upload(ctx, h->x, h->nx, x);
    float *xb = malloc(h->nx * sizeof *xb);
    if (!xb)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    reblock16(h->x, xb, c->n, c->c, (size_t)c->h * c->w, 1);
    sc_status st = sc_conf_upload(ctx, xb, h->nx, x);
    free(xb);
    return st;
}

/* y as NCHW, whatever the case's output layout. */
static sc_status download_output(sc_ctx *ctx, const prelu_case *c, const prelu_host *h, cl_mem y,
                                 float *out)
{
    if (!(c->blocked & OUT16))
        return sc_conf_download(ctx, y, h->ny, out);
    float *yb = malloc(h->ny * sizeof *yb);
    if (!yb)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    sc_status st = sc_conf_download(ctx, y, h->ny, yb);
    if (st == SC_OK)
        reblock16(yb, out, c->n, c->k, h->ny / ((size_t)c->n * c->k), 0);
    free(yb);
    return st;
}

static sc_status bufs_make(sc_ctx *ctx, const prelu_case *c, const prelu_host *h, size_t nws,
                           prelu_bufs *b)
{
    SC_TRY(upload_input(ctx, c, h, &b->x));
    SC_TRY(sc_conf_upload(ctx, h->w, h->nw, &b->w));
    SC_TRY(sc_conf_upload(ctx, h->b, (size_t)c->k, &b->b));
    SC_TRY(sc_conf_upload(ctx, h->a, (size_t)h->na, &b->a));
    SC_TRY(sc_buffer_alloc(ctx, h->ny * sizeof(float), &b->y));
    SC_TRY(sc_buffer_fill(ctx, b->y, NAN, 0, h->ny)); /* the forward must overwrite */
    if (nws)
        SC_TRY(sc_conf_upload(ctx, NULL, nws, &b->ws));
    return SC_OK;
}

static void bufs_release(sc_ctx *ctx, prelu_bufs *b)
{
    cl_mem all[] = {b->x, b->w, b->b, b->a, b->y, b->ws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sc_buffer_release(ctx, all[i]);
}

static sc_status record_case(sc_plan *plan, const prelu_case *c, int depthwise,
                             const prelu_bufs *b, const sc_conv_prelu *act)
{
    sc_conv_params p = params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, ws = sc_conv_weight_shape(in, &p);
    if (c->blocked) {
        sc_conv_layout lay = {c->blocked & IN16, (c->blocked & OUT16) != 0};
        return sc_conv_forward_blocked(plan, "conf", &p, in, b->x, ws, b->w, b->b, act, b->y,
                                       &lay);
    }
    if (depthwise)
        return sc_depthwise_forward_prelu(plan, "conf", &p, in, b->x, ws, b->w, b->b, act, b->y);
    return sc_conv_forward_prelu(plan, "conf", &p, in, b->x, ws, b->w, b->b, act, b->y, b->ws);
}

static sc_status run_case(sc_ctx *ctx, const prelu_case *c, int depthwise, const prelu_host *h,
                          float *y)
{
    sc_conv_params p = params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w};
    prelu_bufs b = {0};
    sc_plan *plan = NULL;
    sc_status st =
        bufs_make(ctx, c, h, depthwise ? 0 : sc_conv_workspace_needed(ctx, in, &p, 0), &b);
    sc_conv_prelu act = {.slope = b.a, .channel_shared = c->shared};
    if (st == SC_OK)
        st = sc_plan_create(ctx, &plan);
    if (st == SC_OK)
        st = record_case(plan, c, depthwise, &b, &act);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    if (st == SC_OK)
        st = download_output(ctx, c, h, b.y, y);
    sc_plan_destroy(plan);
    bufs_release(ctx, &b);
    return st;
}

static sc_status check_case(sc_ctx *ctx, sc_conf_report *rep, const prelu_case *c, int depthwise,
                            uint64_t seed)
{
    sc_conv_params p = params_of(c);
    sc_shape in = {c->n, c->c, c->h, c->w}, out;
    SC_TRY(sc_conv_output_shape(ctx, "conf", in, &p, &out));
    prelu_host h = {0};
    sc_status st = host_make(&h, c, out, seed)
                       ? run_case(ctx, c, depthwise, &h, h.y)
                       : sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    char shape[128];
    static const char *const layouts[] = {"", " in16", " out16", " in16 out16"};
    snprintf(shape, sizeof shape, "N%d C%d H%d W%d K%d k%d s%d p%d g%d%s%s conv=%s", c->n, c->c,
             c->h, c->w, c->k, c->kh, c->s, c->p, c->group, c->bias ? "" : " nobias",
             layouts[c->blocked], sc_conv_provider_name(sc_ctx_conv_provider(ctx)));
    if (st == SC_OK)
        st = sc_conf_compare(rep, depthwise ? "DepthwiseConvolution" : "Convolution", shape,
                             c->shared ? "forward+PReLU shared" : "forward+PReLU", h.y, h.ref,
                             h.ny, TOL_FORWARD, -1.0);
    host_free(&h);
    return st;
}

sc_status sc_conf_conv_prelu_rows(sc_ctx *ctx, sc_conf_report *rep, int depthwise)
{
    const prelu_case *cases = depthwise ? k_depthwise : k_dense;
    size_t n = depthwise ? sizeof k_depthwise / sizeof k_depthwise[0]
                         : sizeof k_dense / sizeof k_dense[0];
    for (size_t i = 0; i < n; i++) {
        /* the channel-blocked layout is the oneDNN provider's (ops_conv.h) */
        if (cases[i].blocked && sc_ctx_conv_provider(ctx) != SC_CONV_DNNL)
            continue;
        SC_TRY(check_case(ctx, rep, &cases[i], depthwise, 5000 + 10 * i + 100 * (size_t)depthwise));
    }
    return SC_OK;
}
