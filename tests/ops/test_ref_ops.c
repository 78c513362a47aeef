/* Self-test of the plain C reference ops (tests/common/ref_ops.c), the ground
 * truth every OpenCL kernel is compared with:
 *  - A-Softmax forward and both backward modes against every golden case;
 *  - exact-mode A-Softmax and every analytic backward against central finite
 *    differences of the reference forward;
 *  - convolution against an independent im2col + matrix-product formulation;
 *  - Caffe's pooling output sizes, window sizes and tie rules on hand cases;
 *  - BatchNorm running statistics, SGD, losses and lr policies on hand numbers. */
#include "sc_test.h"
#include "conformance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtext.h"
#include "ref_grad.h"
#include "ref_ops.h"

/* Double against double: the reference and an independent formulation of the
 * same math differ only by rounding. */
#define TIGHT 1e-12
/* Finite differences (h = 1e-6, double): truncation O(h^2) plus cancellation
 * O(eps/h) leave ~1e-9 relative; 1e-6 keeps a wide margin. */
#define FD_TOL 1e-6
#define FD_H 1e-6

static double *alloc_d(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    assert_non_null(p);
    return p;
}

static void fill(sc_conf_rng *r, double *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = sc_conf_uniform(r, lo, hi);
}

static void expect_close(const char *what, const double *a, const double *ref, size_t n,
                         double tol)
{
    double err = ref_rel_err(a, ref, n);
    if (!(err <= tol))
        fail_msg("%s: max|a - ref| / max|ref| = %.3g > %.3g", what, err, tol);
}

static void expect_near(const char *what, double a, double ref, double tol)
{
    if (!(fabs(a - ref) <= tol * fmax(1.0, fabs(ref))))
        fail_msg("%s: %.17g, expected %.17g", what, a, ref);
}

/* FD of fn w.r.t. `in` (all entries, or max_idx spread ones) against analytic. */
static double check_fd(const char *what, ref_fd_fn fn, void *ctx, double *in, size_t n_in,
                       size_t n_out, const double *top_diff, const double *analytic,
                       size_t max_idx)
{
    size_t *idx = calloc(n_in ? n_in : 1, sizeof(size_t));
    double *fd = alloc_d(n_in);
    assert_non_null(idx);
    size_t n_idx = ref_pick_indices(n_in, max_idx, 0x5eed + n_in, idx);
    assert_int_equal(ref_fd_grad(fn, ctx, in, n_in, n_out, top_diff, FD_H, idx, n_idx, fd), 0);
    double err = ref_fd_rel_err(analytic, n_in, idx, n_idx, fd);
    free(idx);
    free(fd);
    if (!(err <= FD_TOL))
        fail_msg("%s: finite differences disagree, rel err %.3g > %.3g", what, err, FD_TOL);
    return err;
}

/* ===================================================== A-Softmax golden cases */

typedef struct golden_case {
    sc_gtext g;
    int m, M, K, N, iter;
    double lambda;
    int *labels;
} golden_case;

static const double *rec(const golden_case *c, const char *name, size_t count)
{
    const sc_gtext_rec *r = sc_gtext_find(&c->g, name);
    if (!r)
        fail_msg("golden record %s missing", name);
    if (r->count != count)
        fail_msg("golden record %s has %zu values, expected %zu", name, r->count, count);
    return r->v;
}

static int scalar_i(const golden_case *c, const char *name)
{
    return (int)rec(c, name, 1)[0];
}

static void load_case(const char *file, golden_case *c)
{
    char rel[256];
    snprintf(rel, sizeof rel, "golden/asoftmax/%s", file);
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_gtext_load(sc_test_shared(rel), &c->g, &err));
    c->m = scalar_i(c, "m");
    c->M = scalar_i(c, "M");
    c->K = scalar_i(c, "K");
    c->N = scalar_i(c, "N");
    c->iter = scalar_i(c, "iter");
    c->lambda = rec(c, "lambda", 1)[0];
    c->labels = calloc((size_t)c->M, sizeof(int));
    assert_non_null(c->labels);
    const double *lab = rec(c, "label", (size_t)c->M);
    for (int i = 0; i < c->M; i++)
        c->labels[i] = (int)lab[i];
}

static void free_case(golden_case *c)
{
    free(c->labels);
    sc_gtext_free(&c->g);
}

/* The case file names, from cases.txt (first token of each non-comment line). */
static int read_case_list(char names[][64], int cap)
{
    FILE *f = fopen(sc_test_shared("golden/asoftmax/cases.txt"), "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (n < cap && fgets(line, sizeof line, f))
        if (line[0] != '#' && sscanf(line, "%63s", names[n]) == 1)
            n++;
    fclose(f);
    return n;
}

static void check_case_lambda_and_signs(const golden_case *c)
{
    double lam = ref_asoftmax_lambda(rec(c, "base", 1)[0], rec(c, "gamma", 1)[0],
                                     rec(c, "power", 1)[0], rec(c, "lambda_min", 1)[0], c->iter);
    expect_near("lambda", lam, c->lambda, 1e-14);
    assert_int_equal(c->iter, scalar_i(c, "iteration") + 1);
    const double *cosv = rec(c, "cos_target", (size_t)c->M);
    const double *s0 = rec(c, "sign_0_target", (size_t)c->M);
    for (int i = 0; i < c->M; i++) {
        double s[5];
        ref_asoftmax_signs(cosv[i], s);
        assert_true(s[0] == s0[i]);
        if (c->m == 3) {
            assert_true(s[1] == rec(c, "sign_1_target", (size_t)c->M)[i]);
            assert_true(s[2] == rec(c, "sign_2_target", (size_t)c->M)[i]);
        }
        if (c->m == 4) {
            assert_true(s[3] == rec(c, "sign_3_target", (size_t)c->M)[i]);
            assert_true(s[4] == rec(c, "sign_4_target", (size_t)c->M)[i]);
        }
    }
}

/* Returns the worst relative error over all compared arrays. */
static double check_case(const golden_case *c)
{
    size_t MK = (size_t)c->M * c->K, NK = (size_t)c->N * c->K, MN = (size_t)c->M * c->N;
    double *W = alloc_d(NK), *f = alloc_d(MN), *prob = alloc_d(MN), *dl = alloc_d(MN);
    double *dx = alloc_d(MK), *dW = alloc_d(NK), *dx2 = alloc_d(MK), *dW2 = alloc_d(NK);
    const double *x = rec(c, "x", MK), *td = rec(c, "top_diff", MN);
    double worst = 0.0;
#define CMP(name, a, n)                                                                    \
    do {                                                                                   \
        double e_ = ref_rel_err((a), rec(c, (name), (n)), (n));                            \
        worst = fmax(worst, e_);                                                           \
        if (!(e_ <= 1e-10))                                                                \
            fail_msg("m=%d %dx%dx%d %s: rel err %.3g", c->m, c->M, c->K, c->N, (name), e_); \
    } while (0)

    check_case_lambda_and_signs(c);
    memcpy(W, rec(c, "W", NK), NK * sizeof(double));
    ref_asoftmax_forward(c->M, c->K, c->N, c->m, c->lambda, x, W, c->labels, f);
    CMP("W_normalized", W, NK);
    CMP("f", f, MN);
    double loss = ref_softmax_loss_forward(c->M, c->N, 1, f, c->labels, 0, 0, REF_NORM_VALID,
                                           prob);
    expect_near("loss", loss, rec(c, "loss", 1)[0], 1e-12);
    ref_softmax_loss_backward(c->M, c->N, 1, prob, c->labels, 0, 0, REF_NORM_VALID, 1.0, dl);
    CMP("dloss_df", dl, MN);
    ref_asoftmax_backward_caffe(c->M, c->K, c->N, c->m, c->lambda, x, W, c->labels, td, dx, dW);
    CMP("dx_caffe", dx, MK);
    CMP("dW_caffe", dW, NK);
    ref_asoftmax_backward_exact(c->M, c->K, c->N, c->m, c->lambda, x, W, c->labels, td, dx2,
                                dW2);
    CMP("dx_exact", dx2, MK);
    CMP("dW_exact", dW2, NK);
#undef CMP
    if (c->m >= 2) /* the two modes must be told apart (README: >= 3e-4 apart) */
        assert_true(ref_rel_err(dx, dx2, MK) > 1e-5 && ref_rel_err(dW, dW2, NK) > 1e-5);
    free(W), free(f), free(prob), free(dl), free(dx), free(dW), free(dx2), free(dW2);
    return worst;
}

static void test_asoftmax_golden(void **state)
{
    (void)state;
    char names[64][64];
    int n = read_case_list(names, 64);
    assert_true(n >= 29);
    double worst = 0.0;
    for (int k = 0; k < n; k++) {
        golden_case c;
        load_case(names[k], &c);
        worst = fmax(worst, check_case(&c));
        free_case(&c);
    }
    print_message("A-Softmax golden: %d cases, worst rel err %.3g (tolerance 1e-10; the "
                  "README's float32 tolerance is 1e-5)\n", n, worst);
}

/* g(c) with Caffe's sign terms equals psi(theta) = (-1)^k cos(m theta) - 2k,
 * k = floor(m theta / pi), written here from acos; and sign(0) = 0. */
static void test_asoftmax_psi(void **state)
{
    (void)state;
    const double pi = 3.14159265358979323846;
    for (int m = 1; m <= 4; m++)
        for (int t = 0; t <= 2000; t++) {
            double c = -0.9995 + t * (1.999 / 2000), theta = acos(c);
            double k = floor(m * theta / pi), g, dg;
            ref_asoftmax_poly(m, c, &g, &dg);
            expect_near("psi", g, (fmod(k, 2) ? -1 : 1) * cos(m * theta) - 2 * k, 1e-12);
        }
    double s[5];
    ref_asoftmax_signs(0.0, s);
    assert_true(s[0] == 0 && s[1] == -1 && s[2] == -2 && s[3] == 0 && s[4] == -3);
    ref_asoftmax_signs(0.5, s); /* |c| - 0.5 == 0 exactly: s1 = 0 */
    assert_true(s[0] == 1 && s[1] == 0 && s[2] == -1);
}

/* ---- exact mode against finite differences of the forward */

typedef struct asm_ctx {
    int M, K, N, m;
    double lambda;
    const double *x, *Wn;
    const int *labels;
    int vary_w; /* 0: `in` is x; 1: `in` is Wn */
} asm_ctx;

static void asm_fwd(void *vctx, const double *in, double *out)
{
    const asm_ctx *c = vctx;
    ref_asoftmax_forward_normalized(c->M, c->K, c->N, c->m, c->lambda, c->vary_w ? c->x : in,
                                    c->vary_w ? in : c->Wn, c->labels, out);
}

/* Indices of x entries in rows away from sign boundaries, and of Wn entries in
 * rows that are no such row's target: FD there never crosses a sign change. */
static size_t far_indices(const golden_case *c, int for_w, size_t *idx)
{
    const double *nb = rec(c, "near_boundary_row", (size_t)c->M);
    size_t n = 0;
    int rows = for_w ? c->N : c->M;
    for (int r = 0; r < rows; r++) {
        int skip = 0;
        for (int i = 0; i < c->M; i++)
            skip |= nb[i] != 0 && (for_w ? c->labels[i] == r : i == r);
        for (int k = 0; !skip && k < c->K; k++)
            idx[n++] = (size_t)r * c->K + k;
    }
    return n;
}

static double fd_case(const golden_case *c, int vary_w, const double *Wn, const double *grad)
{
    size_t n_in = (size_t)(vary_w ? c->N : c->M) * c->K, MN = (size_t)c->M * c->N;
    size_t *idx = calloc(n_in, sizeof(size_t));
    double *in = alloc_d(n_in), *fd = alloc_d(n_in);
    assert_non_null(idx);
    asm_ctx ctx = {c->M, c->K, c->N, c->m, c->lambda, rec(c, "x", (size_t)c->M * c->K), Wn,
                   c->labels, vary_w};
    memcpy(in, vary_w ? Wn : ctx.x, n_in * sizeof(double));
    size_t n_idx = far_indices(c, vary_w, idx);
    if (n_idx > 300) { /* large cases: 300 spread entries */
        size_t pick[300];
        ref_pick_indices(n_idx, 300, 7, pick);
        for (size_t k = 0; k < 300; k++)
            idx[k] = idx[pick[k]];
        n_idx = 300;
    }
    assert_true(n_idx > 0);
    assert_int_equal(ref_fd_grad(asm_fwd, &ctx, in, n_in, MN, rec(c, "top_diff", MN), FD_H,
                                 idx, n_idx, fd), 0);
    double err = ref_fd_rel_err(grad, n_in, idx, n_idx, fd);
    free(idx), free(in), free(fd);
    return err;
}

static void test_asoftmax_exact_fd(void **state)
{
    (void)state;
    char names[64][64];
    int n = read_case_list(names, 64);
    double worst = 0.0;
    for (int k = 0; k < n; k++) {
        golden_case c;
        load_case(names[k], &c);
        size_t NK = (size_t)c.N * c.K, MK = (size_t)c.M * c.K;
        double *Wn = alloc_d(NK), *f = alloc_d((size_t)c.M * c.N);
        double *dx = alloc_d(MK), *dW = alloc_d(NK);
        memcpy(Wn, rec(&c, "W", NK), NK * sizeof(double));
        ref_asoftmax_forward(c.M, c.K, c.N, c.m, c.lambda, rec(&c, "x", MK), Wn, c.labels, f);
        ref_asoftmax_backward_exact(c.M, c.K, c.N, c.m, c.lambda, rec(&c, "x", MK), Wn,
                                    c.labels, rec(&c, "top_diff", (size_t)c.M * c.N), dx, dW);
        double ex = fd_case(&c, 0, Wn, dx), ew = fd_case(&c, 1, Wn, dW);
        if (!(ex <= FD_TOL && ew <= FD_TOL))
            fail_msg("%s: exact A-Softmax vs FD: dx %.3g, dW %.3g", names[k], ex, ew);
        worst = fmax(worst, fmax(ex, ew));
        free(Wn), free(f), free(dx), free(dW);
        free_case(&c);
    }
    print_message("A-Softmax exact vs FD: %d cases, worst rel err %.3g\n", n, worst);
}

/* ====================================================== convolution */

typedef struct conv_shape {
    int N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, group;
} conv_shape;

static const conv_shape conv_shapes[] = {
    {2, 3, 7, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1}, /* odd sizes, stride 2, pad 1 */
    {1, 5, 9, 5, 3, 3, 2, 2, 1, 1, 0, 1, 1, 1}, /* non-square kernel and stride */
    {2, 4, 8, 7, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2}, /* dilation 2, two groups */
    {1, 5, 6, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5}, /* depthwise: group == C == K */
    {3, 7, 5, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1}, /* 1x1 */
};

static int conv_oh(const conv_shape *s) { return ref_conv_out_size(s->H, s->kh, s->sh, s->ph, s->dh); }
static int conv_ow(const conv_shape *s) { return ref_conv_out_size(s->W, s->kw, s->sw, s->pw, s->dw); }
static size_t conv_xn(const conv_shape *s) { return (size_t)s->N * s->C * s->H * s->W; }
static size_t conv_wn(const conv_shape *s) { return (size_t)s->K * (s->C / s->group) * s->kh * s->kw; }
static size_t conv_yn(const conv_shape *s) { return (size_t)s->N * s->K * conv_oh(s) * conv_ow(s); }

/* Caffe's im2col for image n and group g: row (c*kh + i)*kw + j, column oh*OW + ow. */
static void im2col(const conv_shape *s, const double *x, int n, int g, double *col)
{
    int OH = conv_oh(s), OW = conv_ow(s), Cg = s->C / s->group;
    for (int c = 0; c < Cg; c++)
        for (int i = 0; i < s->kh; i++)
            for (int j = 0; j < s->kw; j++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        int row = (c * s->kh + i) * s->kw + j;
                        int ih = -s->ph + i * s->dh + oh * s->sh;
                        int iw = -s->pw + j * s->dw + ow * s->sw;
                        int inside = ih >= 0 && ih < s->H && iw >= 0 && iw < s->W;
                        size_t src = (((size_t)n * s->C + g * Cg + c) * s->H + ih) * s->W + iw;
                        col[(size_t)row * OH * OW + oh * OW + ow] = inside ? x[src] : 0.0;
                    }
}

/* y = W_g (Kg x Cg*kh*kw) * col (Cg*kh*kw x OH*OW) + bias, per image and group. */
static void conv_by_im2col(const conv_shape *s, const double *x, const double *w,
                           const double *b, double *y)
{
    int P = conv_oh(s) * conv_ow(s), Kg = s->K / s->group;
    int R = (s->C / s->group) * s->kh * s->kw;
    double *col = alloc_d((size_t)R * P);
    for (int n = 0; n < s->N; n++)
        for (int g = 0; g < s->group; g++) {
            im2col(s, x, n, g, col);
            for (int kk = 0; kk < Kg; kk++) {
                int k = g * Kg + kk;
                for (int p = 0; p < P; p++) {
                    double acc = b ? b[k] : 0.0;
                    for (int r = 0; r < R; r++)
                        acc += w[(size_t)k * R + r] * col[(size_t)r * P + p];
                    y[((size_t)n * s->K + k) * P + p] = acc;
                }
            }
        }
    free(col);
}

static void conv_fwd_shape(const conv_shape *s, const double *x, const double *w,
                           const double *b, double *y)
{
    ref_conv_forward(s->N, s->C, s->H, s->W, s->K, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw,
                     s->dh, s->dw, s->group, x, w, b, y);
}

static void test_conv_vs_im2col(void **state)
{
    (void)state;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 11);
    for (size_t t = 0; t < sizeof conv_shapes / sizeof conv_shapes[0]; t++) {
        const conv_shape *s = &conv_shapes[t];
        double *x = alloc_d(conv_xn(s)), *w = alloc_d(conv_wn(s)), *b = alloc_d((size_t)s->K);
        double *y = alloc_d(conv_yn(s)), *y2 = alloc_d(conv_yn(s));
        fill(&r, x, conv_xn(s), -1, 1), fill(&r, w, conv_wn(s), -1, 1), fill(&r, b, s->K, -1, 1);
        conv_fwd_shape(s, x, w, t % 2 ? NULL : b, y);
        conv_by_im2col(s, x, w, t % 2 ? NULL : b, y2);
        expect_close("conv forward vs im2col", y, y2, conv_yn(s), TIGHT);
        free(x), free(w), free(b), free(y), free(y2);
    }
}

static void test_conv_sizes(void **state)
{
    (void)state;
    assert_int_equal(ref_conv_out_size(28, 3, 2, 1, 1), 14); /* train_tiny conv1_1 */
    assert_int_equal(ref_conv_out_size(24, 3, 2, 1, 1), 12);
    assert_int_equal(ref_conv_out_size(7, 3, 2, 1, 1), 4);   /* (7+2-3)/2+1 */
    assert_int_equal(ref_conv_out_size(6, 3, 2, 1, 1), 3);   /* floor((6+2-3)/2)+1 */
    assert_int_equal(ref_conv_out_size(112, 3, 2, 1, 1), 56); /* SphereFace conv1 */
    assert_int_equal(ref_conv_out_size(12, 3, 1, 0, 1), 10); /* MTCNN PNet */
    assert_int_equal(ref_conv_out_size(8, 3, 1, 2, 2), 8);   /* dilation 2, pad 2 */
}

typedef struct conv_ctx {
    const conv_shape *s;
    const double *x, *w, *b;
    int which; /* 0 x, 1 w, 2 b */
} conv_ctx;

static void conv_fd_fwd(void *vctx, const double *in, double *out)
{
    const conv_ctx *c = vctx;
    conv_fwd_shape(c->s, c->which == 0 ? in : c->x, c->which == 1 ? in : c->w,
                   c->which == 2 ? in : c->b, out);
}

static void test_conv_backward_fd(void **state)
{
    (void)state;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 12);
    for (size_t t = 0; t < sizeof conv_shapes / sizeof conv_shapes[0]; t++) {
        const conv_shape *s = &conv_shapes[t];
        size_t xn = conv_xn(s), wn = conv_wn(s), yn = conv_yn(s);
        double *x = alloc_d(xn), *w = alloc_d(wn), *b = alloc_d((size_t)s->K);
        double *dy = alloc_d(yn), *dx = alloc_d(xn), *dw = alloc_d(wn), *db = alloc_d(s->K);
        fill(&r, x, xn, -1, 1), fill(&r, w, wn, -1, 1), fill(&r, b, s->K, -1, 1);
        fill(&r, dy, yn, -1, 1);
        ref_conv_backward_data(s->N, s->C, s->H, s->W, s->K, s->kh, s->kw, s->sh, s->sw, s->ph,
                               s->pw, s->dh, s->dw, s->group, w, dy, dx);
        ref_conv_backward_weight(s->N, s->C, s->H, s->W, s->K, s->kh, s->kw, s->sh, s->sw,
                                 s->ph, s->pw, s->dh, s->dw, s->group, x, dy, dw);
        ref_conv_backward_bias(s->N, s->K, conv_oh(s) * conv_ow(s), dy, db);
        conv_ctx c = {s, x, w, b, 0};
        check_fd("conv dx", conv_fd_fwd, &c, x, xn, yn, dy, dx, 400);
        c.which = 1;
        check_fd("conv dw", conv_fd_fwd, &c, w, wn, yn, dy, dw, 400);
        c.which = 2;
        check_fd("conv db", conv_fd_fwd, &c, b, (size_t)s->K, yn, dy, db, 400);
        free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
    }
}

/* ====================================================== inner product */

typedef struct ip_ctx {
    int M, K, N, transpose, which;
    const double *x, *w, *b;
} ip_ctx;

static void ip_fd_fwd(void *vctx, const double *in, double *out)
{
    const ip_ctx *c = vctx;
    ref_inner_product_forward(c->M, c->K, c->N, c->which == 0 ? in : c->x,
                              c->which == 1 ? in : c->w, c->which == 2 ? in : c->b,
                              c->transpose, out);
}

static void test_inner_product(void **state)
{
    (void)state;
    /* Hand case: x = [1 2], w (N x K) = [[1 0] [3 -1] [0 2]], b = [1 1 1] -> [2 2 5]. */
    const double x0[2] = {1, 2}, w0[6] = {1, 0, 3, -1, 0, 2}, b0[3] = {1, 1, 1};
    const double wt0[6] = {1, 3, 0, 0, -1, 2}, want[3] = {2, 2, 5};
    double y0[3];
    ref_inner_product_forward(1, 2, 3, x0, w0, b0, 0, y0);
    expect_close("ip hand", y0, want, 3, TIGHT);
    ref_inner_product_forward(1, 2, 3, x0, wt0, b0, 1, y0);
    expect_close("ip hand transpose", y0, want, 3, TIGHT);

    sc_conf_rng r;
    sc_conf_rng_seed(&r, 13);
    for (int transpose = 0; transpose < 2; transpose++) {
        int M = 3, K = 7, N = 5;
        double *x = alloc_d(M * K), *w = alloc_d(N * K), *b = alloc_d(N), *dy = alloc_d(M * N);
        double *dx = alloc_d(M * K), *dw = alloc_d(N * K), *db = alloc_d(N);
        fill(&r, x, M * K, -1, 1), fill(&r, w, N * K, -1, 1), fill(&r, b, N, -1, 1);
        fill(&r, dy, M * N, -1, 1);
        ref_inner_product_backward(M, K, N, x, w, dy, transpose, dx, dw, db);
        ip_ctx c = {M, K, N, transpose, 0, x, w, b};
        check_fd("ip dx", ip_fd_fwd, &c, x, M * K, M * N, dy, dx, 1000);
        c.which = 1;
        check_fd("ip dw", ip_fd_fwd, &c, w, N * K, M * N, dy, dw, 1000);
        c.which = 2;
        check_fd("ip db", ip_fd_fwd, &c, b, N, M * N, dy, db, 1000);
        free(x), free(w), free(b), free(dy), free(dx), free(dw), free(db);
    }
}

/* ====================================================== pooling */

static void test_pool_sizes(void **state)
{
    (void)state;
    /* 7x6, k3 s2 p0: ceil(4/2)+1 = 3 and ceil(3/2)+1 = 3. */
    assert_int_equal(ref_pool_out_size(7, 3, 2, 0), 3);
    assert_int_equal(ref_pool_out_size(6, 3, 2, 0), 3);
    /* 7x6, k3 s2 p1: ceil(6/2)+1 = 4 and ceil(5/2)+1 = 4; both last windows start
     * inside the image (6 < 7+1, 6 < 6+1). */
    assert_int_equal(ref_pool_out_size(7, 3, 2, 1), 4);
    assert_int_equal(ref_pool_out_size(6, 3, 2, 1), 4);
    /* 3, k2 s2 p1: ceil(3/2)+1 = 3, but window 2 would start at 2*2-1 = 3 = H, in the
     * padding: Caffe drops it -> 2. */
    assert_int_equal(ref_pool_out_size(3, 2, 2, 1), 2);
    /* Ceil where a floor rule would differ: GoogLeNet 112 k3 s2 -> 56 (floor: 55). */
    assert_int_equal(ref_pool_out_size(112, 3, 2, 0), 56);
    assert_int_equal(ref_pool_out_size(55, 3, 2, 0), 27); /* AlexNet pool1 */
    /* MTCNN: PNet 10 k2 s2 -> 5; RNet 22 k3 s2 -> 11, 9 k3 s2 -> 4;
     * ONet 46 k3 s2 -> 23, 21 k3 s2 -> 10, 8 k2 s2 -> 4. */
    assert_int_equal(ref_pool_out_size(10, 2, 2, 0), 5);
    assert_int_equal(ref_pool_out_size(22, 3, 2, 0), 11);
    assert_int_equal(ref_pool_out_size(9, 3, 2, 0), 4);
    assert_int_equal(ref_pool_out_size(46, 3, 2, 0), 23);
    assert_int_equal(ref_pool_out_size(21, 3, 2, 0), 10);
    assert_int_equal(ref_pool_out_size(8, 2, 2, 0), 4);
}

static void test_pool_hand(void **state)
{
    (void)state;
    /* One 4x1 column, kernel 3x1, stride 2x1, pad 1x0: 3 outputs with windows
     * rows [-1,2) size 3, [1,4) size 3, [3,5) size 2 (clipped to H+pad = 5). */
    const double x[4] = {1, 2, 3, 4};
    double y[3], want_ave[3] = {(1 + 2) / 3.0, (2 + 3 + 4) / 3.0, 4 / 2.0};
    ref_pooling_forward(REF_POOL_AVE, 1, 1, 4, 1, 3, 1, 2, 1, 1, 0, 0, x, y, NULL);
    expect_close("AVE pool sizes", y, want_ave, 3, TIGHT);
    /* MAX with a tie: the first maximum in raster order wins. */
    const double xm[4] = {1, 5, 5, 2};
    double want_max[3] = {5, 5, 2};
    int am[3];
    ref_pooling_forward(REF_POOL_MAX, 1, 1, 4, 1, 3, 1, 2, 1, 1, 0, 0, xm, y, am);
    expect_close("MAX pool", y, want_max, 3, TIGHT);
    assert_int_equal(am[0], 1), assert_int_equal(am[1], 1), assert_int_equal(am[2], 3);
    /* Backward of that MAX: both tied windows send their gradient to index 1. */
    double dy[3] = {1, 10, 100}, dx[4], want_dx[4] = {0, 11, 0, 100};
    ref_pooling_backward(REF_POOL_MAX, 1, 1, 4, 1, 3, 1, 2, 1, 1, 0, 0, am, dy, dx);
    expect_close("MAX pool backward", dx, want_dx, 4, TIGHT);
    /* Global AVE over 2x3 = mean; global MAX. */
    const double g[6] = {1, 2, 3, 4, 5, 9};
    double yg;
    ref_pooling_forward(REF_POOL_AVE, 1, 1, 2, 3, 0, 0, 0, 0, 0, 0, 1, g, &yg, NULL);
    expect_near("global AVE", yg, 4.0, TIGHT);
    ref_pooling_forward(REF_POOL_MAX, 1, 1, 2, 3, 0, 0, 0, 0, 0, 0, 1, g, &yg, am);
    expect_near("global MAX", yg, 9.0, TIGHT);
    assert_int_equal(am[0], 5);
}

typedef struct pool_ctx {
    ref_pool_method method;
    int N, C, H, W, kh, kw, sh, sw, ph, pw;
} pool_ctx;

static void pool_fd_fwd(void *vctx, const double *in, double *out)
{
    const pool_ctx *c = vctx;
    ref_pooling_forward(c->method, c->N, c->C, c->H, c->W, c->kh, c->kw, c->sh, c->sw, c->ph,
                        c->pw, 0, in, out, NULL);
}

static void test_pool_backward_fd(void **state)
{
    (void)state;
    const pool_ctx shapes[] = {
        {REF_POOL_MAX, 2, 3, 7, 6, 3, 3, 2, 2, 1, 1}, {REF_POOL_AVE, 2, 3, 7, 6, 3, 3, 2, 2, 1, 1},
        {REF_POOL_MAX, 1, 2, 5, 9, 2, 3, 2, 3, 1, 1}, {REF_POOL_AVE, 1, 2, 5, 9, 2, 3, 2, 3, 1, 1},
        {REF_POOL_AVE, 1, 1, 4, 4, 3, 3, 2, 2, 1, 1},
    };
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 14);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const pool_ctx *p = &shapes[t];
        int OH = ref_pool_out_size(p->H, p->kh, p->sh, p->ph);
        int OW = ref_pool_out_size(p->W, p->kw, p->sw, p->pw);
        size_t xn = (size_t)p->N * p->C * p->H * p->W, yn = (size_t)p->N * p->C * OH * OW;
        double *x = alloc_d(xn), *y = alloc_d(yn), *dy = alloc_d(yn), *dx = alloc_d(xn);
        int *am = calloc(yn, sizeof(int));
        assert_non_null(am);
        /* Distinct values a whole 1e-3 apart: no FD step can reorder a MAX window. */
        for (size_t i = 0; i < xn; i++)
            x[i] = ((double)((i * 37) % xn) - xn / 2.0) * 1e-3 * 7;
        fill(&r, dy, yn, -1, 1);
        ref_pooling_forward(p->method, p->N, p->C, p->H, p->W, p->kh, p->kw, p->sh, p->sw, p->ph,
                            p->pw, 0, x, y, am);
        ref_pooling_backward(p->method, p->N, p->C, p->H, p->W, p->kh, p->kw, p->sh, p->sw,
                             p->ph, p->pw, 0, am, dy, dx);
        check_fd("pool dx", pool_fd_fwd, (void *)p, x, xn, yn, dy, dx, 1000);
        free(x), free(y), free(dy), free(dx), free(am);
    }
}

/* ====================================================== BatchNorm */

typedef struct bn_ctx {
    int N, C, HW, global;
    const double *mean, *var;
    double sf, eps, maf;
} bn_ctx;

/* The forward on private copies of the running blobs, so repeated calls see the same state. */
static void bn_fd_fwd(void *vctx, const double *in, double *out)
{
    const bn_ctx *c = vctx;
    double mean[16], var[16], sf = c->sf;
    memcpy(mean, c->mean, sizeof(double) * c->C);
    memcpy(var, c->var, sizeof(double) * c->C);
    ref_batchnorm_forward(c->N, c->C, c->HW, in, c->global, mean, var, &sf, c->eps, c->maf, out);
}

static void test_batchnorm_running_stats(void **state)
{
    (void)state;
    /* One channel, x = {1, 2, 3, 6}: mean 3, biased var 14/4 = 3.5, m = 4. */
    const double x[4] = {1, 2, 3, 6};
    double mean = 1, var = 2, sf = 1, y[4];
    ref_batchnorm_forward(2, 1, 2, x, 0, &mean, &var, &sf, 1e-5, 0.5, y);
    expect_near("scale_factor", sf, 1.5, TIGHT);          /* 1*0.5 + 1 */
    expect_near("running mean", mean, 3.5, TIGHT);        /* 0.5*1 + 3 */
    expect_near("running var", var, 1 + 3.5 * 4 / 3.0, TIGHT); /* 0.5*2 + 4/3*3.5 */
    for (int i = 0; i < 4; i++)
        expect_near("train y", y[i], (x[i] - 3) / sqrt(3.5 + 1e-5), TIGHT);
    /* Inference with those blobs divides them by scale_factor. */
    ref_batchnorm_forward(2, 1, 2, x, 1, &mean, &var, &sf, 1e-5, 0.5, y);
    for (int i = 0; i < 4; i++)
        expect_near("global y", y[i], (x[i] - 3.5 / 1.5) / sqrt(var / 1.5 + 1e-5), TIGHT);
    expect_near("blobs untouched", mean, 3.5, 0);
    /* scale_factor 0 (never trained): factor 0, so y = x / sqrt(eps). */
    double sf0 = 0;
    ref_batchnorm_forward(2, 1, 2, x, 1, &mean, &var, &sf0, 1e-5, 0.5, y);
    expect_near("zero scale_factor", y[3], 6 / sqrt(1e-5), TIGHT);
    /* m == 1: no bias correction (factor 1). */
    double m1 = 0, v1 = 0, s1 = 0, y1;
    ref_batchnorm_forward(1, 1, 1, x, 0, &m1, &v1, &s1, 1e-5, 0.999, &y1);
    expect_near("m=1 var", v1, 0.0, 0);
}

static void test_batchnorm_backward_fd(void **state)
{
    (void)state;
    const int shapes[][3] = {{2, 3, 5}, {1, 5, 7}, {4, 2, 1}};
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 15);
    for (size_t t = 0; t < 3; t++) {
        int N = shapes[t][0], C = shapes[t][1], HW = shapes[t][2];
        size_t n = (size_t)N * C * HW;
        double *x = alloc_d(n), *dy = alloc_d(n), *dx = alloc_d(n);
        double mean[16], var[16];
        fill(&r, x, n, -2, 3), fill(&r, dy, n, -1, 1);
        fill(&r, mean, C, -1, 1), fill(&r, var, C, 0.5, 2);
        bn_ctx c = {N, C, HW, 0, mean, var, 2.5, 1e-5, 0.999};
        ref_batchnorm_backward(N, C, HW, x, dy, c.eps, dx);
        check_fd("batchnorm train dx", bn_fd_fwd, &c, x, n, n, dy, dx, 1000);
        c.global = 1;
        ref_batchnorm_backward_global(N, C, HW, var, c.sf, c.eps, dy, dx);
        check_fd("batchnorm global dx", bn_fd_fwd, &c, x, n, n, dy, dx, 1000);
        free(x), free(dy), free(dx);
    }
}

/* ====================================================== PReLU and Scale */

typedef struct chan_ctx {
    int N, C, HW, shared, which;
    const double *x, *a, *b;
} chan_ctx;

static void prelu_fd_fwd(void *vctx, const double *in, double *out)
{
    const chan_ctx *c = vctx;
    ref_prelu_forward(c->N, c->C, c->HW, c->which == 0 ? in : c->x, c->which == 1 ? in : c->a,
                      c->shared, out);
}

static void scale_fd_fwd(void *vctx, const double *in, double *out)
{
    const chan_ctx *c = vctx;
    ref_scale_forward(c->N, c->C, c->HW, c->which == 0 ? in : c->x, c->which == 1 ? in : c->a,
                      c->which == 2 ? in : c->b, out);
}

static void test_prelu_scale(void **state)
{
    (void)state;
    const double xh[4] = {-2, 0, 3, -1}, slope[2] = {0.25, 0.5};
    double yh[4], want[4] = {-0.5, 0, 3, -0.5};
    ref_prelu_forward(1, 2, 2, xh, slope, 0, yh);
    expect_close("prelu hand", yh, want, 4, TIGHT);
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 16);
    for (int shared = 0; shared < 2; shared++) {
        int N = 2, C = 3, HW = 5, n = N * C * HW;
        double *x = alloc_d(n), *dy = alloc_d(n), *dx = alloc_d(n);
        double a[3], b[3], da[3], db[3];
        fill(&r, x, n, -1, 1), fill(&r, dy, n, -1, 1), fill(&r, a, 3, 0.1, 0.4);
        fill(&r, b, 3, -1, 1);
        for (int i = 0; i < n; i++) /* keep x away from the kink at 0 */
            x[i] += x[i] < 0 ? -0.05 : 0.05;
        ref_prelu_backward(N, C, HW, x, a, shared, dy, dx, da);
        chan_ctx c = {N, C, HW, shared, 0, x, a, b};
        check_fd("prelu dx", prelu_fd_fwd, &c, x, n, n, dy, dx, 1000);
        c.which = 1;
        check_fd("prelu dslope", prelu_fd_fwd, &c, a, shared ? 1 : C, n, dy, da, 1000);
        ref_scale_backward(N, C, HW, x, a, dy, dx, da, db);
        c.which = 0;
        check_fd("scale dx", scale_fd_fwd, &c, x, n, n, dy, dx, 1000);
        c.which = 1;
        check_fd("scale dgamma", scale_fd_fwd, &c, a, C, n, dy, da, 1000);
        c.which = 2;
        check_fd("scale dbeta", scale_fd_fwd, &c, b, C, n, dy, db, 1000);
        free(x), free(dy), free(dx);
    }
}

/* ====================================================== Eltwise */

typedef struct elt_ctx {
    ref_eltwise_op op;
    int n_inputs, which;
    size_t count;
    const double *const *inputs;
    const double *coeffs;
} elt_ctx;

static void elt_fd_fwd(void *vctx, const double *in, double *out)
{
    const elt_ctx *c = vctx;
    const double *ins[3];
    for (int b = 0; b < c->n_inputs; b++)
        ins[b] = b == c->which ? in : c->inputs[b];
    ref_eltwise_forward(c->op, c->n_inputs, c->count, ins, c->coeffs, out, NULL);
}

static void test_eltwise(void **state)
{
    (void)state;
    /* MAX ties: input 1 beats input 0 on a tie, input 2 must be strictly greater. */
    const double a[2] = {3, 1}, b[2] = {3, 2}, c3[2] = {3, 2};
    const double *ins[3] = {a, b, c3};
    double y[2];
    int am[2];
    ref_eltwise_forward(REF_ELTWISE_MAX, 3, 2, ins, NULL, y, am);
    assert_int_equal(am[0], 1), assert_int_equal(am[1], 1);

    sc_conf_rng r;
    sc_conf_rng_seed(&r, 17);
    enum { n = 23 };
    double *x[3], *dx[3], dy[n], yout[n], coeffs[3] = {0.5, -2, 1.5};
    for (int i = 0; i < 3; i++) {
        x[i] = alloc_d(n), dx[i] = alloc_d(n);
        fill(&r, x[i], n, -1, 1);
    }
    fill(&r, dy, n, -1, 1);
    for (size_t i = 0; i < n; i++) /* MAX: the winner at least 0.5 ahead of the others */
        x[i % 3][i] = sc_conf_uniform(&r, 1.5, 2);
    const ref_eltwise_op ops[3] = {REF_ELTWISE_SUM, REF_ELTWISE_PROD, REF_ELTWISE_MAX};
    int arg[n];
    for (int o = 0; o < 3; o++) {
        const double *cins[3] = {x[0], x[1], x[2]};
        const double *co = ops[o] == REF_ELTWISE_SUM ? coeffs : NULL;
        ref_eltwise_forward(ops[o], 3, n, cins, co, yout, arg);
        ref_eltwise_backward(ops[o], 3, n, cins, co, arg, dy, dx);
        for (int which = 0; which < 3; which++) {
            elt_ctx c = {ops[o], 3, which, n, cins, co};
            check_fd("eltwise dx", elt_fd_fwd, &c, x[which], n, n, dy, dx[which], 1000);
        }
    }
    for (int i = 0; i < 3; i++)
        free(x[i]), free(dx[i]);
}

/* ====================================================== softmax, loss, dropout */

typedef struct sm_ctx {
    int N, C, inner;
    const int *labels;
    int has_ignore, ignore;
    ref_loss_norm norm;
} sm_ctx;

static void softmax_fd_fwd(void *vctx, const double *in, double *out)
{
    const sm_ctx *c = vctx;
    ref_softmax_forward(c->N, c->C, c->inner, in, out);
}

static void loss_fd_fwd(void *vctx, const double *in, double *out)
{
    const sm_ctx *c = vctx;
    out[0] = ref_softmax_loss_forward(c->N, c->C, c->inner, in, c->labels, c->has_ignore,
                                      c->ignore, c->norm, NULL);
}

static void test_softmax_and_loss_fd(void **state)
{
    (void)state;
    enum { N = 3, C = 5, INNER = 2, n = N * C * INNER };
    const int labels[N * INNER] = {0, 4, 255, 2, 1, 3};
    double x[n], y[n], dy[n], dx[n], top = 0.7;
    sc_conf_rng r;
    sc_conf_rng_seed(&r, 18);
    fill(&r, x, n, -3, 3), fill(&r, dy, n, -1, 1);
    sm_ctx c = {N, C, INNER, labels, 1, 255, REF_NORM_VALID};
    ref_softmax_forward(N, C, INNER, x, y);
    ref_softmax_backward(N, C, INNER, y, dy, dx);
    check_fd("softmax dx", softmax_fd_fwd, &c, x, n, n, dy, dx, 1000);
    for (int norm = 0; norm < 4; norm++) {
        c.norm = (ref_loss_norm)norm;
        ref_softmax_loss_forward(N, C, INNER, x, labels, 1, 255, c.norm, y);
        ref_softmax_loss_backward(N, C, INNER, y, labels, 1, 255, c.norm, top, dx);
        check_fd("softmax loss dx", loss_fd_fwd, &c, x, n, 1, &top, dx, 1000);
    }
}

static void test_loss_hand(void **state)
{
    (void)state;
    /* Three rows of two equal logits: each valid row costs ln 2; label 255 ignored. */
    const double x[6] = {0, 0, 1, 1, 2, 2};
    const int labels[3] = {0, 255, 1};
    expect_near("VALID", ref_softmax_loss_forward(3, 2, 1, x, labels, 1, 255, REF_NORM_VALID, NULL),
                2 * log(2.0) / 2, TIGHT);
    expect_near("BATCH", ref_softmax_loss_forward(3, 2, 1, x, labels, 1, 255,
                                                  REF_NORM_BATCH_SIZE, NULL), 2 * log(2.0) / 3, TIGHT);
    expect_near("FULL", ref_softmax_loss_forward(3, 2, 1, x, labels, 1, 255, REF_NORM_FULL, NULL),
                2 * log(2.0) / 3, TIGHT);
    expect_near("NONE", ref_softmax_loss_forward(3, 2, 1, x, labels, 1, 255, REF_NORM_NONE, NULL),
                2 * log(2.0), TIGHT);
    const int all_ignored[3] = {255, 255, 255}; /* normaliser max(1, 0) = 1, loss 0 */
    expect_near("none valid", ref_softmax_loss_forward(3, 2, 1, x, all_ignored, 1, 255,
                                                       REF_NORM_VALID, NULL), 0.0, 0);
    /* A probability below FLT_MIN is clamped: loss = -log(FLT_MIN). */
    const double far[2] = {0, -1000};
    const int one[1] = {1};
    expect_near("clamp", ref_softmax_loss_forward(1, 2, 1, far, one, 0, 0, REF_NORM_VALID, NULL),
                -log(1.17549435082228750797e-38), 1e-14);
    /* Accuracy: ties count against the true class. */
    const double s[6] = {1, 1, 0, 0, 2, 1};
    const int l1[2] = {1, 1}, l2[2] = {0, 2};
    expect_near("acc tie", ref_accuracy(2, 3, 1, s, l1, 1, 0, 0), 0.5, 0);
    expect_near("acc top2", ref_accuracy(2, 3, 1, s, l1, 2, 0, 0), 1.0, 0);
    expect_near("acc none", ref_accuracy(2, 3, 1, s, l2, 1, 0, 0), 0.0, 0);
    expect_near("acc ignore", ref_accuracy(2, 3, 1, s, l1, 1, 1, 1), 0.0, 0);
}

static void test_dropout(void **state)
{
    (void)state;
    const double x[4] = {1, 2, 3, 4};
    const uint8_t mask[4] = {1, 0, 1, 1};
    double y[4], want[4] = {2, 0, 6, 8};
    ref_dropout_forward(4, x, mask, 0.5, 1, y);
    expect_close("dropout train", y, want, 4, TIGHT);
    ref_dropout_forward(4, x, NULL, 0.5, 0, y);
    expect_close("dropout test", y, x, 4, TIGHT);
    ref_dropout_backward(4, x, mask, 0.5, 1, y);
    expect_close("dropout backward", y, want, 4, TIGHT);
}

/* ====================================================== SGD and lr policies */

static void test_sgd(void **state)
{
    (void)state;
    /* g = 0.5 + 0.0005*1*1 = 0.5005; v = 0.9*0.2 + 0.1*2*0.5005 = 0.2801; w = 0.7199. */
    double w = 1, g = 0.5, h = 0.2;
    ref_sgd_update(1, &w, &g, &h, 0.1, 0.9, 0.0005, 2, 1);
    expect_near("history", h, 0.2801, 1e-15);
    expect_near("weight", w, 0.7199, 1e-15);
    /* decay_mult 0 (biases): no decay. */
    w = 1, h = 0;
    ref_sgd_update(1, &w, &g, &h, 0.01, 0.9, 0.0005, 2, 0);
    expect_near("bias weight", w, 1 - 0.01 * 2 * 0.5, 1e-15);
}

static void test_lr_policies(void **state)
{
    (void)state;
    const int sv[3] = {16000, 24000, 28000}; /* SphereFace's solver */
    expect_near("fixed", ref_lr("fixed", 0.1, 0, 0, 0, NULL, 0, 0, 12345), 0.1, 1e-15);
    expect_near("step 99", ref_lr("step", 0.1, 0.1, 0, 100, NULL, 0, 0, 99), 0.1, 1e-15);
    expect_near("step 100", ref_lr("step", 0.1, 0.1, 0, 100, NULL, 0, 0, 100), 0.01, 1e-15);
    expect_near("step 250", ref_lr("step", 0.1, 0.1, 0, 100, NULL, 0, 0, 250), 0.001, 1e-15);
    expect_near("ms 15999", ref_lr("multistep", 0.1, 0.1, 0, 0, sv, 3, 0, 15999), 0.1, 1e-15);
    expect_near("ms 16000", ref_lr("multistep", 0.1, 0.1, 0, 0, sv, 3, 0, 16000), 0.01, 1e-15);
    expect_near("ms 24000", ref_lr("multistep", 0.1, 0.1, 0, 0, sv, 3, 0, 24000), 0.001, 1e-15);
    expect_near("ms 30000", ref_lr("multistep", 0.1, 0.1, 0, 0, sv, 3, 0, 30000), 1e-4, 1e-15);
    /* Duplicate step values: Caffe's counter moves one step per iteration. */
    const int dup[2] = {5, 5};
    expect_near("ms dup 5", ref_lr("multistep", 1, 0.5, 0, 0, dup, 2, 0, 5), 0.5, 1e-15);
    expect_near("ms dup 6", ref_lr("multistep", 1, 0.5, 0, 0, dup, 2, 0, 6), 0.25, 1e-15);
    expect_near("exp", ref_lr("exp", 0.01, 0.5, 0, 0, NULL, 0, 0, 3), 0.00125, 1e-15);
    /* inv: 0.01 * (1 + 1e-4*10000)^-0.75 = 0.01 * 2^-0.75 */
    expect_near("inv", ref_lr("inv", 0.01, 1e-4, 0.75, 0, NULL, 0, 0, 10000),
                0.005946035575013605, 1e-15);
    expect_near("poly", ref_lr("poly", 0.1, 0, 2, 0, NULL, 0, 1000, 250), 0.05625, 1e-15);
    expect_near("sigmoid mid", ref_lr("sigmoid", 0.1, 0.01, 0, 100, NULL, 0, 0, 100), 0.05,
                1e-15);
    /* 0.1 / (1 + e^-1) */
    expect_near("sigmoid", ref_lr("sigmoid", 0.1, 0.01, 0, 100, NULL, 0, 0, 200),
                0.07310585786300049, 1e-15);
    assert_true(isnan(ref_lr("plateau", 0.1, 0.1, 0, 0, NULL, 0, 0, 1)));
    /* The A-Softmax schedule of the golden set. */
    expect_near("lambda first", ref_asoftmax_lambda(1000, 0.12, 1, 5, 1), 1000 / 1.12, 1e-15);
    expect_near("lambda floor", ref_asoftmax_lambda(1000, 0.12, 1, 5, 28001), 5, 0);
}

/* ====================================================== FD helper itself */

static void square_fwd(void *ctx, const double *in, double *out)
{
    (void)ctx;
    out[0] = in[0] * in[0] * in[0];
    out[1] = in[0] * in[1];
}

static void test_fd_helper(void **state)
{
    (void)state;
    /* L = 2*x0^3 + 3*x0*x1 at (1.5, -2): dL/dx0 = 6*x0^2 + 3*x1 = 7.5, dL/dx1 = 4.5. */
    double in[2] = {1.5, -2}, top[2] = {2, 3}, g[2], want[2] = {7.5, 4.5};
    assert_int_equal(ref_fd_grad(square_fwd, NULL, in, 2, 2, top, 1e-5, NULL, 0, g), 0);
    expect_close("fd helper", g, want, 2, 1e-9);
    assert_true(in[0] == 1.5 && in[1] == -2); /* restored */
    size_t idx[1] = {1};
    assert_int_equal(ref_fd_grad(square_fwd, NULL, in, 2, 2, top, 1e-5, idx, 1, g), 0);
    expect_near("fd helper subset", g[0], 4.5, 1e-9);
    size_t picks[5];
    assert_int_equal(ref_pick_indices(100, 5, 3, picks), 5);
    for (int i = 1; i < 5; i++)
        assert_true(picks[i] > picks[i - 1] && picks[i] < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_helper),
        cmocka_unit_test(test_asoftmax_psi),
        cmocka_unit_test(test_asoftmax_golden),
        cmocka_unit_test(test_asoftmax_exact_fd),
        cmocka_unit_test(test_conv_sizes),
        cmocka_unit_test(test_conv_vs_im2col),
        cmocka_unit_test(test_conv_backward_fd),
        cmocka_unit_test(test_inner_product),
        cmocka_unit_test(test_pool_sizes),
        cmocka_unit_test(test_pool_hand),
        cmocka_unit_test(test_pool_backward_fd),
        cmocka_unit_test(test_batchnorm_running_stats),
        cmocka_unit_test(test_batchnorm_backward_fd),
        cmocka_unit_test(test_prelu_scale),
        cmocka_unit_test(test_eltwise),
        cmocka_unit_test(test_softmax_and_loss_fd),
        cmocka_unit_test(test_loss_hand),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_lr_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
