/* The photos a detection run reads: one file, a list file, or every image
 * under a folder. Each photo has the path to open and the name to report
 * (its path relative to the list's root or the folder, as a landmark file
 * such as lfw_landmark_150px.txt names it). */
#ifndef SC_PHOTO_LIST_H
#define SC_PHOTO_LIST_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_photo {
    char *path; /* to open */
    char *name; /* to report */
} sc_photo;

typedef struct sc_photo_list {
    sc_photo *items;
    size_t count, cap;
} sc_photo_list;

/* Appends one photo (copies both strings). */
sc_status sc_photo_list_add(sc_photo_list *list, const char *path, const char *name,
                            sc_error *err);

/* A list file: one photo per line, its name being the line up to the first
 * tab (so a landmark file, "name<TAB>x1<TAB>y1...", is a list of its photos)
 * with surrounding blanks trimmed; blank lines and lines starting with '#'
 * are skipped. Paths are root/name (root NULL or "", or an absolute name:
 * the name as written). SC_ERR_IO when the file cannot be read. An empty list
 * is not an error here. */
sc_status sc_photo_list_read(const char *file, const char *root, sc_photo_list *list,
                             sc_error *err);

/* Every file under dir (recursively, symbolic links followed, hidden
 * entries skipped) whose extension is .jpg, .jpeg, .png, .pgm, .ppm or .pnm
 * (any case), sorted by name (byte order) so runs are reproducible; names
 * are relative to dir. SC_ERR_IO when dir cannot be read. */
sc_status sc_photo_list_scan(const char *dir, sc_photo_list *list, sc_error *err);

void sc_photo_list_free(sc_photo_list *list);

#endif
