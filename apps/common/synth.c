/* The synthetic identity set on disk: settings, folders, images, train.txt
 * and the LFW-style pairs.txt over the holdout identities. Rendering is in
 * synth_render.c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strerror_r */
#endif
#include "synth.h"

#include "sc_runtime.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_write.h"
#include "verification.h"

#define SY_PATH_MAX 4096

void sc_synth_config_default(sc_synth_config *cfg)
{
    *cfg = (sc_synth_config){.identities = 200, .per_identity = 20, .holdout = 60, .height = 56,
                             .width = 48, .seed = 1, .folds = 10, .pairs_per_fold = 0};
}

void sc_synth_identity_name(int identity, char *dst, size_t cap)
{
    snprintf(dst, cap, "id%04d", identity);
}

/* ------------------------------------------------------------ settings */

/* Distinct pairs of each kind that the smallest fold group can supply. */
static long long sy_capacity(const sc_synth_config *cfg)
{
    long long g = cfg->holdout / cfg->folds, p = cfg->per_identity;
    long long matched = g * (p * (p - 1) / 2), mismatched = g * (g - 1) / 2 * p * p;
    long long cap = matched < mismatched ? matched : mismatched;
    return cap > INT_MAX ? INT_MAX : cap;
}

static sc_status sy_check_sizes(const sc_synth_config *c, sc_error *err)
{
    if (c->identities < 0 || c->holdout < 0 ||
        (long long)c->identities + c->holdout > SC_SYNTH_MAX_IDENTITIES)
        return sc_fail(err, SC_ERR_ARG, "identities %d + holdout %d: each >= 0, at most %d in all",
                       c->identities, c->holdout, SC_SYNTH_MAX_IDENTITIES);
    if (c->identities + c->holdout == 0)
        return sc_fail(err, SC_ERR_ARG, "no identities to generate (identities and holdout are 0)");
    if (c->per_identity < 1 || c->per_identity > SC_SYNTH_MAX_PER_IDENTITY)
        return sc_fail(err, SC_ERR_ARG, "images per identity %d not in 1..%d", c->per_identity,
                       SC_SYNTH_MAX_PER_IDENTITY);
    if (c->width < 8 || c->height < 8 || c->width > SC_SYNTH_MAX_SIDE ||
        c->height > SC_SYNTH_MAX_SIDE)
        return sc_fail(err, SC_ERR_ARG, "image size %dx%d (width x height) not in 8..%d",
                       c->width, c->height, SC_SYNTH_MAX_SIDE);
    return SC_OK;
}

static sc_status sy_check_pairs(const sc_synth_config *c, sc_error *err)
{
    if (c->holdout == 0)
        return SC_OK;
    if (c->folds < 2 || c->folds > SC_VERIFY_MAX_FOLDS)
        return sc_fail(err, SC_ERR_ARG, "folds %d not in 2..%d", c->folds, SC_VERIFY_MAX_FOLDS);
    if (c->holdout < 2 * c->folds)
        return sc_fail(err, SC_ERR_ARG,
                       "holdout %d: pairs.txt needs at least 2 identities per fold (%d for %d "
                       "folds)",
                       c->holdout, 2 * c->folds, c->folds);
    if (c->per_identity < 2)
        return sc_fail(err, SC_ERR_ARG, "holdout pairs need at least 2 images per identity");
    long long cap = sy_capacity(c);
    if (c->pairs_per_fold < 0 || c->pairs_per_fold > cap)
        return sc_fail(err, SC_ERR_ARG,
                       "%d pairs per fold asked, but %d holdout identities in %d folds with %d "
                       "images each supply at most %lld distinct pairs of each kind per fold",
                       c->pairs_per_fold, c->holdout, c->folds, c->per_identity, cap);
    return SC_OK;
}

sc_status sc_synth_check(const sc_synth_config *cfg, sc_error *err)
{
    SC_TRY(sy_check_sizes(cfg, err));
    return sy_check_pairs(cfg, err);
}

int sc_synth_pairs_per_fold(const sc_synth_config *cfg)
{
    if (cfg->holdout == 0)
        return 0;
    if (cfg->pairs_per_fold > 0)
        return cfg->pairs_per_fold;
    long long cap = sy_capacity(cfg);
    return cap < SC_SYNTH_DEFAULT_PAIRS ? (int)cap : SC_SYNTH_DEFAULT_PAIRS;
}

/* ------------------------------------------------------------ text buffer */

typedef struct sy_text {
    char *p;
    size_t len, cap;
    int failed;
} sy_text;

static void sy_printf(sy_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sy_printf(sy_text *t, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
        } else if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        } else {
            size_t cap = (t->cap + (size_t)n + 1) * 2;
            char *p = realloc(t->p, cap);
            if (!p)
                t->failed = 1;
            else {
                t->p = p;
                t->cap = cap;
            }
        }
    }
}

static sc_status sy_text_write(sy_text *t, const char *path, sc_error *err)
{
    sc_status st = t->failed ? sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", path)
                             : sc_write_file_atomic(path, t->p ? t->p : "", t->len, err);
    free(t->p);
    *t = (sy_text){0};
    return st;
}

/* ------------------------------------------------------------ pairs */

/* The pair choice has its own splitmix64 stream. */
static long long sy_below(uint64_t *x, long long n)
{
    return (long long)((double)(sc_splitmix64(x) >> 11) * 0x1.0p-53 * (double)n);
}

static int sy_cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* want distinct values of 0..cap-1, sorted. Rejection sampling while they
 * are sparse; a partial shuffle of the whole range when they are not (then
 * the range is at most twice want). */
static sc_status sy_choose(uint64_t *rng, long long cap, int want, long long *out, sc_error *err)
{
    if (2LL * want > cap) {
        long long *all = malloc((size_t)cap * sizeof *all);
        if (!all)
            return sc_fail(err, SC_ERR_NOMEM, "synth: out of memory choosing pairs");
        for (long long i = 0; i < cap; i++)
            all[i] = i;
        for (int i = 0; i < want; i++) {
            long long j = i + sy_below(rng, cap - i), tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
        }
        memcpy(out, all, (size_t)want * sizeof *out);
        free(all);
    } else {
        for (int i = 0; i < want;) {
            long long v = sy_below(rng, cap);
            int dup = 0;
            for (int j = 0; j < i && !dup; j++)
                dup = out[j] == v;
            if (!dup)
                out[i++] = v;
        }
    }
    qsort(out, (size_t)want, sizeof *out, sy_cmp_ll);
    return SC_OK;
}

/* The r-th pair (a < b) of 0..n-1 in lexicographic order. */
static void sy_unrank_pair(long long r, int n, int *a, int *b)
{
    for (*a = 0; *a < n - 1; (*a)++) {
        long long row = n - 1 - *a;
        if (r < row) {
            *b = *a + 1 + (int)r;
            return;
        }
        r -= row;
    }
    *b = *a;
}

typedef struct sy_group {
    int first, count; /* global identity numbers of one fold's people */
    int per;          /* images per identity */
} sy_group;

static void sy_matched_line(sy_text *t, const sy_group *g, long long idx)
{
    long long per_id = (long long)g->per * (g->per - 1) / 2;
    int a, b;
    sy_unrank_pair(idx % per_id, g->per, &a, &b);
    char name[32];
    sc_synth_identity_name(g->first + (int)(idx / per_id), name, sizeof name);
    sy_printf(t, "%s\t%d\t%d\n", name, a + 1, b + 1);
}

static void sy_mismatched_line(sy_text *t, const sy_group *g, long long idx)
{
    long long pp = (long long)g->per * g->per;
    int u, v;
    sy_unrank_pair(idx / pp, g->count, &u, &v);
    char n1[32], n2[32];
    sc_synth_identity_name(g->first + u, n1, sizeof n1);
    sc_synth_identity_name(g->first + v, n2, sizeof n2);
    sy_printf(t, "%s\t%d\t%s\t%d\n", n1, (int)(idx % pp / g->per) + 1, n2,
              (int)(idx % g->per) + 1);
}

static sc_status sy_fold_pairs(sy_text *t, const sy_group *g, int want, uint64_t *rng,
                               long long *buf, sc_error *err)
{
    long long p = g->per, n = g->count;
    SC_TRY(sy_choose(rng, n * (p * (p - 1) / 2), want, buf, err));
    for (int i = 0; i < want; i++)
        sy_matched_line(t, g, buf[i]);
    SC_TRY(sy_choose(rng, n * (n - 1) / 2 * p * p, want, buf, err));
    for (int i = 0; i < want; i++)
        sy_mismatched_line(t, g, buf[i]);
    return SC_OK;
}

static sc_status sy_write_pairs(const sc_synth_config *cfg, const char *path, sc_error *err)
{
    int want = sc_synth_pairs_per_fold(cfg), F = cfg->folds;
    long long *buf = malloc((size_t)want * sizeof *buf);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "synth: out of memory choosing pairs");
    uint64_t rng = cfg->seed ^ 0x5041495253ull; /* "PAIRS" */
    sy_text t = {0};
    sy_printf(&t, "%d\t%d\n", F, want);
    sc_status st = SC_OK;
    for (int f = 0; f < F && st == SC_OK; f++) {
        int lo = f * cfg->holdout / F, hi = (f + 1) * cfg->holdout / F;
        sy_group g = {cfg->identities + lo, hi - lo, cfg->per_identity};
        st = sy_fold_pairs(&t, &g, want, &rng, buf, err);
    }
    free(buf);
    if (st != SC_OK) {
        free(t.p);
        return st;
    }
    return sy_text_write(&t, path, err);
}

/* ------------------------------------------------------------ files */

static sc_status sy_io_fail(sc_error *err, const char *path, const char *what, int errnum)
{
    char buf[128] = "unknown error";
    (void)strerror_r(errnum, buf, sizeof buf);
    return sc_fail(err, SC_ERR_IO, "%s: %s: %s", path, what, buf);
}


static sc_status sy_join(char *dst, const char *a, const char *b, sc_error *err)
{
    int n = snprintf(dst, SY_PATH_MAX, "%s/%s", a, b);
    if (n < 0 || n >= SY_PATH_MAX)
        return sc_fail(err, SC_ERR_ARG, "path '%s/%s' is too long", a, b);
    return SC_OK;
}

typedef struct sy_run {
    const sc_synth_config *cfg;
    const char *out;
    sc_synth_progress_fn progress;
    void *user;
    size_t done, total;
    sy_text list; /* train.txt */
} sy_run;

/* All images of one identity into <out>/<split>/<name>/, listing training
 * images in train.txt. */
static sc_status sy_identity(sy_run *run, const char *split, int identity, int label,
                             sc_error *err)
{
    char name[32], rel[SY_PATH_MAX], path[SY_PATH_MAX];
    sc_synth_identity_name(identity, name, sizeof name);
    snprintf(rel, sizeof rel, "%s/%s", split, name);
    SC_TRY(sy_join(path, run->out, rel, err));
    SC_TRY(sc_mkdirs(path, err));
    for (int i = 0; i < run->cfg->per_identity; i++) {
        char file[SY_PATH_MAX];
        SC_TRY(sc_lfw_image_path(split, name, i + 1, "png", file, sizeof file, err));
        SC_TRY(sy_join(path, run->out, file, err));
        sc_image img;
        SC_TRY(sc_synth_render(run->cfg, identity, i, &img, err));
        sc_status st = sc_image_write_png(path, &img, err);
        sc_image_free(&img);
        SC_TRY(st);
        if (label >= 0)
            sy_printf(&run->list, "%s %d\n", file, label);
        if (run->progress)
            run->progress(run->user, ++run->done, run->total);
    }
    return SC_OK;
}

static sc_status sy_all_images(sy_run *run, sc_error *err)
{
    const sc_synth_config *c = run->cfg;
    char path[SY_PATH_MAX];
    SC_TRY(sy_join(path, run->out, "train", err));
    SC_TRY(sc_mkdirs(path, err));
    for (int i = 0; i < c->identities; i++)
        SC_TRY(sy_identity(run, "train", i, i, err));
    if (c->holdout == 0)
        return SC_OK;
    SC_TRY(sy_join(path, run->out, "holdout", err));
    SC_TRY(sc_mkdirs(path, err));
    for (int i = 0; i < c->holdout; i++)
        SC_TRY(sy_identity(run, "holdout", c->identities + i, -1, err));
    return SC_OK;
}

static sc_status sy_generate(sy_run *run, sc_synth_summary *sum, sc_error *err)
{
    const sc_synth_config *c = run->cfg;
    char path[SY_PATH_MAX];
    SC_TRY(sc_mkdirs(run->out, err));
    SC_TRY(sy_all_images(run, err));
    SC_TRY(sy_join(path, run->out, "train.txt", err));
    SC_TRY(sy_text_write(&run->list, path, err));
    SC_TRY(sy_join(path, run->out, "pairs.txt", err));
    if (c->holdout == 0) {
        /* a pairs.txt left by an earlier run would name people not made now */
        if (remove(path) != 0 && errno != ENOENT)
            return sy_io_fail(err, path, "cannot remove the old file", errno);
    } else {
        SC_TRY(sy_write_pairs(c, path, err));
        sum->folds = c->folds;
        sum->pairs_per_fold = sc_synth_pairs_per_fold(c);
    }
    sum->train_images = (size_t)c->identities * (size_t)c->per_identity;
    sum->holdout_images = (size_t)c->holdout * (size_t)c->per_identity;
    return SC_OK;
}

sc_status sc_synth_generate(const sc_synth_config *cfg, const char *out_dir,
                            sc_synth_progress_fn progress, void *user, sc_synth_summary *summary,
                            sc_error *err)
{
    sc_synth_summary local;
    sc_synth_summary *sum = summary ? summary : &local;
    memset(sum, 0, sizeof *sum);
    SC_TRY(sc_synth_check(cfg, err));
    if (!out_dir || !*out_dir)
        return sc_fail(err, SC_ERR_ARG, "no output folder given");
    sy_run run = {.cfg = cfg, .out = out_dir, .progress = progress, .user = user};
    run.total = (size_t)(cfg->identities + cfg->holdout) * (size_t)cfg->per_identity;
    sc_status st = sy_generate(&run, sum, err);
    free(run.list.p);
    return st;
}
