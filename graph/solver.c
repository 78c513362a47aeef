/* SGD solver: solver prototxt, Caffe's learning-rate policies, and the
 * iteration loop (feed, forward, backward, update) over recorded plans. */
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
    cl_mem lr;
    float lr_on_device; /* what s->lr holds (NaN before the first write) */
    int iter;
    /* training accuracy of the loss layer's scores when the net has no
     * Accuracy layer (run only on iterations whose loss is read) */
    sc_plan *accuracy;
    cl_mem accuracy_value;
};

/* ------------------------------------------------------------ parameters */

static sc_status get_str(const sc_pt_node *root, const char *field, const char *def, char *dst,
                         size_t cap, sc_error *err)
{
    const char *v = def;
    SC_TRY(sc_pt_get_string(root, field, def, &v, err));
    snprintf(dst, cap, "%s", v);
    return SC_OK;
}

static sc_status get_i(const sc_pt_node *root, const char *field, long long def, int *out,
                       sc_error *err)
{
    long long v;
    SC_TRY(sc_pt_get_int(root, field, def, &v, err));
    *out = (int)v;
    return SC_OK;
}

/* Caffe resolves `net:` against the working directory; SphereCL also tries
 * the solver's own folder so a solver and its net can travel together. */
static void resolve_net(const char *solver_path, char *net, size_t cap)
{
    char dir[4096], resolved[8192];
    sc_path_dir(solver_path, dir, sizeof dir);
    sc_path_resolve(net, dir, resolved, sizeof resolved);
    snprintf(net, cap, "%s", resolved);
}

static sc_status read_steps(const sc_pt_node *root, sc_solver_params *p, sc_error *err)
{
    size_t n = sc_pt_count(root, "stepvalue");
    if (n > SC_SOLVER_MAX_STEPS)
        return sc_fail(err, SC_ERR_PARSE, "more than %d stepvalue entries", SC_SOLVER_MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        long long v;
        SC_TRY(sc_pt_int_at(sc_pt_find(root, "stepvalue", i), &v, err));
        p->stepvalue[i] = (int)v;
        if (i > 0 && p->stepvalue[i] <= p->stepvalue[i - 1])
            return sc_fail(err, SC_ERR_PARSE, "stepvalue must increase (%d after %d)",
                           p->stepvalue[i], p->stepvalue[i - 1]);
    }
    p->n_stepvalue = (int)n;
    return SC_OK;
}

static sc_status check_policy(const sc_solver_params *p, sc_error *err)
{
    static const char *const policies[] = {"fixed", "step", "multistep", "inv", "poly", "exp",
                                           "sigmoid"};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
        if (!strcmp(p->lr_policy, policies[i]))
            return SC_OK;
    return sc_fail(err, SC_ERR_PARSE,
                   "unknown lr_policy '%s' (fixed, step, multistep, inv, poly, exp, sigmoid)",
                   p->lr_policy);
}

static sc_status read_params(const sc_pt_node *root, sc_solver_params *p, sc_error *err)
{
    SC_TRY(get_str(root, "net", "", p->net, sizeof p->net, err));
    if (!p->net[0])
        SC_TRY(get_str(root, "train_net", "", p->net, sizeof p->net, err));
    SC_TRY(sc_pt_get_float(root, "base_lr", 0.01, &p->base_lr, err));
    SC_TRY(get_str(root, "lr_policy", "fixed", p->lr_policy, sizeof p->lr_policy, err));
    SC_TRY(sc_pt_get_float(root, "gamma", 0.0, &p->gamma, err));
    SC_TRY(sc_pt_get_float(root, "power", 0.0, &p->power, err));
    SC_TRY(get_i(root, "stepsize", 0, &p->stepsize, err));
    SC_TRY(read_steps(root, p, err));
    SC_TRY(sc_pt_get_float(root, "momentum", 0.0, &p->momentum, err));
    SC_TRY(sc_pt_get_float(root, "weight_decay", 0.0, &p->weight_decay, err));
    SC_TRY(get_i(root, "max_iter", 0, &p->max_iter, err));
    SC_TRY(get_i(root, "display", 0, &p->display, err));
    SC_TRY(get_i(root, "snapshot", 0, &p->snapshot, err));
    SC_TRY(get_i(root, "iter_size", 1, &p->iter_size, err));
    SC_TRY(get_i(root, "average_loss", 1, &p->average_loss, err));
    SC_TRY(get_str(root, "snapshot_prefix", "", p->snapshot_prefix, sizeof p->snapshot_prefix,
                   err));
    SC_TRY(sc_pt_get_int(root, "random_seed", -1, &p->random_seed, err));
    const char *reg = "L2";
    SC_TRY(sc_pt_get_string(root, "regularization_type", "L2", &reg, err));
    if (strcmp(reg, "L1") && strcmp(reg, "L2"))
        return sc_fail(err, SC_ERR_PARSE, "regularization_type '%s' (L1 or L2)", reg);
    p->regularization_l1 = !strcmp(reg, "L1");
    const char *type = "SGD";
    SC_TRY(sc_pt_get_string(root, "type", "SGD", &type, err));
    if (strcmp(type, "SGD"))
        return sc_fail(err, SC_ERR_UNSUPPORTED, "solver type '%s' (only SGD)", type);
    if (p->iter_size < 1)
        return sc_fail(err, SC_ERR_PARSE, "iter_size must be at least 1");
    return check_policy(p, err);
}

sc_status sc_solver_params_load(const char *path, sc_solver_params *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    sc_pt_node *root = NULL;
    SC_TRY(sc_prototxt_parse_file(path, &root, err));
    sc_status st = sc_schema_validate(root, "SolverParameter", err);
    if (st == SC_OK) {
        st = read_params(root, out, err);
        if (st != SC_OK)
            sc_error_prefix(err, "%s: ", path);
    }
    sc_pt_free(root);
    if (st == SC_OK && !out->net[0])
        st = sc_fail(err, SC_ERR_PARSE, "%s: no 'net' (or 'train_net') given", path);
    if (st == SC_OK)
        resolve_net(path, out->net, sizeof out->net);
    return st;
}

double sc_solver_lr(const sc_solver_params *p, int iter)
{
    const char *pol = p->lr_policy;
    if (!strcmp(pol, "step"))
        return p->base_lr * pow(p->gamma, floor((double)iter / (p->stepsize > 0 ? p->stepsize : 1)));
    if (!strcmp(pol, "exp"))
        return p->base_lr * pow(p->gamma, iter);
    if (!strcmp(pol, "inv"))
        return p->base_lr * pow(1.0 + p->gamma * iter, -p->power);
    if (!strcmp(pol, "multistep")) {
        int step = 0;
        while (step < p->n_stepvalue && iter >= p->stepvalue[step])
            step++;
        return p->base_lr * pow(p->gamma, step);
    }
    if (!strcmp(pol, "poly"))
        return p->base_lr * pow(1.0 - (double)iter / (p->max_iter > 0 ? p->max_iter : 1), p->power);
    if (!strcmp(pol, "sigmoid"))
        return p->base_lr / (1.0 + exp(-p->gamma * (iter - p->stepsize)));
    return p->base_lr;
}

/* ---------------------------------------------------------------- solver */

static sc_status record_update(sc_solver *s)
{
    SC_TRY(sc_plan_create(s->ctx, &s->update));
    sc_net *net = s->net;
    for (size_t i = 0; i < sc_net_param_count(net); i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(net, i, &pi));
        if (pi.lr_mult == 0.0f)
            continue; /* frozen blobs (BatchNorm statistics, fixed biases) */
        sc_sgd_params sp = {.lr_mult = pi.lr_mult, .decay_mult = pi.decay_mult,
                            .momentum = (float)s->p.momentum,
                            .weight_decay = (float)s->p.weight_decay,
                            .iter_size = s->p.iter_size,
                            .regularization = s->p.regularization_l1 ? SC_REG_L1 : SC_REG_L2};
        SC_TRY(sc_sgd_update(s->update, pi.name, pi.count, pi.data, pi.diff, pi.history, s->lr,
                             &sp));
    }
    for (size_t i = 0; i < sc_net_param_count(net); i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(net, i, &pi));
        SC_TRY(sc_sgd_clear_diff(s->update, pi.name, pi.count, pi.diff));
    }
    return SC_OK;
}

static int has_accuracy_layer(const sc_net *net)
{
    for (int i = 0; i < net->n_layers; i++)
        if (!strcmp(net->layers[i].type, "Accuracy"))
            return 1;
    return 0;
}

static sc_status record_accuracy(sc_solver *s)
{
    sc_net *net = s->net;
    if (has_accuracy_layer(net))
        return SC_OK;
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        if (strcmp(l->type, "SoftmaxWithLoss"))
            continue;
        sc_accuracy_params ap = {.top_k = 1};
        SC_TRY(sc_buffer_alloc(s->ctx, sizeof(float), &s->accuracy_value));
        SC_TRY(sc_plan_create(s->ctx, &s->accuracy));
        return sc_accuracy_forward(s->accuracy, "train accuracy", &ap,
                                   sc_value_shape(sc_layer_bottom(l, 0)), sc_layer_bottom_data(l, 0),
                                   sc_layer_bottom_data(l, 1), s->accuracy_value);
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
    s->lr_on_device = NAN;
    sc_net_options opts = net_opts ? *net_opts : (sc_net_options){0};
    opts.phase = SC_PHASE_TRAIN;
    sc_status st = sc_net_create(ctx, p->net, &opts, &s->net);
    if (st == SC_OK)
        st = sc_buffer_alloc(ctx, sizeof(float), &s->lr);
    if (st == SC_OK)
        st = record_update(s);
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
    sc_plan_destroy(s->update);
    sc_plan_destroy(s->accuracy);
    sc_buffer_release(s->ctx, s->lr);
    sc_buffer_release(s->ctx, s->accuracy_value);
    sc_net_destroy(s->net);
    free(s);
}

sc_net *sc_solver_net(sc_solver *s) { return s->net; }
int sc_solver_iter(const sc_solver *s) { return s->iter; }

/* Sum of loss_weight * loss over the net's loss tops, and the mean of its
 * Accuracy tops (host reads: one sync). */
static sc_status read_outputs(sc_solver *s, double *loss, double *accuracy, int *n_acc)
{
    sc_net *net = s->net;
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        for (int t = 0; t < l->n_tops; t++) {
            int is_acc = !strcmp(l->type, "Accuracy");
            if (l->loss_weight[t] == 0.0f && !is_acc)
                continue;
            float v;
            SC_TRY(sc_buffer_read(s->ctx, sc_layer_top_data(l, t), 0, sizeof v, &v));
            if (is_acc) {
                *accuracy += v;
                (*n_acc)++;
            } else {
                *loss += (double)l->loss_weight[t] * v;
            }
        }
    }
    if (s->accuracy) {
        float v;
        SC_TRY(sc_plan_run(s->accuracy));
        SC_TRY(sc_buffer_read(s->ctx, s->accuracy_value, 0, sizeof v, &v));
        *accuracy += v;
        (*n_acc)++;
    }
    return SC_OK;
}

sc_status sc_solver_forward_backward(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                                     sc_step_result *res)
{
    double loss = 0, acc = 0;
    int n_acc = 0;
    for (int k = 0; k < s->p.iter_size; k++) {
        if (feed)
            SC_TRY(feed(user, s->net));
        SC_TRY(sc_net_forward(s->net));
        SC_TRY(sc_net_backward(s->net));
        if (want_loss)
            SC_TRY(read_outputs(s, &loss, &acc, &n_acc));
    }
    if (!res)
        return SC_OK;
    res->loss = loss / s->p.iter_size;
    res->accuracy = n_acc ? acc / n_acc : -1.0;
    res->lr = sc_solver_lr(&s->p, s->iter);
    return SC_OK;
}

sc_status sc_solver_apply_update(sc_solver *s)
{
    /* the blocking write is a host sync: only when the rate changes */
    float lr = (float)sc_solver_lr(&s->p, s->iter);
    if (lr != s->lr_on_device) {
        SC_TRY(sc_buffer_write(s->ctx, s->lr, 0, sizeof lr, &lr));
        s->lr_on_device = lr;
    }
    SC_TRY(sc_plan_run(s->update));
    s->iter++;
    return SC_OK;
}

sc_status sc_solver_step(sc_solver *s, sc_feed_fn feed, void *user, int want_loss,
                         sc_step_result *res)
{
    SC_TRY(sc_solver_forward_backward(s, feed, user, want_loss, res));
    return sc_solver_apply_update(s);
}

/* For solver_state.c: a resumed run continues from the saved iteration. */
sc_status sc_solver_state_iter_set(sc_solver *s, int iter)
{
    if (iter < 0)
        return sc_fail(sc_ctx_error(s->ctx), SC_ERR_FORMAT, "negative iteration %d in state", iter);
    s->iter = iter;
    return SC_OK;
}
