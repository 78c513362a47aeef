/* Caffe ImageData list files: one "relative/path label" per line.
 *
 * As in Caffe, the label is the text after the LAST space, so paths may
 * contain spaces ("John Doe/001.jpg 7"). Unlike Caffe, whitespace around the
 * path is trimmed, blank lines are skipped, CRLF line ends and tabs before the
 * label are accepted, and a line whose label is not an integer is an error
 * naming file:line instead of label 0 (Caffe's atoi). */
#ifndef SC_IMAGE_LIST_H
#define SC_IMAGE_LIST_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_image_list_entry {
    const char *path;   /* as written in the list (relative to the root folder) */
    int label;
    int line;           /* line in the list file, for messages */
} sc_image_list_entry;

typedef struct sc_image_list {
    char *file;                   /* list file name, for messages */
    sc_image_list_entry *items;
    size_t count;
    char *text;                   /* storage the paths point into */
} sc_image_list;

/* Reads a list file. SC_ERR_IO when it cannot be read, SC_ERR_PARSE (with
 * file:line) for a line without a path and an integer label. An empty list
 * is not an error here (count 0): the caller decides, with its own message.
 * On failure *list is left empty. */
sc_status sc_image_list_load(const char *path, sc_image_list *list, sc_error *err);

/* Parses list text of len bytes; name is used in messages. */
sc_status sc_image_list_parse(const char *text, size_t len, const char *name, sc_image_list *list,
                              sc_error *err);

void sc_image_list_free(sc_image_list *list);

/* Writes root + rel into dst (cap bytes). Like Caffe's root_folder + path,
 * except that a '/' is inserted when root is non-empty and does not end in
 * one (Caffe silently builds "rootname.jpg"). An empty or NULL root gives rel.
 * SC_ERR_ARG when the result does not fit. */
sc_status sc_path_join(const char *root, const char *rel, char *dst, size_t cap, sc_error *err);

#endif
