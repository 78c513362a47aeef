/* Threaded mini-batch loader (see loader.h for the determinism rules). */
#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_input.h"
#include "image_list.h"
#include "sc_runtime.h"

/* Decoded images are kept in memory up to this many bytes (LFW-sized sets
 * fit; CASIA-sized ones are decoded again each epoch). */
#define CACHE_BUDGET ((size_t)1 << 30)

typedef struct item {
    char *path;
    int label;
    sc_image img; /* cached pixels, or px == NULL */
} item;

typedef struct slot {
    float *data, *labels;
    uint64_t batch; /* batch index held, UINT64_MAX: none */
    sc_status status;
    char err[512];
} slot;

typedef struct perm_cache {
    uint64_t epoch;
    size_t *perm;
} perm_cache;

struct sc_loader {
    sc_loader_config cfg;
    item *items;
    size_t n, listed;
    char **bad;
    size_t n_bad;
    int max_label;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;
    uint64_t base;          /* sample position of batch 0 */
    uint64_t next_produce;  /* next batch index a worker takes */
    uint64_t next_consume;  /* next batch index handed out */
    int stop;
    pthread_t *threads;
    int n_threads;
    perm_cache perms[2];
};

/* ------------------------------------------------------------- hashing */

static uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b)
{
    return sc_mix64(seed ^ sc_mix64(a * 0x9E3779B97F4A7C15ULL + sc_mix64(b + 0x632BE59BD9B4E019ULL)));
}

/* Seeded Fisher-Yates permutation of epoch e (identity without shuffle). */
static void make_perm(const sc_loader *l, uint64_t epoch, size_t *perm)
{
    for (size_t i = 0; i < l->n; i++)
        perm[i] = i;
    if (!l->cfg.shuffle)
        return;
    for (size_t i = l->n; i > 1; i--) {
        size_t j = (size_t)(hash3(l->cfg.seed, epoch, i) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Item index of sample position p; caller holds the mutex. */
static size_t item_at(sc_loader *l, uint64_t p)
{
    uint64_t epoch = p / l->n;
    perm_cache *c = &l->perms[epoch & 1];
    if (c->epoch != epoch) {
        make_perm(l, epoch, c->perm);
        c->epoch = epoch;
    }
    return c->perm[p % l->n];
}

/* ------------------------------------------------------------ sampling */

/* Decodes an item and applies the configured resize. */
static sc_status decode_item(const sc_loader_config *c, const item *it, sc_image *out,
                             sc_error *err)
{
    SC_TRY(sc_image_load(it->path, c->channels, out, err));
    if (c->resize_h <= 0 || (out->w == c->resize_w && out->h == c->resize_h))
        return SC_OK;
    sc_image resized;
    sc_status st = sc_image_resize_bilinear(out, c->resize_w, c->resize_h, &resized, err);
    sc_image_free(out);
    *out = resized;
    return st;
}

static sc_status get_image(const sc_loader *l, const item *it, sc_image *tmp, const sc_image **img,
                           sc_error *err)
{
    if (it->img.px) {
        *img = &it->img;
        return SC_OK;
    }
    SC_TRY(decode_item(&l->cfg, it, tmp, err));
    *img = tmp;
    return SC_OK;
}

static sc_status write_sample(const sc_loader *l, const item *it, uint64_t p, float *dst,
                              sc_error *err)
{
    const sc_loader_config *c = &l->cfg;
    sc_image tmp = {0};
    const sc_image *img;
    SC_TRY(get_image(l, it, &tmp, &img, err));
    int x0 = 0, y0 = 0;
    if (c->crop_size && img->w >= c->width && img->h >= c->height) {
        if (c->train) {
            x0 = (int)(hash3(c->seed, p, 1) % (uint64_t)(img->w - c->width + 1));
            y0 = (int)(hash3(c->seed, p, 2) % (uint64_t)(img->h - c->height + 1));
        } else {
            x0 = (img->w - c->width) / 2;
            y0 = (img->h - c->height) / 2;
        }
    }
    int mirror = c->mirror && (hash3(c->seed, p, 3) & 1);
    sc_input_shape shape = {c->channels, c->height, c->width};
    sc_pixel_norm norm = {{c->mean[0], c->mean[1], c->mean[2]}, c->scale, c->bgr};
    /* checked again here: an image not kept in the cache is decoded anew and
     * the file may have changed since validation */
    sc_status st = c->crop_size
                       ? sc_image_crop_to_input(img, x0, y0, &shape, &norm, mirror, dst, it->path,
                                                err)
                       : sc_image_to_input(img, &shape, &norm, mirror, dst, it->path, err);
    sc_image_free(&tmp);
    return st;
}

static uint64_t shards(const sc_loader *l)
{
    return l->cfg.shard_count > 1 ? (uint64_t)l->cfg.shard_count : 1;
}

static void produce(sc_loader *l, uint64_t k, slot *s)
{
    size_t per = (size_t)l->cfg.channels * l->cfg.height * l->cfg.width;
    uint64_t global = (uint64_t)l->cfg.batch * shards(l);
    uint64_t first = l->base + k * global + (uint64_t)l->cfg.shard_index * (uint64_t)l->cfg.batch;
    sc_error err = {0};
    s->status = SC_OK;
    for (int i = 0; i < l->cfg.batch && s->status == SC_OK; i++) {
        uint64_t p = first + (uint64_t)i;
        pthread_mutex_lock(&l->mu);
        const item *it = &l->items[item_at(l, p)];
        pthread_mutex_unlock(&l->mu);
        s->labels[i] = (float)it->label;
        s->status = write_sample(l, it, p, s->data + per * (size_t)i, &err);
    }
    if (s->status != SC_OK)
        snprintf(s->err, sizeof s->err, "%.500s", err.msg);
}

static void *worker(void *arg)
{
    sc_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        uint64_t k = l->next_produce;
        if (k >= l->next_consume + (uint64_t)l->cfg.prefetch) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        l->next_produce++;
        slot *s = &l->slots[k % (uint64_t)l->cfg.prefetch];
        pthread_mutex_unlock(&l->mu);
        produce(l, k, s);
        pthread_mutex_lock(&l->mu);
        s->batch = k;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void stop_workers(sc_loader *l)
{
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n_threads; i++)
        pthread_join(l->threads[i], NULL);
    l->n_threads = 0;
}

static sc_status start_workers(sc_loader *l, sc_error *err)
{
    l->stop = 0;
    l->next_produce = l->next_consume = 0;
    for (int i = 0; i < l->cfg.prefetch; i++)
        l->slots[i].batch = UINT64_MAX;
    for (int i = 0; i < l->cfg.threads; i++) {
        if (pthread_create(&l->threads[i], NULL, worker, l) != 0) {
            stop_workers(l);
            return sc_fail(err, SC_ERR_NOMEM, "cannot start loader thread %d", i);
        }
        l->n_threads++;
    }
    return SC_OK;
}

sc_status sc_loader_next(sc_loader *l, float *data, float *labels, sc_error *err)
{
    pthread_mutex_lock(&l->mu);
    uint64_t k = l->next_consume;
    slot *s = &l->slots[k % (uint64_t)l->cfg.prefetch];
    while (s->batch != k)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    size_t per = (size_t)l->cfg.channels * l->cfg.height * l->cfg.width;
    sc_status st = s->status;
    if (st == SC_OK) {
        memcpy(data, s->data, per * (size_t)l->cfg.batch * sizeof *data);
        memcpy(labels, s->labels, (size_t)l->cfg.batch * sizeof *labels);
    } else {
        sc_fail(err, st, "%s", s->err);
    }
    pthread_mutex_lock(&l->mu);
    l->next_consume++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return st;
}

uint64_t sc_loader_position(const sc_loader *l)
{
    return l->base + l->next_consume * (uint64_t)l->cfg.batch * shards(l);
}

sc_status sc_loader_seek(sc_loader *l, uint64_t position, sc_error *err)
{
    stop_workers(l);
    l->base = position;
    return start_workers(l, err);
}

/* ---------------------------------------------------------- validation */

typedef struct check_job {
    sc_loader *l;
    char **reason; /* per listed item: NULL when usable */
    char *size_problem; /* the first image whose size does not fit the net */
    size_t n_size_problems;
    size_t next;
    size_t cached_bytes;
    pthread_mutex_t mu;
} check_job;

static char *dup_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b);
    return s;
}

/* Decodes item i; on success maybe keeps the pixels in the cache. An image
 * that does not fit the net is not skipped but counted: the net and the list
 * disagree, which is an error (Caffe would fail on it too). */
static void check_item(check_job *j, size_t i)
{
    sc_loader *l = j->l;
    item *it = &l->items[i];
    sc_image img = {0};
    sc_error e = {0};
    char size_msg[160];
    if (decode_item(&l->cfg, it, &img, &e) != SC_OK) {
        j->reason[i] = dup_printf("%s%s", e.msg, "");
        return;
    }
    int fits = l->cfg.crop_size ? (img.w >= l->cfg.width && img.h >= l->cfg.height)
                                : (img.w == l->cfg.width && img.h == l->cfg.height);
    if (!fits) {
        snprintf(size_msg, sizeof size_msg, ": image is %dx%d, the net's input is %s%dx%d",
                 img.w, img.h, l->cfg.crop_size ? "a crop of " : "", l->cfg.width,
                 l->cfg.height);
        char *msg = dup_printf("%s%s", it->path, size_msg);
        pthread_mutex_lock(&j->mu);
        j->n_size_problems++;
        if (!j->size_problem || strcmp(msg ? msg : "", j->size_problem) < 0) {
            free(j->size_problem); /* the smallest message: the same whatever the threads do */
            j->size_problem = msg;
            msg = NULL;
        }
        pthread_mutex_unlock(&j->mu);
        free(msg);
        sc_image_free(&img);
        return;
    }
    size_t bytes = (size_t)img.w * img.h * img.c;
    pthread_mutex_lock(&j->mu);
    int keep = j->cached_bytes + bytes <= CACHE_BUDGET;
    if (keep)
        j->cached_bytes += bytes;
    pthread_mutex_unlock(&j->mu);
    if (keep)
        it->img = img;
    else
        sc_image_free(&img);
}

static void *check_worker(void *arg)
{
    check_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->l->n)
            return NULL;
        check_item(j, i);
    }
}

/* Runs the check on every listed item with the workers plus this thread. */
static sc_status check_all(sc_loader *l, char **reason, sc_loader_progress_fn progress, void *user,
                           sc_error *err)
{
    check_job j = {.l = l, .reason = reason};
    pthread_mutex_init(&j.mu, NULL);
    pthread_t *t = calloc((size_t)l->cfg.threads, sizeof *t);
    int started = 0;
    for (int i = 0; t && i < l->cfg.threads - 1; i++)
        started += pthread_create(&t[started], NULL, check_worker, &j) == 0;
    for (;;) {
        pthread_mutex_lock(&j.mu);
        size_t i = j.next++;
        pthread_mutex_unlock(&j.mu);
        if (i >= l->n)
            break;
        check_item(&j, i);
        if (progress && (i % 256 == 0))
            progress(user, i, l->n);
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (progress)
        progress(user, l->n, l->n);
    free(t);
    pthread_mutex_destroy(&j.mu);
    sc_status st = SC_OK;
    if (j.n_size_problems)
        st = sc_fail(err, SC_ERR_SHAPE,
                     "%zu image%s of %s do%s not fit the net's input, e.g. %s (resize them, set "
                     "new_height/new_width in image_data_param, or pass --resize)",
                     j.n_size_problems, j.n_size_problems == 1 ? "" : "s", l->cfg.list_path,
                     j.n_size_problems == 1 ? "es" : "", j.size_problem ? j.size_problem : "?");
    free(j.size_problem);
    return st;
}

/* Moves bad items to the bad list, keeping list order for the good ones. */
static sc_status compact(sc_loader *l, char **reason, sc_error *err)
{
    l->bad = calloc(l->n + 1, sizeof *l->bad);
    if (!l->bad)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    size_t good = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (reason[i]) {
            l->bad[l->n_bad++] = reason[i];
            free(l->items[i].path);
            continue;
        }
        l->items[good++] = l->items[i];
        if (l->items[good - 1].label > l->max_label)
            l->max_label = l->items[good - 1].label;
    }
    l->n = good;
    return SC_OK;
}

/* Labels index the classifier's outputs from 0; Caffe would silently drop a
 * negative one from the loss (only its ignore_label is meant that way). */
static sc_status check_label(const sc_loader_config *c, const sc_image_list *list,
                             const sc_image_list_entry *e, sc_error *err)
{
    if (e->label >= 0 || (c->has_ignore_label && e->label == c->ignore_label))
        return SC_OK;
    return sc_fail(err, SC_ERR_PARSE,
                   "%s:%d: label %d is negative: labels number the classes from 0 (a loss layer's "
                   "ignore_label is the only negative label allowed%s)",
                   list->file, e->line, e->label, c->has_ignore_label ? ", and it is another" : "");
}

static sc_status load_list(sc_loader *l, sc_error *err)
{
    sc_image_list list = {0};
    SC_TRY(sc_image_list_load(l->cfg.list_path, &list, err));
    for (size_t i = 0; i < list.count; i++) {
        sc_status st = check_label(&l->cfg, &list, &list.items[i], err);
        if (st != SC_OK) {
            sc_image_list_free(&list);
            return st;
        }
    }
    l->items = calloc(list.count + 1, sizeof *l->items);
    if (!l->items) {
        sc_image_list_free(&list);
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    }
    sc_status st = SC_OK;
    for (size_t i = 0; i < list.count && st == SC_OK; i++) {
        char path[4096];
        st = sc_path_join(l->cfg.root_folder ? l->cfg.root_folder : "", list.items[i].path, path,
                          sizeof path, err);
        l->items[i].path = st == SC_OK ? strdup(path) : NULL;
        l->items[i].label = list.items[i].label;
        if (st == SC_OK && !l->items[i].path)
            st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        l->n = i + 1;
    }
    l->listed = list.count;
    sc_image_list_free(&list);
    return st;
}

static sc_status check_config(const sc_loader_config *c, sc_error *err)
{
    if (c->batch < 1 || c->height < 1 || c->width < 1 || (c->channels != 1 && c->channels != 3))
        return sc_fail(err, SC_ERR_ARG, "loader: bad shape batch %d, %dx%dx%d", c->batch,
                       c->channels, c->height, c->width);
    if ((c->resize_h > 0) != (c->resize_w > 0) || c->resize_h < 0 || c->resize_w < 0 ||
        c->resize_h > SC_IMAGE_MAX_DIM || c->resize_w > SC_IMAGE_MAX_DIM)
        return sc_fail(err, SC_ERR_ARG, "loader: bad resize %dx%d (both or neither, 1..%d)",
                       c->resize_w, c->resize_h, SC_IMAGE_MAX_DIM);
    if (c->shard_count > 1 && (c->shard_index < 0 || c->shard_index >= c->shard_count))
        return sc_fail(err, SC_ERR_ARG, "loader: shard %d of %d", c->shard_index, c->shard_count);
    if (c->threads < 1 || c->prefetch < 1)
        return sc_fail(err, SC_ERR_ARG, "loader: threads and prefetch must be >= 1");
    return SC_OK;
}

static sc_status alloc_runtime(sc_loader *l, sc_error *err)
{
    size_t per = (size_t)l->cfg.channels * l->cfg.height * l->cfg.width;
    l->slots = calloc((size_t)l->cfg.prefetch, sizeof *l->slots);
    l->threads = calloc((size_t)l->cfg.threads, sizeof *l->threads);
    l->perms[0].perm = malloc(l->n * sizeof(size_t));
    l->perms[1].perm = malloc(l->n * sizeof(size_t));
    if (!l->slots || !l->threads || !l->perms[0].perm || !l->perms[1].perm)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    l->perms[0].epoch = l->perms[1].epoch = UINT64_MAX;
    for (int i = 0; i < l->cfg.prefetch; i++) {
        l->slots[i].data = malloc(per * (size_t)l->cfg.batch * sizeof(float));
        l->slots[i].labels = malloc((size_t)l->cfg.batch * sizeof(float));
        if (!l->slots[i].data || !l->slots[i].labels)
            return sc_fail(err, SC_ERR_NOMEM, "out of host memory for %d prefetched batches",
                           l->cfg.prefetch);
    }
    return SC_OK;
}

static sc_status validate(sc_loader *l, sc_loader_progress_fn progress, void *user, sc_error *err)
{
    char **reason = calloc(l->n + 1, sizeof *reason);
    if (!reason)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    sc_status st = check_all(l, reason, progress, user, err);
    if (st != SC_OK) {
        for (size_t i = 0; i < l->n; i++)
            free(reason[i]);
        free(reason);
        return st;
    }
    st = compact(l, reason, err);
    free(reason);
    SC_TRY(st);
    if (l->n == 0)
        return sc_fail(err, SC_ERR_IO, "%s: no usable image among its %zu entries%s%s",
                       l->cfg.list_path, l->listed, l->n_bad ? " (first problem: " : "",
                       l->n_bad ? l->bad[0] : "");
    return SC_OK;
}

sc_status sc_loader_create(const sc_loader_config *cfg, sc_loader_progress_fn progress,
                           void *user, sc_loader **out, sc_error *err)
{
    *out = NULL;
    SC_TRY(check_config(cfg, err));
    sc_loader *l = calloc(1, sizeof *l);
    if (!l)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    l->cfg = *cfg;
    l->max_label = -1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    sc_status st = load_list(l, err);
    if (st == SC_OK && l->n == 0)
        st = sc_fail(err, SC_ERR_IO, "%s: the image list is empty", cfg->list_path);
    if (st == SC_OK)
        st = validate(l, progress, user, err);
    if (st == SC_OK)
        st = alloc_runtime(l, err);
    if (st == SC_OK)
        st = start_workers(l, err);
    if (st != SC_OK) {
        sc_loader_destroy(l);
        return st;
    }
    *out = l;
    return SC_OK;
}

void sc_loader_destroy(sc_loader *l)
{
    if (!l)
        return;
    stop_workers(l);
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        sc_image_free(&l->items[i].img);
    }
    for (size_t i = 0; i < l->n_bad; i++)
        free(l->bad[i]);
    for (int i = 0; l->slots && i < l->cfg.prefetch; i++) {
        free(l->slots[i].data);
        free(l->slots[i].labels);
    }
    free(l->slots);
    free(l->threads);
    free(l->perms[0].perm);
    free(l->perms[1].perm);
    free(l->items);
    free(l->bad);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

size_t sc_loader_size(const sc_loader *l) { return l->n; }
size_t sc_loader_listed(const sc_loader *l) { return l->listed; }
size_t sc_loader_bad_count(const sc_loader *l) { return l->n_bad; }
const char *sc_loader_bad(const sc_loader *l, size_t i) { return i < l->n_bad ? l->bad[i] : NULL; }
int sc_loader_max_label(const sc_loader *l) { return l->max_label; }

sc_status sc_loader_probe_size(void *user, const char *list_path, const char *root, int *height,
                               int *width)
{
    (void)user;
    sc_image_list list = {0};
    sc_error err = {0};
    sc_status st = sc_image_list_load(list_path, &list, &err);
    for (size_t i = 0; st == SC_OK && i < list.count && i < 16; i++) {
        char path[4096];
        sc_image img = {0};
        if (sc_path_join(root ? root : "", list.items[i].path, path, sizeof path, &err) != SC_OK ||
            sc_image_load(path, 0, &img, &err) != SC_OK)
            continue; /* a bad first entry is reported by the loader later */
        *height = img.h;
        *width = img.w;
        sc_image_free(&img);
        sc_image_list_free(&list);
        return SC_OK;
    }
    sc_image_list_free(&list);
    return st == SC_OK ? SC_ERR_IO : st;
}
