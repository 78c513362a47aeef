/* The MTCNN detector: nets, the three stages and the landmarks (see mtcnn.h).
 * Line for line it follows MTCNNv1/detect_face.m; where it must differ (a
 * box under a pixel wide, which MATLAB would fail on) it says so. */
#include "mtcnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_graph.h"

#define MEAN 127.5f
#define SCALE 0.0078125f

struct sc_mtcnn {
    sc_ctx *ctx;
    sc_mtcnn_options o;
    char pnet_proto[4096], pnet_model[4096];
    sc_caffemodel *pnet_weights; /* read at creation, loaded when PNet is first built */
    sc_net *pnet, *rnet, *onet;
    int pnet_h, pnet_w; /* PNet's built input: H runs along the photo's x, W along y */
    int pnet_builds;
};

/* A growable list of boxes. */
typedef struct box_vec {
    sc_mtcnn_box *b;
    size_t n, cap;
} box_vec;

/* The photo every stage reads. */
typedef struct photo_work {
    const float *px; /* w x h x 3, RGB, 0..255 */
    int w, h;
} photo_work;

sc_mtcnn_options sc_mtcnn_defaults(void)
{
    return (sc_mtcnn_options){.min_face = 20, .factor = 0.85, .thresholds = {0.6f, 0.7f, 0.9f}};
}

static sc_status no_memory(sc_mtcnn *d, const char *what)
{
    return sc_fail(sc_ctx_error(d->ctx), SC_ERR_NOMEM, "out of host memory (%s)", what);
}

static sc_status vec_reserve(sc_mtcnn *d, box_vec *v, size_t need)
{
    if (need <= v->cap)
        return SC_OK;
    size_t cap = v->cap ? v->cap : 64;
    while (cap < need)
        cap *= 2;
    sc_mtcnn_box *b = realloc(v->b, cap * sizeof *b);
    if (!b)
        return no_memory(d, "MTCNN boxes");
    v->b = b;
    v->cap = cap;
    return SC_OK;
}

/* Keeps the boxes at pick[0..n_pick), in that order. */
static sc_status vec_gather(sc_mtcnn *d, box_vec *v, const size_t *pick, size_t n_pick)
{
    sc_mtcnn_box *kept = malloc((n_pick ? n_pick : 1) * sizeof *kept);
    if (!kept)
        return no_memory(d, "MTCNN boxes");
    for (size_t i = 0; i < n_pick; i++)
        kept[i] = v->b[pick[i]];
    free(v->b);
    v->b = kept;
    v->n = v->cap = n_pick;
    return SC_OK;
}

/* NMS over the whole list, keeping the survivors (best first). */
static sc_status vec_nms(sc_mtcnn *d, box_vec *v, float threshold, sc_nms_mode mode)
{
    size_t *pick = malloc((v->n ? v->n : 1) * sizeof *pick), n_pick;
    if (!pick)
        return no_memory(d, "NMS");
    sc_status st = sc_mtcnn_nms(v->b, v->n, threshold, mode, pick, &n_pick, sc_ctx_error(d->ctx));
    if (st == SC_OK)
        st = vec_gather(d, v, pick, n_pick);
    free(pick);
    return st;
}

/* ---- nets */

/* The blobs the detector uses, with their values per sample, or per cell
 * of the output map for PNet (a fully convolutional net). */
typedef struct net_blobs {
    const char *name[4];
    size_t per[4];
    int per_cell;
} net_blobs;

static const net_blobs k_pnet_blobs = {{"prob1", "conv4-2"}, {2, 4}, 1};
static const net_blobs k_rnet_blobs = {{"data", "prob1", "conv5-2"}, {3 * 24 * 24, 2, 4}, 0};
static const net_blobs k_onet_blobs = {{"data", "prob1", "conv6-2", "conv6-3"},
                                       {3 * 48 * 48, 2, 4, 10}, 0};

static sc_status check_blobs(sc_mtcnn *d, sc_net *net, const char *file, const net_blobs *want)
{
    for (int i = 0; i < 4 && want->name[i]; i++) {
        sc_blob_info b;
        int ok = sc_net_blob(net, want->name[i], &b) == SC_OK && (!want->per_cell || b.ndim == 4);
        size_t units = ok ? (size_t)b.dims[0] : 0;
        if (ok && want->per_cell)
            units *= (size_t)b.dims[2] * b.dims[3];
        if (!ok || b.count != want->per[i] * units)
            return sc_fail(sc_ctx_error(d->ctx), SC_ERR_SHAPE,
                           "%s: no blob '%s' of %zu values per %s: not an MTCNN net", file,
                           want->name[i], want->per[i], want->per_cell ? "cell" : "sample");
    }
    return SC_OK;
}

static void net_paths(const char *dir, const char *det, char *proto, char *model, size_t cap)
{
    snprintf(proto, cap, "%s/%s.prototxt", dir, det);
    snprintf(model, cap, "%s/%s.caffemodel", dir, det);
}

static sc_status open_net(sc_mtcnn *d, const char *dir, const char *det, int batch, int size,
                          const net_blobs *blobs, sc_net **out)
{
    char proto[4096], model[4096], missing[1024];
    net_paths(dir, det, proto, model, sizeof proto);
    sc_net_options no = {.phase = SC_PHASE_TEST, .batch = batch, .height = size, .width = size};
    SC_TRY(sc_net_create(d->ctx, proto, &no, out));
    SC_TRY(sc_net_load_weights(*out, model, missing, sizeof missing));
    if (missing[0])
        return sc_fail(sc_ctx_error(d->ctx), SC_ERR_FORMAT, "%s has no weights for: %s", model,
                       missing);
    return check_blobs(d, *out, proto, blobs);
}

/* PNet is built at the first photo, when the size it needs is known; its
 * files are read and checked now (shapes only), so that a broken det1 is
 * reported before any photo. */
static sc_status check_pnet(sc_mtcnn *d, const char *dir)
{
    net_paths(dir, "det1", d->pnet_proto, d->pnet_model, sizeof d->pnet_proto);
    sc_net_options no = {.phase = SC_PHASE_TEST, .shapes_only = 1};
    sc_net *probe = NULL;
    sc_status st = sc_net_create(d->ctx, d->pnet_proto, &no, &probe);
    if (st == SC_OK)
        st = check_blobs(d, probe, d->pnet_proto, &k_pnet_blobs);
    sc_net_destroy(probe);
    if (st == SC_OK)
        st = sc_caffemodel_read_file(d->pnet_model, &d->pnet_weights, sc_ctx_error(d->ctx));
    return st;
}

static sc_status open_nets(sc_mtcnn *d, const char *dir)
{
    SC_TRY(check_pnet(d, dir));
    SC_TRY(open_net(d, dir, "det2", d->o.rnet_batch, 24, &k_rnet_blobs, &d->rnet));
    return open_net(d, dir, "det3", d->o.onet_batch, 48, &k_onet_blobs, &d->onet);
}

sc_status sc_mtcnn_create(sc_ctx *ctx, const char *models_dir, const sc_mtcnn_options *opts,
                          sc_mtcnn **out)
{
    *out = NULL;
    sc_mtcnn_options o = opts ? *opts : sc_mtcnn_defaults();
    o.rnet_batch = o.rnet_batch > 0 ? o.rnet_batch : 256;
    o.onet_batch = o.onet_batch > 0 ? o.onet_batch : 64;
    if (!(o.min_face > 0) || !(o.factor > 0 && o.factor < 1))
        return sc_fail(sc_ctx_error(ctx), SC_ERR_ARG,
                       "MTCNN: minimum face %g must be > 0 and factor %g in (0, 1)", o.min_face,
                       o.factor);
    sc_mtcnn *d = calloc(1, sizeof *d);
    if (!d)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    d->ctx = ctx;
    d->o = o;
    sc_status st = open_nets(d, models_dir);
    if (st != SC_OK) {
        sc_mtcnn_destroy(d);
        return st;
    }
    *out = d;
    return SC_OK;
}

void sc_mtcnn_destroy(sc_mtcnn *det)
{
    if (!det)
        return;
    sc_net_destroy(det->pnet);
    sc_net_destroy(det->rnet);
    sc_net_destroy(det->onet);
    sc_caffemodel_free(det->pnet_weights);
    free(det);
}

int sc_mtcnn_pnet_builds(const sc_mtcnn *det)
{
    return det->pnet_builds;
}

/* PNet able to take an H x W input (H along the photo's x): the one built,
 * or one built larger over the same weights. */
static sc_status ensure_pnet(sc_mtcnn *d, int h, int w)
{
    if (d->pnet && h <= d->pnet_h && w <= d->pnet_w)
        return SC_OK;
    h = h > d->pnet_h ? h : d->pnet_h;
    w = w > d->pnet_w ? w : d->pnet_w;
    sc_net_options no = {.phase = SC_PHASE_TEST, .batch = 1, .height = h, .width = w,
                         .share_params = d->pnet};
    sc_net *net = NULL;
    SC_TRY(sc_net_create(d->ctx, d->pnet_proto, &no, &net));
    sc_status st = SC_OK;
    if (!d->pnet) {
        char missing[1024];
        st = sc_net_load_weights_model(net, d->pnet_weights, missing, sizeof missing);
        if (st == SC_OK && missing[0])
            st = sc_fail(sc_ctx_error(d->ctx), SC_ERR_FORMAT, "%s has no weights for: %s",
                         d->pnet_model, missing);
    }
    if (st != SC_OK) {
        sc_net_destroy(net);
        return st;
    }
    sc_net_destroy(d->pnet);
    d->pnet = net;
    d->pnet_h = h;
    d->pnet_w = w;
    d->pnet_builds++;
    return SC_OK;
}

/* ---- stage 1: PNet over the pyramid */

int sc_mtcnn_scales(int w, int h, double min_face, double factor, double *scales, int cap)
{
    double m = 12.0 / min_face, minl = (w < h ? w : h) * m;
    int n = 0;
    for (; minl >= 12; n++) {
        if (n < cap)
            scales[n] = m * pow(factor, n);
        minl *= factor;
    }
    return n;
}

/* The level as PNet's input: transposed planes [c][x][y], normalised. */
static void level_to_input(const float *level, int ws, int hs, float *dst)
{
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < ws; x++)
            for (int y = 0; y < hs; y++)
                dst[((size_t)c * ws + x) * hs + y] =
                    (level[((size_t)y * ws + x) * 3 + c] - MEAN) * SCALE;
}

/* Reads PNet's two outputs at the current shape; *mw x *mh cells. */
static sc_status read_pnet(sc_mtcnn *d, float **prob, float **reg, int *mw, int *mh)
{
    sc_blob_info b;
    SC_TRY(sc_net_blob(d->pnet, "prob1", &b));
    *mw = b.dims[2];
    *mh = b.dims[3];
    size_t cells = (size_t)*mw * *mh;
    *prob = malloc(2 * cells * sizeof **prob);
    *reg = malloc(4 * cells * sizeof **reg);
    if (!*prob || !*reg)
        return no_memory(d, "PNet output");
    SC_TRY(sc_net_read_blob(d->pnet, "prob1", *prob, 2 * cells));
    return sc_net_read_blob(d->pnet, "conv4-2", *reg, 4 * cells);
}

/* The candidates of one level (its own NMS 0.5 applied), appended to all. */
static sc_status level_boxes(sc_mtcnn *d, double scale, box_vec *all)
{
    float *prob = NULL, *reg = NULL;
    int mw, mh;
    box_vec level = {0};
    sc_status st = read_pnet(d, &prob, &reg, &mw, &mh);
    if (st == SC_OK)
        st = vec_reserve(d, &level, (size_t)mw * mh);
    if (st == SC_OK) {
        /* plane 1 is the face probability */
        level.n = sc_mtcnn_pnet_boxes(prob + (size_t)mw * mh, reg, mw, mh, scale,
                                      d->o.thresholds[0], level.b);
        st = vec_nms(d, &level, 0.5f, SC_NMS_UNION);
    }
    if (st == SC_OK && level.n)
        st = vec_reserve(d, all, all->n + level.n);
    if (st == SC_OK && level.n) {
        memcpy(all->b + all->n, level.b, level.n * sizeof *level.b);
        all->n += level.n;
    }
    free(level.b);
    free(prob);
    free(reg);
    return st;
}

/* Runs PNet on one level of the pyramid (the photo resized by scale). */
static sc_status pnet_level(sc_mtcnn *d, const photo_work *p, double scale, float *level,
                            float *input, box_vec *all)
{
    int hs = (int)ceil(p->h * scale), ws = (int)ceil(p->w * scale);
    SC_TRY(sc_resize_matlab(p->px, p->w, p->h, 3, level, ws, hs, d->o.resize,
                            sc_ctx_error(d->ctx)));
    level_to_input(level, ws, hs, input);
    SC_TRY(sc_net_reshape(d->pnet, 1, ws, hs));
    SC_TRY(sc_net_write_blob(d->pnet, "data", input, (size_t)3 * ws * hs));
    SC_TRY(sc_net_forward(d->pnet));
    return level_boxes(d, scale, all);
}

/* The first stage: candidates of every level, NMS 0.7 over all of them,
 * PNet's regression, squared and truncated. */
static sc_status stage_pnet(sc_mtcnn *d, const photo_work *p, box_vec *boxes)
{
    int n = sc_mtcnn_scales(p->w, p->h, d->o.min_face, d->o.factor, NULL, 0);
    if (n == 0)
        return SC_OK; /* the photo is smaller than the smallest face */
    double *scales = malloc((size_t)n * sizeof *scales);
    if (!scales)
        return no_memory(d, "pyramid");
    sc_mtcnn_scales(p->w, p->h, d->o.min_face, d->o.factor, scales, n);
    /* level 0 is the largest: PNet is built (or grown) for it once */
    int ws0 = (int)ceil(p->w * scales[0]), hs0 = (int)ceil(p->h * scales[0]);
    float *level = malloc((size_t)3 * ws0 * hs0 * sizeof *level);
    float *input = malloc((size_t)3 * ws0 * hs0 * sizeof *input);
    sc_status st = level && input ? ensure_pnet(d, ws0, hs0) : no_memory(d, "pyramid");
    for (int i = 0; i < n && st == SC_OK; i++)
        st = pnet_level(d, p, scales[i], level, input, boxes);
    free(scales);
    free(level);
    free(input);
    if (st != SC_OK || boxes->n == 0)
        return st;
    SC_TRY(vec_nms(d, boxes, 0.7f, SC_NMS_UNION));
    sc_mtcnn_regress_pnet(boxes->b, boxes->n);
    sc_mtcnn_rerec(boxes->b, boxes->n);
    sc_mtcnn_fix(boxes->b, boxes->n);
    return SC_OK;
}

/* ---- crops for RNet and ONet */

sc_status sc_mtcnn_crop_input(const float *photo, int w, int h, const sc_mtcnn_box *box,
                              int size, sc_matlab_resize method, float *dst, sc_error *err)
{
    sc_mtcnn_pad q = sc_mtcnn_pad_box(box, w, h);
    if (q.tmpw < 1 || q.tmph < 1)
        return sc_fail(err, SC_ERR_ARG, "MTCNN box %g,%g..%g,%g is empty", box->x1, box->y1,
                       box->x2, box->y2);
    float *tmp = calloc((size_t)q.tmpw * q.tmph * 3, sizeof *tmp);
    float *out = malloc((size_t)size * size * 3 * sizeof *out);
    sc_status st = SC_OK;
    if (!tmp || !out)
        st = sc_fail(err, SC_ERR_NOMEM, "out of host memory (a %dx%d crop)", q.tmpw, q.tmph);
    /* tmp(dy:edy, dx:edx, :) = img(y:ey, x:ex, :) in 1-based MATLAB terms; a
     * box wholly outside the photo leaves both ranges empty */
    for (int y = q.y; st == SC_OK && q.ex >= q.x && y <= q.ey; y++)
        memcpy(&tmp[((size_t)(q.dy - 1 + y - q.y) * q.tmpw + (q.dx - 1)) * 3],
               &photo[((size_t)(y - 1) * w + (q.x - 1)) * 3],
               (size_t)(q.ex - q.x + 1) * 3 * sizeof *tmp);
    if (st == SC_OK)
        st = sc_resize_matlab(tmp, q.tmpw, q.tmph, 3, out, size, size, method, err);
    if (st == SC_OK)
        for (int c = 0; c < 3; c++)
            for (int x = 0; x < size; x++)
                for (int y = 0; y < size; y++)
                    dst[((size_t)c * size + x) * size + y] =
                        (float)((out[((size_t)y * size + x) * 3 + c] - 127.5) * 0.0078125);
    free(tmp);
    free(out);
    return st;
}

/* Drops the boxes MATLAB could not crop (under a pixel wide or tall; it
 * would fail on them) and absurdly large ones (over 8 photo sides: a
 * regression gone wild, never a face of this photo, and a huge allocation). */
static void drop_uncroppable(box_vec *v, int w, int h)
{
    const float limit = 8.0f * (w > h ? w : h) + 64;
    size_t kept = 0;
    for (size_t i = 0; i < v->n; i++) {
        float bw = v->b[i].x2 - v->b[i].x1 + 1, bh = v->b[i].y2 - v->b[i].y1 + 1;
        if (bw >= 1 && bh >= 1 && bw <= limit && bh <= limit)
            v->b[kept++] = v->b[i];
    }
    v->n = kept;
}

static sc_status crop_all(sc_mtcnn *d, const photo_work *p, const box_vec *v, int size,
                          float **inputs)
{
    size_t per = (size_t)3 * size * size;
    *inputs = malloc((v->n ? v->n : 1) * per * sizeof **inputs);
    if (!*inputs)
        return no_memory(d, "MTCNN crops");
    for (size_t i = 0; i < v->n; i++)
        SC_TRY(sc_mtcnn_crop_input(p->px, p->w, p->h, &v->b[i], size, d->o.resize,
                                   *inputs + i * per, sc_ctx_error(d->ctx)));
    return SC_OK;
}

/* ---- running RNet / ONet over any number of crops */

typedef struct net_outputs {
    int count;
    const char *blob[3];
    int width[3];  /* values per sample */
    float *dst[3]; /* n * width each */
} net_outputs;

/* One batch of exactly `count` crops. The batch is the box count itself,
 * not rounded up: recording the plans of a new shape costs about 0.3 ms on
 * PoCL (sc_net_reshape keeps the last 16), while a padded sample costs a
 * whole forward of it (ONet: ~1.5 ms). */
static sc_status run_chunk(sc_net *net, size_t per, const float *in, size_t count,
                           net_outputs *o, size_t at)
{
    SC_TRY(sc_net_reshape(net, (int)count, 0, 0));
    SC_TRY(sc_net_write_blob(net, "data", in, count * per));
    SC_TRY(sc_net_forward(net));
    for (int k = 0; k < o->count; k++)
        SC_TRY(sc_net_read_blob(net, o->blob[k], o->dst[k] + at * o->width[k],
                                count * o->width[k]));
    return SC_OK;
}

/* The net over n crops, in batches of at most max_batch. */
static sc_status run_net(sc_net *net, int max_batch, int size, const float *in, size_t n,
                         net_outputs *o)
{
    size_t per = (size_t)3 * size * size;
    sc_status st = SC_OK;
    for (size_t at = 0; at < n && st == SC_OK; at += (size_t)max_batch) {
        size_t count = n - at < (size_t)max_batch ? n - at : (size_t)max_batch;
        st = run_chunk(net, per, in + at * per, count, o, at);
    }
    return st;
}

/* Allocates o->dst for n samples. */
static sc_status alloc_outputs(sc_mtcnn *d, net_outputs *o, size_t n)
{
    for (int k = 0; k < o->count; k++)
        if (!(o->dst[k] = malloc((n ? n : 1) * o->width[k] * sizeof(float))))
            return no_memory(d, "MTCNN outputs");
    return SC_OK;
}

static void free_outputs(net_outputs *o)
{
    for (int k = 0; k < o->count; k++)
        free(o->dst[k]);
}

/* Keeps the boxes whose face probability (prob: 2 per box) is above
 * threshold, with their score and regression; pass[] gets their former
 * indices (may be NULL). */
static void keep_faces(box_vec *v, const float *prob, const float *reg, float threshold,
                       size_t *pass)
{
    size_t kept = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (!(prob[2 * i + 1] > threshold))
            continue;
        sc_mtcnn_box b = v->b[i];
        b.score = prob[2 * i + 1];
        memcpy(b.reg, reg + 4 * i, sizeof b.reg);
        if (pass)
            pass[kept] = i;
        v->b[kept++] = b;
    }
    v->n = kept;
}

/* ---- stage 2: RNet */

static sc_status stage_rnet(sc_mtcnn *d, const photo_work *p, box_vec *boxes)
{
    drop_uncroppable(boxes, p->w, p->h);
    if (boxes->n == 0)
        return SC_OK;
    float *in = NULL;
    net_outputs o = {2, {"prob1", "conv5-2"}, {2, 4}, {NULL, NULL}};
    sc_status st = crop_all(d, p, boxes, 24, &in);
    if (st == SC_OK)
        st = alloc_outputs(d, &o, boxes->n);
    if (st == SC_OK)
        st = run_net(d->rnet, d->o.rnet_batch, 24, in, boxes->n, &o);
    if (st == SC_OK) {
        keep_faces(boxes, o.dst[0], o.dst[1], d->o.thresholds[1], NULL);
        st = vec_nms(d, boxes, 0.7f, SC_NMS_UNION);
    }
    if (st == SC_OK) {
        sc_mtcnn_bbreg(boxes->b, boxes->n);
        sc_mtcnn_rerec(boxes->b, boxes->n);
    }
    free(in);
    free_outputs(&o);
    return st;
}

/* ---- stage 3: ONet and the landmarks */

/* The crop mirrored left-right: in the transposed planes [c][x][y] that
 * reverses the x rows (detect_face.m: tempimg(:, end:-1:1, :, k)). */
static void mirror_crop(const float *src, int size, float *dst)
{
    for (int c = 0; c < 3; c++)
        for (int x = 0; x < size; x++)
            memcpy(dst + ((size_t)c * size + x) * size,
                   src + ((size_t)c * size + (size - 1 - x)) * size, size * sizeof *dst);
}

/* The landmarks of the mirrored crops, mapped back: x -> 1 - x, and left
 * and right swapped (eyes 0/1, mouth corners 3/4). */
static void unmirror_points(const float *m, float *out)
{
    static const int swap[5] = {1, 0, 2, 4, 3};
    for (int j = 0; j < 5; j++) {
        out[j] = 1 - m[swap[j]];
        out[5 + j] = m[5 + swap[j]];
    }
}

/* ONet's landmarks of crops[sel[i]], i < n, as fractions of the box
 * ([x1..x5, y1..y5] each), averaged with those of the mirrored crops
 * unless no_mirror. */
static sc_status onet_points(sc_mtcnn *d, const float *crops, const float *pts,
                             const size_t *sel, size_t n, float *points)
{
    const size_t per = (size_t)3 * 48 * 48;
    for (size_t i = 0; i < n; i++)
        memcpy(points + 10 * i, pts + 10 * sel[i], 10 * sizeof *points);
    if (d->o.no_mirror || n == 0)
        return SC_OK;
    float *mirrored = malloc(n * per * sizeof *mirrored);
    net_outputs o = {1, {"conv6-3"}, {10}, {NULL}};
    sc_status st = mirrored ? alloc_outputs(d, &o, n) : no_memory(d, "mirrored crops");
    for (size_t i = 0; i < n && st == SC_OK; i++)
        mirror_crop(crops + sel[i] * per, 48, mirrored + i * per);
    if (st == SC_OK)
        st = run_net(d->onet, d->o.onet_batch, 48, mirrored, n, &o);
    for (size_t i = 0; i < n && st == SC_OK; i++) {
        float back[10];
        unmirror_points(o.dst[0] + 10 * i, back);
        for (int j = 0; j < 10; j++)
            points[10 * i + j] = (points[10 * i + j] + back[j]) / 2;
    }
    free(mirrored);
    free_outputs(&o);
    return st;
}

/* A face from ONet's input box (landmarks are fractions of it), its
 * regressed box and the landmark fractions, all moved to 0-based pixels. */
static sc_face make_face(const sc_mtcnn_box *input, const sc_mtcnn_box *regressed,
                         const float *frac)
{
    sc_face f;
    f.box[0] = regressed->x1 - 1;
    f.box[1] = regressed->y1 - 1;
    f.box[2] = regressed->x2 - 1;
    f.box[3] = regressed->y2 - 1;
    f.score = regressed->score;
    float w = input->x2 - input->x1 + 1, h = input->y2 - input->y1 + 1;
    for (int j = 0; j < 5; j++) {
        /* detect_face.m's (1-based) w * p + x1 - 1, then one less for 0-based */
        f.points[2 * j] = (w * frac[j] + input->x1 - 1) - 1;
        f.points[2 * j + 1] = (h * frac[5 + j] + input->y1 - 1) - 1;
    }
    return f;
}

/* After ONet's threshold: the boxes are regressed, NMS'd ('min') and
 * turned into faces with their landmarks. */
static sc_status onet_faces(sc_mtcnn *d, const box_vec *kept, const size_t *pass,
                            const float *crops, const float *pts, sc_face **faces, size_t *n)
{
    size_t m = kept->n, n_pick = 0;
    sc_mtcnn_box *reg = malloc(m * sizeof *reg);
    size_t *pick = malloc(m * sizeof *pick), *sel = malloc(m * sizeof *sel);
    float *points = malloc(m * 10 * sizeof *points);
    sc_status st = reg && pick && sel && points ? SC_OK : no_memory(d, "ONet faces");
    if (st == SC_OK) {
        memcpy(reg, kept->b, m * sizeof *reg);
        sc_mtcnn_bbreg(reg, m);
        st = sc_mtcnn_nms(reg, m, 0.7f, SC_NMS_MIN, pick, &n_pick, sc_ctx_error(d->ctx));
    }
    for (size_t i = 0; i < n_pick && st == SC_OK; i++)
        sel[i] = pass[pick[i]];
    if (st == SC_OK)
        st = onet_points(d, crops, pts, sel, n_pick, points);
    if (st == SC_OK && !(*faces = malloc(n_pick * sizeof **faces)))
        st = no_memory(d, "faces");
    for (size_t i = 0; i < n_pick && st == SC_OK; i++)
        (*faces)[i] = make_face(&kept->b[pick[i]], &reg[pick[i]], points + 10 * i);
    if (st == SC_OK)
        *n = n_pick;
    free(reg);
    free(pick);
    free(sel);
    free(points);
    return st;
}

static sc_status stage_onet(sc_mtcnn *d, const photo_work *p, box_vec *boxes, sc_face **faces,
                            size_t *n)
{
    sc_mtcnn_fix(boxes->b, boxes->n);
    drop_uncroppable(boxes, p->w, p->h);
    if (boxes->n == 0)
        return SC_OK;
    float *in = NULL;
    size_t *pass = malloc(boxes->n * sizeof *pass);
    net_outputs o = {3, {"prob1", "conv6-2", "conv6-3"}, {2, 4, 10}, {NULL, NULL, NULL}};
    sc_status st = pass ? crop_all(d, p, boxes, 48, &in) : no_memory(d, "ONet");
    if (st == SC_OK)
        st = alloc_outputs(d, &o, boxes->n);
    if (st == SC_OK)
        st = run_net(d->onet, d->o.onet_batch, 48, in, boxes->n, &o);
    if (st == SC_OK) {
        keep_faces(boxes, o.dst[0], o.dst[1], d->o.thresholds[2], pass);
        if (boxes->n)
            st = onet_faces(d, boxes, pass, in, o.dst[2], faces, n);
    }
    free(in);
    free(pass);
    free_outputs(&o);
    return st;
}

/* ---- the whole detector */

/* The photo as 0..255 floats, RGB (grey replicated), as detect_face.m's
 * single(img). */
static float *photo_floats(const sc_image *img)
{
    size_t n = (size_t)img->w * img->h;
    float *px = malloc(n * 3 * sizeof *px);
    if (!px)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            px[i * 3 + k] = img->px[i * img->c + (img->c == 3 ? k : 0)];
    return px;
}

sc_status sc_mtcnn_detect(sc_mtcnn *det, const sc_image *img, const char *name, sc_face **faces,
                          size_t *n)
{
    *faces = NULL;
    *n = 0;
    if (!img->px || img->w < 1 || img->h < 1 || (img->c != 1 && img->c != 3))
        return sc_fail(sc_ctx_error(det->ctx), SC_ERR_ARG, "%s: not an RGB or grey image", name);
    float *px = photo_floats(img);
    if (!px)
        return sc_fail(sc_ctx_error(det->ctx), SC_ERR_NOMEM, "%s: out of host memory", name);
    photo_work p = {px, img->w, img->h};
    box_vec boxes = {0};
    sc_status st = stage_pnet(det, &p, &boxes);
    if (st == SC_OK && boxes.n)
        st = stage_rnet(det, &p, &boxes);
    if (st == SC_OK && boxes.n)
        st = stage_onet(det, &p, &boxes, faces, n);
    free(boxes.b);
    free(px);
    if (st != SC_OK) {
        free(*faces);
        *faces = NULL;
        *n = 0;
        sc_error_prefix(sc_ctx_error(det->ctx), "%s: ", name);
    }
    return st;
}

size_t sc_mtcnn_nearest_centre(const sc_face *faces, size_t n, int w, int h)
{
    /* SphereFace's face_detect_demo.m, in MATLAB's 1-based frame: the box
     * centre mean(x1, x2) against size(img) / 2; the first of equals wins */
    size_t best = 0;
    double best_d = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double cx = (faces[i].box[0] + faces[i].box[2]) / 2.0 + 1 - w / 2.0;
        double cy = (faces[i].box[1] + faces[i].box[3]) / 2.0 + 1 - h / 2.0;
        double dist = cx * cx + cy * cy;
        if (dist < best_d) {
            best_d = dist;
            best = i;
        }
    }
    return best;
}
