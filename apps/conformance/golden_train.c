/* End-to-end training check against a golden trajectory (the format of
 * ../shared/golden/train_tiny): load the net, its solver and initial
 * caffemodel, feed the stored batch, run the SGD steps and compare the
 * first step's activations and gradients, every step's loss, lambda and
 * parameter checksums, the momentum history and a final forward.
 * Tolerances are those the golden README states for float32. */
#include "golden_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtext.h"
#include "sc_solver.h"

/* README: loss and sums of squares 1e-5 relative, sums 1e-4 * sqrt(sumsq),
 * step-1 arrays 1e-5 * max|ref|, arrays after 10 steps 1e-4 * max|ref|. */
#define TOL_LOSS 1e-5
#define TOL_SUMSQ 1e-5
#define TOL_SUM 1e-4
#define TOL_STEP1 1e-5
#define TOL_FINAL 1e-4
#define TOL_LAMBDA 1e-6

typedef struct golden_run {
    sc_ctx *ctx;
    sc_solver *solver;
    sc_net *net;
    sc_gtext traj;
    const char *label;
    sc_conf_report *rep;
} golden_run;

static sc_status gt_err(golden_run *g, sc_error *e)
{
    return sc_fail(sc_ctx_error(g->ctx), e->status, "%s", e->msg);
}

/* Reads a device buffer of count floats into a malloc'd array. */
static sc_status read_floats(golden_run *g, cl_mem mem, size_t count, float **out)
{
    *out = malloc((count ? count : 1) * sizeof **out);
    if (!*out)
        return sc_fail(sc_ctx_error(g->ctx), SC_ERR_NOMEM, "out of host memory");
    sc_status st = sc_buffer_read(g->ctx, mem, 0, count * sizeof **out, *out);
    if (st != SC_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* Compares [sum, sum of squares] of count floats with the reference pair. */
static sc_status check_checksum(golden_run *g, const char *what, const float *v, size_t count,
                                const double ref[2])
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < count; i++) {
        sum += v[i];
        sq += (double)v[i] * v[i];
    }
    double e_sum = fabs(sum - ref[0]) / (sqrt(ref[1]) > 1e-30 ? sqrt(ref[1]) : 1e-30);
    double e_sq = fabs(sq - ref[1]) / (ref[1] > 1e-30 ? ref[1] : 1e-30);
    /* one row: the worse of the two, scaled to the sum tolerance */
    double rel = fmax(e_sum, e_sq * (TOL_SUM / TOL_SUMSQ));
    return sc_conf_add_measure(g->rep, "train", g->label, what, fmax(fabs(sum - ref[0]),
                               fabs(sq - ref[1])), rel, TOL_SUM);
}

static sc_status check_blob_checksum(golden_run *g, const char *what, cl_mem mem, size_t count,
                                     const double ref[2])
{
    float *v;
    SC_TRY(read_floats(g, mem, count, &v));
    sc_status st = check_checksum(g, what, v, count, ref);
    free(v);
    return st;
}

static sc_status check_array(golden_run *g, const char *what, cl_mem mem, const sc_gtext_rec *ref,
                             double tol)
{
    float *v;
    SC_TRY(read_floats(g, mem, ref->count, &v));
    sc_status st = sc_conf_compare(g->rep, "train", g->label, what, v, ref->v, ref->count, tol, -1);
    free(v);
    return st;
}

static sc_status layer_output(golden_run *g, const char *layer, sc_blob_info *b)
{
    return sc_net_layer_output(g->net, layer, 0, b);
}

static sc_status check_step1_activations(golden_run *g)
{
    const char *prefix = "step1.act_checksum.";
    for (size_t i = 0; i < g->traj.count; i++) {
        const sc_gtext_rec *r = &g->traj.recs[i];
        if (strncmp(r->name, prefix, strlen(prefix)))
            continue;
        sc_blob_info b;
        SC_TRY(layer_output(g, r->name + strlen(prefix), &b));
        char what[96];
        snprintf(what, sizeof what, "act %s", r->name + strlen(prefix));
        SC_TRY(check_blob_checksum(g, what, b.data, b.count, r->v));
    }
    const char *arrays[] = {"fc5", "fc6"};
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "step1.%s", arrays[i]);
        const sc_gtext_rec *r = sc_gtext_find(&g->traj, name);
        sc_blob_info b;
        if (!r)
            continue;
        SC_TRY(layer_output(g, arrays[i], &b));
        SC_TRY(check_array(g, name, b.data, r, TOL_STEP1));
    }
    return SC_OK;
}

static sc_status check_step1_gradients(golden_run *g)
{
    for (size_t i = 0; i < g->traj.count; i++) {
        const sc_gtext_rec *r = &g->traj.recs[i];
        int full = !strncmp(r->name, "step1.grad.", 11);
        int sum = !strncmp(r->name, "step1.grad_checksum.", 20);
        if (!full && !sum)
            continue;
        sc_param_info p;
        SC_TRY(sc_net_find_param(g->net, r->name + (full ? 11 : 20), &p));
        if (full)
            SC_TRY(check_array(g, r->name, p.diff, r, TOL_STEP1));
        else
            SC_TRY(check_blob_checksum(g, r->name, p.diff, p.count, r->v));
    }
    return SC_OK;
}

/* After the update of step t (1-based): every checksum.<blob> row t-1. */
static sc_status check_param_checksums(golden_run *g, int t)
{
    for (size_t i = 0; i < g->traj.count; i++) {
        const sc_gtext_rec *r = &g->traj.recs[i];
        if (strncmp(r->name, "checksum.", 9) || r->ndim != 2 || t > r->dims[0])
            continue;
        sc_param_info p;
        SC_TRY(sc_net_find_param(g->net, r->name + 9, &p));
        char what[96];
        snprintf(what, sizeof what, "step %d %s", t, r->name);
        SC_TRY(check_blob_checksum(g, what, p.data, p.count, r->v + 2 * (t - 1)));
    }
    return SC_OK;
}

static sc_status check_history(golden_run *g)
{
    const char *prefix = "final.history_checksum.";
    for (size_t i = 0; i < g->traj.count; i++) {
        const sc_gtext_rec *r = &g->traj.recs[i];
        if (strncmp(r->name, prefix, strlen(prefix)))
            continue;
        sc_param_info p;
        SC_TRY(sc_net_find_param(g->net, r->name + strlen(prefix), &p));
        SC_TRY(check_blob_checksum(g, r->name, p.history, p.count, r->v));
    }
    return SC_OK;
}

static sc_status current_lambda(golden_run *g, long long *iter, double *lambda)
{
    const char *layer = NULL;
    float l;
    *iter = -1;
    *lambda = -1;
    if (sc_net_state_count(g->net) == 0)
        return SC_OK;
    SC_TRY(sc_net_state_get(g->net, 0, &layer, iter, &l));
    *lambda = l;
    return SC_OK;
}

static sc_status write_inputs(golden_run *g, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/inputs.txt", dir);
    sc_gtext in = {0};
    sc_error e = {0};
    if (sc_gtext_load(path, &in, &e) != SC_OK)
        return gt_err(g, &e);
    sc_status st = SC_OK;
    for (size_t i = 0; i < in.count && st == SC_OK; i++) {
        const sc_gtext_rec *r = &in.recs[i];
        float *v = malloc(r->count * sizeof *v);
        if (!v) {
            st = sc_fail(sc_ctx_error(g->ctx), SC_ERR_NOMEM, "out of host memory");
            break;
        }
        for (size_t k = 0; k < r->count; k++)
            v[k] = (float)r->v[k];
        st = sc_net_write_blob(g->net, r->name, v, r->count);
        free(v);
    }
    sc_gtext_free(&in);
    return st;
}

static sc_status run_steps(golden_run *g)
{
    const sc_gtext_rec *loss_ref = sc_gtext_find(&g->traj, "loss");
    const sc_gtext_rec *lambda_ref = sc_gtext_find(&g->traj, "lambda");
    const sc_gtext_rec *fc5_ref = sc_gtext_find(&g->traj, "fc5_checksum");
    if (!loss_ref)
        return sc_fail(sc_ctx_error(g->ctx), SC_ERR_FORMAT, "%s: trajectory has no 'loss'",
                       g->label);
    size_t steps = loss_ref->count;
    double *loss = calloc(steps, sizeof *loss), *lambda = calloc(steps, sizeof *lambda);
    float *lossf = calloc(steps, sizeof *lossf);
    sc_status st = loss && lambda && lossf ? SC_OK : SC_ERR_NOMEM;
    for (size_t t = 1; t <= steps && st == SC_OK; t++) {
        sc_step_result res;
        st = sc_solver_forward_backward(g->solver, NULL, NULL, 1, &res);
        long long iter = 0;
        if (st == SC_OK)
            st = current_lambda(g, &iter, &lambda[t - 1]);
        lossf[t - 1] = (float)res.loss;
        if (st == SC_OK && t == 1)
            st = check_step1_activations(g);
        if (st == SC_OK && t == 1)
            st = check_step1_gradients(g);
        if (st == SC_OK && fc5_ref) {
            sc_blob_info b;
            char what[64];
            snprintf(what, sizeof what, "step %zu fc5 checksum", t);
            st = layer_output(g, "fc5", &b);
            if (st == SC_OK)
                st = check_blob_checksum(g, what, b.data, b.count, fc5_ref->v + 2 * (t - 1));
        }
        if (st == SC_OK)
            st = sc_solver_apply_update(g->solver);
        if (st == SC_OK)
            st = check_param_checksums(g, (int)t);
    }
    if (st == SC_OK)
        st = sc_conf_compare(g->rep, "train", g->label, "loss, every step", lossf, loss_ref->v,
                             steps, TOL_LOSS, -1);
    if (st == SC_OK && lambda_ref) {
        float *lf = malloc(steps * sizeof *lf);
        for (size_t t = 0; lf && t < steps; t++)
            lf[t] = (float)lambda[t];
        st = lf ? sc_conf_compare(g->rep, "train", g->label, "lambda, every step", lf,
                                  lambda_ref->v, steps, TOL_LAMBDA, -1)
                : SC_ERR_NOMEM;
        free(lf);
    }
    free(loss);
    free(lambda);
    free(lossf);
    return st == SC_ERR_NOMEM ? sc_fail(sc_ctx_error(g->ctx), st, "out of host memory") : st;
}

static sc_status check_final(golden_run *g)
{
    SC_TRY(check_history(g));
    SC_TRY(sc_net_forward(g->net));
    const sc_gtext_rec *r = sc_gtext_find(&g->traj, "final.fc5");
    sc_blob_info b;
    if (r) {
        SC_TRY(layer_output(g, "fc5", &b));
        SC_TRY(check_array(g, "final.fc5", b.data, r, TOL_FINAL));
    }
    double ref;
    sc_error e = {0};
    if (sc_gtext_scalar(&g->traj, "final.loss", &ref, &e) == SC_OK) {
        sc_step_result res = {0};
        const char *outs[8];
        size_t n = sc_net_outputs(g->net, outs, 8);
        for (size_t i = 0; i < n && i < 8; i++) {
            float v;
            SC_TRY(sc_net_blob(g->net, outs[i], &b));
            if (b.count != 1)
                continue;
            SC_TRY(sc_buffer_read(g->ctx, b.data, 0, sizeof v, &v));
            res.loss = v;
        }
        SC_TRY(sc_conf_add_measure(g->rep, "train", g->label, "final loss",
                                   fabs(res.loss - ref), fabs(res.loss - ref) / fabs(ref), TOL_LOSS));
    }
    if (sc_gtext_scalar(&g->traj, "final.lambda", &ref, &e) == SC_OK) {
        long long iter;
        double lambda;
        SC_TRY(current_lambda(g, &iter, &lambda));
        SC_TRY(sc_conf_add_measure(g->rep, "train", g->label, "final lambda", fabs(lambda - ref),
                                   fabs(lambda - ref) / fabs(ref), TOL_LAMBDA));
    }
    return SC_OK;
}

static sc_status setup(golden_run *g, const char *dir, const char *trajectory, int exact)
{
    char path[4096];
    sc_error e = {0};
    snprintf(path, sizeof path, "%s/%s", dir, trajectory);
    if (sc_gtext_load(path, &g->traj, &e) != SC_OK)
        return gt_err(g, &e);
    sc_solver_params sp;
    snprintf(path, sizeof path, "%s/solver.prototxt", dir);
    if (sc_solver_params_load(path, &sp, &e) != SC_OK)
        return gt_err(g, &e);
    sc_net_options opts = {.phase = SC_PHASE_TRAIN, .no_reuse = 1, .no_in_place = 1,
                           .asoftmax_exact = exact};
    SC_TRY(sc_solver_create(g->ctx, &sp, &opts, &g->solver));
    g->net = sc_solver_net(g->solver);
    snprintf(path, sizeof path, "%s/init.caffemodel", dir);
    char missing[1024];
    SC_TRY(sc_net_load_weights(g->net, path, missing, sizeof missing));
    return write_inputs(g, dir);
}

sc_status sc_conf_train_golden(sc_ctx *ctx, const char *dir, const char *trajectory, int exact,
                               sc_conf_report *rep)
{
    golden_run g = {.ctx = ctx, .rep = rep};
    const char *slash = strrchr(dir, '/');
    char label[160];
    snprintf(label, sizeof label, "%s %s", slash && slash[1] ? slash + 1 : dir,
             exact ? "exact" : "caffe");
    g.label = label;
    sc_status st = setup(&g, dir, trajectory, exact);
    if (st == SC_OK)
        st = run_steps(&g);
    if (st == SC_OK)
        st = check_final(&g);
    sc_solver_destroy(g.solver);
    sc_gtext_free(&g.traj);
    return st;
}
