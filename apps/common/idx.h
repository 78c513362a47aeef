/* Reader for the idx files MNIST ships in (LeCun's format), gzipped or not:
 *
 *   magic: 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes,
 *   then prod(sizes) values, row-major.
 *
 * Only type 0x08 (unsigned byte) is read: MNIST's images (ndim 3:
 * count x rows x cols) and labels (ndim 1). zlib's gz reader takes plain
 * files too, so a gunzipped copy reads the same. */
#ifndef SC_IDX_H
#define SC_IDX_H

#include <stddef.h>

#include "sc_error.h"

#define SC_IDX_MAX_DIMS 4

typedef struct sc_idx {
    int ndim;
    size_t dims[SC_IDX_MAX_DIMS];
    size_t count;        /* prod(dims) */
    unsigned char *data; /* count bytes */
} sc_idx;

/* Loads the whole file. SC_ERR_IO when it cannot be opened or read,
 * SC_ERR_FORMAT (naming the path) for a bad magic, a type other than
 * unsigned byte, more than SC_IDX_MAX_DIMS dimensions, a size over 2^28
 * values, or a file shorter than its header says. On failure *out is empty. */
sc_status sc_idx_load(const char *path, sc_idx *out, sc_error *err);

/* Parses an idx image already in memory (after any gunzip); name is used in
 * messages. The same checks as sc_idx_load. */
sc_status sc_idx_parse(const unsigned char *bytes, size_t size, const char *name, sc_idx *out,
                       sc_error *err);

void sc_idx_free(sc_idx *idx);

#endif
