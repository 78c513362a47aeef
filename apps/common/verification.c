/* LFW pairs.txt reader and the 10-fold verification protocol (see the header
 * for the exact definition and its numerics). */
#include "verification.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

/* LFW's pairs.txt is ~100 KB; a file of 256 MiB is a wrong path. */
#define VP_MAX_FILE ((size_t)1 << 28)
#define VP_MAX_TOKENS 5
#define VP_MAX_IMAGE_NUMBER 99999999L

/* ------------------------------------------------------------ parsing */

typedef struct vp_parser {
    const char *file;
    int line;
    sc_lfw_pairs *out;
    size_t expected;   /* folds * 2 * per_fold, once the header is read */
    size_t capacity;   /* of out->items */
    int header_line;
    int first_blank;   /* first blank line skipped among the pairs (0: none) */
} vp_parser;

static int vp_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Cuts a line into whitespace-separated tokens in place; returns how many
 * there are (counting beyond VP_MAX_TOKENS, so the caller can report it). */
static int vp_tokens(char *s, char *tok[VP_MAX_TOKENS])
{
    int n = 0;
    while (*s) {
        while (vp_is_space(*s))
            *s++ = '\0';
        if (!*s)
            break;
        if (n < VP_MAX_TOKENS)
            tok[n] = s;
        n++;
        while (*s && !vp_is_space(*s))
            s++;
    }
    return n;
}

static sc_status vp_number(const vp_parser *p, const char *tok, long lo, long hi, const char *what,
                           long *out, sc_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (tok[0] == '-' || tok[0] == '+' || end == tok || *end != '\0' || errno != 0 || v < lo ||
        v > hi)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: %s '%.64s' is not an integer in %ld..%ld",
                       p->file, p->line, what, tok, lo, hi);
    *out = v;
    return SC_OK;
}

/* Names become folder names, so nothing that walks out of the root. */
static sc_status vp_name(const vp_parser *p, const char *tok, sc_error *err)
{
    if (strchr(tok, '/') || !strcmp(tok, ".") || !strcmp(tok, ".."))
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: '%.64s' is not a valid person name", p->file,
                       p->line, tok);
    return SC_OK;
}

static sc_status vp_header(vp_parser *p, char **tok, int ntok, sc_error *err)
{
    long folds = 1, per = 0;
    if (ntok == 1) {
        SC_TRY(vp_number(p, tok[0], 1, INT_MAX / 2, "pair count", &per, err));
    } else if (ntok == 2) {
        SC_TRY(vp_number(p, tok[0], 1, INT_MAX, "fold count", &folds, err));
        SC_TRY(vp_number(p, tok[1], 1, INT_MAX / 2, "pairs per fold", &per, err));
    } else {
        return sc_fail(err, SC_ERR_PARSE,
                       "%s:%d: header must be '<folds> <pairs per fold>' or '<pairs>', got %d "
                       "fields",
                       p->file, p->line, ntok);
    }
    if ((unsigned long long)folds * 2ull * (unsigned long long)per > (unsigned long long)INT_MAX)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: header '%ld %ld' promises too many pairs",
                       p->file, p->line, folds, per);
    p->out->folds = (int)folds;
    p->out->per_fold = (int)per;
    p->expected = (size_t)folds * 2 * (size_t)per;
    p->header_line = p->line;
    return SC_OK;
}

/* One pair line; its position decides its fold and whether it must be a
 * matched (3 fields) or a mismatched (4 fields) pair. */
static sc_status vp_pair(vp_parser *p, char **tok, int ntok, sc_error *err)
{
    size_t i = p->out->count;
    size_t per = (size_t)p->out->per_fold;
    if (i >= p->expected)
        return sc_fail(err, SC_ERR_PARSE,
                       "%s:%d: more pairs than the header's %d folds x 2 x %d (line %d)", p->file,
                       p->line, p->out->folds, p->out->per_fold, p->header_line);
    int same = i % (2 * per) < per;
    int want = same ? 3 : 4;
    if (ntok != want)
        return sc_fail(err, SC_ERR_PARSE,
                       "%s:%d: expected a %s pair '%s' (fold %zu, pair %zu of %zu), got %d "
                       "fields",
                       p->file, p->line, same ? "matched" : "mismatched",
                       same ? "name n1 n2" : "name1 n1 name2 n2", i / (2 * per) + 1,
                       i % (2 * per) + 1, 2 * per, ntok);
    sc_lfw_pair *q = &p->out->items[i];
    long n1, n2;
    SC_TRY(vp_name(p, tok[0], err));
    SC_TRY(vp_number(p, tok[1], 1, VP_MAX_IMAGE_NUMBER, "image number", &n1, err));
    q->name1 = tok[0];
    q->name2 = same ? tok[0] : tok[2];
    if (!same)
        SC_TRY(vp_name(p, tok[2], err));
    SC_TRY(vp_number(p, tok[want - 1], 1, VP_MAX_IMAGE_NUMBER, "image number", &n2, err));
    q->n1 = (int)n1;
    q->n2 = (int)n2;
    q->same = same;
    q->fold = (int)(i / (2 * per));
    q->line = p->line;
    p->out->count++;
    return SC_OK;
}

/* Items are allocated once the header is known, bounded by the line count
 * so that a lying header cannot force a huge allocation. */
static sc_status vp_alloc(vp_parser *p, size_t lines_left, sc_error *err)
{
    p->capacity = p->expected < lines_left ? p->expected : lines_left;
    p->out->items = calloc(p->capacity ? p->capacity : 1, sizeof *p->out->items);
    if (!p->out->items)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot allocate %zu pairs", p->file, p->capacity);
    return SC_OK;
}

static size_t vp_count_lines(const char *s, const char *end)
{
    size_t n = 1;
    for (; s < end; s++)
        n += *s == '\n';
    return n;
}

static sc_status vp_line(vp_parser *p, char *s, const char *end, sc_error *err)
{
    char *tok[VP_MAX_TOKENS];
    int ntok = vp_tokens(s, tok);
    if (ntok == 0) {
        if (p->header_line && !p->first_blank)
            p->first_blank = p->line;
        return SC_OK;
    }
    if (p->header_line == 0) {
        SC_TRY(vp_header(p, tok, ntok, err));
        return vp_alloc(p, vp_count_lines(s, end), err);
    }
    if (p->out->count >= p->capacity && p->out->count < p->expected)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: internal: pair capacity exceeded", p->file,
                       p->line);
    return vp_pair(p, tok, ntok, err);
}

static sc_status vp_run_lines(vp_parser *p, char *text, size_t len, sc_error *err);

/* A pair missing at a blank line shifts every later pair into the wrong
 * slot, and the error shows up far from it: point at the blank line. */
static sc_status vp_blank_hint(const vp_parser *p, sc_status st, sc_error *err)
{
    if (st == SC_ERR_PARSE && p->first_blank && p->first_blank < p->line) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " (line %d is blank: if a pair is missing there, every later pair moved up one "
                 "place)",
                 p->first_blank);
    }
    return st;
}

static sc_status vp_run(vp_parser *p, char *text, size_t len, sc_error *err)
{
    sc_status st = vp_run_lines(p, text, len, err);
    return vp_blank_hint(p, st, err);
}

static sc_status vp_run_lines(vp_parser *p, char *text, size_t len, sc_error *err)
{
    char *s = text, *end = text + len;
    while (s < end) {
        p->line++;
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        *e = '\0';
        SC_TRY(vp_line(p, s, end, err));
        s = e + 1;
    }
    if (p->header_line == 0)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: empty file: no '<folds> <pairs per fold>' header",
                       p->file, p->line > 0 ? p->line : 1);
    if (p->out->count < p->expected)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: file ends after %zu of the %zu pairs its header "
                       "(line %d) promises",
                       p->file, p->line, p->out->count, p->expected, p->header_line);
    return SC_OK;
}

sc_status sc_lfw_pairs_parse(const char *text, size_t len, const char *name, sc_lfw_pairs *pairs,
                             sc_error *err)
{
    memset(pairs, 0, sizeof *pairs);
    if (!name)
        name = "pairs";
    pairs->file = strdup(name);
    pairs->text = malloc(len + 1);
    if (!pairs->file || !pairs->text) {
        sc_lfw_pairs_free(pairs);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(pairs->text, text, len);
    pairs->text[len] = '\0';
    if (memchr(pairs->text, '\0', len)) {
        sc_lfw_pairs_free(pairs);
        return sc_fail(err, SC_ERR_PARSE, "%s: contains NUL bytes (not a text file)", name);
    }
    vp_parser p = {.file = pairs->file, .out = pairs};
    sc_status st = vp_run(&p, pairs->text, len, err);
    if (st != SC_OK)
        sc_lfw_pairs_free(pairs);
    return st;
}

sc_status sc_lfw_pairs_load(const char *path, sc_lfw_pairs *pairs, sc_error *err)
{
    memset(pairs, 0, sizeof *pairs);
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, VP_MAX_FILE, &data, &size, err));
    sc_status st = sc_lfw_pairs_parse((const char *)data, size, path, pairs, err);
    free(data);
    return st;
}

void sc_lfw_pairs_free(sc_lfw_pairs *pairs)
{
    if (!pairs)
        return;
    free(pairs->file);
    free(pairs->items);
    free(pairs->text);
    memset(pairs, 0, sizeof *pairs);
}

sc_status sc_lfw_image_path(const char *root, const char *name, int n, const char *ext,
                            char *dst, size_t cap, sc_error *err)
{
    if (n < 0 || !name || !dst || cap == 0)
        return sc_fail(err, SC_ERR_ARG, "lfw path: bad arguments (image number %d)", n);
    if (!ext)
        ext = "jpg";
    int has_root = root && *root;
    const char *sep = has_root && root[strlen(root) - 1] != '/' ? "/" : "";
    int len = snprintf(dst, cap, "%s%s%s/%s_%04d.%s", has_root ? root : "", sep, name, name, n,
                       ext);
    if (len < 0 || (size_t)len >= cap)
        return sc_fail(err, SC_ERR_ARG, "lfw path for '%.64s' %d does not fit in %zu bytes", name,
                       n, cap);
    return SC_OK;
}

/* ------------------------------------------------------------ threshold */

size_t sc_verify_count_correct(const double *scores, const int *same, size_t n, double t)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += same[i] ? scores[i] > t : scores[i] < t;
    return c;
}

static int vt_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Splits the non-NaN scores into sorted same and different arrays (NaN
 * scores are wrong at every threshold, so they never enter the counts). */
static void vt_split(const double *scores, const int *same, size_t n, double *s_same,
                     size_t *n_same, double *s_diff, size_t *n_diff)
{
    *n_same = *n_diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]))
            continue;
        if (same[i])
            s_same[(*n_same)++] = scores[i];
        else
            s_diff[(*n_diff)++] = scores[i];
    }
    qsort(s_same, *n_same, sizeof *s_same, vt_cmp);
    qsort(s_diff, *n_diff, sizeof *s_diff, vt_cmp);
}

/* The sweep: t_k rises with k, so "same scores <= t" and "different scores
 * < t" are growing prefixes of the sorted arrays. The count at each t_k is
 * the one the brute-force loop would compute, comparison for comparison. */
static void vt_sweep(const double *s_same, size_t n_same, const double *s_diff, size_t n_diff,
                     int steps, double *threshold, size_t *best_correct)
{
    size_t ps = 0, pd = 0, best = 0;
    long long sum_k = 0, count = 0;
    for (long long k = -steps; k <= steps; k++) {
        double t = (double)k / (double)steps;
        while (ps < n_same && s_same[ps] <= t)
            ps++;
        while (pd < n_diff && s_diff[pd] < t)
            pd++;
        size_t c = (n_same - ps) + pd;
        if (c > best || count == 0) {
            best = c;
            sum_k = 0;
            count = 0;
        }
        if (c == best) {
            sum_k += k;
            count++;
        }
    }
    /* sum_k and steps * count are exact in double: one rounding in total. */
    *threshold = (double)sum_k / ((double)steps * (double)count);
    *best_correct = best;
}

sc_status sc_verify_threshold(const double *scores, const int *same, size_t n, int steps,
                              double *threshold, size_t *best_correct, sc_error *err)
{
    if (n == 0)
        return sc_fail(err, SC_ERR_ARG, "verification: no pairs to choose a threshold on");
    if (steps < 1 || steps > SC_VERIFY_MAX_STEPS)
        return sc_fail(err, SC_ERR_ARG, "verification: threshold steps %d not in 1..%d", steps,
                       SC_VERIFY_MAX_STEPS);
    double *buf = malloc(2 * n * sizeof *buf);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "verification: cannot allocate %zu scores", 2 * n);
    size_t n_same, n_diff, best;
    double t;
    vt_split(scores, same, n, buf, &n_same, buf + n, &n_diff);
    vt_sweep(buf, n_same, buf + n, n_diff, steps, &t, &best);
    free(buf);
    if (threshold)
        *threshold = t;
    if (best_correct)
        *best_correct = best;
    return SC_OK;
}

/* ------------------------------------------------------------ protocol */

/* Folds must be 0..F-1 with 2 <= F <= SC_VERIFY_MAX_FOLDS, none empty. */
static sc_status vf_check_folds(const int *fold, size_t n, int *folds, sc_error *err)
{
    size_t per[SC_VERIFY_MAX_FOLDS] = {0};
    int f_max = -1;
    for (size_t i = 0; i < n; i++) {
        if (fold[i] < 0 || fold[i] >= SC_VERIFY_MAX_FOLDS)
            return sc_fail(err, SC_ERR_ARG, "verification: pair %zu has fold %d (0..%d allowed)",
                           i, fold[i], SC_VERIFY_MAX_FOLDS - 1);
        per[fold[i]]++;
        if (fold[i] > f_max)
            f_max = fold[i];
    }
    if (f_max < 1)
        return sc_fail(err, SC_ERR_ARG,
                       "verification: %zu pairs in %d fold(s); the protocol needs at least 2", n,
                       f_max + 1);
    for (int f = 0; f <= f_max; f++)
        if (per[f] == 0)
            return sc_fail(err, SC_ERR_ARG, "verification: fold %d holds no pairs (folds 0..%d)",
                           f, f_max);
    *folds = f_max + 1;
    return SC_OK;
}

static sc_status vf_check_args(size_t n, int steps, sc_verify_result *res, sc_error *err)
{
    memset(res, 0, sizeof *res);
    if (n == 0)
        return sc_fail(err, SC_ERR_ARG, "verification: no pairs");
    if (steps < 1 || steps > SC_VERIFY_MAX_STEPS)
        return sc_fail(err, SC_ERR_ARG, "verification: threshold steps %d not in 1..%d", steps,
                       SC_VERIFY_MAX_STEPS);
    return SC_OK;
}

/* Threshold on the pairs outside test_fold (gathered into the scratch
 * arrays), accuracy on the pairs inside it. */
static sc_status vf_fold(const double *scores, const int *same, const int *fold, size_t n,
                         int test_fold, int steps, double *tr_scores, int *tr_same,
                         sc_verify_result *res, sc_error *err)
{
    size_t m = 0, correct = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        if (fold[i] != test_fold) {
            tr_scores[m] = scores[i];
            tr_same[m++] = same[i] != 0;
        }
    double t;
    size_t best;
    SC_TRY(sc_verify_threshold(tr_scores, tr_same, m, steps, &t, &best, err));
    for (size_t i = 0; i < n; i++)
        if (fold[i] == test_fold) {
            correct += same[i] ? scores[i] > t : scores[i] < t;
            total++;
        }
    res->threshold[test_fold] = t;
    res->correct[test_fold] = correct;
    res->total[test_fold] = total;
    res->accuracy[test_fold] = (double)correct / (double)total;
    res->train_correct[test_fold] = best;
    res->train_total[test_fold] = m;
    return SC_OK;
}

static void vf_summarise(sc_verify_result *res)
{
    double sum = 0, sq = 0;
    for (int f = 0; f < res->folds; f++)
        sum += res->accuracy[f];
    res->mean = sum / res->folds;
    for (int f = 0; f < res->folds; f++)
        sq += (res->accuracy[f] - res->mean) * (res->accuracy[f] - res->mean);
    res->std = sqrt(sq / res->folds);
}

typedef struct vf_scratch {
    double *scores, *tr_scores;
    int *tr_same;
} vf_scratch;

static sc_status vf_scratch_alloc(vf_scratch *s, size_t n, sc_error *err)
{
    s->scores = malloc(n * sizeof *s->scores);
    s->tr_scores = malloc(n * sizeof *s->tr_scores);
    s->tr_same = malloc(n * sizeof *s->tr_same);
    if (!s->scores || !s->tr_scores || !s->tr_same)
        return sc_fail(err, SC_ERR_NOMEM, "verification: cannot allocate scratch for %zu pairs",
                       n);
    return SC_OK;
}

static void vf_scratch_free(vf_scratch *s)
{
    free(s->scores);
    free(s->tr_scores);
    free(s->tr_same);
}

sc_status sc_verify_lfw_scores(const double *scores, const int *same, const int *fold, size_t n,
                               int steps, sc_verify_result *res, sc_error *err)
{
    SC_TRY(vf_check_args(n, steps, res, err));
    SC_TRY(vf_check_folds(fold, n, &res->folds, err));
    vf_scratch s = {0};
    sc_status st = vf_scratch_alloc(&s, n, err);
    for (int f = 0; st == SC_OK && f < res->folds; f++)
        st = vf_fold(scores, same, fold, n, f, steps, s.tr_scores, s.tr_same, res, err);
    vf_scratch_free(&s);
    if (st == SC_OK)
        vf_summarise(res);
    return st;
}

/* Mean of both features of every pair outside test_fold, in double. */
static void vc_mean(const float *feat1, const float *feat2, size_t n, size_t dim, const int *fold,
                    int test_fold, double *mu)
{
    size_t m = 0;
    memset(mu, 0, dim * sizeof *mu);
    for (size_t i = 0; i < n; i++) {
        if (fold[i] == test_fold)
            continue;
        const float *a = feat1 + i * dim, *b = feat2 + i * dim;
        for (size_t d = 0; d < dim; d++)
            mu[d] += (double)a[d] + (double)b[d];
        m += 2;
    }
    for (size_t d = 0; d < dim; d++)
        mu[d] /= (double)m;
}

/* Cosine of (a - mu) and (b - mu); NaN when either has zero length, which
 * is what numpy's 0/0 gives and what makes the pair count as wrong. */
static double vc_cosine(const float *a, const float *b, const double *mu, size_t dim)
{
    double aa = 0, bb = 0, ab = 0;
    for (size_t d = 0; d < dim; d++) {
        double x = (double)a[d] - mu[d], y = (double)b[d] - mu[d];
        aa += x * x;
        bb += y * y;
        ab += x * y;
    }
    if (aa == 0 || bb == 0)
        return NAN;
    return ab / (sqrt(aa) * sqrt(bb));
}

static sc_status vc_check_finite(const float *feat, size_t n, size_t dim, int which,
                                 sc_error *err)
{
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(feat[i]))
            return sc_fail(err, SC_ERR_NUMERIC,
                           "verification: feature %zu of image %d of pair %zu is %g", i % dim,
                           which, i / dim, (double)feat[i]);
    return SC_OK;
}

sc_status sc_verify_centred_scores(const float *feat1, const float *feat2, size_t n, size_t dim,
                                   const int *fold, int test_fold, double *scores, sc_error *err)
{
    if (n == 0 || dim == 0)
        return sc_fail(err, SC_ERR_ARG, "verification: %zu pairs of %zu-d features", n, dim);
    size_t outside = 0;
    for (size_t i = 0; i < n; i++)
        outside += fold[i] != test_fold;
    if (outside == 0)
        return sc_fail(err, SC_ERR_ARG, "verification: no pairs outside test fold %d", test_fold);
    double *mu = malloc(dim * sizeof *mu);
    if (!mu)
        return sc_fail(err, SC_ERR_NOMEM, "verification: cannot allocate a %zu-d mean", dim);
    vc_mean(feat1, feat2, n, dim, fold, test_fold, mu);
    for (size_t i = 0; i < n; i++)
        scores[i] = vc_cosine(feat1 + i * dim, feat2 + i * dim, mu, dim);
    free(mu);
    return SC_OK;
}

sc_status sc_verify_lfw(const float *feat1, const float *feat2, size_t n, size_t dim,
                        const int *same, const int *fold, int steps, sc_verify_result *res,
                        sc_error *err)
{
    SC_TRY(vf_check_args(n, steps, res, err));
    if (dim == 0)
        return sc_fail(err, SC_ERR_ARG, "verification: features of dimension 0");
    SC_TRY(vf_check_folds(fold, n, &res->folds, err));
    SC_TRY(vc_check_finite(feat1, n, dim, 1, err));
    SC_TRY(vc_check_finite(feat2, n, dim, 2, err));
    vf_scratch s = {0};
    sc_status st = vf_scratch_alloc(&s, n, err);
    for (int f = 0; st == SC_OK && f < res->folds; f++) {
        st = sc_verify_centred_scores(feat1, feat2, n, dim, fold, f, s.scores, err);
        if (st == SC_OK)
            st = vf_fold(s.scores, same, fold, n, f, steps, s.tr_scores, s.tr_same, res, err);
    }
    vf_scratch_free(&s);
    if (st == SC_OK)
        vf_summarise(res);
    return st;
}
