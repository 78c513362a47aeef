/* Caffe's solvers: the iteration loop (feed, forward, backward, update) over
 * recorded plans; the update plan holds one SGD-family kernel per parameter
 * (cl/ops_sgd.h). The solver prototxt is read by solver_params.c. */
#include "sc_solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_internal.h"

struct sc_solver {
    sc_ctx *ctx;
    sc_solver_params p;
    sc_net *net;
    sc_plan *update;
    /* SC_SGD_SCALARS floats the update kernels read: the rate and Adam's
     * correction of the current iteration, which on_device mirrors (NaN
     * before the first write) so that unchanged values are not rewritten,
     * and the clip scale, which the update plan computes on the device */
    cl_mem scalars;
    float on_device[SC_SGD_SCALARS];
    cl_mem clip_partial; /* clip_gradients: per-blob partial sums of diff^2 */
    int iter;
    /* training accuracy of the loss layer's scores when the net has no
     * Accuracy layer (run only on iterations that ask for it) */
    sc_plan *accuracy;
    cl_mem accuracy_value;
    /* the monitor (cl/ops_monitor.h): reset before each iteration, added to
     * after each pass, read asynchronously into a ring of host slots */
    cl_mem monitor;
    sc_plan *monitor_reset, *monitor_pass, *monitor_accuracy;
    int accuracy_sources;  /* accuracy values added per pass (Accuracy tops) */
    struct pending_read {
        float values[SC_MONITOR_FLOATS];
        cl_event done;
        int iter;          /* iteration the values belong to (before its update) */
        int with_accuracy; /* the train accuracy plan ran too */
    } ring[SC_SOLVER_PIPELINE];
    int ring_head, ring_count;
    sc_plan *reduce; /* data-parallel: gradients and monitor across ranks (may be NULL) */
};

typedef struct reduce_task {
    sc_solver_reduce_fn fn;
    void *user;
    size_t n;
} reduce_task;

/* A failed reduction raises the monitor's non-finite flag (the reduce
 * function's contract), which stops the run: the task itself never fails. */
static sc_status run_reduce(void *user, float **buffers, sc_error *err)
{
    (void)err;
    reduce_task *r = user;
    r->fn(r->user, buffers[0], r->n, buffers[1]);
    return SC_OK;
}

sc_status sc_solver_set_reduce(sc_solver *s, sc_solver_reduce_fn fn, void *user)
{
    sc_param_store_info si;
    SC_TRY(sc_net_param_store(s->net, &si));
    reduce_task *r = malloc(sizeof *r);
    if (!r)
        return sc_fail(sc_ctx_error(s->ctx), SC_ERR_NOMEM, "out of host memory");
    *r = (reduce_task){fn, user, si.bytes / sizeof(float)};
    sc_plan_destroy(s->reduce);
    s->reduce = NULL;
    SC_TRY(sc_plan_create(s->ctx, &s->reduce));
    cl_mem mems[2] = {si.diff, s->monitor};
    return sc_plan_host_task(s->reduce, "gradient reduce", run_reduce, r, free, mems, 2);
}

/* ---------------------------------------------------------------- solver */

/* The blob of parameter i that the solver updates, or 0 for a frozen one
 * (lr_mult 0: BatchNorm statistics, fixed biases; Caffe computes no diff). */
static int param_blob(const sc_solver *s, size_t i, sc_param_info *pi, sc_sgd_blob *b)
{
    if (sc_net_param(s->net, i, pi) != SC_OK || pi->lr_mult == 0.0f)
        return 0;
    *b = (sc_sgd_blob){.w = pi->data, .diff = pi->diff, .history = pi->history,
                       .history2 = pi->history2, .offset = 0, .count = pi->count};
    return 1;
}

/* Caffe's ClipGradients: the norm of every diff, reduced on the device into
 * the clip scale the updates read (no host sync). */
static sc_status record_clipping(sc_solver *s)
{
    sc_param_info pi;
    sc_sgd_blob b;
    size_t slots = 0;
    for (size_t i = 0; i < sc_net_param_count(s->net); i++)
        if (param_blob(s, i, &pi, &b))
            slots += sc_sgd_sumsq_groups(s->ctx, b.count);
    if (slots == 0)
        return SC_OK; /* nothing to update: nothing to clip */
    SC_TRY(sc_buffer_alloc(s->ctx, slots * sizeof(float), &s->clip_partial));
    size_t slot = 0;
    for (size_t i = 0; i < sc_net_param_count(s->net); i++) {
        if (!param_blob(s, i, &pi, &b))
            continue;
        SC_TRY(sc_sgd_sumsq(s->update, pi.name, &b, s->clip_partial, slot));
        slot += sc_sgd_sumsq_groups(s->ctx, b.count);
    }
    return sc_sgd_clip_scale(s->update, "clip_gradients", s->clip_partial, slots, s->scalars,
                             (float)s->p.clip_gradients);
}

static sc_status record_update(sc_solver *s)
{
    SC_TRY(sc_plan_create(s->ctx, &s->update));
    const sc_solver_params *p = &s->p;
    int clip = p->clip_gradients >= 0.0;
    if (clip)
        SC_TRY(record_clipping(s));
    for (size_t i = 0; i < sc_net_param_count(s->net); i++) {
        sc_param_info pi;
        sc_sgd_blob b;
        if (!param_blob(s, i, &pi, &b))
            continue;
        sc_sgd_params sp = {.type = p->type, .lr_mult = pi.lr_mult, .decay_mult = pi.decay_mult,
                            .momentum = (float)p->momentum, .momentum2 = (float)p->momentum2,
                            .rms_decay = (float)p->rms_decay, .delta = (float)p->delta,
                            .weight_decay = (float)p->weight_decay, .iter_size = p->iter_size,
                            .regularization = p->regularization_l1 ? SC_REG_L1 : SC_REG_L2,
                            .clip = clip};
        SC_TRY(sc_sgd_update(s->update, pi.name, &b, s->scalars, &sp));
    }
    for (size_t i = 0; i < sc_net_param_count(s->net); i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(s->net, i, &pi));
        SC_TRY(sc_sgd_clear_diff(s->update, pi.name, pi.count, pi.diff));
    }
    return SC_OK;
}

static int has_accuracy_layer(const sc_net *net)
{
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind->flags & SC_KIND_ACCURACY)
            return 1;
    return 0;
}

/* For a net without an Accuracy layer: the top-1 accuracy of the first loss
 * layer that takes labels (SoftmaxWithLoss), into the monitor. */
static sc_status record_accuracy(sc_solver *s)
{
    sc_net *net = s->net;
    if (has_accuracy_layer(net))
        return SC_OK;
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        if ((l->kind->flags & (SC_KIND_LOSS | SC_KIND_LABELS)) != (SC_KIND_LOSS | SC_KIND_LABELS))
            continue;
        sc_accuracy_params ap = {.top_k = 1};
        SC_TRY(sc_buffer_alloc(s->ctx, sizeof(float), &s->accuracy_value));
        SC_TRY(sc_plan_create(s->ctx, &s->accuracy));
        SC_TRY(sc_accuracy_forward(s->accuracy, "train accuracy", &ap,
                                   sc_value_shape(sc_layer_bottom(l, 0)), sc_layer_bottom_data(l, 0),
                                   sc_layer_bottom_data(l, 1), s->accuracy_value));
        return sc_monitor_add(s->accuracy, "train accuracy", s->accuracy_value, 1.0f,
                              SC_MONITOR_ACCURACY, s->monitor);
    }
    return SC_OK;
}

/* After each pass: every weighted loss top and every Accuracy top into the
 * monitor; the reset before each iteration. */
static sc_status record_monitor(sc_solver *s)
{
    sc_net *net = s->net;
    SC_TRY(sc_buffer_alloc(s->ctx, SC_MONITOR_FLOATS * sizeof(float), &s->monitor));
    SC_TRY(sc_plan_create(s->ctx, &s->monitor_reset));
    SC_TRY(sc_op_fill(s->monitor_reset, "monitor", SC_MONITOR_FLOATS, 0.0f, s->monitor));
    SC_TRY(sc_plan_create(s->ctx, &s->monitor_pass));
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        for (int t = 0; t < l->n_tops; t++) {
            if (l->kind->flags & SC_KIND_ACCURACY) {
                SC_TRY(sc_monitor_add(s->monitor_pass, l->name, sc_layer_top_data(l, t), 1.0f,
                                      SC_MONITOR_ACCURACY, s->monitor));
                s->accuracy_sources++;
            } else if (l->loss_weight[t] != 0.0f) {
                SC_TRY(sc_monitor_add(s->monitor_pass, l->name, sc_layer_top_data(l, t),
                                      l->loss_weight[t], SC_MONITOR_LOSS, s->monitor));
            }
        }
    }
    return SC_OK;
}

sc_status sc_solver_create(sc_ctx *ctx, const sc_solver_params *p, const sc_net_options *net_opts,
                           sc_solver **out)
{
    *out = NULL;
    sc_solver *s = calloc(1, sizeof *s);
    if (!s)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    s->ctx = ctx;
    s->p = *p;
    for (int k = 0; k < SC_SGD_SCALARS; k++)
        s->on_device[k] = NAN;
    sc_net_options opts = net_opts ? *net_opts : (sc_net_options){0};
    opts.phase = SC_PHASE_TRAIN;
    opts.histories = sc_solver_type_histories(p->type);
    sc_status st = opts.histories > 0 ? SC_OK
                                      : sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                                                "unknown solver type %d", (int)p->type);
    if (st == SC_OK)
        st = sc_net_create(ctx, p->net, &opts, &s->net);
    if (st == SC_OK)
        st = sc_buffer_alloc(ctx, SC_SGD_SCALARS * sizeof(float), &s->scalars);
    if (st == SC_OK)
        st = record_update(s);
    if (st == SC_OK)
        st = record_monitor(s);
    if (st == SC_OK)
        st = record_accuracy(s);
    if (st != SC_OK) {
        sc_solver_destroy(s);
        return st;
    }
    *out = s;
    return SC_OK;
}

void sc_solver_destroy(sc_solver *s)
{
    if (!s)
        return;
    for (int i = 0; i < SC_SOLVER_PIPELINE; i++)
        sc_event_release(&s->ring[i].done);
    sc_plan_destroy(s->update);
    sc_plan_destroy(s->accuracy);
    sc_plan_destroy(s->monitor_reset);
    sc_plan_destroy(s->reduce);
    sc_plan_destroy(s->monitor_pass);
    sc_buffer_release(s->ctx, s->monitor);
    sc_buffer_release(s->ctx, s->scalars);
    sc_buffer_release(s->ctx, s->clip_partial);
    sc_buffer_release(s->ctx, s->accuracy_value);
    sc_net_destroy(s->net);
    free(s);
}

sc_net *sc_solver_net(sc_solver *s) { return s->net; }
sc_plan *sc_solver_update_plan(sc_solver *s) { return s->update; }
int sc_solver_iter(const sc_solver *s) { return s->iter; }
sc_solver_type sc_solver_get_type(const sc_solver *s) { return s->p.type; }

/* iter_size x (feed, forward, backward, monitor), after a monitor reset.
 * The train accuracy reads the loss layer's scores, which are no net output:
 * their buffer is free for reuse once the backward pass is past the layer
 * that made them (a 2-D A-Softmax net on MNIST reported 8% for a true 50%),
 * so it runs between forward and backward, while they are still there. */
static sc_status passes(sc_solver *s, sc_feed_fn feed, void *user, int with_accuracy)
{
    SC_TRY(sc_plan_run(s->monitor_reset));
    for (int k = 0; k < s->p.iter_size; k++) {
        if (feed)
            SC_TRY(feed(user, s->net));
        SC_TRY(sc_net_forward(s->net));
        if (with_accuracy && s->accuracy)
            SC_TRY(sc_plan_run(s->accuracy));
        SC_TRY(sc_net_backward(s->net));
        SC_TRY(sc_plan_run(s->monitor_pass));
    }
    /* every pass's gradient is in the store: average it (and the monitor)
     * across ranks before anyone reads or applies it */
    return s->reduce ? sc_plan_run(s->reduce) : SC_OK;
}

/* Enqueues the read of the monitor for iteration s->iter into the ring. */
static sc_status start_read(sc_solver *s, int with_accuracy)
{
    if (s->ring_count == SC_SOLVER_PIPELINE)
        return sc_fail(sc_ctx_error(s->ctx), SC_ERR_ARG,
                       "solver: %d iterations enqueued without collecting their results",
                       SC_SOLVER_PIPELINE);
    struct pending_read *r = &s->ring[(s->ring_head + s->ring_count) % SC_SOLVER_PIPELINE];
    r->iter = s->iter;
    r->with_accuracy = with_accuracy && s->accuracy;
    SC_TRY(sc_buffer_read_async(s->ctx, s->monitor, 0, sizeof r->values, r->values, &r->done));
    s->ring_count++;
    return SC_OK;
}

sc_status sc_solver_collect(sc_solver *s, sc_step_result *res)
{
    if (s->ring_count == 0)
        return sc_fail(sc_ctx_error(s->ctx), SC_ERR_ARG, "solver: no iteration to collect");
    struct pending_read *r = &s->ring[s->ring_head];
    s->ring_head = (s->ring_head + 1) % SC_SOLVER_PIPELINE;
    s->ring_count--;
    SC_TRY(sc_event_wait(s->ctx, &r->done)); /* the one host wait of an iteration */
    int sources = s->accuracy_sources + r->with_accuracy;
    const float *v = r->values;
    *res = (sc_step_result){
        .loss = v[SC_MONITOR_LOSS] / s->p.iter_size,
        .accuracy = sources ? v[SC_MONITOR_ACCURACY] / (sources * s->p.iter_size) : -1.0,
        .lr = sc_solver_lr(&s->p, r->iter),
        .iter = r->iter + 1,
        .nonfinite = v[SC_MONITOR_NONFINITE] != 0.0f || !isfinite(v[SC_MONITOR_LOSS]),
        .stop = v[SC_MONITOR_STOP] != 0.0f,
    };
    return SC_OK;
}

int sc_solver_pending(const sc_solver *s) { return s->ring_count; }

sc_status sc_solver_forward_backward(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                                     sc_step_result *res)
{
    SC_TRY(passes(s, feed, user, want_loss));
    if (!want_loss || !res)
        return SC_OK;
    SC_TRY(start_read(s, 1));
    return sc_solver_collect(s, res);
}

/* Adam's bias correction at iteration iter, as Caffe computes it: pow in
 * double on the float betas, the quotient rounded to float. */
static float adam_correction(const sc_solver_params *p, int iter)
{
    const int t = iter + 1;
    const double beta1 = (float)p->momentum, beta2 = (float)p->momentum2;
    return (float)(sqrt(1.0 - pow(beta2, t)) / (1.0 - pow(beta1, t)));
}

/* Writes a changed scalar. A fill is enqueued like a launch (the value is
 * copied at once), so this is no host sync. */
static sc_status set_scalar(sc_solver *s, int slot, float v)
{
    if (v == s->on_device[slot])
        return SC_OK;
    SC_TRY(sc_buffer_fill(s->ctx, s->scalars, v, (size_t)slot, 1));
    s->on_device[slot] = v;
    return SC_OK;
}

sc_status sc_solver_apply_update(sc_solver *s)
{
    SC_TRY(set_scalar(s, SC_SGD_LR, (float)sc_solver_lr(&s->p, s->iter)));
    if (s->p.type == SC_SOLVER_ADAM)
        SC_TRY(set_scalar(s, SC_SGD_ADAM_CORRECTION, adam_correction(&s->p, s->iter)));
    SC_TRY(sc_plan_run(s->update));
    s->iter++;
    return SC_OK;
}

sc_status sc_solver_enqueue(sc_solver *s, sc_feed_fn feed, void *user, int with_accuracy)
{
    SC_TRY(passes(s, feed, user, with_accuracy));
    SC_TRY(start_read(s, with_accuracy)); /* before the update: s->iter is this iteration's */
    return sc_solver_apply_update(s);
}

sc_status sc_solver_step(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                         sc_step_result *res)
{
    if (!want_loss || !res) {
        SC_TRY(passes(s, feed, user, 0));
        return sc_solver_apply_update(s);
    }
    SC_TRY(sc_solver_enqueue(s, feed, user, 1));
    return sc_solver_collect(s, res);
}

sc_status sc_solver_params_finite(sc_solver *s, int *finite)
{
    *finite = 0;
    sc_param_store_info si;
    SC_TRY(sc_net_param_store(s->net, &si));
    sc_plan *plan = NULL;
    cl_mem flag = NULL;
    float v = 1.0f;
    sc_status st = sc_plan_create(s->ctx, &plan);
    if (st == SC_OK)
        st = sc_buffer_alloc(s->ctx, sizeof(float), &flag);
    if (st == SC_OK) /* the padding between parameters is zero: finite */
        st = sc_monitor_nonfinite(plan, "weights", si.bytes / sizeof(float), si.data, flag);
    if (st == SC_OK)
        st = sc_plan_run(plan);
    if (st == SC_OK)
        st = sc_buffer_read(s->ctx, flag, 0, sizeof v, &v);
    sc_plan_destroy(plan);
    sc_buffer_release(s->ctx, flag);
    *finite = st == SC_OK && v == 0.0f;
    return st;
}

/* For solver_state.c: a resumed run continues from the saved iteration. */
sc_status sc_solver_state_iter_set(sc_solver *s, int iter)
{
    if (iter < 0)
        return sc_fail(sc_ctx_error(s->ctx), SC_ERR_FORMAT, "negative iteration %d in state", iter);
    s->iter = iter;
    return SC_OK;
}
