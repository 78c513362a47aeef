/* oneDNN tasks (see dnnl_internal.h): primitives created at record time,
 * executed in order by a host task over the mapped device buffers and the
 * host thread's scratch arena. */
#include "dnnl_internal.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch regions start on cache lines (oneDNN's kernels load whole ones). */
#define SC_DN_ALIGN 64

/* ------------------------------------------------------------ engine */

/* One CPU engine for the process: oneDNN's engines are stateless handles on
 * the host CPU, and a primitive created on it runs on any thread's stream. */
static dnnl_engine_t g_engine;
static dnnl_status_t g_engine_status = dnnl_success;
static pthread_once_t g_engine_once = PTHREAD_ONCE_INIT;

static void engine_create(void)
{
    g_engine_status = dnnl_engine_create(&g_engine, dnnl_cpu, 0);
}

sc_status sc_dn_engine(sc_ctx *ctx, const char *name, const char *op, dnnl_engine_t *out)
{
    pthread_once(&g_engine_once, engine_create);
    SC_DN(g_engine_status, "cpu engine");
    *out = g_engine;
    return SC_OK;
}

sc_status sc_dn_fail(sc_ctx *ctx, const char *name, const char *op, dnnl_status_t code,
                     const char *call, const char *what)
{
    sc_status st = code == dnnl_unimplemented ? SC_ERR_UNSUPPORTED
                   : code == dnnl_out_of_memory ? SC_ERR_NOMEM
                                                : SC_ERR_ARG;
    char fn[64];
    size_t n = strcspn(call, "(");
    snprintf(fn, sizeof fn, "%.*s", (int)(n < sizeof fn ? n : sizeof fn - 1), call);
    return sc_fail(sc_ctx_error(ctx), st, "%s (%s, oneDNN): %s(%s) failed: %s", name, op, fn,
                   what ? what : "", dnnl_status2str(code));
}

void sc_dn_describe(char *buf, size_t cap)
{
    const dnnl_version_t *v = dnnl_version();
    const char *isa = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
    if (!strncmp(isa, "cpu_isa_", 8))
        isa += 8;
    snprintf(buf, cap, "oneDNN %d.%d.%d, %s", v->major, v->minor, v->patch, isa);
}

/* ------------------------------------------------------------ tasks */

sc_status sc_dn_task_new(sc_ctx *ctx, const char *name, const char *op, sc_dn_task **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "%s (%s): out of host memory", name, op);
    snprintf((*out)->name, sizeof (*out)->name, "%s", name);
    snprintf((*out)->op, sizeof (*out)->op, "%s", op);
    return SC_OK;
}

void sc_dn_task_free(void *task)
{
    sc_dn_task *t = task;
    if (!t)
        return;
    for (int i = 0; i < t->n_execs; i++)
        dnnl_primitive_destroy(t->execs[i].prim);
    for (int i = 0; i < t->n_mems; i++)
        dnnl_memory_destroy(t->mems[i].mem);
    free(t);
}

/* A memory object with no data yet (its handle is set at each run). */
static sc_status add_mem(sc_ctx *ctx, sc_dn_task *t, const dnnl_memory_desc_t *md, int buffer,
                         size_t offset, int *index)
{
    const char *name = t->name, *op = t->op;
    if (t->n_mems == SC_DN_MAX_MEMS)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s, oneDNN): more than %d memory "
                       "objects in one task", name, op, SC_DN_MAX_MEMS);
    dnnl_engine_t eng = NULL;
    SC_TRY(sc_dn_engine(ctx, name, op, &eng));
    sc_dn_mem *m = &t->mems[t->n_mems];
    SC_DN(dnnl_memory_create(&m->mem, md, eng, DNNL_MEMORY_NONE), "memory object");
    m->buffer = buffer;
    m->offset = offset;
    *index = t->n_mems++;
    return SC_OK;
}

sc_status sc_dn_task_buffer_mem(sc_ctx *ctx, sc_dn_task *t, const dnnl_memory_desc_t *md,
                                cl_mem buf, int *index)
{
    int b = 0;
    while (b < t->n_buffers && t->buffers[b] != buf)
        b++;
    if (b == t->n_buffers) {
        if (b == SC_HOST_TASK_MAX_BUFFERS)
            return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s, oneDNN): more than %d "
                           "buffers in one task", t->name, t->op, SC_HOST_TASK_MAX_BUFFERS);
        t->buffers[t->n_buffers++] = buf;
    }
    size_t need = dnnl_memory_desc_get_size(md);
    if (sc_buffer_size(buf) < need)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE, "%s (%s, oneDNN): a buffer holds %zu "
                       "bytes, the operand needs %zu", t->name, t->op, sc_buffer_size(buf), need);
    return add_mem(ctx, t, md, b, 0, index);
}

sc_status sc_dn_task_scratch_mem(sc_ctx *ctx, sc_dn_task *t, const dnnl_memory_desc_t *md,
                                 int *index)
{
    size_t offset = t->scratch_bytes;
    size_t bytes = (dnnl_memory_desc_get_size(md) + SC_DN_ALIGN - 1) / SC_DN_ALIGN * SC_DN_ALIGN;
    SC_TRY(add_mem(ctx, t, md, -1, offset, index));
    t->scratch_bytes = offset + bytes;
    return SC_OK;
}

const dnnl_memory_desc_t *sc_dn_task_md(const sc_dn_task *t, int index)
{
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(t->mems[index].mem, &md);
    return md;
}

sc_status sc_dn_attr(sc_ctx *ctx, const char *name, const char *op, const char *what,
                     dnnl_primitive_attr_t *attr)
{
    *attr = NULL;
    SC_DN(dnnl_primitive_attr_create(attr), what);
    dnnl_status_t rc = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (rc != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return sc_dn_fail(ctx, name, op, rc, "dnnl_primitive_attr_set_scratchpad_mode", what);
    }
    return SC_OK;
}

sc_status sc_dn_pd_create(sc_ctx *ctx, const char *name, const char *op, const char *what,
                          const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint,
                          dnnl_primitive_desc_t *pd)
{
    dnnl_engine_t eng = NULL;
    SC_TRY(sc_dn_engine(ctx, name, op, &eng));
    dnnl_primitive_attr_t attr;
    SC_TRY(sc_dn_attr(ctx, name, op, what, &attr));
    dnnl_status_t rc = dnnl_primitive_desc_create(pd, desc, attr, eng, hint);
    dnnl_primitive_attr_destroy(attr);
    SC_DN(rc, what);
    return SC_OK;
}

/* The primitive's scratchpad as a region of the arena (-1: it needs none). */
static sc_status scratchpad_of(sc_ctx *ctx, sc_dn_task *t, const char *what,
                               const_dnnl_primitive_desc_t pd, int *index)
{
    *index = -1;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!md || dnnl_memory_desc_get_size(md) == 0)
        return SC_OK;
    sc_status st = sc_dn_task_scratch_mem(ctx, t, md, index);
    if (st != SC_OK)
        sc_error_prefix(sc_ctx_error(ctx), "scratchpad of %s: ", what);
    return st;
}

sc_status sc_dn_task_exec(sc_ctx *ctx, sc_dn_task *t, const char *what,
                          const_dnnl_primitive_desc_t pd, int n, const int *kinds,
                          const int *mems)
{
    const char *name = t->name, *op = t->op;
    if (t->n_execs == SC_DN_MAX_EXECS || n + 1 > SC_DN_MAX_ARGS)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s, oneDNN): task too long (%s)",
                       name, op, what);
    int pad;
    SC_TRY(scratchpad_of(ctx, t, what, pd, &pad));
    sc_dn_exec *e = &t->execs[t->n_execs];
    SC_DN(dnnl_primitive_create(&e->prim, pd), what);
    snprintf(e->what, sizeof e->what, "%s", what);
    e->n_args = n;
    for (int i = 0; i < n; i++) {
        e->arg_kind[i] = kinds[i];
        e->arg_mem[i] = mems[i];
    }
    if (pad >= 0) {
        e->arg_kind[e->n_args] = DNNL_ARG_SCRATCHPAD;
        e->arg_mem[e->n_args++] = pad;
    }
    t->n_execs++;
    return SC_OK;
}

/* The attributes of an accumulating reorder: dst = 1.0 * dst + src. */
static sc_status sum_attr(sc_ctx *ctx, sc_dn_task *t, const char *what, dnnl_primitive_attr_t *a)
{
    const char *name = t->name, *op = t->op;
    dnnl_post_ops_t po = NULL;
    SC_TRY(sc_dn_attr(ctx, name, op, what, a));
    dnnl_status_t rc = dnnl_post_ops_create(&po);
    if (rc == dnnl_success)
        rc = dnnl_post_ops_append_sum(po, 1.0f);
    if (rc == dnnl_success)
        rc = dnnl_primitive_attr_set_post_ops(*a, po);
    if (po)
        dnnl_post_ops_destroy(po);
    if (rc != dnnl_success) {
        dnnl_primitive_attr_destroy(*a);
        *a = NULL;
        return sc_dn_fail(ctx, name, op, rc, "dnnl_post_ops_append_sum", what);
    }
    return SC_OK;
}

sc_status sc_dn_task_reorder(sc_ctx *ctx, sc_dn_task *t, const char *what, int from, int to,
                             int accumulate)
{
    const char *name = t->name, *op = t->op;
    dnnl_engine_t eng = NULL;
    SC_TRY(sc_dn_engine(ctx, name, op, &eng));
    dnnl_primitive_attr_t attr = NULL;
    if (accumulate)
        SC_TRY(sum_attr(ctx, t, what, &attr));
    else
        SC_TRY(sc_dn_attr(ctx, name, op, what, &attr));
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t rc = dnnl_reorder_primitive_desc_create(&pd, sc_dn_task_md(t, from), eng,
                                                          sc_dn_task_md(t, to), eng, attr);
    dnnl_primitive_attr_destroy(attr);
    if (rc != dnnl_success)
        return sc_dn_fail(ctx, name, op, rc, "dnnl_reorder_primitive_desc_create", what);
    sc_status st = sc_dn_task_exec(ctx, t, what, pd, 2, (const int[]){DNNL_ARG_FROM, DNNL_ARG_TO},
                                   (const int[]){from, to});
    dnnl_primitive_desc_destroy(pd);
    return st;
}

sc_status sc_dn_task_as(sc_ctx *ctx, sc_dn_task *t, int user, const dnnl_memory_desc_t *md,
                        int *index, int *fresh)
{
    *fresh = !dnnl_memory_desc_equal(sc_dn_task_md(t, user), md);
    if (!*fresh) {
        *index = user;
        return SC_OK;
    }
    return sc_dn_task_scratch_mem(ctx, t, md, index);
}

/* ------------------------------------------------------ the host side */

/* What the host thread keeps between tasks: its stream and the arena that
 * holds every task's blocked copies (one task runs at a time per thread). */
typedef struct dn_thread {
    dnnl_stream_t stream;
    void *arena;
    size_t arena_bytes;
} dn_thread;

static pthread_key_t g_thread_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static int g_key_ok;

/* Runs when a host thread exits (its context is destroyed). */
static void thread_state_free(void *p)
{
    dn_thread *s = p;
    if (s->stream)
        dnnl_stream_destroy(s->stream);
    free(s->arena);
    free(s);
}

static void key_create(void)
{
    g_key_ok = pthread_key_create(&g_thread_key, thread_state_free) == 0;
}

static sc_status thread_state(const sc_dn_task *t, sc_error *err, dn_thread **out)
{
    pthread_once(&g_key_once, key_create);
    if (!g_key_ok)
        return sc_fail(err, SC_ERR_NOMEM, "%s (%s, oneDNN): pthread_key_create failed", t->name,
                       t->op);
    dn_thread *s = pthread_getspecific(g_thread_key);
    if (s) {
        *out = s;
        return SC_OK;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return sc_fail(err, SC_ERR_NOMEM, "%s (%s, oneDNN): out of host memory", t->name, t->op);
    dnnl_status_t rc = dnnl_stream_create(&s->stream, g_engine, dnnl_stream_default_flags);
    if (rc != dnnl_success) {
        free(s);
        return sc_fail(err, SC_ERR_ARG, "%s (%s, oneDNN): dnnl_stream_create failed: %s",
                       t->name, t->op, dnnl_status2str(rc));
    }
    if (pthread_setspecific(g_thread_key, s) != 0) {
        thread_state_free(s);
        return sc_fail(err, SC_ERR_NOMEM, "%s (%s, oneDNN): pthread_setspecific failed",
                       t->name, t->op);
    }
    *out = s;
    return SC_OK;
}

/* Grows the arena to `bytes` (the first run of the largest task). */
static sc_status arena_reserve(dn_thread *s, const sc_dn_task *t, sc_error *err)
{
    if (s->arena_bytes >= t->scratch_bytes)
        return SC_OK;
    /* in huge pages where allowed: fewer page faults the first time each
     * task runs (at least cache-line aligned, as the regions need) */
    void *p = sc_host_alloc_large(t->scratch_bytes);
    if (!p)
        return sc_fail(err, SC_ERR_NOMEM, "%s (%s, oneDNN): out of host memory for %zu bytes "
                       "of scratch", t->name, t->op, t->scratch_bytes);
    free(s->arena);
    s->arena = p;
    s->arena_bytes = t->scratch_bytes;
    return SC_OK;
}

static sc_status set_handles(const sc_dn_task *t, dn_thread *s, float **buffers, sc_error *err)
{
    for (int i = 0; i < t->n_mems; i++) {
        const sc_dn_mem *m = &t->mems[i];
        char *base = m->buffer < 0 ? s->arena : (char *)buffers[m->buffer];
        dnnl_status_t rc = dnnl_memory_set_data_handle(m->mem, base + m->offset);
        if (rc != dnnl_success)
            return sc_fail(err, SC_ERR_ARG, "%s (%s, oneDNN): dnnl_memory_set_data_handle "
                           "failed: %s", t->name, t->op, dnnl_status2str(rc));
    }
    return SC_OK;
}

static sc_status exec_one(const sc_dn_task *t, const sc_dn_exec *e, dn_thread *s, sc_error *err)
{
    dnnl_exec_arg_t args[SC_DN_MAX_ARGS];
    for (int i = 0; i < e->n_args; i++)
        args[i] = (dnnl_exec_arg_t){e->arg_kind[i], t->mems[e->arg_mem[i]].mem};
    dnnl_status_t rc = dnnl_primitive_execute(e->prim, s->stream, e->n_args, args);
    if (rc != dnnl_success)
        return sc_fail(err, SC_ERR_ARG, "%s (%s, oneDNN): dnnl_primitive_execute(%s) failed: %s",
                       t->name, t->op, e->what, dnnl_status2str(rc));
    return SC_OK;
}

/* The host task: runs on the context's host thread with the buffers mapped. */
static sc_status task_run(void *user, float **buffers, sc_error *err)
{
    const sc_dn_task *t = user;
    dn_thread *s = NULL;
    SC_TRY(thread_state(t, err, &s));
    SC_TRY(arena_reserve(s, t, err));
    SC_TRY(set_handles(t, s, buffers, err));
    for (int i = 0; i < t->n_execs; i++)
        SC_TRY(exec_one(t, &t->execs[i], s, err));
    dnnl_status_t rc = dnnl_stream_wait(s->stream);
    if (rc != dnnl_success)
        return sc_fail(err, SC_ERR_ARG, "%s (%s, oneDNN): dnnl_stream_wait failed: %s", t->name,
                       t->op, dnnl_status2str(rc));
    return SC_OK;
}

sc_status sc_dn_task_record(sc_plan *plan, sc_dn_task *t, const char *step)
{
    char label[192];
    snprintf(label, sizeof label, "%s/%s", t->name, step);
    return sc_plan_host_task(plan, label, task_run, t, sc_dn_task_free, t->buffers,
                             t->n_buffers);
}

sc_status sc_dn_task_record_built(sc_plan *plan, sc_dn_task *t, sc_status built,
                                  const char *step)
{
    if (built != SC_OK) {
        sc_dn_task_free(t);
        return built;
    }
    return sc_dn_task_record(plan, t, step);
}
