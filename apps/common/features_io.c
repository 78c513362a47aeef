/* Feature files (see features_io.h). */
#include "features_io.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"
#include "sc_files.h"

#define MAX_FILE ((size_t)4 << 30) /* 4 GiB: a million 1024-d rows */

static int is_npy(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}

/* A growing text buffer. */
typedef struct tbuf {
    char *p;
    size_t n, cap;
} tbuf;

static int tb_printf(tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tb_printf(tbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return 0;
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return 1;
        }
        size_t cap = b->cap ? b->cap * 2 : 1 << 20;
        while (cap < b->n + (size_t)k + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
}

static sc_status write_text(const char *path, const char *const *names, const float *rows,
                            size_t n, size_t dim, sc_error *err)
{
    tbuf b = {0};
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        ok = tb_printf(&b, "%s", names[i]);
        for (size_t k = 0; k < dim && ok; k++)
            ok = tb_printf(&b, " %.9g", (double)rows[i * dim + k]);
        ok = ok && tb_printf(&b, "\n");
    }
    sc_status st = ok ? sc_write_file_atomic(path, b.p ? b.p : "", b.n, err)
                      : sc_fail(err, SC_ERR_NOMEM, "%s: out of host memory", path);
    free(b.p);
    return st;
}

static sc_status write_npy(const char *path, const char *const *names, const float *rows,
                           size_t n, size_t dim, sc_error *err)
{
    char header[128];
    int hl = snprintf(header, sizeof header,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", n, dim);
    size_t pad = 64 - ((size_t)10 + (size_t)hl + 1) % 64; /* header ends on a 64-byte boundary */
    size_t head = 10 + (size_t)hl + pad + 1, bytes = head + n * dim * sizeof(float);
    unsigned char *buf = malloc(bytes);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of host memory", path);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    uint16_t len = (uint16_t)(head - 10);
    buf[8] = (unsigned char)(len & 0xff);
    buf[9] = (unsigned char)(len >> 8);
    memcpy(buf + 10, header, (size_t)hl);
    memset(buf + 10 + hl, ' ', pad);
    buf[head - 1] = '\n';
    memcpy(buf + head, rows, n * dim * sizeof(float)); /* little-endian hosts only (x86, ARM) */
    sc_status st = sc_write_file_atomic(path, buf, bytes, err);
    free(buf);
    if (st != SC_OK)
        return st;
    tbuf names_text = {0};
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = tb_printf(&names_text, "%s\n", names[i]);
    char names_path[4200];
    snprintf(names_path, sizeof names_path, "%s.names", path);
    st = ok ? sc_write_file_atomic(names_path, names_text.p ? names_text.p : "", names_text.n, err)
            : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    free(names_text.p);
    return st;
}

sc_status sc_features_write(const char *path, const char *const *names, const float *rows,
                            size_t n, size_t dim, sc_error *err)
{
    return is_npy(path) ? write_npy(path, names, rows, n, dim, err)
                        : write_text(path, names, rows, n, dim, err);
}

void sc_features_free(sc_features *f)
{
    for (size_t i = 0; f->names && i < f->n; i++)
        free(f->names[i]);
    free(f->names);
    free(f->rows);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------- reading */

/* Splits text into lines in place; returns the count (empty lines kept). */
static size_t split_lines(char *text, size_t len, char ***lines)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    n += len > 0 && text[len - 1] != '\n';
    *lines = calloc(n + 1, sizeof **lines);
    if (!*lines)
        return 0;
    size_t k = 0;
    for (char *s = text, *end = text + len; s < end && k < n; k++) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        *e = '\0';
        if (e > s && e[-1] == '\r')
            e[-1] = '\0';
        (*lines)[k] = s;
        s = e + 1;
    }
    return k;
}

/* One text line "name v1 ... vD" into row; dim is fixed by the first line. */
static sc_status parse_row(const char *path, int line, char *s, sc_features *f, size_t cap,
                           sc_error *err)
{
    char *save = NULL, *name = strtok_r(s, " \t", &save);
    if (!name)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: empty line", path, line);
    size_t k = 0;
    for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
        char *end;
        errno = 0;
        double v = strtod(tok, &end);
        if (*end || errno == ERANGE || !isfinite(v))
            return sc_fail(err, SC_ERR_PARSE, "%s:%d: '%s' is not a finite number", path, line,
                           tok);
        if (f->n > 0 && k >= f->dim)
            return sc_fail(err, SC_ERR_PARSE, "%s:%d: more than the %zu values of line 1", path,
                           line, f->dim);
        if (f->n == 0 && k >= cap)
            return sc_fail(err, SC_ERR_PARSE, "%s:%d: over %zu values", path, line, cap);
        f->rows[f->n * (f->n ? f->dim : cap) + k++] = (float)v;
    }
    if (k == 0 || (f->n > 0 && k != f->dim))
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: %zu values, line 1 has %zu", path, line, k,
                       f->dim);
    if (f->n == 0)
        f->dim = k;
    f->names[f->n] = strdup(name);
    if (!f->names[f->n])
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    f->n++;
    return SC_OK;
}

#define MAX_DIM 65536

static sc_status read_text(const char *path, char *text, size_t len, sc_features *f,
                           sc_error *err)
{
    char **lines = NULL;
    size_t n = split_lines(text, len, &lines);
    if (!lines)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += lines[i][0] != '\0';
    /* the first row is parsed into a scratch row of MAX_DIM, then everything
     * is laid out with the real dim */
    f->names = calloc(rows + 1, sizeof *f->names);
    f->rows = malloc(MAX_DIM * sizeof *f->rows);
    sc_status st = f->names && f->rows ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && st == SC_OK; i++) {
        if (!lines[i][0])
            continue;
        st = parse_row(path, (int)i + 1, lines[i], f, MAX_DIM, err);
        if (st == SC_OK && f->n == 1) {
            float *r = realloc(f->rows, (rows ? rows : 1) * f->dim * sizeof *r);
            st = r ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
            if (r)
                f->rows = r;
        }
    }
    if (st == SC_OK && f->n == 0)
        st = sc_fail(err, SC_ERR_PARSE, "%s: no feature rows", path);
    free(lines);
    return st;
}

static sc_status read_npy(const char *path, const unsigned char *d, size_t len, sc_features *f,
                          sc_error *err)
{
    if (len < 10 || memcmp(d, "\x93NUMPY", 6) || d[6] != 1)
        return sc_fail(err, SC_ERR_FORMAT, "%s: not a version 1 .npy file", path);
    size_t hl = d[8] | (size_t)d[9] << 8;
    if (10 + hl > len)
        return sc_fail(err, SC_ERR_FORMAT, "%s: truncated .npy header", path);
    char header[65536];
    memcpy(header, d + 10, hl);
    header[hl] = '\0';
    unsigned long long rows = 0, dim = 0;
    const char *shape = strstr(header, "'shape': (");
    if (!strstr(header, "'descr': '<f4'") || !strstr(header, "'fortran_order': False") || !shape ||
        sscanf(shape, "'shape': (%llu, %llu)", &rows, &dim) != 2 || rows == 0 || dim == 0 ||
        dim > MAX_DIM)
        return sc_fail(err, SC_ERR_FORMAT,
                       "%s: wants a C-order float32 ('<f4') array of shape (n, dim), header: %s",
                       path, header);
    if ((len - 10 - hl) / sizeof(float) / dim < rows)
        return sc_fail(err, SC_ERR_FORMAT, "%s: %llu x %llu floats do not fit in the file", path,
                       rows, dim);
    f->n = (size_t)rows;
    f->dim = (size_t)dim;
    f->rows = malloc(f->n * f->dim * sizeof *f->rows);
    if (!f->rows)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    memcpy(f->rows, d + 10 + hl, f->n * f->dim * sizeof *f->rows);
    return SC_OK;
}

static sc_status read_names(const char *npy, sc_features *f, sc_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.names", npy);
    unsigned char *data;
    size_t len;
    SC_TRY(sc_read_file(path, MAX_FILE, &data, &len, err));
    char **lines = NULL;
    size_t n = split_lines((char *)data, len, &lines);
    sc_status st = lines ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    if (st == SC_OK && n != f->n)
        st = sc_fail(err, SC_ERR_FORMAT, "%s: %zu names for the %zu rows of %s", path, n, f->n,
                     npy);
    if (st == SC_OK)
        f->names = calloc(n + 1, sizeof *f->names);
    for (size_t i = 0; st == SC_OK && i < n; i++)
        if (!f->names || !(f->names[i] = strdup(lines[i])))
            st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    free(lines);
    free(data);
    return st;
}

sc_status sc_features_read(const char *path, sc_features *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *data;
    size_t len;
    SC_TRY(sc_read_file(path, MAX_FILE, &data, &len, err));
    sc_status st = is_npy(path) ? read_npy(path, data, len, out, err)
                                : read_text(path, (char *)data, len, out, err);
    free(data);
    if (st == SC_OK && is_npy(path))
        st = read_names(path, out, err);
    if (st != SC_OK)
        sc_features_free(out);
    return st;
}
