/* Photo lists for the detector (see photo_list.h). */
#include "photo_list.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sc_common.h"

/* A list of 13k LFW names is ~0.5 MB; 1 GiB means a wrong file. */
#define PL_MAX_FILE ((size_t)1 << 30)
/* Folders nested deeper than this are taken for a link loop. */
#define PL_MAX_DEPTH 32

sc_status sc_photo_list_add(sc_photo_list *list, const char *path, const char *name,
                            sc_error *err)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 256;
        sc_photo *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return sc_fail(err, SC_ERR_NOMEM, "out of host memory (photo list)");
        list->items = items;
        list->cap = cap;
    }
    sc_photo *p = &list->items[list->count];
    p->path = strdup(path);
    p->name = strdup(name);
    if (!p->path || !p->name) {
        free(p->path);
        free(p->name);
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory (photo list)");
    }
    list->count++;
    return SC_OK;
}

void sc_photo_list_free(sc_photo_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].name);
    }
    free(list->items);
    *list = (sc_photo_list){0};
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The name on one line [b, e) (NUL-terminated in place), or NULL to skip. */
static char *line_name(char *b, char *e)
{
    char *tab = memchr(b, '\t', (size_t)(e - b));
    if (tab)
        e = tab;
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    if (b == e || *b == '#')
        return NULL;
    *e = '\0';
    return b;
}

sc_status sc_photo_list_read(const char *file, const char *root, sc_photo_list *list,
                             sc_error *err)
{
    unsigned char *data;
    size_t size;
    SC_TRY(sc_read_file(file, PL_MAX_FILE, &data, &size, err));
    char *text = (char *)data, *end = text + size;
    sc_status st = SC_OK;
    for (char *b = text; b < end && st == SC_OK;) {
        char *e = memchr(b, '\n', (size_t)(end - b));
        e = e ? e : end;
        char *name = line_name(b, e), path[4096];
        /* an absolute name stands for itself, whatever the root */
        if (name && (st = sc_path_join(name[0] == '/' ? NULL : root, name, path, sizeof path,
                                       err)) == SC_OK)
            st = sc_photo_list_add(list, path, name, err);
        b = e + 1;
    }
    free(data);
    return st;
}

static int has_image_extension(const char *name)
{
    static const char *const k_ext[] = {".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".pnm"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof k_ext / sizeof k_ext[0]; i++)
        if (!strcasecmp(dot, k_ext[i]))
            return 1;
    return 0;
}

static sc_status scan(const char *dir, const char *rel, int depth, sc_photo_list *list,
                      sc_error *err);

/* One entry of a folder: a subfolder to descend into or an image to add. */
static sc_status scan_entry(const char *dir, const char *rel, const char *entry, int depth,
                            sc_photo_list *list, sc_error *err)
{
    char path[4096], name[4096];
    snprintf(path, sizeof path, "%s/%s", dir, entry);
    snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", entry);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return SC_OK; /* a dangling link: nothing to read */
    if (S_ISDIR(sb.st_mode))
        return scan(path, name, depth + 1, list, err);
    if (S_ISREG(sb.st_mode) && has_image_extension(entry))
        return sc_photo_list_add(list, path, name, err);
    return SC_OK;
}

static sc_status scan(const char *dir, const char *rel, int depth, sc_photo_list *list,
                      sc_error *err)
{
    if (depth > PL_MAX_DEPTH)
        return sc_fail(err, SC_ERR_IO, "%s: folders nested over %d deep (a link loop?)", dir,
                       PL_MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open the folder", dir);
    sc_status st = SC_OK;
    struct dirent *e;
    while (st == SC_OK && (e = readdir(d)))
        if (e->d_name[0] != '.')
            st = scan_entry(dir, rel, e->d_name, depth, list, err);
    closedir(d);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sc_photo *)a)->name, ((const sc_photo *)b)->name);
}

sc_status sc_photo_list_scan(const char *dir, sc_photo_list *list, sc_error *err)
{
    size_t first = list->count;
    SC_TRY(scan(dir, "", 0, list, err));
    if (list->count > first)
        qsort(list->items + first, list->count - first, sizeof *list->items, by_name);
    return SC_OK;
}
