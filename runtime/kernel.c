/* Kernel creation, argument binding and launches. */
#include "ctx_internal.h"

#include <stdio.h>

sc_status sc_kernel_create(sc_ctx *ctx, const char *program, const char *kernel,
                           const char *options, cl_kernel *out)
{
    *out = NULL;
    cl_program p;
    SC_TRY(sc_program_get(ctx, program, options, &p));
    cl_int rc;
    cl_kernel k = clCreateKernel(p, kernel, &rc);
    if (rc != CL_SUCCESS) {
        char what[256];
        snprintf(what, sizeof what, "%s in program %s", kernel, program);
        return sc_cl_fail(ctx, rc, "clCreateKernel", what);
    }
    *out = k;
    return SC_OK;
}

sc_status sc_kernel_set_args(sc_ctx *ctx, cl_kernel kernel, const char *label, size_t nargs,
                             const sc_arg *args)
{
    for (size_t i = 0; i < nargs; i++) {
        cl_int rc = clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char what[256];
            snprintf(what, sizeof what, "%s, argument %zu", label ? label : "kernel", i);
            return sc_cl_fail(ctx, rc, "clSetKernelArg", what);
        }
    }
    return SC_OK;
}

/* Work-group size used for 1-D launches that do not ask for one: a fixed size
 * keeps PoCL from specialising the kernel for every odd global size. */
static size_t default_local_1d(const sc_ctx *ctx)
{
    size_t wg = 64;
    return ctx->info.max_work_group < wg ? ctx->info.max_work_group : wg;
}

sc_status sc_kernel_launch(sc_ctx *ctx, cl_kernel kernel, const char *label, cl_uint dims,
                           const size_t *global, const size_t *local)
{
    return sc_kernel_launch_ev(ctx, kernel, label, dims, global, local, NULL);
}

sc_status sc_kernel_launch_ev(sc_ctx *ctx, cl_kernel kernel, const char *label, cl_uint dims,
                              const size_t *global, const size_t *local, cl_event *ev)
{
    size_t g[3], l[3];
    const size_t *lp = local;
    if (!local && dims == 1) {
        l[0] = default_local_1d(ctx);
        lp = l;
    }
    for (cl_uint d = 0; d < dims; d++) {
        if (global[d] == 0)
            return sc_fail(&ctx->err, SC_ERR_ARG, "%s: empty launch (global size 0)",
                           label ? label : "kernel");
        g[d] = lp ? (global[d] + lp[d] - 1) / lp[d] * lp[d] : global[d];
    }
    SC_CL(clEnqueueNDRangeKernel(ctx->queue, kernel, dims, NULL, g, lp, 0, NULL, ev),
          label ? label : "kernel");
    return SC_OK;
}
