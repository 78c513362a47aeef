/* Pooling MAX / AVE with Caffe's ceil output rounding. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct pool_layer {
    sc_pooling_params p;
    sc_shape in, out;
    int argmax;
} pool_layer;

static sc_status read_hw(sc_layer *l, const sc_pt_node *pp, const char *field, const char *fh,
                         const char *fw, int def, int *h, int *w)
{
    long long v, vh, vw;
    SC_TRY(sc_layer_get_int(l, pp, field, def, &v));
    SC_TRY(sc_layer_get_int(l, pp, fh, v, &vh));
    SC_TRY(sc_layer_get_int(l, pp, fw, v, &vw));
    *h = (int)vh;
    *w = (int)vw;
    return SC_OK;
}

static sc_status pool_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 2));
    if (l->n_tops == 2)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED, "a second (mask) top is not supported");
    pool_layer *pl = sc_layer_new_priv(l, sizeof *pl);
    if (!pl)
        return SC_ERR_NOMEM;
    const sc_pt_node *pp = sc_pt_find(l->def, "pooling_param", 0);
    static const char *const methods[] = {"MAX", "AVE", "STOCHASTIC"};
    int method;
    SC_TRY(sc_layer_get_enum(l, pp, "pool", methods, 3, 0, &method));
    if (method == 2)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED, "STOCHASTIC pooling is not supported");
    pl->p.method = method == 0 ? SC_POOL_MAX : SC_POOL_AVE;
    SC_TRY(sc_layer_get_bool(l, pp, "global_pooling", 0, &pl->p.global_pooling));
    SC_TRY(read_hw(l, pp, "kernel_size", "kernel_h", "kernel_w", 0, &pl->p.kernel_h,
                   &pl->p.kernel_w));
    SC_TRY(read_hw(l, pp, "stride", "stride_h", "stride_w", 1, &pl->p.stride_h, &pl->p.stride_w));
    SC_TRY(read_hw(l, pp, "pad", "pad_h", "pad_w", 0, &pl->p.pad_h, &pl->p.pad_w));
    pl->in = sc_value_shape(sc_layer_bottom(l, 0));
    if (pl->p.global_pooling) {
        pl->p.kernel_h = pl->in.h;
        pl->p.kernel_w = pl->in.w;
    }
    SC_TRY(sc_pooling_output_shape(sc_layer_ctx(l), l->name, &pl->p, pl->in, &pl->out));
    sc_value_set_shape4(sc_layer_top(l, 0), pl->out);
    size_t am = sc_pooling_argmax_floats(&pl->p, pl->in);
    return sc_layer_add_extra(l, am ? am : 1, 0, &pl->argmax);
}

static sc_status pool_forward(sc_layer *l, sc_plan *p)
{
    pool_layer *pl = l->priv;
    return sc_pooling_forward(p, l->name, &pl->p, pl->in, sc_layer_bottom_data(l, 0),
                              sc_layer_top_data(l, 0), sc_layer_extra(l, pl->argmax));
}

static sc_status pool_backward(sc_layer *l, sc_plan *p)
{
    pool_layer *pl = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    if (!dx)
        return SC_OK;
    return sc_pooling_backward(p, l->name, &pl->p, pl->in, sc_layer_top_diff(l, 0),
                               sc_layer_extra(l, pl->argmax), dx, beta);
}

static double pool_flops(const sc_layer *l)
{
    const pool_layer *pl = l->priv;
    return (double)sc_shape_count(pl->out) * pl->p.kernel_h * pl->p.kernel_w;
}


const sc_layer_kind sc_layer_pooling = {
    .type = "Pooling", .setup = pool_setup, .forward = pool_forward, .backward = pool_backward, .flops = pool_flops,
};
