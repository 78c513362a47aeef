/* gtext golden-data reader: a token scanner with line numbers and a loop
 * over "scalar" / "tensor" records. */
#include "gtext.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

/* Golden files are a few MB; anything far larger is a wrong path. */
#define GT_MAX_FILE ((size_t)1 << 30)
/* Longest token accepted: names are short, numbers at most ~25 chars. */
#define GT_MAX_TOKEN 255

typedef struct gt_lexer {
    const char *s;
    size_t len, pos;
    int line;            /* line of the scan position */
    const char *file;
    const char *tok;     /* current token (not NUL-terminated) */
    size_t tok_len;
    int tok_line;
} gt_lexer;

static int gt_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skips whitespace and comments ('#' to the end of the line). */
static void gt_skip(gt_lexer *lx)
{
    while (lx->pos < lx->len) {
        char ch = lx->s[lx->pos];
        if (ch == '#') {
            while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
                lx->pos++;
        } else if (gt_is_space(ch)) {
            lx->line += ch == '\n';
            lx->pos++;
        } else {
            return;
        }
    }
}

/* Advances to the next token; returns 0 at the end of the text. */
static int gt_next(gt_lexer *lx)
{
    gt_skip(lx);
    if (lx->pos >= lx->len)
        return 0;
    lx->tok = lx->s + lx->pos;
    lx->tok_line = lx->line;
    while (lx->pos < lx->len && !gt_is_space(lx->s[lx->pos]))
        lx->pos++;
    lx->tok_len = (size_t)(lx->s + lx->pos - lx->tok);
    return 1;
}

static int gt_tok_is(const gt_lexer *lx, const char *word)
{
    return lx->tok_len == strlen(word) && memcmp(lx->tok, word, lx->tok_len) == 0;
}

/* The current token, NUL-terminated in buf (cut to fit, for messages). */
static const char *gt_tok_str(const gt_lexer *lx, char *buf, size_t cap)
{
    size_t n = lx->tok_len < cap - 1 ? lx->tok_len : cap - 1;
    memcpy(buf, lx->tok, n);
    buf[n] = '\0';
    return buf;
}

static sc_status gt_fail_tok(gt_lexer *lx, sc_error *err, const char *what)
{
    char buf[64];
    return sc_fail(err, SC_ERR_PARSE, "%s:%d: %s, got '%s'", lx->file, lx->tok_line, what,
                   gt_tok_str(lx, buf, sizeof buf));
}

/* Requires one more token on the current record; what says what was expected. */
static sc_status gt_expect(gt_lexer *lx, const char *what, sc_error *err)
{
    if (gt_next(lx))
        return SC_OK;
    return sc_fail(err, SC_ERR_PARSE, "%s:%d: unexpected end of file, expected %s", lx->file,
                   lx->line, what);
}

/* Parses a whole token as a number of the given dtype; 0 when it is not one. */
static int gt_number(const char *tok, size_t n, sc_gtext_dtype dt, double *v, long long *iv)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    if (dt == SC_GTEXT_I32) {
        long long x = strtoll(buf, &end, 10);
        if (*end != '\0' || errno != 0 || x < INT32_MIN || x > INT32_MAX)
            return 0;
        *iv = x;
        *v = (double)x;
        return 1;
    }
    double d = strtod(buf, &end);
    if (*end != '\0' || (errno == ERANGE && isinf(d)))
        return 0;
    /* f32: the reference used this exact float32, so round through float
     * (README: "(double)(float)strtod(s, 0)"). A literal beyond float range is
     * corrupt, not infinity. */
    if (dt == SC_GTEXT_F32) {
        float f = (float)d;
        if (isinf(f) && !isinf(d))
            return 0;
        d = (double)f;
    }
    *v = d;
    return 1;
}

static sc_status gt_name(gt_lexer *lx, sc_gtext_rec *r, sc_error *err)
{
    SC_TRY(gt_expect(lx, "a record name", err));
    if (lx->tok_len > GT_MAX_TOKEN)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: record name longer than %d characters",
                       lx->file, lx->tok_line, GT_MAX_TOKEN);
    for (size_t i = 0; i < lx->tok_len; i++) {
        char ch = lx->tok[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
        if (!ok)
            return gt_fail_tok(lx, err, "bad record name (allowed: A-Z a-z 0-9 _ .)");
    }
    r->name = malloc(lx->tok_len + 1);
    if (!r->name)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", lx->file);
    memcpy(r->name, lx->tok, lx->tok_len);
    r->name[lx->tok_len] = '\0';
    return SC_OK;
}

static sc_status gt_dtype(gt_lexer *lx, sc_gtext_rec *r, sc_error *err)
{
    SC_TRY(gt_expect(lx, "a dtype (f32, f64, i32)", err));
    if (gt_tok_is(lx, "f32"))
        r->dtype = SC_GTEXT_F32;
    else if (gt_tok_is(lx, "f64"))
        r->dtype = SC_GTEXT_F64;
    else if (gt_tok_is(lx, "i32"))
        r->dtype = SC_GTEXT_I32;
    else
        return gt_fail_tok(lx, err, "expected dtype f32, f64 or i32");
    return SC_OK;
}

/* Reads ndim and the dims, and bounds the value count by what the rest of the
 * text can hold (each value takes at least 2 bytes), so a corrupt dim fails
 * here instead of as a huge allocation. */
static sc_status gt_shape(gt_lexer *lx, sc_gtext_rec *r, sc_error *err)
{
    double v;
    long long n;
    SC_TRY(gt_expect(lx, "ndim", err));
    if (!gt_number(lx->tok, lx->tok_len, SC_GTEXT_I32, &v, &n) || n < 1 || n > SC_GTEXT_MAX_DIMS)
        return gt_fail_tok(lx, err, "expected ndim between 1 and 8");
    r->ndim = (int)n;
    size_t count = 1, room = (lx->len - lx->pos) / 2 + 1;
    for (int i = 0; i < r->ndim; i++) {
        SC_TRY(gt_expect(lx, "a dimension", err));
        if (!gt_number(lx->tok, lx->tok_len, SC_GTEXT_I32, &v, &r->dims[i]) || r->dims[i] < 0)
            return gt_fail_tok(lx, err, "expected a dimension >= 0");
        if (r->dims[i] > 0 && count > room / (size_t)r->dims[i])
            return sc_fail(err, SC_ERR_PARSE,
                           "%s:%d: tensor '%s' declares more values than the file holds",
                           lx->file, r->line, r->name);
        count *= (size_t)r->dims[i];
    }
    r->count = count;
    return SC_OK;
}

static sc_status gt_alloc_values(gt_lexer *lx, sc_gtext_rec *r, sc_error *err)
{
    size_t n = r->count ? r->count : 1;
    r->v = malloc(n * sizeof *r->v);
    if (r->dtype == SC_GTEXT_I32)
        r->iv = malloc(n * sizeof *r->iv);
    if (!r->v || (r->dtype == SC_GTEXT_I32 && !r->iv))
        return sc_fail(err, SC_ERR_NOMEM, "%s:%d: out of memory for %zu values", lx->file,
                       r->line, r->count);
    return SC_OK;
}

/* A value that fails to parse right where the next record starts means the
 * tensor is short: say so instead of "bad number 'tensor'". */
static sc_status gt_bad_value(gt_lexer *lx, const sc_gtext_rec *r, size_t i, sc_error *err)
{
    char buf[64];
    if (gt_tok_is(lx, "scalar") || gt_tok_is(lx, "tensor"))
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: %s '%s' has only %zu of its %zu values "
                       "(next record starts at line %d)", lx->file, r->line,
                       r->is_tensor ? "tensor" : "scalar", r->name, i, r->count, lx->tok_line);
    return sc_fail(err, SC_ERR_PARSE, "%s:%d: bad %s value '%s' (value %zu of %s '%s')",
                   lx->file, lx->tok_line, sc_gtext_dtype_name(r->dtype),
                   gt_tok_str(lx, buf, sizeof buf), i + 1, r->is_tensor ? "tensor" : "scalar",
                   r->name);
}

static sc_status gt_values(gt_lexer *lx, sc_gtext_rec *r, sc_error *err)
{
    SC_TRY(gt_alloc_values(lx, r, err));
    for (size_t i = 0; i < r->count; i++) {
        if (!gt_next(lx))
            return sc_fail(err, SC_ERR_PARSE,
                           "%s:%d: %s '%s' has only %zu of its %zu values (end of file)",
                           lx->file, r->line, r->is_tensor ? "tensor" : "scalar", r->name, i,
                           r->count);
        long long iv = 0;
        if (!gt_number(lx->tok, lx->tok_len, r->dtype, &r->v[i], &iv))
            return gt_bad_value(lx, r, i, err);
        if (r->iv)
            r->iv[i] = iv;
    }
    return SC_OK;
}

static void gt_rec_free(sc_gtext_rec *r)
{
    free(r->name);
    free(r->v);
    free(r->iv);
    *r = (sc_gtext_rec){0};
}

/* Parses one record whose keyword ("scalar" or "tensor") is the current token. */
static sc_status gt_record(gt_lexer *lx, const sc_gtext *g, sc_gtext_rec *r, sc_error *err)
{
    r->line = lx->tok_line;
    r->is_tensor = gt_tok_is(lx, "tensor");
    SC_TRY(gt_name(lx, r, err));
    if (sc_gtext_find(g, r->name))
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: duplicate record name '%s' (first at line %d)",
                       lx->file, r->line, r->name, sc_gtext_find(g, r->name)->line);
    SC_TRY(gt_dtype(lx, r, err));
    if (r->is_tensor)
        SC_TRY(gt_shape(lx, r, err));
    else
        r->count = 1;
    return gt_values(lx, r, err);
}

static sc_status gt_push(sc_gtext *g, size_t *cap, sc_gtext_rec *r, sc_error *err)
{
    if (g->count == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        sc_gtext_rec *nrecs = realloc(g->recs, ncap * sizeof *nrecs);
        if (!nrecs)
            return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", g->path);
        g->recs = nrecs;
        *cap = ncap;
    }
    g->recs[g->count++] = *r;
    return SC_OK;
}

static sc_status gt_parse_all(gt_lexer *lx, sc_gtext *g, sc_error *err)
{
    size_t cap = 0;
    while (gt_next(lx)) {
        if (!gt_tok_is(lx, "scalar") && !gt_tok_is(lx, "tensor"))
            return gt_fail_tok(lx, err, "expected 'scalar' or 'tensor'");
        sc_gtext_rec r = {0};
        sc_status st = gt_record(lx, g, &r, err);
        if (st == SC_OK)
            st = gt_push(g, &cap, &r, err);
        if (st != SC_OK) {
            gt_rec_free(&r);
            return st;
        }
    }
    return SC_OK;
}

sc_status sc_gtext_parse(const char *text, size_t len, const char *name, sc_gtext *g,
                         sc_error *err)
{
    *g = (sc_gtext){0};
    g->path = malloc(strlen(name) + 1);
    if (!g->path)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    strcpy(g->path, name);
    gt_lexer lx = {.s = text, .len = len, .line = 1, .file = g->path};
    sc_status st = gt_parse_all(&lx, g, err);
    if (st != SC_OK)
        sc_gtext_free(g);
    return st;
}

sc_status sc_gtext_load(const char *path, sc_gtext *g, sc_error *err)
{
    *g = (sc_gtext){0};
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, GT_MAX_FILE, &data, &size, err));
    sc_status st = sc_gtext_parse((const char *)data, size, path, g, err);
    free(data);
    return st;
}

void sc_gtext_free(sc_gtext *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->count; i++)
        gt_rec_free(&g->recs[i]);
    free(g->recs);
    free(g->path);
    *g = (sc_gtext){0};
}

const sc_gtext_rec *sc_gtext_find(const sc_gtext *g, const char *name)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->recs[i].name, name) == 0)
            return &g->recs[i];
    return NULL;
}

sc_status sc_gtext_get(const sc_gtext *g, const char *name, const sc_gtext_rec **rec,
                       sc_error *err)
{
    *rec = sc_gtext_find(g, name);
    if (!*rec)
        return sc_fail(err, SC_ERR_PARSE, "%s: no record named '%s'", g->path, name);
    return SC_OK;
}

sc_status sc_gtext_scalar(const sc_gtext *g, const char *name, double *value, sc_error *err)
{
    const sc_gtext_rec *r;
    SC_TRY(sc_gtext_get(g, name, &r, err));
    if (r->count != 1)
        return sc_fail(err, SC_ERR_SHAPE, "%s:%d: record '%s' has %zu values, expected one",
                       g->path, r->line, name, r->count);
    *value = r->v[0];
    return SC_OK;
}

sc_status sc_gtext_copy_f32(const sc_gtext *g, const char *name, float *dst, size_t count,
                            sc_error *err)
{
    const sc_gtext_rec *r;
    SC_TRY(sc_gtext_get(g, name, &r, err));
    if (r->count != count)
        return sc_fail(err, SC_ERR_SHAPE, "%s:%d: record '%s' has %zu values, expected %zu",
                       g->path, r->line, name, r->count, count);
    for (size_t i = 0; i < count; i++)
        dst[i] = (float)r->v[i];
    return SC_OK;
}

const char *sc_gtext_dtype_name(sc_gtext_dtype dtype)
{
    switch (dtype) {
    case SC_GTEXT_F32: return "f32";
    case SC_GTEXT_F64: return "f64";
    case SC_GTEXT_I32: return "i32";
    }
    return "?";
}
