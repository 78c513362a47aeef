/* Eltwise SUM on oneDNN (the CPU devices' oneDNN provider): one sum
 * primitive in a host task, beside the convolutions' tasks. On PoCL the
 * OpenCL kernel between two host tasks cost 1.2-2.5 ms per residual sum of
 * MobileNet-SphereFace at batch 32 (bench/README.md); the flat sum needs no
 * layout, so it serves NCHW and channel-blocked blobs alike. */
#include "dnnl_internal.h"

static sc_status sum_task(sc_ctx *ctx, sc_dn_task *t, int n_inputs, const cl_mem *x,
                          const float *coeffs, size_t count, cl_mem y)
{
    const char *name = t->name, *op = t->op;
    dnnl_dims_t dims = {(dnnl_dim_t)count};
    dnnl_memory_desc_t md;
    SC_DN(dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a), "sum");
    dnnl_memory_desc_t srcs[SC_DN_MAX_SUM_INPUTS];
    int kinds[SC_DN_MAX_SUM_INPUTS + 1], mems[SC_DN_MAX_SUM_INPUTS + 1];
    for (int i = 0; i < n_inputs; i++) {
        srcs[i] = md;
        kinds[i] = DNNL_ARG_MULTIPLE_SRC + i;
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &md, x[i], &mems[i]));
    }
    kinds[n_inputs] = DNNL_ARG_DST;
    SC_TRY(sc_dn_task_buffer_mem(ctx, t, &md, y, &mems[n_inputs]));
    dnnl_engine_t eng = NULL;
    SC_TRY(sc_dn_engine(ctx, name, op, &eng));
    dnnl_primitive_attr_t attr;
    SC_TRY(sc_dn_attr(ctx, name, op, "sum", &attr));
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t rc =
        dnnl_sum_primitive_desc_create(&pd, &md, n_inputs, coeffs, srcs, attr, eng);
    dnnl_primitive_attr_destroy(attr);
    SC_DN(rc, "sum");
    sc_status st = sc_dn_task_exec(ctx, t, "sum", pd, n_inputs + 1, kinds, mems);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

sc_status sc_eltwise_dnnl_sum(sc_plan *plan, const char *name, int n_inputs, const cl_mem *x,
                              const float *coeffs, size_t count, cl_mem y)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    if (n_inputs < 1 || n_inputs > SC_DN_MAX_SUM_INPUTS)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (Eltwise): %d inputs for oneDNN's sum",
                       name, n_inputs);
    sc_dn_task *t;
    SC_TRY(sc_dn_task_new(ctx, name, "Eltwise", &t));
    return sc_dn_task_record_built(plan, t, sum_task(ctx, t, n_inputs, x, coeffs, count, y),
                                   "dnnl-sum");
}
