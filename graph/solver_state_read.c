/* Parsing .solverstate files (see solver_state_file.h): bounds-checked
 * reads of the whole file into a description, no device involved. */
#include "solver_state_file.h"

#include <stdlib.h>
#include <string.h>

#include "sc_runtime.h"

typedef struct rbuf {
    const unsigned char *p;
    size_t n, off;
    const char *path;
    sc_error *err;
} rbuf;

static sc_status get(rbuf *r, void *dst, size_t n)
{
    if (n > r->n - r->off)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: truncated at byte %zu", r->path, r->off);
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return SC_OK;
}

static sc_status get_u32(rbuf *r, uint32_t *v) { return get(r, v, 4); }
static sc_status get_u64(rbuf *r, uint64_t *v) { return get(r, v, 8); }

static sc_status get_str(rbuf *r, char *dst, size_t cap)
{
    uint32_t len = 0;
    SC_TRY(get_u32(r, &len));
    if (len >= cap)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: name of %u bytes at byte %zu", r->path, len,
                       r->off);
    SC_TRY(get(r, dst, len));
    dst[len] = '\0';
    return SC_OK;
}

/* Points at count floats of the file, skipping them. */
static sc_status get_floats(rbuf *r, uint64_t count, const char *name, const unsigned char **at)
{
    if (count > (r->n - r->off) / 4)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: truncated history of %s", r->path, name);
    *at = r->p + r->off;
    r->off += (size_t)count * 4;
    return SC_OK;
}

static sc_status check_envelope(rbuf *r)
{
    if (r->n < 8 || memcmp(r->p, SC_STATE_MAGIC, 8))
        return sc_fail(r->err, SC_ERR_FORMAT,
                       "%s: not a SphereCL solver state (no SCSTATE header)%s", r->path,
                       r->n >= 2 && r->p[0] == 0x0a ? "; it looks like a .caffemodel: --snapshot "
                                                      "takes the .solverstate written next to it"
                                                    : "");
    if (r->n < 8 + 4 + 8 + 4)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: too short for a solver state", r->path);
    uint32_t crc;
    memcpy(&crc, r->p + r->n - 4, 4);
    if (crc != sc_crc32(0, r->p, r->n - 4))
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: CRC mismatch (damaged or truncated file)",
                       r->path);
    r->n -= 4;
    r->off = 8;
    return SC_OK;
}

static sc_status read_header(rbuf *r, sc_state_file *f)
{
    SC_TRY(get_u32(r, &f->version));
    if (f->version < SC_STATE_VERSION_SGD_ONLY || f->version > SC_STATE_VERSION)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: solver state version %u (this build reads 1..%u)",
                       r->path, f->version, SC_STATE_VERSION);
    SC_TRY(get_u64(r, &f->iteration));
    if (f->iteration > 2147483647u)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: iteration %llu out of range", r->path,
                       (unsigned long long)f->iteration);
    f->type = 0; /* SGD */
    f->histories = 1;
    if (f->version == SC_STATE_VERSION_SGD_ONLY)
        return SC_OK;
    SC_TRY(get_u32(r, &f->type));
    SC_TRY(get_u32(r, &f->histories));
    if (f->histories < 1 || f->histories > 2)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: %u histories per parameter", r->path,
                       f->histories);
    if (f->version >= SC_STATE_VERSION) {
        SC_TRY(get_u64(r, &f->weights_size));
        SC_TRY(get_u32(r, &f->weights_crc));
    }
    return SC_OK;
}

/* A count read from the file bounds an allocation only by what the rest of
 * the file can hold. */
static sc_status alloc_items(rbuf *r, uint32_t n, size_t min_bytes, size_t elem, void **out,
                             const char *what)
{
    if (n > (r->n - r->off) / min_bytes)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: %u %s cannot fit in the file", r->path, n,
                       what);
    *out = calloc(n ? n : 1, elem);
    return *out ? SC_OK : sc_fail(r->err, SC_ERR_NOMEM, "out of host memory");
}

static sc_status read_params(rbuf *r, sc_state_file *f)
{
    uint32_t n = 0;
    SC_TRY(get_u32(r, &n));
    SC_TRY(alloc_items(r, n, 12, sizeof *f->params, (void **)&f->params, "parameter blobs"));
    for (uint32_t i = 0; i < n; i++) {
        sc_state_param *p = &f->params[i];
        SC_TRY(get_str(r, p->name, sizeof p->name));
        SC_TRY(get_u64(r, &p->count));
        for (uint32_t k = 0; k < f->histories; k++)
            SC_TRY(get_floats(r, p->count, p->name, &p->history[k]));
        f->n_params = i + 1;
    }
    return SC_OK;
}

static sc_status read_layers(rbuf *r, sc_state_file *f)
{
    uint32_t n = 0;
    SC_TRY(get_u32(r, &n));
    SC_TRY(alloc_items(r, n, 16, sizeof *f->layers, (void **)&f->layers, "layer states"));
    for (uint32_t i = 0; i < n; i++) {
        sc_state_layer *l = &f->layers[i];
        SC_TRY(get_str(r, l->name, sizeof l->name));
        SC_TRY(get_u64(r, &l->iteration));
        SC_TRY(get(r, &l->lambda, 4));
        f->n_layers = i + 1;
    }
    return SC_OK;
}

static sc_status read_user(rbuf *r, sc_state_file *f)
{
    SC_TRY(get_u64(r, &f->user_size));
    if (f->user_size > r->n - r->off)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: truncated user block", r->path);
    f->user = r->p + r->off;
    r->off += (size_t)f->user_size;
    if (r->off != r->n)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: %zu unexpected bytes before the CRC", r->path,
                       r->n - r->off);
    return SC_OK;
}

sc_status sc_state_file_parse(const unsigned char *data, size_t size, const char *path,
                              sc_state_file *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    rbuf r = {.p = data, .n = size, .path = path ? path : "solver state", .err = err};
    sc_status st = check_envelope(&r);
    if (st == SC_OK)
        st = read_header(&r, out);
    if (st == SC_OK)
        st = read_params(&r, out);
    if (st == SC_OK)
        st = read_layers(&r, out);
    if (st == SC_OK)
        st = read_user(&r, out);
    if (st != SC_OK)
        sc_state_file_free(out);
    return st;
}

void sc_state_file_free(sc_state_file *f)
{
    free(f->params);
    free(f->layers);
    memset(f, 0, sizeof *f);
}
