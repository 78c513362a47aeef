/* Inference folding: in a TEST net, a Convolution (or DepthwiseConvolution)
 * followed by an in-place BatchNorm with stored statistics, and optionally
 * an in-place Scale, runs as one convolution with folded weights and bias:
 * two passes over the activation fewer per block (MobileNet-style nets
 * spend about a third of their inference time in them on a CPU device).
 * An in-place PReLU right after the chain (or right after the convolution)
 * is fused into the convolution's step as well: a oneDNN post-op, or one
 * pass without the copy of its input a backward would need. */
#include "net_internal.h"


/* The layer right after l when it has this folding role and runs in place
 * on l's output. */
static sc_layer *in_place_successor(sc_net *net, const sc_layer *l, sc_fold_role role)
{
    if (l->index + 1 >= net->n_layers)
        return NULL;
    sc_layer *next = &net->layers[l->index + 1];
    /* in_place survived the planner's split: l's output has no other reader */
    if (next->kind->fold != role || !next->in_place || next->bottoms[0] != l->tops[0])
        return NULL;
    return next;
}

sc_status sc_net_fold(sc_net *net)
{
    if (net->opts.phase != SC_PHASE_TEST || net->opts.no_fold || net->opts.no_in_place)
        return SC_OK;
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *conv = &net->layers[i];
        if (conv->kind->fold != SC_FOLD_TAKER)
            continue;
        sc_layer *last = conv, *bn = in_place_successor(net, conv, SC_FOLD_NORM);
        float eps;
        if (bn && sc_layer_batchnorm_global(bn, &eps)) {
            sc_layer *scale = in_place_successor(net, bn, SC_FOLD_AFFINE);
            SC_TRY(sc_layer_conv_fold(conv, bn, scale, eps));
            last = scale ? scale : bn;
        }
        sc_layer *act = in_place_successor(net, last, SC_FOLD_ACTIVATION);
        if (act)
            SC_TRY(sc_layer_conv_fuse_activation(conv, act));
    }
    return SC_OK;
}
