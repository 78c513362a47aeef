/* View 1 verification and the angular Fisher score against plain
 * brute-force references written here, plus cases with known answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face_metrics.h"
#include "sc_test.h"

#define DIM 6
#define PI 3.14159265358979323846

static double rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (double)((*s >> 8) & 0xffff) / 65536.0 - 0.5;
}

/* Brute force of the protocol: centre on the training mean, normalise,
 * cosine, every grid threshold tried, mean of the best ones. */
static double brute_view1(const float *a1, const float *a2, const int *as, int na, const float *b1,
                          const float *b2, const int *bs, int nb, double *thr)
{
    double mu[DIM] = {0};
    for (int i = 0; i < na; i++)
        for (int k = 0; k < DIM; k++)
            mu[k] += (a1[i * DIM + k] + a2[i * DIM + k]) / (2.0 * na);
    double sa[64], sb[64];
    const float *x1[2] = {a1, b1}, *x2[2] = {a2, b2};
    double *out[2] = {sa, sb};
    int n[2] = {na, nb};
    for (int set = 0; set < 2; set++)
        for (int i = 0; i < n[set]; i++) {
            double u[DIM], v[DIM], lu = 0, lv = 0, d = 0;
            for (int k = 0; k < DIM; k++) {
                u[k] = x1[set][i * DIM + k] - mu[k];
                v[k] = x2[set][i * DIM + k] - mu[k];
                lu += u[k] * u[k];
                lv += v[k] * v[k];
            }
            for (int k = 0; k < DIM; k++)
                d += u[k] / sqrt(lu) * v[k] / sqrt(lv);
            out[set][i] = d;
        }
    int best = -1;
    double sum = 0;
    int count = 0;
    for (int t = -10000; t <= 10000; t++) {
        double th = t / 10000.0;
        int c = 0;
        for (int i = 0; i < na; i++)
            c += as[i] ? sa[i] > th : sa[i] < th;
        if (c > best) {
            best = c;
            sum = t;
            count = 1;
        } else if (c == best) {
            sum += t;
            count++;
        }
    }
    *thr = sum / (10000.0 * count);
    int right = 0;
    for (int i = 0; i < nb; i++)
        right += bs[i] ? sb[i] > *thr : sb[i] < *thr;
    return (double)right / nb;
}

static void test_view1_matches_brute_force(void **state)
{
    (void)state;
    unsigned s = 7;
    float a1[40 * DIM], a2[40 * DIM], b1[30 * DIM], b2[30 * DIM];
    int as[40], bs[30];
    for (int i = 0; i < 40; i++) {
        as[i] = i % 2;
        for (int k = 0; k < DIM; k++) {
            a1[i * DIM + k] = (float)rnd(&s);
            a2[i * DIM + k] = (float)(as[i] ? a1[i * DIM + k] + 0.3 * rnd(&s) : rnd(&s));
        }
    }
    for (int i = 0; i < 30; i++) {
        bs[i] = i % 3 != 0;
        for (int k = 0; k < DIM; k++) {
            b1[i * DIM + k] = (float)rnd(&s);
            b2[i * DIM + k] = (float)(bs[i] ? b1[i * DIM + k] + 0.5 * rnd(&s) : rnd(&s));
        }
    }
    sc_view1_result r;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_verify_view1(a1, a2, as, 40, b1, b2, bs, 30, DIM, 10000, &r, &err));
    double thr, acc = brute_view1(a1, a2, as, 40, b1, b2, bs, 30, &thr);
    printf("view 1: threshold %.6f (brute force %.6f), accuracy %.4f (brute force %.4f)\n",
           r.threshold, thr, r.test_accuracy, acc);
    assert_true(fabs(r.threshold - thr) < 1e-12);
    assert_true(fabs(r.test_accuracy - acc) < 1e-12);
    assert_true(acc > 0.6); /* the matched pairs are closer: better than chance */
}

/* Two classes on the unit circle at +-a around their means, means at +-b
 * around the y axis: S_w and S_b have closed forms. */
static void test_fisher_known_answer(void **state)
{
    (void)state;
    const double a = 0.1, b = 0.7;
    float f[8];
    int labels[4] = {3, 3, 9, 9};
    double ang[4] = {PI / 2 - b - a, PI / 2 - b + a, PI / 2 + b - a, PI / 2 + b + a};
    for (int i = 0; i < 4; i++) {
        f[2 * i] = (float)(2.0 * cos(ang[i])); /* lengths do not matter */
        f[2 * i + 1] = (float)(2.0 * sin(ang[i]));
    }
    double score;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_angular_fisher(f, labels, 4, 2, &score, &err));
    double want = (4 * (1 - cos(a))) / (4 * (1 - cos(b)));
    printf("fisher: %.9f, closed form %.9f\n", score, want);
    assert_true(fabs(score - want) < 1e-6 * want);
    /* tighter classes score lower */
    for (int i = 0; i < 4; i++) {
        double t = ang[i] + (i % 2 ? -0.05 : 0.05);
        f[2 * i] = (float)cos(t);
        f[2 * i + 1] = (float)sin(t);
    }
    double tighter;
    sc_assert_ok_err(&err, sc_angular_fisher(f, labels, 4, 2, &tighter, &err));
    assert_true(tighter < score);
    int one[4] = {1, 1, 1, 1};
    assert_int_equal(sc_angular_fisher(f, one, 4, 2, &score, &err), SC_ERR_ARG);
    f[0] = NAN;
    assert_int_equal(sc_angular_fisher(f, labels, 4, 2, &score, &err), SC_ERR_NUMERIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view1_matches_brute_force),
        cmocka_unit_test(test_fisher_known_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
