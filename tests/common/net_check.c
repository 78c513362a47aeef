/* See net_check.h. */
#include "sc_test.h"

#include <math.h>
#include <stdlib.h>

#include "conformance.h"
#include "net_check.h"

sc_net *sc_test_mobilefacenet(sc_ctx *ctx, const sc_net_options *opts)
{
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx,
                                    sc_test_shared("models/mobilefacenet/mobilefacenet_112x96_deploy.prototxt"),
                                    opts, &net));
    sc_assert_ok(ctx, sc_net_load_weights(net,
                                          sc_test_shared("models/mobilefacenet/mobilefacenet_112x96.caffemodel"),
                                          NULL, 0));
    return net;
}

/* The net's `out` blob after a forward on x (n floats into "data"). */
static float *forward_output(sc_ctx *ctx, sc_net *net, const float *x, size_t n, const char *out,
                             size_t *count)
{
    sc_blob_info info;
    sc_assert_ok(ctx, sc_net_blob(net, out, &info));
    float *y = malloc(info.count * sizeof *y);
    assert_non_null(y);
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", x, n));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_assert_ok(ctx, sc_net_read_blob(net, out, y, info.count));
    *count = info.count;
    return y;
}

double sc_test_outputs_diff(sc_ctx *ctx, sc_net *a, sc_net *b, const char *out, uint64_t seed,
                            double *max_ref)
{
    sc_blob_info in;
    sc_assert_ok(ctx, sc_net_blob(a, "data", &in));
    float *x = malloc(in.count * sizeof *x);
    assert_non_null(x);
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    sc_conf_fill(&r, x, NULL, in.count, -1, 1);
    size_t na, nb;
    float *ya = forward_output(ctx, a, x, in.count, out, &na);
    float *yb = forward_output(ctx, b, x, in.count, out, &nb);
    assert_int_equal(na, nb);
    double diff = 0;
    *max_ref = 0;
    for (size_t k = 0; k < na; k++) {
        *max_ref = fmax(*max_ref, fabs(yb[k]));
        diff = fmax(diff, fabs(ya[k] - yb[k]));
    }
    free(x);
    free(ya);
    free(yb);
    return diff;
}
