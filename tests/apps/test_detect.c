/* sphere-detect and the MTCNN detector of apps/common (Step 6):
 *  - the two test photos: test1's two men and test2's speaker are found,
 *    with the boxes, landmarks and scores that bench/mtcnn_opencv.py (an
 *    independent port running the same caffemodels through OpenCV's dnn)
 *    finds, and boxes overlapping those read off the photos by eye;
 *  - PNet is built once and grown only for a photo whose first pyramid level
 *    is larger than any before, never per photo or per scale;
 *  - 200 LFW photos (the first 200 of lfw_landmark_150px.txt): every face is
 *    found, and the mean over the photos of (mean distance of the 5
 *    landmarks to the reference) / (the reference's inter-ocular distance)
 *    is at most 5%;
 *  - unreadable photos are reported, skipped and counted, a photo without a
 *    face is listed, --draw writes a PNG, and bad command lines exit 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_write.h"
#include "mtcnn.h"
#include "sc_test.h"

#define LFW_PHOTOS 200
#define OUT_CAP (1 << 20)

typedef struct face_ref {
    const char *photo;
    float points[10], box[4], score;
    int hand[3]; /* the box read by eye (test_mtcnn.c): corner x, y and side */
} face_ref;

/* bench/mtcnn_opencv.py --all-faces on test1.jpg and test2.jpg */
static const face_ref k_faces[] = {
    {"test1.jpg",
     {112.45f, 47.17f, 139.93f, 50.97f, 126.90f, 64.77f, 107.63f, 76.01f, 136.18f, 79.99f},
     {89.27f, 19.16f, 148.84f, 100.67f}, 0.99999f, {82, 18, 82}},
    {"test1.jpg",
     {310.05f, 120.69f, 336.26f, 117.16f, 322.07f, 135.31f, 315.33f, 149.90f, 339.54f, 147.21f},
     {296.48f, 88.64f, 359.96f, 168.04f}, 0.99995f, {290, 78, 84}},
    {"test2.jpg",
     {216.34f, 158.84f, 273.43f, 138.38f, 242.43f, 187.18f, 239.86f, 225.83f, 290.30f, 207.77f},
     {194.75f, 75.97f, 342.13f, 267.35f}, 0.99990f, {178, 66, 206}},
};

static double iou(const float a[4], const int hand[3])
{
    double bx1 = hand[0], by1 = hand[1], bx2 = hand[0] + hand[2], by2 = hand[1] + hand[2];
    double w = fmin(a[2], bx2) - fmax(a[0], bx1), h = fmin(a[3], by2) - fmax(a[1], by1);
    double inter = w > 0 && h > 0 ? w * h : 0;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + hand[2] * hand[2] - inter);
}

static sc_image load(const char *rel)
{
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(sc_test_shared(rel), 3, &img, &err));
    return img;
}

static size_t detect(sc_ctx *ctx, sc_mtcnn *det, const char *rel, sc_face **faces)
{
    sc_image img = load(rel);
    size_t n;
    sc_assert_ok(ctx, sc_mtcnn_detect(det, &img, rel, faces, &n));
    sc_image_free(&img);
    return n;
}

static void check_face(const sc_face *f, const face_ref *r)
{
    printf("  %s: box %.2f %.2f %.2f %.2f (IoU with the box read by eye %.2f), score %.5f\n",
           r->photo, f->box[0], f->box[1], f->box[2], f->box[3], iou(f->box, r->hand), f->score);
    for (int j = 0; j < 10; j++)
        assert_float_equal(f->points[j], r->points[j], 0.02);
    for (int j = 0; j < 4; j++)
        assert_float_equal(f->box[j], r->box[j], 0.02);
    assert_float_equal(f->score, r->score, 1e-4);
    assert_true(iou(f->box, r->hand) > 0.5);
}

/* test1 then test2 (taller first level: PNet grows once), then both again
 * and an LFW photo (smaller): no further build. */
static void test_photos(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_mtcnn *det = NULL;
    sc_assert_ok(ctx, sc_mtcnn_create(ctx, sc_test_shared("models/mtcnn"), NULL, &det));
    for (int round = 0; round < 2; round++) {
        sc_face *faces;
        size_t n = detect(ctx, det, "models/mtcnn/test1.jpg", &faces);
        assert_int_equal(n, 2);
        check_face(&faces[0], &k_faces[0]);
        check_face(&faces[1], &k_faces[1]);
        assert_int_equal(sc_mtcnn_nearest_centre(faces, n, 450, 344), 1); /* the right man */
        free(faces);
        assert_int_equal(sc_mtcnn_pnet_builds(det), round ? 2 : 1);
        n = detect(ctx, det, "models/mtcnn/test2.jpg", &faces);
        assert_int_equal(n, 1);
        check_face(&faces[0], &k_faces[2]);
        free(faces);
        assert_int_equal(sc_mtcnn_pnet_builds(det), 2);
    }
    sc_face *faces;
    assert_int_equal(detect(ctx, det, "data/lfw/lfw-150px/Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
                            &faces),
                     1);
    free(faces);
    assert_int_equal(sc_mtcnn_pnet_builds(det), 2);
    sc_mtcnn_destroy(det);
    sc_ctx_destroy(ctx);
}

/* ---- the app */

static int run_detect(const char *args, char *out, char *err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-detect' --device %s --models '%s' %s",
             sc_test_device_selector(), sc_test_shared("models/mtcnn"), args);
    int rc = sc_test_run(cmd, out, OUT_CAP, err, OUT_CAP);
    printf("sphere-detect %s -> exit %d\n%s", args, rc, err);
    return rc;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(OUT_CAP, 1);
    assert_non_null(text);
    size_t n = fread(text, 1, OUT_CAP - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

typedef struct lfw_ref {
    char name[256];
    float p[10];
} lfw_ref;

/* Writes the first n photo lines of lfw_landmark_150px.txt (a landmark file
 * is a valid --list) and keeps their landmarks. */
static void lfw_subset(const char *list, lfw_ref *refs, int n)
{
    FILE *in = fopen(sc_test_shared("data/lfw/lfw_landmark_150px.txt"), "r");
    FILE *out = fopen(list, "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[1024];
    int k = 0;
    while (k < n && fgets(line, sizeof line, in)) {
        if (line[0] == '#')
            continue;
        fputs(line, out);
        lfw_ref *r = &refs[k++];
        int got = sscanf(line, "%255[^\t]\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f", r->name,
                         &r->p[0], &r->p[1], &r->p[2], &r->p[3], &r->p[4], &r->p[5], &r->p[6],
                         &r->p[7], &r->p[8], &r->p[9]);
        assert_int_equal(got, 11);
    }
    assert_int_equal(k, n);
    fclose(in);
    fclose(out);
}

/* The normalised error of one output line against its reference. */
static double line_error(const char *line, const lfw_ref *r)
{
    char name[256];
    float p[10];
    int got = sscanf(line, "%255[^\t]\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f\t%f", name, &p[0],
                     &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &p[7], &p[8], &p[9]);
    assert_int_equal(got, 11);
    assert_string_equal(name, r->name);
    double d = 0;
    for (int j = 0; j < 5; j++)
        d += hypot(p[2 * j] - r->p[2 * j], p[2 * j + 1] - r->p[2 * j + 1]) / 5;
    return d / hypot(r->p[0] - r->p[2], r->p[1] - r->p[3]);
}

static void test_lfw_landmarks(void **state)
{
    (void)state;
    static lfw_ref refs[LFW_PHOTOS];
    char list[4096], result[4096]; /* copies: the helpers' paths live in a small ring */
    snprintf(list, sizeof list, "%s", sc_test_tmp("detect-lfw.txt"));
    snprintf(result, sizeof result, "%s", sc_test_tmp("detect-lfw-out.txt"));
    lfw_subset(list, refs, LFW_PHOTOS);
    char args[8192], *out = malloc(OUT_CAP), *err = malloc(OUT_CAP);
    snprintf(args, sizeof args, "--list '%s' --root '%s' --out '%s'", list,
             sc_test_shared("data/lfw/lfw-150px"), result);
    assert_int_equal(run_detect(args, out, err), 0);
    char *text = read_text(result), *save = NULL;
    double sum = 0, worst = 0;
    int k = 0, worst_k = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "# no face", 9))
            fail_msg("no face found: %s", line + 10);
        if (line[0] == '#')
            continue;
        assert_true(k < LFW_PHOTOS);
        double e = line_error(line, &refs[k]);
        sum += e;
        worst_k = e > worst ? k : worst_k;
        worst = fmax(worst, e);
        k++;
    }
    printf("%d LFW photos, every face found: landmark error %.2f%% of the inter-ocular distance "
           "on average, worst %.2f%% (%s)\n",
           k, 100 * sum / k, 100 * worst, refs[worst_k].name);
    assert_int_equal(k, LFW_PHOTOS);
    assert_true(sum / k <= 0.05);
    assert_non_null(strstr(out, "photos read: 200, "));
    free(text);
    free(out);
    free(err);
}

/* A 64 x 64 grey square: a photo without a face. */
static void write_blank(const char *path)
{
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&img, 64, 64, 3, &err));
    memset(img.px, 128, 64 * 64 * 3);
    sc_assert_ok_err(&err, sc_image_write_png(path, &img, &err));
    sc_image_free(&img);
}

static void test_bad_and_blank_photos(void **state)
{
    (void)state;
    char dir[4096], path[4096], args[8192], draw[4096];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("detect-mixed"));
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/blank.png", dir);
    write_blank(path);
    snprintf(path, sizeof path, "%s/notes.jpg", dir); /* not an image at all */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a JPEG\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/list.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    /* names relative to --root, or absolute */
    fprintf(f, "# a comment\n\ntest2.jpg\nmissing.jpg\n%s/notes.jpg\n%s/blank.png\n", dir, dir);
    fclose(f);
    snprintf(draw, sizeof draw, "%s/drawn", dir);
    snprintf(args, sizeof args, "--list '%s' --root '%s' --draw '%s'", path,
             sc_test_shared("models/mtcnn"), draw);
    char *out = malloc(OUT_CAP), *err = malloc(OUT_CAP);
    assert_int_equal(run_detect(args, out, err), 0);
    assert_non_null(strstr(out, "\ntest2.jpg\t216.34\t158.84\t")); /* the speaker's left eye */
    assert_non_null(strstr(out, "# unreadable\tmissing.jpg"));
    assert_non_null(strstr(out, "notes.jpg\n"));
    assert_non_null(strstr(out, "# no face\t"));
    assert_non_null(strstr(err, "missing.jpg"));
    assert_non_null(strstr(err, "notes.jpg"));
    assert_non_null(
        strstr(err, "photos read: 2, faces: 1, photos without a face: 1, unreadable: 2"));
    /* the drawing: the photo's size, the chosen box's top edge in green */
    char png[8192];
    snprintf(png, sizeof png, "%s/test2.png", draw);
    sc_image img = {0};
    sc_error e = {0};
    sc_assert_ok_err(&e, sc_image_load(png, 3, &img, &e));
    assert_true(img.w == 450 && img.h == 431);
    const unsigned char *px = img.px + ((size_t)76 * img.w + 260) * 3; /* (260, 76) */
    assert_true(px[0] == 0 && px[1] == 220 && px[2] == 0);
    sc_image_free(&img);
    free(out);
    free(err);
}

static void test_usage(void **state)
{
    (void)state;
    char *out = malloc(OUT_CAP), *err = malloc(OUT_CAP), args[8192], photo[4096];
    /* a copy: sc_test_shared's paths live in a small ring that the runs reuse */
    snprintf(photo, sizeof photo, "%s", sc_test_shared("models/mtcnn/test1.jpg"));
    assert_int_equal(run_detect("", out, err), 2);
    assert_non_null(strstr(err, "exactly one of --image, --list and --dir"));
    snprintf(args, sizeof args, "--image '%s' --dir .", photo);
    assert_int_equal(run_detect(args, out, err), 2);
    snprintf(args, sizeof args, "--image '%s' --thresholds 0.6,0.7", photo);
    assert_int_equal(run_detect(args, out, err), 2);
    assert_non_null(strstr(err, "--thresholds: '0.6,0.7'"));
    snprintf(args, sizeof args, "--image '%s' --thresholds 0.6,1.7,0.9", photo);
    assert_int_equal(run_detect(args, out, err), 2);
    assert_int_equal(run_detect("--image no-such-photo.jpg", out, err), 2);
    assert_non_null(strstr(err, "no-such-photo.jpg"));
    const char *empty = sc_test_tmp("detect-empty-dir");
    mkdir(empty, 0755);
    snprintf(args, sizeof args, "--dir '%s'", empty);
    assert_int_equal(run_detect(args, out, err), 2);
    assert_non_null(strstr(err, "no photos"));
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'{APPS}/sphere-detect' --device %s --models /no/such/dir --image '%s'",
             sc_test_device_selector(), photo);
    assert_int_equal(sc_test_run(cmd, out, OUT_CAP, err, OUT_CAP), 2);
    assert_non_null(strstr(err, "/no/such/dir/det1.prototxt"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_photos),
        cmocka_unit_test(test_lfw_landmarks),
        cmocka_unit_test(test_bad_and_blank_photos),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
