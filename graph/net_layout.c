/* Inference layouts: in a TEST net on the oneDNN convolution provider, the
 * blobs that only convolutions and elementwise layers touch stay
 * channel-blocked (nChw16c, ops_conv.h) instead of NCHW. oneDNN's AVX-512
 * kernels work in that layout, so each convolution otherwise reorders its
 * input in and its output out (two passes over the activations), and its
 * depthwise kernel runs 2-4x faster than the OpenCL one without them
 * (MobileNet-SphereFace, bench/README.md).
 *
 * A storage is blocked when a convolution or an Eltwise wrote it, its
 * channels are a multiple of 16, every layer that runs on it reads blocked
 * data (a convolution, or an Eltwise whose other blobs are blocked too), and
 * no blob in it is a net output. Folded layers (BatchNorm, Scale, PReLU:
 * net_fold.c) run inside the convolution, so they do not count. Nets built
 * to read intermediate blobs (no_reuse, no_in_place, no_fold), with
 * plain_layout or under $SPHERECL_LAYOUT=plain stay NCHW. */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>

/* $SPHERECL_LAYOUT=plain keeps every blob NCHW (to compare, or to rule the
 * blocked layout out); blocked (or unset) allows it. */
static sc_status layout_env(const sc_net *net, int *plain)
{
    const char *env = getenv("SPHERECL_LAYOUT");
    *plain = env && !strcmp(env, "plain");
    if (!env || !*env || *plain || !strcmp(env, "blocked"))
        return SC_OK;
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG,
                   "%s: SPHERECL_LAYOUT='%s': expected plain or blocked", net->label, env);
}

static int layouts_wanted(const sc_net *net, int env_plain)
{
    const sc_net_options *o = &net->opts;
    return o->phase == SC_PHASE_TEST && !o->no_reuse && !o->no_in_place && !o->no_fold &&
           !o->plain_layout && !env_plain && sc_ctx_conv_provider(net->ctx) == SC_CONV_DNNL;
}

static int whole_blocks(const sc_value *v)
{
    return v->ndim == 4 && v->dims[1] % 16 == 0;
}

/* Candidates: the 4-D tops, 16-channel multiples, of convolutions and Eltwise. */
static void mark_candidates(const sc_net *net, char *blocked)
{
    for (int i = 0; i < net->n_layers; i++) {
        const sc_layer *l = &net->layers[i];
        if (l->folded || l->kind->layout == SC_LAYOUT_PLAIN)
            continue;
        for (int t = 0; t < l->n_tops; t++)
            if (whole_blocks(sc_layer_top(l, t)))
                blocked[sc_layer_top(l, t)->data] = 1;
    }
    for (int v = 0; v < net->n_values; v++)
        if (!net->values[v].n_consumers) /* an output: the caller reads it as NCHW */
            blocked[net->values[v].data] = 0;
}

/* An Eltwise needs one layout on all its blobs: unless all are blocked,
 * none is. Returns whether it changed anything. */
static int agree_elementwise(const sc_layer *l, char *blocked)
{
    int all = 1, any = 0;
    for (int b = 0; b < l->n_bottoms; b++) {
        all &= blocked[sc_layer_bottom(l, b)->data];
        any |= blocked[sc_layer_bottom(l, b)->data];
    }
    for (int t = 0; t < l->n_tops; t++) {
        all &= blocked[sc_layer_top(l, t)->data];
        any |= blocked[sc_layer_top(l, t)->data];
    }
    if (all || !any)
        return 0;
    for (int b = 0; b < l->n_bottoms; b++)
        blocked[sc_layer_bottom(l, b)->data] = 0;
    for (int t = 0; t < l->n_tops; t++)
        blocked[sc_layer_top(l, t)->data] = 0;
    return 1;
}

/* Drops what a plain reader needs NCHW; returns whether anything changed. */
static int drop_plain_readers(const sc_net *net, char *blocked)
{
    int changed = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const sc_layer *l = &net->layers[i];
        if (l->folded || l->kind->layout == SC_LAYOUT_CONV)
            continue;
        if (l->kind->layout == SC_LAYOUT_ELEMENTWISE) {
            changed |= agree_elementwise(l, blocked);
            continue;
        }
        for (int b = 0; b < l->n_bottoms; b++) {
            int s = sc_layer_bottom(l, b)->data;
            changed |= blocked[s];
            blocked[s] = 0;
        }
        for (int t = 0; t < l->n_tops; t++) { /* an in-place plain layer writes it too */
            int s = sc_layer_top(l, t)->data;
            changed |= blocked[s];
            blocked[s] = 0;
        }
    }
    return changed;
}

sc_status sc_net_choose_layouts(sc_net *net)
{
    for (int s = 0; s < net->n_storages; s++)
        net->storages[s].blocked = 0;
    int env_plain;
    SC_TRY(layout_env(net, &env_plain));
    if (!layouts_wanted(net, env_plain) || net->n_storages == 0)
        return SC_OK;
    char *blocked = calloc((size_t)net->n_storages, 1);
    if (!blocked)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    mark_candidates(net, blocked);
    while (drop_plain_readers(net, blocked))
        ;
    for (int s = 0; s < net->n_storages; s++)
        net->storages[s].blocked = blocked[s];
    free(blocked);
    return SC_OK;
}
