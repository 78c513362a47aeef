/* 5-point landmark files (see landmarks.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "landmarks.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

/* A landmark file of 1 GiB would be ten million faces; anything larger is
 * not a landmark file. */
#define LANDMARKS_MAX_FILE (1u << 30)
#define FIELDS (1 + 2 * SC_ALIGN_POINTS)

/* Sets e->problem to "name:line: <fmt>"; returns 0 on success, -1 when out
 * of memory. */
static int set_problem(sc_landmark_entry *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_problem(sc_landmark_entry *e, const char *name, const char *fmt, ...)
{
    char why[512], msg[4096 + 600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%.4096s:%d: %s", name, e->line, why);
    e->path = "";
    e->problem = strdup(msg);
    return e->problem ? 0 : -1;
}

/* Splits line (NUL-terminated, modified) into fields: on runs of tabs, with
 * spaces around each field trimmed, when the line has a tab; else on runs of
 * spaces. Stores up to cap field pointers; returns how many fields there are. */
static size_t split_fields(char *line, char **f, size_t cap)
{
    int tabs = strchr(line, '\t') != NULL;
    char sep = tabs ? '\t' : ' ';
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == sep || *p == ' ')
            p++;
        if (!*p)
            return n;
        char *start = p;
        while (*p && *p != sep)
            p++;
        char *end = p;
        while (tabs && end > start && end[-1] == ' ')
            end--;
        int last = *p == '\0';
        *end = '\0';
        if (n < cap)
            f[n] = start;
        n++;
        if (last)
            return n;
        p++;
    }
}

/* Why the relpath cannot be written under the output folder, or NULL. */
static const char *path_problem(const char *path)
{
    if (path[0] == '/')
        return "is absolute (it must be relative to --src and --dst)";
    for (const char *p = path; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 2 && p[0] == '.' && p[1] == '.')
            return "climbs out of the folder with '..'";
        p += k + (p[k] == '/');
    }
    return NULL;
}

/* Fills e from the fields of one line; a bad line gets a problem. Returns
 * -1 only when out of memory. */
static int parse_fields(char **f, size_t n, const char *name, sc_landmark_entry *e)
{
    if (n != FIELDS)
        return set_problem(e, name, "%zu fields, expected %d (relpath x1 y1 ... x5 y5)", n, FIELDS);
    const char *why = path_problem(f[0]);
    if (why)
        return set_problem(e, name, "path '%s' %s", f[0], why);
    double v[FIELDS - 1];
    for (int i = 0; i < FIELDS - 1; i++) {
        char *end = NULL;
        errno = 0;
        v[i] = strtod(f[i + 1], &end);
        if (end == f[i + 1] || *end)
            return set_problem(e, name, "field %d ('%s') is not a number", i + 2, f[i + 1]);
        if (!isfinite(v[i]))
            return set_problem(e, name, "field %d ('%s') is not finite", i + 2, f[i + 1]);
    }
    for (int i = 0; i < SC_ALIGN_POINTS; i++)
        e->pt[i] = (sc_point2){v[2 * i], v[2 * i + 1]};
    /* Refused here rather than by the fit, so that a later line for the same
     * photo is not taken for a duplicate of one that will never be used. */
    sc_error err = {0};
    if (sc_align_check_points(e->pt, SC_ALIGN_POINTS, &err) != SC_OK)
        return set_problem(e, name, "%s", err.msg);
    e->path = f[0];
    return 0;
}

static sc_status grow(sc_landmark_file *lf, size_t *cap, sc_error *err)
{
    if (lf->count < *cap)
        return SC_OK;
    size_t n = *cap ? 2 * *cap : 256;
    sc_landmark_entry *p = realloc(lf->items, n * sizeof *p);
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot allocate %zu landmark entries", lf->file, n);
    lf->items = p;
    *cap = n;
    return SC_OK;
}

/* Parses one line (NUL-terminated, in lf->text) numbered lineno. */
static sc_status parse_line(sc_landmark_file *lf, char *line, int lineno, size_t *cap,
                            sc_error *err)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    const char *first = line + strspn(line, " \t");
    if (!*first || *first == '#')
        return SC_OK;
    SC_TRY(grow(lf, cap, err));
    sc_landmark_entry *e = &lf->items[lf->count++];
    memset(e, 0, sizeof *e);
    e->line = lineno;
    char *f[FIELDS + 1];
    size_t n = split_fields(line, f, FIELDS + 1);
    if (parse_fields(f, n, lf->file, e) != 0)
        return sc_fail(err, SC_ERR_NOMEM, "%s:%d: out of memory", lf->file, lineno);
    lf->bad += e->problem != NULL;
    return SC_OK;
}

typedef struct path_index {
    const char *path;
    size_t i;
} path_index;

static int by_path_then_line(const void *a, const void *b)
{
    const path_index *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Two lines naming one image would race for one output file, and which
 * crop survived would depend on the threads: the later line is bad. Paths
 * are compared as written. */
static sc_status mark_duplicates(sc_landmark_file *lf, sc_error *err)
{
    path_index *ix = malloc((lf->count ? lf->count : 1) * sizeof *ix);
    if (!ix)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", lf->file);
    size_t n = 0;
    for (size_t i = 0; i < lf->count; i++)
        if (!lf->items[i].problem)
            ix[n++] = (path_index){lf->items[i].path, i};
    qsort(ix, n, sizeof *ix, by_path_then_line);
    sc_status st = SC_OK;
    size_t head = 0; /* the earliest line of the current path */
    for (size_t k = 1; k < n && st == SC_OK; k++) {
        if (strcmp(ix[k].path, ix[head].path) != 0) {
            head = k;
            continue;
        }
        if (set_problem(&lf->items[ix[k].i], lf->file, "'%s' again (first on line %d)",
                        ix[k].path, lf->items[ix[head].i].line))
            st = sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", lf->file);
        lf->bad++;
    }
    free(ix);
    return st;
}

sc_status sc_landmarks_parse(const char *text, size_t len, const char *name, sc_landmark_file *lf,
                             sc_error *err)
{
    memset(lf, 0, sizeof *lf);
    lf->file = strdup(name);
    lf->text = malloc(len + 1);
    if (!lf->file || !lf->text) {
        sc_landmarks_free(lf);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(lf->text, text, len);
    lf->text[len] = '\0';
    size_t cap = 0;
    int lineno = 0;
    sc_status st = SC_OK;
    for (char *p = lf->text; st == SC_OK && p < lf->text + len;) {
        char *nl = memchr(p, '\n', (size_t)(lf->text + len - p));
        char *next = nl ? nl + 1 : lf->text + len;
        if (nl)
            *nl = '\0';
        st = parse_line(lf, p, ++lineno, &cap, err);
        p = next;
    }
    if (st == SC_OK)
        st = mark_duplicates(lf, err);
    if (st != SC_OK)
        sc_landmarks_free(lf);
    return st;
}

sc_status sc_landmarks_load(const char *path, sc_landmark_file *lf, sc_error *err)
{
    memset(lf, 0, sizeof *lf);
    unsigned char *data = NULL;
    size_t size = 0;
    SC_TRY(sc_read_file(path, LANDMARKS_MAX_FILE, &data, &size, err));
    sc_status st = sc_landmarks_parse((const char *)data, size, path, lf, err);
    free(data);
    return st;
}

void sc_landmarks_free(sc_landmark_file *lf)
{
    if (!lf)
        return;
    for (size_t i = 0; i < lf->count; i++)
        free(lf->items[i].problem);
    free(lf->items);
    free(lf->file);
    free(lf->text);
    memset(lf, 0, sizeof *lf);
}
