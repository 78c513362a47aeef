/* .solverstate files: everything a resumed run needs to continue exactly.
 *
 * Layout (little-endian), version 3:
 *   "SCSTATE\0" | u32 version | i64 iteration
 *   u32 solver type (Caffe's SolverType number) | u32 histories per param H (1 or 2)
 *   u64 byte length and u32 CRC32 of the .caffemodel saved with it (0, 0: none)
 *   u32 n_params, then per param: u32 name length, name, u64 count,
 *       f32 history[count] H times (Caffe's history_[i], then history_[N + i])
 *   u32 n_layer_states, then per state: u32 name length, name, i64 iteration, f32 lambda
 *   u64 user size, user bytes (the caller's data order / RNG)
 *   u32 CRC32 of everything before it
 * Version 2 has no caffemodel fields; version 1 (SGD only) neither type nor H
 * fields, and one history per param. Both still load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "sc_solver.h"

#define STATE_MAGIC "SCSTATE"
#define STATE_VERSION 3u
#define STATE_VERSION_NO_WEIGHTS 2u
#define STATE_VERSION_SGD_ONLY 1u

typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int failed;
} wbuf;

static void put(wbuf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(wbuf *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

/* Byte length and CRC32 of the weights file a state belongs to. */
static sc_status weights_fingerprint(const char *path, uint64_t *size, uint32_t *crc,
                                     sc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open the weights: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    size_t n;
    *size = 0;
    *crc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *crc = sc_crc32(*crc, buf, n);
        *size += n;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed)
        return sc_fail(err, SC_ERR_IO, "%s: cannot read the weights", path);
    return SC_OK;
}

/* solver.c owns the struct; this setter keeps this file independent of it. */
sc_status sc_solver_state_iter_set(sc_solver *s, int iter);

/* Appends count floats of a device buffer. */
static sc_status put_buffer(sc_net *net, wbuf *b, cl_mem mem, size_t count)
{
    float *h = malloc(count * sizeof *h);
    if (!h)
        return sc_fail(sc_ctx_error(sc_net_ctx(net)), SC_ERR_NOMEM, "out of host memory");
    sc_status st = sc_buffer_read(sc_net_ctx(net), mem, 0, count * sizeof *h, h);
    if (st == SC_OK)
        put(b, h, count * sizeof *h);
    free(h);
    return st;
}

static sc_status put_params(sc_net *net, wbuf *b, int histories)
{
    size_t n = sc_net_param_count(net);
    put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(net, i, &pi));
        put_str(b, pi.name);
        put_u64(b, pi.count);
        SC_TRY(put_buffer(net, b, pi.history, pi.count));
        if (histories == 2)
            SC_TRY(put_buffer(net, b, pi.history2, pi.count));
    }
    return SC_OK;
}

static sc_status put_layer_states(sc_net *net, wbuf *b)
{
    size_t n = sc_net_state_count(net);
    put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const char *layer = NULL;
        long long iter;
        float lambda = 0;
        SC_TRY(sc_net_state_get(net, i, &layer, &iter, &lambda));
        put_str(b, layer);
        put_u64(b, (uint64_t)iter);
        put(b, &lambda, 4);
    }
    return SC_OK;
}

sc_status sc_solver_save_state(sc_solver *s, const char *path, const char *weights,
                               const void *user, size_t user_size)
{
    sc_net *net = sc_solver_net(s);
    sc_error *err = sc_ctx_error(sc_net_ctx(net));
    uint64_t wsize = 0;
    uint32_t wcrc = 0;
    if (weights)
        SC_TRY(weights_fingerprint(weights, &wsize, &wcrc, err));
    wbuf b = {0};
    put(&b, STATE_MAGIC, 8);
    put_u32(&b, STATE_VERSION);
    put_u64(&b, (uint64_t)sc_solver_iter(s));
    sc_solver_type type = sc_solver_get_type(s);
    int histories = sc_solver_type_histories(type);
    put_u32(&b, (uint32_t)type);
    put_u32(&b, (uint32_t)histories);
    put_u64(&b, wsize);
    put_u32(&b, wcrc);
    sc_status st = put_params(net, &b, histories);
    if (st == SC_OK)
        st = put_layer_states(net, &b);
    put_u64(&b, user_size);
    if (user_size)
        put(&b, user, user_size);
    if (st == SC_OK && b.failed)
        st = sc_fail(err, SC_ERR_NOMEM, "out of host memory writing %s", path);
    if (st == SC_OK) {
        put_u32(&b, sc_crc32(0, b.p, b.n));
        st = b.failed ? sc_fail(err, SC_ERR_NOMEM, "out of host memory")
                      : sc_write_file_atomic(path, b.p, b.n, err);
    }
    free(b.p);
    return st;
}

/* ------------------------------------------------------------------ read */

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

static sc_status read_file(const char *path, unsigned char **data, size_t *size, sc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open the solver state: %s", path,
                       strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = n > 0 ? malloc((size_t)n) : NULL;
    int ok = *data && fread(*data, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    if (!ok) {
        free(*data);
        *data = NULL;
        return sc_fail(err, n <= 0 ? SC_ERR_FORMAT : SC_ERR_IO, "%s: cannot read solver state",
                       path);
    }
    *size = (size_t)n;
    return SC_OK;
}

/* What the file says about the solver that wrote it. */
typedef struct state_header {
    uint32_t version;
    uint64_t iter;
    sc_solver_type type;
    int histories;
    uint64_t weights_size; /* 0: not recorded */
    uint32_t weights_crc;
} state_header;

static sc_status check_header(rbuf *r, state_header *h)
{
    char magic[8];
    uint32_t version = 0, crc = 0;
    if (r->n < 8 || memcmp(r->p, STATE_MAGIC, 8))
        return sc_fail(r->err, SC_ERR_FORMAT,
                       "%s: not a SphereCL solver state (no SCSTATE header)%s", r->path,
                       r->n >= 2 && r->p[0] == 0x0a ? "; it looks like a .caffemodel: --snapshot "
                                                      "takes the .solverstate written next to it"
                                                    : "");
    if (r->n < 8 + 4 + 8 + 4)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: too short for a solver state", r->path);
    memcpy(&crc, r->p + r->n - 4, 4);
    if (crc != sc_crc32(0, r->p, r->n - 4))
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: CRC mismatch (damaged or truncated file)",
                       r->path);
    r->n -= 4;
    SC_TRY(get(r, magic, 8));
    SC_TRY(get_u32(r, &version));
    if (memcmp(magic, STATE_MAGIC, 8) || version < STATE_VERSION_SGD_ONLY || version > STATE_VERSION)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: not a SphereCL solver state (version %u)",
                       r->path, version);
    h->version = version;
    SC_TRY(get_u64(r, &h->iter));
    h->type = SC_SOLVER_SGD;
    h->histories = 1;
    if (version == STATE_VERSION_SGD_ONLY)
        return SC_OK;
    uint32_t type = 0, histories = 0;
    SC_TRY(get_u32(r, &type));
    SC_TRY(get_u32(r, &histories));
    h->type = (sc_solver_type)type;
    h->histories = (int)histories;
    if (type >= SC_SOLVER_TYPES || (int)histories != sc_solver_type_histories(h->type))
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: unknown solver type %u with %u histories",
                       r->path, type, histories);
    if (version >= STATE_VERSION) {
        SC_TRY(get_u64(r, &h->weights_size));
        SC_TRY(get_u32(r, &h->weights_crc));
    }
    return SC_OK;
}

/* The weights next to a state must be the ones it was saved with: a damaged
 * caffemodel, or one of another iteration, would resume a different run. */
static sc_status check_weights(rbuf *r, const state_header *h, const char *weights)
{
    if (!weights || h->weights_size == 0)
        return SC_OK; /* states before version 3 cannot tell */
    uint64_t size = 0;
    uint32_t crc = 0;
    sc_status st = weights_fingerprint(weights, &size, &crc, r->err);
    if (st != SC_OK)
        return sc_error_prefix(r->err, "resuming from %s: ", r->path);
    if (size == h->weights_size && crc == h->weights_crc)
        return SC_OK;
    return sc_fail(r->err, SC_ERR_FORMAT,
                   "%s does not belong to %s: the state was saved with weights of %llu bytes "
                   "(CRC32 %08x), the file has %llu bytes (CRC32 %08x); it is damaged or from "
                   "another iteration or run",
                   weights, r->path, (unsigned long long)h->weights_size, h->weights_crc,
                   (unsigned long long)size, crc);
}

/* A state keeps the histories of the solver that wrote it: another type
 * would read them as something else (Adam's m as AdaGrad's sum of squares). */
static sc_status check_type(rbuf *r, const state_header *h, sc_solver_type mine)
{
    if (h->type == mine)
        return SC_OK;
    return sc_fail(r->err, SC_ERR_FORMAT,
                   "%s: was saved by the %s solver%s, this solver is %s: resume with type \"%s\"",
                   r->path, sc_solver_type_name(h->type),
                   h->version == STATE_VERSION_SGD_ONLY ? " (a version 1 state)" : "",
                   sc_solver_type_name(mine), sc_solver_type_name(h->type));
}

/* Copies count floats of the file into a device buffer. */
static sc_status get_buffer(rbuf *r, sc_net *net, const char *name, cl_mem mem, uint64_t count)
{
    if (count > (r->n - r->off) / 4)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: truncated history of %s", r->path, name);
    SC_TRY(sc_buffer_write(sc_net_ctx(net), mem, 0, count * 4, r->p + r->off));
    r->off += count * 4;
    return SC_OK;
}

static sc_status read_params(rbuf *r, sc_net *net, int histories)
{
    uint32_t n = 0;
    SC_TRY(get_u32(r, &n));
    if (n != sc_net_param_count(net))
        return sc_fail(r->err, SC_ERR_SHAPE, "%s: holds %u parameter blobs, the net has %zu",
                       r->path, n, sc_net_param_count(net));
    for (uint32_t i = 0; i < n; i++) {
        char name[512];
        uint64_t count = 0;
        sc_param_info pi;
        SC_TRY(get_str(r, name, sizeof name));
        SC_TRY(get_u64(r, &count));
        SC_TRY(sc_net_param(net, i, &pi));
        if (strcmp(name, pi.name) || count != pi.count)
            return sc_fail(r->err, SC_ERR_SHAPE,
                           "%s: blob %u is %s (%llu values), the net has %s (%zu values)", r->path,
                           i, name, (unsigned long long)count, pi.name, pi.count);
        SC_TRY(get_buffer(r, net, name, pi.history, count));
        if (histories == 2)
            SC_TRY(get_buffer(r, net, name, pi.history2, count));
    }
    return SC_OK;
}

static sc_status read_layer_states(rbuf *r, sc_net *net)
{
    uint32_t n = 0;
    SC_TRY(get_u32(r, &n));
    for (uint32_t i = 0; i < n; i++) {
        char name[512];
        uint64_t iter = 0;
        float lambda = 0;
        SC_TRY(get_str(r, name, sizeof name));
        SC_TRY(get_u64(r, &iter));
        SC_TRY(get(r, &lambda, 4));
        SC_TRY(sc_net_state_set(net, name, (long long)iter));
    }
    return SC_OK;
}

static sc_status read_user(rbuf *r, void **user, size_t *user_size)
{
    uint64_t n = 0;
    SC_TRY(get_u64(r, &n));
    if (n > r->n - r->off)
        return sc_fail(r->err, SC_ERR_FORMAT, "%s: truncated user block", r->path);
    if (user) {
        *user = malloc(n ? n : 1);
        if (!*user)
            return sc_fail(r->err, SC_ERR_NOMEM, "out of host memory");
        memcpy(*user, r->p + r->off, n);
        *user_size = n;
    }
    r->off += n;
    return SC_OK;
}

sc_status sc_solver_load_state(sc_solver *s, const char *path, const char *weights, void **user,
                               size_t *user_size)
{
    sc_net *net = sc_solver_net(s);
    sc_error *err = sc_ctx_error(sc_net_ctx(net));
    if (user) {
        *user = NULL;
        *user_size = 0;
    }
    unsigned char *data = NULL;
    size_t size = 0;
    SC_TRY(read_file(path, &data, &size, err));
    rbuf r = {.p = data, .n = size, .path = path, .err = err};
    state_header h = {0};
    sc_status st = check_header(&r, &h);
    if (st == SC_OK)
        st = check_type(&r, &h, sc_solver_get_type(s));
    if (st == SC_OK)
        st = check_weights(&r, &h, weights);
    if (st == SC_OK)
        st = read_params(&r, net, h.histories);
    if (st == SC_OK)
        st = read_layer_states(&r, net);
    if (st == SC_OK)
        st = read_user(&r, user, user_size);
    if (st == SC_OK)
        st = sc_solver_state_iter_set(s, (int)h.iter);
    free(data);
    return st;
}
