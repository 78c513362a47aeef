/* Threaded mini-batch loader for Caffe ImageData lists: decodes, augments
 * (mirror, crop) and normalises images in worker threads that stay a few
 * batches ahead of the device.
 *
 * Determinism: the content of batch k depends only on (seed, k): sample
 * position p = k*batch + i belongs to epoch p / N and takes item
 * perm_epoch[p % N] (a seeded shuffle per epoch); its mirror and crop come
 * from a hash of (seed, p). Thread timing never changes a batch, and a
 * resumed run continues from the saved position.
 *
 * Every list entry is decoded once when the loader is created; missing or
 * corrupt images are reported (path and reason) and left out. An image whose
 * size does not fit the net (after the optional resize) is an error naming
 * it: the list and the net disagree, and so is a negative label (naming the
 * list line) unless it is the loss's ignore_label. A list with no usable
 * image is an error. */
#ifndef SC_LOADER_H
#define SC_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "sc_error.h"

typedef struct sc_loader_config {
    const char *list_path;   /* Caffe list: "relative/path label" per line */
    const char *root_folder; /* prefix of every path ("" or NULL: relative to the cwd) */
    int batch;
    int channels, height, width; /* the network input (after crop) */
    float mean[3];           /* subtracted per output channel */
    float scale;             /* applied after the mean */
    int mirror;              /* random left-right flips */
    int resize_h, resize_w;  /* > 0: every image is first resized (bilinear) to this, as
                                image_data_param new_height/new_width do; 0: none */
    int crop_size;           /* 0: none; else random crop (train) or centre crop */
    int train;               /* random crops; else centre crops */
    int shuffle;             /* a new permutation every epoch */
    int bgr;                 /* channel order of the blob: BGR as Caffe's OpenCV loader */
    uint64_t seed;
    int has_ignore_label;    /* the loss layer's ignore_label: the one negative label allowed */
    int ignore_label;
    int shard_index, shard_count; /* data-parallel: this rank's slice of every global batch
                                     (count 0 or 1: the whole batch is this process's) */
    int threads;             /* decode threads (>= 1) */
    int prefetch;            /* batches decoded ahead (>= 1) */
} sc_loader_config;

typedef struct sc_loader sc_loader;

/* Size of the first decodable image of a list (how Caffe sizes ImageData
 * blobs): the probe apps give the net builder (sc_net_options.image_size). */
sc_status sc_loader_probe_size(void *user, const char *list, const char *root, int *height,
                               int *width);

/* Progress of the validation pass (called from the creating thread). */
typedef void (*sc_loader_progress_fn)(void *user, size_t done, size_t total);

sc_status sc_loader_create(const sc_loader_config *cfg, sc_loader_progress_fn progress,
                           void *user, sc_loader **out, sc_error *err);
void sc_loader_destroy(sc_loader *l);

size_t sc_loader_size(const sc_loader *l);      /* usable images */
size_t sc_loader_listed(const sc_loader *l);    /* lines in the list */
size_t sc_loader_bad_count(const sc_loader *l);
const char *sc_loader_bad(const sc_loader *l, size_t i); /* "path: reason" */
int sc_loader_max_label(const sc_loader *l);

/* Copies the next batch: data is batch x C x H x W floats, labels batch
 * floats (Caffe's label blob). Blocks until the workers have it. */
sc_status sc_loader_next(sc_loader *l, float *data, float *labels, sc_error *err);

/* Position in the sample stream (global batches handed out x global batch
 * size): saved in snapshots; setting it restarts the workers from there. With
 * shards, rank r's batch k holds positions k*B + r*b .. k*B + (r+1)*b - 1 of
 * the global stream (b = batch, B = b * shard_count): together the ranks see
 * exactly what one process with batch B sees, and a run resumes with any
 * rank count that divides its global batch. */
uint64_t sc_loader_position(const sc_loader *l);
sc_status sc_loader_seek(sc_loader *l, uint64_t position, sc_error *err);

#endif
