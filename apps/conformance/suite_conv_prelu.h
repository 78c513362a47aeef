/* Conformance of a convolution with its PReLU fused (sc_conv_forward_prelu,
 * sc_depthwise_forward_prelu): what an inference net runs when a PReLU
 * follows a convolution (graph/net_fold.c). Part of the conv and depthwise
 * suites, on the context's convolution provider. */
#ifndef SC_SUITE_CONV_PRELU_H
#define SC_SUITE_CONV_PRELU_H

#include "conformance.h"

/* Dense convolutions (per-channel and shared slope, groups) or, with
 * depthwise set, depthwise ones: one "forward+PReLU" row each, against
 * ref_conv_forward followed by the PReLU in double. */
sc_status sc_conf_conv_prelu_rows(sc_ctx *ctx, sc_conf_report *rep, int depthwise);

#endif
