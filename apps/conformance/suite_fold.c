/* Conformance of inference folding: a convolution run with weights and bias
 * folded from BatchNorm (stored statistics) and Scale must equal the three
 * layers applied one after the other by the C reference. */
#include "suite_fold.h"

#include <stdio.h>
#include <stdlib.h>

#include "ref_ops.h"

/* float32 conv over K = C*kh*kw terms after a per-channel rescale of the
 * weights: the reference and device sums differ by rounding only. */
#define TOL_FOLD 1e-5

typedef struct fold_case {
    int n, c, h, w, k, kh, group; /* group == c == k: depthwise */
    int bias, scale, beta;
    double scale_factor;          /* 0: Caffe's zero-factor rule */
} fold_case;

static const fold_case k_cases[] = {
    {2, 3, 7, 6, 5, 3, 1, 1, 1, 1, 2.5},  /* conv with bias, BN + Scale with beta */
    {1, 7, 5, 5, 7, 3, 7, 0, 1, 0, 1.0},  /* depthwise, no bias, Scale without beta */
    {3, 4, 4, 3, 9, 1, 1, 0, 0, 0, 0.0},  /* 1x1, BatchNorm alone, scale_factor 0 */
};

typedef struct fold_data {
    float *x, *w, *b, *mean, *var, *gamma, *beta;
    double *ref;
    size_t nx, nw, ny;
} fold_data;

static void free_data(fold_data *d)
{
    free(d->x), free(d->w), free(d->b), free(d->mean), free(d->var), free(d->gamma);
    free(d->beta), free(d->ref);
}

static double *to_double(const float *f, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; d && i < n; i++)
        d[i] = f[i];
    return d;
}

/* The reference: conv, then BatchNorm with global stats, then Scale. */
static void reference(const fold_case *c, fold_data *d, int oh, int ow)
{
    double *x = to_double(d->x, d->nx), *w = to_double(d->w, d->nw);
    double *b = c->bias ? to_double(d->b, (size_t)c->k) : NULL;
    double *mean = to_double(d->mean, (size_t)c->k), *var = to_double(d->var, (size_t)c->k);
    double *gamma = to_double(d->gamma, (size_t)c->k), *beta = to_double(d->beta, (size_t)c->k);
    double *y = malloc(d->ny * sizeof *y);
    double sf = c->scale_factor;
    ref_conv_forward(c->n, c->c, c->h, c->w, c->k, c->kh, c->kh, 1, 1, c->kh / 2, c->kh / 2, 1, 1,
                     c->group, x, w, b, y);
    ref_batchnorm_forward(c->n, c->k, oh * ow, y, 1, mean, var, &sf, 1e-5, 0.999, d->ref);
    if (c->scale)
        ref_scale_forward(c->n, c->k, oh * ow, d->ref, gamma, c->beta ? beta : NULL, d->ref);
    free(x), free(w), free(b), free(mean), free(var), free(gamma), free(beta), free(y);
}

static void make_data(const fold_case *c, sc_conf_rng *r, fold_data *d, size_t ny)
{
    int per = c->c / c->group;
    d->nx = (size_t)c->n * c->c * c->h * c->w;
    d->nw = (size_t)c->k * per * c->kh * c->kh;
    d->ny = ny;
    d->x = malloc(d->nx * sizeof(float));
    d->w = malloc(d->nw * sizeof(float));
    d->b = malloc((size_t)c->k * sizeof(float));
    d->mean = malloc((size_t)c->k * sizeof(float));
    d->var = malloc((size_t)c->k * sizeof(float));
    d->gamma = malloc((size_t)c->k * sizeof(float));
    d->beta = malloc((size_t)c->k * sizeof(float));
    d->ref = malloc(ny * sizeof(double));
    sc_conf_fill(r, d->x, NULL, d->nx, -1, 1);
    sc_conf_fill(r, d->w, NULL, d->nw, -0.5, 0.5);
    sc_conf_fill(r, d->b, NULL, (size_t)c->k, -0.3, 0.3);
    sc_conf_fill(r, d->mean, NULL, (size_t)c->k, -1, 1);
    sc_conf_fill(r, d->var, NULL, (size_t)c->k, 0.2, 3); /* running sums: positive */
    sc_conf_fill(r, d->gamma, NULL, (size_t)c->k, 0.5, 1.5);
    sc_conf_fill(r, d->beta, NULL, (size_t)c->k, -0.5, 0.5);
}

typedef struct fold_bufs {
    cl_mem x, w, b, mean, var, sf, gamma, beta, w_out, b_out, y, ws;
} fold_bufs;

static sc_status upload(sc_ctx *ctx, const fold_case *c, const fold_data *d, size_t ws,
                        fold_bufs *m)
{
    float sf = (float)c->scale_factor;
    size_t k = (size_t)c->k;
    SC_TRY(sc_conf_upload(ctx, d->x, d->nx, &m->x));
    SC_TRY(sc_conf_upload(ctx, d->w, d->nw, &m->w));
    SC_TRY(sc_conf_upload(ctx, d->b, k, &m->b));
    SC_TRY(sc_conf_upload(ctx, d->mean, k, &m->mean));
    SC_TRY(sc_conf_upload(ctx, d->var, k, &m->var));
    SC_TRY(sc_conf_upload(ctx, &sf, 1, &m->sf));
    SC_TRY(sc_conf_upload(ctx, d->gamma, k, &m->gamma));
    SC_TRY(sc_conf_upload(ctx, d->beta, k, &m->beta));
    SC_TRY(sc_conf_upload(ctx, NULL, d->nw, &m->w_out));
    SC_TRY(sc_conf_upload(ctx, NULL, k, &m->b_out));
    SC_TRY(sc_conf_upload(ctx, NULL, d->ny, &m->y));
    return ws ? sc_conf_upload(ctx, NULL, ws, &m->ws) : SC_OK;
}

static void release(sc_ctx *ctx, fold_bufs *m)
{
    cl_mem all[] = {m->x, m->w, m->b, m->mean, m->var, m->sf, m->gamma, m->beta,
                    m->w_out, m->b_out, m->y, m->ws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sc_buffer_release(ctx, all[i]);
}

/* Records fold + convolution with the folded weights. */
static sc_status record(sc_plan *plan, const fold_case *c, const sc_conv_params *cp, sc_shape in,
                        sc_shape ws, const fold_bufs *m)
{
    int per = c->c / c->group;
    SC_TRY(sc_batchnorm_fold(plan, "fold", c->k, per * c->kh * c->kh, 1e-5f, m->w,
                             c->bias ? m->b : NULL, m->mean, m->var, m->sf,
                             c->scale ? m->gamma : NULL, c->scale && c->beta ? m->beta : NULL,
                             m->w_out, m->b_out));
    sc_conv_params folded = *cp;
    folded.bias_term = 1;
    return sc_conv_forward(plan, "fold", &folded, in, m->x, ws, m->w_out, m->b_out, m->y, m->ws);
}

static sc_status run_case(sc_ctx *ctx, const fold_case *c, sc_conf_rng *r, sc_conf_report *rep)
{
    sc_conv_params cp = {.num_output = c->k, .kernel_h = c->kh, .kernel_w = c->kh,
                         .stride_h = 1, .stride_w = 1, .pad_h = c->kh / 2, .pad_w = c->kh / 2,
                         .group = c->group, .bias_term = c->bias};
    sc_shape in = {c->n, c->c, c->h, c->w}, out;
    SC_TRY(sc_conv_output_shape(ctx, "fold", in, &cp, &out));
    sc_shape wshape = sc_conv_weight_shape(in, &cp);
    fold_data d = {0};
    make_data(c, r, &d, sc_shape_count(out));
    reference(c, &d, out.h, out.w);
    fold_bufs m = {0};
    sc_plan *plan = NULL;
    float *got = malloc(d.ny * sizeof *got);
    sc_status st = upload(ctx, c, &d, sc_conv_workspace_floats(in, &cp, in.n), &m);
    if (st == SC_OK)
        st = sc_plan_create(ctx, &plan);
    if (st == SC_OK)
        st = record(plan, c, &cp, in, wshape, &m);
    if (st == SC_OK)
        st = sc_conf_run(plan);
    if (st == SC_OK && got)
        st = sc_conf_download(ctx, m.y, d.ny, got);
    if (st == SC_OK && got) {
        char shape[128];
        snprintf(shape, sizeof shape, "N%d C%d H%d W%d K%d k%d g%d%s%s sf%g", c->n, c->c, c->h,
                 c->w, c->k, c->kh, c->group, c->bias ? " bias" : "",
                 c->scale ? (c->beta ? " +Scale(beta)" : " +Scale") : "", c->scale_factor);
        st = sc_conf_compare(rep, "BatchNorm fold", shape, "conv+BN+Scale", got, d.ref, d.ny,
                             TOL_FOLD, -1);
    }
    free(got);
    sc_plan_destroy(plan);
    release(ctx, &m);
    free_data(&d);
    return st;
}

sc_status sc_conf_batchnorm_fold(sc_ctx *ctx, sc_conf_report *rep)
{
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 1729);
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        SC_TRY(run_case(ctx, &k_cases[i], &r, rep));
    return SC_OK;
}
