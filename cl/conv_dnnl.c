/* The oneDNN convolution provider (SC_CONV_DNNL): forward, backward-data and
 * backward-weights (+ bias gradient) as oneDNN primitives, recorded into the
 * plan as host tasks over the mapped device buffers (dnnl_internal.h).
 *
 * Layouts: the buffers hold NCHW activations (or, between the convolutions
 * of an inference net, channel-blocked nChw16c ones: sc_conv_forward_blocked)
 * and Caffe's OIHW / GOIHW weights. Each primitive is created with "any"
 * layouts, so oneDNN picks its own (nChw16c and OIhw16i16o for the AVX-512
 * direct kernels); the task reorders in and out of it around the primitive
 * where the buffer's layout differs. Measured on the PoCL CPU
 * device (bench/README.md, SphereFace-20 conv1_2 at batch 32): the direct
 * kernels with their four reorders take a third of the time of oneDNN's
 * own NCHW (im2col + GEMM) path, whose backward-weights is 4-10x slower.
 *
 * Caffe's accumulation semantics are kept with reorders that carry a sum
 * post-op: dW and db are computed into scratch and added onto the diff
 * buffers; dx with beta 1 likewise. */
#include "dnnl_internal.h"

#include <stdio.h>

/* The descriptors shared by the three directions. */
typedef struct dn_geom {
    dnnl_memory_desc_t src, wei, bias, dst; /* as the buffers hold them */
    dnnl_memory_desc_t src_any, wei_any, dst_any;
    dnnl_dims_t strides, pad;
    int k;
} dn_geom;

/* lay (may be NULL: NCHW both sides) says which activations are
 * channel-blocked (nChw16c) in their buffers. */
static sc_status geom_make(sc_ctx *ctx, const char *name, const char *op, sc_shape in,
                           const sc_conv_params *p, sc_shape out, const sc_conv_layout *lay,
                           dn_geom *g)
{
    dnnl_format_tag_t src_tag = lay && lay->in_blocked ? dnnl_nChw16c : dnnl_nchw;
    dnnl_format_tag_t dst_tag = lay && lay->out_blocked ? dnnl_nChw16c : dnnl_nchw;
    dnnl_dims_t src = {in.n, in.c, in.h, in.w}, dst = {out.n, out.c, out.h, out.w};
    dnnl_dims_t bias = {p->num_output};
    int G = p->group;
    /* Caffe's K x C/g x kh x kw is oneDNN's goihw with g leading */
    dnnl_dims_t wei = {G, p->num_output / G, in.c / G, p->kernel_h, p->kernel_w};
    dnnl_dims_t wei4 = {p->num_output, in.c, p->kernel_h, p->kernel_w};
    int grouped = G > 1;
    SC_DN(dnnl_memory_desc_init_by_tag(&g->src, 4, src, dnnl_f32, src_tag), "input");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->dst, 4, dst, dnnl_f32, dst_tag), "output");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->bias, 1, bias, dnnl_f32, dnnl_x), "bias");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->wei, grouped ? 5 : 4, grouped ? wei : wei4, dnnl_f32,
                                       grouped ? dnnl_goihw : dnnl_oihw),
          "weights");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->src_any, 4, src, dnnl_f32, dnnl_format_tag_any),
          "input");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->dst_any, 4, dst, dnnl_f32, dnnl_format_tag_any),
          "output");
    SC_DN(dnnl_memory_desc_init_by_tag(&g->wei_any, grouped ? 5 : 4, grouped ? wei : wei4,
                                       dnnl_f32, dnnl_format_tag_any),
          "weights");
    g->strides[0] = p->stride_h;
    g->strides[1] = p->stride_w;
    /* symmetric padding with oneDNN's floor division gives Caffe's output size */
    g->pad[0] = p->pad_h;
    g->pad[1] = p->pad_w;
    g->k = p->num_output;
    return SC_OK;
}

/* The forward primitive descriptor (also the hint of the backward ones). */
static sc_status forward_pd(sc_ctx *ctx, const char *name, const char *op, const dn_geom *g,
                            int with_bias, dnnl_primitive_desc_t *pd)
{
    dnnl_convolution_desc_t d;
    SC_DN(dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct,
                                             &g->src_any, &g->wei_any,
                                             with_bias ? &g->bias : NULL, &g->dst_any,
                                             g->strides, g->pad, g->pad),
          "forward");
    return sc_dn_pd_create(ctx, name, op, "forward", &d, NULL, pd);
}

static void pd_destroy(dnnl_primitive_desc_t pd)
{
    if (pd)
        dnnl_primitive_desc_destroy(pd);
}

static const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* The memory object holding `user` in the layout md wants, with the
 * reorder into it appended when the layouts differ. */
static sc_status input_as(sc_ctx *ctx, sc_dn_task *t, int user, const dnnl_memory_desc_t *md,
                          const char *what, int *index)
{
    int fresh;
    SC_TRY(sc_dn_task_as(ctx, t, user, md, index, &fresh));
    return fresh ? sc_dn_task_reorder(ctx, t, what, user, *index, 0) : SC_OK;
}

/* ---------------------------------------------------------------- forward */

typedef struct fwd_io {
    cl_mem x, w, bias, y;
    const sc_conv_prelu *act; /* NULL or no slope: none */
} fwd_io;

/* PReLU in place on the convolution's output (memory object `data`, in the
 * layout the convolution wrote), as oneDNN's PReLU primitive in the same
 * task: oneDNN 2.6.3 has no fast PReLU post-op (it fell back to its
 * reference convolution, 100x slower), and an OpenCL pass between two host
 * tasks cost about 1 ms per layer (MobileNet-SphereFace inference: 19 such
 * passes, 18 of 56 ms per batch of 32). The slopes' layout is left to
 * oneDNN ("any"): with plain slopes it picks its reference kernel. */
static sc_status prelu_step(sc_ctx *ctx, sc_dn_task *t, const sc_conv_prelu *act, int k,
                            int data)
{
    const char *name = t->name, *op = t->op;
    dnnl_dims_t dims = {1, act->channel_shared ? 1 : k, 1, 1};
    dnnl_memory_desc_t user, any;
    SC_DN(dnnl_memory_desc_init_by_tag(&user, 4, dims, dnnl_f32, dnnl_nchw), "PReLU slopes");
    SC_DN(dnnl_memory_desc_init_by_tag(&any, 4, dims, dnnl_f32, dnnl_format_tag_any),
          "PReLU slopes");
    dnnl_prelu_desc_t d;
    SC_DN(dnnl_prelu_forward_desc_init(&d, dnnl_forward_inference, sc_dn_task_md(t, data), &any),
          "PReLU");
    dnnl_primitive_desc_t pd = NULL;
    SC_TRY(sc_dn_pd_create(ctx, name, op, "PReLU", &d, NULL, &pd));
    int slopes, as_wanted;
    sc_status st = sc_dn_task_buffer_mem(ctx, t, &user, act->slope, &slopes);
    if (st == SC_OK)
        st = input_as(ctx, t, slopes, pd_md(pd, dnnl_query_weights_md), "reorder PReLU slopes",
                      &as_wanted);
    if (st == SC_OK)
        st = sc_dn_task_exec(ctx, t, "PReLU", pd, 3,
                             (const int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                             (const int[]){data, as_wanted, data});
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* The convolution, then the PReLU when io->act has one, then the output
 * reorder when the buffer's layout is not the one oneDNN wrote. */
static sc_status forward_task(sc_ctx *ctx, sc_dn_task *t, const dn_geom *g, const fwd_io *io)
{
    const char *name = t->name, *op = t->op;
    dnnl_primitive_desc_t pd = NULL;
    SC_TRY(forward_pd(ctx, name, op, g, io->bias != NULL, &pd));
    int ix, iw, ib = -1, iy, sx, sw, sy, fresh_y;
    sc_status st = sc_dn_task_buffer_mem(ctx, t, &g->src, io->x, &ix);
    if (st == SC_OK)
        st = sc_dn_task_buffer_mem(ctx, t, &g->wei, io->w, &iw);
    if (st == SC_OK && io->bias)
        st = sc_dn_task_buffer_mem(ctx, t, &g->bias, io->bias, &ib);
    if (st == SC_OK)
        st = sc_dn_task_buffer_mem(ctx, t, &g->dst, io->y, &iy);
    if (st == SC_OK)
        st = input_as(ctx, t, ix, pd_md(pd, dnnl_query_src_md), "reorder input", &sx);
    if (st == SC_OK)
        st = input_as(ctx, t, iw, pd_md(pd, dnnl_query_weights_md), "reorder weights", &sw);
    if (st == SC_OK)
        st = sc_dn_task_as(ctx, t, iy, pd_md(pd, dnnl_query_dst_md), &sy, &fresh_y);
    if (st == SC_OK) {
        int kinds[4] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, mems[4] = {sx, sw, sy};
        int n = 3;
        if (ib >= 0) {
            kinds[n] = DNNL_ARG_BIAS;
            mems[n++] = ib;
        }
        st = sc_dn_task_exec(ctx, t, "forward", pd, n, kinds, mems);
    }
    if (st == SC_OK && io->act && io->act->slope)
        st = prelu_step(ctx, t, io->act, g->k, sy);
    if (st == SC_OK && fresh_y)
        st = sc_dn_task_reorder(ctx, t, "reorder output", sy, iy, 0);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

sc_status sc_conv_dnnl_forward(sc_plan *plan, const char *name, const char *op,
                               const sc_conv_params *p, sc_shape in, sc_shape out, cl_mem x,
                               cl_mem w, cl_mem bias, cl_mem y, const sc_conv_layout *lay,
                               const sc_conv_prelu *act)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    dn_geom g;
    SC_TRY(geom_make(ctx, name, op, in, p, out, lay, &g));
    fwd_io io = {.x = x, .w = w, .bias = p->bias_term ? bias : NULL, .y = y, .act = act};
    sc_dn_task *t;
    SC_TRY(sc_dn_task_new(ctx, name, op, &t));
    return sc_dn_task_record_built(plan, t, forward_task(ctx, t, &g, &io), "dnnl-forward");
}

/* --------------------------------------------------------------- backward */

typedef struct bwd_io {
    cl_mem x, w, dy, dx, dw, db;
    float beta_dx;
} bwd_io;

/* Indices of the task's memory objects over the buffers (-1: none). */
typedef struct bwd_mems {
    int x, w, dy, dx, dw, db;
    int dy_data; /* dy in the backward-data layout (the weights pass may reuse it) */
} bwd_mems;

static sc_status backward_data_pd(sc_ctx *ctx, const char *name, const char *op,
                                  const dn_geom *g, const_dnnl_primitive_desc_t hint,
                                  dnnl_primitive_desc_t *pd)
{
    dnnl_convolution_desc_t d;
    SC_DN(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &g->src_any,
                                                   &g->wei_any, &g->dst_any, g->strides, g->pad,
                                                   g->pad),
          "backward-data");
    return sc_dn_pd_create(ctx, name, op, "backward-data", &d, hint, pd);
}

static sc_status backward_weights_pd(sc_ctx *ctx, const char *name, const char *op,
                                     const dn_geom *g, int with_bias,
                                     const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *pd)
{
    dnnl_convolution_desc_t d;
    SC_DN(dnnl_convolution_backward_weights_desc_init(
              &d, dnnl_convolution_direct, &g->src_any, &g->wei_any, with_bias ? &g->bias : NULL,
              &g->dst_any, g->strides, g->pad, g->pad),
          "backward-weights");
    return sc_dn_pd_create(ctx, name, op, "backward-weights", &d, hint, pd);
}

/* dx (=, or += with beta 1) from dy and the weights. */
static sc_status data_steps(sc_ctx *ctx, sc_dn_task *t, const_dnnl_primitive_desc_t pd,
                            bwd_mems *m, float beta_dx)
{
    int wd, dxd, fresh = 1;
    SC_TRY(input_as(ctx, t, m->dy, pd_md(pd, dnnl_query_diff_dst_md), "reorder output diff",
                    &m->dy_data));
    SC_TRY(input_as(ctx, t, m->w, pd_md(pd, dnnl_query_weights_md), "reorder weights", &wd));
    const dnnl_memory_desc_t *dx_md = pd_md(pd, dnnl_query_diff_src_md);
    if (beta_dx == 0.0f) /* written in place when the layouts agree */
        SC_TRY(sc_dn_task_as(ctx, t, m->dx, dx_md, &dxd, &fresh));
    else
        SC_TRY(sc_dn_task_scratch_mem(ctx, t, dx_md, &dxd));
    SC_TRY(sc_dn_task_exec(ctx, t, "backward-data", pd, 3,
                           (const int[]){DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                           (const int[]){m->dy_data, wd, dxd}));
    if (!fresh)
        return SC_OK;
    return sc_dn_task_reorder(ctx, t, beta_dx == 0.0f ? "reorder input diff" : "add input diff",
                              dxd, m->dx, beta_dx != 0.0f);
}

/* dW += and db += from x and dy, through scratch (oneDNN overwrites). */
static sc_status weights_steps(sc_ctx *ctx, sc_dn_task *t, const_dnnl_primitive_desc_t pd,
                               const bwd_mems *m)
{
    const dnnl_memory_desc_t *dy_md = pd_md(pd, dnnl_query_diff_dst_md);
    int dyw = m->dy_data, xw, dwi, dbi = -1;
    if (dyw < 0 || !dnnl_memory_desc_equal(sc_dn_task_md(t, dyw), dy_md))
        SC_TRY(input_as(ctx, t, m->dy, dy_md, "reorder output diff", &dyw));
    SC_TRY(input_as(ctx, t, m->x, pd_md(pd, dnnl_query_src_md), "reorder input", &xw));
    SC_TRY(sc_dn_task_scratch_mem(ctx, t, pd_md(pd, dnnl_query_diff_weights_md), &dwi));
    int kinds[4] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
    int mems[4] = {xw, dyw, dwi};
    int n = 3;
    if (m->db >= 0) {
        SC_TRY(sc_dn_task_scratch_mem(ctx, t, sc_dn_task_md(t, m->db), &dbi));
        kinds[n] = DNNL_ARG_DIFF_BIAS;
        mems[n++] = dbi;
    }
    SC_TRY(sc_dn_task_exec(ctx, t, "backward-weights", pd, n, kinds, mems));
    if (m->dw >= 0)
        SC_TRY(sc_dn_task_reorder(ctx, t, "add weight diff", dwi, m->dw, 1));
    return dbi >= 0 ? sc_dn_task_reorder(ctx, t, "add bias diff", dbi, m->db, 1) : SC_OK;
}

static sc_status bind_backward(sc_ctx *ctx, sc_dn_task *t, const dn_geom *g, const bwd_io *io,
                               bwd_mems *m)
{
    *m = (bwd_mems){-1, -1, -1, -1, -1, -1, -1};
    SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->dst, io->dy, &m->dy));
    if (io->dx) {
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->wei, io->w, &m->w));
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->src, io->dx, &m->dx));
    }
    if (io->dw || io->db)
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->src, io->x, &m->x));
    if (io->dw)
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->wei, io->dw, &m->dw));
    if (io->db)
        SC_TRY(sc_dn_task_buffer_mem(ctx, t, &g->bias, io->db, &m->db));
    return SC_OK;
}

static sc_status backward_task(sc_ctx *ctx, sc_dn_task *t, const dn_geom *g, const bwd_io *io)
{
    const char *name = t->name, *op = t->op;
    bwd_mems m;
    SC_TRY(bind_backward(ctx, t, g, io, &m));
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    SC_TRY(forward_pd(ctx, name, op, g, io->db != NULL, &hint));
    sc_status st = SC_OK;
    if (io->dx) {
        st = backward_data_pd(ctx, name, op, g, hint, &pd);
        if (st == SC_OK)
            st = data_steps(ctx, t, pd, &m, io->beta_dx);
        pd_destroy(pd);
        pd = NULL;
    }
    if (st == SC_OK && (io->dw || io->db)) {
        st = backward_weights_pd(ctx, name, op, g, io->db != NULL, hint, &pd);
        if (st == SC_OK)
            st = weights_steps(ctx, t, pd, &m);
        pd_destroy(pd);
    }
    pd_destroy(hint);
    return st;
}

sc_status sc_conv_dnnl_backward(sc_plan *plan, const char *name, const char *op,
                                const sc_conv_params *p, sc_shape in, sc_shape out, cl_mem x,
                                cl_mem w, cl_mem dy, cl_mem dx, float beta_dx, cl_mem dw,
                                cl_mem db)
{
    sc_ctx *ctx = sc_plan_ctx(plan);
    bwd_io io = {.x = x, .w = w, .dy = dy, .dx = dx, .dw = dw,
                 .db = p->bias_term ? db : NULL, .beta_dx = beta_dx};
    if (!io.dx && !io.dw && !io.db)
        return SC_OK;
    dn_geom g;
    SC_TRY(geom_make(ctx, name, op, in, p, out, NULL, &g));
    sc_dn_task *t;
    SC_TRY(sc_dn_task_new(ctx, name, op, &t));
    return sc_dn_task_record_built(plan, t, backward_task(ctx, t, &g, &io), "dnnl-backward");
}
