/* Net internals shared by the builder, the planner and the layer kinds.
 *
 * Vocabulary:
 *  - value: one version of a named blob (an in-place layer makes a new value
 *    with the same name); has a shape and data/diff storages.
 *  - storage: a logical buffer with a liveness interval over the steps
 *    (forward steps 0..L-1, then backward steps L..2L-1 in reverse layer
 *    order). The planner maps storages onto shared device buffers.
 *  - param: a learnable blob with data, diff and the solver's histories. */
#ifndef SC_NET_INTERNAL_H
#define SC_NET_INTERNAL_H

#include "sc_graph.h"

typedef struct sc_layer sc_layer;
typedef struct sc_plan_cache sc_plan_cache;

/* What a kind is, for the planner, the folding, the solver and the apps (none
 * of them compares type strings). */
enum {
    SC_KIND_DATA = 1 << 0,     /* its tops are written by the host (Input, ImageData) */
    SC_KIND_IMAGES = 1 << 1,   /* fed from an image list by the trainer's loader (ImageData) */
    SC_KIND_LOSS = 1 << 2,     /* a loss: its first top weighs 1 unless loss_weight says */
    SC_KIND_LABELS = 1 << 3,   /* bottom 1 holds labels indexing the classes of bottom 0 */
    SC_KIND_ACCURACY = 1 << 4, /* its top is a training accuracy in [0, 1] */
};

/* Inference folding roles (net_fold.c): a TAKER (convolution) absorbs an
 * in-place NORM (BatchNorm with stored statistics), then an AFFINE (Scale),
 * then an in-place ACTIVATION (PReLU, fused into the convolution's step). */
typedef enum sc_fold_role {
    SC_FOLD_NONE = 0,
    SC_FOLD_TAKER,
    SC_FOLD_NORM,
    SC_FOLD_AFFINE,
    SC_FOLD_ACTIVATION
} sc_fold_role;

/* What a kind does with channel-blocked activations (net_layout.c): PLAIN
 * reads and writes NCHW only; CONV may read and write either (oneDNN
 * convolutions); ELEMENTWISE works on any layout its bottoms and tops share. */
typedef enum sc_layout_role {
    SC_LAYOUT_PLAIN = 0,
    SC_LAYOUT_CONV,
    SC_LAYOUT_ELEMENTWISE
} sc_layout_role;

/* A layer type, defined once in its graph/layer_*.c file. */
typedef struct sc_layer_kind {
    const char *type;
    unsigned flags;        /* SC_KIND_* */
    sc_fold_role fold;
    sc_layout_role layout;
    /* Reads the layer's parameters, checks and infers shapes: sets the shape
     * of every top value and declares params and extra buffers. */
    sc_status (*setup)(sc_layer *l, sc_net *n);
    /* Writes the initial value of persistent state buffers, once the planner
     * has given them memory (may be NULL). */
    sc_status (*init)(sc_layer *l);
    /* Append the layer's launches to the plan. */
    sc_status (*forward)(sc_layer *l, sc_plan *p);
    sc_status (*backward)(sc_layer *l, sc_plan *p); /* NULL: no backward */
    int in_place;        /* may run with top == bottom storage */
    double (*flops)(const sc_layer *l);              /* forward FLOPs; may be NULL */
    /* Layer state that snapshots must keep (A-Softmax: iteration, lambda). */
    sc_status (*state_get)(sc_layer *l, long long *iteration, float *lambda);
    sc_status (*state_set)(sc_layer *l, long long iteration);
} sc_layer_kind;

const sc_layer_kind *sc_layer_kind_find(const char *type);
/* "Convolution, InnerProduct, ..." for error messages. */
const char *sc_layer_kind_names(void);

typedef struct sc_storage {
    size_t floats;    /* at the current shape */
    size_t capacity;  /* floats at the shape the net was built for (its buffer holds these) */
    int first, last;  /* liveness (step indices); first > last: never used */
    int persistent;   /* lives for the whole net (outputs, state) */
    int buffer;       /* index into net->buffers after planning */
    int blocked;      /* holds channel-blocked (nChw16c) activations (net_layout.c) */

} sc_storage;

typedef struct sc_value {
    char *name;
    int ndim;
    int dims[4];
    int data;      /* storage index */
    int diff;      /* storage index, -1: no gradient */
    int producer;  /* layer index, -1: none */
    int needs_diff;
    int n_consumers;
} sc_value;

typedef struct sc_param {
    char *name; /* "<layer>.<index>" */
    int layer;
    int index;
    int ndim;
    int dims[4];
    size_t count;
    float lr_mult, decay_mult;
    const sc_pt_node *filler; /* FillerParameter, may be NULL */
    const char *default_filler; /* when filler is NULL: "constant", "xavier", ... */
    float default_value;        /* constant filler value */
    /* regions of the net's parameter store; history2: two-history solvers only */
    cl_mem data, diff, history, history2;
} sc_param;

/* ---- the flat parameter store (param_store.c) */
typedef struct sc_store_entry {
    char *name; /* the parameter's "<layer>.<index>" */
    int ndim;
    int dims[4];
    size_t count;
    size_t offset;              /* bytes, the same in every buffer of the store */
    /* sub-buffers (diff, history: NULL until training; history2: NULL unless
     * a two-history solver trains) */
    cl_mem data, diff, history, history2;
} sc_store_entry;

/* A store laid out for the net's declared parameters: data zeroed, and with
 * histories > 0 also the zeroed gradient buffer and that many (1 or 2)
 * zeroed history buffers. */
sc_status sc_param_store_create(sc_net *net, int histories, sc_param_store **out);
/* Adds the gradient and history buffers a TRAIN net needs (no-op when there). */
sc_status sc_param_store_enable_grads(sc_param_store *s, int histories);
sc_param_store *sc_param_store_retain(sc_param_store *s);
void sc_param_store_release(sc_param_store *s); /* frees with the last reference */
const sc_store_entry *sc_param_store_find(const sc_param_store *s, const char *name);
const sc_store_entry *sc_param_store_entry(const sc_param_store *s, int i);
sc_param_store_info sc_param_store_info_of(const sc_param_store *s);

/* An extra per-layer buffer: saved state between forward and backward (live
 * from the layer's forward to its backward) or persistent state. */
typedef struct sc_extra {
    int storage;
} sc_extra;

struct sc_layer {
    char *name;
    char *type;
    const sc_layer_kind *kind;
    const sc_pt_node *def; /* LayerParameter node */
    int index;
    int *bottoms, n_bottoms; /* value indices */
    int *tops, n_tops;
    int *params, n_params;   /* param indices */
    int *extras, n_extras;   /* storage indices */
    float *loss_weight;      /* per top */
    int in_place;            /* top 0 shares bottom 0's storage */
    int folded;              /* its forward is done by the layer it was folded into */
    int runs_backward;
    int *bottom_needs_diff;  /* per bottom */
    float *bottom_beta;      /* per bottom: 0 the first gradient written into its diff
                                in backward order (overwrite), 1 later ones (accumulate) */
    void *priv;              /* the kind's state, freed with the net */
    sc_net *net;
    int reshape_params, reshape_extras; /* declarations seen in this reshape pass */
};

typedef struct sc_buffer_slot {
    size_t floats;
    cl_mem mem;
} sc_buffer_slot;

struct sc_net {
    sc_ctx *ctx;
    sc_net_options opts;
    char *name;
    char *label;          /* file name for messages */
    char *base_dir;
    sc_pt_node *root;
    sc_pt_node *owned_root;

    sc_layer *layers;
    int n_layers;
    size_t cap_layers;
    sc_value *values;
    int n_values;
    size_t cap_values;
    sc_param *params;
    int n_params;
    size_t cap_params;
    sc_storage *storages;
    int n_storages;
    size_t cap_storages;
    sc_buffer_slot *buffers;
    int n_buffers, cap_buffers;
    size_t workspace_floats;
    size_t workspace_capacity;
    cl_mem workspace;
    int batch;
    int built_batch;        /* the batch the buffers were sized for */
    sc_param_store *store;  /* owned or shared (reference counted) */
    int store_shared;       /* built over another net's store */

    /* reshaping (net_reshape.c): while set, layer setups re-derive shapes and
     * the declaration helpers check against what the net was built with */
    int reshaping;
    int reshape_n, reshape_h, reshape_w; /* 0: keep */
    sc_plan_cache *plans;               /* recorded plans per input shape */

    sc_plan *forward, *backward, *clear_diffs;
};

/* ---- helpers for layer kinds (net_build.c) */
sc_ctx *sc_layer_ctx(const sc_layer *l);
/* Fails with "<file>:<line>: layer '<name>' (<type>): <message>". */
sc_status sc_layer_fail(const sc_layer *l, sc_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sc_status sc_layer_expect_io(const sc_layer *l, int min_bottoms, int max_bottoms, int min_tops,
                             int max_tops);

/* Allocates the kind's zeroed state as l->priv (NULL, with the error set,
 * when out of memory); the net frees it. */
void *sc_layer_new_priv(sc_layer *l, size_t size);

sc_value *sc_layer_bottom(const sc_layer *l, int i);
sc_value *sc_layer_top(const sc_layer *l, int i);
sc_shape sc_value_shape(const sc_value *v); /* 4-D view: trailing dims 1 */
size_t sc_value_count(const sc_value *v);
void sc_value_set_shape(sc_value *v, int ndim, const int *dims);
void sc_value_set_shape4(sc_value *v, sc_shape s);
char *sc_value_shape_str(const sc_value *v, char *buf, size_t cap);

/* Declares learnable blob number `index` of the layer (in Caffe's blob order).
 * lr/decay multipliers come from the layer's `param {}` blocks; `filler` is the
 * FillerParameter node (may be NULL: default_filler is used). */
sc_status sc_layer_add_param(sc_layer *l, int index, int ndim, const int *dims,
                             const sc_pt_node *filler, const char *default_filler,
                             float default_value);
sc_param *sc_layer_param(const sc_layer *l, int i);
/* Requests an extra buffer; returns its index among the layer's extras. */
sc_status sc_layer_add_extra(sc_layer *l, size_t floats, int persistent, int *index);
/* Sets a storage's size at a new shape; an error when it exceeds its buffer. */
sc_status sc_net_resize_storage(sc_net *net, int storage, size_t floats, const char *what);
cl_mem sc_layer_extra(const sc_layer *l, int i);
/* Asks for shared scratch space of at least `floats`. */
void sc_layer_need_workspace(sc_layer *l, size_t floats);
cl_mem sc_layer_workspace(const sc_layer *l);
size_t sc_layer_workspace_floats(const sc_layer *l);

cl_mem sc_layer_bottom_data(const sc_layer *l, int i);
cl_mem sc_layer_top_data(const sc_layer *l, int i);
cl_mem sc_layer_top_diff(const sc_layer *l, int i);
/* Bottom gradient buffer (NULL when not needed) and the beta to write it
 * with (0 overwrite, 1 accumulate), as the planner decided: the same answer
 * however often it is asked. */
cl_mem sc_layer_bottom_diff(const sc_layer *l, int i, float *beta);

/* Parameter getters that fill `err` of the context with file:line:col. */
sc_status sc_layer_param_msg(const sc_layer *l, const char *field, const sc_pt_node **out);
sc_status sc_layer_get_int(const sc_layer *l, const sc_pt_node *msg, const char *field,
                           long long def, long long *out);
sc_status sc_layer_get_float(const sc_layer *l, const sc_pt_node *msg, const char *field,
                             double def, double *out);
sc_status sc_layer_get_bool(const sc_layer *l, const sc_pt_node *msg, const char *field, int def,
                            int *out);
/* An enum field given as a name or a number; names[i] is the name of value i. */
sc_status sc_layer_get_enum(const sc_layer *l, const sc_pt_node *msg, const char *field,
                            const char *const *names, int n_names, int def, int *out);

/* ---- inference folding (net_fold.c with the kinds' hooks) */
/* BatchNorm with stored statistics: 1 and its eps; 0 when it uses batch statistics. */
int sc_layer_batchnorm_global(const sc_layer *bn, float *eps);
/* Makes a convolution compute Scale(BatchNorm(conv)) with folded weights
 * (scale may be NULL); the two layers are then marked folded. */
sc_status sc_layer_conv_fold(sc_layer *conv, sc_layer *bn, sc_layer *scale, float eps);
/* Makes a convolution apply the PReLU `act` to its output (act is then
 * marked folded). */
sc_status sc_layer_conv_fuse_activation(sc_layer *conv, sc_layer *act);
/* A PReLU's slopes and whether one slope is shared by every channel. */
cl_mem sc_layer_prelu_slopes(const sc_layer *prelu, int *channel_shared);
sc_status sc_net_fold(sc_net *net);
/* Inference layouts (net_layout.c): marks the storages kept channel-blocked. */
sc_status sc_net_choose_layouts(sc_net *net);
/* Whether a layer's bottom / top i holds channel-blocked data. */
int sc_layer_bottom_blocked(const sc_layer *l, int i);
int sc_layer_top_blocked(const sc_layer *l, int i);

/* ---- builder / planner entry points */
/* A new storage of `floats` with an empty liveness interval. */
sc_status sc_net_new_storage(sc_net *net, size_t floats, int persistent, int *index);
sc_status sc_net_plan(sc_net *net); /* net_plan.c: storages -> buffers, record plans */
/* Records the forward, backward and clear-diffs plans at the current shapes. */
sc_status sc_net_record(sc_net *net, sc_plan **forward, sc_plan **backward);
/* The dims of a net input: the built dims with the batch override, or the
 * reshape target while reshaping (N, and H x W of 4-D inputs). */
void sc_net_input_dims(const sc_net *net, int ndim, int dims[4]);
void sc_plan_cache_free(sc_plan_cache *c);
sc_status sc_net_init_params(sc_net *net); /* net_params.c: allocate + fill */
/* Runs a layer kind's setup and gives its tops storages (net_build.c). */
sc_status sc_net_setup_layer(sc_net *net, sc_layer *l);
sc_status sc_filler_fill(sc_ctx *ctx, const sc_param *p, uint64_t seed, float *host);

#endif
