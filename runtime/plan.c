/* Plans: flat, pre-bound step lists replayed every iteration. Each kernel
 * step owns its own cl_kernel with arguments set once at record time, so a
 * replay is only a sequence of enqueues: nothing waits for the device. With
 * profiling on, every step keeps its event and the profile reads the
 * device's timestamps afterwards. */
#include "ctx_internal.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

typedef enum step_kind { STEP_KERNEL, STEP_GEMM, STEP_HOST, STEP_HOST_TASK } step_kind;

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
    sc_host_fn_mapped task;
    void (*free_user)(void *);
    cl_mem mems[SC_HOST_TASK_MAX_BUFFERS];
    int n_mems;
    cl_event ev;    /* the last profiled run's event (kernels, GEMMs) */
    double host_ms; /* host time of a host step or a host GEMM, < 0: none */
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
        sc_event_release(&plan->steps[i].ev);
        if (plan->steps[i].free_user)
            plan->steps[i].free_user(plan->steps[i].user);
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

/* Enqueues one step; with ev set, keeps its event (and host time) for the profile. */
sc_status sc_plan_host_task(sc_plan *plan, const char *label, sc_host_fn_mapped fn, void *user,
                            void (*free_user)(void *), const cl_mem *mems, int n_mems)
{
    if (n_mems < 0 || n_mems > SC_HOST_TASK_MAX_BUFFERS) {
        if (free_user)
            free_user(user);
        return sc_fail(&plan->ctx->err, SC_ERR_ARG, "%s: %d buffers for a host task", label,
                       n_mems);
    }
    plan_step *s = NULL;
    sc_status st = push_step(plan, STEP_HOST_TASK, label, &s);
    if (st != SC_OK) {
        if (free_user)
            free_user(user);
        return st;
    }
    s->task = fn;
    s->user = user;
    s->free_user = free_user;
    for (int i = 0; i < n_mems; i++)
        s->mems[i] = mems[i];
    s->n_mems = n_mems;
    return SC_OK;
}

static sc_status run_step(sc_ctx *ctx, plan_step *s, int profile)
{
    cl_event *ev = profile ? &s->ev : NULL;
    if (profile) {
        sc_event_release(&s->ev);
        s->host_ms = -1;
    }
    switch (s->kind) {
    case STEP_KERNEL:
        return sc_kernel_launch_ev(ctx, s->kernel, s->label, s->dims, s->global,
                                   s->has_local ? s->local : NULL, ev);
    case STEP_GEMM: {
        sc_status st = sc_gemm_timed(ctx, &s->gemm, ev, profile ? &s->host_ms : NULL);
        if (st != SC_OK)
            sc_error_prefix(&ctx->err, "%s: ", s->label);
        return st;
    }
    case STEP_HOST_TASK: {
        sc_status st = sc_host_task(ctx, s->task, s->user, s->mems, s->n_mems, ev,
                                    profile ? &s->host_ms : NULL);
        if (st != SC_OK)
            sc_error_prefix(&ctx->err, "%s: ", s->label);
        return st;
    }
    case STEP_HOST: {
        /* a host step reads what the steps before it wrote: the queue drains first */
        SC_TRY(sc_ctx_finish(ctx));
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        sc_status st = s->fn(ctx, s->user);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (profile)
            s->host_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) * 1e-6;
        if (st != SC_OK)
            sc_error_prefix(&ctx->err, "%s: ", s->label);
        return st;
    }
    }
    return SC_OK;
}

sc_status sc_plan_run(sc_plan *plan)
{
    for (size_t i = 0; i < plan->n; i++)
        SC_TRY(run_step(plan->ctx, &plan->steps[i], plan->ctx->profiling));
    return SC_OK;
}

/* Device time of a step from its event, in ms (0 when unavailable). */
static double event_ms(cl_event ev)
{
    cl_ulong start = 0, end = 0;
    if (!ev || clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start,
                                       NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
            CL_SUCCESS)
        return 0;
    return end > start ? (double)(end - start) * 1e-6 : 0;
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
    sc_status st = sc_ctx_finish(ctx); /* every step's event is complete after this */
    for (size_t i = 0; i < plan->n && st == SC_OK; i++) {
        const plan_step *s = &plan->steps[i];
        e[i].label = s->label;
        e[i].ms = s->host_ms >= 0 ? s->host_ms : event_ms(s->ev);
    }
    if (st != SC_OK) {
        free(e);
        return st;
    }
    *entries = e;
    *count = plan->n;
    return SC_OK;
}
