/* Planner: decides which layers run backward and which blobs need
 * gradients, computes each storage's liveness over the forward+backward
 * step sequence, maps storages onto shared device buffers, and records the
 * forward, backward and clear-diffs plans. */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>

static int fwd_step(const sc_net *net, int layer) { (void)net; return layer; }
static int bwd_step(const sc_net *net, int layer) { return 2 * net->n_layers - 1 - layer; }

static void touch(sc_storage *s, int step)
{
    if (step < s->first)
        s->first = step;
    if (step > s->last)
        s->last = step;
}

/* An in-place layer whose input is also read by another layer must not
 * overwrite it: give its output a storage of its own (Caffe would insert a
 * Split layer before it). */
/* Which values lie on a path from a learnable parameter (pass A), and which
 * layers must run backward because their outputs reach a loss (pass B). */
static sc_status decide_backward(sc_net *net, int *grad_path, int *wanted)
{
    int train = net->opts.phase == SC_PHASE_TRAIN;
    int *has_grad = calloc((size_t)net->n_layers + 1, sizeof *has_grad);
    if (!has_grad) /* never a silently skipped backward */
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory planning");
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        for (int p = 0; p < l->n_params; p++)
            has_grad[i] |= sc_layer_param(l, p)->lr_mult != 0.0f;
        for (int b = 0; b < l->n_bottoms; b++)
            has_grad[i] |= grad_path[l->bottoms[b]];
        for (int t = 0; t < l->n_tops; t++)
            grad_path[l->tops[t]] = has_grad[i] && l->kind->backward != NULL;
    }
    for (int i = net->n_layers - 1; i >= 0; i--) {
        sc_layer *l = &net->layers[i];
        int contributes = 0;
        for (int t = 0; t < l->n_tops; t++)
            contributes |= l->loss_weight[t] != 0.0f || wanted[l->tops[t]];
        l->runs_backward = train && contributes && has_grad[i] && l->kind->backward != NULL;
        for (int b = 0; b < l->n_bottoms; b++) {
            l->bottom_needs_diff[b] = l->runs_backward && grad_path[l->bottoms[b]];
            if (l->bottom_needs_diff[b])
                wanted[l->bottoms[b]] = 1;
        }
    }
    free(has_grad);
    return SC_OK;
}

/* An in-place layer whose input is also read by another layer must not
 * overwrite it: give its output a storage of its own (Caffe would insert a
 * Split layer before it). */
static sc_status split_unsafe_in_place(sc_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        if (!l->in_place || (sc_layer_bottom(l, 0)->n_consumers <= 1 && !net->opts.no_in_place))
            continue;
        l->in_place = 0;
        int s = -1;
        SC_TRY(sc_net_new_storage(net, sc_value_count(sc_layer_top(l, 0)), 0, &s));
        sc_layer_top(l, 0)->data = s;
    }
    return SC_OK;
}

/* The first layer in backward order to write a gradient storage overwrites
 * it, later ones accumulate; an in-place layer turns dy into dx inside the
 * same buffer, so it always overwrites. */
static sc_status decide_betas(sc_net *net)
{
    char *written = calloc((size_t)net->n_storages + 1, 1);
    if (!written)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory planning");
    for (int i = net->n_layers - 1; i >= 0; i--) {
        sc_layer *l = &net->layers[i];
        for (int b = 0; b < l->n_bottoms && l->runs_backward; b++) {
            int s = sc_layer_bottom(l, b)->diff;
            if (!l->bottom_needs_diff[b] || s < 0)
                continue;
            l->bottom_beta[b] = written[s] && !(l->in_place && b == 0) ? 1.0f : 0.0f;
            written[s] = 1;
        }
    }
    free(written);
    return SC_OK;
}

static sc_status assign_diffs(sc_net *net, const int *wanted)
{
    for (int v = 0; v < net->n_values; v++) {
        sc_value *val = &net->values[v];
        val->needs_diff = wanted[v];
        val->diff = -1;
        if (!wanted[v])
            continue;
        const sc_layer *p = val->producer >= 0 ? &net->layers[val->producer] : NULL;
        if (p && p->in_place && p->tops[0] == v && wanted[p->bottoms[0]]) {
            val->diff = net->values[p->bottoms[0]].diff; /* dy becomes dx in place */
            continue;
        }
        int s = -1;
        SC_TRY(sc_net_new_storage(net, sc_value_count(val), 0, &s));
        net->values[v].diff = s;
    }
    return SC_OK;
}

static void value_liveness(sc_net *net)
{
    int last = 2 * net->n_layers;
    for (int v = 0; v < net->n_values; v++) {
        sc_value *val = &net->values[v];
        sc_storage *d = &net->storages[val->data];
        if (val->producer < 0 || val->n_consumers == 0) {
            d->persistent = 1; /* inputs are written, outputs read, by the host */
        } else {
            touch(d, fwd_step(net, val->producer));
            if (net->layers[val->producer].runs_backward)
                touch(d, bwd_step(net, val->producer));
        }
        if (val->diff >= 0 && val->producer >= 0 && net->layers[val->producer].runs_backward)
            touch(&net->storages[val->diff], bwd_step(net, val->producer));
    }
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        for (int b = 0; b < l->n_bottoms; b++) {
            sc_value *val = sc_layer_bottom(l, b);
            touch(&net->storages[val->data], fwd_step(net, i));
            if (l->runs_backward)
                touch(&net->storages[val->data], bwd_step(net, i));
            if (l->bottom_needs_diff[b] && val->diff >= 0)
                touch(&net->storages[val->diff], bwd_step(net, i));
        }
        for (int e = 0; e < l->n_extras; e++) {
            sc_storage *s = &net->storages[l->extras[e]];
            touch(s, fwd_step(net, i));
            if (l->runs_backward)
                touch(s, bwd_step(net, i));
        }
    }
    for (int s = 0; s < net->n_storages; s++) {
        sc_storage *st = &net->storages[s];
        if (net->opts.no_reuse || st->persistent || st->first > st->last) {
            st->first = 0;
            st->last = last;
            st->persistent = 1;
        }
    }
}

typedef struct order_item {
    int storage;
    int first;
} order_item;

static int cmp_first(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    return x->first != y->first ? (x->first < y->first ? -1 : 1) : x->storage - y->storage;
}

/* Drivers such as PoCL accept allocations beyond the memory they advertise
 * and fail (or get killed) later, inside a kernel: refuse up front. */
static sc_status check_device_memory(const sc_net *net)
{
    size_t bytes = net->workspace_floats * sizeof(float);
    for (int b = 0; b < net->n_buffers; b++)
        bytes += net->buffers[b].floats * sizeof(float);
    if (!net->store_shared) { /* a shared store is allocated already */
        sc_param_store_info si = sc_param_store_info_of(net->store);
        bytes += si.bytes * (size_t)(1 + !!si.diff + !!si.history + !!si.history2);
    }
    const sc_device_info *d = sc_ctx_info(net->ctx);
    if (bytes <= d->global_mem)
        return SC_OK;
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM,
                   "%s: device out of memory: the net needs %.0f MiB at batch %d, %s has %.0f MiB "
                   "(use a smaller batch_size)",
                   net->label, bytes / 1048576.0, net->batch, d->name, d->global_mem / 1048576.0);
}

/* Greedy interval packing: a storage takes a free buffer that fits (the
 * smallest), else grows the largest free one, else gets a new buffer. */
static sc_status assign_buffers(sc_net *net)
{
    order_item *order = malloc((size_t)(net->n_storages + 1) * sizeof *order);
    int *free_at = malloc((size_t)(net->n_storages + 1) * sizeof *free_at);
    net->buffers = calloc((size_t)net->n_storages + 1, sizeof *net->buffers);
    if (!order || !free_at || !net->buffers) {
        free(order);
        free(free_at);
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    }
    for (int s = 0; s < net->n_storages; s++)
        order[s] = (order_item){s, net->storages[s].first};
    qsort(order, (size_t)net->n_storages, sizeof *order, cmp_first);
    for (int k = 0; k < net->n_storages; k++) {
        sc_storage *st = &net->storages[order[k].storage];
        int best = -1, largest = -1;
        for (int b = 0; b < net->n_buffers && !st->persistent; b++) {
            if (free_at[b] >= st->first || free_at[b] == 1 << 30)
                continue;
            if (net->buffers[b].floats >= st->floats &&
                (best < 0 || net->buffers[b].floats < net->buffers[best].floats))
                best = b;
            if (largest < 0 || net->buffers[b].floats > net->buffers[largest].floats)
                largest = b;
        }
        int b = best >= 0 ? best : largest;
        if (b < 0) {
            b = net->n_buffers++;
            net->buffers[b].floats = 0;
        }
        if (net->buffers[b].floats < st->floats)
            net->buffers[b].floats = st->floats;
        free_at[b] = st->persistent ? 1 << 30 : st->last;
        st->buffer = b;
    }
    free(order);
    free(free_at);
    for (int s = 0; s < net->n_storages; s++)
        net->storages[s].capacity = net->storages[s].floats;
    net->workspace_capacity = net->workspace_floats;
    SC_TRY(check_device_memory(net));
    for (int b = 0; b < net->n_buffers; b++) {
        size_t floats = net->buffers[b].floats ? net->buffers[b].floats : 1;
        sc_status st = sc_buffer_alloc(net->ctx, floats * sizeof(float), &net->buffers[b].mem);
        if (st != SC_OK)
            return sc_error_prefix(sc_ctx_error(net->ctx), "%s: allocating activations: ",
                                   net->label);
    }
    if (net->workspace_floats > 0)
        SC_TRY(sc_buffer_alloc(net->ctx, net->workspace_floats * sizeof(float), &net->workspace));
    return SC_OK;
}

sc_status sc_net_record(sc_net *net, sc_plan **forward, sc_plan **backward)
{
    *forward = *backward = NULL;
    sc_plan *f = NULL, *b = NULL;
    sc_status st = sc_plan_create(net->ctx, &f);
    if (st == SC_OK)
        st = sc_plan_create(net->ctx, &b);
    for (int i = 0; i < net->n_layers && st == SC_OK; i++) {
        sc_layer *l = &net->layers[i];
        if (!l->folded)
            st = l->kind->forward(l, f);
    }
    for (int i = net->n_layers - 1; i >= 0 && st == SC_OK; i--) {
        sc_layer *l = &net->layers[i];
        if (l->runs_backward)
            st = l->kind->backward(l, b);
    }
    if (st != SC_OK) {
        sc_plan_destroy(f);
        sc_plan_destroy(b);
        return st;
    }
    *forward = f;
    *backward = b;
    return SC_OK;
}

/* Clearing every gradient is one fill over the store's gradient buffer. */
static sc_status record_clear_diffs(sc_net *net)
{
    SC_TRY(sc_plan_create(net->ctx, &net->clear_diffs));
    sc_param_store_info si = sc_param_store_info_of(net->store);
    if (!si.diff || net->opts.phase != SC_PHASE_TRAIN)
        return SC_OK;
    return sc_op_fill(net->clear_diffs, "param diffs", si.bytes / sizeof(float), 0.0f, si.diff);
}

sc_status sc_net_plan(sc_net *net)
{
    SC_TRY(split_unsafe_in_place(net));
    SC_TRY(sc_net_fold(net));
    SC_TRY(sc_net_choose_layouts(net));
    int *grad_path = calloc((size_t)net->n_values + 1, sizeof *grad_path);
    int *wanted = calloc((size_t)net->n_values + 1, sizeof *wanted);
    if (!grad_path || !wanted) {
        free(grad_path);
        free(wanted);
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory");
    }
    sc_status st = decide_backward(net, grad_path, wanted);
    if (st == SC_OK)
        st = assign_diffs(net, wanted);
    free(grad_path);
    free(wanted);
    SC_TRY(st);
    value_liveness(net);
    SC_TRY(decide_betas(net));
    SC_TRY(assign_buffers(net));
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind->init)
            SC_TRY(net->layers[i].kind->init(&net->layers[i]));
    SC_TRY(record_clear_diffs(net));
    return sc_net_record(net, &net->forward, &net->backward);
}
