/* Inference layouts (graph/net_layout.c): a TEST net on the oneDNN provider
 * keeps the blobs between its convolutions channel-blocked, and computes
 * what the same net computes in NCHW; outputs and inputs stay NCHW, an
 * intermediate blocked blob refuses a plain read, and nets built to read
 * intermediate blobs keep everything NCHW. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_check.h"

/* MobileFaceNet with its trained weights (../shared): stride-1 and stride-2
 * depthwise layers, residual Eltwise sums, PReLU and linear bottlenecks, a
 * 7x6 global depthwise layer. */
static sc_net *mobilefacenet(sc_ctx *ctx, int plain_layout, int no_reuse)
{
    sc_net_options o = {.phase = SC_PHASE_TEST, .batch = 2, .plain_layout = plain_layout,
                        .no_reuse = no_reuse};
    return sc_test_mobilefacenet(ctx, &o);
}

static int blocked(sc_net *net, const char *blob)
{
    sc_blob_info b;
    sc_assert_ok(sc_net_ctx(net), sc_net_blob(net, blob, &b));
    return b.blocked;
}

static void test_blocked_net_matches_plain(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_ctx_set_conv_provider(ctx, SC_CONV_DNNL);
    sc_net *fast = mobilefacenet(ctx, 0, 0), *plain = mobilefacenet(ctx, 1, 0);
    assert_true(blocked(fast, "block3/dw") && blocked(fast, "block5/dw") &&
                blocked(fast, "block6/project") && blocked(fast, "block6"));
    assert_false(blocked(fast, "data") || blocked(fast, "fc5"));
    assert_false(blocked(plain, "block3/dw") || blocked(plain, "block6"));
    double max_ref, max_diff = sc_test_outputs_diff(ctx, fast, plain, "fc5", 11, &max_ref);
    printf("fc5 blocked vs NCHW: max |diff| %.3g of max |value| %.3g\n", max_diff, max_ref);
    assert_true(max_ref > 0);
    assert_true(max_diff <= 1e-5 * max_ref); /* rounding only: the same sums, other order */
    /* an intermediate blocked blob: a clear error, not scrambled values */
    float *mid = malloc(2 * 128 * 14 * 12 * sizeof *mid);
    assert_int_equal(sc_net_read_blob(fast, "block6", mid, 2 * 128 * 14 * 12), SC_ERR_ARG);
    printf("reading block6: %s\n", sc_ctx_message(ctx));
    assert_non_null(strstr(sc_ctx_message(ctx), "channel-blocked"));
    free(mid);
    sc_net_destroy(fast);
    sc_net_destroy(plain);
    sc_ctx_destroy(ctx);
}

static void test_readable_nets_stay_plain(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_ctx_set_conv_provider(ctx, SC_CONV_DNNL);
    sc_net *net = mobilefacenet(ctx, 0, 1); /* no_reuse: the caller reads intermediate blobs */
    assert_false(blocked(net, "block3/dw") || blocked(net, "block6"));
    sc_net_destroy(net);
    sc_ctx_set_conv_provider(ctx, SC_CONV_OPENCL); /* blocked is the oneDNN provider's */
    net = mobilefacenet(ctx, 0, 0);
    assert_false(blocked(net, "block3/dw") || blocked(net, "block6"));
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_net_matches_plain),
        cmocka_unit_test(test_readable_nets_stay_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
