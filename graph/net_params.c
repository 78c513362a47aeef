/* Parameter blobs: allocation, Caffe fillers, and caffemodel load/save. */
#include "net_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ RNG */

/* One xoshiro256** stream per parameter, seeded from (seed, name), so one
 * blob's values do not depend on how many blobs were filled before it. */
static void rng_seed(sc_rng *r, uint64_t seed, const char *name)
{
    sc_rng_seed(r, sc_hash64(name, strlen(name), seed));
}

static double rng_gauss(sc_rng *r)
{
    double u1 = 1.0 - sc_rng_unit(r), u2 = sc_rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* --------------------------------------------------------------- fillers */

/* Caffe's fan-in/out for xavier and msra: count/num and count/channels. */
static double filler_n(const sc_param *p, const char *norm)
{
    double fan_in = (double)p->count / (p->dims[0] ? p->dims[0] : 1);
    double fan_out = p->ndim > 1 ? (double)p->count / (p->dims[1] ? p->dims[1] : 1) : fan_in;
    if (!strcmp(norm, "FAN_OUT") || !strcmp(norm, "1"))
        return fan_out;
    if (!strcmp(norm, "AVERAGE") || !strcmp(norm, "2"))
        return (fan_in + fan_out) / 2.0;
    return fan_in;
}

static double get_f(const sc_pt_node *f, const char *field, double def)
{
    double v = def;
    if (f)
        sc_pt_get_float(f, field, def, &v, NULL);
    return v;
}

sc_status sc_filler_fill(sc_ctx *ctx, const sc_param *p, uint64_t seed, float *host)
{
    const char *type = p->default_filler;
    const char *norm = "FAN_IN";
    if (p->filler) {
        sc_pt_get_string(p->filler, "type", "constant", &type, NULL);
        const sc_pt_node *vn = sc_pt_find(p->filler, "variance_norm", 0);
        if (vn && vn->text)
            norm = vn->text;
    }
    sc_rng r;
    rng_seed(&r, seed, p->name);
    if (!strcmp(type, "constant")) {
        double v = get_f(p->filler, "value", p->filler ? 0.0 : p->default_value);
        for (size_t i = 0; i < p->count; i++)
            host[i] = (float)v;
    } else if (!strcmp(type, "gaussian")) {
        double mean = get_f(p->filler, "mean", 0.0), std = get_f(p->filler, "std", 1.0);
        for (size_t i = 0; i < p->count; i++)
            host[i] = (float)(mean + std * rng_gauss(&r));
    } else if (!strcmp(type, "uniform")) {
        double lo = get_f(p->filler, "min", 0.0), hi = get_f(p->filler, "max", 1.0);
        for (size_t i = 0; i < p->count; i++)
            host[i] = (float)(lo + (hi - lo) * sc_rng_unit(&r));
    } else if (!strcmp(type, "xavier")) {
        double scale = sqrt(3.0 / filler_n(p, norm));
        for (size_t i = 0; i < p->count; i++)
            host[i] = (float)(scale * (2.0 * sc_rng_unit(&r) - 1.0));
    } else if (!strcmp(type, "msra")) {
        double std = sqrt(2.0 / filler_n(p, norm));
        for (size_t i = 0; i < p->count; i++)
            host[i] = (float)(std * rng_gauss(&r));
    } else {
        const sc_pt_node *at = p->filler ? p->filler : NULL;
        return sc_fail(sc_ctx_error(ctx), SC_ERR_UNSUPPORTED,
                       "%s:%d: parameter %s: filler type '%s' is not supported (constant, "
                       "gaussian, uniform, xavier, msra)",
                       at ? at->file : "?", at ? at->line : 0, p->name, type);
    }
    return SC_OK;
}

/* ------------------------------------------------------------ allocation */

/* Parameters are allocated and filled before the planner knows the activation
 * sizes; refuse up front a net whose parameters alone exceed the device, so
 * that nothing is allocated or filled for it (the planner checks the total). */
static sc_status check_param_memory(const sc_net *net)
{
    /* data; in TRAIN also diff and the solver's histories */
    int copies = net->opts.phase == SC_PHASE_TRAIN ? 2 + (net->opts.histories < 2 ? 1 : 2) : 1;
    double bytes = 0;
    for (int i = 0; i < net->n_params; i++)
        bytes += (double)net->params[i].count * sizeof(float) * copies;
    const sc_device_info *d = sc_ctx_info(net->ctx);
    if (bytes <= (double)d->global_mem)
        return SC_OK;
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM,
                   "%s: device out of memory: the parameters alone need %.0f MiB, %s has %.0f MiB",
                   net->label, bytes / 1048576.0, d->name, d->global_mem / 1048576.0);
}

/* History buffers a TRAIN net needs (0 for TEST). */
static int train_histories(const sc_net *net)
{
    if (net->opts.phase != SC_PHASE_TRAIN)
        return 0;
    return net->opts.histories >= 2 ? 2 : 1;
}

static void bind(sc_param *p, const sc_store_entry *e)
{
    p->data = e->data;
    p->diff = e->diff;
    p->history = e->history;
    p->history2 = e->history2;
}

/* A new store for this net, its parameters filled as their fillers say. */
static sc_status init_own_store(sc_net *net)
{
    SC_TRY(check_param_memory(net));
    SC_TRY(sc_param_store_create(net, train_histories(net), &net->store));
    size_t max = 1;
    for (int i = 0; i < net->n_params; i++)
        if (net->params[i].count > max)
            max = net->params[i].count;
    float *host = malloc(max * sizeof *host);
    if (!host)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    sc_status st = SC_OK;
    for (int i = 0; i < net->n_params && st == SC_OK; i++) {
        sc_param *p = &net->params[i];
        bind(p, sc_param_store_entry(net->store, i));
        st = sc_filler_fill(net->ctx, p, net->opts.seed, host);
        if (st == SC_OK)
            st = sc_buffer_write(net->ctx, p->data, 0, p->count * sizeof(float), host);
        if (st != SC_OK)
            sc_error_prefix(sc_ctx_error(net->ctx), "%s: parameter %s (%zu values): ", net->label,
                            p->name, p->count);
    }
    free(host);
    return st;
}

static void dims_text(int ndim, const int *dims, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%d" : "%d", dims[i]);
}

/* The store of opts.share_params: every parameter must be there, same shape. */
static sc_status attach_shared_store(sc_net *net)
{
    sc_param_store *s = net->opts.share_params->store;
    if (!s)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG,
                       "%s: the net to share parameters with has none allocated", net->label);
    if (net->opts.share_params->ctx != net->ctx)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG,
                       "%s: nets can share parameters only within one context", net->label);
    net->store = sc_param_store_retain(s);
    net->store_shared = 1;
    if (net->opts.phase == SC_PHASE_TRAIN)
        SC_TRY(sc_param_store_enable_grads(s, train_histories(net)));
    for (int i = 0; i < net->n_params; i++) {
        sc_param *p = &net->params[i];
        const sc_store_entry *e = sc_param_store_find(s, p->name);
        char want[64], have[64];
        dims_text(p->ndim, p->dims, want, sizeof want);
        if (!e)
            return sc_fail(sc_ctx_error(net->ctx), SC_ERR_SHAPE,
                           "%s: parameter %s (%s) is not in the shared parameter store",
                           net->label, p->name, want);
        dims_text(e->ndim, e->dims, have, sizeof have);
        if (e->count != p->count || strcmp(want, have))
            return sc_fail(sc_ctx_error(net->ctx), SC_ERR_SHAPE,
                           "%s: parameter %s is %s here but %s in the shared parameter store",
                           net->label, p->name, want, have);
        bind(p, e);
    }
    return SC_OK;
}

sc_status sc_net_init_params(sc_net *net)
{
    return net->opts.share_params ? attach_shared_store(net) : init_own_store(net);
}

sc_status sc_net_param_store(const sc_net *net, sc_param_store_info *out)
{
    memset(out, 0, sizeof *out);
    if (!net->store)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: the net was built shapes-only",
                       net->label);
    *out = sc_param_store_info_of(net->store);
    return SC_OK;
}

/* -------------------------------------------------------- caffemodel I/O */

/* Shapes match when equal after dropping leading 1s: Caffe accepts legacy
 * 4-D (num, channels, height, width) blobs for 2-D parameters this way. */
static int shape_matches(const sc_param *p, const sc_cm_blob *b)
{
    int i = 0, j = 0;
    while (i < p->ndim - 1 && p->dims[i] == 1)
        i++;
    while (j < b->ndim - 1 && b->dims[j] == 1)
        j++;
    if (p->ndim - i != b->ndim - j)
        return 0;
    for (; i < p->ndim; i++, j++)
        if ((long long)p->dims[i] != b->dims[j])
            return 0;
    return 1;
}

static void shape_text(const sc_cm_blob *b, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < b->ndim && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%lld" : "%lld", b->dims[i]);
}

static void param_text(const sc_param *p, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->ndim && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%d" : "%d", p->dims[i]);
}

static void note_missing(char *missing, size_t cap, const char *name)
{
    if (!missing || cap == 0)
        return;
    size_t len = strlen(missing);
    snprintf(missing + len, cap - len, "%s%s", len ? ", " : "", name);
}

static sc_status load_layer(sc_net *net, const sc_layer *l, const sc_cm_layer *src)
{
    if (src->n_blobs != (size_t)l->n_params)
        return sc_layer_fail(l, SC_ERR_SHAPE, "the weights file has %zu blobs for it, expected %d",
                             src->n_blobs, l->n_params);
    for (int i = 0; i < l->n_params; i++) {
        const sc_param *p = sc_layer_param(l, i);
        const sc_cm_blob *b = &src->blobs[i];
        if (!shape_matches(p, b) || b->count != p->count) {
            char want[96], got[96];
            param_text(p, want, sizeof want);
            shape_text(b, got, sizeof got);
            return sc_layer_fail(l, SC_ERR_SHAPE, "blob %d is %s in the weights file, the net "
                                 "needs %s", i, got, want);
        }
        if (p->data) /* shapes-only nets just check */
            SC_TRY(sc_buffer_write(net->ctx, p->data, 0, p->count * sizeof(float), b->data));
    }
    return SC_OK;
}

sc_status sc_net_load_weights_model(sc_net *net, const sc_caffemodel *model, char *missing,
                                    size_t missing_cap)
{
    if (missing && missing_cap)
        missing[0] = '\0';
    for (int i = 0; i < net->n_layers; i++) {
        const sc_layer *l = &net->layers[i];
        if (l->n_params == 0)
            continue;
        const sc_cm_layer *src = sc_caffemodel_find(model, l->name);
        if (!src) {
            note_missing(missing, missing_cap, l->name);
            continue;
        }
        SC_TRY(load_layer(net, l, src));
    }
    return SC_OK;
}

sc_status sc_net_load_weights(sc_net *net, const char *caffemodel, char *missing,
                              size_t missing_cap)
{
    sc_caffemodel *model = NULL;
    SC_TRY(sc_caffemodel_read_file(caffemodel, &model, sc_ctx_error(net->ctx)));
    sc_status st = sc_net_load_weights_model(net, model, missing, missing_cap);
    if (st != SC_OK)
        sc_error_prefix(sc_ctx_error(net->ctx), "%s: ", caffemodel);
    sc_caffemodel_free(model);
    return st;
}

static void free_model_layers(sc_cm_layer *layers, int n)
{
    for (int i = 0; i < n; i++) {
        for (size_t b = 0; b < layers[i].n_blobs; b++)
            free(layers[i].blobs[b].data);
        free(layers[i].blobs);
    }
    free(layers);
}

static sc_status fill_model_layer(sc_net *net, const sc_layer *l, sc_cm_layer *dst)
{
    dst->name = l->name;
    dst->type = l->type;
    dst->blobs = calloc((size_t)l->n_params + 1, sizeof *dst->blobs);
    if (!dst->blobs)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    dst->n_blobs = (size_t)l->n_params;
    for (int i = 0; i < l->n_params; i++) {
        const sc_param *p = sc_layer_param(l, i);
        sc_cm_blob *b = &dst->blobs[i];
        b->ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            b->dims[d] = p->dims[d];
        b->count = p->count;
        b->data = malloc(p->count * sizeof(float));
        if (!b->data)
            return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
        SC_TRY(sc_buffer_read(net->ctx, p->data, 0, p->count * sizeof(float), b->data));
    }
    return SC_OK;
}

sc_status sc_net_save_weights(sc_net *net, const char *caffemodel)
{
    sc_cm_layer *layers = calloc((size_t)net->n_layers + 1, sizeof *layers);
    if (!layers)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    int n = 0;
    sc_status st = SC_OK;
    for (int i = 0; i < net->n_layers && st == SC_OK; i++)
        if (net->layers[i].n_params > 0)
            st = fill_model_layer(net, &net->layers[i], &layers[n++]);
    if (st == SC_OK) {
        sc_caffemodel model = {.name = net->name, .format_version = 2, .n_layers = (size_t)n,
                               .layers = layers};
        st = sc_caffemodel_write_file(caffemodel, &model, sc_ctx_error(net->ctx));
    }
    free_model_layers(layers, n);
    return st;
}
