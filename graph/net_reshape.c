/* Reshaping a built net (ggml's reserve-at-max): the net is planned once for
 * its largest input shape, and sc_net_reshape runs it at any smaller one. The
 * layers' setups run again in "reshape mode" (net_build.c), where every
 * declaration is checked against the built net instead of adding to it:
 * parameters must keep their shapes, buffers must fit their storages.
 * Buffers, parameters, folding and layer state stay; the plans are recorded
 * again for the new launch sizes and kept per shape, so switching between a
 * few shapes (MTCNN's image pyramid) records each only once. */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>

#define PLAN_CACHE 16

typedef struct cached_plans {
    int n, h, w;
    sc_plan *forward, *backward;
} cached_plans;

struct sc_plan_cache {
    cached_plans e[PLAN_CACHE];
    int count, next; /* next: the slot to evict when full */
};

void sc_plan_cache_free(sc_plan_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->count; i++) {
        sc_plan_destroy(c->e[i].forward);
        sc_plan_destroy(c->e[i].backward);
    }
    free(c);
}

/* The shape of the first 4-D input (N, H, W); 1-D inputs give N only. */
static void input_shape(const sc_net *net, int *n, int *h, int *w)
{
    *n = net->batch;
    *h = *w = 0;
    for (int v = 0; v < net->n_values; v++) {
        const sc_value *val = &net->values[v];
        int is_input = val->producer < 0 ||
                       (net->layers[val->producer].kind->flags & SC_KIND_DATA);
        if (is_input && val->ndim == 4) {
            *h = val->dims[2];
            *w = val->dims[3];
            return;
        }
    }
}

/* Legacy `input:` blobs belong to no layer: their shapes are set here. */
static sc_status reshape_legacy_inputs(sc_net *net)
{
    for (int v = 0; v < net->n_values; v++) {
        sc_value *val = &net->values[v];
        if (val->producer >= 0)
            continue;
        sc_net_input_dims(net, val->ndim, val->dims);
        SC_TRY(sc_net_resize_storage(net, val->data, sc_value_count(val), val->name));
    }
    return SC_OK;
}

static sc_status reshape_diffs(sc_net *net)
{
    for (int v = 0; v < net->n_values; v++) {
        sc_value *val = &net->values[v];
        if (val->diff >= 0)
            SC_TRY(sc_net_resize_storage(net, val->diff, sc_value_count(val), val->name));
    }
    if (net->workspace_floats > net->workspace_capacity)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_SHAPE,
                       "%s: the workspace needs %zu floats at this shape, the net was built with "
                       "%zu",
                       net->label, net->workspace_floats, net->workspace_capacity);
    return SC_OK;
}

/* Re-derives every shape for input (n, h, w) through the layers' setups. */
static sc_status derive_shapes(sc_net *net, int n, int h, int w)
{
    net->reshaping = 1;
    net->reshape_n = n;
    net->reshape_h = h;
    net->reshape_w = w;
    net->workspace_floats = 0;
    sc_status st = reshape_legacy_inputs(net);
    for (int i = 0; i < net->n_layers && st == SC_OK; i++) {
        sc_layer *l = &net->layers[i];
        l->reshape_params = l->reshape_extras = 0;
        st = sc_net_setup_layer(net, l);
    }
    if (st == SC_OK)
        st = reshape_diffs(net);
    net->reshaping = 0;
    if (net->workspace_floats < net->workspace_capacity)
        net->workspace_floats = net->workspace_capacity; /* the buffer keeps its size */
    return st;
}

static sc_status cache_current(sc_net *net, int n, int h, int w)
{
    sc_plan_cache *c = net->plans;
    int slot = c->count < PLAN_CACHE ? c->count++ : c->next;
    if (slot == c->next && c->count == PLAN_CACHE) {
        c->next = (c->next + 1) % PLAN_CACHE;
        sc_plan_destroy(c->e[slot].forward); /* never the current plans: they are new */
        sc_plan_destroy(c->e[slot].backward);
    }
    c->e[slot] = (cached_plans){n, h, w, net->forward, net->backward};
    return SC_OK;
}

/* Makes the plans of (n, h, w) current: from the cache, or recorded now. */
static sc_status use_plans(sc_net *net, int n, int h, int w)
{
    sc_plan_cache *c = net->plans;
    for (int i = 0; i < c->count; i++)
        if (c->e[i].n == n && c->e[i].h == h && c->e[i].w == w) {
            net->forward = c->e[i].forward;
            net->backward = c->e[i].backward;
            return SC_OK;
        }
    sc_plan *f, *b;
    SC_TRY(sc_net_record(net, &f, &b));
    net->forward = f;
    net->backward = b;
    return cache_current(net, n, h, w);
}

sc_status sc_net_reshape(sc_net *net, int n, int h, int w)
{
    if (!net->forward)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: the net was built shapes-only",
                       net->label);
    int n0, h0, w0;
    input_shape(net, &n0, &h0, &w0);
    n = n > 0 ? n : n0;
    h = h > 0 ? h : h0;
    w = w > 0 ? w : w0;
    if (n < 1 || (h0 > 0 && (h < 1 || w < 1)))
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: cannot reshape to %dx%dx%d",
                       net->label, n, h, w);
    if (n == n0 && h == h0 && w == w0)
        return SC_OK;
    if (!net->plans) { /* the first reshape: the built shape's plans join the cache */
        net->plans = calloc(1, sizeof *net->plans);
        if (!net->plans)
            return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
        SC_TRY(cache_current(net, n0, h0, w0));
    }
    sc_status st = derive_shapes(net, n, h, w);
    if (st == SC_OK)
        st = use_plans(net, n, h, w);
    if (st != SC_OK) {
        /* back to the shape that worked, keeping the error that explains why */
        sc_error saved = *sc_ctx_error(net->ctx);
        if (derive_shapes(net, n0, h0, w0) == SC_OK)
            use_plans(net, n0, h0, w0);
        *sc_ctx_error(net->ctx) = saved;
        return st;
    }
    net->batch = n;
    return SC_OK;
}
