/* Eltwise: SUM (with coeff), PROD, MAX over inputs of one shape. */
#include "net_internal.h"

#include <stdlib.h>

#define MAX_INPUTS 16

typedef struct eltwise_layer {
    sc_eltwise_params p;
    float coeffs[MAX_INPUTS];
    sc_shape in[MAX_INPUTS];
    int saved, workspace;
} eltwise_layer;

static sc_status read_coeffs(sc_layer *l, const sc_pt_node *ep, eltwise_layer *e)
{
    size_t n = ep ? sc_pt_count(ep, "coeff") : 0;
    if (n == 0)
        return SC_OK;
    if (n != (size_t)l->n_bottoms)
        return sc_layer_fail(l, SC_ERR_PARSE, "has %zu coeff values for %d bottoms", n,
                             l->n_bottoms);
    if (e->p.op != SC_ELTWISE_SUM)
        return sc_layer_fail(l, SC_ERR_PARSE, "coeff is only valid with operation SUM");
    for (size_t i = 0; i < n; i++) {
        double v;
        SC_TRY(sc_pt_float_at(sc_pt_find(ep, "coeff", i), &v, sc_ctx_error(sc_layer_ctx(l))));
        e->coeffs[i] = (float)v;
    }
    e->p.coeffs = e->coeffs;
    e->p.n_coeffs = (int)n;
    return SC_OK;
}

static sc_status eltwise_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 2, MAX_INPUTS, 1, 1));
    eltwise_layer *e = sc_layer_new_priv(l, sizeof *e);
    if (!e)
        return SC_ERR_NOMEM;
    const sc_pt_node *ep = sc_pt_find(l->def, "eltwise_param", 0);
    static const char *const ops[] = {"PROD", "SUM", "MAX"};
    int op;
    SC_TRY(sc_layer_get_enum(l, ep, "operation", ops, 3, SC_ELTWISE_SUM, &op));
    e->p.op = (sc_eltwise_op)op;
    SC_TRY(read_coeffs(l, ep, e));
    for (int i = 0; i < l->n_bottoms; i++)
        e->in[i] = sc_value_shape(sc_layer_bottom(l, i));
    sc_shape out;
    SC_TRY(sc_eltwise_output_shape(sc_layer_ctx(l), l->name, &e->p, l->n_bottoms, e->in, &out));
    sc_value *b0 = sc_layer_bottom(l, 0);
    sc_value_set_shape(sc_layer_top(l, 0), b0->ndim, b0->dims);
    SC_TRY(sc_layer_add_extra(l, sc_eltwise_saved_floats(&e->p, e->in[0]), 0, &e->saved));
    return sc_layer_add_extra(l, sc_eltwise_workspace_floats(&e->p, l->n_bottoms, e->in[0]), 0,
                              &e->workspace);
}

static sc_status eltwise_forward(sc_layer *l, sc_plan *p)
{
    eltwise_layer *e = l->priv;
    cl_mem x[MAX_INPUTS];
    for (int i = 0; i < l->n_bottoms; i++)
        x[i] = sc_layer_bottom_data(l, i);
    return sc_eltwise_forward(p, l->name, &e->p, l->n_bottoms, e->in, x, sc_layer_top_data(l, 0),
                              sc_layer_extra(l, e->saved));
}

static sc_status eltwise_backward(sc_layer *l, sc_plan *p)
{
    eltwise_layer *e = l->priv;
    cl_mem x[MAX_INPUTS], dx[MAX_INPUTS];
    /* Each input gets its own beta: record one backward per input so a blob
     * read twice (x + x) still accumulates correctly. */
    for (int i = 0; i < l->n_bottoms; i++)
        x[i] = sc_layer_bottom_data(l, i);
    for (int i = 0; i < l->n_bottoms; i++) {
        float beta;
        cl_mem d = sc_layer_bottom_diff(l, i, &beta);
        if (!d)
            continue;
        for (int j = 0; j < l->n_bottoms; j++)
            dx[j] = j == i ? d : NULL;
        SC_TRY(sc_eltwise_backward(p, l->name, &e->p, l->n_bottoms, e->in, x,
                                   sc_layer_extra(l, e->saved), sc_layer_top_diff(l, 0), dx, beta,
                                   sc_layer_extra(l, e->workspace)));
    }
    return SC_OK;
}

static double eltwise_flops(const sc_layer *l)
{
    const eltwise_layer *e = l->priv;
    return (double)(l->n_bottoms - 1) * (double)sc_shape_count(e->in[0]);
}


const sc_layer_kind sc_layer_eltwise = {
    .type = "Eltwise", .setup = eltwise_setup, .forward = eltwise_forward,
    .backward = eltwise_backward, .flops = eltwise_flops, .layout = SC_LAYOUT_ELEMENTWISE,
};
