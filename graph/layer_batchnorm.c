/* BatchNorm (Caffe's: blobs mean, variance, scale_factor; batch statistics
 * in TRAIN unless use_global_stats, running averages updated on the device)
 * and Scale (per-channel gamma, optional beta). Both run in place. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct bn_layer {
    sc_batchnorm_params p;
    sc_shape in;
    int saved;
} bn_layer;

static sc_status bn_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    bn_layer *bn = sc_layer_new_priv(l, sizeof *bn);
    if (!bn)
        return SC_ERR_NOMEM;
    bn->p = sc_batchnorm_default_params();
    const sc_pt_node *bp = sc_pt_find(l->def, "batch_norm_param", 0);
    double eps, maf;
    int global;
    SC_TRY(sc_layer_get_bool(l, bp, "use_global_stats", n->opts.phase == SC_PHASE_TEST, &global));
    SC_TRY(sc_layer_get_float(l, bp, "eps", bn->p.eps, &eps));
    SC_TRY(sc_layer_get_float(l, bp, "moving_average_fraction", bn->p.moving_average_fraction,
                              &maf));
    bn->p.use_global_stats = global;
    bn->p.eps = (float)eps;
    bn->p.moving_average_fraction = (float)maf;
    sc_value *bottom = sc_layer_bottom(l, 0);
    bn->in = sc_value_shape(bottom);
    sc_shape out;
    SC_TRY(sc_batchnorm_output_shape(sc_layer_ctx(l), l->name, &bn->p, bn->in, &out));
    sc_value_set_shape(sc_layer_top(l, 0), bottom->ndim, bottom->dims);
    int c = bn->in.c, one = 1;
    SC_TRY(sc_layer_add_param(l, 0, 1, &c, NULL, "constant", 0));
    SC_TRY(sc_layer_add_param(l, 1, 1, &c, NULL, "constant", 0));
    SC_TRY(sc_layer_add_param(l, 2, 1, &one, NULL, "constant", 0));
    /* Caffe forces lr_mult 0 on the statistics: they are not learned */
    for (int i = 0; i < 3; i++)
        sc_layer_param(l, i)->lr_mult = sc_layer_param(l, i)->decay_mult = 0.0f;
    sc_layer_need_workspace(l, sc_batchnorm_work_floats(&bn->p, bn->in));
    return sc_layer_add_extra(l, sc_batchnorm_saved_floats(&bn->p, bn->in), 0, &bn->saved);
}

static sc_status bn_forward(sc_layer *l, sc_plan *p)
{
    bn_layer *bn = l->priv;
    return sc_batchnorm_forward(p, l->name, &bn->p, bn->in, sc_layer_bottom_data(l, 0),
                                sc_layer_top_data(l, 0), sc_layer_param(l, 0)->data,
                                sc_layer_param(l, 1)->data, sc_layer_param(l, 2)->data,
                                sc_layer_extra(l, bn->saved), sc_layer_workspace(l));
}

static sc_status bn_backward(sc_layer *l, sc_plan *p)
{
    bn_layer *bn = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    if (!dx)
        return SC_OK;
    return sc_batchnorm_backward(p, l->name, &bn->p, bn->in, sc_layer_extra(l, bn->saved),
                                 sc_layer_top_diff(l, 0), dx, beta, sc_layer_workspace(l));
}

int sc_layer_batchnorm_global(const sc_layer *bn, float *eps)
{
    const bn_layer *b = bn->priv;
    *eps = b->p.eps;
    return b->p.use_global_stats;
}

static double bn_flops(const sc_layer *l)
{
    return 4.0 * (double)sc_shape_count(((const bn_layer *)l->priv)->in);
}


const sc_layer_kind sc_layer_batchnorm = {
    .type = "BatchNorm", .setup = bn_setup, .forward = bn_forward, .backward = bn_backward, .in_place = 1, .flops = bn_flops, .fold = SC_FOLD_NORM,
};

typedef struct scale_layer {
    sc_scale_params p;
    sc_shape in;
    int saved;
} scale_layer;

static sc_status scale_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    scale_layer *s = sc_layer_new_priv(l, sizeof *s);
    if (!s)
        return SC_ERR_NOMEM;
    const sc_pt_node *sp = sc_pt_find(l->def, "scale_param", 0);
    long long axis, num_axes;
    SC_TRY(sc_layer_get_bool(l, sp, "bias_term", 0, &s->p.bias_term));
    SC_TRY(sc_layer_get_int(l, sp, "axis", 1, &axis));
    SC_TRY(sc_layer_get_int(l, sp, "num_axes", 1, &num_axes));
    if (axis != 1 || num_axes != 1)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED,
                             "axis %lld, num_axes %lld (only per-channel scale: axis 1, num_axes 1)",
                             axis, num_axes);
    sc_value *bottom = sc_layer_bottom(l, 0);
    s->in = sc_value_shape(bottom);
    sc_shape out;
    SC_TRY(sc_scale_output_shape(sc_layer_ctx(l), l->name, &s->p, s->in, &out));
    sc_value_set_shape(sc_layer_top(l, 0), bottom->ndim, bottom->dims);
    int c = s->in.c;
    /* Caffe's defaults: gamma filled with 1 unless a filler is given, beta 0 */
    SC_TRY(sc_layer_add_param(l, 0, 1, &c, sp ? sc_pt_find(sp, "filler", 0) : NULL, "constant",
                              1.0f));
    if (s->p.bias_term)
        SC_TRY(sc_layer_add_param(l, 1, 1, &c, sp ? sc_pt_find(sp, "bias_filler", 0) : NULL,
                                  "constant", 0.0f));
    if (n->opts.phase == SC_PHASE_TRAIN)
        sc_layer_need_workspace(l, sc_scale_backward_work_floats(s->in));
    return sc_layer_add_extra(l, sc_scale_saved_floats(s->in, 1), 0, &s->saved);
}

static sc_status scale_forward(sc_layer *l, sc_plan *p)
{
    scale_layer *s = l->priv;
    cl_mem beta = s->p.bias_term ? sc_layer_param(l, 1)->data : NULL;
    return sc_scale_forward(p, l->name, &s->p, s->in, sc_layer_bottom_data(l, 0),
                            sc_layer_param(l, 0)->data, beta, sc_layer_top_data(l, 0),
                            sc_layer_extra(l, s->saved));
}

static sc_status scale_backward(sc_layer *l, sc_plan *p)
{
    scale_layer *s = l->priv;
    float beta_dx;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta_dx);
    cl_mem dbeta = s->p.bias_term ? sc_layer_param(l, 1)->diff : NULL;
    sc_param *g = sc_layer_param(l, 0);
    return sc_scale_backward(p, l->name, &s->p, s->in, sc_layer_bottom_data(l, 0),
                             sc_layer_top_data(l, 0), sc_layer_extra(l, s->saved), g->data,
                             sc_layer_top_diff(l, 0), dx, beta_dx, g->diff, dbeta,
                             sc_layer_workspace(l));
}

static double scale_flops(const sc_layer *l)
{
    return 2.0 * (double)sc_shape_count(((const scale_layer *)l->priv)->in);
}


const sc_layer_kind sc_layer_scale = {
    .type = "Scale", .setup = scale_setup, .forward = scale_forward, .backward = scale_backward, .in_place = 1, .flops = scale_flops, .fold = SC_FOLD_AFFINE,
};
