/* The LFW verification protocol and pairs.txt reader: the sorted sweep
 * against a brute-force loop over all 20001 thresholds (random scores, ties,
 * NaN, scores outside [-1, 1]), hand-made cases with known accuracies, the
 * real ../shared LFW pairs files, and malformed pairs files. */
#include "sc_test.h"
#include "conformance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verification.h"

/* ------------------------------------------------------------ reference */

/* The definition, written as plainly as possible: every threshold, every
 * pair. Also returns the plain floating mean of the maximising thresholds
 * (numpy's way) for a closeness check. */
static void bf_threshold(const double *s, const int *same, size_t n, int steps, double *thr,
                         size_t *best_out, double *float_mean)
{
    size_t best = 0;
    long long sum_k = 0, count = 0;
    double sum_t = 0;
    for (int k = -steps; k <= steps; k++) {
        double t = (double)k / (double)steps;
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            if ((same[i] && s[i] > t) || (!same[i] && s[i] < t))
                c++;
        if (c > best || count == 0) {
            best = c;
            sum_k = 0;
            count = 0;
            sum_t = 0;
        }
        if (c == best) {
            sum_k += k;
            sum_t += t;
            count++;
        }
    }
    *thr = (double)sum_k / ((double)steps * (double)count);
    *best_out = best;
    if (float_mean)
        *float_mean = sum_t / (double)count;
}

/* Fold f of the protocol on fixed scores, with the brute-force threshold. */
static void bf_fold(const double *s, const int *same, const int *fold, size_t n, int f,
                    int steps, sc_verify_result *r)
{
    double *ts = calloc(n, sizeof *ts);
    int *tf = calloc(n, sizeof *tf);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (fold[i] != f) {
            ts[m] = s[i];
            tf[m++] = same[i];
        }
    bf_threshold(ts, tf, m, steps, &r->threshold[f], &r->train_correct[f], NULL);
    r->correct[f] = r->total[f] = 0;
    for (size_t i = 0; i < n; i++)
        if (fold[i] == f) {
            r->total[f]++;
            if ((same[i] && s[i] > r->threshold[f]) || (!same[i] && s[i] < r->threshold[f]))
                r->correct[f]++;
        }
    free(ts);
    free(tf);
}

static void bf_protocol(const double *s, const int *same, const int *fold, size_t n, int folds,
                        int steps, sc_verify_result *r)
{
    memset(r, 0, sizeof *r);
    r->folds = folds;
    for (int f = 0; f < folds; f++)
        bf_fold(s, same, fold, n, f, steps, r);
}

/* Centred cosine scores for one test fold, pair by pair. */
static void bf_scores(const float *f1, const float *f2, size_t n, size_t dim, const int *fold,
                      int test, double *scores)
{
    double *mu = calloc(dim, sizeof *mu);
    double cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (fold[i] != test) {
            for (size_t d = 0; d < dim; d++)
                mu[d] += (double)f1[i * dim + d] + (double)f2[i * dim + d];
            cnt += 2;
        }
    for (size_t i = 0; i < n; i++) {
        double a2 = 0, b2 = 0, ab = 0;
        for (size_t d = 0; d < dim; d++) {
            double a = f1[i * dim + d] - mu[d] / cnt, b = f2[i * dim + d] - mu[d] / cnt;
            a2 += a * a;
            b2 += b * b;
            ab += a * b;
        }
        scores[i] = ab / sqrt(a2 * b2);
    }
    free(mu);
}

static void assert_same_result(const sc_verify_result *lib, const sc_verify_result *ref)
{
    assert_int_equal(lib->folds, ref->folds);
    for (int f = 0; f < ref->folds; f++) {
        if (lib->threshold[f] != ref->threshold[f])
            fail_msg("fold %d: threshold %.17g, brute force %.17g", f, lib->threshold[f],
                     ref->threshold[f]);
        assert_int_equal(lib->correct[f], ref->correct[f]);
        assert_int_equal(lib->total[f], ref->total[f]);
        assert_int_equal(lib->train_correct[f], ref->train_correct[f]);
    }
}

/* ------------------------------------------------------------ random data */

typedef struct synth_scores {
    size_t n;
    double *s;
    int *same, *fold;
} synth_scores;

/* mode 0: continuous; 1: scores on the threshold grid with many repeats
 * (ties with each other and with the thresholds); 2: wide range beyond
 * [-1, 1] plus NaNs; 3: heavy overlap (many maximising thresholds). */
static synth_scores make_scores(uint64_t seed, size_t n, int folds, int mode)
{
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    synth_scores d = {n, malloc(n * sizeof(double)), malloc(n * sizeof(int)),
                      malloc(n * sizeof(int))};
    for (size_t i = 0; i < n; i++) {
        d.fold[i] = (int)(i * (size_t)folds / n);
        d.same[i] = sc_conf_uniform(&r, 0, 1) < 0.5;
        double x = (d.same[i] ? 0.45 : 0.15) + 0.25 * sc_conf_normal(&r);
        if (mode == 1)
            x = (double)(25 * (long)(sc_conf_uniform(&r, -40, 40) + (d.same[i] ? 15 : 0))) /
                10000.0;
        if (mode == 2)
            x = sc_conf_uniform(&r, 0, 1) < 0.03 ? NAN : 3 * x;
        if (mode == 3)
            x = (double)(long)sc_conf_uniform(&r, 0, 3) / 2.0 - 0.5;
        d.s[i] = x;
    }
    return d;
}

static void free_scores(synth_scores *d)
{
    free(d->s);
    free(d->same);
    free(d->fold);
}

static void test_threshold_matches_brute_force(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            synth_scores d = make_scores(seed * 7919 + (uint64_t)mode, 300 + 97 * seed, 1, mode);
            double t_lib, t_ref, t_float;
            size_t c_lib, c_ref;
            sc_error err = {0};
            sc_assert_ok_err(&err, sc_verify_threshold(d.s, d.same, d.n, SC_VERIFY_STEPS, &t_lib,
                                                       &c_lib, &err));
            bf_threshold(d.s, d.same, d.n, SC_VERIFY_STEPS, &t_ref, &c_ref, &t_float);
            if (t_lib != t_ref)
                fail_msg("mode %d seed %d: %.17g vs %.17g", mode, (int)seed, t_lib, t_ref);
            assert_int_equal(c_lib, c_ref);
            assert_true(fabs(t_lib - t_float) < 1e-12);
            assert_int_equal(sc_verify_count_correct(d.s, d.same, d.n, t_lib),
                             sc_verify_count_correct(d.s, d.same, d.n, t_ref));
            /* a coarser grid too (the README's 1e-3 variant) */
            sc_assert_ok_err(&err, sc_verify_threshold(d.s, d.same, d.n, 1000, &t_lib, &c_lib,
                                                       &err));
            bf_threshold(d.s, d.same, d.n, 1000, &t_ref, &c_ref, NULL);
            assert_true(t_lib == t_ref);
            assert_int_equal(c_lib, c_ref);
            free_scores(&d);
        }
}

static void test_protocol_on_scores_matches_brute_force(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        synth_scores d = make_scores(100 + (uint64_t)mode, 600, 10, mode);
        sc_verify_result lib, ref;
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_verify_lfw_scores(d.s, d.same, d.fold, d.n, SC_VERIFY_STEPS,
                                                    &lib, &err));
        bf_protocol(d.s, d.same, d.fold, d.n, 10, SC_VERIFY_STEPS, &ref);
        assert_same_result(&lib, &ref);
        free_scores(&d);
    }
}

/* LFW-sized (6000 pairs, 10 folds) once, and timed: the sweep must be fast. */
static void test_full_size_matches_brute_force(void **state)
{
    (void)state;
    synth_scores d = make_scores(2024, 6000, 10, 1);
    sc_verify_result lib, ref;
    sc_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sc_assert_ok_err(&err, sc_verify_lfw_scores(d.s, d.same, d.fold, d.n, SC_VERIFY_STEPS, &lib,
                                                &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = 1e3 * (double)(t1.tv_sec - t0.tv_sec) + 1e-6 * (double)(t1.tv_nsec - t0.tv_nsec);
    print_message("10-fold protocol on 6000 scores: %.2f ms\n", ms);
    bf_protocol(d.s, d.same, d.fold, d.n, 10, SC_VERIFY_STEPS, &ref);
    assert_same_result(&lib, &ref);
    free_scores(&d);
}

/* Clustered random features: identities as random directions plus noise,
 * with an offset every feature shares (what the centring removes). */
static void make_features(uint64_t seed, size_t n, size_t dim, float *f1, float *f2, int *same,
                          int *fold)
{
    sc_conf_rng r;
    sc_conf_rng_seed(&r, seed);
    float *centre = malloc(dim * sizeof *centre);
    sc_conf_fill(&r, centre, NULL, dim, 0.5, 1.5);
    for (size_t i = 0; i < n; i++) {
        fold[i] = (int)(i * 10 / n);
        same[i] = (i / 5) % 2 == 0;
        for (size_t d = 0; d < dim; d++) {
            double id = sc_conf_normal(&r);
            double other = same[i] ? id : sc_conf_normal(&r);
            f1[i * dim + d] = (float)(centre[d] + id + 0.9 * sc_conf_normal(&r));
            f2[i * dim + d] = (float)(centre[d] + other + 0.9 * sc_conf_normal(&r));
        }
    }
    free(centre);
}

static void test_features_match_brute_force(void **state)
{
    (void)state;
    const size_t n = 600, dim = 24;
    float *f1 = malloc(n * dim * sizeof *f1), *f2 = malloc(n * dim * sizeof *f2);
    int *same = malloc(n * sizeof *same), *fold = malloc(n * sizeof *fold);
    double *s_lib = malloc(n * sizeof *s_lib), *s_ref = malloc(n * sizeof *s_ref);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        make_features(seed, n, dim, f1, f2, same, fold);
        sc_verify_result lib, ref = {0};
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_verify_lfw(f1, f2, n, dim, same, fold, SC_VERIFY_STEPS, &lib,
                                             &err));
        ref.folds = 10;
        for (int f = 0; f < 10; f++) {
            /* the library's scores agree with the plain computation ... */
            sc_assert_ok_err(&err, sc_verify_centred_scores(f1, f2, n, dim, fold, f, s_lib, &err));
            bf_scores(f1, f2, n, dim, fold, f, s_ref);
            for (size_t i = 0; i < n; i++)
                assert_true(fabs(s_lib[i] - s_ref[i]) < 1e-12);
            /* ... and fold f of the result is the brute-force protocol on them */
            bf_fold(s_lib, same, fold, n, f, SC_VERIFY_STEPS, &ref);
        }
        assert_same_result(&lib, &ref);
        assert_true(lib.mean > 0.7 && lib.mean < 1.0); /* the clusters are separable */
    }
    free(f1);
    free(f2);
    free(same);
    free(fold);
    free(s_lib);
    free(s_ref);
}

/* ------------------------------------------------------------ known answers */

/* Fold 1 (same 0.8, different 0.2) makes every t in (0.2, 0.8) perfect:
 * k = 2001..7999, mean 0.5. Fold 0 holds both scores exactly at 0.5: each
 * pair is right for t on one side only, so every k except 5000 reaches the
 * best count (1 of 2); the mean k is -5000 / 20000, so t = -0.25 / 10000. */
static void test_known_thresholds_and_ties(void **state)
{
    (void)state;
    double s[4] = {0.5, 0.5, 0.8, 0.2};
    int same[4] = {1, 0, 1, 0}, fold[4] = {0, 0, 1, 1};
    sc_verify_result r;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_verify_lfw_scores(s, same, fold, 4, SC_VERIFY_STEPS, &r, &err));
    assert_int_equal(r.folds, 2);
    assert_true(r.threshold[0] == 0.5);
    assert_true(r.threshold[1] == -2.5e-5);
    /* fold 0 at t = 0.5: score == t is wrong both as same and as different */
    assert_int_equal(r.correct[0], 0);
    /* fold 1 at t = -2.5e-5: the same pair is right, the different one is not */
    assert_int_equal(r.correct[1], 1);
    assert_int_equal(r.train_correct[0], 2);
    assert_int_equal(r.train_correct[1], 1);
    assert_true(r.accuracy[0] == 0.0 && r.accuracy[1] == 0.5);
    assert_true(r.mean == 0.25 && r.std == 0.25);
}

static void test_known_perfect_and_inverted(void **state)
{
    (void)state;
    /* separable in every fold: 100 %, threshold in the gap */
    double s[6] = {0.9, -0.3, 0.7, 0.1, 0.95, 0.0};
    int same[6] = {1, 0, 1, 0, 1, 0}, fold[6] = {0, 0, 1, 1, 2, 2};
    sc_verify_result r;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_verify_lfw_scores(s, same, fold, 6, SC_VERIFY_STEPS, &r, &err));
    assert_true(r.mean == 1.0 && r.std == 0.0);
    /* test fold 0 trains on {0.7, 0.1, 0.95, 0.0}: t in (0.1, 0.7), k = 1001..6999 */
    assert_true(r.threshold[0] == 0.4);
    /* inverted scores (different scored higher): the best any threshold
     * does is get one pair of each training fold right */
    double inv[6] = {-0.9, 0.3, -0.7, -0.1, -0.95, 0.0};
    sc_assert_ok_err(&err, sc_verify_lfw_scores(inv, same, fold, 6, SC_VERIFY_STEPS, &r, &err));
    assert_true(r.mean <= 0.5);
    for (int f = 0; f < 3; f++)
        assert_int_equal(r.train_correct[f], 2);
}

/* Features whose centred versions are known: pairs come in mirrored blocks
 * of two around the offset o = (10, 20) - (o+v, o+v), (o-v, o-v) for matched
 * pairs, (o+w, o-w), (o-w, o+w) for mismatched ones - so the mean of any
 * folds is exactly o and the scores are exactly +1 and -1. */
static void test_known_features(void **state)
{
    (void)state;
    float f1[8 * 2], f2[8 * 2];
    int same[8], fold[8];
    /* integer lengths, so the normalisation is exact too */
    static const float v[4][2] = {{3, 4}, {5, -12}, {-8, 6}, {0, 7}};
    for (int b = 0; b < 4; b++) {
        float vx = v[b][0], vy = v[b][1];
        int s = b % 2 == 0;
        for (int j = 0; j < 2; j++) {
            int i = 2 * b + j;
            float sign = j ? -1.0f : 1.0f;
            same[i] = s;
            fold[i] = b / 2;
            f1[2 * i] = 10 + sign * vx;
            f1[2 * i + 1] = 20 + sign * vy;
            f2[2 * i] = 10 + (s ? sign : -sign) * vx;
            f2[2 * i + 1] = 20 + (s ? sign : -sign) * vy;
        }
    }
    sc_verify_result r;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_verify_lfw(f1, f2, 8, 2, same, fold, SC_VERIFY_STEPS, &r, &err));
    double sc[8];
    for (int f = 0; f < 2; f++) {
        sc_assert_ok_err(&err, sc_verify_centred_scores(f1, f2, 8, 2, fold, f, sc, &err));
        for (int i = 0; i < 8; i++)
            assert_true(sc[i] == (same[i] ? 1.0 : -1.0));
        /* perfect for every t in (-1, 1): k = -9999..9999, mean 0 */
        assert_true(r.threshold[f] == 0.0);
    }
    assert_true(r.mean == 1.0 && r.std == 0.0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    double s[4] = {0.1, 0.2, 0.3, 0.4};
    int same[4] = {1, 0, 1, 0}, one_fold[4] = {0, 0, 0, 0}, gap[4] = {0, 0, 2, 2};
    sc_verify_result r;
    sc_error err = {0};
    assert_int_equal(sc_verify_lfw_scores(s, same, one_fold, 4, SC_VERIFY_STEPS, &r, &err),
                     SC_ERR_ARG);
    assert_non_null(strstr(err.msg, "at least 2"));
    assert_int_equal(sc_verify_lfw_scores(s, same, gap, 4, SC_VERIFY_STEPS, &r, &err),
                     SC_ERR_ARG);
    assert_non_null(strstr(err.msg, "fold 1 holds no pairs"));
    assert_int_equal(sc_verify_lfw_scores(s, same, gap, 0, SC_VERIFY_STEPS, &r, &err), SC_ERR_ARG);
    assert_int_equal(sc_verify_threshold(s, same, 4, 0, NULL, NULL, &err), SC_ERR_ARG);
    float f[8] = {1, 2, 3, 4, 5, 6, 7, NAN};
    int fold[4] = {0, 0, 1, 1};
    assert_int_equal(sc_verify_lfw(f, f, 4, 2, same, fold, SC_VERIFY_STEPS, &r, &err),
                     SC_ERR_NUMERIC);
    assert_non_null(strstr(err.msg, "pair 3"));
}

/* ------------------------------------------------------------ pairs.txt */

static void test_real_pairs_file(void **state)
{
    (void)state;
    sc_lfw_pairs p;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_lfw_pairs_load(sc_test_shared("data/lfw/pairs.txt"), &p, &err));
    assert_int_equal(p.folds, 10);
    assert_int_equal(p.per_fold, 300);
    assert_int_equal(p.count, 6000);
    size_t same_in[10] = {0}, diff_in[10] = {0};
    for (size_t i = 0; i < p.count; i++) {
        assert_int_equal(p.items[i].fold, (int)(i / 600));
        assert_int_equal(p.items[i].line, (int)i + 2);
        if (p.items[i].same)
            same_in[p.items[i].fold]++;
        else
            diff_in[p.items[i].fold]++;
    }
    for (int f = 0; f < 10; f++) {
        assert_int_equal(same_in[f], 300);
        assert_int_equal(diff_in[f], 300);
    }
    const sc_lfw_pair *a = &p.items[0], *b = &p.items[300], *z = &p.items[5999];
    assert_string_equal(a->name1, "Abel_Pacheco");
    assert_string_equal(a->name2, "Abel_Pacheco");
    assert_true(a->n1 == 1 && a->n2 == 4 && a->same);
    assert_string_equal(b->name1, "Abdel_Madi_Shabneh");
    assert_string_equal(b->name2, "Dean_Barker");
    assert_true(b->n1 == 1 && b->n2 == 1 && !b->same && b->line == 302);
    assert_true(!z->same && z->fold == 9);

    /* every pair names images the aligned reference set has */
    char root[4096], path[4096];
    snprintf(root, sizeof root, "%s", sc_test_shared("data/lfw/reference-aligned-112x96"));
    sc_assert_ok_err(&err, sc_lfw_image_path(root, a->name1, a->n2, NULL, path, sizeof path,
                                             &err));
    char want[4096];
    snprintf(want, sizeof want, "%s/Abel_Pacheco/Abel_Pacheco_0004.jpg", root);
    assert_string_equal(path, want);
    for (size_t i = 0; i < p.count; i++) {
        const sc_lfw_pair *q = &p.items[i];
        sc_assert_ok_err(&err, sc_lfw_image_path(root, q->name1, q->n1, "jpg", path, sizeof path,
                                                 &err));
        if (access(path, R_OK) != 0)
            fail_msg("pair %zu (line %d): %s missing", i, q->line, path);
        sc_assert_ok_err(&err, sc_lfw_image_path(root, q->name2, q->n2, "jpg", path, sizeof path,
                                                 &err));
        if (access(path, R_OK) != 0)
            fail_msg("pair %zu (line %d): %s missing", i, q->line, path);
    }
    sc_lfw_pairs_free(&p);
    sc_lfw_pairs_free(&p);
}

static void test_view1_pairs_file(void **state)
{
    (void)state;
    sc_lfw_pairs p;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_lfw_pairs_load(sc_test_shared("data/lfw/pairsDevTrain.txt"), &p,
                                             &err));
    assert_int_equal(p.folds, 1);
    assert_int_equal(p.per_fold, 1100);
    assert_int_equal(p.count, 2200);
    assert_true(p.items[1099].same && !p.items[1100].same);
    sc_lfw_pairs_free(&p);
}

static void test_pairs_flexible_layout(void **state)
{
    (void)state;
    const char *t = "2 1\r\n"
                    "\n"
                    "A 1 2\r\n"
                    "A  1\tB   3\n"
                    "  C 10 11  \n"
                    "C 2 D 1";
    sc_lfw_pairs p;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_lfw_pairs_parse(t, strlen(t), "mem", &p, &err));
    assert_int_equal(p.count, 4);
    assert_true(p.items[0].same && p.items[0].fold == 0 && p.items[0].line == 3);
    assert_true(!p.items[1].same && p.items[1].n2 == 3);
    assert_string_equal(p.items[1].name2, "B");
    assert_true(p.items[2].same && p.items[2].fold == 1 && p.items[2].n1 == 10);
    assert_true(!p.items[3].same && p.items[3].fold == 1 && p.items[3].line == 6);
    sc_lfw_pairs_free(&p);

    char path[64];
    sc_assert_ok_err(&err, sc_lfw_image_path("", "Zico", 3, "png", path, sizeof path, &err));
    assert_string_equal(path, "Zico/Zico_0003.png");
    sc_assert_ok_err(&err, sc_lfw_image_path("r/", "Zico", 12345, NULL, path, sizeof path, &err));
    assert_string_equal(path, "r/Zico/Zico_12345.jpg");
    assert_int_equal(sc_lfw_image_path("r", "Zico", 1, NULL, path, 8, &err), SC_ERR_ARG);
}

static void expect_bad(const char *text, const char *where, const char *fragment)
{
    sc_lfw_pairs p;
    sc_error err = {0};
    sc_status st = sc_lfw_pairs_parse(text, strlen(text), "pairs.txt", &p, &err);
    if (st != SC_ERR_PARSE || !strstr(err.msg, where) || !strstr(err.msg, fragment))
        fail_msg("for %s: got %s '%s', wanted SC_ERR_PARSE with '%s' and '%s'", text,
                 sc_status_name(st), err.msg, where, fragment);
    assert_null(p.items);
    assert_int_equal(p.count, 0);
}

static void test_malformed_pairs(void **state)
{
    (void)state;
    expect_bad("", "pairs.txt:1:", "header");
    expect_bad("\n\n", "pairs.txt:2:", "header");
    expect_bad("ten 300\n", "pairs.txt:1:", "fold count");
    expect_bad("10 300 7\nA 1 2\n", "pairs.txt:1:", "header");
    expect_bad("0 3\n", "pairs.txt:1:", "fold count");
    expect_bad("1 1\nA 1 B 2\nA 1 B 2\n", "pairs.txt:2:", "expected a matched pair");
    expect_bad("1 1\nA 1 2\nA 1 2\n", "pairs.txt:3:", "expected a mismatched pair");
    expect_bad("1 1\nA 1 2 3 4 5\n", "pairs.txt:2:", "6 fields");
    expect_bad("1 1\nA x 2\nA 1 B 2\n", "pairs.txt:2:", "image number 'x'");
    expect_bad("1 1\nA 0 2\nA 1 B 2\n", "pairs.txt:2:", "image number '0'");
    expect_bad("1 1\nA 1 2\nA 1 B -2\n", "pairs.txt:3:", "image number '-2'");
    expect_bad("1 1\nA 1 2\nA 1 B 99999999999999999999\n", "pairs.txt:3:", "image number");
    expect_bad("1 1\n../x 1 2\nA 1 B 2\n", "pairs.txt:2:", "not a valid person name");
    expect_bad("2 1\nA 1 2\nA 1 B 2\nC 1 2\n", "pairs.txt:4:", "ends after 3 of the 4 pairs");
    expect_bad("1 1\nA 1 2\nA 1 B 2\nC 1 2\n", "pairs.txt:4:", "more pairs than");
    /* a header promising billions allocates nothing large and fails cleanly */
    expect_bad("10000000 1000\nA 1 2\n", "pairs.txt:", "too many");
    expect_bad("100000 1000\nA 1 2\n", "pairs.txt:2:", "ends after 1 of");
    /* a pair missing at a blank line: the error shows where later pairs
     * stop fitting, and names the blank line that explains it */
    expect_bad("1 2\nA 1 2\n\nA 1 B 2\nA 1 B 2\n", "pairs.txt:4:", "line 3 is blank");
    expect_bad("1 2\nA 1 2\n\nA 1 B 2\nA 1 B 2\n", "pairs.txt:4:", "expected a matched pair");

    sc_lfw_pairs p;
    sc_error err = {0};
    assert_int_equal(sc_lfw_pairs_load("/nonexistent/pairs.txt", &p, &err), SC_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/pairs.txt"));
    assert_int_equal(sc_lfw_pairs_parse("1 1\nA 1 2\n\0B 1 C 2\n", 18, "nul", &p, &err),
                     SC_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_matches_brute_force),
        cmocka_unit_test(test_protocol_on_scores_matches_brute_force),
        cmocka_unit_test(test_full_size_matches_brute_force),
        cmocka_unit_test(test_features_match_brute_force),
        cmocka_unit_test(test_known_thresholds_and_ties),
        cmocka_unit_test(test_known_perfect_and_inverted),
        cmocka_unit_test(test_known_features),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_real_pairs_file),
        cmocka_unit_test(test_view1_pairs_file),
        cmocka_unit_test(test_pairs_flexible_layout),
        cmocka_unit_test(test_malformed_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
