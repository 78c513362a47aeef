/* Inference folding: convolution with weights folded from BatchNorm and
 * Scale equals the three layers applied by the C reference (the suite), and
 * a folded TEST net plans fewer steps than the same net unfolded while its
 * outputs agree. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf_check.h"
#include "net_check.h"
#include "sc_graph.h"
#include "suite_fold.h"

static void test_fold_conformance(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_batchnorm_fold, 3);
}

static void test_folded_net_matches_unfolded(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net_options o = {.phase = SC_PHASE_TEST, .batch = 2};
    sc_net *folded = sc_test_mobilefacenet(ctx, &o);
    o.no_fold = 1;
    sc_net *plain = sc_test_mobilefacenet(ctx, &o);
    size_t steps_f = sc_plan_steps(sc_net_forward_plan(folded));
    size_t steps_p = sc_plan_steps(sc_net_forward_plan(plain));
    printf("forward steps: %zu folded, %zu unfolded\n", steps_f, steps_p);
    assert_true(steps_f + 50 <= steps_p); /* 50 BatchNorm + Scale pairs fold away */
    double max_ref, max_diff = sc_test_outputs_diff(ctx, folded, plain, "fc5", 5, &max_ref);
    printf("fc5 folded vs unfolded: max |diff| %.3g of max |value| %.3g\n", max_diff, max_ref);
    assert_true(max_diff <= 1e-5 * max_ref); /* rounding only */
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
