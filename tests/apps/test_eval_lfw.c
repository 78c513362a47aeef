/* sphere-eval with the pretrained MobileFaceNet on the 7,701 reference crops
 * of LFW's pairs.txt gives the reference per-fold accuracies
 * (../shared/models/mobilefacenet/README.md) exactly, and 98.88% on average.
 *
 * It is the whole LFW protocol (15,402 forward images): minutes in the
 * Release build, where it runs; the sanitizer build (about ten times
 * slower) says so and skips it: the same code runs under ASan in
 * apps/eval_shapes and apps/extract on subsets of the pairs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_test.h"

#define MFN "models/mobilefacenet/"

#ifndef SPHERECL_SANITIZE_BUILD

static const char *k_reference_acc =
    "ACC    98.17  98.67  98.50  98.83  98.83  99.50  98.50  98.67  99.83  99.33  98.88";

static void test_mobilefacenet_lfw(void **state)
{
    (void)state;
    char net[4096], weights[4096], pairs[4096], root[4096], cmd[20000];
    snprintf(net, sizeof net, "%s", sc_test_shared(MFN "mobilefacenet_112x96_deploy.prototxt"));
    snprintf(weights, sizeof weights, "%s", sc_test_shared(MFN "mobilefacenet_112x96.caffemodel"));
    snprintf(pairs, sizeof pairs, "%s", sc_test_shared("data/lfw/pairs.txt"));
    snprintf(root, sizeof root, "%s", sc_test_shared("data/lfw/reference-aligned-112x96"));
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-eval' --device %s --net '%s' --weights '%s' --pairs '%s' --root '%s' "
             "--rgb --batch 64",
             sc_test_device_selector(), net, weights, pairs, root);
    static char out[65536], err[65536];
    int rc = sc_test_run(cmd, out, sizeof out, err, sizeof err);
    printf("%s%s", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, k_reference_acc));
    assert_non_null(strstr(out, "LFW 10-fold accuracy: 98.88%"));
}
#endif

int main(void)
{
#ifdef SPHERECL_SANITIZE_BUILD
    fprintf(stderr,
            "\n*** apps/eval_lfw: the full LFW evaluation (15,402 forward passes) takes over an "
            "hour under ASan;\n*** it runs in the Release build (scripts/test.sh runs both). "
            "Skipped here.\n\n");
    return 0;
#else
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mobilefacenet_lfw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
