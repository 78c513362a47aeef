/* Plans: flat, pre-bound step lists replayed every iteration. Each kernel
 * step owns its own cl_kernel with arguments set once at record time, so a
 * replay is only a sequence of enqueues. */
#include "ctx_internal.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

typedef enum step_kind { STEP_KERNEL, STEP_GEMM, STEP_HOST } step_kind;

typedef struct plan_step {
    step_kind kind;
    char *label;
    cl_kernel kernel;
    cl_uint dims;
    size_t global[3], local[3];
    int has_local;
    sc_gemm_args gemm;
    sc_host_fn fn;
    void *user;
    double ms; /* wall time of the last run when profiling */
} plan_step;

struct sc_plan {
    sc_ctx *ctx;
    plan_step *steps;
    size_t n, cap;
};

sc_status sc_plan_create(sc_ctx *ctx, sc_plan **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory creating a plan");
    (*out)->ctx = ctx;
    return SC_OK;
}

void sc_plan_destroy(sc_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++) {
        if (plan->steps[i].kernel)
            clReleaseKernel(plan->steps[i].kernel);
        free(plan->steps[i].label);
    }
    free(plan->steps);
    free(plan);
}

sc_ctx *sc_plan_ctx(const sc_plan *plan) { return plan->ctx; }
size_t sc_plan_steps(const sc_plan *plan) { return plan->n; }

static sc_status push_step(sc_plan *plan, step_kind kind, const char *label, plan_step **out)
{
    if (!sc_grow((void **)&plan->steps, &plan->cap, plan->n + 1, sizeof *plan->steps))
        return sc_fail(&plan->ctx->err, SC_ERR_NOMEM, "out of host memory recording a plan");
    plan_step *s = &plan->steps[plan->n];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->label = strdup(label ? label : "?");
    if (!s->label)
        return sc_fail(&plan->ctx->err, SC_ERR_NOMEM, "out of host memory recording a plan");
    plan->n++;
    *out = s;
    return SC_OK;
}

sc_status sc_plan_kernel(sc_plan *plan, const char *label, const char *program,
                         const char *kernel, const char *options, cl_uint dims,
                         const size_t *global, const size_t *local, size_t nargs,
                         const sc_arg *args)
{
    sc_ctx *ctx = plan->ctx;
    if (dims < 1 || dims > 3)
        return sc_fail(&ctx->err, SC_ERR_ARG, "%s: %u launch dimensions", label, dims);
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0)
            return sc_fail(&ctx->err, SC_ERR_ARG, "%s: empty launch (global size 0)", label);
    cl_kernel k;
    SC_TRY(sc_kernel_create(ctx, program, kernel, options, &k));
    sc_status st = sc_kernel_set_args(ctx, k, label, nargs, args);
    plan_step *s = NULL;
    if (st == SC_OK)
        st = push_step(plan, STEP_KERNEL, label, &s);
    if (st != SC_OK) {
        clReleaseKernel(k);
        return st;
    }
    s->kernel = k;
    s->dims = dims;
    for (cl_uint d = 0; d < dims; d++) {
        s->global[d] = global[d];
        s->local[d] = local ? local[d] : 0;
    }
    s->has_local = local != NULL;
    return SC_OK;
}

sc_status sc_plan_gemm(sc_plan *plan, const char *label, const sc_gemm_args *g)
{
    plan_step *s = NULL;
    SC_TRY(push_step(plan, STEP_GEMM, label, &s));
    s->gemm = *g;
    return SC_OK;
}

sc_status sc_plan_host(sc_plan *plan, const char *label, sc_host_fn fn, void *user)
{
    plan_step *s = NULL;
    SC_TRY(push_step(plan, STEP_HOST, label, &s));
    s->fn = fn;
    s->user = user;
    return SC_OK;
}

static sc_status run_step(sc_ctx *ctx, plan_step *s)
{
    switch (s->kind) {
    case STEP_KERNEL:
        return sc_kernel_launch(ctx, s->kernel, s->label, s->dims, s->global,
                                s->has_local ? s->local : NULL);
    case STEP_GEMM: {
        sc_status st = sc_gemm(ctx, &s->gemm);
        if (st != SC_OK)
            sc_error_prefix(&ctx->err, "%s: ", s->label);
        return st;
    }
    case STEP_HOST: {
        sc_status st = s->fn(ctx, s->user);
        if (st != SC_OK)
            sc_error_prefix(&ctx->err, "%s: ", s->label);
        return st;
    }
    }
    return SC_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Profiling waits for every step: wall time then covers device kernels and
 * host GEMMs alike (which have no OpenCL event). */
static sc_status run_profiled(sc_plan *plan)
{
    sc_ctx *ctx = plan->ctx;
    SC_TRY(sc_ctx_finish(ctx));
    for (size_t i = 0; i < plan->n; i++) {
        double t0 = now_ms();
        SC_TRY(run_step(ctx, &plan->steps[i]));
        SC_TRY(sc_ctx_finish(ctx));
        plan->steps[i].ms = now_ms() - t0;
    }
    return SC_OK;
}

sc_status sc_plan_run(sc_plan *plan)
{
    if (plan->ctx->profiling)
        return run_profiled(plan);
    for (size_t i = 0; i < plan->n; i++)
        SC_TRY(run_step(plan->ctx, &plan->steps[i]));
    return SC_OK;
}

sc_status sc_plan_profile(sc_plan *plan, sc_plan_profile_entry **entries, size_t *count)
{
    sc_ctx *ctx = plan->ctx;
    *entries = NULL;
    *count = 0;
    if (!ctx->profiling)
        return sc_fail(&ctx->err, SC_ERR_ARG, "plan profile asked of a context without profiling");
    sc_plan_profile_entry *e = calloc(plan->n ? plan->n : 1, sizeof *e);
    if (!e)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory");
    for (size_t i = 0; i < plan->n; i++) {
        e[i].label = plan->steps[i].label;
        e[i].ms = plan->steps[i].ms;
    }
    *entries = e;
    *count = plan->n;
    return SC_OK;
}
