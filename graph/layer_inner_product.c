/* InnerProduct: y = x W^T + b over the input flattened from axis 1. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct ip_layer {
    sc_inner_product_params p;
    sc_shape in, out, w;
} ip_layer;

static sc_status ip_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    ip_layer *ip = sc_layer_new_priv(l, sizeof *ip);
    if (!ip)
        return SC_ERR_NOMEM;
    const sc_pt_node *pp = sc_pt_find(l->def, "inner_product_param", 0);
    if (!pp)
        return sc_layer_fail(l, SC_ERR_PARSE, "missing inner_product_param");
    long long k, axis;
    SC_TRY(sc_layer_get_int(l, pp, "num_output", 0, &k));
    SC_TRY(sc_layer_get_int(l, pp, "axis", 1, &axis));
    SC_TRY(sc_layer_get_bool(l, pp, "bias_term", 1, &ip->p.bias_term));
    SC_TRY(sc_layer_get_bool(l, pp, "transpose", 0, &ip->p.transpose));
    if (axis != 1)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED, "axis %lld (only axis 1 is supported)", axis);
    if (k <= 0)
        return sc_layer_fail(l, SC_ERR_PARSE, "num_output must be positive");
    ip->p.num_output = (int)k;
    ip->in = sc_value_shape(sc_layer_bottom(l, 0));
    SC_TRY(sc_inner_product_output_shape(sc_layer_ctx(l), l->name, ip->in, &ip->p, &ip->out));
    int od[2] = {ip->out.n, ip->out.c};
    sc_value_set_shape(sc_layer_top(l, 0), 2, od);
    ip->w = sc_inner_product_weight_shape(ip->in, &ip->p);
    int wd[2] = {ip->w.n, ip->w.c};
    SC_TRY(sc_layer_add_param(l, 0, 2, wd, sc_pt_find(pp, "weight_filler", 0), "constant", 0));
    if (ip->p.bias_term)
        SC_TRY(sc_layer_add_param(l, 1, 1, &ip->p.num_output, sc_pt_find(pp, "bias_filler", 0),
                                  "constant", 0));
    return SC_OK;
}

static sc_status ip_forward(sc_layer *l, sc_plan *p)
{
    ip_layer *ip = l->priv;
    cl_mem b = ip->p.bias_term ? sc_layer_param(l, 1)->data : NULL;
    return sc_inner_product_forward(p, l->name, &ip->p, ip->in, sc_layer_bottom_data(l, 0), ip->w,
                                    sc_layer_param(l, 0)->data, b, sc_layer_top_data(l, 0));
}

static sc_status ip_backward(sc_layer *l, sc_plan *p)
{
    ip_layer *ip = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    cl_mem db = ip->p.bias_term ? sc_layer_param(l, 1)->diff : NULL;
    sc_param *w = sc_layer_param(l, 0);
    return sc_inner_product_backward(p, l->name, &ip->p, ip->in, sc_layer_bottom_data(l, 0), ip->w,
                                     w->data, sc_layer_top_diff(l, 0), dx, beta, w->diff, db);
}

static double ip_flops(const sc_layer *l)
{
    const ip_layer *ip = l->priv;
    double k = (double)ip->in.c * ip->in.h * ip->in.w;
    return (double)ip->in.n * ip->p.num_output * (2.0 * k + (ip->p.bias_term ? 1.0 : 0.0));
}


const sc_layer_kind sc_layer_inner_product = {
    .type = "InnerProduct", .setup = ip_setup, .forward = ip_forward, .backward = ip_backward, .flops = ip_flops,
};
