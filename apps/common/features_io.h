/* Feature files: what sphere-extract writes and sphere-eval --features reads.
 *
 * Text: one line per image, "relpath v1 v2 ... vD" (%.9g, so floats round-
 * trip exactly). NumPy: FILE.npy holds a float32 (n, D) array (version 1.0
 * header, little-endian '<f4', C order), with the image paths, one per line,
 * in FILE.npy.names. Both are written atomically. */
#ifndef SC_FEATURES_IO_H
#define SC_FEATURES_IO_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_features {
    char **names;   /* n relpaths */
    float *rows;    /* n * dim */
    size_t n, dim;
} sc_features;

/* The format follows the extension: ".npy" is NumPy, anything else text. */
sc_status sc_features_write(const char *path, const char *const *names, const float *rows,
                            size_t n, size_t dim, sc_error *err);
/* Reads either format; errors name file:line (text) or the byte offset. */
sc_status sc_features_read(const char *path, sc_features *out, sc_error *err);
void sc_features_free(sc_features *f);

#endif
