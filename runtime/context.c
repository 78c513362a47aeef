/* Context creation: pick a device, make one in-order queue, remember where
 * the program cache lives and which GEMM and convolution providers to use. */
#include "ctx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sc_grow(void **items, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return 1;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / elem_size)
        return 0;
    void *p = realloc(*items, n * elem_size);
    if (!p)
        return 0;
    *items = p;
    *cap = n;
    return 1;
}

sc_status sc_cl_fail(sc_ctx *ctx, cl_int code, const char *call, const char *what)
{
    sc_status st = (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
                    code == CL_INVALID_BUFFER_SIZE)
                       ? SC_ERR_NOMEM
                       : SC_ERR_OPENCL;
    /* Keep only the function name of the call expression. */
    char fn[64];
    size_t n = strcspn(call, "(");
    if (n >= sizeof fn)
        n = sizeof fn - 1;
    memcpy(fn, call, n);
    fn[n] = '\0';
    return sc_fail(ctx ? &ctx->err : NULL, st, "%s(%s) failed: %s", fn, what ? what : "",
                   sc_cl_error_name(code));
}

static void resolve_cache_dir(const char *requested, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (requested) {
        snprintf(dst, cap, "%s", requested);
        return;
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dst, cap, "%s/spherecl", xdg);
    else if (home && *home)
        snprintf(dst, cap, "%s/.cache/spherecl", home);
}

/* $NAME read as one of `choices` ("a|b", case-insensitive): its index, -1
 * when unset or empty, -2 when it names none of them. */
static int env_choice(const char *name, const char *const *choices, int n)
{
    const char *env = getenv(name);
    if (!env || !*env)
        return -1;
    for (int i = 0; i < n; i++)
        if (!strcasecmp(env, choices[i]))
            return i;
    return -2;
}

static sc_status resolve_gemm(sc_gemm_provider requested, const sc_device_info *info,
                              sc_gemm_provider *out, sc_error *err)
{
    static const char *const names[] = {"clblast", "host", "dnnl", "onednn"};
    static const sc_gemm_provider values[] = {SC_GEMM_CLBLAST, SC_GEMM_HOST, SC_GEMM_DNNL,
                                              SC_GEMM_DNNL};
    int i = requested == SC_GEMM_AUTO ? env_choice("SPHERECL_GEMM", names, 4) : -1;
    if (i == -2)
        return sc_fail(err, SC_ERR_ARG, "SPHERECL_GEMM='%s': expected clblast, host or dnnl",
                       getenv("SPHERECL_GEMM"));
    if (requested != SC_GEMM_AUTO)
        *out = requested;
    else if (i >= 0)
        *out = values[i];
    else /* a host GEMM only makes sense where device memory is host memory */
        *out = (info->type & CL_DEVICE_TYPE_CPU) ? SC_GEMM_DNNL : SC_GEMM_CLBLAST;
    return SC_OK;
}

static sc_status resolve_conv(sc_conv_provider requested, const sc_device_info *info,
                              sc_conv_provider *out, sc_error *err)
{
    static const char *const names[] = {"opencl", "dnnl", "onednn"};
    static const sc_conv_provider values[] = {SC_CONV_OPENCL, SC_CONV_DNNL, SC_CONV_DNNL};
    int i = requested == SC_CONV_AUTO ? env_choice("SPHERECL_CONV", names, 3) : -1;
    if (i == -2)
        return sc_fail(err, SC_ERR_ARG, "SPHERECL_CONV='%s': expected dnnl or opencl",
                       getenv("SPHERECL_CONV"));
    if (requested != SC_CONV_AUTO)
        *out = requested;
    else if (i >= 0)
        *out = values[i];
    else /* oneDNN works on host memory: only a CPU device's buffers map without a copy */
        *out = (info->type & CL_DEVICE_TYPE_CPU) ? SC_CONV_DNNL : SC_CONV_OPENCL;
    return SC_OK;
}

sc_status sc_providers_resolve(const sc_device_info *info, sc_gemm_provider gemm,
                               sc_conv_provider conv, sc_gemm_provider *gemm_out,
                               sc_conv_provider *conv_out, sc_error *err)
{
    SC_TRY(resolve_gemm(gemm, info, gemm_out, err));
    return resolve_conv(conv, info, conv_out, err);
}

static sc_status choose_device(const sc_ctx_options *opts, sc_ctx *ctx, sc_error *err)
{
    const char *text = opts && opts->selector ? opts->selector : getenv("SPHERECL_DEVICE");
    sc_selector sel;
    SC_TRY(sc_selector_parse(text, &sel, err));
    sc_device_entry *list = NULL;
    int count = 0, chosen = 0;
    SC_TRY(sc_devices_list(&list, &count, err));
    sc_status st = sc_devices_pick(list, count, &sel, &chosen, err);
    if (st == SC_OK) {
        ctx->platform = list[chosen].platform_id;
        ctx->device = list[chosen].device_id;
        ctx->info = list[chosen].info;
    } else if (text) {
        sc_error_prefix(err, "SPHERECL_DEVICE/--device '%s': ", text);
    }
    free(list);
    return st;
}

static sc_status create_queue(sc_ctx *ctx, sc_error *err)
{
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return sc_fail(err, SC_ERR_OPENCL, "clCreateContext(%s) failed: %s", ctx->info.name,
                       sc_cl_error_name(rc));
    /* Profiling costs a timestamp per command; it lets sphere-bench --profile
     * time steps from events without serialising the plan. */
    cl_command_queue_properties supported = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported, &supported,
                        NULL) != CL_SUCCESS)
        supported = 0;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device,
                                      supported & CL_QUEUE_PROFILING_ENABLE, &rc);
    if (rc != CL_SUCCESS)
        return sc_fail(err, SC_ERR_OPENCL, "clCreateCommandQueue(%s) failed: %s", ctx->info.name,
                       sc_cl_error_name(rc));
    return SC_OK;
}

sc_status sc_ctx_create(const sc_ctx_options *opts, sc_ctx **out, sc_error *err)
{
    *out = NULL;
    sc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory creating the context");
    ctx->profiling = opts ? opts->profiling : 0;
    sc_status st = choose_device(opts, ctx, err);
    if (st == SC_OK)
        st = create_queue(ctx, err);
    if (st != SC_OK) {
        sc_ctx_destroy(ctx);
        return st;
    }
    if (st == SC_OK)
        st = sc_providers_resolve(&ctx->info, opts ? opts->gemm : SC_GEMM_AUTO,
                                  opts ? opts->conv : SC_CONV_AUTO, &ctx->gemm, &ctx->conv, err);
    if (st != SC_OK) {
        sc_ctx_destroy(ctx);
        return st;
    }
    resolve_cache_dir(opts ? opts->cache_dir : NULL, ctx->cache_dir, sizeof ctx->cache_dir);
    *out = ctx;
    return SC_OK;
}

void sc_ctx_destroy(sc_ctx *ctx)
{
    if (!ctx)
        return;
    /* a destructor cannot report: finishing is best effort before releasing */
    if (ctx->queue && clFinish(ctx->queue) != CL_SUCCESS)
        ctx->err.status = SC_ERR_OPENCL;
    sc_gemm_worker_stop(ctx);
    sc_pool_destroy(ctx);
    sc_programs_destroy(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx);
}

sc_error *sc_ctx_error(sc_ctx *ctx) { return &ctx->err; }
const char *sc_ctx_message(const sc_ctx *ctx) { return ctx ? ctx->err.msg : "(no context)"; }
cl_context sc_ctx_cl(const sc_ctx *ctx) { return ctx->context; }
cl_command_queue sc_ctx_queue(const sc_ctx *ctx) { return ctx->queue; }
cl_device_id sc_ctx_device(const sc_ctx *ctx) { return ctx->device; }
const sc_device_info *sc_ctx_info(const sc_ctx *ctx) { return &ctx->info; }
sc_gemm_provider sc_ctx_gemm_provider(const sc_ctx *ctx) { return ctx->gemm; }
void sc_ctx_set_profiling(sc_ctx *ctx, int on) { ctx->profiling = on != 0; }
const char *sc_ctx_cache_dir(const sc_ctx *ctx) { return ctx->cache_dir; }
sc_program_stats sc_ctx_program_stats(const sc_ctx *ctx) { return ctx->program_stats; }

/* The setters keep the current provider when the variable is invalid: the
 * context was created with it valid, and a setter cannot report. */
void sc_ctx_set_gemm_provider(sc_ctx *ctx, sc_gemm_provider provider)
{
    sc_gemm_provider p = ctx->gemm;
    if (resolve_gemm(provider, &ctx->info, &p, NULL) == SC_OK)
        ctx->gemm = p;
}

sc_conv_provider sc_ctx_conv_provider(const sc_ctx *ctx) { return ctx->conv; }

void sc_ctx_set_conv_provider(sc_ctx *ctx, sc_conv_provider provider)
{
    sc_conv_provider p = ctx->conv;
    if (resolve_conv(provider, &ctx->info, &p, NULL) == SC_OK)
        ctx->conv = p;
}

const char *sc_conv_provider_name(sc_conv_provider provider)
{
    switch (provider) {
    case SC_CONV_AUTO: return "auto";
    case SC_CONV_OPENCL: return "opencl";
    case SC_CONV_DNNL: return "dnnl";
    }
    return "?";
}

const char *sc_gemm_provider_name(sc_gemm_provider provider)
{
    switch (provider) {
    case SC_GEMM_AUTO: return "auto";
    case SC_GEMM_CLBLAST: return "clblast";
    case SC_GEMM_HOST: return "host-blas";
    case SC_GEMM_DNNL: return "dnnl-sgemm";
    }
    return "?";
}

sc_status sc_ctx_finish(sc_ctx *ctx)
{
    sc_count_blocking(ctx);
    cl_int rc = clFinish(ctx->queue);
    SC_TRY(sc_gemm_worker_error(ctx)); /* the cause, when a host GEMM failed */
    SC_CL(rc, "queue");
    return SC_OK;
}

sc_sync_stats sc_ctx_sync_stats(const sc_ctx *ctx) { return ctx->sync; }

sc_status sc_event_wait(sc_ctx *ctx, cl_event *ev)
{
    if (!ev || !*ev)
        return SC_OK;
    sc_count_blocking(ctx);
    cl_int rc = clWaitForEvents(1, ev);
    clReleaseEvent(*ev);
    *ev = NULL;
    SC_TRY(sc_gemm_worker_error(ctx));
    if (rc != CL_SUCCESS)
        return sc_cl_fail(ctx, rc, "clWaitForEvents", "event");
    return SC_OK;
}

void sc_event_release(cl_event *ev)
{
    if (ev && *ev) {
        clReleaseEvent(*ev);
        *ev = NULL;
    }
}
