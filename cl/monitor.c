/* Launchers of the training monitor (see ops_monitor.h). */
#include "sc_ops.h"

sc_status sc_monitor_add(sc_plan *plan, const char *name, cl_mem value, float weight, int slot,
                         cl_mem monitor)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    if (slot < 0 || slot >= SC_MONITOR_FLOATS)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (monitor): slot %d", name, slot);
    SC_TRY(sc_op_check_buffer(ctx, name, "monitor", "value", value, 1));
    SC_TRY(sc_op_check_buffer(ctx, name, "monitor", "monitor", monitor, SC_MONITOR_FLOATS));
    return sc_op_launch_1d(plan, name, "monitor", "monitor_add", 1,
                           SC_ARGS(SC_ARG_MEM(value), SC_ARG_FLOAT(weight), SC_ARG_INT(slot),
                                   SC_ARG_INT(SC_MONITOR_NONFINITE), SC_ARG_MEM(monitor)));
}

sc_status sc_monitor_nonfinite(sc_plan *plan, const char *name, size_t n, cl_mem x, cl_mem flag)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    if (n == 0 || n > 2147483647u)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG, "%s (finite check): %zu values", name, n);
    SC_TRY(sc_op_check_buffer(ctx, name, "finite check", "values", x, n));
    SC_TRY(sc_op_check_buffer(ctx, name, "finite check", "flag", flag, 1));
    SC_TRY(sc_op_fill(plan, name, 1, 0.0f, flag));
    return sc_op_launch_1d(plan, name, "monitor", "monitor_nonfinite", n,
                           SC_ARGS(SC_ARG_INT(n), SC_ARG_MEM(x), SC_ARG_MEM(flag)));
}
