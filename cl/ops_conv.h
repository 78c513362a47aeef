/* Convolution (Caffe `Convolution`): im2col + GEMM over the whole mini-batch.
 *
 * Forward, per chunk of nc images: im2col writes the column matrix
 * [C*kh*kw] x [nc*OH*OW] (the images side by side), one GEMM per group
 * multiplies the group's weights [K/g] x [C/g*kh*kw] with it, and a scatter
 * kernel moves the [K] x [nc*OH*OW] product to NCHW with the bias added.
 * The batch is one chunk when the caller's workspace is large enough
 * (sc_conv_workspace_floats(in, p, in.n)); a smaller workspace gives smaller
 * chunks, down to one image, where the GEMM writes y directly.
 *
 * A 1x1 convolution with stride 1 and pad 0 needs no im2col: for one image
 * the input is the column matrix itself; for a chunk a cheap NCHW -> [C] x
 * [nc*P] gather replaces it.
 *
 * Backward: dy is gathered into [K] x [nc*P]; dW += dy' col^T (one GEMM per
 * group, beta 1); dcol = W^T dy' (one GEMM per group); col2im (a gather over
 * the windows covering each input pixel) writes dx with beta_dx. db += the
 * per-channel sums of dy.
 *
 * Convolution with group == channels == num_output (> 1) is a depthwise
 * convolution and is handed to the dedicated kernels of ops_depthwise.h
 * (it then needs no workspace). Only dilation 1 is supported.
 *
 * Providers (sc_ctx_conv_provider): everything above is the OpenCL provider.
 * With SC_CONV_DNNL (the default on CPU devices) the same calls record
 * oneDNN primitives as host tasks instead (cl/conv_dnnl.c): one task per
 * forward and one per backward, no workspace (it is ignored), the same
 * checks, results and accumulation rules. */
#ifndef SC_OPS_CONV_H
#define SC_OPS_CONV_H

typedef struct sc_conv_params {
    int num_output;             /* K, the output channels */
    int kernel_h, kernel_w;     /* >= 1 */
    int stride_h, stride_w;     /* >= 1 */
    int pad_h, pad_w;           /* >= 0 */
    int dilation_h, dilation_w; /* 1 (0 is read as "not set", i.e. 1); others are rejected */
    int group;                  /* >= 1, divides the input channels and num_output */
    int bias_term;              /* nonzero: a bias of num_output values */
} sc_conv_params;

/* Checks the parameters against the input shape and infers the output:
 * N x num_output x floor((H + 2 pad_h - kernel_h) / stride_h) + 1 x (same for W).
 * `op` names the layer type in error messages ("Convolution",
 * "DepthwiseConvolution"). Errors name the layer, op, input shape and the
 * offending parameter. */
sc_status sc_conv_infer(sc_ctx *ctx, const char *name, const char *op, sc_shape in,
                        const sc_conv_params *p, sc_shape *out);
/* sc_conv_infer with op "Convolution". */
sc_status sc_conv_output_shape(sc_ctx *ctx, const char *name, sc_shape in,
                               const sc_conv_params *p, sc_shape *out);

/* The weight blob shape Caffe uses: num_output x C/group x kernel_h x kernel_w. */
sc_shape sc_conv_weight_shape(sc_shape in, const sc_conv_params *p);

/* Floats of workspace that sc_conv_forward / sc_conv_backward need to process
 * `chunk_images` images per GEMM (<= 0 or > in.n: the whole batch). The same
 * workspace serves both directions. 0 for invalid parameters and for
 * depthwise convolutions; 0 also for a 1x1 stride-1 pad-0 convolution one
 * image at a time. */
size_t sc_conv_workspace_floats(sc_shape in, const sc_conv_params *p, int chunk_images);

/* Floats of workspace the context's provider needs: sc_conv_workspace_floats
 * for the OpenCL provider, 0 for oneDNN (its blocked copies live in the
 * host thread's scratch arena). */
size_t sc_conv_workspace_needed(sc_ctx *ctx, sc_shape in, const sc_conv_params *p,
                                int chunk_images);

/* "GEMM dnnl-sgemm, conv dnnl (oneDNN 2.6.3, avx512_core_bf16)", or "..., conv
 * opencl (im2col + GEMM)": the providers and what runs under them, for the
 * apps' start-up lines and sphere-devices. */
void sc_providers_describe(sc_gemm_provider gemm, sc_conv_provider conv, char *buf, size_t cap);

/* y (N x K x OH x OW) = conv(x (in), w (w_shape, must equal
 * sc_conv_weight_shape)) + bias (K floats when p->bias_term, else ignored).
 * workspace may be NULL when sc_conv_workspace_floats(in, p, 1) is 0; its size
 * decides the chunk (the most images that fit, at least one). x and y must
 * differ. */
sc_status sc_conv_forward(sc_plan *plan, const char *name, const sc_conv_params *p, sc_shape in,
                          cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias, cl_mem y,
                          cl_mem workspace);

/* A PReLU applied to the convolution's output in the same step: oneDNN runs
 * it as a post-op; the OpenCL provider runs one pass over y after the
 * convolution (no copy of the input is kept: inference nets only). */
typedef struct sc_conv_prelu {
    cl_mem slope;       /* NULL: no activation */
    int channel_shared; /* one slope (else one per output channel) */
} sc_conv_prelu;

/* sc_conv_forward followed by y = max(y, 0) + slope * min(y, 0) (act may be
 * NULL). */
sc_status sc_conv_forward_prelu(sc_plan *plan, const char *name, const sc_conv_params *p,
                                sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem bias,
                                const sc_conv_prelu *act, cl_mem y, cl_mem workspace);

/* Channel-blocked activations: nChw16c, oneDNN's layout for its AVX-512
 * kernels (element ((n * C/16 + c/16) * H * W + h * W + w) * 16 + c % 16).
 * An inference net on the oneDNN provider keeps the blobs between its
 * convolutions in that layout (graph/net_layout.c): no reorder around each
 * convolution, and oneDNN's own depthwise kernel. The buffers keep their
 * size (the channels must be a multiple of 16). */
typedef struct sc_conv_layout {
    int in_blocked, out_blocked; /* 0: NCHW */
} sc_conv_layout;

/* sc_conv_forward_prelu (dense or depthwise) with x and/or y channel-blocked
 * as lay says; oneDNN provider only (SC_ERR_UNSUPPORTED otherwise). */
sc_status sc_conv_forward_blocked(sc_plan *plan, const char *name, const sc_conv_params *p,
                                  sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w,
                                  cl_mem bias, const sc_conv_prelu *act, cl_mem y,
                                  const sc_conv_layout *lay);

/* From dy (N x K x OH x OW): dx = beta_dx * dx + dL/dx (dx NULL: skipped),
 * dw += dL/dw (NULL: skipped), db += dL/db (NULL or no bias_term: skipped).
 * x is read only for dw. Same workspace rule as the forward. */
sc_status sc_conv_backward(sc_plan *plan, const char *name, const sc_conv_params *p,
                           sc_shape in, cl_mem x, sc_shape w_shape, cl_mem w, cl_mem dy,
                           cl_mem dx, float beta_dx, cl_mem dw, cl_mem db, cl_mem workspace);

/* sc_op_check_buffer for a tensor of shape s, with the shape appended to the
 * message ("... weight buffer holds 16 floats, needs 135 (weight 5x3x3x3)");
 * shared by the dense-layer launchers. */
sc_status sc_conv_check_tensor(sc_ctx *ctx, const char *name, const char *op, const char *what,
                               cl_mem mem, sc_shape s);

/* db[k] += sum over n, h, w of dy (shape out = N x K x H x W): the bias
 * gradient of every layer whose bias is added per channel (Convolution,
 * DepthwiseConvolution, InnerProduct with out = M x N x 1 x 1). One
 * work-group per channel with a local tree reduction (deterministic). */
sc_status sc_conv_bias_backward(sc_plan *plan, const char *name, sc_shape out, cl_mem dy,
                                cl_mem db);

#endif
