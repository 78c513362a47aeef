/* llm.c-style end-to-end check: ../shared/golden/train_tiny's net, initial
 * weights and batch, 10 SGD steps, compared with the float64 reference run
 * (activations and gradients of step 1, loss/lambda/checksums of every step,
 * momentum history, final forward), for both A-Softmax backward modes. */
#include <stdio.h>

#include "golden_train.h"
#include "sc_test.h"

static void print_failures(const sc_conf_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (!r->pass)
            printf("FAIL %s %s %s: max_rel %.3g > tol %.3g (max_abs %.3g)\n", r->op, r->shape,
                   r->direction, r->max_rel, r->tol, r->max_abs);
    }
}

static void run_mode(const char *trajectory, int exact)
{
    sc_ctx *ctx = sc_test_ctx();
    sc_conf_report rep = {0};
    const char *dir = sc_test_shared("golden/train_tiny");
    sc_assert_ok(ctx, sc_conf_train_golden(ctx, dir, trajectory, exact, &rep));
    print_failures(&rep);
    printf("%s: %zu checks, %zu failed\n", trajectory, rep.n, sc_conf_failures(&rep));
    assert_true(rep.n >= 30);
    assert_int_equal(sc_conf_failures(&rep), 0);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
}

static void test_exact_mode(void **state)
{
    (void)state;
    run_mode("trajectory.txt", 1);
}

static void test_caffe_mode(void **state)
{
    (void)state;
    run_mode("trajectory_caffe_mode.txt", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_mode),
        cmocka_unit_test(test_caffe_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
