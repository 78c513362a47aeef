/* Program building: in-context cache, then the on-disk binary cache, then
 * the compiler. Build failures carry the compiler's log. */
#include "ctx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sc_cl_source_find(const char *name)
{
    for (const sc_cl_source *s = sc_cl_sources; s->name; s++)
        if (!strcmp(s->name, name))
            return s->source;
    return NULL;
}

void sc_programs_destroy(sc_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_programs; i++) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].name);
        free(ctx->programs[i].options);
    }
    free(ctx->programs);
    ctx->programs = NULL;
    ctx->n_programs = ctx->cap_programs = 0;
}

static cl_program find_loaded(sc_ctx *ctx, const char *name, const char *options, uint64_t hash)
{
    for (size_t i = 0; i < ctx->n_programs; i++) {
        sc_program_entry *e = &ctx->programs[i];
        if (e->source_hash == hash && !strcmp(e->name, name) && !strcmp(e->options, options))
            return e->program;
    }
    return NULL;
}

static sc_status remember(sc_ctx *ctx, const char *name, const char *options, uint64_t hash,
                          cl_program program)
{
    if (!sc_grow((void **)&ctx->programs, &ctx->cap_programs, ctx->n_programs + 1,
                 sizeof *ctx->programs))
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory");
    sc_program_entry *e = &ctx->programs[ctx->n_programs];
    e->name = strdup(name);
    e->options = strdup(options);
    if (!e->name || !e->options) {
        free(e->name);
        free(e->options);
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory");
    }
    e->source_hash = hash;
    e->program = program;
    ctx->n_programs++;
    return SC_OK;
}

/* Puts the build log of a failed build into the context's error. */
static sc_status build_failure(sc_ctx *ctx, cl_program p, const char *name, cl_int rc)
{
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS &&
        len > 0 && (log = malloc(len + 1)) != NULL) {
        if (clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, len, log, NULL) !=
            CL_SUCCESS)
            len = 0;
        log[len] = '\0';
    }
    sc_fail(&ctx->err, SC_ERR_BUILD, "building OpenCL program '%s' for %s failed (%s); build log:\n%s",
            name, ctx->info.name, sc_cl_error_name(rc), log ? log : "(no log)");
    free(log);
    return SC_ERR_BUILD;
}

static sc_status build_from_binary(sc_ctx *ctx, const unsigned char *bin, size_t size,
                                   const char *options, cl_program *out)
{
    cl_int rc, bin_status = CL_SUCCESS;
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &size, &bin,
                                             &bin_status, &rc);
    if (rc == CL_SUCCESS && bin_status == CL_SUCCESS)
        rc = clBuildProgram(p, 1, &ctx->device, options, NULL, NULL);
    if (rc != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (p)
            clReleaseProgram(p);
        return SC_ERR_BUILD; /* caller falls back to source */
    }
    *out = p;
    return SC_OK;
}

static void store_binary(sc_ctx *ctx, cl_program p, uint64_t key)
{
    size_t size = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin)
        return;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        sc_cache_store(ctx, key, bin, size);
    free(bin);
}

static sc_status build_from_source(sc_ctx *ctx, const char *name, const char *source,
                                   const char *options, cl_program *out)
{
    cl_int rc;
    cl_program p = clCreateProgramWithSource(ctx->context, 1, &source, NULL, &rc);
    if (rc != CL_SUCCESS)
        return sc_cl_fail(ctx, rc, "clCreateProgramWithSource", name);
    ctx->program_stats.compiles++;
    rc = clBuildProgram(p, 1, &ctx->device, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        sc_status st = build_failure(ctx, p, name, rc);
        clReleaseProgram(p);
        return st;
    }
    *out = p;
    return SC_OK;
}

sc_status sc_program_from_source(sc_ctx *ctx, const char *name, const char *source,
                                 const char *options, cl_program *out)
{
    *out = NULL;
    if (!options)
        options = "";
    uint64_t hash = sc_hash64(source, strlen(source), 0);
    cl_program p = find_loaded(ctx, name, options, hash);
    if (p) {
        ctx->program_stats.memory_hits++;
        *out = p;
        return SC_OK;
    }
    uint64_t key = sc_cache_key(ctx, source, options);
    unsigned char *bin = NULL;
    size_t size = 0;
    sc_cache_load(ctx, key, &bin, &size);
    sc_status st = SC_ERR_BUILD;
    if (bin) {
        st = build_from_binary(ctx, bin, size, options, &p);
        if (st == SC_OK)
            ctx->program_stats.disk_hits++;
        else
            ctx->program_stats.disk_corrupt++;
        free(bin);
    }
    if (st != SC_OK) {
        SC_TRY(build_from_source(ctx, name, source, options, &p));
        store_binary(ctx, p, key);
    }
    st = remember(ctx, name, options, hash, p);
    if (st != SC_OK) {
        clReleaseProgram(p);
        return st;
    }
    *out = p;
    return SC_OK;
}

/* An embedded program as it is compiled: the shared constants
 * (sc_cl_shared.h) and helpers (common.cl) first, then the file itself, each
 * starting at its own line 1 so build logs point into the right file. */
static char *compose(const char *source)
{
    const char *parts[3] = {sc_cl_source_find("sc_cl_shared"), sc_cl_source_find("common"),
                            source};
    size_t len = 1;
    for (int i = 0; i < 3; i++)
        len += (parts[i] ? strlen(parts[i]) : 0) + 16;
    char *text = malloc(len);
    if (!text)
        return NULL;
    size_t off = 0;
    for (int i = 0; i < 3; i++)
        off += (size_t)snprintf(text + off, len - off, "#line 1\n%s\n", parts[i] ? parts[i] : "");
    return text;
}

sc_status sc_program_get(sc_ctx *ctx, const char *name, const char *options, cl_program *out)
{
    const char *source = sc_cl_source_find(name);
    if (!source)
        return sc_fail(&ctx->err, SC_ERR_ARG, "no embedded OpenCL program named '%s'", name);
    char *text = compose(source);
    if (!text)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory building '%s'", name);
    sc_status st = sc_program_from_source(ctx, name, text, options, out);
    free(text);
    return st;
}
