/* Convolution and DepthwiseConvolution. A convolution with group == channels
 * == num_output runs on the direct depthwise kernels; any other runs as
 * im2col + GEMM. */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct conv_layer {
    sc_conv_params p;
    sc_shape in, out, w;
    int depthwise;
    /* inference folding: BatchNorm (+ Scale) folded into the weights, and a
     * PReLU fused into the convolution's step */
    const sc_layer *fold_bn, *fold_scale, *fold_act;
    float fold_eps;
    int fold_w, fold_b; /* extras holding the folded weights and bias */
} conv_layer;

/* Caffe's repeated `kernel_size` / `stride` / `pad` (1 value: both axes, 2:
 * h then w) or the explicit *_h / *_w fields. */
static sc_status read_hw(sc_layer *l, const sc_pt_node *cp, const char *field, const char *fh,
                         const char *fw, int def, int *h, int *w)
{
    sc_ctx *ctx = sc_layer_ctx(l);
    long long vh = def, vw = def;
    size_t n = sc_pt_count(cp, field);
    if (n > 2)
        return sc_layer_fail(l, SC_ERR_PARSE, "%s given %zu times (at most 2 for 2-D)", field, n);
    if (n >= 1)
        SC_TRY(sc_pt_int_at(sc_pt_find(cp, field, 0), &vh, sc_ctx_error(ctx)));
    vw = vh;
    if (n == 2)
        SC_TRY(sc_pt_int_at(sc_pt_find(cp, field, 1), &vw, sc_ctx_error(ctx)));
    if (sc_pt_find(cp, fh, 0) || sc_pt_find(cp, fw, 0)) {
        if (n)
            return sc_layer_fail(l, SC_ERR_PARSE, "give either %s or %s/%s", field, fh, fw);
        SC_TRY(sc_layer_get_int(l, cp, fh, def, &vh));
        SC_TRY(sc_layer_get_int(l, cp, fw, def, &vw));
    }
    *h = (int)vh;
    *w = (int)vw;
    return SC_OK;
}

static sc_status conv_read_params(sc_layer *l, conv_layer *c)
{
    const sc_pt_node *cp = sc_pt_find(l->def, "convolution_param", 0);
    if (!cp)
        return sc_layer_fail(l, SC_ERR_PARSE, "missing convolution_param");
    long long k, group;
    int bias;
    SC_TRY(sc_layer_get_int(l, cp, "num_output", 0, &k));
    SC_TRY(sc_layer_get_int(l, cp, "group", 1, &group));
    SC_TRY(sc_layer_get_bool(l, cp, "bias_term", 1, &bias));
    c->p.num_output = (int)k;
    c->p.group = (int)group;
    c->p.bias_term = bias;
    SC_TRY(read_hw(l, cp, "kernel_size", "kernel_h", "kernel_w", 0, &c->p.kernel_h, &c->p.kernel_w));
    SC_TRY(read_hw(l, cp, "stride", "stride_h", "stride_w", 1, &c->p.stride_h, &c->p.stride_w));
    SC_TRY(read_hw(l, cp, "pad", "pad_h", "pad_w", 0, &c->p.pad_h, &c->p.pad_w));
    SC_TRY(read_hw(l, cp, "dilation", "dilation_h", "dilation_w", 1, &c->p.dilation_h,
                   &c->p.dilation_w));
    if (k <= 0)
        return sc_layer_fail(l, SC_ERR_PARSE, "num_output must be positive");
    if (c->p.kernel_h <= 0 || c->p.kernel_w <= 0)
        return sc_layer_fail(l, SC_ERR_PARSE, "kernel_size (or kernel_h/kernel_w) must be set");
    return SC_OK;
}

/* The column buffer covers as many images as fit in WORKSPACE_LIMIT floats
 * (the whole batch for SphereFace-sized layers at small batches); the op
 * processes the batch in chunks of that size. */
#define WORKSPACE_LIMIT ((size_t)64 << 20)

static size_t conv_workspace(sc_ctx *ctx, const conv_layer *c)
{
    int chunk = c->in.n;
    size_t ws = sc_conv_workspace_needed(ctx, c->in, &c->p, chunk);
    while (chunk > 1 && ws > WORKSPACE_LIMIT) {
        chunk = (int)((double)chunk * WORKSPACE_LIMIT / (double)ws);
        if (chunk < 1)
            chunk = 1;
        ws = sc_conv_workspace_needed(ctx, c->in, &c->p, chunk);
    }
    return ws;
}

static sc_status conv_setup(sc_layer *l, sc_net *n)
{
    (void)n;
    SC_TRY(sc_layer_expect_io(l, 1, 1, 1, 1));
    conv_layer *c = sc_layer_new_priv(l, sizeof *c);
    if (!c)
        return SC_ERR_NOMEM;
    SC_TRY(conv_read_params(l, c));
    c->in = sc_value_shape(sc_layer_bottom(l, 0));
    /* the MobileNet fork's type means one filter per channel, group or not */
    if (!strcmp(l->type, "DepthwiseConvolution") && c->p.num_output == c->in.c)
        c->p.group = c->in.c;
    c->depthwise = c->p.group == c->in.c && c->p.num_output == c->in.c && c->in.c > 1;
    sc_ctx *ctx = sc_layer_ctx(l);
    if (c->depthwise)
        SC_TRY(sc_depthwise_output_shape(ctx, l->name, c->in, &c->p, &c->out));
    else
        SC_TRY(sc_conv_output_shape(ctx, l->name, c->in, &c->p, &c->out));
    sc_value_set_shape4(sc_layer_top(l, 0), c->out);
    c->w = sc_conv_weight_shape(c->in, &c->p);
    const sc_pt_node *cp = sc_pt_find(l->def, "convolution_param", 0);
    int wd[4] = {c->w.n, c->w.c, c->w.h, c->w.w};
    SC_TRY(sc_layer_add_param(l, 0, 4, wd, sc_pt_find(cp, "weight_filler", 0), "constant", 0));
    if (c->p.bias_term)
        SC_TRY(sc_layer_add_param(l, 1, 1, &c->p.num_output, sc_pt_find(cp, "bias_filler", 0),
                                  "constant", 0));
    if (!c->depthwise)
        sc_layer_need_workspace(l, conv_workspace(ctx, c));
    return SC_OK;
}

static cl_mem bias_data(const sc_layer *l, const conv_layer *c)
{
    return c->p.bias_term ? sc_layer_param(l, 1)->data : NULL;
}

/* Records the convolution itself with the given weights and bias, and the
 * fused PReLU when there is one. */
static sc_status conv_record(sc_layer *l, sc_plan *p, const sc_conv_params *cp, cl_mem w,
                             cl_mem bias)
{
    conv_layer *c = l->priv;
    cl_mem x = sc_layer_bottom_data(l, 0), y = sc_layer_top_data(l, 0);
    sc_conv_prelu act = {0};
    if (c->fold_act)
        act.slope = sc_layer_prelu_slopes(c->fold_act, &act.channel_shared);
    sc_conv_layout lay = {sc_layer_bottom_blocked(l, 0), sc_layer_top_blocked(l, 0)};
    if (lay.in_blocked || lay.out_blocked) /* an inference net's blocked blobs (net_layout.c) */
        return sc_conv_forward_blocked(p, l->name, cp, c->in, x, c->w, w, bias, &act, y, &lay);
    if (c->depthwise)
        return sc_depthwise_forward_prelu(p, l->name, cp, c->in, x, c->w, w, bias, &act, y);
    return sc_conv_forward_prelu(p, l->name, cp, c->in, x, c->w, w, bias, &act, y,
                                 sc_layer_workspace(l));
}

static sc_status conv_forward(sc_layer *l, sc_plan *p)
{
    conv_layer *c = l->priv;
    if (!c->fold_bn)
        return conv_record(l, p, &c->p, sc_layer_param(l, 0)->data, bias_data(l, c));
    /* fold first, every forward, so loaded or updated weights are used */
    const sc_layer *bn = c->fold_bn, *sc = c->fold_scale;
    cl_mem w_out = sc_layer_extra(l, c->fold_w), b_out = sc_layer_extra(l, c->fold_b);
    SC_TRY(sc_batchnorm_fold(p, bn->name, c->p.num_output, c->w.c * c->w.h * c->w.w, c->fold_eps,
                             sc_layer_param(l, 0)->data, bias_data(l, c),
                             sc_layer_param(bn, 0)->data, sc_layer_param(bn, 1)->data,
                             sc_layer_param(bn, 2)->data, sc ? sc_layer_param(sc, 0)->data : NULL,
                             sc && sc->n_params > 1 ? sc_layer_param(sc, 1)->data : NULL, w_out,
                             b_out));
    sc_conv_params folded = c->p;
    folded.bias_term = 1;
    return conv_record(l, p, &folded, w_out, b_out);
}

sc_status sc_layer_conv_fold(sc_layer *conv, sc_layer *bn, sc_layer *scale, float eps)
{
    conv_layer *c = conv->priv;
    c->fold_bn = bn;
    c->fold_scale = scale;
    c->fold_eps = eps;
    SC_TRY(sc_layer_add_extra(conv, sc_layer_param(conv, 0)->count, 0, &c->fold_w));
    SC_TRY(sc_layer_add_extra(conv, (size_t)c->p.num_output, 0, &c->fold_b));
    bn->folded = 1;
    if (scale)
        scale->folded = 1;
    return SC_OK;
}

sc_status sc_layer_conv_fuse_activation(sc_layer *conv, sc_layer *act)
{
    conv_layer *c = conv->priv;
    c->fold_act = act;
    act->folded = 1;
    return SC_OK;
}

static sc_status conv_backward(sc_layer *l, sc_plan *p)
{
    conv_layer *c = l->priv;
    float beta;
    cl_mem dx = sc_layer_bottom_diff(l, 0, &beta);
    cl_mem x = sc_layer_bottom_data(l, 0), dy = sc_layer_top_diff(l, 0);
    sc_param *w = sc_layer_param(l, 0);
    cl_mem db = c->p.bias_term ? sc_layer_param(l, 1)->diff : NULL;
    if (c->depthwise)
        return sc_depthwise_backward(p, l->name, &c->p, c->in, x, c->w, w->data, dy, dx, beta,
                                     w->diff, db);
    return sc_conv_backward(p, l->name, &c->p, c->in, x, c->w, w->data, dy, dx, beta, w->diff, db,
                            sc_layer_workspace(l));
}

static double conv_flops(const sc_layer *l)
{
    const conv_layer *c = l->priv;
    return 2.0 * sc_shape_count(c->out) * ((double)c->w.c * c->w.h * c->w.w) +
           (c->p.bias_term ? (double)sc_shape_count(c->out) : 0.0);
}


const sc_layer_kind sc_layer_convolution = {
    .type = "Convolution", .setup = conv_setup, .forward = conv_forward, .fold = SC_FOLD_TAKER,
    .layout = SC_LAYOUT_CONV,
    .backward = conv_backward, .flops = conv_flops,
};

const sc_layer_kind sc_layer_depthwise_convolution = {
    .type = "DepthwiseConvolution", .setup = conv_setup, .forward = conv_forward, .fold = SC_FOLD_TAKER,
    .layout = SC_LAYOUT_CONV,
    .backward = conv_backward, .flops = conv_flops,
};
