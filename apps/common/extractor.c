/* Feature extraction with decoding overlapped with the device (see
 * extractor.h). Worker threads fill a ring of batch slots in order; the main
 * thread uploads slot b, enqueues the forward and an asynchronous read of the
 * features, and only then waits for batch b - 1's read: the device always
 * has the next batch queued, the host waits once per batch. */
#include "extractor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_input.h"
#include "sc_graph.h"

#define SLOTS 3

typedef struct slot {
    float *in;       /* inputs of one batch */
    float *out;      /* its features, read back from the device */
    long batch;      /* batch index held, -1: free */
    int ready;       /* decoded (or failed) */
    sc_status status;
    char err[SC_ERROR_MSG_MAX];
    cl_event read_done;
} slot;

struct sc_extractor {
    sc_extractor_config cfg;
    sc_ctx *ctx;
    sc_net *net;
    const char *input;         /* the net's input blob */
    sc_input_shape shape;
    size_t per_input, out_dim; /* floats per network input / output */
    int per_image;             /* network inputs per image: 1, or 2 with flip */
    int batch;                 /* network inputs per forward */
    char missing[4096];

    /* one run */
    const char *const *paths;
    size_t n;
    long n_batches, next_claim;
    int stop;
    slot slots[SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* ------------------------------------------------------------- create */

sc_extractor_config sc_extractor_defaults(void)
{
    return (sc_extractor_config){.feature = "fc5", .batch = 32, .mean = 127.5f,
                                 .scale = 0.0078125f, .threads = 2};
}

static sc_status find_input(sc_extractor *x, sc_error *err)
{
    const char *names[16];
    size_t n = sc_net_inputs(x->net, names, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        sc_blob_info b;
        if (sc_net_blob(x->net, names[i], &b) == SC_OK && b.ndim == 4 &&
            (b.dims[1] == 1 || b.dims[1] == 3)) {
            x->input = names[i];
            x->shape = (sc_input_shape){b.dims[1], b.dims[2], b.dims[3]};
            x->per_input = (size_t)b.dims[1] * b.dims[2] * b.dims[3];
            return SC_OK;
        }
    }
    return sc_fail(err, SC_ERR_SHAPE,
                   "%s: no input blob of N x C x H x W with 1 or 3 channels to feed images to",
                   x->cfg.net);
}

sc_status sc_extractor_create(const sc_extractor_config *cfg, sc_extractor **out, sc_error *err)
{
    *out = NULL;
    sc_extractor *x = calloc(1, sizeof *x);
    if (!x)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    x->cfg = *cfg;
    x->per_image = cfg->flip ? 2 : 1;
    x->batch = cfg->batch < 1 ? 1 : cfg->batch;
    x->batch += x->batch % x->per_image; /* an image and its mirror together */
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    sc_ctx_options co = {.selector = cfg->device};
    sc_status st = sc_ctx_create(&co, &x->ctx, err);
    sc_net_options no = {.phase = SC_PHASE_TEST, .batch = x->batch};
    sc_blob_info fb;
    if (st == SC_OK && ((st = sc_net_create(x->ctx, cfg->net, &no, &x->net)) != SC_OK ||
                        (st = sc_net_load_weights(x->net, cfg->weights, x->missing,
                                                  sizeof x->missing)) != SC_OK ||
                        (st = sc_net_blob(x->net, cfg->feature, &fb)) != SC_OK))
        sc_fail(err, st, "%s", sc_ctx_message(x->ctx));
    if (st == SC_OK && fb.blocked) /* its buffer holds nChw16c data, not NCHW rows */
        st = sc_fail(err, SC_ERR_ARG,
                     "%s: feature blob '%s' lies between two convolutions of this inference net "
                     "(held channel-blocked there); extract a net output or a blob an inner "
                     "product reads",
                     cfg->net, cfg->feature);
    if (st == SC_OK)
        st = find_input(x, err);
    if (st == SC_OK)
        x->out_dim = fb.count / (size_t)x->batch;
    for (int i = 0; i < SLOTS && st == SC_OK; i++) {
        x->slots[i].in = malloc((size_t)x->batch * x->per_input * sizeof(float));
        x->slots[i].out = malloc((size_t)x->batch * x->out_dim * sizeof(float));
        if (!x->slots[i].in || !x->slots[i].out)
            st = sc_fail(err, SC_ERR_NOMEM, "out of host memory for the input batches");
    }
    if (st != SC_OK) {
        sc_extractor_destroy(x);
        return st;
    }
    *out = x;
    return SC_OK;
}

void sc_extractor_destroy(sc_extractor *x)
{
    if (!x)
        return;
    for (int i = 0; i < SLOTS; i++) {
        sc_event_release(&x->slots[i].read_done);
        free(x->slots[i].in);
        free(x->slots[i].out);
    }
    sc_net_destroy(x->net);
    sc_ctx_destroy(x->ctx);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

size_t sc_extractor_dim(const sc_extractor *x) { return x->out_dim * (size_t)x->per_image; }
const char *sc_extractor_missing(const sc_extractor *x) { return x->missing; }

void sc_extractor_input(const sc_extractor *x, int *c, int *h, int *w, const char **name)
{
    *c = x->shape.c;
    *h = x->shape.h;
    *w = x->shape.w;
    *name = x->input;
}

sc_status sc_extractor_check(const sc_extractor *x, const char *const *paths, size_t n,
                             size_t *wrong_size, sc_error *err)
{
    *wrong_size = 0;
    sc_error first = {0};
    for (size_t i = 0; i < n; i++) {
        int w, h;
        SC_TRY(sc_image_probe(paths[i], &w, &h, err));
        if (x->cfg.resize || (w == x->shape.w && h == x->shape.h))
            continue;
        if ((*wrong_size)++ == 0)
            sc_fail(&first, SC_ERR_SHAPE, "%s is %dx%d", paths[i], w, h);
    }
    if (*wrong_size)
        return sc_fail(err, SC_ERR_SHAPE,
                       "%zu of %zu images do not have the net's input size %dx%d (width x "
                       "height): %s; --resize converts them",
                       *wrong_size, n, x->shape.w, x->shape.h, first.msg);
    return SC_OK;
}

/* ------------------------------------------------------------ decoding */

/* One image as per_image network inputs at dst. */
static sc_status stage_image(const sc_extractor *x, const char *path, float *dst, sc_error *err)
{
    sc_image img = {0}, resized = {0};
    const sc_image *use = &img;
    const float m = x->cfg.mean;
    sc_pixel_norm norm = {{m, m, m}, x->cfg.scale, !x->cfg.rgb};
    sc_status st = sc_image_load(path, x->shape.c, &img, err);
    if (st == SC_OK && x->cfg.resize && (img.w != x->shape.w || img.h != x->shape.h)) {
        st = sc_image_resize_bilinear(&img, x->shape.w, x->shape.h, &resized, err);
        use = &resized;
    }
    for (int f = 0; f < x->per_image && st == SC_OK; f++)
        st = sc_image_to_input(use, &x->shape, &norm, f, dst + x->per_input * (size_t)f, path,
                               err);
    sc_image_free(&img);
    sc_image_free(&resized);
    return st;
}

static size_t images_per_batch(const sc_extractor *x)
{
    return (size_t)(x->batch / x->per_image);
}

static void decode_batch(sc_extractor *x, long b, slot *s)
{
    size_t first = (size_t)b * images_per_batch(x);
    size_t last = first + images_per_batch(x) < x->n ? first + images_per_batch(x) : x->n;
    sc_error err = {0};
    s->status = SC_OK;
    for (size_t i = first; i < last && s->status == SC_OK; i++)
        s->status = stage_image(x, x->paths[i],
                                s->in + (i - first) * x->per_input * (size_t)x->per_image, &err);
    if (s->status != SC_OK)
        snprintf(s->err, sizeof s->err, "%s", err.msg);
}

static void *worker(void *arg)
{
    sc_extractor *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop && x->next_claim < x->n_batches) {
        long b = x->next_claim;
        slot *s = &x->slots[b % SLOTS];
        if (s->batch != -1) { /* the slot still holds an earlier batch */
            pthread_cond_wait(&x->cv, &x->mu);
            continue; /* another worker may have taken b meanwhile */
        }
        x->next_claim++;
        s->batch = b;
        s->ready = 0;
        pthread_mutex_unlock(&x->mu);
        decode_batch(x, b, s);
        pthread_mutex_lock(&x->mu);
        s->ready = 1;
        pthread_cond_broadcast(&x->cv);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ------------------------------------------------------------- device */

/* Uploads batch b (count network inputs), runs the net and starts reading
 * its features; nothing here waits. */
static sc_status enqueue_batch(sc_extractor *x, slot *s, int count, sc_error *err)
{
    sc_status st = sc_net_batch(x->net) == count ? SC_OK : sc_net_reshape(x->net, count, 0, 0);
    sc_blob_info in, out;
    if (st == SC_OK && (st = sc_net_blob(x->net, x->input, &in)) == SC_OK &&
        (st = sc_buffer_write_async(x->ctx, in.data, 0, in.count * sizeof(float), s->in,
                                    NULL)) == SC_OK &&
        (st = sc_net_forward(x->net)) == SC_OK &&
        (st = sc_net_blob(x->net, x->cfg.feature, &out)) == SC_OK)
        st = sc_buffer_read_async(x->ctx, out.data, 0, out.count * sizeof(float), s->out,
                                  &s->read_done);
    if (st != SC_OK)
        sc_fail(err, st, "%s", sc_ctx_message(x->ctx));
    return st;
}

/* Waits for batch b's features, copies them into rows, frees its slot. */
static sc_status finish_batch(sc_extractor *x, long b, float *rows, sc_error *err)
{
    slot *s = &x->slots[b % SLOTS];
    if (sc_event_wait(x->ctx, &s->read_done) != SC_OK)
        return sc_fail(err, SC_ERR_OPENCL, "%s", sc_ctx_message(x->ctx));
    size_t first = (size_t)b * images_per_batch(x);
    size_t last = first + images_per_batch(x) < x->n ? first + images_per_batch(x) : x->n;
    size_t row = sc_extractor_dim(x);
    memcpy(rows + first * row, s->out, (last - first) * row * sizeof(float));
    pthread_mutex_lock(&x->mu);
    s->batch = -1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    return SC_OK;
}

static slot *wait_decoded(sc_extractor *x, long b)
{
    slot *s = &x->slots[b % SLOTS];
    pthread_mutex_lock(&x->mu);
    while (!(s->batch == b && s->ready))
        pthread_cond_wait(&x->cv, &x->mu);
    pthread_mutex_unlock(&x->mu);
    return s;
}

static sc_status run_batches(sc_extractor *x, float *rows, sc_extractor_progress progress,
                             void *user, sc_error *err)
{
    sc_status st = SC_OK;
    for (long b = 0; b < x->n_batches && st == SC_OK; b++) {
        slot *s = wait_decoded(x, b);
        if (s->status != SC_OK) {
            st = sc_fail(err, s->status, "%s", s->err);
            break;
        }
        size_t first = (size_t)b * images_per_batch(x);
        size_t images = x->n - first < images_per_batch(x) ? x->n - first : images_per_batch(x);
        st = enqueue_batch(x, s, (int)images * x->per_image, err);
        if (st == SC_OK && b > 0)
            st = finish_batch(x, b - 1, rows, err);
        if (st == SC_OK && progress)
            progress(user, first, x->n);
    }
    if (st == SC_OK && x->n_batches > 0)
        st = finish_batch(x, x->n_batches - 1, rows, err);
    if (st == SC_OK && progress)
        progress(user, x->n, x->n);
    return st;
}

sc_status sc_extractor_run(sc_extractor *x, const char *const *paths, size_t n, float *rows,
                           sc_extractor_progress progress, void *user, sc_error *err)
{
    x->paths = paths;
    x->n = n;
    x->n_batches = (long)((n + images_per_batch(x) - 1) / images_per_batch(x));
    x->next_claim = 0;
    x->stop = 0;
    for (int i = 0; i < SLOTS; i++) {
        x->slots[i].batch = -1;
        x->slots[i].ready = 0;
    }
    int want = x->cfg.threads < 1 ? 1 : x->cfg.threads, started = 0;
    pthread_t threads[64];
    for (int i = 0; i < want && i < 64; i++)
        started += pthread_create(&threads[started], NULL, worker, x) == 0;
    sc_status st = started ? run_batches(x, rows, progress, user, err)
                           : sc_fail(err, SC_ERR_NOMEM, "cannot start decoding threads");
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < SLOTS; i++) /* a failed run may leave reads in flight */
        if (x->slots[i].read_done && sc_event_wait(x->ctx, &x->slots[i].read_done) != SC_OK &&
            st == SC_OK)
            st = sc_fail(err, SC_ERR_OPENCL, "%s", sc_ctx_message(x->ctx));
    return st;
}
