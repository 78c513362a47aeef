/* Net-level checks shared by the tests: the pretrained MobileFaceNet
 * (../shared) and the largest difference between two nets' outputs on one
 * input. */
#ifndef SC_NET_CHECK_H
#define SC_NET_CHECK_H

#include "sc_graph.h"

/* MobileFaceNet 112x96 with its trained weights, built with the options
 * given (phase, batch, ...). Fails the test when it cannot. */
sc_net *sc_test_mobilefacenet(sc_ctx *ctx, const sc_net_options *opts);

/* Writes the same random input (uniform in [-1, 1], from seed) into the
 * "data" blob of both nets, runs both forwards and returns the largest
 * |a - b| over their blob `out`; *max_ref receives the largest |b|. */
double sc_test_outputs_diff(sc_ctx *ctx, sc_net *a, sc_net *b, const char *out, uint64_t seed,
                            double *max_ref);

#endif
