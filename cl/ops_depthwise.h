/* Depthwise convolution (`DepthwiseConvolution`, or `Convolution` with
 * group == channels == num_output): every channel has its own kernel_h x
 * kernel_w filter. Direct kernels: forward (one work-item per output),
 * backward data (a gather over the windows covering each input pixel,
 * written with beta_dx), backward filter (one work-group per weight with a
 * local tree reduction over N*OH*OW, accumulated +=) and the bias gradient
 * (sc_conv_bias_backward). No workspace. Under the oneDNN provider the same
 * calls record oneDNN's depthwise kernels instead (cl/conv_dnnl.c). */
#ifndef SC_OPS_DEPTHWISE_H
#define SC_OPS_DEPTHWISE_H

#include "ops_conv.h"

/* The Convolution parameters; num_output must equal the input channels, and
 * group must be the channels (as prototxts write it) or 1 (depthwise implies
 * group == channels). Dilation 1 only. */
typedef sc_conv_params sc_depthwise_params;

/* Output shape N x C x OH x OW, Convolution's rounding (down). */
sc_status sc_depthwise_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                                    const sc_depthwise_params *p, sc_shape *out);

/* y = depthwise_conv(x, w) + bias; w_shape must be C x 1 x kernel_h x kernel_w,
 * bias C floats when p->bias_term. */
sc_status sc_depthwise_forward(sc_plan *plan, const char *name, const sc_depthwise_params *p,
                               sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias,
                               cl_mem y);

/* sc_depthwise_forward followed by a PReLU on y (act may be NULL; see
 * sc_conv_prelu). */
sc_status sc_depthwise_forward_prelu(sc_plan *plan, const char *name,
                                     const sc_depthwise_params *p, sc_shape in, cl_mem x,
                                     sc_shape w_shape, cl_mem w, cl_mem bias,
                                     const sc_conv_prelu *act, cl_mem y);

/* dx = beta_dx * dx + dL/dx (NULL: skipped), dw += dL/dw (NULL: skipped),
 * db += dL/db (NULL or no bias_term: skipped). */
sc_status sc_depthwise_backward(sc_plan *plan, const char *name, const sc_depthwise_params *p,
                                sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem dy,
                                cl_mem dx, float beta_dx, cl_mem dw, cl_mem db);

#endif
