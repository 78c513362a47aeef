/* PReLU: y = max(0, x) + a * min(0, x), one slope per channel or shared.
 * Runs in place; in a TRAIN net the op keeps a copy of x for the backward
 * then (a TEST net has no backward, so no copy). In a TEST net it usually
 * runs fused into the convolution before it (net_fold.c). */
#include "net_internal.h"

#include <stdlib.h>

typedef struct prelu_layer {
    sc_prelu_params p;
    sc_shape in;
    int saved; /* extra index; -1 in TEST nets (no backward needs x) */
} prelu_layer;

static sc_status prelu_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    prelu_layer *pr = sc_layer_new_priv(l, sizeof *pr);
    if (!pr)
        return SC_ERR_NOMEM;
    const sc_pt_node *pp = sc_pt_find(l->def, "prelu_param", 0);
    SC_TRY(sc_layer_get_bool(l, pp, "channel_shared", 0, &pr->p.channel_shared));
    sc_value *bottom = sc_layer_bottom(l, 0);
    pr->in = sc_value_shape(bottom);
    sc_shape out;
    SC_TRY(sc_prelu_output_shape(sc_layer_ctx(l), l->name, &pr->p, pr->in, &out));
    sc_value_set_shape(sc_layer_top(l, 0), bottom->ndim, bottom->dims);
    int slopes = (int)sc_prelu_slope_count(&pr->p, pr->in);
    /* Caffe's default slope filler: constant 0.25 */
    SC_TRY(sc_layer_add_param(l, 0, 1, &slopes, pp ? sc_pt_find(pp, "filler", 0) : NULL,
                              "constant", 0.25f));
    pr->saved = -1;
    if (n->opts.phase != SC_PHASE_TRAIN)
        return SC_OK;
    sc_layer_need_workspace(l, sc_prelu_backward_work_floats(&pr->p, pr->in));
    /* sized for in place: the planner may still run it out of place */
    return sc_layer_add_extra(l, sc_prelu_saved_floats(pr->in, 1), 0, &pr->saved);
}

static sc_status prelu_forward(sc_layer *l, sc_plan *p)
{
    prelu_layer *pr = l->priv;
    cl_mem x = sc_layer_bottom_data(l, 0), y = sc_layer_top_data(l, 0);
    cl_mem slope = sc_layer_param(l, 0)->data;
    if (pr->saved < 0 && x == y)
        return sc_prelu_forward_inference(p, l->name, &pr->p, pr->in, y, slope);
    return sc_prelu_forward(p, l->name, &pr->p, pr->in, x, slope, y,
                            pr->saved < 0 ? NULL : sc_layer_extra(l, pr->saved));
}

cl_mem sc_layer_prelu_slopes(const sc_layer *prelu, int *channel_shared)
{
    const prelu_layer *pr = prelu->priv;
    *channel_shared = pr->p.channel_shared;
    return sc_layer_param(prelu, 0)->data;
}

static sc_status prelu_backward(sc_layer *l, sc_plan *p)
{
    prelu_layer *pr = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    sc_param *a = sc_layer_param(l, 0);
    return sc_prelu_backward(p, l->name, &pr->p, pr->in, sc_layer_bottom_data(l, 0),
                             sc_layer_top_data(l, 0), sc_layer_extra(l, pr->saved), a->data,
                             sc_layer_top_diff(l, 0), dx, beta, a->diff, sc_layer_workspace(l));
}

static double prelu_flops(const sc_layer *l)
{
    return 2.0 * (double)sc_shape_count(((const prelu_layer *)l->priv)->in);
}


const sc_layer_kind sc_layer_prelu = {
    .type = "PReLU", .setup = prelu_setup, .forward = prelu_forward, .backward = prelu_backward,
    .in_place = 1, .fold = SC_FOLD_ACTIVATION, .flops = prelu_flops,
};
