/* MTCNN's box maths (apps/common/mtcnn_boxes.c) and crops (mtcnn.c) against
 * independent references: cases worked by hand from the MATLAB helpers
 * (generateBoundingBox, nms, bbreg, rerec, pad), and NMS against a literal
 * transcription of nms.m's loop (sort ascending, take the last, keep the
 * rest whose overlap is <= the threshold) over random boxes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtcnn.h"
#include "sc_test.h"

static sc_mtcnn_box box(float x1, float y1, float x2, float y2, float score)
{
    return (sc_mtcnn_box){x1, y1, x2, y2, score, {0, 0, 0, 0}};
}

/* A 3 (x) by 2 (y) map at scale 0.5: cells (1, 0) and (0, 1) pass 0.6, (2,
 * 1) is exactly at it (>= passes). Cell (x, y) covers 1-based pixels
 * fix((2x + 1) / 0.5) .. fix((2x + 12) / 0.5): x = 1 -> 6..28. Order: x
 * fastest, as find() on the transposed map. */
static void test_pnet_boxes(void **state)
{
    (void)state;
    /* planes are [x][y]: value (x, y) at x * 2 + y */
    const float prob[6] = {0.1f, 0.7f, 0.9f, 0.2f, 0.5f, 0.6f};
    float reg[4 * 6];
    for (int i = 0; i < 24; i++)
        reg[i] = (float)i / 100;
    sc_mtcnn_box out[6];
    size_t n = sc_mtcnn_pnet_boxes(prob, reg, 3, 2, 0.5, 0.6f, out);
    assert_int_equal(n, 3);
    /* (1, 0): x 6..28, y 2..24 */
    assert_true(out[0].x1 == 6 && out[0].x2 == 28 && out[0].y1 == 2 && out[0].y2 == 24);
    assert_float_equal(out[0].score, 0.9f, 0);
    assert_float_equal(out[0].reg[0], 0.02f, 1e-7); /* plane 0, index 1 * 2 + 0 */
    assert_float_equal(out[0].reg[3], 0.20f, 1e-7); /* plane 3: 18 + 2 */
    /* (0, 1): x 2..24, y 6..28; then (2, 1): x 10..32 */
    assert_true(out[1].x1 == 2 && out[1].y1 == 6 && out[1].x2 == 24 && out[1].y2 == 28);
    assert_true(out[2].x1 == 10 && out[2].y1 == 6 && out[2].x2 == 32 && out[2].y2 == 28);
    /* scale 0.7: fix(3 / 0.7) = fix(4.29) = 4 and fix(14 / 0.7) = 20 (not rounded up) */
    n = sc_mtcnn_pnet_boxes(prob, reg, 3, 2, 0.7, 0.85f, out);
    assert_int_equal(n, 1);
    assert_true(out[0].x1 == 4 && out[0].x2 == 20);
}

/* Hand-worked overlaps: A = 1..10 squared (area 100), B = 2..11 (overlap
 * with A 81 / 119 = 0.68), C far away, D = A again with A's score (a tie:
 * the later box goes first), E = 3..6 inside A (union 16 / 100, min 1). */
static void test_nms_by_hand(void **state)
{
    (void)state;
    const sc_mtcnn_box b[5] = {box(1, 1, 10, 10, 0.9f), box(2, 2, 11, 11, 0.8f),
                               box(20, 20, 29, 29, 0.7f), box(1, 1, 10, 10, 0.9f),
                               box(3, 3, 6, 6, 0.95f)};
    size_t pick[5], n;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_mtcnn_nms(b, 4, 0.5f, SC_NMS_UNION, pick, &n, &err));
    assert_int_equal(n, 2);
    assert_int_equal(pick[0], 3); /* D before A */
    assert_int_equal(pick[1], 2);
    sc_assert_ok_err(&err, sc_mtcnn_nms(b, 4, 0.7f, SC_NMS_UNION, pick, &n, &err));
    assert_int_equal(n, 3); /* 0.68 <= 0.7 keeps B */
    assert_true(pick[0] == 3 && pick[1] == 1 && pick[2] == 2);
    sc_assert_ok_err(&err, sc_mtcnn_nms(b, 5, 0.7f, SC_NMS_UNION, pick, &n, &err));
    assert_int_equal(n, 4); /* E first (0.95), overlapping A by only 0.16 */
    assert_true(pick[0] == 4 && pick[1] == 3);
    sc_assert_ok_err(&err, sc_mtcnn_nms(b, 5, 0.7f, SC_NMS_MIN, pick, &n, &err));
    assert_int_equal(n, 2); /* by the smaller area E covers A, D and B (16/16 each) */
    assert_true(pick[0] == 4 && pick[1] == 2);
    sc_assert_ok_err(&err, sc_mtcnn_nms(b, 0, 0.7f, SC_NMS_MIN, pick, &n, &err));
    assert_int_equal(n, 0);
}

/* ---- nms.m, transcribed literally */

static void matlab_nms(const sc_mtcnn_box *b, size_t n, float t, int use_min, size_t *pick,
                       size_t *n_pick)
{
    size_t *I = malloc(n * sizeof *I), len = n;
    for (size_t i = 0; i < n; i++)
        I[i] = i;
    for (size_t i = 1; i < n; i++) /* [vals, I] = sort(s): ascending, stable (insertion) */
        for (size_t j = i; j > 0 && b[I[j - 1]].score > b[I[j]].score; j--) {
            size_t tmp = I[j];
            I[j] = I[j - 1];
            I[j - 1] = tmp;
        }
    *n_pick = 0;
    while (len > 0) {
        size_t i = I[len - 1], kept = 0;
        pick[(*n_pick)++] = i;
        float ai = (b[i].x2 - b[i].x1 + 1) * (b[i].y2 - b[i].y1 + 1);
        for (size_t k = 0; k + 1 < len; k++) {
            const sc_mtcnn_box *o = &b[I[k]];
            float w = fmaxf(0.0f, fminf(b[i].x2, o->x2) - fmaxf(b[i].x1, o->x1) + 1);
            float h = fmaxf(0.0f, fminf(b[i].y2, o->y2) - fmaxf(b[i].y1, o->y1) + 1);
            float inter = w * h, ao = (o->x2 - o->x1 + 1) * (o->y2 - o->y1 + 1);
            float ov = use_min ? inter / fminf(ai, ao) : inter / (ai + ao - inter);
            if (ov <= t) /* I = I(find(o <= threshold)) */
                I[kept++] = I[k];
        }
        len = kept;
    }
    free(I);
}

static void test_nms_vs_matlab_loop(void **state)
{
    (void)state;
    enum { N = 300 };
    sc_mtcnn_box b[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        float v[5];
        for (int k = 0; k < 5; k++) {
            seed = seed * 1103515245u + 12345u;
            v[k] = (float)((seed >> 8) % 1000) / 1000;
        }
        float x = v[0] * 100, y = v[1] * 100, s = 5 + v[2] * 40;
        /* scores on a coarse grid, so that ties happen */
        b[i] = box(x, y, x + s, y + s * (0.8f + v[3] * 0.4f), floorf(v[4] * 20) / 20);
    }
    size_t got[N], want[N], n_got, n_want;
    sc_error err = {0};
    for (int mode = 0; mode < 2; mode++)
        for (int t = 0; t < 3; t++) {
            float thr = (float[]){0.3f, 0.5f, 0.7f}[t];
            sc_assert_ok_err(&err, sc_mtcnn_nms(b, N, thr, mode ? SC_NMS_MIN : SC_NMS_UNION, got,
                                                &n_got, &err));
            matlab_nms(b, N, thr, mode, want, &n_want);
            printf("NMS %s %.1f: %zu of %d boxes kept\n", mode ? "min" : "union", thr, n_got, N);
            assert_int_equal(n_got, n_want);
            assert_memory_equal(got, want, n_got * sizeof *got);
        }
}

/* [1 1 10 10] with regression (0.1, 0.2, -0.1, 0.5): bbreg counts 10 pixels
 * (2, 3, 9, 15); PNet's step uses x2 - x1 = 9 (1.9, 2.8, 9.1, 14.5). */
static void test_regressions(void **state)
{
    (void)state;
    sc_mtcnn_box a = {1, 1, 10, 10, 0.5f, {0.1f, 0.2f, -0.1f, 0.5f}}, b = a;
    sc_mtcnn_bbreg(&a, 1);
    assert_float_equal(a.x1, 2, 1e-6);
    assert_float_equal(a.y1, 3, 1e-6);
    assert_float_equal(a.x2, 9, 1e-6);
    assert_float_equal(a.y2, 15, 1e-6);
    sc_mtcnn_regress_pnet(&b, 1);
    assert_float_equal(b.x1, 1.9, 1e-6);
    assert_float_equal(b.y1, 2.8, 1e-6);
    assert_float_equal(b.x2, 9.1, 1e-6);
    assert_float_equal(b.y2, 14.5, 1e-6);
}

/* rerec: [10 20 30 60] is 20 by 40: the square of side 40 around the same
 * centre is [0 20 40 60]; fix truncates toward zero. */
static void test_rerec_fix(void **state)
{
    (void)state;
    sc_mtcnn_box b = box(10, 20, 30, 60, 1);
    sc_mtcnn_rerec(&b, 1);
    assert_true(b.x1 == 0 && b.y1 == 20 && b.x2 == 40 && b.y2 == 60);
    b = box(-3.7f, 3.7f, -0.2f, 12.99f, 1);
    sc_mtcnn_fix(&b, 1);
    assert_true(b.x1 == -3 && b.y1 == 3 && b.x2 == 0 && b.y2 == 12);
}

/* pad: box [-4 5 20 30] in a 16 x 25 photo: 25 x 26 crop; photo columns
 * 1..16 land at 6..21, rows 5..25 at 1..21. */
static void test_pad(void **state)
{
    (void)state;
    sc_mtcnn_box b = box(-4, 5, 20, 30, 1);
    sc_mtcnn_pad p = sc_mtcnn_pad_box(&b, 16, 25);
    assert_int_equal(p.tmpw, 25);
    assert_int_equal(p.tmph, 26);
    assert_true(p.x == 1 && p.ex == 16 && p.dx == 6 && p.edx == 21);
    assert_true(p.y == 5 && p.ey == 25 && p.dy == 1 && p.edy == 21);
    b = box(30, 2, 40, 12, 1); /* wholly right of the photo: nothing to copy */
    p = sc_mtcnn_pad_box(&b, 16, 25);
    assert_true(p.ex < p.x && p.edx < p.dx);
}

/* A 4 x 4 box over a 3 x 3 photo's corner, cropped to 4 x 4 (no
 * resampling): the photo's pixels, zeros outside, normalised by
 * (v - 127.5) / 128 and transposed ([c][x][y]). */
static void test_crop_input(void **state)
{
    (void)state;
    float photo[3 * 3 * 3];
    for (int i = 0; i < 27; i++)
        photo[i] = (float)(i * 9);
    sc_mtcnn_box b = box(0, 2, 3, 5, 1); /* 1-based: columns 0..3, rows 2..5 */
    float dst[3 * 4 * 4];
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_mtcnn_crop_input(photo, 3, 3, &b, 4, SC_RESIZE_IMRESAMPLE, dst,
                                               &err));
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < 4; x++)
            for (int y = 0; y < 4; y++) {
                int px = x, py = y + 2; /* 1-based photo pixel */
                float v = px >= 1 && px <= 3 && py <= 3
                              ? photo[((py - 1) * 3 + (px - 1)) * 3 + c]
                              : 0;
                assert_float_equal(dst[(c * 4 + x) * 4 + y], (v - 127.5) * 0.0078125, 1e-6);
            }
    b = box(5, 5, 3, 8, 1);
    assert_int_equal(sc_mtcnn_crop_input(photo, 3, 3, &b, 4, SC_RESIZE_IMRESAMPLE, dst, &err),
                     SC_ERR_ARG);
}

/* 150 x 150 at minimum face 20, factor 0.85: 90 * 0.85^k >= 12 for k = 0..12. */
static void test_scales(void **state)
{
    (void)state;
    double s[32];
    int n = sc_mtcnn_scales(150, 150, 20, 0.85, s, 32);
    assert_int_equal(n, 13);
    assert_float_equal(s[0], 0.6, 1e-15);
    /* MATLAB's double 0.85, not the float nearest it */
    assert_float_equal(s[12], 0.6 * 0.85 * 0.85 * 0.85 * 0.85 * 0.85 * 0.85 * 0.85 * 0.85 * 0.85 *
                                  0.85 * 0.85 * 0.85, 1e-15);
    assert_int_equal(sc_mtcnn_scales(19, 200, 20, 0.85, s, 32), 0);
    assert_int_equal(sc_mtcnn_scales(20, 200, 20, 0.85, s, 32), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pnet_boxes),  cmocka_unit_test(test_nms_by_hand),
        cmocka_unit_test(test_nms_vs_matlab_loop), cmocka_unit_test(test_regressions),
        cmocka_unit_test(test_rerec_fix),   cmocka_unit_test(test_pad),
        cmocka_unit_test(test_crop_input),  cmocka_unit_test(test_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
