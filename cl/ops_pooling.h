/* Pooling (Caffe's PoolingLayer): MAX with an argmax mask and AVE, any kernel,
 * stride and pad per axis, global pooling, Caffe's ceil output-size rule.
 *
 * Semantics (pooling_layer.cpp / .cu):
 *  - OH = ceil((H + 2*pad_h - kernel_h) / stride_h) + 1, and when pad_h > 0 the
 *    last window must start inside the image: if (OH-1)*stride_h >= H + pad_h,
 *    OH -= 1. Same for W.
 *  - MAX ignores padding; the first maximum in raster order wins (strict '>');
 *    argmax holds h*W + w inside the channel plane. An empty window (possible
 *    only with pad 0 and stride > kernel) gives -FLT_MAX and argmax -1, as Caffe.
 *  - AVE sums the window's pixels inside the image and divides by the window
 *    size clipped to [-pad, size + pad), i.e. padding counts, the rest does not.
 *  - global_pooling: the kernel is the whole H x W plane, stride 1, pad 0; the
 *    kernel_* fields are ignored, pad must be 0 and stride 0 (unset) or 1.
 *  - pad must be smaller than the kernel (Caffe's CHECK_LT(pad, kernel)).
 *
 * State: MAX forward writes the argmax mask (int32 per output) that MAX
 * backward reads; the caller allocates it with sc_pooling_argmax_floats()
 * 4-byte slots (a float-sized buffer) and passes it to both calls. AVE keeps
 * no state. Inference may pass a NULL argmax to MAX forward. */
#ifndef SC_OPS_POOLING_H
#define SC_OPS_POOLING_H

/* Values of Caffe's PoolingParameter.PoolMethod. */
typedef enum sc_pool_method { SC_POOL_MAX = 0, SC_POOL_AVE = 1 } sc_pool_method;

typedef struct sc_pooling_params {
    sc_pool_method method;
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int global_pooling;
} sc_pooling_params;

/* y = pooled shape of x (N x C x OH x OW). Fails, naming the layer and the
 * input shape, on a zero dimension, zero stride or kernel, pad >= kernel, or
 * a kernel larger than the padded input. */
sc_status sc_pooling_output_shape(sc_ctx *ctx, const char *name, const sc_pooling_params *p,
                                  sc_shape x, sc_shape *y);

/* Number of 4-byte argmax slots MAX pooling of x needs (N*C*OH*OW); 0 for AVE
 * or invalid parameters. */
size_t sc_pooling_argmax_floats(const sc_pooling_params *p, sc_shape x);

/* Records y = pool(x); for MAX also argmax (may be NULL when no backward follows). */
sc_status sc_pooling_forward(sc_plan *plan, const char *name, const sc_pooling_params *p,
                             sc_shape x_shape, cl_mem x, cl_mem y, cl_mem argmax);

/* Records dx = beta_dx * dx + d(pool)/dx^T dy (dx has x_shape; dy the output
 * shape). MAX needs the argmax of the forward. dx NULL records nothing. */
sc_status sc_pooling_backward(sc_plan *plan, const char *name, const sc_pooling_params *p,
                              sc_shape x_shape, cl_mem dy, cl_mem argmax, cl_mem dx,
                              float beta_dx);

#endif
