/* The flat parameter store (llm.c's layout): every parameter's data lives in
 * one device allocation, every gradient in a second and every solver history
 * in a third, each parameter at the same aligned offset in all three. The
 * layers see their own sub-ranges as OpenCL sub-buffers, so kernels need no
 * offsets; the solver clears all gradients with one fill, and an all-reduce
 * moves them in one transfer. Nets built with sc_net_options.share_params use
 * the store of another net: same buffers, so each sees the other's updates. */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>

struct sc_param_store {
    sc_ctx *ctx;
    int refs;
    sc_store_entry *entries;
    int n;
    size_t bytes;                 /* of each flat buffer, a multiple of the alignment */
    /* the flat buffers (diff, history: NULL until training; history2: NULL
     * unless a two-history solver trains) */
    cl_mem data, diff, history, history2;
};

static size_t store_align(const sc_ctx *ctx)
{
    size_t a = sc_ctx_info(ctx)->base_align;
    return a < 64 ? 64 : a; /* at least a cache line between parameters */
}

static sc_status nomem(sc_ctx *ctx)
{
    return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory for the parameter store");
}

/* Lays out the net's parameters (in declaration order) at aligned offsets. */
static sc_status layout(sc_param_store *s, const sc_net *net)
{
    s->entries = calloc((size_t)net->n_params + 1, sizeof *s->entries);
    if (!s->entries)
        return nomem(s->ctx);
    size_t align = store_align(s->ctx), off = 0;
    for (int i = 0; i < net->n_params; i++) {
        const sc_param *p = &net->params[i];
        sc_store_entry *e = &s->entries[i];
        e->name = strdup(p->name);
        if (!e->name)
            return nomem(s->ctx);
        e->ndim = p->ndim;
        memcpy(e->dims, p->dims, sizeof e->dims);
        e->count = p->count;
        e->offset = off;
        size_t bytes = (p->count ? p->count : 1) * sizeof(float);
        off += (bytes + align - 1) / align * align;
        s->n = i + 1;
    }
    s->bytes = off ? off : align;
    return SC_OK;
}

static sc_status make_regions(sc_param_store *s, cl_mem parent, int which)
{
    for (int i = 0; i < s->n; i++) {
        sc_store_entry *e = &s->entries[i];
        cl_mem *dst = which == 0 ? &e->data : which == 1 ? &e->diff
                      : which == 2 ? &e->history : &e->history2;
        SC_TRY(sc_buffer_region(s->ctx, parent, e->offset, (e->count ? e->count : 1) * sizeof(float),
                                dst));
    }
    return SC_OK;
}

/* One flat buffer of the store, zeroed, with its per-parameter regions. */
static sc_status alloc_flat(sc_param_store *s, cl_mem *flat, int which)
{
    SC_TRY(sc_buffer_alloc(s->ctx, s->bytes, flat));
    SC_TRY(sc_buffer_fill(s->ctx, *flat, 0.0f, 0, s->bytes / sizeof(float)));
    return make_regions(s, *flat, which);
}

sc_status sc_param_store_create(sc_net *net, int histories, sc_param_store **out)
{
    *out = NULL;
    sc_param_store *s = calloc(1, sizeof *s);
    if (!s)
        return nomem(net->ctx);
    s->ctx = net->ctx;
    s->refs = 1;
    sc_status st = layout(s, net);
    if (st == SC_OK)
        st = alloc_flat(s, &s->data, 0);
    if (st == SC_OK && histories > 0)
        st = sc_param_store_enable_grads(s, histories);
    if (st != SC_OK) {
        sc_param_store_release(s);
        return st;
    }
    *out = s;
    return SC_OK;
}

sc_status sc_param_store_enable_grads(sc_param_store *s, int histories)
{
    if (!s->diff)
        SC_TRY(alloc_flat(s, &s->diff, 1));
    if (!s->history)
        SC_TRY(alloc_flat(s, &s->history, 2));
    if (histories >= 2 && !s->history2)
        SC_TRY(alloc_flat(s, &s->history2, 3));
    return SC_OK;
}

sc_param_store *sc_param_store_retain(sc_param_store *s)
{
    if (s)
        s->refs++;
    return s;
}

void sc_param_store_release(sc_param_store *s)
{
    if (!s || --s->refs > 0)
        return;
    for (int i = 0; i < s->n; i++) {
        sc_store_entry *e = &s->entries[i];
        cl_mem regions[4] = {e->data, e->diff, e->history, e->history2};
        for (int k = 0; k < 4; k++)
            if (regions[k])
                clReleaseMemObject(regions[k]);
        free(e->name);
    }
    free(s->entries);
    sc_buffer_release(s->ctx, s->data);
    sc_buffer_release(s->ctx, s->diff);
    sc_buffer_release(s->ctx, s->history);
    sc_buffer_release(s->ctx, s->history2);
    free(s);
}

const sc_store_entry *sc_param_store_find(const sc_param_store *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->entries[i].name, name))
            return &s->entries[i];
    return NULL;
}

const sc_store_entry *sc_param_store_entry(const sc_param_store *s, int i)
{
    return i >= 0 && i < s->n ? &s->entries[i] : NULL;
}

sc_param_store_info sc_param_store_info_of(const sc_param_store *s)
{
    return (sc_param_store_info){.data = s->data, .diff = s->diff, .history = s->history,
                                 .history2 = s->history2, .bytes = s->bytes,
                                 .params = (size_t)s->n, .nets = s->refs};
}
