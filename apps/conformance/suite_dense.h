/* Conformance of the dense-layer ops: Convolution (cl/ops_conv.h),
 * DepthwiseConvolution (cl/ops_depthwise.h) and InnerProduct
 * (cl/ops_inner_product.h). */
#ifndef SC_SUITE_DENSE_H
#define SC_SUITE_DENSE_H

#include "conformance.h"

/* Convolution under every GEMM provider (oneDNN sgemm, host BLAS, CLBlast; the
 * context's provider is restored afterwards): odd shapes, batch 1, stride 2
 * edges, 1x1 batched and one image at a time, a rectangular kernel with
 * groups, no bias, workspaces smaller than the batch (chunks). Forward
 * against ref_conv_forward; dx (beta 0 and beta 1), dW and db (accumulated
 * onto non-zero values) against central finite differences of it. One
 * timed forward (N8 C64 H28 W24 K128 k3 s1 p1) per provider reports GFLOP/s.
 * Then the argument errors. */
sc_status sc_conf_conv(sc_ctx *ctx, sc_conf_report *rep);

/* DepthwiseConvolution: 3x3 pad 1 stride 1 and 2 (33 channels, batch 1),
 * the MobileFaceNet gdc layer (7x6 kernel over a 7x6 map, no pad), and a
 * Convolution with group == channels == num_output routed to these kernels.
 * Same checks as the convolution (no GEMM, so one provider), plus errors. */
sc_status sc_conf_depthwise(sc_ctx *ctx, sc_conf_report *rep);

/* InnerProduct under both GEMM providers: M1 K7 N3, M4 K33 N10 with and
 * without transpose, a 4-D input M5 K2x3x4 N6 without bias; same checks,
 * plus errors. */
sc_status sc_conf_inner_product(sc_ctx *ctx, sc_conf_report *rep);

#endif
