/* SphereCL op library: the OpenCL kernels of every layer (cl/NAME.cl) and
 * their host-side launchers, which check shapes and record launches into a
 * plan (see sc_runtime.h). One header per op family, all included here.
 *
 * Conventions shared by every op:
 *  - Tensors are NCHW float32 in Caffe blob layout, passed as cl_mem; sizes
 *    are checked against the buffers (sc_op_check_buffer).
 *  - `name` is the layer name: it labels the plan steps ("conv1/im2col") and
 *    starts every error message, which also names the op type and the shapes:
 *    "conv1 (Convolution): weights are 64x3x3x3, expected 64x1x3x3 for group 3".
 *  - Forward functions overwrite their outputs.
 *  - Backward functions ADD parameter gradients into their diff buffers (as
 *    Caffe does; the solver clears them each iteration), and write input
 *    gradients with `beta_dx`: 0 overwrites dx, 1 adds to it (a blob read by
 *    several layers). A NULL dx skips that gradient.
 *  - Values that change every iteration (learning rate, A-Softmax iteration,
 *    dropout seed) live in small device buffers, so a recorded plan replays
 *    with no host decisions.
 *  - Functions return sc_status; the message is in sc_ctx_error(plan's ctx). */
#ifndef SC_OPS_H
#define SC_OPS_H

#include "sc_runtime.h"

typedef struct sc_shape {
    int n, c, h, w;
} sc_shape;

static inline size_t sc_shape_count(sc_shape s)
{
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* "2x3x112x96" into buf (at least 64 bytes); returns buf. */
char *sc_shape_str(sc_shape s, char *buf, size_t cap);

/* Fails unless all four dimensions are positive. */
sc_status sc_op_check_shape(sc_ctx *ctx, const char *name, const char *op, const char *what,
                            sc_shape s);

/* Fails unless mem holds at least `floats` floats; names the layer, op and operand. */
sc_status sc_op_check_buffer(sc_ctx *ctx, const char *name, const char *op, const char *what,
                             cl_mem mem, size_t floats);

/* Records a 1-D launch of `kernel` from program `program` over n items, the
 * step labelled "name/kernel". */
sc_status sc_op_launch_1d(sc_plan *plan, const char *name, const char *program,
                          const char *kernel, size_t n, size_t nargs, const sc_arg *args);

/* Records a kernel over a (H*W, N*C) range of the NCHW tensor `in`:
 * dimension 1 is the (n, c) plane, so the kernel finds its channel with one
 * modulo per plane rather than a division per element. Exact sizes, no
 * rounding: the kernel needs no bound check. */
sc_status sc_op_launch_planes(sc_plan *plan, const char *name, const char *program,
                              const char *kernel, sc_shape in, size_t nargs, const sc_arg *args);

/* The work-group size of a reduction kernel: `preferred` (a power of two),
 * halved until the device allows it. */
size_t sc_op_group_size(sc_ctx *ctx, size_t preferred);

/* Records a launch of `groups` work-groups of `local` items (one per channel,
 * position, ...) of `kernel`, the program built with `options` (NULL: none),
 * the step labelled "name/kernel". */
sc_status sc_op_launch_groups(sc_plan *plan, const char *name, const char *program,
                              const char *kernel, const char *options, size_t groups,
                              size_t local, size_t nargs, const sc_arg *args);

/* Records y = a * x + b * y over n floats (n may differ from buffer sizes). */
sc_status sc_op_axpby(sc_plan *plan, const char *name, size_t n, float a, cl_mem x, float b,
                      cl_mem y);
/* Records x[0..n) = value. */
sc_status sc_op_fill(sc_plan *plan, const char *name, size_t n, float value, cl_mem x);

#include "ops_conv.h"
#include "ops_depthwise.h"
#include "ops_inner_product.h"
#include "ops_elementwise.h"
#include "ops_batchnorm.h"
#include "ops_pooling.h"
#include "ops_softmax.h"
#include "ops_asoftmax.h"
#include "ops_sgd.h"
#include "ops_monitor.h"

#endif
