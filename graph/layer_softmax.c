/* Softmax, SoftmaxWithLoss (loss top; its gradient is the loss weight) and
 * Accuracy (top-k, no backward). */
#include "net_internal.h"

#include <stdlib.h>

static sc_status check_axis(sc_layer *l, const char *param)
{
    long long axis;
    SC_TRY(sc_layer_get_int(l, sc_pt_find(l->def, param, 0), "axis", 1, &axis));
    if (axis != 1)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED, "axis %lld (only axis 1 is supported)", axis);
    return SC_OK;
}

static sc_status softmax_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    SC_TRY(check_axis(l, "softmax_param"));
    sc_value *b = sc_layer_bottom(l, 0);
    sc_shape out;
    SC_TRY(sc_softmax_output_shape(sc_layer_ctx(l), l->name, sc_value_shape(b), &out));
    sc_value_set_shape(sc_layer_top(l, 0), b->ndim, b->dims);
    return SC_OK;
}

static sc_status softmax_forward(sc_layer *l, sc_plan *p)
{
    sc_shape s = sc_value_shape(sc_layer_bottom(l, 0));
    return sc_softmax_forward(p, l->name, s, sc_layer_bottom_data(l, 0), s,
                              sc_layer_top_data(l, 0));
}

static sc_status softmax_backward(sc_layer *l, sc_plan *p)
{
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    if (!dx)
        return SC_OK;
    return sc_softmax_backward(p, l->name, sc_value_shape(sc_layer_bottom(l, 0)),
                               sc_layer_top_data(l, 0), sc_layer_top_diff(l, 0), dx, beta);
}

const sc_layer_kind sc_layer_softmax = {
    .type = "Softmax", .setup = softmax_setup, .forward = softmax_forward,
    .backward = softmax_backward,
};

/* ---------------------------------------------------------------- loss */

typedef struct loss_layer {
    sc_softmax_loss_params p;
    sc_shape in;
    int prob, state;
} loss_layer;

static sc_status read_loss_params(sc_layer *l, sc_softmax_loss_params *p)
{
    *p = sc_softmax_loss_defaults();
    const sc_pt_node *lp = sc_pt_find(l->def, "loss_param", 0);
    long long ignore;
    if (lp && sc_pt_find(lp, "ignore_label", 0)) {
        SC_TRY(sc_layer_get_int(l, lp, "ignore_label", -1, &ignore));
        p->has_ignore_label = 1;
        p->ignore_label = (int)ignore;
    }
    static const char *const norms[] = {"FULL", "VALID", "BATCH_SIZE", "NONE"};
    int norm;
    SC_TRY(sc_layer_get_enum(l, lp, "normalization", norms, 4, SC_LOSS_NORM_VALID, &norm));
    int legacy;
    if (lp && sc_pt_find(lp, "normalize", 0) && !sc_pt_find(lp, "normalization", 0)) {
        SC_TRY(sc_layer_get_bool(l, lp, "normalize", 1, &legacy));
        norm = legacy ? SC_LOSS_NORM_VALID : SC_LOSS_NORM_BATCH_SIZE; /* Caffe's mapping */
    }
    p->normalization = (sc_loss_norm)norm;
    return SC_OK;
}

static sc_status check_labels(sc_layer *l, sc_shape in)
{
    size_t labels = sc_value_count(sc_layer_bottom(l, 1));
    size_t want = (size_t)in.n * in.h * in.w;
    if (labels != want) {
        char a[64], b[64];
        return sc_layer_fail(l, SC_ERR_SHAPE, "label blob %s has %zu values, scores %s need %zu",
                             sc_value_shape_str(sc_layer_bottom(l, 1), a, sizeof a), labels,
                             sc_value_shape_str(sc_layer_bottom(l, 0), b, sizeof b), want);
    }
    return SC_OK;
}

static sc_status loss_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 2, 2, 1, 1));
    loss_layer *ll = sc_layer_new_priv(l, sizeof *ll);
    if (!ll)
        return SC_ERR_NOMEM;
    SC_TRY(read_loss_params(l, &ll->p));
    ll->in = sc_value_shape(sc_layer_bottom(l, 0));
    SC_TRY(check_labels(l, ll->in));
    sc_value_set_shape(sc_layer_top(l, 0), 0, NULL);
    SC_TRY(sc_layer_add_extra(l, sc_shape_count(ll->in), 0, &ll->prob));
    return sc_layer_add_extra(l, sc_softmax_loss_state_floats(), 0, &ll->state);
}

static sc_status loss_forward(sc_layer *l, sc_plan *p)
{
    loss_layer *ll = l->priv;
    return sc_softmax_loss_forward(p, l->name, &ll->p, ll->in, sc_layer_bottom_data(l, 0),
                                   sc_layer_bottom_data(l, 1), sc_layer_extra(l, ll->prob),
                                   sc_layer_extra(l, ll->state), sc_layer_top_data(l, 0));
}

static sc_status loss_backward(sc_layer *l, sc_plan *p)
{
    loss_layer *ll = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    if (!dx)
        return SC_OK;
    return sc_softmax_loss_backward(p, l->name, &ll->p, ll->in, sc_layer_extra(l, ll->prob),
                                    sc_layer_bottom_data(l, 1), sc_layer_extra(l, ll->state),
                                    l->loss_weight[0], dx, beta);
}


const sc_layer_kind sc_layer_softmax_loss = {
    .type = "SoftmaxWithLoss", .setup = loss_setup, .forward = loss_forward, .flags = SC_KIND_LOSS | SC_KIND_LABELS,
    .backward = loss_backward,
};

/* ------------------------------------------------------------ accuracy */

typedef struct accuracy_layer {
    sc_accuracy_params p;
    sc_shape in;
} accuracy_layer;

static sc_status accuracy_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 2, 2, 1, 1));
    accuracy_layer *a = sc_layer_new_priv(l, sizeof *a);
    if (!a)
        return SC_ERR_NOMEM;
    const sc_pt_node *ap = sc_pt_find(l->def, "accuracy_param", 0);
    long long k, ignore;
    SC_TRY(sc_layer_get_int(l, ap, "top_k", 1, &k));
    a->p.top_k = (int)k;
    if (ap && sc_pt_find(ap, "ignore_label", 0)) {
        SC_TRY(sc_layer_get_int(l, ap, "ignore_label", -1, &ignore));
        a->p.has_ignore_label = 1;
        a->p.ignore_label = (int)ignore;
    }
    a->in = sc_value_shape(sc_layer_bottom(l, 0));
    SC_TRY(check_labels(l, a->in));
    if (a->p.top_k < 1 || a->p.top_k > a->in.c)
        return sc_layer_fail(l, SC_ERR_PARSE, "top_k %d outside 1..%d", a->p.top_k, a->in.c);
    sc_value_set_shape(sc_layer_top(l, 0), 0, NULL);
    l->loss_weight[0] = 0.0f;
    return SC_OK;
}

static sc_status accuracy_forward(sc_layer *l, sc_plan *p)
{
    accuracy_layer *a = l->priv;
    return sc_accuracy_forward(p, l->name, &a->p, a->in, sc_layer_bottom_data(l, 0),
                               sc_layer_bottom_data(l, 1), sc_layer_top_data(l, 0));
}

const sc_layer_kind sc_layer_accuracy = {
    .type = "Accuracy", .setup = accuracy_setup, .forward = accuracy_forward, .flags = SC_KIND_LABELS | SC_KIND_ACCURACY,
};
