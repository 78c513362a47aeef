/* Inference folding: convolution with weights folded from BatchNorm and
 * Scale equals the three layers applied by the C reference (the suite), and
 * a folded TEST net plans fewer steps than the same net unfolded while its
 * outputs agree. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf_check.h"
#include "sc_graph.h"
#include "suite_fold.h"

static void test_fold_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_batchnorm_fold, 3);
}

static sc_net *mobilefacenet(sc_ctx *ctx, int no_fold)
{
    sc_net_options o = {.phase = SC_PHASE_TEST, .batch = 2, .no_fold = no_fold};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx,
                                    sc_test_shared("models/mobilefacenet/mobilefacenet_112x96_deploy.prototxt"),
                                    &o, &net));
    sc_assert_ok(ctx, sc_net_load_weights(net,
                                          sc_test_shared("models/mobilefacenet/mobilefacenet_112x96.caffemodel"),
                                          NULL, 0));
    return net;
}

static void test_folded_net_matches_unfolded(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net *folded = mobilefacenet(ctx, 0), *plain = mobilefacenet(ctx, 1);
    size_t steps_f = sc_plan_steps(sc_net_forward_plan(folded));
    size_t steps_p = sc_plan_steps(sc_net_forward_plan(plain));
    printf("forward steps: %zu folded, %zu unfolded\n", steps_f, steps_p);
    assert_true(steps_f + 50 <= steps_p); /* 50 BatchNorm + Scale pairs fold away */
    size_t n = 2 * 3 * 112 * 96;
    float *x = malloc(n * sizeof *x);
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 5);
    sc_conf_fill(&r, x, NULL, n, -1, 1);
    float a[256], b[256];
    sc_net *nets[2] = {folded, plain};
    float *outs[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        sc_assert_ok(ctx, sc_net_write_blob(nets[i], "data", x, n));
        sc_assert_ok(ctx, sc_net_forward(nets[i]));
        sc_assert_ok(ctx, sc_net_read_blob(nets[i], "fc5", outs[i], 256));
    }
    double max_ref = 0, max_diff = 0;
    for (int k = 0; k < 256; k++) {
        max_ref = fmax(max_ref, fabs(b[k]));
        max_diff = fmax(max_diff, fabs(a[k] - b[k]));
    }
    printf("fc5 folded vs unfolded: max |diff| %.3g of max |value| %.3g\n", max_diff, max_ref);
    assert_true(max_diff <= 1e-5 * max_ref); /* rounding only */
    free(x);
    sc_net_destroy(folded);
    sc_net_destroy(plain);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_conformance),
        cmocka_unit_test(test_folded_net_matches_unfolded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
