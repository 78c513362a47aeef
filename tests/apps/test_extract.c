/* sphere-extract writes what sphere-eval --features reads: on a subset of
 * pairs.txt (10 folds x 2 + 2 pairs) with MobileFaceNet, evaluating the net
 * directly and evaluating its features written as text and as .npy give the
 * same folds, thresholds and accuracy, line for line (text rows print %.9g,
 * which round-trips a float exactly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"
#include "sc_test.h"

#define PER_FOLD 2
#define MFN "models/mobilefacenet/"
#define ALIGNED "data/lfw/reference-aligned-112x96"

static char g_net[4096], g_weights[4096], g_root[4096];

/* The table and the summary line of a sphere-eval run. */
static void eval(const char *args, char *table, size_t cap)
{
    static char out[65536], err[65536];
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-eval' --device %s --rgb %s", sc_test_device_selector(),
             args);
    int rc = sc_test_run(cmd, out, sizeof out, err, sizeof err);
    printf("$ sphere-eval %s -> %d\n%s%s", args, rc, out, err);
    assert_int_equal(rc, 0);
    const char *p = strstr(out, "\nfold ");
    assert_non_null(p);
    const char *end = strstr(p, "LFW 10-fold accuracy:");
    assert_non_null(end);
    end += strcspn(end, "\n");
    snprintf(table, cap, "%.*s", (int)(end - p), p);
}

static void extract(const char *list, const char *out)
{
    static char o[65536], e[65536];
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-extract' --device %s --net '%s' --weights '%s' --list '%s' --root '%s' "
             "--flip --rgb --out '%s'",
             sc_test_device_selector(), g_net, g_weights, list, g_root, out);
    int rc = sc_test_run(cmd, o, sizeof o, e, sizeof e);
    printf("$ sphere-extract --out %s -> %d\n%s%s", out, rc, o, e);
    assert_int_equal(rc, 0);
}

static void test_features_round_trip(void **state)
{
    (void)state;
    char pairs[4096], list[4096], txt[4096], npy[4096], args[16384];
    snprintf(pairs, sizeof pairs, "%s", sc_test_tmp("extract_pairs.txt"));
    snprintf(list, sizeof list, "%s", sc_test_tmp("extract_list.txt"));
    snprintf(txt, sizeof txt, "%s", sc_test_tmp("extract_features.txt"));
    snprintf(npy, sizeof npy, "%s", sc_test_tmp("extract_features.npy"));
    sc_test_write_pairs_subset(pairs, PER_FOLD, list);
    static char direct[8192], from_txt[8192], from_npy[8192];
    snprintf(args, sizeof args, "--net '%s' --weights '%s' --pairs '%s' --root '%s'", g_net,
             g_weights, pairs, g_root);
    eval(args, direct, sizeof direct);
    extract(list, txt);
    extract(list, npy);
    snprintf(args, sizeof args, "--pairs '%s' --features '%s'", pairs, txt);
    eval(args, from_txt, sizeof from_txt);
    snprintf(args, sizeof args, "--pairs '%s' --features '%s'", pairs, npy);
    eval(args, from_npy, sizeof from_npy);
    assert_string_equal(direct, from_txt);
    assert_string_equal(direct, from_npy);
    /* a feature file missing an image is refused, naming it */
    static char out[65536], err[65536];
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "head -n 5 '%s' > '%s.short' && '{APPS}/sphere-eval' --pairs '%s' "
             "--features '%s.short'", txt, txt, pairs, txt);
    assert_int_equal(sc_test_run(cmd, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "has no features for"));
}

/* A blob between two convolutions of an inference net is held channel-blocked
 * on the oneDNN provider (graph/net_layout.c): extracting it is refused with
 * a message naming it, rather than written out in the wrong order. */
static void test_blocked_blob_refused(void **state)
{
    (void)state;
    if (strcmp(sc_test_device_selector(), "cpu")) {
        printf("skipped: the channel-blocked layout is the CPU devices' oneDNN provider's\n");
        return;
    }
    char list[4096], cmd[16384];
    static char out[65536], err[65536];
    snprintf(list, sizeof list, "%s", sc_test_tmp("extract_one.txt"));
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "Aaron_Eckhart/Aaron_Eckhart_0001.jpg 0\n");
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-extract' --device cpu --net '%s' --weights '%s' --list '%s' "
             "--root '%s' --rgb --blob block6 --out '%s'",
             g_net, g_weights, list, g_root, sc_test_tmp("extract_block6.txt"));
    int rc = sc_test_run(cmd, out, sizeof out, err, sizeof err);
    printf("$ sphere-extract --blob block6 -> %d\n%s%s", rc, out, err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "feature blob 'block6'"));
    assert_non_null(strstr(err, "channel-blocked"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_net, sizeof g_net, "%s", sc_test_shared(MFN "mobilefacenet_112x96_deploy.prototxt"));
    snprintf(g_weights, sizeof g_weights, "%s", sc_test_shared(MFN "mobilefacenet_112x96.caffemodel"));
    snprintf(g_root, sizeof g_root, "%s", sc_test_shared(ALIGNED));
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_round_trip),
        cmocka_unit_test(test_blocked_blob_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
