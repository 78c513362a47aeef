/* Net builder: prototxt tree -> layers and values, phase rules, in-place
 * blobs, shape inference through each layer kind's setup. */
#include "net_internal.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ small utils */

static sc_status nomem(sc_net *net)
{
    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_NOMEM, "out of host memory building net");
}

sc_ctx *sc_layer_ctx(const sc_layer *l) { return l->net->ctx; }

sc_status sc_layer_fail(const sc_layer *l, sc_status st, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->def && l->def->file)
        return sc_fail(sc_ctx_error(l->net->ctx), st, "%s:%d: layer '%s' (%s): %s", l->def->file,
                       l->def->line, l->name, l->type, msg);
    return sc_fail(sc_ctx_error(l->net->ctx), st, "layer '%s' (%s): %s", l->name, l->type, msg);
}

sc_status sc_layer_expect_io(const sc_layer *l, int min_b, int max_b, int min_t, int max_t)
{
    if (l->n_bottoms < min_b || l->n_bottoms > max_b)
        return sc_layer_fail(l, SC_ERR_PARSE, "takes %d..%d bottom blobs, got %d", min_b, max_b,
                             l->n_bottoms);
    if (l->n_tops < min_t || l->n_tops > max_t)
        return sc_layer_fail(l, SC_ERR_PARSE, "takes %d..%d top blobs, got %d", min_t, max_t,
                             l->n_tops);
    return SC_OK;
}

void sc_net_input_dims(const sc_net *net, int ndim, int dims[4])
{
    int n = net->reshaping ? net->reshape_n : net->opts.batch;
    int h = net->reshaping ? net->reshape_h : net->opts.height;
    int w = net->reshaping ? net->reshape_w : net->opts.width;
    if (ndim > 0 && n > 0)
        dims[0] = n;
    if (ndim == 4 && h > 0)
        dims[2] = h;
    if (ndim == 4 && w > 0)
        dims[3] = w;
}

void *sc_layer_new_priv(sc_layer *l, size_t size)
{
    /* a reshape re-runs setup over the same state: what setup derives is
     * overwritten, what planning added (folding) stays */
    if (l->net->reshaping && l->priv)
        return l->priv;
    l->priv = calloc(1, size);
    if (!l->priv)
        sc_layer_fail(l, SC_ERR_NOMEM, "out of host memory");
    return l->priv;
}

sc_value *sc_layer_bottom(const sc_layer *l, int i) { return &l->net->values[l->bottoms[i]]; }
sc_value *sc_layer_top(const sc_layer *l, int i) { return &l->net->values[l->tops[i]]; }

sc_shape sc_value_shape(const sc_value *v)
{
    int d[4] = {1, 1, 1, 1};
    for (int i = 0; i < v->ndim && i < 4; i++)
        d[i] = v->dims[i];
    return (sc_shape){d[0], d[1], d[2], d[3]};
}

size_t sc_value_count(const sc_value *v)
{
    size_t c = 1;
    for (int i = 0; i < v->ndim; i++)
        c *= (size_t)v->dims[i];
    return c;
}

void sc_value_set_shape(sc_value *v, int ndim, const int *dims)
{
    v->ndim = ndim;
    for (int i = 0; i < 4; i++)
        v->dims[i] = i < ndim ? dims[i] : 1;
}

void sc_value_set_shape4(sc_value *v, sc_shape s)
{
    int d[4] = {s.n, s.c, s.h, s.w};
    sc_value_set_shape(v, 4, d);
}

char *sc_value_shape_str(const sc_value *v, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < v->ndim && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%d" : "%d", v->dims[i]);
    if (v->ndim == 0)
        snprintf(buf, cap, "(scalar)");
    return buf;
}

/* ------------------------------------------------------- parameter access */

sc_status sc_layer_param_msg(const sc_layer *l, const char *field, const sc_pt_node **out)
{
    *out = sc_pt_find(l->def, field, 0);
    return SC_OK;
}

sc_status sc_layer_get_int(const sc_layer *l, const sc_pt_node *msg, const char *field,
                           long long def, long long *out)
{
    *out = def;
    return msg ? sc_pt_get_int(msg, field, def, out, sc_ctx_error(l->net->ctx)) : SC_OK;
}

sc_status sc_layer_get_float(const sc_layer *l, const sc_pt_node *msg, const char *field,
                             double def, double *out)
{
    *out = def;
    return msg ? sc_pt_get_float(msg, field, def, out, sc_ctx_error(l->net->ctx)) : SC_OK;
}

sc_status sc_layer_get_bool(const sc_layer *l, const sc_pt_node *msg, const char *field, int def,
                            int *out)
{
    *out = def;
    return msg ? sc_pt_get_bool(msg, field, def, out, sc_ctx_error(l->net->ctx)) : SC_OK;
}

sc_status sc_layer_get_enum(const sc_layer *l, const sc_pt_node *msg, const char *field,
                            const char *const *names, int n_names, int def, int *out)
{
    *out = def;
    const sc_pt_node *node = msg ? sc_pt_find(msg, field, 0) : NULL;
    if (!node)
        return SC_OK;
    if (node->kind == SC_PT_NUMBER) {
        long long v;
        SC_TRY(sc_pt_int_at(node, &v, sc_ctx_error(l->net->ctx)));
        if (v >= 0 && v < n_names) {
            *out = (int)v;
            return SC_OK;
        }
    } else if (node->kind == SC_PT_IDENT) {
        for (int i = 0; i < n_names; i++)
            if (names[i] && !strcmp(node->text, names[i])) {
                *out = i;
                return SC_OK;
            }
    }
    return sc_layer_fail(l, SC_ERR_PARSE, "%s:%d:%d: bad value '%s' for %s", node->file, node->line,
                         node->col, node->text ? node->text : "{...}", field);
}

/* ------------------------------------------------------- params / extras */

static void param_multipliers(const sc_layer *l, int index, float *lr, float *decay)
{
    *lr = 1.0f;
    *decay = 1.0f;
    const sc_pt_node *spec = sc_pt_find(l->def, "param", (size_t)index);
    if (spec) {
        double v;
        if (sc_pt_get_float(spec, "lr_mult", 1.0, &v, NULL) == SC_OK)
            *lr = (float)v;
        if (sc_pt_get_float(spec, "decay_mult", 1.0, &v, NULL) == SC_OK)
            *decay = (float)v;
        return;
    }
    /* legacy V1: blobs_lr / weight_decay repeated per blob */
    const sc_pt_node *lrn = sc_pt_find(l->def, "blobs_lr", (size_t)index);
    const sc_pt_node *wdn = sc_pt_find(l->def, "weight_decay", (size_t)index);
    double v;
    if (lrn && sc_pt_float_at(lrn, &v, NULL) == SC_OK)
        *lr = (float)v;
    if (wdn && sc_pt_float_at(wdn, &v, NULL) == SC_OK)
        *decay = (float)v;
}

/* While reshaping, a declaration must match the one the net was built with:
 * parameters cannot change shape with the input. */
static sc_status recheck_param(sc_layer *l, int index, int ndim, const int *dims)
{
    int k = l->reshape_params++;
    const sc_param *p = k < l->n_params ? sc_layer_param(l, k) : NULL;
    int same = p && p->index == index && p->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = p->dims[i] == dims[i];
    if (same)
        return SC_OK;
    char want[64] = "", have[64] = "";
    for (int i = 0, off = 0; i < ndim && off < 60; i++)
        off += snprintf(want + off, sizeof want - (size_t)off, i ? "x%d" : "%d", dims[i]);
    for (int i = 0, off = 0; p && i < p->ndim && off < 60; i++)
        off += snprintf(have + off, sizeof have - (size_t)off, i ? "x%d" : "%d", p->dims[i]);
    return sc_layer_fail(l, SC_ERR_SHAPE,
                         "at this input shape parameter %d would be %s, the net was built with %s "
                         "(a net runs only at shapes that keep its parameters)",
                         index, want, p ? have : "none");
}

sc_status sc_layer_add_param(sc_layer *l, int index, int ndim, const int *dims,
                             const sc_pt_node *filler, const char *default_filler,
                             float default_value)
{
    sc_net *net = l->net;
    if (net->reshaping)
        return recheck_param(l, index, ndim, dims);
    if (!sc_grow((void **)&net->params, &net->cap_params, (size_t)net->n_params + 1,
                 sizeof *net->params))
        return nomem(net);
    int *lp = realloc(l->params, (size_t)(l->n_params + 1) * sizeof *lp);
    if (!lp)
        return nomem(net);
    l->params = lp;
    sc_param *p = &net->params[net->n_params];
    memset(p, 0, sizeof *p);
    size_t len = strlen(l->name) + 16;
    p->name = malloc(len);
    if (!p->name)
        return nomem(net);
    snprintf(p->name, len, "%s.%d", l->name, index);
    p->layer = l->index;
    p->index = index;
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < 4; i++) {
        p->dims[i] = i < ndim ? dims[i] : 1;
        if (i < ndim)
            p->count *= (size_t)dims[i];
    }
    param_multipliers(l, index, &p->lr_mult, &p->decay_mult);
    p->filler = filler;
    p->default_filler = default_filler ? default_filler : "constant";
    p->default_value = default_value;
    l->params[l->n_params++] = net->n_params++;
    return SC_OK;
}

sc_param *sc_layer_param(const sc_layer *l, int i) { return &l->net->params[l->params[i]]; }

sc_status sc_net_new_storage(sc_net *net, size_t floats, int persistent, int *index)
{
    if (!sc_grow((void **)&net->storages, &net->cap_storages, (size_t)net->n_storages + 1,
              sizeof *net->storages))
        return nomem(net);
    sc_storage *s = &net->storages[net->n_storages];
    memset(s, 0, sizeof *s);
    s->floats = floats;
    s->first = 1 << 30;
    s->last = -1;
    s->persistent = persistent;
    s->buffer = -1;
    *index = net->n_storages++;
    return SC_OK;
}

/* While reshaping: a storage keeps its buffer, so its new size must fit. */
sc_status sc_net_resize_storage(sc_net *net, int storage, size_t floats, const char *what)
{
    sc_storage *st = &net->storages[storage];
    if (floats > st->capacity)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_SHAPE,
                       "%s: %s needs %zu floats at this shape, the net was built for %zu (reshape "
                       "only to shapes no larger than the one it was built for)",
                       net->label, what, floats, st->capacity);
    st->floats = floats;
    return SC_OK;
}

sc_status sc_layer_add_extra(sc_layer *l, size_t floats, int persistent, int *index)
{
    if (l->net->reshaping) {
        int k = l->reshape_extras++;
        if (k >= l->n_extras)
            return sc_layer_fail(l, SC_ERR_SHAPE, "asks for more buffers at this shape");
        *index = k;
        return sc_net_resize_storage(l->net, l->extras[k], floats ? floats : 1, l->name);
    }
    int s = -1;
    SC_TRY(sc_net_new_storage(l->net, floats ? floats : 1, persistent, &s));
    int *e = realloc(l->extras, (size_t)(l->n_extras + 1) * sizeof *e);
    if (!e)
        return nomem(l->net);
    l->extras = e;
    l->extras[l->n_extras] = s;
    *index = l->n_extras++;
    return SC_OK;
}

static cl_mem storage_mem(const sc_net *net, int storage)
{
    if (storage < 0)
        return NULL;
    int b = net->storages[storage].buffer;
    return b < 0 ? NULL : net->buffers[b].mem;
}

cl_mem sc_layer_extra(const sc_layer *l, int i) { return storage_mem(l->net, l->extras[i]); }

void sc_layer_need_workspace(sc_layer *l, size_t floats)
{
    /* while reshaping, the planner's capacity check (net_reshape.c) follows */
    if (floats > l->net->workspace_floats)
        l->net->workspace_floats = floats;
}

cl_mem sc_layer_workspace(const sc_layer *l) { return l->net->workspace; }
size_t sc_layer_workspace_floats(const sc_layer *l) { return l->net->workspace_floats; }

cl_mem sc_layer_bottom_data(const sc_layer *l, int i)
{
    return storage_mem(l->net, sc_layer_bottom(l, i)->data);
}

cl_mem sc_layer_top_data(const sc_layer *l, int i)
{
    return storage_mem(l->net, sc_layer_top(l, i)->data);
}

int sc_layer_bottom_blocked(const sc_layer *l, int i)
{
    return l->net->storages[sc_layer_bottom(l, i)->data].blocked;
}

int sc_layer_top_blocked(const sc_layer *l, int i)
{
    return l->net->storages[sc_layer_top(l, i)->data].blocked;
}

cl_mem sc_layer_top_diff(const sc_layer *l, int i)
{
    return storage_mem(l->net, sc_layer_top(l, i)->diff);
}

cl_mem sc_layer_bottom_diff(const sc_layer *l, int i, float *beta)
{
    *beta = 0.0f;
    if (!l->bottom_needs_diff[i])
        return NULL;
    sc_value *v = sc_layer_bottom(l, i);
    if (v->diff < 0)
        return NULL;
    *beta = l->bottom_beta[i]; /* decided by the planner (net_plan.c) */
    return storage_mem(l->net, v->diff);
}

/* ------------------------------------------------------------ phase rules */

static int rule_matches(const sc_pt_node *rule, sc_phase phase)
{
    const sc_pt_node *ph = sc_pt_find(rule, "phase", 0);
    if (ph && ph->text && strcmp(ph->text, phase == SC_PHASE_TRAIN ? "TRAIN" : "TEST") &&
        strcmp(ph->text, phase == SC_PHASE_TRAIN ? "0" : "1"))
        return 0;
    if (sc_pt_count(rule, "stage") > 0)
        return 0; /* no stages are set */
    return 1;
}

static int layer_in_phase(const sc_pt_node *def, sc_phase phase)
{
    size_t n_inc = sc_pt_count(def, "include"), n_exc = sc_pt_count(def, "exclude");
    if (n_inc > 0) {
        for (size_t i = 0; i < n_inc; i++)
            if (rule_matches(sc_pt_find(def, "include", i), phase))
                return 1;
        return 0;
    }
    for (size_t i = 0; i < n_exc; i++)
        if (rule_matches(sc_pt_find(def, "exclude", i), phase))
            return 0;
    return 1;
}

/* --------------------------------------------------------- values by name */

static int find_value(const sc_net *net, const char *name)
{
    for (int i = net->n_values - 1; i >= 0; i--) /* latest version */
        if (!strcmp(net->values[i].name, name))
            return i;
    return -1;
}

static sc_status new_value(sc_net *net, const char *name, int producer, int storage, int *index)
{
    if (!sc_grow((void **)&net->values, &net->cap_values, (size_t)net->n_values + 1,
                 sizeof *net->values))
        return nomem(net);
    sc_value *v = &net->values[net->n_values];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    if (!v->name)
        return nomem(net);
    v->producer = producer;
    v->data = storage;
    v->diff = -1;
    *index = net->n_values++;
    return SC_OK;
}

/* ---------------------------------------------------------------- layers */

static const char *v1_type_name(const char *v1)
{
    static const char *const map[][2] = {
        {"CONVOLUTION", "Convolution"}, {"INNER_PRODUCT", "InnerProduct"}, {"POOLING", "Pooling"},
        {"RELU", "ReLU"}, {"SOFTMAX", "Softmax"}, {"SOFTMAX_LOSS", "SoftmaxWithLoss"},
        {"DROPOUT", "Dropout"}, {"ELTWISE", "Eltwise"}, {"CONCAT", "Concat"},
        {"ACCURACY", "Accuracy"}, {"DATA", "Data"}, {"IMAGE_DATA", "ImageData"},
        {"FLATTEN", "Flatten"}, {"SPLIT", "Split"}, {"SIGMOID", "Sigmoid"}, {"TANH", "TanH"},
        {"BNLL", "BNLL"}, {"LRN", "LRN"}, {"MEMORY_DATA", "MemoryData"},
        {"EUCLIDEAN_LOSS", "EuclideanLoss"}, {"SLICE", "Slice"}, {"POWER", "Power"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(v1, map[i][0]))
            return map[i][1];
    return v1;
}

static sc_status add_layer(sc_net *net, const sc_pt_node *def, sc_layer **out)
{
    if (!sc_grow((void **)&net->layers, &net->cap_layers, (size_t)net->n_layers + 1,
                 sizeof *net->layers))
        return nomem(net);
    sc_layer *l = &net->layers[net->n_layers];
    memset(l, 0, sizeof *l);
    l->net = net;
    l->def = def;
    l->index = net->n_layers++;
    const char *name = "", *type = "";
    sc_pt_get_string(def, "name", "", &name, NULL);
    const sc_pt_node *tn = sc_pt_find(def, "type", 0);
    if (tn && tn->text)
        type = tn->kind == SC_PT_IDENT ? v1_type_name(tn->text) : tn->text;
    l->name = strdup(*name ? name : "(unnamed)");
    l->type = strdup(type);
    if (!l->name || !l->type)
        return nomem(net);
    *out = l;
    /* weights are saved and loaded by layer name: two layers of one name
     * would write a caffemodel that can never be read back */
    for (int i = 0; *name && i < l->index; i++)
        if (!strcmp(net->layers[i].name, name))
            return sc_layer_fail(l, SC_ERR_PARSE, "duplicate layer name '%s' (first defined at "
                                 "line %d); weights are stored by layer name", name,
                                 net->layers[i].def ? net->layers[i].def->line : 0);
    if (!*type)
        return sc_layer_fail(l, SC_ERR_PARSE, "missing 'type'");
    l->kind = sc_layer_kind_find(type);
    if (!l->kind)
        return sc_layer_fail(l, SC_ERR_UNSUPPORTED, "unknown layer type '%s' (supported: %s)", type,
                             sc_layer_kind_names());
    return SC_OK;
}

static sc_status connect_bottoms(sc_net *net, sc_layer *l)
{
    size_t n = sc_pt_count(l->def, "bottom");
    l->bottoms = calloc(n ? n : 1, sizeof *l->bottoms);
    l->bottom_needs_diff = calloc(n ? n : 1, sizeof *l->bottom_needs_diff);
    l->bottom_beta = calloc(n ? n : 1, sizeof *l->bottom_beta);
    if (!l->bottoms || !l->bottom_needs_diff || !l->bottom_beta)
        return nomem(net);
    for (size_t i = 0; i < n; i++) {
        const sc_pt_node *b = sc_pt_find(l->def, "bottom", i);
        int v = b && b->text ? find_value(net, b->text) : -1;
        if (v < 0)
            return sc_fail(sc_ctx_error(net->ctx), SC_ERR_PARSE,
                           "%s:%d:%d: layer '%s': bottom '%s' is not produced by any earlier "
                           "layer (unknown blob, or a cycle)",
                           b->file, b->line, b->col, l->name, b->text ? b->text : "?");
        net->values[v].n_consumers++;
        l->bottoms[l->n_bottoms++] = v;
    }
    return SC_OK;
}

static sc_status connect_tops(sc_net *net, sc_layer *l)
{
    size_t n = sc_pt_count(l->def, "top");
    l->tops = calloc(n ? n : 1, sizeof *l->tops);
    l->loss_weight = calloc(n ? n : 1, sizeof *l->loss_weight);
    if (!l->tops || !l->loss_weight)
        return nomem(net);
    for (size_t i = 0; i < n; i++) {
        const sc_pt_node *t = sc_pt_find(l->def, "top", i);
        const char *name = t && t->text ? t->text : "";
        for (size_t j = 0; j < i; j++)
            if (!strcmp(net->values[l->tops[j]].name, name))
                return sc_layer_fail(l, SC_ERR_PARSE, "top '%s' listed twice", name);
        int storage = -1;
        /* in place: top i == bottom i (Caffe allows it for top 0 in practice) */
        if ((int)i < l->n_bottoms && !strcmp(net->values[l->bottoms[i]].name, name)) {
            if (i != 0 || !l->kind->in_place)
                return sc_layer_fail(l, SC_ERR_UNSUPPORTED,
                                     "cannot run in place (top '%s' == bottom)", name);
            l->in_place = 1;
            storage = net->values[l->bottoms[0]].data; /* may be split off by the planner */
        } else if (find_value(net, name) >= 0) {
            return sc_layer_fail(l, SC_ERR_PARSE,
                                 "top '%s' is already produced by another layer and is not an "
                                 "in-place output",
                                 name);
        }
        int v = -1;
        SC_TRY(new_value(net, name, l->index, storage, &v));
        l->tops[l->n_tops++] = v;
        double w = 0;
        const sc_pt_node *lw = sc_pt_find(l->def, "loss_weight", i);
        if (lw)
            SC_TRY(sc_pt_float_at(lw, &w, sc_ctx_error(net->ctx)));
        else if (l->kind->flags & SC_KIND_LOSS)
            w = i == 0 ? 1.0 : 0.0; /* Caffe: loss layers weigh their first top 1 */
        l->loss_weight[i] = (float)w;
    }
    return SC_OK;
}

/* Legacy net inputs: `input: "data"` with `input_dim` x4 or `input_shape`. */
static sc_status add_legacy_inputs(sc_net *net)
{
    size_t n = sc_pt_count(net->root, "input");
    for (size_t i = 0; i < n; i++) {
        const sc_pt_node *in = sc_pt_find(net->root, "input", i);
        int dims[4], nd = 0;
        const sc_pt_node *shape = sc_pt_find(net->root, "input_shape", i);
        if (shape) {
            for (size_t d = 0; d < sc_pt_count(shape, "dim") && nd < 4; d++) {
                long long v;
                SC_TRY(sc_pt_int_at(sc_pt_find(shape, "dim", d), &v, sc_ctx_error(net->ctx)));
                dims[nd++] = (int)v;
            }
        } else {
            for (size_t d = 0; d < 4; d++) {
                const sc_pt_node *dn = sc_pt_find(net->root, "input_dim", i * 4 + d);
                long long v;
                if (!dn)
                    return sc_fail(sc_ctx_error(net->ctx), SC_ERR_PARSE,
                                   "%s:%d:%d: input '%s' needs 4 input_dim values", in->file,
                                   in->line, in->col, in->text);
                SC_TRY(sc_pt_int_at(dn, &v, sc_ctx_error(net->ctx)));
                dims[nd++] = (int)v;
            }
        }
        for (int d = nd; d < 4; d++)
            dims[d] = 1;
        sc_net_input_dims(net, nd, dims);
        int storage = -1, v = -1;
        SC_TRY(sc_net_new_storage(net, 0, 0, &storage));
        SC_TRY(new_value(net, in->text, -1, storage, &v));
        sc_value_set_shape(&net->values[v], nd, dims);
        net->storages[storage].floats = sc_value_count(&net->values[v]);
    }
    return SC_OK;
}

sc_status sc_net_setup_layer(sc_net *net, sc_layer *l)
{
    sc_status st = l->kind->setup(l, net);
    if (st != SC_OK) {
        /* op-level checks name the layer and shapes; add where it is defined */
        sc_error *err = sc_ctx_error(net->ctx);
        if (l->def && l->def->file && strncmp(err->msg, l->def->file, strlen(l->def->file)))
            sc_error_prefix(err, "%s:%d: ", l->def->file, l->def->line);
        return st;
    }
    for (int i = 0; i < l->n_tops; i++) {
        sc_value *v = sc_layer_top(l, i); /* ndim 0 is a scalar (a loss): count 1 */
        if (net->reshaping && !(l->in_place && i == 0)) {
            SC_TRY(sc_net_resize_storage(net, v->data, sc_value_count(v), v->name));
            continue;
        }
        if (v->data < 0) {
            int s = -1;
            SC_TRY(sc_net_new_storage(net, sc_value_count(v), 0, &s));
            v->data = s;
        } else if (sc_value_count(v) != net->storages[v->data].floats) {
            char a[64], b[64];
            return sc_layer_fail(l, SC_ERR_SHAPE, "in-place output %s must keep the input shape %s",
                                 sc_value_shape_str(v, a, sizeof a),
                                 sc_value_shape_str(sc_layer_bottom(l, 0), b, sizeof b));
        }
    }
    return SC_OK;
}

static sc_status build_layers(sc_net *net)
{
    const char *field = sc_pt_count(net->root, "layer") ? "layer" : "layers";
    if (sc_pt_count(net->root, "layer") && sc_pt_count(net->root, "layers"))
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_PARSE,
                       "%s: mixes V2 'layer' and V1 'layers' definitions", net->label);
    SC_TRY(add_legacy_inputs(net));
    size_t n = sc_pt_count(net->root, field);
    for (size_t i = 0; i < n; i++) {
        const sc_pt_node *def = sc_pt_find(net->root, field, i);
        if (!layer_in_phase(def, net->opts.phase))
            continue;
        sc_layer *l = NULL;
        SC_TRY(add_layer(net, def, &l));
        SC_TRY(connect_bottoms(net, l));
        SC_TRY(connect_tops(net, l));
        SC_TRY(sc_net_setup_layer(net, &net->layers[net->n_layers - 1]));
    }
    if (net->n_layers == 0)
        return sc_fail(sc_ctx_error(net->ctx), SC_ERR_PARSE, "%s: the net has no layers in phase %s",
                       net->label, net->opts.phase == SC_PHASE_TRAIN ? "TRAIN" : "TEST");
    net->batch = net->n_values > 0 && net->values[0].ndim > 0 ? net->values[0].dims[0] : 1;
    net->built_batch = net->batch;
    return SC_OK;
}

/* ----------------------------------------------------------------- create */

static sc_status init_net(sc_ctx *ctx, sc_pt_node *root, const char *label,
                          const sc_net_options *opts, sc_net *net)
{
    net->ctx = ctx;
    net->root = root;
    if (opts)
        net->opts = *opts;
    net->label = strdup(label ? label : "net");
    const char *base = opts && opts->base_dir ? opts->base_dir : NULL;
    char *tmp = strdup(net->label);
    if (!net->label || !tmp) {
        free(tmp);
        return nomem(net);
    }
    net->base_dir = strdup(base ? base : dirname(tmp));
    free(tmp);
    const char *name = "net";
    sc_pt_get_string(root, "name", "net", &name, NULL);
    net->name = strdup(name);
    if (!net->base_dir || !net->name)
        return nomem(net);
    return SC_OK;
}

sc_status sc_net_create_from_tree(sc_ctx *ctx, sc_pt_node *root, const char *label,
                                  const sc_net_options *opts, sc_net **out)
{
    *out = NULL;
    sc_net *net = calloc(1, sizeof *net);
    if (!net)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    sc_status st = init_net(ctx, root, label, opts, net);
    if (st == SC_OK)
        st = sc_schema_validate(root, "NetParameter", sc_ctx_error(ctx));
    if (st == SC_OK)
        st = build_layers(net);
    if (st == SC_OK && !net->opts.shapes_only)
        st = sc_net_init_params(net);
    if (st == SC_OK && !net->opts.shapes_only)
        st = sc_net_plan(net);
    if (st != SC_OK) {
        sc_net_destroy(net);
        return st;
    }
    net->opts.share_params = NULL; /* the store is held by reference; the other net may go */
    *out = net;
    return SC_OK;
}

sc_status sc_net_create(sc_ctx *ctx, const char *prototxt, const sc_net_options *opts,
                        sc_net **out)
{
    *out = NULL;
    sc_pt_node *root = NULL;
    SC_TRY(sc_prototxt_parse_file(prototxt, &root, sc_ctx_error(ctx)));
    sc_status st = sc_net_create_from_tree(ctx, root, prototxt, opts, out);
    if (st != SC_OK) {
        sc_pt_free(root);
        return st;
    }
    (*out)->owned_root = root;
    return SC_OK;
}

void sc_net_destroy(sc_net *net)
{
    if (!net)
        return;
    if (!net->plans) { /* else the cache owns them, the current ones included */
        sc_plan_destroy(net->forward);
        sc_plan_destroy(net->backward);
    }
    sc_plan_destroy(net->clear_diffs);
    for (int i = 0; i < net->n_layers; i++) {
        sc_layer *l = &net->layers[i];
        free(l->priv);
        free(l->name);
        free(l->type);
        free(l->bottoms);
        free(l->tops);
        free(l->params);
        free(l->extras);
        free(l->loss_weight);
        free(l->bottom_needs_diff);
        free(l->bottom_beta);
    }
    for (int i = 0; i < net->n_values; i++)
        free(net->values[i].name);
    for (int i = 0; i < net->n_params; i++)
        free(net->params[i].name);
    sc_param_store_release(net->store);
    sc_plan_cache_free(net->plans);
    for (int i = 0; i < net->n_buffers; i++)
        sc_buffer_release(net->ctx, net->buffers[i].mem);
    sc_buffer_release(net->ctx, net->workspace);
    free(net->layers);
    free(net->values);
    free(net->params);
    free(net->storages);
    free(net->buffers);
    free(net->name);
    free(net->label);
    free(net->base_dir);
    sc_pt_free(net->owned_root);
    free(net);
}
