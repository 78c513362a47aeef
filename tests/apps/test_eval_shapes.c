/* sphere-eval on images whose size differs from the net's input (MobileFaceNet,
 * 112x96): photos larger (the 150x150 LFW originals) and smaller (56x48 crops).
 *  - by default each is a clear error naming the image and both sizes, exit 2,
 *    and nothing is read past a buffer (the sanitizer build runs this too);
 *  - with --resize the result equals evaluating crops resized beforehand and
 *    stored losslessly (PNG): same per-fold accuracies and thresholds.
 * A subset of pairs.txt (10 folds x 3 + 3 pairs) keeps it short. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sc_common.h"
#include "sc_test.h"

#define PER_FOLD 3
#define MFN "models/mobilefacenet/"

/* A subset of pairs.txt, loaded back. */
static void write_subset(const char *dst, sc_lfw_pairs *sub)
{
    sc_error err = {0};
    sc_test_write_pairs_subset(dst, PER_FOLD, NULL);
    sc_assert_ok_err(&err, sc_lfw_pairs_load(dst, sub, &err));
}

/* For every image of the pairs: src_root/<name>/<name>_NNNN.<src_ext>, resized
 * to w x h, written as PNG under dst_root. */
static void resize_images(const sc_lfw_pairs *pairs, const char *src_root, const char *src_ext,
                          const char *dst_root, int w, int h)
{
    mkdir(dst_root, 0755);
    for (size_t i = 0; i < pairs->count; i++)
        for (int k = 0; k < 2; k++) {
            const char *name = k ? pairs->items[i].name2 : pairs->items[i].name1;
            int n = k ? pairs->items[i].n2 : pairs->items[i].n1;
            char src[4096], dst[4096], dir[4096];
            sc_error err = {0};
            sc_assert_ok_err(&err, sc_lfw_image_path(src_root, name, n, src_ext, src, sizeof src,
                                                     &err));
            sc_assert_ok_err(&err, sc_lfw_image_path(dst_root, name, n, "png", dst, sizeof dst,
                                                     &err));
            snprintf(dir, sizeof dir, "%s/%s", dst_root, name);
            mkdir(dir, 0755);
            sc_image img = {0}, out = {0};
            sc_assert_ok_err(&err, sc_image_load(src, 3, &img, &err));
            sc_assert_ok_err(&err, sc_image_resize_bilinear(&img, w, h, &out, &err));
            sc_assert_ok_err(&err, sc_image_write_png(dst, &out, &err));
            sc_image_free(&img);
            sc_image_free(&out);
        }
}

static int eval(const char *pairs, const char *root, const char *ext, const char *extra,
                char *out, size_t cap, char *err, size_t err_cap)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-eval' --device %s --net '%s' --weights '%s' --pairs '%s' "
             "--root '%s' --ext %s --rgb --batch 16 %s",
             sc_test_device_selector(), sc_test_shared(MFN "mobilefacenet_112x96_deploy.prototxt"),
             sc_test_shared(MFN "mobilefacenet_112x96.caffemodel"), pairs, root, ext, extra);
    int rc = sc_test_run(cmd, out, cap, err, err_cap);
    printf("$ sphere-eval --root %s --ext %s %s -> exit %d\n%s%s", root, ext, extra, rc, out, err);
    return rc;
}

/* The per-fold table and the summary line of a successful run. */
static const char *results(const char *out)
{
    static char buf[2][8192];
    static int k;
    const char *p = strstr(out, "\nfold ");
    assert_non_null(p);
    const char *end = strstr(p, "LFW 10-fold accuracy:");
    assert_non_null(end);
    end += strcspn(end, "\n");
    char *b = buf[k++ % 2];
    snprintf(b, sizeof buf[0], "%.*s", (int)(end - p), p);
    return b;
}

static void check_size_case(const char *pairs, const char *root, const char *ext,
                            const char *prepared_root, const char *image_size)
{
    static char out[65536], err[65536], out2[65536];
    int rc = eval(pairs, root, ext, "", out, sizeof out, err, sizeof err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, image_size));
    assert_non_null(strstr(err, "96x112"));
    assert_null(strstr(out, "verification accuracy"));
    assert_int_equal(eval(pairs, root, ext, "--resize", out, sizeof out, err, sizeof err), 0);
    assert_int_equal(eval(pairs, prepared_root, "png", "", out2, sizeof out2, err, sizeof err), 0);
    /* Same pixels in, same features out: the printed folds (accuracy to
     * 0.01%, threshold to 1e-4) must agree exactly. */
    assert_string_equal(results(out), results(out2));
}

static void test_larger_and_smaller_images(void **state)
{
    (void)state;
    char pairs[4096], big[4096], small[4096], small_up[4096];
    snprintf(pairs, sizeof pairs, "%s", sc_test_tmp("eval_shapes_pairs.txt"));
    sc_lfw_pairs sub = {0};
    write_subset(pairs, &sub);
    const char *lfw150 = sc_test_shared("data/lfw/lfw-150px");
    char lfw150_copy[4096], aligned[4096];
    snprintf(lfw150_copy, sizeof lfw150_copy, "%s", lfw150);
    snprintf(aligned, sizeof aligned, "%s", sc_test_shared("data/lfw/reference-aligned-112x96"));
    snprintf(big, sizeof big, "%s", sc_test_tmp("eval_shapes_150_to_112x96"));
    snprintf(small, sizeof small, "%s", sc_test_tmp("eval_shapes_56x48"));
    snprintf(small_up, sizeof small_up, "%s", sc_test_tmp("eval_shapes_56x48_to_112x96"));
    resize_images(&sub, lfw150_copy, "jpg", big, 96, 112);
    resize_images(&sub, aligned, "jpg", small, 48, 56);
    resize_images(&sub, small, "png", small_up, 96, 112);
    sc_lfw_pairs_free(&sub);

    check_size_case(pairs, lfw150_copy, "jpg", big, "150x150");
    check_size_case(pairs, small, "png", small_up, "48x56");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_larger_and_smaller_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
