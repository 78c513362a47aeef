/* Dropout: a fresh device-drawn mask every TRAIN forward, identity in TEST. */
#include "net_internal.h"

#include <stdlib.h>

typedef struct dropout_layer {
    sc_dropout_params p;
    sc_shape in;
    int saved, state;
} dropout_layer;

static sc_status dropout_setup(sc_layer *l, sc_net *n)
{
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    dropout_layer *d = sc_layer_new_priv(l, sizeof *d);
    if (!d)
        return SC_ERR_NOMEM;
    d->p = sc_dropout_default_params();
    double ratio;
    SC_TRY(sc_layer_get_float(l, sc_pt_find(l->def, "dropout_param", 0), "dropout_ratio", 0.5,
                              &ratio));
    d->p.ratio = (float)ratio;
    d->p.train = n->opts.phase == SC_PHASE_TRAIN;
    sc_value *bottom = sc_layer_bottom(l, 0);
    d->in = sc_value_shape(bottom);
    sc_shape out;
    SC_TRY(sc_dropout_output_shape(sc_layer_ctx(l), l->name, &d->p, d->in, &out));
    sc_value_set_shape(sc_layer_top(l, 0), bottom->ndim, bottom->dims);
    SC_TRY(sc_layer_add_extra(l, sc_dropout_saved_floats(&d->p, d->in), 0, &d->saved));
    return sc_layer_add_extra(l, SC_DROPOUT_STATE_FLOATS, 1, &d->state);
}

/* The mask stream is seeded from --seed and the layer index. */
static sc_status dropout_init(sc_layer *l)
{
    dropout_layer *d = l->priv;
    return sc_dropout_seed(sc_layer_ctx(l), sc_layer_extra(l, d->state),
                           (uint32_t)(l->net->opts.seed * 2654435761u + (uint32_t)l->index));
}

static sc_status dropout_forward(sc_layer *l, sc_plan *p)
{
    dropout_layer *d = l->priv;
    return sc_dropout_forward(p, l->name, &d->p, d->in, sc_layer_bottom_data(l, 0),
                              sc_layer_top_data(l, 0), sc_layer_extra(l, d->state),
                              sc_layer_extra(l, d->saved));
}

static sc_status dropout_backward(sc_layer *l, sc_plan *p)
{
    dropout_layer *d = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    if (!dx)
        return SC_OK;
    return sc_dropout_backward(p, l->name, &d->p, d->in, sc_layer_extra(l, d->saved),
                               sc_layer_top_diff(l, 0), dx, beta);
}


const sc_layer_kind sc_layer_dropout = {
    .type = "Dropout", .setup = dropout_setup, .init = dropout_init, .forward = dropout_forward,
    .backward = dropout_backward, .in_place = 1,
};
