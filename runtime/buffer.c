/* Device buffers with a simple per-context pool, and blocking transfers.
 * The pool exists because networks are rebuilt (batch size changes, test vs
 * train nets) and clCreateBuffer on some drivers costs milliseconds. */
#include "ctx_internal.h"

#include <stdio.h>
#include <stdlib.h>

size_t sc_buffer_size(cl_mem mem)
{
    size_t bytes = 0;
    if (mem && clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS)
        bytes = 0;
    return bytes;
}

/* Index of the smallest pooled buffer that fits bytes within 2x, or -1. */
static long pool_find(const sc_ctx *ctx, size_t bytes)
{
    long best = -1;
    for (size_t i = 0; i < ctx->n_pool; i++) {
        size_t b = ctx->pool[i].bytes;
        if (b >= bytes && b / 2 <= bytes && (best < 0 || b < ctx->pool[best].bytes))
            best = (long)i;
    }
    return best;
}

static void pool_clear(sc_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_pool; i++)
        clReleaseMemObject(ctx->pool[i].mem);
    ctx->n_pool = 0;
    ctx->pool_stats.pooled_bytes = 0;
}

void sc_pool_destroy(sc_ctx *ctx)
{
    pool_clear(ctx);
    free(ctx->pool);
    ctx->pool = NULL;
    ctx->cap_pool = 0;
}

static void note_live(sc_ctx *ctx, size_t bytes)
{
    ctx->pool_stats.live_bytes += bytes;
    if (ctx->pool_stats.live_bytes > ctx->pool_stats.peak_bytes)
        ctx->pool_stats.peak_bytes = ctx->pool_stats.live_bytes;
}

/* Buffers from 1 MiB on a CPU device live in huge pages (host_memory.c). */
static cl_mem create_buffer(sc_ctx *ctx, size_t bytes, cl_int *rc)
{
    if ((ctx->info.type & CL_DEVICE_TYPE_CPU) && bytes >= ((size_t)1 << 20))
        return sc_host_buffer_create(ctx->context, bytes, rc);
    return clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, rc);
}

sc_status sc_buffer_alloc(sc_ctx *ctx, size_t bytes, cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        return sc_fail(&ctx->err, SC_ERR_ARG, "buffer of 0 bytes requested");
    long i = pool_find(ctx, bytes);
    if (i >= 0) {
        *out = ctx->pool[i].mem;
        ctx->pool_stats.pooled_bytes -= ctx->pool[i].bytes;
        note_live(ctx, ctx->pool[i].bytes);
        ctx->pool[i] = ctx->pool[--ctx->n_pool];
        ctx->pool_stats.reuses++;
        return SC_OK;
    }
    if (bytes > ctx->info.max_alloc)
        return sc_fail(&ctx->err, SC_ERR_NOMEM,
                       "device out of memory: a buffer of %zu bytes exceeds the largest "
                       "allocation %s allows (%llu bytes)",
                       bytes, ctx->info.name, (unsigned long long)ctx->info.max_alloc);
    cl_int rc;
    cl_mem m = create_buffer(ctx, bytes, &rc);
    if (rc != CL_SUCCESS && ctx->n_pool > 0) { /* give pooled memory back, retry once */
        pool_clear(ctx);
        m = create_buffer(ctx, bytes, &rc);
    }
    if (rc != CL_SUCCESS)
        return sc_fail(&ctx->err, rc == CL_INVALID_BUFFER_SIZE || rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                          rc == CL_OUT_OF_HOST_MEMORY || rc == CL_OUT_OF_RESOURCES
                                      ? SC_ERR_NOMEM
                                      : SC_ERR_OPENCL,
                       "device out of memory: clCreateBuffer(%zu bytes) on %s failed: %s "
                       "(%zu bytes already allocated)",
                       bytes, ctx->info.name, sc_cl_error_name(rc), ctx->pool_stats.live_bytes);
    ctx->pool_stats.allocations++;
    note_live(ctx, bytes);
    *out = m;
    return SC_OK;
}

void sc_buffer_release(sc_ctx *ctx, cl_mem mem)
{
    if (!mem)
        return;
    size_t bytes = sc_buffer_size(mem);
    ctx->pool_stats.live_bytes -= bytes < ctx->pool_stats.live_bytes ? bytes : ctx->pool_stats.live_bytes;
    if (!sc_grow((void **)&ctx->pool, &ctx->cap_pool, ctx->n_pool + 1, sizeof *ctx->pool)) {
        clReleaseMemObject(mem); /* cannot pool it: just free it */
        return;
    }
    ctx->pool[ctx->n_pool++] = (sc_pooled_buffer){mem, bytes};
    ctx->pool_stats.pooled_bytes += bytes;
}

sc_pool_stats sc_ctx_pool_stats(const sc_ctx *ctx) { return ctx->pool_stats; }

static sc_status check_range(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, const char *op)
{
    size_t size = sc_buffer_size(mem);
    if (!mem || offset > size || bytes > size - offset)
        return sc_fail(&ctx->err, SC_ERR_ARG,
                       "%s of %zu bytes at offset %zu is outside a buffer of %zu bytes", op, bytes,
                       offset, size);
    return SC_OK;
}

static sc_status transfer(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *host,
                          int write, int blocking, cl_event *done)
{
    if (done)
        *done = NULL;
    if (bytes == 0)
        return SC_OK;
    SC_TRY(check_range(ctx, mem, offset, bytes, write ? "buffer write" : "buffer read"));
    if (blocking)
        sc_count_blocking(ctx);
    cl_bool b = blocking ? CL_TRUE : CL_FALSE;
    cl_int rc = write ? clEnqueueWriteBuffer(ctx->queue, mem, b, offset, bytes, host, 0, NULL, done)
                      : clEnqueueReadBuffer(ctx->queue, mem, b, offset, bytes, host, 0, NULL, done);
    if (blocking)
        SC_TRY(sc_gemm_worker_error(ctx)); /* the cause, when a host GEMM failed */
    SC_CL(rc, write ? "buffer write" : "buffer read");
    return SC_OK;
}

sc_status sc_buffer_write(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, const void *src)
{
    return transfer(ctx, mem, offset, bytes, (void *)src, 1, 1, NULL);
}

sc_status sc_buffer_read(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *dst)
{
    return transfer(ctx, mem, offset, bytes, dst, 0, 1, NULL);
}

sc_status sc_buffer_write_async(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes,
                                const void *src, cl_event *done)
{
    return transfer(ctx, mem, offset, bytes, (void *)src, 1, 0, done);
}

sc_status sc_buffer_read_async(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *dst,
                               cl_event *done)
{
    return transfer(ctx, mem, offset, bytes, dst, 0, 0, done);
}

sc_status sc_buffer_region(sc_ctx *ctx, cl_mem parent, size_t offset, size_t bytes, cl_mem *out)
{
    *out = NULL;
    SC_TRY(check_range(ctx, parent, offset, bytes, "buffer region"));
    if (bytes == 0 || offset % ctx->info.base_align)
        return sc_fail(&ctx->err, SC_ERR_ARG,
                       "buffer region of %zu bytes at %zu: the offset must be a multiple of %u "
                       "(the device's base address alignment) and the size positive",
                       bytes, offset, ctx->info.base_align);
    cl_buffer_region r = {offset, bytes};
    cl_int rc;
    cl_mem m = clCreateSubBuffer(parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &rc);
    if (rc != CL_SUCCESS)
        return sc_cl_fail(ctx, rc, "clCreateSubBuffer", "parameter store");
    *out = m;
    return SC_OK;
}

sc_status sc_buffer_fill(sc_ctx *ctx, cl_mem mem, float value, size_t offset_floats, size_t count)
{
    if (count == 0)
        return SC_OK;
    SC_TRY(check_range(ctx, mem, offset_floats * sizeof(float), count * sizeof(float),
                       "buffer fill"));
    SC_CL(clEnqueueFillBuffer(ctx->queue, mem, &value, sizeof value, offset_floats * sizeof(float),
                              count * sizeof(float), 0, NULL, NULL),
          "buffer fill");
    return SC_OK;
}

sc_status sc_buffer_copy(sc_ctx *ctx, cl_mem src, size_t src_off, cl_mem dst, size_t dst_off,
                         size_t bytes)
{
    if (bytes == 0)
        return SC_OK;
    SC_TRY(check_range(ctx, src, src_off, bytes, "buffer copy source"));
    SC_TRY(check_range(ctx, dst, dst_off, bytes, "buffer copy destination"));
    SC_CL(clEnqueueCopyBuffer(ctx->queue, src, dst, src_off, dst_off, bytes, 0, NULL, NULL),
          "buffer copy");
    return SC_OK;
}
