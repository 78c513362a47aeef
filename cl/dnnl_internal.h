/* oneDNN work recorded into plans (cl/dnnl_task.c), shared by the oneDNN
 * providers (cl/conv_dnnl.c). Not installed: users see only the provider
 * choice (sc_conv_provider in sc_runtime.h).
 *
 * A task is a short list of oneDNN primitives (reorders and one or two
 * convolutions) created when the plan is recorded and executed, in order, by
 * one host task (sc_plan_host_task) on the context's host thread: the device
 * buffers are mapped there (no copy on a CPU device) and every memory object
 * gets its data handle at run time, either a mapped buffer or a region of the
 * host thread's scratch arena (the blocked copies oneDNN's kernels prefer).
 * Nothing is allocated per run once the arena has grown to the largest task. */
#ifndef SC_DNNL_INTERNAL_H
#define SC_DNNL_INTERNAL_H

#include "sc_ops.h"

#include <oneapi/dnnl/dnnl.h>

#define SC_DN_MAX_MEMS 16
#define SC_DN_MAX_EXECS 10
#define SC_DN_MAX_ARGS 8

/* One memory object of a task: over a mapped buffer or the scratch arena. */
typedef struct sc_dn_mem {
    dnnl_memory_t mem;
    int buffer;     /* index into the task's buffers; -1: the scratch arena */
    size_t offset;  /* bytes from the start of that buffer or of the arena */
} sc_dn_mem;

/* One primitive and its arguments (indices into the task's memory objects). */
typedef struct sc_dn_exec {
    dnnl_primitive_t prim;
    char what[48]; /* "forward", "reorder weights", ... for error messages */
    int n_args;
    int arg_kind[SC_DN_MAX_ARGS]; /* DNNL_ARG_SRC, ... */
    int arg_mem[SC_DN_MAX_ARGS];
} sc_dn_exec;

typedef struct sc_dn_task {
    char name[128];           /* the layer, first word of every message */
    char op[48];              /* "Convolution", ... */
    cl_mem buffers[SC_HOST_TASK_MAX_BUFFERS];
    int n_buffers;
    sc_dn_mem mems[SC_DN_MAX_MEMS];
    int n_mems;
    sc_dn_exec execs[SC_DN_MAX_EXECS];
    int n_execs;
    size_t scratch_bytes;     /* arena bytes this task needs */
} sc_dn_task;

/* The process's oneDNN CPU engine (created on first use). */
sc_status sc_dn_engine(sc_ctx *ctx, const char *name, const char *op, dnnl_engine_t *out);

/* Records a failed oneDNN call in the context: "<name> (<op>, oneDNN):
 * <call>(<what>) failed: <status>"; returns SC_ERR_UNSUPPORTED for
 * dnnl_unimplemented, SC_ERR_NOMEM for out of memory, else SC_ERR_ARG. */
sc_status sc_dn_fail(sc_ctx *ctx, const char *name, const char *op, dnnl_status_t code,
                     const char *call, const char *what);

/* Checks a oneDNN return code inside a function with `ctx`, `name` and `op`. */
#define SC_DN(call, what)                                                      \
    do {                                                                       \
        dnnl_status_t sc_dn_code_ = (call);                                    \
        if (sc_dn_code_ != dnnl_success)                                       \
            return sc_dn_fail(ctx, name, op, sc_dn_code_, #call, (what));      \
    } while (0)

/* New primitive attributes with a user scratchpad: every primitive's
 * scratchpad then comes from the task's arena (sc_dn_task_exec binds it),
 * so oneDNN allocates nothing while a plan runs. */
sc_status sc_dn_attr(sc_ctx *ctx, const char *name, const char *op, const char *what,
                     dnnl_primitive_attr_t *attr);

/* A zeroed task for layer `name` of op `op`. Free with sc_dn_task_free
 * unless sc_dn_task_record took it. */
sc_status sc_dn_task_new(sc_ctx *ctx, const char *name, const char *op, sc_dn_task **out);
void sc_dn_task_free(void *task);

/* A memory object of descriptor md over device buffer buf (mapped at run
 * time); *index receives its index in the task. */
sc_status sc_dn_task_buffer_mem(sc_ctx *ctx, sc_dn_task *t, const dnnl_memory_desc_t *md,
                                cl_mem buf, int *index);
/* A memory object of descriptor md in the scratch arena. */
sc_status sc_dn_task_scratch_mem(sc_ctx *ctx, sc_dn_task *t, const dnnl_memory_desc_t *md,
                                 int *index);
/* The descriptor of memory object `index`. */
const dnnl_memory_desc_t *sc_dn_task_md(const sc_dn_task *t, int index);

/* The primitive descriptor of an op descriptor (a convolution's, a PReLU's,
 * ...) on the engine, with sc_dn_attr's attributes; hint may be NULL. */
sc_status sc_dn_pd_create(sc_ctx *ctx, const char *name, const char *op, const char *what,
                          const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint,
                          dnnl_primitive_desc_t *pd);

/* Appends the primitive of pd (which stays the caller's, created with
 * sc_dn_attr's attributes) with its arguments: kinds[i] is bound to memory
 * object mems[i]; its scratchpad, if any, is added from the arena. */
sc_status sc_dn_task_exec(sc_ctx *ctx, sc_dn_task *t, const char *what,
                          const_dnnl_primitive_desc_t pd, int n, const int *kinds,
                          const int *mems);
/* Appends a reorder from memory object `from` to `to`; with accumulate,
 * to += reorder(from) (a sum post-op), else to = reorder(from). */
sc_status sc_dn_task_reorder(sc_ctx *ctx, sc_dn_task *t, const char *what, int from, int to,
                             int accumulate);

/* The memory object holding md for a primitive: `user` itself when its
 * layout already is md, else a new scratch object (the caller adds the
 * reorder). *fresh is 1 in the second case. */
sc_status sc_dn_task_as(sc_ctx *ctx, sc_dn_task *t, int user, const dnnl_memory_desc_t *md,
                        int *index, int *fresh);

/* Records the task as one host task step labelled "<name>/<step>" (the plan
 * owns it from here, also on failure). */
sc_status sc_dn_task_record(sc_plan *plan, sc_dn_task *t, const char *step);
/* sc_dn_task_record when built (the status of building the task) is SC_OK,
 * else frees the task and returns built. */
sc_status sc_dn_task_record_built(sc_plan *plan, sc_dn_task *t, sc_status built,
                                  const char *step);

/* "oneDNN 2.6.3, avx512_core_bf16": the library and the instruction set its
 * kernels use here. */
void sc_dn_describe(char *buf, size_t cap);

/* ---- the convolution provider (conv_dnnl.c), called by cl/conv.c after
 * its checks; op names the layer type in messages; lay NULL: NCHW; act
 * NULL or without slope: no PReLU, else applied in place in the task) */
sc_status sc_conv_dnnl_forward(sc_plan *plan, const char *name, const char *op,
                               const sc_conv_params *p, sc_shape in, sc_shape out, cl_mem x,
                               cl_mem w, cl_mem bias, cl_mem y, const sc_conv_layout *lay,
                               const sc_conv_prelu *act);
sc_status sc_conv_dnnl_backward(sc_plan *plan, const char *name, const char *op,
                                const sc_conv_params *p, sc_shape in, sc_shape out, cl_mem x,
                                cl_mem w, cl_mem dy, cl_mem dx, float beta_dx, cl_mem dw,
                                cl_mem db);

/* ---- Eltwise SUM (eltwise_dnnl.c): y = sum_i coeffs[i] x[i] over count
 * floats as one oneDNN sum primitive (any layout: the tensors are read as
 * flat arrays); at most SC_DN_MAX_SUM_INPUTS inputs. */
#define SC_DN_MAX_SUM_INPUTS 6
sc_status sc_eltwise_dnnl_sum(sc_plan *plan, const char *name, int n_inputs, const cl_mem *x,
                              const float *coeffs, size_t count, cl_mem y);

#endif
