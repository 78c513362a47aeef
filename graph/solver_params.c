/* Solver prototxt: caffe.proto's SolverParameter fields with Caffe's
 * defaults, every value range-checked where it was written (FILE:LINE:COL),
 * and Caffe's learning-rate policies. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sc_solver.h"

/* The file being read, for messages about fields that are not written. */
typedef struct reader {
    const sc_pt_node *root;
    const char *path;
    sc_error *err;
} reader;

/* Fails with "FILE:LINE:COL: <message>" at the field's node, or "FILE:
 * <message>" when the field is not written (its default is at fault). */
static sc_status field_fail(const reader *r, const sc_pt_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sc_status field_fail(const reader *r, const sc_pt_node *at, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        return sc_fail(r->err, SC_ERR_PARSE, "%s:%d:%d: %s", at->file, at->line, at->col, msg);
    return sc_fail(r->err, SC_ERR_PARSE, "%s: %s", r->path, msg);
}

static const sc_pt_node *node_of(const reader *r, const char *field)
{
    return sc_pt_find(r->root, field, 0);
}

/* ------------------------------------------------------------------ ranges */

typedef enum range {
    R_POSITIVE,     /* > 0 and finite */
    R_NON_NEGATIVE, /* >= 0 and finite */
    R_UNIT,         /* [0, 1) */
    R_FINITE
} range;

static const char *const k_range_text[] = {"> 0 and finite", ">= 0 and finite", "in [0, 1)",
                                           "finite"};

/* Caffe reads these fields as float: the check is on the float it would use. */
static int in_range(double v, range rg)
{
    float f = (float)v;
    if (!isfinite(f))
        return 0;
    switch (rg) {
    case R_POSITIVE: return f > 0.0f;
    case R_NON_NEGATIVE: return f >= 0.0f;
    case R_UNIT: return f >= 0.0f && f < 1.0f;
    case R_FINITE: return 1;
    }
    return 0;
}

/* A value out of range: where it is written, or, when it is not written,
 * where the field that needs it is (`needed_by`, may be NULL: the file). */
static sc_status range_fail(const reader *r, const char *field, const char *valid,
                            const char *why, const sc_pt_node *needed_by, double def)
{
    const sc_pt_node *at = node_of(r, field);
    if (at)
        return field_fail(r, at, "%s %s is out of range%s: must be %s", field, at->text, why,
                          valid);
    return field_fail(r, needed_by, "%s is not given (default %g)%s: must be %s", field, def, why,
                      valid);
}

/* Reads a float field and checks its range; `why` (may be "") says who needs
 * it, e.g. " for lr_policy 'inv'", and needed_by where that is written. */
static sc_status get_float(const reader *r, const char *field, double def, range rg,
                           const char *why, const sc_pt_node *needed_by, double *out)
{
    SC_TRY(sc_pt_get_float(r->root, field, def, out, r->err));
    if (in_range(*out, rg))
        return SC_OK;
    return range_fail(r, field, k_range_text[rg], why, needed_by, def);
}

static sc_status get_int(const reader *r, const char *field, long long def, long long min,
                         const char *why, const sc_pt_node *needed_by, int *out)
{
    long long v;
    SC_TRY(sc_pt_get_int(r->root, field, def, &v, r->err));
    *out = (int)v;
    if (v >= min)
        return SC_OK;
    char valid[32];
    snprintf(valid, sizeof valid, ">= %lld", min);
    return range_fail(r, field, valid, why, needed_by, (double)def);
}

static sc_status get_str(const reader *r, const char *field, const char *def, char *dst,
                         size_t cap)
{
    const char *v = def;
    SC_TRY(sc_pt_get_string(r->root, field, def, &v, r->err));
    if (strlen(v) >= cap)
        return field_fail(r, node_of(r, field), "%s is longer than %zu bytes", field, cap - 1);
    snprintf(dst, cap, "%s", v);
    return SC_OK;
}

/* ------------------------------------------------------------ solver type */

static const char k_type_list[] = "SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam";

/* `type` (a string) or the deprecated `solver_type` (an enum), not both:
 * Caffe's UpgradeSolverType refuses that too. */
static sc_status read_type(const reader *r, sc_solver_type *out)
{
    const sc_pt_node *t = node_of(r, "type"), *old = node_of(r, "solver_type");
    if (t && old)
        return field_fail(r, old, "solver_type and type (line %d) are both given; use type",
                          t->line);
    *out = SC_SOLVER_SGD;
    const char *name = "SGD";
    if (old)
        SC_TRY(sc_pt_get_enum(r->root, "solver_type", "SGD", &name, r->err));
    else
        SC_TRY(sc_pt_get_string(r->root, "type", "SGD", &name, r->err));
    static const char *const enum_names[SC_SOLVER_TYPES] = {"SGD",     "NESTEROV", "ADAGRAD",
                                                            "RMSPROP", "ADADELTA", "ADAM"};
    for (int k = 0; k < SC_SOLVER_TYPES; k++)
        if (!strcmp(name, old ? enum_names[k] : sc_solver_type_name((sc_solver_type)k))) {
            *out = (sc_solver_type)k;
            return SC_OK;
        }
    return field_fail(r, old ? old : t, "unknown solver type '%s' (%s)", name,
                      old ? "SGD, NESTEROV, ADAGRAD, RMSPROP, ADADELTA, ADAM" : k_type_list);
}

/* Whether Caffe's solver of this type reads the field (sgd_solvers.hpp). */
static int type_reads(sc_solver_type t, const char *field)
{
    if (!strcmp(field, "momentum2"))
        return t == SC_SOLVER_ADAM;
    if (!strcmp(field, "rms_decay"))
        return t == SC_SOLVER_RMSPROP;
    if (!strcmp(field, "delta"))
        return t != SC_SOLVER_SGD && t != SC_SOLVER_NESTEROV;
    /* momentum: AdaGrad and RMSProp only check that it is 0 */
    return t != SC_SOLVER_ADAGRAD && t != SC_SOLVER_RMSPROP;
}

/* A solver-specific field that the chosen type ignores is a mistake (a
 * `type` line forgotten, or copied from another solver). */
static sc_status refuse_unused(const reader *r, sc_solver_type t, const char *field)
{
    const sc_pt_node *at = node_of(r, field);
    if (!at || type_reads(t, field))
        return SC_OK;
    double v = 0;
    if (!strcmp(field, "momentum") && sc_pt_float_at(at, &v, NULL) == SC_OK && v == 0.0)
        return SC_OK; /* Caffe requires momentum 0 for AdaGrad and RMSProp, so allows it */
    return field_fail(r, at, "%s is not used by the %s solver%s", field, sc_solver_type_name(t),
                      !strcmp(field, "momentum") ? " (Caffe requires 0)" : "");
}

static sc_status read_solver_fields(const reader *r, sc_solver_params *p)
{
    SC_TRY(read_type(r, &p->type));
    static const char *const fields[] = {"momentum", "momentum2", "rms_decay", "delta"};
    for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
        SC_TRY(refuse_unused(r, p->type, fields[k]));
    SC_TRY(get_float(r, "momentum", 0.0, R_UNIT, "", NULL, &p->momentum));
    SC_TRY(get_float(r, "momentum2", 0.999, R_UNIT, "", NULL, &p->momentum2));
    SC_TRY(get_float(r, "rms_decay", 0.99, R_UNIT, "", NULL, &p->rms_decay));
    return get_float(r, "delta", 1e-8, R_POSITIVE, "", NULL, &p->delta);
}

/* -------------------------------------------------------------- lr policy */

typedef struct policy {
    const char *name;
    range gamma, power; /* R_FINITE: not read */
    int stepsize;       /* stepsize must be > 0 */
    int max_iter;       /* max_iter must be > 0 */
} policy;

/* What each policy reads (sgd_solver.cpp's GetLearningRate and its CHECKs). */
static const policy k_policies[] = {
    {"fixed", R_FINITE, R_FINITE, 0, 0},
    {"step", R_POSITIVE, R_FINITE, 1, 0},
    {"multistep", R_POSITIVE, R_FINITE, 0, 0},
    {"exp", R_POSITIVE, R_FINITE, 0, 0},
    {"inv", R_NON_NEGATIVE, R_NON_NEGATIVE, 0, 0},
    {"poly", R_FINITE, R_NON_NEGATIVE, 0, 1},
    {"sigmoid", R_NON_NEGATIVE, R_FINITE, 1, 0},
};

static sc_status read_steps(const reader *r, sc_solver_params *p)
{
    size_t n = sc_pt_count(r->root, "stepvalue");
    if (n > SC_SOLVER_MAX_STEPS)
        return field_fail(r, sc_pt_find(r->root, "stepvalue", SC_SOLVER_MAX_STEPS),
                          "more than %d stepvalue entries", SC_SOLVER_MAX_STEPS);
    for (size_t i = 0; i < n; i++) {
        const sc_pt_node *at = sc_pt_find(r->root, "stepvalue", i);
        long long v;
        SC_TRY(sc_pt_int_at(at, &v, r->err));
        p->stepvalue[i] = (int)v;
        if (v < 0 || (i > 0 && v <= p->stepvalue[i - 1]))
            return field_fail(r, at, "stepvalue %lld is out of range: must be >= 0 and greater "
                              "than the stepvalue before it", v);
    }
    p->n_stepvalue = (int)n;
    return SC_OK;
}

static sc_status read_policy(const reader *r, sc_solver_params *p)
{
    SC_TRY(get_str(r, "lr_policy", "fixed", p->lr_policy, sizeof p->lr_policy));
    const policy *pol = NULL;
    for (size_t k = 0; k < sizeof k_policies / sizeof *k_policies; k++)
        if (!strcmp(p->lr_policy, k_policies[k].name))
            pol = &k_policies[k];
    if (!pol)
        return field_fail(r, node_of(r, "lr_policy"), "unknown lr_policy '%s' (fixed, step, "
                          "multistep, inv, poly, exp, sigmoid)", p->lr_policy);
    char why[64];
    snprintf(why, sizeof why, " for lr_policy '%s'", pol->name);
    const sc_pt_node *at = node_of(r, "lr_policy");
    SC_TRY(get_float(r, "gamma", 0.0, pol->gamma, why, at, &p->gamma));
    SC_TRY(get_float(r, "power", 0.0, pol->power, why, at, &p->power));
    SC_TRY(get_int(r, "stepsize", 0, pol->stepsize ? 1 : 0, why, at, &p->stepsize));
    if (pol->max_iter)
        SC_TRY(get_int(r, "max_iter", 0, 1, why, at, &p->max_iter));
    return read_steps(r, p);
}

/* ------------------------------------------------------------------ load */

static sc_status read_regularization(const reader *r, sc_solver_params *p)
{
    const char *reg = "L2";
    SC_TRY(sc_pt_get_string(r->root, "regularization_type", "L2", &reg, r->err));
    if (strcmp(reg, "L1") && strcmp(reg, "L2"))
        return field_fail(r, node_of(r, "regularization_type"),
                          "unknown regularization_type '%s' (L1 or L2)", reg);
    p->regularization_l1 = !strcmp(reg, "L1");
    return get_float(r, "weight_decay", 0.0, R_NON_NEGATIVE, "", NULL, &p->weight_decay);
}

static sc_status read_loop(const reader *r, sc_solver_params *p)
{
    SC_TRY(get_float(r, "base_lr", 0.0, R_POSITIVE, "", NULL, &p->base_lr));
    SC_TRY(get_int(r, "max_iter", 0, 0, "", NULL, &p->max_iter));
    SC_TRY(get_int(r, "display", 0, 0, "", NULL, &p->display));
    SC_TRY(get_int(r, "snapshot", 0, 0, "", NULL, &p->snapshot));
    SC_TRY(get_int(r, "iter_size", 1, 1, "", NULL, &p->iter_size));
    SC_TRY(get_int(r, "average_loss", 1, 1, "", NULL, &p->average_loss));
    SC_TRY(get_str(r, "snapshot_prefix", "", p->snapshot_prefix, sizeof p->snapshot_prefix));
    return sc_pt_get_int(r->root, "random_seed", -1, &p->random_seed, r->err);
}

static sc_status read_params(const reader *r, sc_solver_params *p)
{
    SC_TRY(get_str(r, "net", "", p->net, sizeof p->net));
    if (!p->net[0])
        SC_TRY(get_str(r, "train_net", "", p->net, sizeof p->net));
    if (!p->net[0])
        return field_fail(r, NULL, "no 'net' (or 'train_net') given");
    SC_TRY(read_loop(r, p));
    SC_TRY(read_policy(r, p));
    SC_TRY(read_regularization(r, p));
    /* Caffe: < 0 (the default) is off */
    SC_TRY(get_float(r, "clip_gradients", -1.0, R_FINITE, "", NULL, &p->clip_gradients));
    return read_solver_fields(r, p);
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

sc_status sc_solver_params_load(const char *path, sc_solver_params *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    sc_pt_node *root = NULL;
    SC_TRY(sc_prototxt_parse_file(path, &root, err));
    sc_status st = sc_schema_validate(root, "SolverParameter", err);
    if (st == SC_OK) {
        reader r = {.root = root, .path = path, .err = err};
        st = read_params(&r, out);
    }
    sc_pt_free(root);
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
