/* SphereCL graph runtime: Caffe nets (prototxt + caffemodel) compiled into
 * forward and backward plans of OpenCL kernels, and the SGD solver.
 *
 * A net is built once for a phase and batch size: every layer's setup infers
 * shapes and declares parameters, the planner assigns device buffers (reused
 * by liveness) and records the forward and backward plans. forward/backward
 * replay them. */
#ifndef SC_GRAPH_H
#define SC_GRAPH_H

#include "caffe_schema.h"
#include "caffemodel.h"
#include "prototxt.h"
#include "sc_ops.h"

typedef enum sc_phase { SC_PHASE_TRAIN = 0, SC_PHASE_TEST = 1 } sc_phase;

typedef struct sc_net sc_net;
typedef struct sc_param_store sc_param_store;

typedef struct sc_net_options {
    sc_phase phase;
    int batch;              /* > 0: override the batch size of the data layers */
    uint64_t seed;          /* weight fillers */
    int no_reuse;           /* give every blob its own buffers (to read intermediate blobs) */
    int no_in_place;        /* run in-place layers out of place (to read every layer's output) */
    int no_fold;            /* TEST: keep BatchNorm/Scale/PReLU as their own steps instead of
                               folding them into the convolution before them */
    int plain_layout;       /* TEST: keep every blob NCHW (else, on the oneDNN provider, blobs
                               between convolutions are channel-blocked: graph/net_layout.c) */
    int asoftmax_exact;     /* A-Softmax backward: 0 caffe (default), 1 exact */
    const char *base_dir;   /* relative paths in data layers resolve here (NULL: prototxt's dir) */
    int shapes_only;        /* infer shapes and declare parameters, allocate nothing (sphere-info) */
    /* ImageData layers without new_height/new_width or crop_size take their
     * image size from this probe of their list (the apps read its first
     * image); NULL or a failed probe: 112x96, the SphereFace crop. */
    sc_status (*image_size)(void *user, const char *list, const char *root, int *height,
                            int *width);
    void *image_size_user;
    int height, width;      /* > 0: override H x W of the 4-D inputs (the largest shape
                               sc_net_reshape may use later) */
    /* Build over this net's parameter store instead of a new one: no weights
     * are filled or read, every parameter must exist there with the same
     * shape, and each net sees the other's updates (a TRAIN net and its TEST
     * twin). The store lives as long as any net using it. */
    const sc_net *share_params;
    /* TRAIN: history blobs the solver keeps per parameter (0 means 1; 2 for
     * AdaDelta and Adam, see sc_solver_type_histories). */
    int histories;
} sc_net_options;

/* Builds a net from a prototxt file (or an already parsed NetParameter tree,
 * which must outlive the net). Errors name file:line:col or the layer. */
sc_status sc_net_create(sc_ctx *ctx, const char *prototxt, const sc_net_options *opts,
                        sc_net **out);
sc_status sc_net_create_from_tree(sc_ctx *ctx, sc_pt_node *root, const char *label,
                                  const sc_net_options *opts, sc_net **out);
void sc_net_destroy(sc_net *net);

sc_ctx *sc_net_ctx(const sc_net *net);
const char *sc_net_name(const sc_net *net);
sc_phase sc_net_phase(const sc_net *net);
int sc_net_batch(const sc_net *net);

/* Runs the net at another input shape: batch n and, for 4-D inputs, H x W
 * (0 keeps the current value), no larger than the shape it was built for.
 * Shapes are re-derived and the plans re-recorded (and kept: switching back
 * to a shape seen before only re-derives the shapes); buffers, parameters and
 * layer state stay. A layer whose parameters would change shape (an
 * InnerProduct after a smaller image) is an error naming it; the net then
 * keeps its previous shape. */
sc_status sc_net_reshape(sc_net *net, int n, int height, int width);

/* The batch size: a reshape when it is not larger than the built batch,
 * else a rebuild over the same parameter store, keeping layer state
 * (A-Softmax iteration). */
sc_status sc_net_set_batch(sc_net **net, int batch);

/* Replays the forward / backward plan (does not wait for the device). */
sc_status sc_net_forward(sc_net *net);
sc_status sc_net_backward(sc_net *net);
/* The recorded forward and backward plans (backward is empty in TEST), e.g.
 * for sc_plan_profile. */
sc_plan *sc_net_forward_plan(const sc_net *net);
/* The plan sc_net_clear_param_diffs runs (one fill over the gradient store). */
sc_plan *sc_net_clear_plan(const sc_net *net);
sc_plan *sc_net_backward_plan(const sc_net *net);
/* Clears every parameter gradient (the solver does this each iteration). */
sc_status sc_net_clear_param_diffs(sc_net *net);

/* ---- blobs (activations) by name */
typedef struct sc_blob_info {
    const char *name;
    int ndim;
    int dims[4];
    size_t count;
    cl_mem data; /* NULL until planned */
    cl_mem diff; /* NULL when the blob has no gradient */
    int blocked; /* data is channel-blocked (nChw16c, ops_conv.h): an inference net's blob
                    between convolutions; never an output or input, never with no_reuse */
} sc_blob_info;

sc_status sc_net_blob(sc_net *net, const char *name, sc_blob_info *out);
sc_status sc_net_read_blob(sc_net *net, const char *name, float *dst, size_t count);
/* The value a given layer wrote to its top i (differs from the blob of that
 * name when later in-place layers rewrite it; build with no_reuse and
 * no_in_place to keep every such value). */
sc_status sc_net_layer_output(sc_net *net, const char *layer, int top, sc_blob_info *out);
sc_status sc_net_write_blob(sc_net *net, const char *name, const float *src, size_t count);
sc_status sc_net_read_blob_diff(sc_net *net, const char *name, float *dst, size_t count);
/* Blobs no layer consumes (the net's outputs), and the input blobs. */
size_t sc_net_outputs(const sc_net *net, const char **names, size_t cap);
size_t sc_net_inputs(const sc_net *net, const char **names, size_t cap);

/* ---- learnable parameters ("<layer>.<index>", e.g. "conv1_1.0") */
typedef struct sc_param_info {
    const char *name;
    const char *layer;
    int index;
    int ndim;
    int dims[4];
    size_t count;
    float lr_mult, decay_mult;
    cl_mem data, diff;
    cl_mem history;  /* TRAIN: the solver's first history (momentum, Adam's m, ...) */
    cl_mem history2; /* its second history (AdaDelta's updates, Adam's v), else NULL */
} sc_param_info;

size_t sc_net_param_count(const sc_net *net);
sc_status sc_net_param(const sc_net *net, size_t i, sc_param_info *out);
sc_status sc_net_find_param(const sc_net *net, const char *name, sc_param_info *out);

/* ---- layers */
typedef struct sc_layer_info {
    const char *name;
    const char *type;
    size_t n_bottoms, n_tops;
    size_t params;      /* learnable values */
    double flops;       /* forward FLOPs (2 per multiply-add) for the whole batch */
    int is_data;        /* its tops are written by the host */
    int reads_images;   /* ImageData: the trainer feeds it from its image list */
    int is_loss;
    int takes_labels;   /* bottom 1 holds labels indexing the classes of bottom 0 */
    int is_accuracy;
} sc_layer_info;
size_t sc_net_layer_count(const sc_net *net);
sc_status sc_net_layer(const sc_net *net, size_t i, sc_layer_info *out);
const char *sc_net_layer_bottom(const sc_net *net, size_t layer, size_t i);
const char *sc_net_layer_top(const sc_net *net, size_t layer, size_t i);
/* The layer's definition in the prototxt tree (data layers' parameters). */
const sc_pt_node *sc_net_layer_def(const sc_net *net, size_t i);
sc_status sc_net_layer_top_shape(const sc_net *net, size_t layer, size_t i, int *ndim,
                                 int dims[4]);

/* ---- the flat parameter store: one allocation each for parameter data,
 * gradients and solver history (each parameter a region of them) */
typedef struct sc_param_store_info {
    cl_mem data, diff, history; /* diff, history: NULL unless a TRAIN net uses the store */
    cl_mem history2;            /* NULL unless a two-history solver (AdaDelta, Adam) trains */
    size_t bytes;               /* of each buffer */
    size_t params;
    int nets;                   /* nets sharing it */
} sc_param_store_info;
sc_status sc_net_param_store(const sc_net *net, sc_param_store_info *out);

/* ---- weights */
/* Copies blobs from a caffemodel by layer name. Layers of the net absent from
 * the file are listed in `missing` (may be NULL) as a comma-separated list;
 * a blob count or shape mismatch is an error naming the layer. */
sc_status sc_net_load_weights(sc_net *net, const char *caffemodel, char *missing,
                              size_t missing_cap);
sc_status sc_net_load_weights_model(sc_net *net, const sc_caffemodel *model, char *missing,
                                    size_t missing_cap);
/* Writes every layer's blobs as a V2 caffemodel, atomically. */
sc_status sc_net_save_weights(sc_net *net, const char *caffemodel);

/* ---- memory */
typedef struct sc_net_memory {
    size_t activations_bytes;   /* blob data + diff + saved state, as planned */
    size_t unshared_bytes;      /* the same without reuse */
    size_t params_bytes;        /* parameter data + diff + histories */
    size_t workspace_bytes;     /* shared scratch (im2col) */
} sc_net_memory;
sc_net_memory sc_net_memory_use(const sc_net *net);

/* Per-layer A-Softmax state for snapshots (iteration, lambda). */
size_t sc_net_state_count(const sc_net *net);
sc_status sc_net_state_get(sc_net *net, size_t i, const char **layer, long long *iteration,
                           float *lambda);
sc_status sc_net_state_set(sc_net *net, const char *layer, long long iteration);

#endif
