/* Helpers shared by the op launchers: shape and buffer checks with messages
 * that name the layer, and small utility launches. */
#include "sc_ops.h"

#include <stdio.h>

char *sc_shape_str(sc_shape s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%dx%dx%dx%d", s.n, s.c, s.h, s.w);
    return buf;
}

sc_status sc_op_check_shape(sc_ctx *ctx, const char *name, const char *op, const char *what,
                            sc_shape s)
{
    if (s.n > 0 && s.c > 0 && s.h > 0 && s.w > 0)
        return SC_OK;
    char b[64];
    return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE, "%s (%s): %s has a zero or negative dimension (%s)",
                   name, op, what, sc_shape_str(s, b, sizeof b));
}

sc_status sc_op_check_buffer(sc_ctx *ctx, const char *name, const char *op, const char *what,
                             cl_mem mem, size_t floats)
{
    if (!mem)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (%s): %s buffer is missing", name, op,
                       what);
    size_t have = sc_buffer_size(mem) / sizeof(float);
    if (have < floats)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_SHAPE,
                       "%s (%s): %s buffer holds %zu floats, needs %zu", name, op, what, have,
                       floats);
    return SC_OK;
}

sc_status sc_op_launch_1d(sc_plan *plan, const char *name, const char *program,
                          const char *kernel, size_t n, size_t nargs, const sc_arg *args)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s", name, kernel);
    return sc_plan_kernel(plan, label, program, kernel, NULL, 1, &n, NULL, nargs, args);
}

sc_status sc_op_launch_planes(sc_plan *plan, const char *name, const char *program,
                              const char *kernel, sc_shape in, size_t nargs, const sc_arg *args)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s", name, kernel);
    size_t global[2] = {(size_t)in.h * (size_t)in.w, (size_t)in.n * (size_t)in.c};
    return sc_plan_kernel(plan, label, program, kernel, NULL, 2, global, NULL, nargs, args);
}

size_t sc_op_group_size(sc_ctx *ctx, size_t preferred)
{
    size_t max = sc_ctx_info(ctx)->max_work_group, local = preferred;
    while (local > 1 && local > max)
        local /= 2;
    return local;
}

sc_status sc_op_launch_groups(sc_plan *plan, const char *name, const char *program,
                              const char *kernel, const char *options, size_t groups,
                              size_t local, size_t nargs, const sc_arg *args)
{
    char label[256];
    snprintf(label, sizeof label, "%s/%s", name, kernel);
    size_t global = groups * local;
    return sc_plan_kernel(plan, label, program, kernel, options, 1, &global, &local, nargs, args);
}

sc_status sc_op_axpby(sc_plan *plan, const char *name, size_t n, float a, cl_mem x, float b,
                      cl_mem y)
{
    return sc_op_launch_1d(plan, name, "util", "axpby", n,
                           SC_ARGS(SC_ARG_INT(n), SC_ARG_FLOAT(a), SC_ARG_MEM(x), SC_ARG_FLOAT(b),
                                   SC_ARG_MEM(y)));
}

sc_status sc_op_fill(sc_plan *plan, const char *name, size_t n, float value, cl_mem x)
{
    return sc_op_launch_1d(plan, name, "util", "fill", n,
                           SC_ARGS(SC_ARG_INT(n), SC_ARG_FLOAT(value), SC_ARG_MEM(x)));
}
