/* MarginInnerProduct (A-Softmax). The iteration counter and lambda live in
 * a small device buffer advanced by the forward itself, so replays need no
 * host step; snapshots read and restore it through state_get/state_set. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct asoftmax_layer {
    sc_asoftmax_params p;
    sc_shape in, w, out;
    int state, saved, workspace;
} asoftmax_layer;

static sc_status read_params(sc_layer *l, asoftmax_layer *a, const sc_pt_node *mp)
{
    long long k, iteration;
    double base, gamma, power, lambda_min;
    static const char *const types[] = {"SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"};
    int type;
    SC_TRY(sc_layer_get_int(l, mp, "num_output", 0, &k));
    SC_TRY(sc_layer_get_enum(l, mp, "type", types, 4, 0, &type));
    a->p = sc_asoftmax_params_default((int)k);
    SC_TRY(sc_layer_get_float(l, mp, "base", a->p.base, &base));
    SC_TRY(sc_layer_get_float(l, mp, "gamma", a->p.gamma, &gamma));
    SC_TRY(sc_layer_get_float(l, mp, "power", a->p.power, &power));
    SC_TRY(sc_layer_get_float(l, mp, "lambda_min", a->p.lambda_min, &lambda_min));
    SC_TRY(sc_layer_get_int(l, mp, "iteration", 0, &iteration));
    a->p.m = type + 1;
    a->p.base = (float)base;
    a->p.gamma = (float)gamma;
    a->p.power = (float)power;
    a->p.lambda_min = (float)lambda_min;
    a->p.iteration = (int)iteration;
    a->p.mode = l->net->opts.asoftmax_exact ? SC_ASOFTMAX_EXACT : SC_ASOFTMAX_CAFFE;
    if (k <= 0)
        return sc_layer_fail(l, SC_ERR_PARSE, "num_output must be positive");
    return SC_OK;
}

static sc_status asoftmax_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 2, 2, 1, 2));
    asoftmax_layer *a = sc_layer_new_priv(l, sizeof *a);
    if (!a)
        return SC_ERR_NOMEM;
    const sc_pt_node *mp = sc_pt_find(l->def, "margin_inner_product_param", 0);
    if (!mp)
        return sc_layer_fail(l, SC_ERR_PARSE, "missing margin_inner_product_param");
    SC_TRY(read_params(l, a, mp));
    a->in = sc_value_shape(sc_layer_bottom(l, 0));
    size_t k = (size_t)a->in.c * a->in.h * a->in.w;
    a->w = (sc_shape){a->p.num_output, (int)k, 1, 1};
    SC_TRY(sc_asoftmax_output_shape(sc_layer_ctx(l), l->name, &a->p, a->in, a->w, &a->out));
    if (sc_value_count(sc_layer_bottom(l, 1)) != (size_t)a->in.n)
        return sc_layer_fail(l, SC_ERR_SHAPE, "label blob has %zu values for a batch of %d",
                             sc_value_count(sc_layer_bottom(l, 1)), a->in.n);
    int od[2] = {a->in.n, a->p.num_output};
    sc_value_set_shape(sc_layer_top(l, 0), 2, od);
    if (l->n_tops == 2) {
        int one = 1;
        sc_value_set_shape(sc_layer_top(l, 1), 1, &one);
    }
    int wd[2] = {a->w.n, a->w.c};
    SC_TRY(sc_layer_add_param(l, 0, 2, wd, sc_pt_find(mp, "weight_filler", 0), "constant", 0));
    SC_TRY(sc_layer_add_extra(l, sc_asoftmax_state_floats(), 1, &a->state));
    SC_TRY(sc_layer_add_extra(l, sc_asoftmax_saved_floats(a->in.n), 0, &a->saved));
    size_t ws = sc_asoftmax_workspace_floats(&a->p, a->in.n);
    return sc_layer_add_extra(l, ws ? ws : 1, 0, &a->workspace);
}

static cl_mem lambda_top(const sc_layer *l)
{
    return l->n_tops == 2 ? sc_layer_top_data(l, 1) : NULL;
}

/* iteration and lambda from margin_inner_product_param.iteration */
static sc_status asoftmax_init(sc_layer *l)
{
    asoftmax_layer *a = l->priv;
    return sc_asoftmax_state_init(sc_layer_ctx(l), &a->p, sc_layer_extra(l, a->state));
}

static sc_status asoftmax_forward(sc_layer *l, sc_plan *p)
{
    asoftmax_layer *a = l->priv;
    return sc_asoftmax_forward(p, l->name, &a->p, a->in, sc_layer_bottom_data(l, 0),
                               sc_layer_bottom_data(l, 1), a->w, sc_layer_param(l, 0)->data,
                               sc_layer_extra(l, a->state), 1, sc_layer_top_data(l, 0),
                               lambda_top(l), sc_layer_extra(l, a->saved));
}

static sc_status asoftmax_backward(sc_layer *l, sc_plan *p)
{
    asoftmax_layer *a = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    sc_param *w = sc_layer_param(l, 0);
    return sc_asoftmax_backward(p, l->name, &a->p, a->in, sc_layer_bottom_data(l, 0),
                                sc_layer_bottom_data(l, 1), a->w, w->data,
                                sc_layer_extra(l, a->state), sc_layer_extra(l, a->saved),
                                sc_layer_top_diff(l, 0), sc_layer_extra(l, a->workspace), dx, beta,
                                w->diff);
}

static sc_status asoftmax_state_get(sc_layer *l, long long *iteration, float *lambda)
{
    asoftmax_layer *a = l->priv;
    int iter;
    SC_TRY(sc_asoftmax_state_get(sc_layer_ctx(l), sc_layer_extra(l, a->state), &iter, lambda));
    *iteration = iter;
    return SC_OK;
}

static sc_status asoftmax_state_set(sc_layer *l, long long iteration)
{
    asoftmax_layer *a = l->priv;
    return sc_asoftmax_state_set(sc_layer_ctx(l), sc_layer_extra(l, a->state), (int)iteration,
                                 sc_asoftmax_lambda(&a->p, (int)iteration));
}

static double asoftmax_flops(const sc_layer *l)
{
    const asoftmax_layer *a = l->priv;
    return 2.0 * (double)a->in.n * a->w.n * a->w.c;
}


const sc_layer_kind sc_layer_margin_inner_product = {
    .type = "MarginInnerProduct", .setup = asoftmax_setup, .init = asoftmax_init, .forward = asoftmax_forward,
    .backward = asoftmax_backward, .flops = asoftmax_flops,
    .state_get = asoftmax_state_get, .state_set = asoftmax_state_set,
};
