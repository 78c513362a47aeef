/* The convolution conformance suites (forward, backward-data with beta 0
 * and 1, backward-filter and bias accumulated, fused PReLU, the timed
 * forward, argument errors) under each convolution provider, selected the
 * way users select it (SPHERECL_CONV), within the suites' tolerances.
 * Set SPHERECL_CONF_VERBOSE=1 to print every row. */
#include "conf_check.h"
#include "suite_dense.h"

/* Rows per run: 7 cases with bias x 5 rows + 2 without x 4 = 43. */
#define CONV_CASE_ROWS 43
/* 4 cases: 3 with bias x 5 rows + 1 without x 4, 2 fused-PReLU rows */
#define DW_ROWS (3 * 5 + 4 + 2)

static void test_conv_suite_dnnl(void **state)
{
    (void)state;
    /* one run of every case, 3 fused-PReLU rows, 1 timed, 6 error rows (no
     * workspace check: oneDNN takes none) */
    sc_test_run_suite_with_conv(sc_conf_conv, "dnnl", CONV_CASE_ROWS + 3 + 1 + 6,
                                CONV_CASE_ROWS + 3 + 1);
}

static void test_conv_suite_opencl(void **state)
{
    (void)state;
    /* every case under both GEMM providers, 3 fused-PReLU rows, 2 timed, 7 errors */
    sc_test_run_suite_with_conv(sc_conf_conv, "opencl", 2 * CONV_CASE_ROWS + 3 + 2 + 7,
                                2 * CONV_CASE_ROWS + 3 + 2);
}

static void test_depthwise_suite_dnnl(void **state)
{
    (void)state;
    sc_test_run_suite_with_conv(sc_conf_depthwise, "dnnl", DW_ROWS + 5, DW_ROWS);
}

static void test_depthwise_suite_opencl(void **state)
{
    (void)state;
    sc_test_run_suite_with_conv(sc_conf_depthwise, "opencl", DW_ROWS + 5, DW_ROWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_suite_dnnl),
        cmocka_unit_test(test_conv_suite_opencl),
        cmocka_unit_test(test_depthwise_suite_dnnl),
        cmocka_unit_test(test_depthwise_suite_opencl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
