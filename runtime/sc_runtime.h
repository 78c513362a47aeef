/* SphereCL runtime: OpenCL context and device selection, buffers with a pool,
 * program build with an on-disk binary cache, kernel launches, GEMM, and the
 * flat "plan" that compiled networks replay every iteration.
 *
 * Every OpenCL call is checked; failures return an sc_status and leave the
 * cause in the context's error (sc_ctx_error). Nothing here prints or exits. */
#ifndef SC_RUNTIME_H
#define SC_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_error.h"

/* ----------------------------------------------------------------- version */

const char *sc_version(void);    /* "0.1.0", the project version */
const char *sc_git_commit(void); /* short hash of the built tree ("-dirty" if modified), or "unknown" */

/* ------------------------------------------------------------------ errors */

/* "CL_OUT_OF_RESOURCES" etc.; "CL_UNKNOWN_ERROR(-1234)" style for unknown codes
 * is not possible with a static string, so unknown codes give "CL_UNKNOWN_ERROR". */
const char *sc_cl_error_name(cl_int code);

/* ---------------------------------------------------------------- selector */

typedef enum sc_selector_kind {
    SC_SEL_DEFAULT, /* first GPU, else first CPU device */
    SC_SEL_CPU,     /* first CPU device */
    SC_SEL_GPU,     /* first GPU device */
    SC_SEL_INDEX,   /* global index as listed by sphere-devices */
    SC_SEL_PD       /* platform:device */
} sc_selector_kind;

typedef struct sc_selector {
    sc_selector_kind kind;
    int index;    /* SC_SEL_INDEX */
    int platform; /* SC_SEL_PD */
    int device;   /* SC_SEL_PD */
} sc_selector;

#define SC_SELECTOR_FORMS "'cpu', 'gpu', a device index N (see sphere-devices) or 'P:D' (platform:device)"

/* Parses "cpu", "gpu", "N", "P:D"; NULL or "" gives SC_SEL_DEFAULT.
 * An invalid string fails with a message naming the valid forms. */
sc_status sc_selector_parse(const char *text, sc_selector *out, sc_error *err);

/* ----------------------------------------------------------------- devices */

typedef struct sc_device_info {
    char name[256];
    char vendor[256];
    char driver[128];     /* CL_DRIVER_VERSION */
    char version[128];    /* CL_DEVICE_VERSION */
    char platform[256];   /* platform name */
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_mem;
    cl_ulong local_mem;
    cl_ulong max_alloc;
    size_t max_work_group;
    cl_uint base_align;   /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: sub-buffer origins */
    int fp64;
    int fp16;
} sc_device_info;

typedef struct sc_device_entry {
    int index;    /* global index over all platforms */
    int platform; /* platform index */
    int device;   /* device index within its platform */
    cl_platform_id platform_id;
    cl_device_id device_id;
    sc_device_info info;
} sc_device_entry;

/* Lists every device of every platform. SC_ERR_NO_PLATFORM when no OpenCL
 * platform is installed (the message names the Debian packages to install).
 * Free the list with free(). */
sc_status sc_devices_list(sc_device_entry **list, int *count, sc_error *err);

/* Picks the entry a selector refers to; fails naming what exists. */
sc_status sc_devices_pick(const sc_device_entry *list, int count, const sc_selector *sel,
                          int *chosen, sc_error *err);

const char *sc_device_type_name(cl_device_type type);

/* ----------------------------------------------------------------- context */

typedef struct sc_ctx sc_ctx;

/* Who runs the GEMMs (inner products, im2col convolutions). Measured on the
 * PoCL CPU device (bench/README.md): oneDNN's AVX-512 sgemm on the mapped
 * buffers is 3-5x faster there than OpenBLAS's AVX2 kernels and many times
 * faster than CLBlast compiled by PoCL. */
typedef enum sc_gemm_provider {
    SC_GEMM_AUTO,    /* oneDNN's sgemm on CPU devices, CLBlast elsewhere */
    SC_GEMM_CLBLAST, /* CLBlast kernels on the device */
    SC_GEMM_HOST,    /* OpenBLAS on the mapped buffers (CPU devices share host memory) */
    SC_GEMM_DNNL     /* oneDNN's dnnl_sgemm on the mapped buffers */
} sc_gemm_provider;

/* Who runs the dense convolutions (cl/ops_conv.h). Measured on the PoCL CPU
 * device (bench/README.md): oneDNN's direct AVX-512 kernels over the mapped
 * buffers are 3-5x faster there than im2col + GEMM; GPUs keep the OpenCL
 * path, where the data never leaves the device. */
typedef enum sc_conv_provider {
    SC_CONV_AUTO,   /* oneDNN on CPU devices, OpenCL elsewhere */
    SC_CONV_OPENCL, /* im2col + GEMM (on the GEMM provider) and the depthwise kernels */
    SC_CONV_DNNL    /* oneDNN (libdnnl) as host tasks over the mapped device buffers */
} sc_conv_provider;

typedef struct sc_ctx_options {
    const char *selector;  /* NULL: $SPHERECL_DEVICE, else the default */
    const char *cache_dir; /* NULL: $XDG_CACHE_HOME/spherecl or ~/.cache/spherecl; "" disables */
    sc_gemm_provider gemm; /* SC_GEMM_AUTO: $SPHERECL_GEMM (clblast|host|dnnl), else by device type */
    sc_conv_provider conv; /* SC_CONV_AUTO: $SPHERECL_CONV (dnnl|opencl), else by device type */
    int profiling;         /* plans record an event per step (sphere-bench --profile) */
} sc_ctx_options;

/* Creates a context with one in-order queue on the selected device. On
 * failure *out is NULL and err holds the cause. */
sc_status sc_ctx_create(const sc_ctx_options *opts, sc_ctx **out, sc_error *err);
void sc_ctx_destroy(sc_ctx *ctx);

/* The last error recorded by a call that took this context. */
sc_error *sc_ctx_error(sc_ctx *ctx);
const char *sc_ctx_message(const sc_ctx *ctx);

cl_context sc_ctx_cl(const sc_ctx *ctx);
cl_command_queue sc_ctx_queue(const sc_ctx *ctx);
cl_device_id sc_ctx_device(const sc_ctx *ctx);
const sc_device_info *sc_ctx_info(const sc_ctx *ctx);
sc_gemm_provider sc_ctx_gemm_provider(const sc_ctx *ctx);
void sc_ctx_set_gemm_provider(sc_ctx *ctx, sc_gemm_provider provider);
const char *sc_gemm_provider_name(sc_gemm_provider provider);
sc_conv_provider sc_ctx_conv_provider(const sc_ctx *ctx);
/* SC_CONV_AUTO re-resolves ($SPHERECL_CONV, else by device type). */
void sc_ctx_set_conv_provider(sc_ctx *ctx, sc_conv_provider provider);
const char *sc_conv_provider_name(sc_conv_provider provider); /* "dnnl", "opencl" */
/* The providers a context on this device would get: the requested ones, else
 * $SPHERECL_GEMM / $SPHERECL_CONV, else the device type's (what
 * sphere-devices lists). An unknown value of either variable is an error
 * naming the valid ones. */
sc_status sc_providers_resolve(const sc_device_info *info, sc_gemm_provider gemm,
                               sc_conv_provider conv, sc_gemm_provider *gemm_out,
                               sc_conv_provider *conv_out, sc_error *err);
/* Turns per-step timing of plans on or off (see sc_plan_profile). The queue
 * always has CL_QUEUE_PROFILING_ENABLE; this only makes plans keep events. */
void sc_ctx_set_profiling(sc_ctx *ctx, int on);

/* Waits for the queue to drain (a blocking call). */
sc_status sc_ctx_finish(sc_ctx *ctx);

/* Host-blocking calls made through the runtime: every blocking transfer,
 * finish, event wait and blocking map. The trainer's budget is one per
 * iteration; sphere-bench --sync-stats reports the count. */
typedef struct sc_sync_stats {
    size_t blocking_calls;
} sc_sync_stats;
sc_sync_stats sc_ctx_sync_stats(const sc_ctx *ctx);

/* Waits for an event (a blocking call) and releases it; NULL is a no-op. */
sc_status sc_event_wait(sc_ctx *ctx, cl_event *ev);
/* Releases an event without waiting; NULL is a no-op. */
void sc_event_release(cl_event *ev);

/* Records a failed OpenCL call ("clEnqueueNDRangeKernel(im2col): CL_INVALID_WORK_GROUP_SIZE")
 * in the context and returns SC_ERR_OPENCL (or SC_ERR_NOMEM for allocation failures). */
sc_status sc_cl_fail(sc_ctx *ctx, cl_int code, const char *call, const char *what);

/* Checks an OpenCL return code inside a function that has `sc_ctx *ctx`. */
#define SC_CL(call, what)                                          \
    do {                                                           \
        cl_int sc_cl_code_ = (call);                               \
        if (sc_cl_code_ != CL_SUCCESS)                             \
            return sc_cl_fail(ctx, sc_cl_code_, #call, (what));    \
    } while (0)

/* ----------------------------------------------------------------- buffers */

/* Device buffers come from a per-context pool: a released buffer is kept and
 * handed out again for a later request of a close size (within 2x). */
sc_status sc_buffer_alloc(sc_ctx *ctx, size_t bytes, cl_mem *out);
void sc_buffer_release(sc_ctx *ctx, cl_mem mem);
/* Size in bytes of a buffer (0 for NULL). */
size_t sc_buffer_size(cl_mem mem);

/* Blocking transfers; offsets and sizes in bytes. */
sc_status sc_buffer_write(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, const void *src);
sc_status sc_buffer_read(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *dst);
/* Non-blocking transfers, ordered in the queue: *done (if not NULL) receives
 * an event to wait on (sc_event_wait) before the host memory is reused or read. */
sc_status sc_buffer_write_async(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes,
                                const void *src, cl_event *done);
sc_status sc_buffer_read_async(sc_ctx *ctx, cl_mem mem, size_t offset, size_t bytes, void *dst,
                               cl_event *done);
/* A region [offset, offset + bytes) of a buffer as a buffer of its own
 * (clCreateSubBuffer); offset must be a multiple of the device's base_align.
 * Release with clReleaseMemObject (not through the pool). */
sc_status sc_buffer_region(sc_ctx *ctx, cl_mem parent, size_t offset, size_t bytes, cl_mem *out);

/* Host memory for large scratch (runtime/host_memory.c): from 2 MiB on,
 * aligned to and advised into transparent huge pages (fewer page faults on
 * first touch). Free with free(); NULL when out of memory. */
void *sc_host_alloc_large(size_t bytes);
sc_status sc_buffer_fill(sc_ctx *ctx, cl_mem mem, float value, size_t offset_floats, size_t count);
sc_status sc_buffer_copy(sc_ctx *ctx, cl_mem src, size_t src_off, cl_mem dst, size_t dst_off,
                         size_t bytes);

typedef struct sc_pool_stats {
    size_t live_bytes;   /* handed out now */
    size_t pooled_bytes; /* held for reuse */
    size_t peak_bytes;   /* peak of live_bytes */
    size_t allocations;  /* clCreateBuffer calls */
    size_t reuses;       /* requests served from the pool */
} sc_pool_stats;
sc_pool_stats sc_ctx_pool_stats(const sc_ctx *ctx);

/* ---------------------------------------------------------------- programs */

typedef struct sc_cl_source {
    const char *name;   /* file name without .cl: "conv" for cl/conv.cl */
    const char *source; /* NUL-terminated OpenCL C */
} sc_cl_source;

/* The embedded cl/NAME.cl table, terminated by {NULL, NULL} (generated at build time). */
extern const sc_cl_source sc_cl_sources[];
const char *sc_cl_source_find(const char *name);

/* Returns the program built from an embedded source with the given options
 * (NULL = none), building it at most once per context. Lookup order: the
 * context's programs, the on-disk binary cache, the compiler. On a compile
 * error the message contains the compiler's build log. */
sc_status sc_program_get(sc_ctx *ctx, const char *name, const char *options, cl_program *out);

/* Same for an explicit source text (tests, user kernels); name labels errors
 * and the in-memory cache. */
sc_status sc_program_from_source(sc_ctx *ctx, const char *name, const char *source,
                                 const char *options, cl_program *out);

typedef struct sc_program_stats {
    size_t compiles;    /* clBuildProgram from source */
    size_t disk_hits;   /* binaries loaded from the on-disk cache */
    size_t disk_stores; /* binaries written to the on-disk cache */
    size_t disk_corrupt;/* cache entries rejected and rebuilt */
    size_t memory_hits; /* served from the context */
} sc_program_stats;
sc_program_stats sc_ctx_program_stats(const sc_ctx *ctx);
const char *sc_ctx_cache_dir(const sc_ctx *ctx); /* "" when disabled */

/* ---------------------------------------------------------------- kernels */

/* One kernel argument: a pointer to its value and its size. value == NULL
 * with size > 0 is local memory. Build them with the SC_ARG_* macros. */
typedef struct sc_arg {
    size_t size;
    const void *value;
} sc_arg;

#define SC_ARG_MEM(m) ((sc_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define SC_ARG_INT(v) ((sc_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define SC_ARG_UINT(v) ((sc_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define SC_ARG_FLOAT(v) ((sc_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define SC_ARG_LOCAL(bytes) ((sc_arg){(bytes), NULL})
#define SC_ARGS(...) (sizeof((sc_arg[]){__VA_ARGS__}) / sizeof(sc_arg)), ((sc_arg[]){__VA_ARGS__})

/* Creates a kernel from an embedded program. Release with clReleaseKernel. */
sc_status sc_kernel_create(sc_ctx *ctx, const char *program, const char *kernel,
                           const char *options, cl_kernel *out);
sc_status sc_kernel_set_args(sc_ctx *ctx, cl_kernel kernel, const char *label, size_t nargs,
                             const sc_arg *args);
/* Enqueues a launch. global sizes are rounded up to a multiple of local (when
 * local is given), so kernels must bounds-check their ids. ev (may be NULL)
 * receives the launch's event. */
sc_status sc_kernel_launch(sc_ctx *ctx, cl_kernel kernel, const char *label, cl_uint dims,
                           const size_t *global, const size_t *local);
sc_status sc_kernel_launch_ev(sc_ctx *ctx, cl_kernel kernel, const char *label, cl_uint dims,
                              const size_t *global, const size_t *local, cl_event *ev);

/* -------------------------------------------------------------------- GEMM */

typedef enum sc_layout { SC_ROW_MAJOR = 0, SC_COL_MAJOR = 1 } sc_layout;

/* C = alpha * op(A) * op(B) + beta * C on device buffers. Offsets, leading
 * dimensions and strides are in elements (floats), as in BLAS. batch > 1 runs
 * `batch` GEMMs with the given strides (a stride may be 0 to share a matrix). */
typedef struct sc_gemm_args {
    sc_layout layout;
    int trans_a, trans_b;
    size_t m, n, k;
    float alpha;
    cl_mem a;
    size_t a_off, lda;
    cl_mem b;
    size_t b_off, ldb;
    float beta;
    cl_mem c;
    size_t c_off, ldc;
    size_t batch;                         /* 0 or 1: a single GEMM */
    size_t a_stride, b_stride, c_stride;  /* used when batch > 1 */
} sc_gemm_args;

/* Checks shapes against the buffers' sizes (error names the operand), then
 * enqueues on the context's GEMM provider (the caller never waits: a host
 * provider runs oneDNN's sgemm or OpenBLAS on the context's GEMM thread, in
 * queue order). ev (may be NULL) receives an event that completes with the
 * GEMM. */
sc_status sc_gemm(sc_ctx *ctx, const sc_gemm_args *g);
sc_status sc_gemm_ev(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev);

/* -------------------------------------------------------------- host tasks */

/* A host provider (oneDNN convolution, host BLAS) runs over device buffers
 * on the host, in queue order, while the caller goes on enqueueing: the
 * runtime maps the buffers (CPU devices: no copy), calls fn with their host
 * addresses in the order given (NULL for a NULL buffer), and unmaps. fn runs
 * on the context's host thread and must not call the runtime. */
#define SC_HOST_TASK_MAX_BUFFERS 8
/* A failing fn returns its status with the cause in err (naming its layer
 * and the call that failed); the task's event then fails, and the next
 * blocking call of the context returns that message. */
typedef sc_status (*sc_host_fn_mapped)(void *user, float **buffers, sc_error *err);
/* ev (may be NULL) completes with the task; ms (may be NULL) receives its
 * host time once it ran. user must stay valid until then. */
sc_status sc_host_task(sc_ctx *ctx, sc_host_fn_mapped fn, void *user, const cl_mem *mems,
                       int n_mems, cl_event *ev, double *ms);

/* ------------------------------------------------------------------- plans */

/* A plan is a flat list of steps (kernel launches with their arguments
 * already set, GEMMs, host callbacks) recorded once and replayed every
 * iteration with no per-step decisions. Ops record into a plan; the
 * conformance tests run a plan once, the trainer every iteration. */
typedef struct sc_plan sc_plan;

typedef sc_status (*sc_host_fn)(sc_ctx *ctx, void *user);

sc_status sc_plan_create(sc_ctx *ctx, sc_plan **out);
void sc_plan_destroy(sc_plan *plan);
sc_ctx *sc_plan_ctx(const sc_plan *plan);
size_t sc_plan_steps(const sc_plan *plan);

/* Records a launch of kernel `kernel` from embedded program `program` (built
 * with `options`), with its arguments bound now. label names the step in
 * errors and profiles ("conv1/im2col"). local may be NULL. */
sc_status sc_plan_kernel(sc_plan *plan, const char *label, const char *program,
                         const char *kernel, const char *options, cl_uint dims,
                         const size_t *global, const size_t *local, size_t nargs,
                         const sc_arg *args);
sc_status sc_plan_gemm(sc_plan *plan, const char *label, const sc_gemm_args *g);
sc_status sc_plan_host(sc_plan *plan, const char *label, sc_host_fn fn, void *user);
/* Records a host task (sc_host_task). The plan owns user and frees it with
 * free_user (may be NULL) when destroyed. */
sc_status sc_plan_host_task(sc_plan *plan, const char *label, sc_host_fn_mapped fn, void *user,
                            void (*free_user)(void *), const cl_mem *mems, int n_mems);

/* Enqueues every step in order (does not wait). */
sc_status sc_plan_run(sc_plan *plan);

/* Per-step device time of the last sc_plan_run when the context has
 * profiling on, from the OpenCL events of the steps
 * (CL_PROFILING_COMMAND_START/END): the run itself is not slowed down; this
 * call waits for the last step. Host steps are timed on the host. */
typedef struct sc_plan_profile_entry {
    const char *label;
    double ms;
} sc_plan_profile_entry;
sc_status sc_plan_profile(sc_plan *plan, sc_plan_profile_entry **entries, size_t *count);

/* ------------------------------------------------------------------- misc */

uint64_t sc_hash64(const void *data, size_t len, uint64_t seed); /* FNV-1a 64 */
uint32_t sc_crc32(uint32_t crc, const void *data, size_t len);    /* IEEE 802.3 */

/* Grows a malloc'd array to hold at least `need` elements (capacity
 * doubling); 0 when out of memory or the size would overflow. */
int sc_grow(void **items, size_t *cap, size_t need, size_t elem_size);

/* Random numbers (rng.c): splitmix64 and its output function, which also
 * serves as a 64-bit hash; xoshiro256** streams seeded from splitmix64. */
uint64_t sc_mix64(uint64_t z);
uint64_t sc_splitmix64(uint64_t *state);
typedef struct sc_rng {
    uint64_t s[4];
} sc_rng;
void sc_rng_seed(sc_rng *r, uint64_t state); /* four splitmix64 draws from state */
uint64_t sc_rng_next(sc_rng *r);
double sc_rng_unit(sc_rng *r);                 /* [0, 1), 53 bits */

#include "sc_files.h"

#endif
