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
#include "solver_state_file.h"


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
    put(&b, SC_STATE_MAGIC, 8);
    put_u32(&b, SC_STATE_VERSION);
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

/* A state keeps the histories of the solver that wrote it: another type
 * would read them as something else (Adam's m as AdaGrad's sum of squares). */
static sc_status check_type(const sc_state_file *f, const char *path, sc_solver_type mine,
                            sc_error *err)
{
    if (f->type >= SC_SOLVER_TYPES ||
        (int)f->histories != sc_solver_type_histories((sc_solver_type)f->type))
        return sc_fail(err, SC_ERR_FORMAT, "%s: unknown solver type %u with %u histories", path,
                       f->type, f->histories);
    if ((sc_solver_type)f->type == mine)
        return SC_OK;
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: was saved by the %s solver%s, this solver is %s: resume with type \"%s\"",
                   path, sc_solver_type_name((sc_solver_type)f->type),
                   f->version == SC_STATE_VERSION_SGD_ONLY ? " (a version 1 state)" : "",
                   sc_solver_type_name(mine), sc_solver_type_name((sc_solver_type)f->type));
}

/* The weights next to a state must be the ones it was saved with: a damaged
 * caffemodel, or one of another iteration, would resume a different run. */
static sc_status check_weights(const sc_state_file *f, const char *path, const char *weights,
                               sc_error *err)
{
    if (!weights || f->weights_size == 0)
        return SC_OK; /* states before version 3 cannot tell */
    uint64_t size = 0;
    uint32_t crc = 0;
    sc_status st = weights_fingerprint(weights, &size, &crc, err);
    if (st != SC_OK)
        return sc_error_prefix(err, "resuming from %s: ", path);
    if (size == f->weights_size && crc == f->weights_crc)
        return SC_OK;
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s does not belong to %s: the state was saved with weights of %llu bytes "
                   "(CRC32 %08x), the file has %llu bytes (CRC32 %08x); it is damaged or from "
                   "another iteration or run",
                   weights, path, (unsigned long long)f->weights_size, f->weights_crc,
                   (unsigned long long)size, crc);
}

/* Every blob of the file matches the net's parameters, before anything is written. */
static sc_status check_params(const sc_state_file *f, const char *path, sc_net *net,
                              sc_error *err)
{
    if (f->n_params != sc_net_param_count(net))
        return sc_fail(err, SC_ERR_SHAPE, "%s: holds %zu parameter blobs, the net has %zu", path,
                       f->n_params, sc_net_param_count(net));
    for (size_t i = 0; i < f->n_params; i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(net, i, &pi));
        if (strcmp(f->params[i].name, pi.name) || f->params[i].count != pi.count)
            return sc_fail(err, SC_ERR_SHAPE,
                           "%s: blob %zu is %s (%llu values), the net has %s (%zu values)", path, i,
                           f->params[i].name, (unsigned long long)f->params[i].count, pi.name,
                           pi.count);
    }
    return SC_OK;
}

static sc_status apply(const sc_state_file *f, sc_solver *s, void **user, size_t *user_size)
{
    sc_net *net = sc_solver_net(s);
    sc_ctx *ctx = sc_net_ctx(net);
    for (size_t i = 0; i < f->n_params; i++) {
        sc_param_info pi;
        SC_TRY(sc_net_param(net, i, &pi));
        cl_mem dst[2] = {pi.history, pi.history2};
        for (uint32_t k = 0; k < f->histories; k++)
            SC_TRY(sc_buffer_write(ctx, dst[k], 0, pi.count * 4, f->params[i].history[k]));
    }
    for (size_t i = 0; i < f->n_layers; i++)
        SC_TRY(sc_net_state_set(net, f->layers[i].name, (long long)f->layers[i].iteration));
    if (user) {
        *user = malloc(f->user_size ? f->user_size : 1);
        if (!*user)
            return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
        memcpy(*user, f->user, f->user_size);
        *user_size = f->user_size;
    }
    return sc_solver_state_iter_set(s, (int)f->iteration);
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
    sc_state_file f;
    sc_status st = sc_state_file_parse(data, size, path, &f, err);
    if (st == SC_OK)
        st = check_type(&f, path, sc_solver_get_type(s), err);
    if (st == SC_OK)
        st = check_weights(&f, path, weights, err);
    if (st == SC_OK)
        st = check_params(&f, path, net, err);
    if (st == SC_OK) /* the file is whole and fits: only now is the net changed */
        st = apply(&f, s, user, user_size);
    sc_state_file_free(&f);
    free(data);
    return st;
}
