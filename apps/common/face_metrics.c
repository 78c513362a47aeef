/* View 1 verification and the angular Fisher score (see face_metrics.h). */
#include "face_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verification.h"

static double dot(const double *a, const double *b, size_t dim)
{
    double s = 0;
    for (size_t k = 0; k < dim; k++)
        s += a[k] * b[k];
    return s;
}

/* x - mu, normalised; 0 when the row is (numerically) at the mean. */
static void centre(const float *x, const double *mu, size_t dim, double *out)
{
    for (size_t k = 0; k < dim; k++)
        out[k] = (double)x[k] - mu[k];
    double len = sqrt(dot(out, out, dim));
    for (size_t k = 0; k < dim; k++)
        out[k] = len > 0 ? out[k] / len : 0.0;
}

static sc_status scores_of(const float *f1, const float *f2, size_t n, size_t dim,
                           const double *mu, double *scores, sc_error *err)
{
    double *a = malloc(dim * sizeof *a), *b = malloc(dim * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    }
    for (size_t i = 0; i < n; i++) {
        centre(f1 + i * dim, mu, dim, a);
        centre(f2 + i * dim, mu, dim, b);
        scores[i] = dot(a, b, dim);
    }
    free(a);
    free(b);
    return SC_OK;
}

static sc_status check_finite(const float *f, size_t count, const char *what, sc_error *err)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(f[i]))
            return sc_fail(err, SC_ERR_NUMERIC, "%s: feature value %zu is not finite", what, i);
    return SC_OK;
}

sc_status sc_verify_view1(const float *train1, const float *train2, const int *train_same,
                          size_t n_train, const float *test1, const float *test2,
                          const int *test_same, size_t n_test, size_t dim, int steps,
                          sc_view1_result *res, sc_error *err)
{
    memset(res, 0, sizeof *res);
    if (n_train == 0 || n_test == 0 || dim == 0)
        return sc_fail(err, SC_ERR_ARG, "view 1: %zu training and %zu test pairs of dim %zu",
                       n_train, n_test, dim);
    SC_TRY(check_finite(train1, n_train * dim, "view 1 training pairs", err));
    SC_TRY(check_finite(train2, n_train * dim, "view 1 training pairs", err));
    SC_TRY(check_finite(test1, n_test * dim, "view 1 test pairs", err));
    SC_TRY(check_finite(test2, n_test * dim, "view 1 test pairs", err));
    double *mu = calloc(dim, sizeof *mu);
    double *st = malloc(n_train * sizeof *st), *ss = malloc(n_test * sizeof *ss);
    sc_status status = mu && st && ss ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    for (size_t i = 0; status == SC_OK && i < n_train; i++)
        for (size_t k = 0; k < dim; k++)
            mu[k] += ((double)train1[i * dim + k] + train2[i * dim + k]) / (2.0 * n_train);
    if (status == SC_OK)
        status = scores_of(train1, train2, n_train, dim, mu, st, err);
    if (status == SC_OK)
        status = scores_of(test1, test2, n_test, dim, mu, ss, err);
    size_t best = 0;
    if (status == SC_OK)
        status = sc_verify_threshold(st, train_same, n_train, steps, &res->threshold, &best, err);
    if (status == SC_OK) {
        res->train_pairs = n_train;
        res->test_pairs = n_test;
        res->train_accuracy = (double)best / n_train;
        res->test_accuracy =
            (double)sc_verify_count_correct(ss, test_same, n_test, res->threshold) / n_test;
    }
    free(mu);
    free(st);
    free(ss);
    return status;
}

/* ------------------------------------------------------- Fisher score */

static double cosine(const double *a, const double *b, size_t dim)
{
    double na = sqrt(dot(a, a, dim)), nb = sqrt(dot(b, b, dim));
    return na > 0 && nb > 0 ? dot(a, b, dim) / (na * nb) : 0.0;
}

/* Normalised rows (double) and the classes as 0..k-1; NULL on failure. */
static double *normalised(const float *f, size_t n, size_t dim, sc_error *err)
{
    double *x = malloc(n * dim * sizeof *x);
    if (!x) {
        sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        double len = 0;
        for (size_t k = 0; k < dim; k++) {
            x[i * dim + k] = f[i * dim + k];
            len += x[i * dim + k] * x[i * dim + k];
        }
        if (!(len > 0) || !isfinite(len)) {
            free(x);
            sc_fail(err, SC_ERR_NUMERIC, "fisher score: feature row %zu is zero or not finite", i);
            return NULL;
        }
        for (size_t k = 0; k < dim; k++)
            x[i * dim + k] /= sqrt(len);
    }
    return x;
}

sc_status sc_angular_fisher(const float *features, const int *labels, size_t n, size_t dim,
                            double *score, sc_error *err)
{
    *score = NAN;
    int lo = 0, hi = -1;
    for (size_t i = 0; i < n; i++) {
        lo = i == 0 || labels[i] < lo ? labels[i] : lo;
        hi = i == 0 || labels[i] > hi ? labels[i] : hi;
    }
    if (n < 2 || dim == 0 || lo == hi || (size_t)(hi - lo) >= n * 64)
        return sc_fail(err, SC_ERR_ARG, "fisher score: %zu features need at least two classes",
                       n);
    size_t k = (size_t)(hi - lo) + 1;
    double *x = normalised(features, n, dim, err);
    double *means = x ? calloc(k * dim, sizeof *means) : NULL, *all = calloc(dim, sizeof *all);
    size_t *count = calloc(k, sizeof *count);
    if (!x || !means || !all || !count) {
        free(x), free(means), free(all), free(count);
        return x ? sc_fail(err, SC_ERR_NOMEM, "out of host memory") : err->status;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)(labels[i] - lo);
        count[c]++;
        for (size_t d = 0; d < dim; d++) {
            means[c * dim + d] += x[i * dim + d];
            all[d] += x[i * dim + d] / n;
        }
    }
    double within = 0, between = 0;
    for (size_t i = 0; i < n; i++) /* the class sums point where the means do */
        within += 1.0 - cosine(x + i * dim, means + (size_t)(labels[i] - lo) * dim, dim);
    for (size_t c = 0; c < k; c++)
        if (count[c])
            between += (double)count[c] * (1.0 - cosine(means + c * dim, all, dim));
    free(x), free(means), free(all), free(count);
    if (!(between > 0))
        return sc_fail(err, SC_ERR_NUMERIC, "fisher score: the class means coincide");
    *score = within / between;
    return SC_OK;
}
