/* The MTCNN detector nets (../shared/models/mtcnn det1..det3, legacy
 * `input_dim` prototxts with their caffemodels) against OpenCV's dnn module
 * running the same caffemodels on the same input (values computed once by
 * bench/mtcnn_reference.py and pasted below):
 *  - PNet on test1.jpg decimated by 6 (every 6th pixel: no resampling, so
 *    both sides see identical input): its most face-like cells, their
 *    probabilities and box regressions, and the sum over the whole map;
 *  - RNet and ONet on four crops (three faces read off the photos by eye,
 *    square, brow to chin, and a patch of wall), resized as the detector
 *    does (apps/common: imResample; OpenCV: INTER_AREA): face probability,
 *    box regression, ONet's landmarks. The faces score > 0.9, the wall < 0.5.
 * MTCNN's weights expect transposed RGB input scaled by (x - 127.5) / 128
 * (see the shared README and apps/common/mtcnn.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "image.h"
#include "mtcnn.h"
#include "sc_graph.h"
#include "sc_test.h"

typedef struct crop_ref {
    const char *photo;
    int x, y, size; /* 0-based corner and side */
    int is_face;
    float rnet_prob, rnet_reg[4], onet_prob, onet_reg[4], points[10];
} crop_ref;

/* bench/mtcnn_reference.py, part 3 */
static const crop_ref k_crops[] = {
    {"test1.jpg", 82, 18, 82, 1, 0.999881f, {0.084217f, -0.014602f, -0.151907f, -0.029345f},
     0.999947f, {0.064529f, -0.000897f, -0.186116f, 0.034886f},
     {0.377195f, 0.712196f, 0.566673f, 0.314219f, 0.675872f, 0.365580f, 0.415425f, 0.580552f,
      0.712935f, 0.764570f}}, /* left man */
    {"test1.jpg", 290, 78, 84, 1, 0.999306f, {0.095075f, 0.088665f, -0.146523f, 0.046564f},
     0.999971f, {0.089118f, 0.092825f, -0.148170f, 0.081727f},
     {0.265526f, 0.595424f, 0.412804f, 0.329947f, 0.632430f, 0.532849f, 0.468329f, 0.680102f,
      0.876889f, 0.834663f}}, /* right man */
    {"test2.jpg", 178, 66, 206, 1, 0.998969f, {0.076585f, 0.027833f, -0.167713f, 0.001754f},
     0.999986f, {0.042418f, 0.020248f, -0.166629f, -0.004499f},
     {0.180488f, 0.478608f, 0.302840f, 0.292098f, 0.539664f, 0.441679f, 0.323571f, 0.595401f,
      0.792740f, 0.700033f}}, /* the speaker */
    {"test1.jpg", 380, 180, 60, 0, 0.003760f, {-0.045285f, -0.145866f, -0.096753f, 0.132923f},
     0.000963f, {0.034457f, -0.161726f, -0.104353f, 0.047137f},
     {0.404598f, 0.697408f, 0.542431f, 0.378285f, 0.587833f, 0.261893f, 0.253209f, 0.568542f,
      0.736434f, 0.754671f}}, /* wall */
};

typedef struct cell_ref {
    int x, y;
    float prob, reg[4];
} cell_ref;

/* bench/mtcnn_reference.py, part 2: input 75x58, map 33 (x) by 24 (y) */
static const cell_ref k_cells[] = {
    {8, 2, 0.999994f, {-0.028347f, -0.025792f, -0.241506f, 0.025712f}},
    {25, 7, 0.999989f, {0.057788f, 0.107402f, -0.158412f, 0.114912f}},
    {25, 8, 0.999986f, {0.015388f, -0.053849f, -0.131551f, 0.011265f}},
    {7, 2, 0.999983f, {0.123772f, -0.047225f, -0.003039f, 0.056774f}},
    {24, 7, 0.999866f, {0.196845f, 0.100908f, -0.023953f, 0.106899f}},
};
#define TEST1_PIXEL_SUM 46218869.0 /* OpenCV's decode of test1.jpg, all channels */
#define PNET_FACE_SUM 53.50101

static sc_net *open_net(sc_ctx *ctx, const char *det, int batch, int h, int w)
{
    char proto[256], model[256], missing[1024];
    snprintf(proto, sizeof proto, "models/mtcnn/%s.prototxt", det);
    snprintf(model, sizeof model, "models/mtcnn/%s.caffemodel", det);
    sc_net_options opts = {.phase = SC_PHASE_TEST, .batch = batch, .height = h, .width = w};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, sc_test_shared(proto), &opts, &net));
    sc_assert_ok(ctx, sc_net_load_weights(net, sc_test_shared(model), missing, sizeof missing));
    assert_string_equal(missing, "");
    return net;
}

static float *read_blob(sc_ctx *ctx, sc_net *net, const char *name, sc_blob_info *b)
{
    sc_assert_ok(ctx, sc_net_blob(net, name, b));
    float *v = malloc(b->count * sizeof *v);
    assert_non_null(v);
    sc_assert_ok(ctx, sc_net_read_blob(net, name, v, b->count));
    return v;
}

static sc_image load_photo(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "models/mtcnn/%s", name);
    sc_image img = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(sc_test_shared(rel), 3, &img, &err));
    return img;
}

/* Every 6th pixel of every 6th row, as PNet's transposed input [c][x][y]. */
static float *decimated_input(const sc_image *img, int *w, int *h)
{
    *w = (img->w + 5) / 6;
    *h = (img->h + 5) / 6;
    float *in = malloc((size_t)3 * *w * *h * sizeof *in);
    assert_non_null(in);
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < *w; x++)
            for (int y = 0; y < *h; y++)
                in[((size_t)c * *w + x) * *h + y] =
                    (img->px[((size_t)y * 6 * img->w + (size_t)x * 6) * 3 + c] - 127.5f) *
                    0.0078125f;
    return in;
}

static void test_pnet_vs_opencv(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_image img = load_photo("test1.jpg");
    double sum = 0;
    for (size_t i = 0; i < (size_t)img.w * img.h * 3; i++)
        sum += img.px[i];
    assert_float_equal(sum, TEST1_PIXEL_SUM, 0); /* the same pixels OpenCV decoded */
    int w, h;
    float *in = decimated_input(&img, &w, &h);
    sc_net *net = open_net(ctx, "det1", 1, w, h); /* blob H runs along the photo's x */
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", in, (size_t)3 * w * h));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_blob_info pb, rb;
    float *prob = read_blob(ctx, net, "prob1", &pb), *reg = read_blob(ctx, net, "conv4-2", &rb);
    assert_true(pb.dims[2] == 33 && pb.dims[3] == 24 && rb.dims[1] == 4);
    const size_t plane = 33 * 24;
    double face_sum = 0;
    for (size_t i = 0; i < plane; i++)
        face_sum += prob[plane + i];
    printf("PNet on test1.jpg / 6 (%dx%d): face probability sum %.5f (OpenCV %.5f)\n", w, h,
           face_sum, PNET_FACE_SUM);
    assert_float_equal(face_sum, PNET_FACE_SUM, 1e-3);
    for (size_t i = 0; i < sizeof k_cells / sizeof k_cells[0]; i++) {
        const cell_ref *c = &k_cells[i];
        size_t at = (size_t)c->x * 24 + c->y;
        printf("  cell (%d,%d): face %.6f, regression %.6f %.6f %.6f %.6f\n", c->x, c->y,
               prob[plane + at], reg[at], reg[plane + at], reg[2 * plane + at],
               reg[3 * plane + at]);
        assert_float_equal(prob[plane + at], c->prob, 1e-4);
        for (int k = 0; k < 4; k++)
            assert_float_equal(reg[k * plane + at], c->reg[k], 1e-4);
    }
    free(prob);
    free(reg);
    free(in);
    sc_image_free(&img);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

/* The photo as the detector holds it: 0..255 floats, RGB, HWC. */
static float *photo_floats(const sc_image *img)
{
    float *f = malloc((size_t)img->w * img->h * 3 * sizeof *f);
    assert_non_null(f);
    for (size_t i = 0; i < (size_t)img->w * img->h * 3; i++)
        f[i] = img->px[i];
    return f;
}

/* The crops of every k_crops row, size x size, as one batch of net input. */
static float *crop_batch(int size)
{
    const size_t n = sizeof k_crops / sizeof k_crops[0], per = (size_t)3 * size * size;
    float *in = malloc(n * per * sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++) {
        const crop_ref *c = &k_crops[i];
        sc_image img = load_photo(c->photo);
        float *px = photo_floats(&img);
        /* MATLAB's 1-based inclusive box of the 0-based square */
        sc_mtcnn_box box = {c->x + 1, c->y + 1, c->x + c->size, c->y + c->size, 0, {0}};
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_mtcnn_crop_input(px, img.w, img.h, &box, size,
                                                   SC_RESIZE_IMRESAMPLE, in + i * per, &err));
        free(px);
        sc_image_free(&img);
    }
    return in;
}

static void check_values(const char *what, const float *got, const float *want, int n)
{
    for (int k = 0; k < n; k++)
        if (fabsf(got[k] - want[k]) > 1e-3f)
            fail_msg("%s[%d] = %.6f, OpenCV %.6f", what, k, got[k], want[k]);
}

/* RNet (24x24) and ONet (48x48) on the four crops in one batch each. */
static void test_crops_vs_opencv(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const int n = sizeof k_crops / sizeof k_crops[0];
    for (int stage = 0; stage < 2; stage++) {
        const int size = stage ? 48 : 24;
        sc_net *net = open_net(ctx, stage ? "det3" : "det2", n, size, size);
        float *in = crop_batch(size);
        sc_assert_ok(ctx, sc_net_write_blob(net, "data", in, (size_t)n * 3 * size * size));
        sc_assert_ok(ctx, sc_net_forward(net));
        sc_blob_info b;
        float *prob = read_blob(ctx, net, "prob1", &b);
        float *reg = read_blob(ctx, net, stage ? "conv6-2" : "conv5-2", &b);
        float *pts = stage ? read_blob(ctx, net, "conv6-3", &b) : NULL;
        for (int i = 0; i < n; i++) {
            const crop_ref *c = &k_crops[i];
            float p = prob[2 * i + 1];
            printf("%s %s box (%d,%d,%d): face probability %.4f, regression %.4f %.4f %.4f "
                   "%.4f\n",
                   stage ? "ONet" : "RNet", c->photo, c->x, c->y, c->size, p, reg[4 * i],
                   reg[4 * i + 1], reg[4 * i + 2], reg[4 * i + 3]);
            check_values("probability", &p, stage ? &c->onet_prob : &c->rnet_prob, 1);
            check_values("regression", reg + 4 * i, stage ? c->onet_reg : c->rnet_reg, 4);
            if (pts)
                check_values("landmarks", pts + 10 * i, c->points, 10);
            if (c->is_face)
                assert_true(p > (stage ? 0.9f : 0.5f));
            else
                assert_true(p < 0.5f);
        }
        free(prob);
        free(reg);
        free(pts);
        free(in);
        sc_net_destroy(net);
    }
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pnet_vs_opencv),
        cmocka_unit_test(test_crops_vs_opencv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
