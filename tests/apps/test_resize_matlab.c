/* The MATLAB resamplers of apps/common/image_resize_matlab.c against
 * references computed some other way:
 *  - imResample (detect_face.m's resize): against OpenCV's cv2.resize
 *    (INTER_AREA when shrinking, INTER_LINEAR when enlarging, one axis at a
 *    time; values from bench/mtcnn_reference.py), and a hand-worked case;
 *  - imresize 'bilinear': against MATLAB's kernel maths written plainly
 *    here (every output pixel a direct 2-D sum over the input with the
 *    triangle kernel widened by 1/scale and symmetric borders), and the
 *    well-known 1/8, 3/8, 3/8, 1/8 weights of halving. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "image_resize_matlab.h"
#include "sc_test.h"

typedef struct resize_case {
    int w, h, dw, dh;
    float want[36];
} resize_case;

/* bench/mtcnn_reference.py, part 1 */
static const resize_case k_cv2[] = {
    {7, 5, 3, 2, {102.9143f, 143.6000f, 140.4000f, 116.5143f, 127.9429f, 139.3714f}},
    {8, 6, 4, 3, {75.0000f, 149.0000f, 159.0000f, 105.0000f, 129.0000f, 75.0000f, 149.0000f,
                  159.0000f, 183.0000f, 129.0000f, 75.0000f, 149.0000f}},
    {3, 2, 7, 5, {11.0000f, 16.2857f, 32.1429f, 48.0000f, 63.8571f, 79.7143f, 85.0000f,
                  20.1000f, 25.3857f, 41.2429f, 57.1000f, 72.9571f, 88.8143f, 94.1000f,
                  56.5000f, 61.7857f, 77.6429f, 93.5000f, 109.3571f, 125.2143f, 130.5000f,
                  92.9000f, 98.1857f, 114.0429f, 129.9000f, 145.7571f, 161.6143f, 166.9000f,
                  102.0000f, 107.2857f, 123.1429f, 139.0000f, 154.8571f, 170.7143f, 176.0000f}},
    {7, 3, 4, 5, {26.8571f, 90.2857f, 153.7143f, 217.1429f, 63.2571f, 126.6857f, 175.4857f,
                  151.1429f, 117.8571f, 181.2857f, 208.1429f, 52.1429f, 172.4572f, 104.2286f,
                  131.0857f, 106.7429f, 208.8571f, 52.8571f, 79.7143f, 143.1429f}},
    {11, 9, 4, 4, {97.5455f, 157.0808f, 113.1818f, 131.3434f, 113.5859f, 121.4040f, 144.7374f,
                   121.5253f, 137.3839f, 124.5152f, 129.7475f, 132.3940f, 127.5657f, 125.0404f,
                   140.6162f, 132.9192f}},
};

/* value (x, y) = (37 x + 91 y + 11) mod 256, in c identical channels */
static float *pattern(int w, int h, int c)
{
    float *p = malloc((size_t)w * h * c * sizeof *p);
    assert_non_null(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                p[((size_t)y * w + x) * c + k] = (float)((37 * x + 91 * y + 11) % 256);
    return p;
}

static float *resized(const float *src, int w, int h, int c, int dw, int dh, sc_matlab_resize m)
{
    float *dst = malloc((size_t)dw * dh * c * sizeof *dst);
    assert_non_null(dst);
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_resize_matlab(src, w, h, c, dst, dw, dh, m, &err));
    return dst;
}

static void test_imresample_vs_opencv(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cv2 / sizeof k_cv2[0]; i++) {
        const resize_case *t = &k_cv2[i];
        float *src = pattern(t->w, t->h, 3);
        float *dst = resized(src, t->w, t->h, 3, t->dw, t->dh, SC_RESIZE_IMRESAMPLE);
        double worst = 0;
        for (int j = 0; j < t->dw * t->dh; j++)
            for (int k = 0; k < 3; k++)
                worst = fmax(worst, fabs(dst[j * 3 + k] - t->want[j]));
        printf("imResample %dx%d -> %dx%d: max |diff| from OpenCV %.5f\n", t->w, t->h, t->dw,
               t->dh, worst);
        /* cv2 keeps the last digit of 4 decimals; imResample scales by 1/(1+1e-6) */
        assert_true(worst < 1e-3);
        free(src);
        free(dst);
    }
}

/* Enlarging [0, 4] to 4 pixels: positions -0.25, 0.25, 0.75, 1.25 of the
 * input, clamped at both ends: 0, 1, 3, 4 (then imResample's 1/(1+1e-6)). */
static void test_imresample_by_hand(void **state)
{
    (void)state;
    const float src[2] = {0, 4};
    float *dst = resized(src, 2, 1, 1, 4, 1, SC_RESIZE_IMRESAMPLE);
    const float want[4] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_float_equal(dst[i], want[i] / (1 + 1e-6), 1e-6);
    free(dst);
    /* the same size is returned untouched, as imResample.m does */
    float *same = pattern(5, 4, 3), *copy = resized(same, 5, 4, 3, 5, 4, SC_RESIZE_IMRESAMPLE);
    for (int i = 0; i < 5 * 4 * 3; i++)
        assert_true(copy[i] == same[i]);
    free(same);
    free(copy);
}

/* ---- imresize, the plain way */

static double tri(double x)
{
    return x >= -1 && x <= 1 ? 1 - fabs(x) : 0;
}

/* Weight of 1-based input index j for 1-based output index u along an axis
 * of n_in -> n_out, before normalisation, and with j already in range. */
static double raw_weight(int u, int j, int n_in, int n_out)
{
    double s = (double)n_out / n_in;
    double centre = u / s + 0.5 * (1 - 1 / s);
    return s < 1 ? s * tri(s * (centre - j)) : tri(centre - j);
}

/* MATLAB's symmetric padding of index j (1-based) into 1..n. */
static int reflect(int j, int n)
{
    while (j < 1 || j > n)
        j = j < 1 ? 1 - j : 2 * n + 1 - j;
    return j;
}

/* Normalised weight of input pixel `at` (1-based) for output u: the sum over
 * every padded position that reflects onto it. */
static double weight(int u, int at, int n_in, int n_out)
{
    double s = (double)n_out / n_in, width = s < 1 ? 2 / s : 2, sum = 0, mine = 0;
    double centre = u / s + 0.5 * (1 - 1 / s);
    for (int j = (int)floor(centre - width) - 2; j <= (int)ceil(centre + width) + 2; j++) {
        double w = raw_weight(u, j, n_in, n_out);
        sum += w;
        if (reflect(j, n_in) == at)
            mine += w;
    }
    return mine / sum;
}

static void test_imresize_plain_maths(void **state)
{
    (void)state;
    const int sizes[][4] = {{7, 5, 3, 2}, {11, 9, 4, 4}, {3, 2, 7, 5}, {7, 3, 4, 5}, {9, 9, 5, 5}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int w = sizes[i][0], h = sizes[i][1], dw = sizes[i][2], dh = sizes[i][3];
        float *src = pattern(w, h, 1);
        float *dst = resized(src, w, h, 1, dw, dh, SC_RESIZE_IMRESIZE);
        double worst = 0;
        for (int v = 1; v <= dh; v++)
            for (int u = 1; u <= dw; u++) {
                double want = 0;
                for (int y = 1; y <= h; y++)
                    for (int x = 1; x <= w; x++)
                        want += weight(v, y, h, dh) * weight(u, x, w, dw) *
                                src[(y - 1) * w + (x - 1)];
                worst = fmax(worst, fabs(dst[(v - 1) * dw + (u - 1)] - want));
            }
        printf("imresize %dx%d -> %dx%d: max |diff| from the plain sum %.2g\n", w, h, dw, dh,
               worst);
        assert_true(worst < 1e-3);
        free(src);
        free(dst);
    }
}

/* Halving a ramp 0, 8, ..., 56: weights 1/8 3/8 3/8 1/8 over 4 inputs, the
 * border mirrored: 5, 20, 36, 51 (worked by hand). */
static void test_imresize_halving(void **state)
{
    (void)state;
    float ramp[8];
    for (int i = 0; i < 8; i++)
        ramp[i] = 8.0f * i;
    float *dst = resized(ramp, 8, 1, 1, 4, 1, SC_RESIZE_IMRESIZE);
    const float want[4] = {5, 20, 36, 51};
    for (int i = 0; i < 4; i++)
        assert_float_equal(dst[i], want[i], 1e-4);
    free(dst);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    float px[4] = {0}, out[4];
    sc_error err = {0};
    assert_int_equal(sc_resize_matlab(px, 0, 2, 1, out, 2, 2, SC_RESIZE_IMRESAMPLE, &err),
                     SC_ERR_ARG);
    assert_int_equal(sc_resize_matlab(px, 2, 2, 1, out, 2, 0, SC_RESIZE_IMRESIZE, &err),
                     SC_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imresample_vs_opencv), cmocka_unit_test(test_imresample_by_hand),
        cmocka_unit_test(test_imresize_plain_maths), cmocka_unit_test(test_imresize_halving),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
