/* The context's private state, shared by the runtime's own files only. */
#ifndef SC_CTX_INTERNAL_H
#define SC_CTX_INTERNAL_H

#include "sc_runtime.h"

typedef struct sc_program_entry {
    char *name;
    char *options;
    uint64_t source_hash;
    cl_program program;
} sc_program_entry;

typedef struct sc_gemm_worker sc_gemm_worker; /* gemm_host.c */

typedef struct sc_pooled_buffer {
    cl_mem mem;
    size_t bytes;
} sc_pooled_buffer;

struct sc_ctx {
    sc_error err;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    sc_device_info info;
    sc_gemm_provider gemm;
    sc_conv_provider conv;
    int profiling;
    char cache_dir[1024];

    sc_program_entry *programs;
    size_t n_programs, cap_programs;
    sc_program_stats program_stats;

    sc_sync_stats sync;
    sc_gemm_worker *gemm_worker; /* started by the first host GEMM */

    sc_pooled_buffer *pool; /* released buffers kept for reuse */
    size_t n_pool, cap_pool;
    sc_pool_stats pool_stats;
};


/* Disk cache (program_cache.c). Both return SC_OK on a miss / failed store:
 * the cache is an optimisation, never a reason to fail. */
sc_status sc_cache_load(sc_ctx *ctx, uint64_t key, unsigned char **binary, size_t *size);
void sc_cache_store(sc_ctx *ctx, uint64_t key, const unsigned char *binary, size_t size);
uint64_t sc_cache_key(const sc_ctx *ctx, const char *source, const char *options);


void sc_pool_destroy(sc_ctx *ctx);

/* A CPU device's buffer over host memory in transparent huge pages
 * (host_memory.c); NULL with *rc set on failure. */
cl_mem sc_host_buffer_create(cl_context context, size_t bytes, cl_int *rc);

/* A host buffer that only grows (the GEMM thread's). */
typedef struct sc_gemm_scratch {
    float *data;
    size_t cap; /* floats */
} sc_gemm_scratch;

/* The GEMM on oneDNN's sgemm over host pointers to the buffers' first floats
 * (gemm_dnnl.c); some forms go through the scratch. */
sc_status sc_gemm_dnnl_run(const sc_gemm_args *g, const float *a, const float *b, float *c,
                           sc_gemm_scratch *s, sc_error *err);

/* Host GEMM (gemm_host.c): enqueues the GEMM for the context's GEMM thread;
 * ms (may be NULL) receives its host time once done. */
sc_status sc_gemm_host(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev, double *ms);
/* sc_gemm_ev that also reports a host GEMM's own time in *host_ms (plans'
 * profiles: its event spans only the barrier). */
sc_status sc_gemm_timed(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev, double *host_ms);
/* Joins the GEMM thread (after the queue is finished). */
void sc_gemm_worker_stop(sc_ctx *ctx);
/* The first failure of the GEMM thread since the last call, as the context's error. */
sc_status sc_gemm_worker_error(sc_ctx *ctx);
/* Counts a host-blocking call (sc_sync_stats). */
static inline void sc_count_blocking(sc_ctx *ctx) { ctx->sync.blocking_calls++; }
void sc_programs_destroy(sc_ctx *ctx);

#endif
