/* The MTCNN detector nets (../shared/models/mtcnn det1..det3, legacy
 * `input_dim` prototxts with their caffemodels) load and run forward; ONet
 * scores the faces of the two test photos as faces (> 0.9) and a patch of
 * wall as not a face. Face boxes were read off the photos by eye (square,
 * brow to chin); MTCNN's weights expect transposed RGB input scaled by
 * (x - 127.5) * 0.0078125 (see the shared README). */
#include <stdio.h>
#include <stdlib.h>

#include "image.h"
#include "sc_graph.h"
#include "sc_test.h"

typedef struct crop {
    const char *photo;
    int x, y, size;
    int is_face;
} crop;

static const crop k_crops[] = {
    {"models/mtcnn/test1.jpg", 82, 18, 82, 1},   /* left man */
    {"models/mtcnn/test1.jpg", 290, 78, 84, 1},  /* right man */
    {"models/mtcnn/test2.jpg", 178, 66, 206, 1}, /* the speaker */
    {"models/mtcnn/test1.jpg", 380, 180, 60, 0}, /* wall */
};

/* Bilinear sample of channel c at (x, y) in pixel-centre coordinates. */
static float sample(const sc_image *img, double x, double y, int c)
{
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x > img->w - 1) x = img->w - 1;
    if (y > img->h - 1) y = img->h - 1;
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < img->w ? x0 + 1 : x0, y1 = y0 + 1 < img->h ? y0 + 1 : y0;
    double fx = x - x0, fy = y - y0;
    const unsigned char *p = img->px;
    double a = p[(y0 * img->w + x0) * 3 + c], b = p[(y0 * img->w + x1) * 3 + c];
    double d = p[(y1 * img->w + x0) * 3 + c], e = p[(y1 * img->w + x1) * 3 + c];
    return (float)((a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy);
}

/* The crop resized to s x s, as the net's transposed planar input. */
static void make_input(const sc_image *img, const crop *cr, int s, float *dst)
{
    double step = (double)cr->size / s;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < s; i++)     /* blob row = image column (transposed) */
            for (int j = 0; j < s; j++) { /* blob column = image row */
                double x = cr->x + (i + 0.5) * step - 0.5, y = cr->y + (j + 0.5) * step - 0.5;
                dst[(c * s + i) * s + j] = (sample(img, x, y, c) - 127.5f) * 0.0078125f;
            }
}

static float face_probability(sc_ctx *ctx, const char *det, int s, const crop *cr, const char *out)
{
    char proto[256], model[256];
    snprintf(proto, sizeof proto, "models/mtcnn/%s.prototxt", det);
    snprintf(model, sizeof model, "models/mtcnn/%s.caffemodel", det);
    sc_net_options opts = {.phase = SC_PHASE_TEST};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, sc_test_shared(proto), &opts, &net));
    char missing[1024];
    sc_assert_ok(ctx, sc_net_load_weights(net, sc_test_shared(model), missing, sizeof missing));
    assert_string_equal(missing, "");
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(sc_test_shared(cr->photo), 3, &img, &err));
    float *in = malloc((size_t)3 * s * s * sizeof *in);
    make_input(&img, cr, s, in);
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", in, (size_t)3 * s * s));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_blob_info b;
    sc_assert_ok(ctx, sc_net_blob(net, out, &b));
    float *prob = malloc(b.count * sizeof *prob);
    sc_assert_ok(ctx, sc_net_read_blob(net, out, prob, b.count));
    /* PNet's output is a map; at 12x12 input it is 1x2x1x1 like the others */
    float face = prob[b.count / 2];
    assert_true(prob[0] >= 0 && prob[0] <= 1 && face >= 0 && face <= 1);
    assert_true(prob[0] + face > 0.999f && prob[0] + face < 1.001f);
    free(prob);
    free(in);
    sc_image_free(&img);
    sc_net_destroy(net);
    return face;
}

static void test_onet_faces(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    for (size_t i = 0; i < sizeof k_crops / sizeof k_crops[0]; i++) {
        float p = face_probability(ctx, "det3", 48, &k_crops[i], "prob1");
        printf("ONet %s box (%d,%d,%d): face probability %.4f\n", k_crops[i].photo, k_crops[i].x,
               k_crops[i].y, k_crops[i].size, p);
        if (k_crops[i].is_face)
            assert_true(p > 0.9f);
        else
            assert_true(p < 0.5f);
    }
    sc_ctx_destroy(ctx);
}

static void test_pnet_rnet_run(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    float p = face_probability(ctx, "det1", 12, &k_crops[0], "prob1");
    float r = face_probability(ctx, "det2", 24, &k_crops[0], "prob1");
    printf("PNet face probability %.4f, RNet %.4f\n", p, r);
    assert_true(r > 0.5f); /* RNet should already accept a clean face crop */
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onet_faces),
        cmocka_unit_test(test_pnet_rnet_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
