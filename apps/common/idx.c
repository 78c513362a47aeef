/* idx reader (see idx.h). The whole file is inflated into memory first, so
 * the parser is one pure function that the tests can feed bytes. */
#include "idx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* MNIST's largest file is 47 MB inflated; anything over this is not MNIST. */
#define IDX_MAX_VALUES (1u << 28)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sc_status sc_idx_parse(const unsigned char *bytes, size_t size, const char *name, sc_idx *out,
                       sc_error *err)
{
    memset(out, 0, sizeof *out);
    if (size < 4 || bytes[0] != 0 || bytes[1] != 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: not an idx file (bad magic)", name);
    if (bytes[2] != 0x08)
        return sc_fail(err, SC_ERR_FORMAT, "%s: idx type 0x%02x; only unsigned bytes (0x08) "
                       "are read", name, bytes[2]);
    int ndim = bytes[3];
    if (ndim < 1 || ndim > SC_IDX_MAX_DIMS)
        return sc_fail(err, SC_ERR_FORMAT, "%s: %d dimensions (1..%d)", name, ndim,
                       SC_IDX_MAX_DIMS);
    size_t header = 4 + 4 * (size_t)ndim, count = 1;
    if (size < header)
        return sc_fail(err, SC_ERR_FORMAT, "%s: truncated header", name);
    for (int i = 0; i < ndim; i++) {
        out->dims[i] = be32(bytes + 4 + 4 * i);
        if (out->dims[i] == 0 || out->dims[i] > IDX_MAX_VALUES / count)
            return sc_fail(err, SC_ERR_FORMAT, "%s: dimension %d is %zu (empty or too large)",
                           name, i, out->dims[i]);
        count *= out->dims[i];
    }
    if (size - header < count)
        return sc_fail(err, SC_ERR_FORMAT, "%s: %zu values declared, %zu bytes present", name,
                       count, size - header);
    out->data = malloc(count);
    if (!out->data)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", name);
    memcpy(out->data, bytes + header, count);
    out->ndim = ndim;
    out->count = count;
    return SC_OK;
}

/* Inflates the whole (gzipped or plain) file into a malloc'd buffer. */
static sc_status read_gz(const char *path, unsigned char **buf, size_t *size, sc_error *err)
{
    *buf = NULL;
    *size = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open", path);
    size_t cap = 0;
    for (;;) {
        if (*size == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            unsigned char *grown = cap <= IDX_MAX_VALUES + 64u ? realloc(*buf, cap) : NULL;
            if (!grown) {
                gzclose(f);
                free(*buf);
                *buf = NULL;
                return sc_fail(err, SC_ERR_FORMAT, "%s: too large for an idx file", path);
            }
            *buf = grown;
        }
        int n = gzread(f, *buf + *size, (unsigned)(cap - *size));
        if (n < 0) {
            int code;
            sc_fail(err, SC_ERR_FORMAT, "%s: %s", path, gzerror(f, &code));
            gzclose(f);
            free(*buf);
            *buf = NULL;
            return SC_ERR_FORMAT;
        }
        if (n == 0)
            break;
        *size += (size_t)n;
    }
    gzclose(f);
    return SC_OK;
}

sc_status sc_idx_load(const char *path, sc_idx *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t size;
    SC_TRY(read_gz(path, &buf, &size, err));
    sc_status st = sc_idx_parse(buf, size, path, out, err);
    free(buf);
    return st;
}

void sc_idx_free(sc_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
