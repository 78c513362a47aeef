/* Face features from a deploy net, for sphere-eval, sphere-extract and
 * sphere-identify: images decoded by worker threads ahead of the device,
 * uploaded and read back without blocking, one wait per batch.
 *
 * The input blob is the net's first 4-D input (not a fixed name); every
 * image is checked against it (channels are converted, a different size is
 * an error unless resize is set). A feature row is f(x), or concat(f(x),
 * f(mirror x)) with flip, as the SphereFace protocol uses. */
#ifndef SC_EXTRACTOR_H
#define SC_EXTRACTOR_H

#include <stddef.h>

#include "cli.h"
#include "sc_error.h"

typedef struct sc_extractor_config {
    const char *net, *weights; /* deploy prototxt and caffemodel */
    const char *feature;       /* output blob */
    const char *device;        /* selector (NULL: default) */
    int batch;                 /* network inputs per forward (rounded up to even with flip) */
    int rgb;                   /* feed R, G, B planes (else B, G, R as Caffe's ImageData) */
    float mean, scale;         /* (p - mean) * scale */
    int resize;                /* resize images that do not fit (else an error) */
    int flip;                  /* append the mirrored image's features */
    int threads;               /* decode threads (>= 1) */
} sc_extractor_config;

/* The command-line rows every feature app shares (cli.h tables), filling a
 * config's input fields. */
#define SC_EXTRACTOR_OPTIONS(cfg)                                                                 \
    {SC_FLAG("--rgb", &(cfg)->rgb, "feed R, G, B planes instead of B, G, R")},                    \
        {SC_FLOAT("--mean", &(cfg)->mean, "X", "subtracted from every pixel", -255, 255)},       \
        {SC_FLOAT("--scale", &(cfg)->scale, "X", "applied after the mean", -1e6, 1e6)},          \
        {SC_FLAG("--resize", &(cfg)->resize, "resize images to the net's input (bilinear)")},   \
        {SC_INT("--batch", &(cfg)->batch, "N", "network inputs per forward", 1, 65536)},          \
        {SC_INT("--threads", &(cfg)->threads, "N", "image decoding threads", 1, 64)},             \
        {SC_DEVICE_OPT(&(cfg)->device)}

/* The defaults those rows show: BGR, (p - 127.5) / 128, batch 32, 2 threads. */
sc_extractor_config sc_extractor_defaults(void);

typedef struct sc_extractor sc_extractor;

/* Builds the net on the device; SC_ERR_* as the graph reports them (the
 * message is in err). Prints nothing. */
sc_status sc_extractor_create(const sc_extractor_config *cfg, sc_extractor **out, sc_error *err);
void sc_extractor_destroy(sc_extractor *x);

size_t sc_extractor_dim(const sc_extractor *x); /* floats per feature row */
/* The net's input: channels, height, width; and its name. */
void sc_extractor_input(const sc_extractor *x, int *c, int *h, int *w, const char **name);
/* Missing weights the caffemodel lacked, "" when none (a warning for the app). */
const char *sc_extractor_missing(const sc_extractor *x);

/* Checks every image's header (exists, decodable header, and the net's
 * size unless resize): the first problem in err, the count of size
 * mismatches in *wrong_size. Cheap: no pixel is decoded. */
sc_status sc_extractor_check(const sc_extractor *x, const char *const *paths, size_t n,
                             size_t *wrong_size, sc_error *err);

typedef void (*sc_extractor_progress)(void *user, size_t done, size_t total);

/* Features of n images into rows (n * dim floats), in order. */
sc_status sc_extractor_run(sc_extractor *x, const char *const *paths, size_t n, float *rows,
                           sc_extractor_progress progress, void *user, sc_error *err);

#endif
