/* JSON Lines training logs (train_log.h): a small strict parser for flat
 * objects, enough for what sphere-train writes and a person may edit. */
#include "train_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"
#include "sc_runtime.h"

/* A log of a 28,000-iteration run displayed every iteration is ~4 MB. */
#define LOG_MAX_BYTES (256u << 20)

static const char *const k_keys[SC_LOG_FIELDS] = {"loss", "accuracy", "lambda",
                                                  "lr",   "img_s",    "wall_s"};

const char *sc_train_field_key(sc_train_field f)
{
    return f < SC_LOG_FIELDS ? k_keys[f] : "?";
}

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

static int eat(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A JSON string: its body (escapes kept as written) in [*s, *s + *n). */
static int read_string(cursor *c, const char **s, size_t *n)
{
    if (!eat(c, '"'))
        return 0;
    *s = c->p;
    while (c->p < c->end && *c->p != '"') {
        if ((unsigned char)*c->p < 0x20)
            return 0;
        c->p += *c->p == '\\' && c->p + 1 < c->end ? 2 : 1;
    }
    if (c->p >= c->end)
        return 0;
    *n = (size_t)(c->p - *s);
    c->p++;
    return 1;
}

static int eat_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
        return 0;
    c->p += n;
    return 1;
}

/* JSON's number grammar, checked before strtod (which also takes "inf",
 * hex and a leading '+', none of them JSON). */
static int json_number_span(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    if (q >= end || *q < '0' || *q > '9')
        return 0;
    if (*q == '0')
        q++;
    else
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    if (q < end && *q == '.') {
        if (++q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || *q < '0' || *q > '9')
            return 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    }
    return (int)(q - p);
}

/* A value: a number (into *v), null (NaN); strings, true and false are
 * skipped (NaN). Objects and arrays are refused. */
static int read_value(cursor *c, double *v)
{
    skip_ws(c);
    *v = NAN;
    const char *s;
    size_t n;
    if (c->p < c->end && *c->p == '"')
        return read_string(c, &s, &n);
    if (eat_word(c, "null") || eat_word(c, "true") || eat_word(c, "false"))
        return 1;
    int len = json_number_span(c->p, c->end);
    if (len == 0 || len > 63)
        return 0;
    char buf[64];
    memcpy(buf, c->p, (size_t)len);
    buf[len] = '\0';
    *v = strtod(buf, NULL);
    c->p += len;
    return 1;
}

static int field_of(const char *key, size_t n)
{
    for (int f = 0; f < SC_LOG_FIELDS; f++)
        if (strlen(k_keys[f]) == n && !memcmp(k_keys[f], key, n))
            return f;
    return n == 9 && !memcmp(key, "iteration", 9) ? SC_LOG_FIELDS : -1;
}

/* One line holding one object: row[0..FIELDS) the fields, row[FIELDS] the
 * iteration (NaN when absent, which is an error for the caller). */
static int parse_line(cursor *c, double *row)
{
    for (int f = 0; f <= SC_LOG_FIELDS; f++)
        row[f] = NAN;
    if (!eat(c, '{'))
        return 0;
    if (eat(c, '}'))
        return 1;
    do {
        const char *key;
        size_t n;
        double v;
        if (!read_string(c, &key, &n) || !eat(c, ':') || !read_value(c, &v))
            return 0;
        int f = field_of(key, n);
        if (f >= 0)
            row[f] = v;
    } while (eat(c, ','));
    if (!eat(c, '}'))
        return 0;
    skip_ws(c);
    return c->p == c->end;
}

static int append_row(sc_train_log *log, size_t *cap, const double *row)
{
    if (log->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        double *p = realloc(log->iter, nc * sizeof *p);
        if (!p)
            return 0;
        log->iter = p;
        for (int f = 0; f < SC_LOG_FIELDS; f++) {
            if (!(p = realloc(log->v[f], nc * sizeof *p)))
                return 0;
            log->v[f] = p;
        }
        *cap = nc;
    }
    log->iter[log->n] = row[SC_LOG_FIELDS];
    for (int f = 0; f < SC_LOG_FIELDS; f++)
        log->v[f][log->n] = row[f];
    log->n++;
    return 1;
}

/* Blank lines are skipped; 1 on success, 0 with err set. */
static int take_line(const char *line, const char *end, int last_unterminated, const char *name,
                     int lineno, sc_train_log *log, size_t *cap, sc_error *err)
{
    cursor c = {line, end};
    skip_ws(&c);
    if (c.p == c.end)
        return 1;
    double row[SC_LOG_FIELDS + 1];
    if (!parse_line(&c, row) || !isfinite(row[SC_LOG_FIELDS])) {
        if (last_unterminated)
            return 1; /* a line cut short by a killed writer */
        sc_fail(err, SC_ERR_PARSE, "%s:%d: not a flat JSON object with a numeric \"iteration\"",
                name, lineno);
        return 0;
    }
    if (!append_row(log, cap, row)) {
        sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
        return 0;
    }
    return 1;
}

sc_status sc_train_log_parse(const char *text, size_t len, const char *name, sc_train_log *log,
                             sc_error *err)
{
    memset(log, 0, sizeof *log);
    size_t cap = 0;
    const char *p = text, *end = text + len;
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (!take_line(p, stop, !nl, name, lineno, log, &cap, err)) {
            sc_train_log_free(log);
            return err ? err->status : SC_ERR_PARSE;
        }
        p = nl ? nl + 1 : end;
    }
    return SC_OK;
}

sc_status sc_train_log_read(const char *path, sc_train_log *log, sc_error *err)
{
    memset(log, 0, sizeof *log);
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, LOG_MAX_BYTES, &data, &size, err));
    sc_status st = sc_train_log_parse((const char *)data, size, path, log, err);
    free(data);
    return st;
}

void sc_train_log_free(sc_train_log *log)
{
    free(log->iter);
    for (int f = 0; f < SC_LOG_FIELDS; f++)
        free(log->v[f]);
    memset(log, 0, sizeof *log);
}
