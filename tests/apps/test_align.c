/* 5-point alignment: the similarity fit against a plain normal-equations
 * solve, the template, the warp's pixel geometry, and sphere-align end to end
 * on LFW against ../shared's reference crops and transforms, with bad lines,
 * missing and corrupt photos, and thread-count independence. */
#include "sc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_common.h"
#include "sc_files.h"

#define N_REF 100           /* reference crops compared end to end */
#define MAX_MATRIX_ERR 1e-3 /* per entry, against the reference transforms */
#define MAX_MAD 2.0         /* grey levels, per crop, against the reference crops */

static const sc_point2 k_tpl[5] = {
    {30.2946, 51.6963}, {65.5318, 51.5014}, {48.0252, 71.7366},
    {33.5493, 92.3655}, {62.7299, 92.2041},
};

/* ------------------------------------------------------------- helpers */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    unsigned char *data = NULL;
    size_t size = 0;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_read_file(path, 1u << 28, &data, &size, &err));
    return (char *)data;
}

static void run_ok(const char *cmd, int want_rc, char *out, size_t out_cap, char *err,
                   size_t err_cap)
{
    int rc = sc_test_run(cmd, out, out_cap, err, err_cap);
    if (rc != want_rc)
        fail_msg("%s -> exit %d (want %d)\nstdout: %.2000s\nstderr: %.4000s", cmd, rc, want_rc,
                 out, err);
}

static double max_matrix_diff(const sc_affine *a, const double *b)
{
    double m = 0;
    for (int i = 0; i < 6; i++)
        m = fmax(m, fabs(a->m[i] - b[i]));
    return m;
}

/* The points moved by x' = s R(t) x + (tx, ty). */
static void similar_points(const sc_point2 *p, int n, double s, double t, double tx, double ty,
                           sc_point2 *out)
{
    for (int i = 0; i < n; i++) {
        out[i].x = s * (cos(t) * p[i].x - sin(t) * p[i].y) + tx;
        out[i].y = s * (sin(t) * p[i].x + cos(t) * p[i].y) + ty;
    }
}

/* A plain reference: the 4x4 normal equations of (a, b, tx, ty) for the
 * residuals a x - b y + tx - X and b x + a y + ty - Y, solved by Gaussian
 * elimination with partial pivoting. */
static void reference_fit(const sc_point2 *src, const sc_point2 *dst, int n, double *m)
{
    double A[4][5] = {{0}};
    for (int i = 0; i < n; i++) {
        double rows[2][5] = {{src[i].x, -src[i].y, 1, 0, dst[i].x},
                             {src[i].y, src[i].x, 0, 1, dst[i].y}};
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                    A[j][k] += rows[r][j] * rows[r][k];
    }
    for (int c = 0; c < 4; c++) {
        int piv = c;
        for (int r = c + 1; r < 4; r++)
            if (fabs(A[r][c]) > fabs(A[piv][c]))
                piv = r;
        for (int k = 0; k < 5; k++) {
            double t = A[c][k];
            A[c][k] = A[piv][k];
            A[piv][k] = t;
        }
        for (int r = 0; r < 4; r++)
            if (r != c) {
                double f = A[r][c] / A[c][c];
                for (int k = 0; k < 5; k++)
                    A[r][k] -= f * A[c][k];
            }
    }
    double a = A[0][4] / A[0][0], b = A[1][4] / A[1][1];
    double tx = A[2][4] / A[2][2], ty = A[3][4] / A[3][3];
    double r[6] = {a, -b, tx, b, a, ty};
    memcpy(m, r, sizeof r);
}

static double residual(const sc_affine *m, const sc_point2 *src, const sc_point2 *dst, int n)
{
    double r = 0;
    for (int i = 0; i < n; i++) {
        sc_point2 q = sc_affine_apply(m, src[i]);
        r += (q.x - dst[i].x) * (q.x - dst[i].x) + (q.y - dst[i].y) * (q.y - dst[i].y);
    }
    return r;
}

/* ------------------------------------------------- the similarity fit */

static void test_known_similarity_recovered(void **state)
{
    (void)state;
    const double cases[][4] = {{1.0, 0.0, 0.0, 0.0}, {1.7, 0.3, 5.0, -3.0},
                               {0.4, -2.9, -80.0, 12.5}, {3.2, 3.1, 100.0, 200.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const double *k = cases[c];
        sc_point2 dst[5];
        similar_points(k_tpl, 5, k[0], k[1], k[2], k[3], dst);
        sc_affine m;
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_align_similarity(k_tpl, dst, 5, &m, &err));
        double want[6] = {k[0] * cos(k[1]), -k[0] * sin(k[1]), k[2],
                          k[0] * sin(k[1]), k[0] * cos(k[1]), k[3]};
        printf("  s %.2f t %+.2f: max entry error %.3g\n", k[0], k[1], max_matrix_diff(&m, want));
        assert_true(max_matrix_diff(&m, want) < 1e-9);
    }
}

/* Noisy points: the closed form agrees with the normal equations solved
 * directly, and no small change of the parameters lowers the residual. */
static void test_fit_matches_normal_equations(void **state)
{
    (void)state;
    sc_point2 dst[5], src[5];
    similar_points(k_tpl, 5, 0.8, -0.2, 40.0, 30.0, src);
    const double noise[10] = {0.7, -1.1, 0.3, 0.9, -0.4, 0.2, 1.3, -0.6, -0.8, 0.5};
    for (int i = 0; i < 5; i++) {
        src[i].x += noise[2 * i];
        src[i].y += noise[2 * i + 1];
        dst[i] = k_tpl[i];
    }
    sc_affine m;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_align_similarity(src, dst, 5, &m, &err));
    double ref[6];
    reference_fit(src, dst, 5, ref);
    printf("  closed form vs normal equations: %.3g\n", max_matrix_diff(&m, ref));
    assert_true(max_matrix_diff(&m, ref) < 1e-9);
    /* Moving any of (a, b, tx, ty) either way makes the fit worse. */
    double r0 = residual(&m, src, dst, 5);
    for (int j = 0; j < 4; j++)
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            double p[4] = {m.m[0], m.m[3], m.m[2], m.m[5]};
            p[j] += sgn * 1e-4;
            sc_affine t = {{p[0], -p[1], p[2], p[1], p[0], p[3]}};
            assert_true(residual(&t, src, dst, 5) > r0);
        }
}

/* Mirrored landmarks: a general affine fit would reflect them exactly; the
 * similarity must not (determinant > 0), and must be the best rotation. */
static void test_reflection_never_chosen(void **state)
{
    (void)state;
    sc_point2 src[5];
    for (int i = 0; i < 5; i++)
        src[i] = (sc_point2){150.0 - 1.3 * k_tpl[i].x, 20.0 + 1.3 * k_tpl[i].y};
    sc_affine m;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_align_similarity(src, k_tpl, 5, &m, &err));
    double det = m.m[0] * m.m[4] - m.m[1] * m.m[3];
    double r0 = residual(&m, src, k_tpl, 5);
    printf("  mirrored input: det %.4f, residual %.2f\n", det, r0);
    assert_true(det > 0);
    assert_true(r0 > 1.0); /* a reflection would fit exactly */
    /* Brute force over the angle, each with its best scale (>= 0) and shift. */
    sc_point2 cs = {0, 0}, cd = {0, 0};
    for (int i = 0; i < 5; i++) {
        cs.x += src[i].x / 5;
        cs.y += src[i].y / 5;
        cd.x += k_tpl[i].x / 5;
        cd.y += k_tpl[i].y / 5;
    }
    for (int k = 0; k < 3600; k++) {
        double t = k * (2 * 3.14159265358979323846 / 3600), dot = 0, pp = 0;
        for (int i = 0; i < 5; i++) {
            double px = src[i].x - cs.x, py = src[i].y - cs.y;
            double rx = cos(t) * px - sin(t) * py, ry = sin(t) * px + cos(t) * py;
            dot += rx * (k_tpl[i].x - cd.x) + ry * (k_tpl[i].y - cd.y);
            pp += px * px + py * py;
        }
        double sc = fmax(0.0, dot / pp);
        double a = sc * cos(t), b = sc * sin(t);
        sc_affine cand = {
            {a, -b, cd.x - (a * cs.x - b * cs.y), b, a, cd.y - (b * cs.x + a * cs.y)}};
        assert_true(residual(&cand, src, k_tpl, 5) >= r0 - 1e-9);
    }
}

static void test_degenerate_and_non_finite(void **state)
{
    (void)state;
    sc_point2 same[5] = {{10, 10}, {10, 10}, {10, 10}, {10, 10}, {10, 10}};
    sc_affine m;
    sc_error err = {0};
    assert_int_equal(sc_align_similarity(same, k_tpl, 5, &m, &err), SC_ERR_ARG);
    assert_non_null(strstr(err.msg, "degenerate"));
    sc_point2 bad[5];
    memcpy(bad, k_tpl, sizeof bad);
    bad[3].y = NAN;
    assert_int_equal(sc_align_similarity(bad, k_tpl, 5, &m, &err), SC_ERR_ARG);
    assert_non_null(strstr(err.msg, "point 4 is not finite"));
    bad[3].y = INFINITY;
    assert_int_equal(sc_align_similarity(k_tpl, bad, 5, &m, &err), SC_ERR_ARG);
    assert_int_equal(sc_align_similarity(k_tpl, k_tpl, 1, &m, &err), SC_ERR_ARG);
}

/* -------------------------------------------------------- template */

static void test_template_sizes(void **state)
{
    (void)state;
    sc_point2 t[5];
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_align_template("sphereface", 96, 112, t, &err));
    for (int i = 0; i < 5; i++)
        assert_true(t[i].x == k_tpl[i].x && t[i].y == k_tpl[i].y);
    sc_assert_ok_err(&err, sc_align_template("sphereface", 192, 224, t, &err));
    for (int i = 0; i < 5; i++)
        assert_true(fabs(t[i].x - 2 * k_tpl[i].x) < 1e-12 && fabs(t[i].y - 2 * k_tpl[i].y) < 1e-12);
    /* Square crops: the ArcFace convention, the template 8 pixels right. */
    sc_assert_ok_err(&err, sc_align_template("sphereface", 112, 112, t, &err));
    for (int i = 0; i < 5; i++)
        assert_true(fabs(t[i].x - (k_tpl[i].x + 8)) < 1e-12 && fabs(t[i].y - k_tpl[i].y) < 1e-12);
    assert_int_equal(sc_align_template("arcface", 96, 112, t, &err), SC_ERR_ARG);
    assert_non_null(strstr(err.msg, "arcface"));
    assert_int_equal(sc_align_template("sphereface", 4, 112, t, &err), SC_ERR_ARG);
}

/* ------------------------------------------------------------- warp */

static void test_warp_identity_and_shift(void **state)
{
    (void)state;
    sc_image src;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&src, 7, 5, 3, &err));
    for (int i = 0; i < 7 * 5 * 3; i++)
        src.px[i] = (unsigned char)(i * 37 % 251);
    sc_affine id = {{1, 0, 0, 0, 1, 0}}, shift = {{1, 0, -2, 0, 1, -1}};
    sc_image out;
    sc_assert_ok_err(&err, sc_align_warp(&src, &id, 7, 5, &out, &err));
    assert_memory_equal(out.px, src.px, 7 * 5 * 3);
    sc_image_free(&out);
    /* Crop pixel (u, v) is source pixel (u + 2, v + 1); past the source, black. */
    sc_assert_ok_err(&err, sc_align_warp(&src, &shift, 7, 5, &out, &err));
    for (int v = 0; v < 5; v++)
        for (int u = 0; u < 7; u++)
            for (int k = 0; k < 3; k++) {
                int inside = u + 2 < 7 && v + 1 < 5;
                int want = inside ? src.px[((v + 1) * 7 + u + 2) * 3 + k] : 0;
                assert_int_equal(out.px[(v * 7 + u) * 3 + k], want);
            }
    sc_image_free(&out);
    sc_image_free(&src);
}

/* Enlarging two pixels 4x pins the geometry down: crop pixel u samples the
 * source at (u + 0.5) / 4 - 0.5 (pixel edges map onto pixel edges), the
 * edge pixel repeats up to the image's border, the value is truncated. */
static void test_warp_pixel_geometry(void **state)
{
    (void)state;
    sc_image src;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_alloc(&src, 2, 1, 1, &err));
    src.px[0] = 0;
    src.px[1] = 201;
    sc_affine up4 = {{4, 0, 0, 0, 4, 0}};
    sc_image out;
    sc_assert_ok_err(&err, sc_align_warp(&src, &up4, 10, 4, &out, &err));
    /* x = -0.375 -0.125 0.125 0.375 0.625 0.875 1.125 1.375, then outside. */
    const unsigned char want[10] = {0, 0, 25, 75, 125, 175, 201, 201, 0, 0};
    for (int v = 0; v < 4; v++)
        for (int u = 0; u < 10; u++)
            if (out.px[v * 10 + u] != want[u])
                fail_msg("pixel (%d, %d) = %d, want %d", u, v, out.px[v * 10 + u], want[u]);
    sc_image_free(&out);
    sc_affine singular = {{0, 0, 0, 0, 0, 0}};
    assert_int_equal(sc_align_warp(&src, &singular, 4, 4, &out, &err), SC_ERR_ARG);
    sc_image_free(&src);
}

/* ------------------------------------------------------ end to end */

typedef struct ref_entry {
    char name[256];
    double m[6];
} ref_entry;

/* Reads "name m0..m5" lines (the transforms.txt layout), '#' lines skipped. */
static int read_transforms(const char *path, ref_entry *out, int cap)
{
    char *text = read_text(path);
    int n = 0;
    for (char *line = strtok(text, "\n"); line && n < cap; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        ref_entry *r = &out[n++];
        int got = sscanf(line, "%255s %lf %lf %lf %lf %lf %lf", r->name, &r->m[0], &r->m[1],
                         &r->m[2], &r->m[3], &r->m[4], &r->m[5]);
        if (got != 7)
            fail_msg("%s: bad line '%s'", path, line);
    }
    free(text);
    return n;
}

/* The first n reference transforms whose photo has landmarks, in the
 * reference's order; their landmark lines go to lm_path. Returns how many. */
static int pick_reference(int n, ref_entry *refs, const char *lm_path)
{
    static ref_entry all[8000];
    int total = read_transforms(sc_test_shared("data/lfw/reference-aligned-112x96.transforms.txt"),
                                all, 8000);
    char *lm = read_text(sc_test_shared("data/lfw/lfw_landmark_150px.txt"));
    FILE *f = fopen(lm_path, "wb");
    assert_non_null(f);
    int got = 0;
    for (int i = 0; i < total && got < n; i++) {
        char key[300];
        snprintf(key, sizeof key, "\n%s\t", all[i].name);
        const char *at = strstr(lm, key);
        if (!at)
            continue;
        at++;
        fprintf(f, "%.*s\n", (int)strcspn(at, "\n"), at);
        refs[got++] = all[i];
    }
    assert_int_equal(fclose(f), 0);
    free(lm);
    return got;
}

static double crop_mad(const char *a_path, const char *b_path)
{
    sc_image a, b;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_load(a_path, 3, &a, &err));
    sc_assert_ok_err(&err, sc_image_load(b_path, 3, &b, &err));
    assert_int_equal(a.w, b.w);
    assert_int_equal(a.h, b.h);
    double s = 0;
    size_t n = (size_t)a.w * (size_t)a.h * 3;
    for (size_t i = 0; i < n; i++)
        s += abs((int)a.px[i] - (int)b.px[i]);
    sc_image_free(&a);
    sc_image_free(&b);
    return s / (double)n;
}

static void run_align(const char *lm, const char *src, const char *dst, const char *extra,
                      int want_rc, char *out, char *err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '{APPS}/sphere-align' --landmarks '%s' --src '%s' "
             "--dst '%s' --quiet %s", dst, lm, src, dst, extra);
    run_ok(cmd, want_rc, out, 65536, err, 65536);
}

/* The fit's own doubles against the reference (printed to 4 and 6 decimals). */
static double unrounded_error(const char *lm_path, const ref_entry *refs)
{
    sc_landmark_file lf;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_landmarks_load(lm_path, &lf, &err));
    assert_int_equal(lf.count, N_REF);
    double e = 0;
    for (size_t i = 0; i < lf.count; i++) {
        sc_affine m;
        sc_assert_ok_err(&err, sc_align_similarity(lf.items[i].pt, k_tpl, 5, &m, &err));
        e = fmax(e, max_matrix_diff(&m, refs[i].m));
    }
    sc_landmarks_free(&lf);
    return e;
}

/* Transforms within 1e-3 of the reference and every crop within 2 grey
 * levels of the reference crop, on the first 100 reference photos. */
static void test_lfw_against_reference(void **state)
{
    (void)state;
    static ref_entry refs[N_REF], got[N_REF + 1];
    static char out[65536], err[65536];
    char lm[4096], dst[4096], src[4096], refdir[4096], path[4096];
    snprintf(lm, sizeof lm, "%s", sc_test_tmp("align-ref100.txt"));
    snprintf(dst, sizeof dst, "%s", sc_test_tmp("align-ref100"));
    snprintf(src, sizeof src, "%s", sc_test_shared("data/lfw/lfw-150px"));
    snprintf(refdir, sizeof refdir, "%s", sc_test_shared("data/lfw/reference-aligned-112x96"));
    assert_int_equal(pick_reference(N_REF, refs, lm), N_REF);
    run_align(lm, src, dst, "--threads 3", 0, out, err);
    printf("  %s", out);
    assert_non_null(strstr(out, "100 aligned, 0 skipped"));
    snprintf(path, sizeof path, "%s/transforms.txt", dst);
    assert_int_equal(read_transforms(path, got, N_REF + 1), N_REF);
    double max_err = 0, sum_mad = 0, max_mad = 0;
    int worst = 0;
    for (int i = 0; i < N_REF; i++) {
        assert_string_equal(got[i].name, refs[i].name);
        sc_affine m;
        memcpy(m.m, got[i].m, sizeof m.m);
        max_err = fmax(max_err, max_matrix_diff(&m, refs[i].m));
        char a[8192], b[8192];
        snprintf(a, sizeof a, "%s/%s", dst, refs[i].name);
        snprintf(b, sizeof b, "%s/%s", refdir, refs[i].name);
        double mad = crop_mad(a, b);
        sum_mad += mad;
        if (mad > max_mad) {
            max_mad = mad;
            worst = i;
        }
    }
    printf("  %d photos: transforms.txt max entry error %.3g (limit %g), unrounded %.3g; crop MAD "
           "mean %.3f, max %.3f (%s; limit %g grey levels)\n", N_REF, max_err, MAX_MATRIX_ERR,
           unrounded_error(lm, refs), sum_mad / N_REF, max_mad, refs[worst].name, MAX_MAD);
    assert_true(max_err <= MAX_MATRIX_ERR);
    assert_true(max_mad <= MAX_MAD);
}

static int same_file(const char *a, const char *b)
{
    unsigned char *x, *y;
    size_t nx, ny;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_read_file(a, 1u << 26, &x, &nx, &err));
    sc_assert_ok_err(&err, sc_read_file(b, 1u << 26, &y, &ny, &err));
    int same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* One thread or several: the same bytes in every crop and in transforms.txt. */
static void test_threads_do_not_change_output(void **state)
{
    (void)state;
    static ref_entry refs[30];
    static char out[65536], err[65536];
    char lm[4096], d1[4096], d4[4096], src[4096];
    snprintf(lm, sizeof lm, "%s", sc_test_tmp("align-threads.txt"));
    snprintf(d1, sizeof d1, "%s", sc_test_tmp("align-threads-1"));
    snprintf(d4, sizeof d4, "%s", sc_test_tmp("align-threads-4"));
    snprintf(src, sizeof src, "%s", sc_test_shared("data/lfw/lfw-150px"));
    int n = pick_reference(30, refs, lm);
    run_align(lm, src, d1, "--threads 1", 0, out, err);
    run_align(lm, src, d4, "--threads 4", 0, out, err);
    for (int i = 0; i <= n; i++) {
        char a[8192], b[8192];
        const char *name = i < n ? refs[i].name : "transforms.txt";
        snprintf(a, sizeof a, "%s/%s", d1, name);
        snprintf(b, sizeof b, "%s/%s", d4, name);
        if (!same_file(a, b))
            fail_msg("%s differs between --threads 1 and --threads 4", name);
    }
}

/* --size 224x192 is the 112x96 transform doubled; 112x112 moves it 8 right. */
static void test_other_sizes(void **state)
{
    (void)state;
    static ref_entry refs[10], base[10], big[10], square[10];
    static char out[65536], err[65536];
    char lm[4096], dst[4096], src[4096], path[4096];
    snprintf(lm, sizeof lm, "%s", sc_test_tmp("align-sizes.txt"));
    snprintf(dst, sizeof dst, "%s", sc_test_tmp("align-sizes"));
    snprintf(src, sizeof src, "%s", sc_test_shared("data/lfw/lfw-150px"));
    int n = pick_reference(10, refs, lm);
    ref_entry *sets[3] = {base, big, square};
    const char *sizes[3] = {"--size 112x96", "--size 224x192", "--size 112x112"};
    const int dims[3][2] = {{96, 112}, {192, 224}, {112, 112}};
    for (int s = 0; s < 3; s++) {
        run_align(lm, src, dst, sizes[s], 0, out, err);
        snprintf(path, sizeof path, "%s/transforms.txt", dst);
        assert_int_equal(read_transforms(path, sets[s], 10), n);
        snprintf(path, sizeof path, "%s/%s", dst, refs[0].name);
        int w, h;
        sc_error e = {0};
        sc_assert_ok_err(&e, sc_image_probe(path, &w, &h, &e));
        assert_int_equal(w, dims[s][0]);
        assert_int_equal(h, dims[s][1]);
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 6; k++) {
            double tol = (k == 2 || k == 5) ? 2e-4 : 2e-6; /* printed to 4 and 6 decimals */
            assert_true(fabs(big[i].m[k] - 2 * base[i].m[k]) <= tol);
            assert_true(fabs(square[i].m[k] - base[i].m[k] - (k == 2 ? 8 : 0)) <= tol);
        }
}

/* ------------------------------------------------------- bad inputs */

static void copy_file(const char *from, const char *to, size_t keep)
{
    unsigned char *data;
    size_t size;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_read_file(from, 1u << 26, &data, &size, &err));
    sc_assert_ok_err(&err, sc_mkdirs_for_file(to, &err));
    sc_assert_ok_err(&err, sc_write_file_atomic(to, data, keep && keep < size ? keep : size, &err));
    free(data);
}

static int exists(const char *dir, const char *rel)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

/* A photo folder with two good photos and a truncated one. */
static void make_src(const char *src)
{
    char to[8192];
    const char *names[3] = {"A/a.jpg", "B/b.jpg", "C/c.jpg"};
    const char *from[3] = {"data/lfw/lfw-150px/Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
                           "data/lfw/lfw-150px/Zurab_Tsereteli/Zurab_Tsereteli_0001.jpg",
                           "data/lfw/lfw-150px/Aaron_Guiel/Aaron_Guiel_0001.jpg"};
    for (int i = 0; i < 3; i++) {
        snprintf(to, sizeof to, "%s/%s", src, names[i]);
        copy_file(sc_test_shared(from[i]), to, i == 2 ? 400 : 0);
    }
}

#define PTS_A "64.00\t64.00\t88.00\t66.40\t74.20\t85.60\t61.60\t94.00\t83.20\t96.40"
#define PTS_B "59.80 68.20 84.40 65.20 72.40 83.80 66.40 94.00 87.40 92.20"

static const char k_bad_lines[] =
    "# a comment, then a good line (tabs), and bad ones\n"
    "A/a.jpg\t" PTS_A "\n"                                  /* 2: aligned */
    "B/b.jpg 1 2 3\n"                                       /* 3: 4 fields */
    "B/b.jpg 59.8 68.2 84.4 abc 72.4 83.8 66.4 94 87.4 92.2\n" /* 4: not a number */
    "B/b.jpg 59.8 68.2 84.4 nan 72.4 83.8 66.4 94 87.4 92.2\n" /* 5: not finite */
    "B/b.jpg 10 10 10 10 10 10 10 10 10 10\n"               /* 6: degenerate */
    "missing/x.jpg " PTS_B "\n"                             /* 7: no such photo */
    "C/c.jpg " PTS_B "\n"                                   /* 8: truncated JPEG */
    "B/b.jpg " PTS_B "\r\n"                                 /* 9: aligned (CRLF) */
    "../escape.jpg " PTS_B "\n"                             /* 10: leaves --dst */
    "A/a.jpg " PTS_B "\n";                                  /* 11: A/a.jpg again */

/* Each bad line and bad photo is reported where it is, skipped and counted;
 * the rest is aligned and the run succeeds. */
static void test_bad_lines_and_photos(void **state)
{
    (void)state;
    static char out[65536], err[65536];
    char lm[4096], src[4096], dst[4096], path[4096];
    snprintf(lm, sizeof lm, "%s", sc_test_tmp("align-bad.txt"));
    snprintf(src, sizeof src, "%s", sc_test_tmp("align-bad-src"));
    snprintf(dst, sizeof dst, "%s", sc_test_tmp("align-bad-dst"));
    write_text(lm, k_bad_lines);
    make_src(src);
    run_align(lm, src, dst, "--threads 2", 0, out, err);
    printf("  stdout: %s  stderr:\n%s", out, err);
    assert_non_null(strstr(out, "2 aligned, 8 skipped (6 bad lines, 2 missing or corrupt photos, "
                                "0 not written)"));
    /* In file order, each naming its line or its photo. */
    const char *want[] = {"align-bad.txt:3: 4 fields",
                          "align-bad.txt:4: field 5 ('abc') is not a number",
                          "align-bad.txt:5: field 5 ('nan') is not finite",
                          "align-bad.txt:6: degenerate landmarks", "missing/x.jpg",
                          "C/c.jpg", "align-bad.txt:10: path '../escape.jpg'",
                          "align-bad.txt:11: 'A/a.jpg' again (first on line 2)"};
    const char *at = err;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("stderr lacks '%s' after the previous report", want[i]);
        at = hit;
    }
    assert_true(exists(dst, "A/a.jpg") && exists(dst, "B/b.jpg"));
    assert_false(exists(dst, "C/c.jpg") || exists(dst, "missing") || exists(src, "../escape.jpg"));
    static ref_entry t[4];
    snprintf(path, sizeof path, "%s/transforms.txt", dst);
    assert_int_equal(read_transforms(path, t, 4), 2);
    assert_string_equal(t[0].name, "A/a.jpg");
    assert_string_equal(t[1].name, "B/b.jpg");
}

/* Nothing aligned: exit 1. Refused before any work: exit 2. */
static void test_exit_status(void **state)
{
    (void)state;
    static char out[65536], err[65536];
    char lm[4096], src[4096], dst[4096], cmd[16384];
    snprintf(lm, sizeof lm, "%s", sc_test_tmp("align-none.txt"));
    snprintf(src, sizeof src, "%s", sc_test_tmp("align-bad-src"));
    snprintf(dst, sizeof dst, "%s", sc_test_tmp("align-none-dst"));
    make_src(src);
    write_text(lm, "missing/x.jpg " PTS_B "\nB/b.jpg 1 2\n");
    run_align(lm, src, dst, "", 1, out, err);
    assert_non_null(strstr(out, "0 aligned, 2 skipped"));

    run_align("/no/such/landmarks.txt", src, dst, "", 2, out, err);
    assert_non_null(strstr(err, "/no/such/landmarks.txt"));
    write_text(lm, "# only a comment\n\n");
    run_align(lm, src, dst, "", 2, out, err);
    assert_non_null(strstr(err, "no landmark lines"));
    write_text(lm, "B/b.jpg " PTS_B "\n");
    run_align(lm, "/no/such/folder", dst, "", 2, out, err);
    assert_non_null(strstr(err, "/no/such/folder"));
    run_align(lm, src, dst, "--size 112x", 2, out, err);
    assert_non_null(strstr(err, "--size: '112x'"));
    run_align(lm, src, dst, "--size 96x4", 2, out, err);
    /* The crops must never replace the photos. */
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-align' --landmarks '%s' --src '%s' --dst '%s/.'", lm,
             src, src);
    run_ok(cmd, 2, out, sizeof out, err, sizeof err);
    assert_non_null(strstr(err, "is the --src folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_similarity_recovered),
        cmocka_unit_test(test_fit_matches_normal_equations),
        cmocka_unit_test(test_reflection_never_chosen),
        cmocka_unit_test(test_degenerate_and_non_finite),
        cmocka_unit_test(test_template_sizes),
        cmocka_unit_test(test_warp_identity_and_shift),
        cmocka_unit_test(test_warp_pixel_geometry),
        cmocka_unit_test(test_lfw_against_reference),
        cmocka_unit_test(test_threads_do_not_change_output),
        cmocka_unit_test(test_other_sizes),
        cmocka_unit_test(test_bad_lines_and_photos),
        cmocka_unit_test(test_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
