/* The sc_net API used by the apps: run plans, read and write blobs, list
 * layers and parameters, memory use, layer state. */
#include "net_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sc_ctx *sc_net_ctx(const sc_net *net) { return net->ctx; }
const char *sc_net_name(const sc_net *net) { return net->name; }
sc_phase sc_net_phase(const sc_net *net) { return net->opts.phase; }
int sc_net_batch(const sc_net *net) { return net->batch; }

static sc_status run(sc_net *net, sc_plan *plan)
{
    if (!plan)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: the net was built shapes-only",
                       net->label);
    return sc_plan_run(plan);
}

sc_status sc_net_forward(sc_net *net) { return run(net, net->forward); }

sc_status sc_net_backward(sc_net *net)
{
    if (net->opts.phase != SC_PHASE_TRAIN)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: backward on a TEST-phase net",
                       net->label);
    return run(net, net->backward);
}

sc_plan *sc_net_forward_plan(const sc_net *net) { return net->forward; }
sc_plan *sc_net_backward_plan(const sc_net *net) { return net->backward; }
sc_plan *sc_net_clear_plan(const sc_net *net) { return net->clear_diffs; }

sc_status sc_net_clear_param_diffs(sc_net *net) { return run(net, net->clear_diffs); }

static int find_value_by_name(const sc_net *net, const char *name)
{
    for (int i = net->n_values - 1; i >= 0; i--)
        if (!strcmp(net->values[i].name, name))
            return i;
    return -1;
}

static cl_mem storage_mem(const sc_net *net, int s)
{
    return s < 0 || net->storages[s].buffer < 0 ? NULL : net->buffers[net->storages[s].buffer].mem;
}

static void value_info(const sc_net *net, int v, sc_blob_info *out)
{
    const sc_value *val = &net->values[v];
    memset(out, 0, sizeof *out);
    out->name = val->name;
    out->ndim = val->ndim;
    memcpy(out->dims, val->dims, sizeof out->dims);
    out->count = sc_value_count(val);
    out->data = storage_mem(net, val->data);
    out->diff = storage_mem(net, val->diff);
    out->blocked = val->data >= 0 && net->storages[val->data].blocked;
}

sc_status sc_net_blob(sc_net *net, const char *name, sc_blob_info *out)
{
    int v = find_value_by_name(net, name);
    if (v < 0)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: no blob named '%s'", net->label,
                       name);
    value_info(net, v, out);
    return SC_OK;
}

sc_status sc_net_layer_output(sc_net *net, const char *layer, int top, sc_blob_info *out)
{
    for (int i = 0; i < net->n_layers; i++) {
        const sc_layer *l = &net->layers[i];
        if (strcmp(l->name, layer))
            continue;
        if (top < 0 || top >= l->n_tops)
            break;
        value_info(net, l->tops[top], out);
        return SC_OK;
    }
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: no layer '%s' with a top %d",
                   net->label, layer, top);
}

static sc_status blob_io(sc_net *net, const char *name, void *buf, size_t count, int write,
                         int diff)
{
    sc_blob_info b;
    SC_TRY(sc_net_blob(net, name, &b));
    cl_mem mem = diff ? b.diff : b.data;
    if (!mem)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: blob '%s' has no %s", net->label,
                       name, diff ? "gradient" : "data");
    if (count != b.count)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_SHAPE,
                       "%s: blob '%s' holds %zu values, %zu given", net->label, name, b.count,
                       count);
    if (b.blocked && !diff)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG,
                       "%s: blob '%s' is an intermediate blob held channel-blocked between "
                       "convolutions; build the net with no_reuse (or plain_layout) to %s it",
                       net->label, name, write ? "write" : "read");
    return write ? sc_buffer_write(net->ctx, mem, 0, count * sizeof(float), buf)
                 : sc_buffer_read(net->ctx, mem, 0, count * sizeof(float), buf);
}

sc_status sc_net_read_blob(sc_net *net, const char *name, float *dst, size_t count)
{
    return blob_io(net, name, dst, count, 0, 0);
}

sc_status sc_net_write_blob(sc_net *net, const char *name, const float *src, size_t count)
{
    return blob_io(net, name, (void *)src, count, 1, 0);
}

sc_status sc_net_read_blob_diff(sc_net *net, const char *name, float *dst, size_t count)
{
    return blob_io(net, name, dst, count, 0, 1);
}


size_t sc_net_outputs(const sc_net *net, const char **names, size_t cap)
{
    size_t n = 0;
    for (int v = 0; v < net->n_values; v++) {
        /* the latest version of a name, consumed by nobody */
        if (net->values[v].n_consumers || find_value_by_name(net, net->values[v].name) != v ||
            net->values[v].producer < 0)
            continue;
        if (n < cap)
            names[n] = net->values[v].name;
        n++;
    }
    return n;
}

size_t sc_net_inputs(const sc_net *net, const char **names, size_t cap)
{
    size_t n = 0;
    for (int v = 0; v < net->n_values; v++) {
        const sc_value *val = &net->values[v];
        int is_input = val->producer < 0;
        if (!is_input && net->layers[val->producer].n_bottoms == 0 &&
            net->layers[val->producer].n_params == 0)
            is_input = 1; /* data layers (Input, ImageData) */
        if (!is_input)
            continue;
        if (n < cap)
            names[n] = val->name;
        n++;
    }
    return n;
}

size_t sc_net_param_count(const sc_net *net) { return (size_t)net->n_params; }

sc_status sc_net_param(const sc_net *net, size_t i, sc_param_info *out)
{
    if (i >= (size_t)net->n_params)
        return SC_ERR_ARG;
    const sc_param *p = &net->params[i];
    out->name = p->name;
    out->layer = net->layers[p->layer].name;
    out->index = p->index;
    out->ndim = p->ndim;
    memcpy(out->dims, p->dims, sizeof out->dims);
    out->count = p->count;
    out->lr_mult = p->lr_mult;
    out->decay_mult = p->decay_mult;
    out->data = p->data;
    out->diff = p->diff;
    out->history = p->history;
    out->history2 = p->history2;
    return SC_OK;
}

sc_status sc_net_find_param(const sc_net *net, const char *name, sc_param_info *out)
{
    for (int i = 0; i < net->n_params; i++)
        if (!strcmp(net->params[i].name, name))
            return sc_net_param(net, (size_t)i, out);
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: no parameter named '%s'", net->label,
                   name);
}

size_t sc_net_layer_count(const sc_net *net) { return (size_t)net->n_layers; }

sc_status sc_net_layer(const sc_net *net, size_t i, sc_layer_info *out)
{
    if (i >= (size_t)net->n_layers)
        return SC_ERR_ARG;
    const sc_layer *l = &net->layers[i];
    memset(out, 0, sizeof *out);
    out->name = l->name;
    out->type = l->type;
    out->n_bottoms = (size_t)l->n_bottoms;
    out->n_tops = (size_t)l->n_tops;
    for (int p = 0; p < l->n_params; p++)
        out->params += net->params[l->params[p]].count;
    out->flops = l->kind->flops ? l->kind->flops(l) : 0.0;
    out->is_data = (l->kind->flags & SC_KIND_DATA) != 0;
    out->reads_images = (l->kind->flags & SC_KIND_IMAGES) != 0;
    out->is_loss = (l->kind->flags & SC_KIND_LOSS) != 0;
    out->takes_labels = (l->kind->flags & SC_KIND_LABELS) != 0;
    out->is_accuracy = (l->kind->flags & SC_KIND_ACCURACY) != 0;
    return SC_OK;
}

const char *sc_net_layer_bottom(const sc_net *net, size_t layer, size_t i)
{
    return net->values[net->layers[layer].bottoms[i]].name;
}

const char *sc_net_layer_top(const sc_net *net, size_t layer, size_t i)
{
    return net->values[net->layers[layer].tops[i]].name;
}

sc_status sc_net_layer_top_shape(const sc_net *net, size_t layer, size_t i, int *ndim, int dims[4])
{
    const sc_value *v = &net->values[net->layers[layer].tops[i]];
    *ndim = v->ndim;
    memcpy(dims, v->dims, sizeof v->dims);
    return SC_OK;
}

sc_net_memory sc_net_memory_use(const sc_net *net)
{
    sc_net_memory m = {0};
    for (int b = 0; b < net->n_buffers; b++)
        m.activations_bytes += net->buffers[b].floats * sizeof(float);
    for (int s = 0; s < net->n_storages; s++)
        m.unshared_bytes += net->storages[s].floats * sizeof(float);
    if (net->store) {
        sc_param_store_info si = sc_param_store_info_of(net->store);
        m.params_bytes = si.bytes * (size_t)(1 + !!si.diff + !!si.history + !!si.history2);
    } else { /* shapes only */
        for (int p = 0; p < net->n_params; p++)
            m.params_bytes += net->params[p].count * sizeof(float) *
                              (net->opts.phase == SC_PHASE_TRAIN ? 3 : 1);
    }
    m.workspace_bytes = net->workspace_floats * sizeof(float);
    return m;
}

size_t sc_net_state_count(const sc_net *net)
{
    size_t n = 0;
    for (int i = 0; i < net->n_layers; i++)
        n += net->layers[i].kind->state_get != NULL;
    return n;
}

sc_status sc_net_state_get(sc_net *net, size_t i, const char **layer, long long *iteration,
                           float *lambda)
{
    for (int k = 0; k < net->n_layers; k++) {
        sc_layer *l = &net->layers[k];
        if (!l->kind->state_get || i-- > 0)
            continue;
        *layer = l->name;
        return l->kind->state_get(l, iteration, lambda);
    }
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: no layer state %zu", net->label, i);
}

sc_status sc_net_state_set(sc_net *net, const char *layer, long long iteration)
{
    for (int k = 0; k < net->n_layers; k++) {
        sc_layer *l = &net->layers[k];
        if (l->kind->state_set && !strcmp(l->name, layer))
            return l->kind->state_set(l, iteration);
    }
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_ARG, "%s: no stateful layer named '%s'",
                   net->label, layer);
}

/* Copies layer state (A-Softmax iteration) into a net sharing the parameters. */
static sc_status copy_layer_state(sc_net *from, sc_net *to)
{
    for (size_t s = 0; s < sc_net_state_count(from); s++) {
        const char *layer = NULL;
        long long iter;
        float lambda;
        SC_TRY(sc_net_state_get(from, s, &layer, &iter, &lambda));
        sc_status st = sc_net_state_set(to, layer, iter);
        if (st != SC_OK && st != SC_ERR_ARG)
            return st;
    }
    return SC_OK;
}

sc_status sc_net_set_batch(sc_net **netp, int batch)
{
    sc_net *old = *netp;
    if (batch == old->batch)
        return SC_OK;
    if (batch <= old->built_batch)
        return sc_net_reshape(old, batch, 0, 0);
    /* larger than the buffers: a new net over the same parameter store */
    sc_net_options opts = old->opts;
    opts.batch = batch;
    opts.base_dir = old->base_dir;
    opts.share_params = old;
    sc_net *fresh = NULL;
    SC_TRY(sc_net_create_from_tree(old->ctx, old->root, old->label, &opts, &fresh));
    sc_status st = copy_layer_state(old, fresh);
    if (st != SC_OK) {
        sc_net_destroy(fresh);
        return st;
    }
    fresh->owned_root = old->owned_root; /* the tree moves with the net */
    old->owned_root = NULL;
    sc_net_destroy(old);
    *netp = fresh;
    return SC_OK;
}

const sc_pt_node *sc_net_layer_def(const sc_net *net, size_t i)
{
    return i < (size_t)net->n_layers ? net->layers[i].def : NULL;
}
