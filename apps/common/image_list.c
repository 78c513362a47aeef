/* Caffe ImageData list files. The file is read once; lines are cut in place
 * in a private copy, and the entries point into it (lists of hundreds of
 * thousands of images then cost one allocation for all paths). */
#include "image_list.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

/* CASIA-WebFace's list is ~25 MB; 1 GiB means a wrong file. */
#define IL_MAX_FILE ((size_t)1 << 30)

static int il_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Trims the [*b, *e) range in place of surrounding whitespace. */
static void il_trim(char **b, char **e)
{
    while (*b < *e && il_is_space(**b))
        (*b)++;
    while (*e > *b && il_is_space((*e)[-1]))
        (*e)--;
}

static sc_status il_label(const char *tok, const char *file, int line, int *label, sc_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (end == tok || *end != '\0' || errno != 0 || v < INT_MIN || v > INT_MAX)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: label '%s' is not an integer", file, line, tok);
    *label = (int)v;
    return SC_OK;
}

/* Splits one trimmed, non-empty line (NUL-terminated in place) at its last
 * blank into path and label. */
static sc_status il_line(char *b, char *e, const char *file, int line, sc_image_list_entry *out,
                         sc_error *err)
{
    char *sep = e;
    while (sep > b && !il_is_space(sep[-1]))
        sep--;
    if (sep == b)
        return sc_fail(err, SC_ERR_PARSE, "%s:%d: expected '<path> <label>', got '%.200s'", file,
                       line, b);
    char *label_tok = sep;
    char *path_end = sep;
    il_trim(&b, &path_end);
    *path_end = '\0';
    SC_TRY(il_label(label_tok, file, line, &out->label, err));
    out->path = b;
    out->line = line;
    return SC_OK;
}

static sc_status il_push(sc_image_list *l, size_t *cap, const sc_image_list_entry *e,
                         sc_error *err)
{
    if (l->count == *cap) {
        size_t ncap = *cap ? 2 * *cap : 64;
        sc_image_list_entry *n = realloc(l->items, ncap * sizeof *n);
        if (!n)
            return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", l->file);
        l->items = n;
        *cap = ncap;
    }
    l->items[l->count++] = *e;
    return SC_OK;
}

static sc_status il_parse_all(sc_image_list *l, size_t len, sc_error *err)
{
    size_t cap = 0;
    char *p = l->text, *end = l->text + len;
    for (int line = 1; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        il_trim(&b, &e);
        if (b == e)
            continue;
        if (memchr(b, '\0', (size_t)(e - b)))
            return sc_fail(err, SC_ERR_PARSE, "%s:%d: NUL byte in line (not a text file?)",
                           l->file, line);
        *e = '\0';
        sc_image_list_entry ent;
        SC_TRY(il_line(b, e, l->file, line, &ent, err));
        SC_TRY(il_push(l, &cap, &ent, err));
    }
    return SC_OK;
}

sc_status sc_image_list_parse(const char *text, size_t len, const char *name, sc_image_list *list,
                              sc_error *err)
{
    *list = (sc_image_list){0};
    list->file = malloc(strlen(name) + 1);
    list->text = malloc(len + 1);
    if (!list->file || !list->text) {
        sc_image_list_free(list);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    }
    strcpy(list->file, name);
    memcpy(list->text, text, len);
    list->text[len] = '\0';
    sc_status st = il_parse_all(list, len, err);
    if (st != SC_OK)
        sc_image_list_free(list);
    return st;
}

sc_status sc_image_list_load(const char *path, sc_image_list *list, sc_error *err)
{
    *list = (sc_image_list){0};
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(path, IL_MAX_FILE, &data, &size, err));
    sc_status st = sc_image_list_parse((const char *)data, size, path, list, err);
    free(data);
    return st;
}

void sc_image_list_free(sc_image_list *list)
{
    if (!list)
        return;
    free(list->items);
    free(list->text);
    free(list->file);
    *list = (sc_image_list){0};
}

sc_status sc_path_join(const char *root, const char *rel, char *dst, size_t cap, sc_error *err)
{
    size_t rlen = root ? strlen(root) : 0;
    int slash = rlen > 0 && root[rlen - 1] != '/';
    size_t need = rlen + (size_t)slash + strlen(rel) + 1;
    if (need > cap)
        return sc_fail(err, SC_ERR_ARG, "path '%s%s%s' does not fit in %zu bytes", root ? root : "",
                       slash ? "/" : "", rel, cap);
    memcpy(dst, root ? root : "", rlen);
    if (slash)
        dst[rlen] = '/';
    strcpy(dst + rlen + (size_t)slash, rel);
    return SC_OK;
}
