/* sphere-eval: face verification accuracy of a deploy net on an LFW-style
 * pairs file with the SphereFace protocol: the feature of an image is
 * concat(f(x), f(mirror x)); 10 folds; per test fold the mean feature of the
 * other folds is subtracted, features are L2-normalised, pairs are scored by
 * cosine, and the threshold is chosen on the other 9 folds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"
#include "image_input.h"
#include "sc_graph.h"
#include "verification.h"

typedef struct eval_args {
    const char *net, *weights, *pairs, *root, *ext, *feature, *device;
    int batch, rgb, resize;
    float mean, scale;
} eval_args;

typedef struct image_ref {
    const char *name;
    int n;
} image_ref;

static const char k_description[] =
    "Verification accuracy (LFW 10-fold protocol) of the net's feature blob on the pairs file;\n"
    "images are DIR/<Name>/<Name>_NNNN.<ext>, fed with their mirror. Channel order is BGR, as\n"
    "Caffe's ImageData feeds training, unless --rgb. Every image is checked against the net's\n"
    "input before any work: a size that differs is an error, unless --resize converts it\n"
    "(bilinear, OpenCV's INTER_LINEAR geometry).\n";

/* Parses the command line into a; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, eval_args *a)
{
    *a = (eval_args){.ext = "jpg", .feature = "fc5", .batch = 32, .mean = 127.5f,
                     .scale = 0.0078125f};
    const sc_opt opts[] = {
        {SC_STR("--net", &a->net, "FILE", "deploy prototxt"), .required = 1},
        {SC_STR("--weights", &a->weights, "FILE", "caffemodel"), .required = 1},
        {SC_STR("--pairs", &a->pairs, "FILE", "LFW-style pairs file"), .required = 1},
        {SC_STR("--root", &a->root, "DIR", "image folder"), .required = 1},
        {SC_STR("--ext", &a->ext, "EXT", "image file extension")},
        {SC_STR("--feature", &a->feature, "BLOB", "feature blob")},
        {SC_FLAG("--rgb", &a->rgb, "feed R, G, B planes instead of B, G, R")},
        {SC_FLOAT("--mean", &a->mean, "X", "subtracted from every pixel", -255, 255)},
        {SC_FLOAT("--scale", &a->scale, "X", "applied after the mean", -1e6, 1e6)},
        {SC_INT("--batch", &a->batch, "N", "images per forward (rounded up to even)", 1, 65536)},
        {SC_FLAG("--resize", &a->resize, "resize images to the net's input")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-eval",
                        .synopsis = "--net DEPLOY --weights W --pairs FILE --root DIR [options]",
                        .description = k_description,
                        .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* Index of (name, n) among the distinct images, adding it when new. */
static size_t image_index(image_ref *imgs, size_t *count, const char *name, int n)
{
    for (size_t i = *count; i-- > 0;)
        if (imgs[i].n == n && !strcmp(imgs[i].name, name))
            return i;
    imgs[*count] = (image_ref){name, n};
    return (*count)++;
}

typedef struct extractor {
    const eval_args *a;
    sc_ctx *ctx;
    sc_net *net;
    sc_input_shape shape;
    size_t per_image, dim;
    int batch;
    float *in, *out;
} extractor;

/* Runs the net on `count` staged inputs and appends their features. */
static int run_batch(extractor *x, int count, float *dst)
{
    if (sc_net_write_blob(x->net, "data", x->in, x->per_image * (size_t)x->batch) != SC_OK ||
        sc_net_forward(x->net) != SC_OK ||
        sc_net_read_blob(x->net, x->a->feature, x->out, x->dim * (size_t)x->batch) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", sc_ctx_message(x->ctx));
        return 0;
    }
    memcpy(dst, x->out, x->dim * (size_t)count * sizeof *dst);
    return 1;
}

/* Decodes an image and writes it and its mirror as two network inputs,
 * resizing it first under --resize; any other size mismatch is an error. */
static int stage_image(extractor *x, const char *path, float *dst)
{
    sc_error err = {0};
    sc_image img = {0}, resized = {0};
    const sc_image *use = &img;
    const float m = x->a->mean;
    sc_pixel_norm norm = {{m, m, m}, x->a->scale, !x->a->rgb};
    sc_status st = sc_image_load(path, x->shape.c, &img, &err);
    if (st == SC_OK && x->a->resize && (img.w != x->shape.w || img.h != x->shape.h)) {
        st = sc_image_resize_bilinear(&img, x->shape.w, x->shape.h, &resized, &err);
        use = &resized;
    }
    for (int flip = 0; flip < 2 && st == SC_OK; flip++)
        st = sc_image_to_input(use, &x->shape, &norm, flip, dst + x->per_image * (size_t)flip,
                               path, &err);
    sc_image_free(&img);
    sc_image_free(&resized);
    if (st != SC_OK)
        fprintf(stderr, "sphere-eval: %s%s\n", err.msg,
                st == SC_ERR_SHAPE ? " (--resize converts images to the net's input size)" : "");
    return st == SC_OK;
}

/* A live count on a terminal; in a log, a line every 10%. */
static void report_progress(size_t done, size_t total)
{
    if (isatty(STDOUT_FILENO)) {
        if (done % 64 == 0 || done == total)
            printf("\r  features: %zu / %zu images%s", done, total, done == total ? "\n" : "");
        fflush(stdout);
    } else if (done * 10 / total != (done - 1) * 10 / total) {
        printf("  features: %zu / %zu images (%zu%%)\n", done, total, done * 100 / total);
    }
}

/* Features of every image: [f(x), f(mirror x)] (2 * dim floats each). */
static int extract(extractor *x, const image_ref *imgs, size_t n_imgs, float *features)
{
    int staged = 0;
    size_t done = 0; /* network outputs written so far (2 per image) */
    for (size_t i = 0; i < n_imgs; i++) {
        char path[4096];
        sc_error err = {0};
        if (sc_lfw_image_path(x->a->root, imgs[i].name, imgs[i].n, x->a->ext, path, sizeof path,
                              &err) != SC_OK) {
            fprintf(stderr, "sphere-eval: %s\n", err.msg);
            return 0;
        }
        if (!stage_image(x, path, x->in + x->per_image * (size_t)staged))
            return 0;
        staged += 2;
        if (staged == x->batch || i + 1 == n_imgs) {
            if (!run_batch(x, staged, features + done * x->dim))
                return 0;
            done += (size_t)staged;
            staged = 0;
        }
        report_progress(i + 1, n_imgs);
    }
    return 1;
}

/* Builds the net; returns SC_CLI_CONTINUE or the exit status of the failure. */
static int make_extractor(extractor *x, const eval_args *a)
{
    x->a = a;
    x->batch = a->batch % 2 ? a->batch + 1 : a->batch; /* an image and its mirror together */
    sc_ctx_options co = {.selector = a->device};
    sc_error err = {0};
    sc_status st = sc_ctx_create(&co, &x->ctx, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    sc_net_options no = {.phase = SC_PHASE_TEST, .batch = x->batch};
    char missing[4096];
    sc_blob_info in, out;
    if ((st = sc_net_create(x->ctx, a->net, &no, &x->net)) != SC_OK ||
        (st = sc_net_load_weights(x->net, a->weights, missing, sizeof missing)) != SC_OK ||
        (st = sc_net_blob(x->net, "data", &in)) != SC_OK ||
        (st = sc_net_blob(x->net, a->feature, &out)) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", sc_ctx_message(x->ctx));
        return sc_cli_input_status(st);
    }
    if (missing[0])
        printf("warning: %s has no weights for: %s\n", a->weights, missing);
    if (in.ndim != 4 || in.dims[0] != x->batch || (in.dims[1] != 1 && in.dims[1] != 3)) {
        fprintf(stderr, "sphere-eval: %s: the input blob 'data' must be N x C x H x W with 1 or 3 "
                        "channels\n", a->net);
        return SC_EXIT_USAGE;
    }
    x->shape = (sc_input_shape){in.dims[1], in.dims[2], in.dims[3]};
    x->per_image = in.count / (size_t)x->batch;
    x->dim = out.count / (size_t)x->batch;
    x->in = calloc(in.count, sizeof *x->in);
    x->out = malloc(out.count * sizeof *x->out);
    if (!x->in || !x->out) {
        fprintf(stderr, "sphere-eval: out of host memory\n");
        return SC_EXIT_FAILED;
    }
    return SC_CLI_CONTINUE;
}

static void free_extractor(extractor *x)
{
    free(x->in);
    free(x->out);
    sc_net_destroy(x->net);
    sc_ctx_destroy(x->ctx);
}

/* The distinct images of the pairs and, per pair, the index of each image. */
typedef struct pair_images {
    image_ref *imgs;
    size_t n_imgs;
    size_t *i1, *i2;
    int *same, *fold;
} pair_images;

static void free_pair_images(pair_images *pi)
{
    free(pi->imgs), free(pi->i1), free(pi->i2), free(pi->same), free(pi->fold);
}

static int index_pairs(const sc_lfw_pairs *pairs, pair_images *pi)
{
    size_t n = pairs->count;
    pi->imgs = malloc(2 * n * sizeof *pi->imgs);
    pi->i1 = malloc(n * sizeof *pi->i1);
    pi->i2 = malloc(n * sizeof *pi->i2);
    pi->same = malloc(n * sizeof *pi->same);
    pi->fold = malloc(n * sizeof *pi->fold);
    if (!pi->imgs || !pi->i1 || !pi->i2 || !pi->same || !pi->fold)
        return 0;
    for (size_t p = 0; p < n; p++) {
        pi->i1[p] = image_index(pi->imgs, &pi->n_imgs, pairs->items[p].name1, pairs->items[p].n1);
        pi->i2[p] = image_index(pi->imgs, &pi->n_imgs, pairs->items[p].name2, pairs->items[p].n2);
        pi->same[p] = pairs->items[p].same;
        pi->fold[p] = pairs->items[p].fold;
    }
    return 1;
}

/* Every image exists, has a readable header and, unless --resize, the net's
 * input size: checked from the headers before any work. */
static int check_images(const extractor *x, const pair_images *pi)
{
    size_t wrong = 0;
    char first[1024] = "";
    for (size_t i = 0; i < pi->n_imgs; i++) {
        char path[4096];
        sc_error err = {0};
        int w, h;
        sc_status st = sc_lfw_image_path(x->a->root, pi->imgs[i].name, pi->imgs[i].n, x->a->ext,
                                         path, sizeof path, &err);
        if (st == SC_OK)
            st = sc_image_probe(path, &w, &h, &err);
        if (st != SC_OK) {
            fprintf(stderr, "sphere-eval: %s\n", err.msg);
            return 0;
        }
        if (!x->a->resize && (w != x->shape.w || h != x->shape.h) && wrong++ == 0)
            snprintf(first, sizeof first, "%.900s is %dx%d", path, w, h);
    }
    if (wrong)
        fprintf(stderr,
                "sphere-eval: %zu of %zu images do not have the net's input size %dx%d (width x "
                "height): %s; --resize converts them\n",
                wrong, pi->n_imgs, x->shape.w, x->shape.h, first);
    return wrong == 0;
}

static void print_result(const eval_args *a, const sc_verify_result *r, size_t pairs, size_t imgs,
                         size_t dim, double cpu_s)
{
    printf("%zu pairs, %zu images, %zu-d features (%s + mirror), %.1f s CPU\n", pairs, imgs, dim,
           a->feature, cpu_s);
    for (int k = 0; k < r->folds; k++)
        printf("fold %2d: accuracy %.2f%% (threshold %.4f)\n", k + 1, 100 * r->accuracy[k],
               r->threshold[k]);
    printf("verification accuracy: %.2f%% +- %.2f%% (%d folds)\n", 100 * r->mean, 100 * r->std,
           r->folds);
}

/* Extracts the features and scores the pairs; 1 on success. */
static int evaluate(const eval_args *a, const pair_images *pi, size_t n, extractor *x)
{
    size_t d2 = 2 * x->dim;
    float *feat = malloc(pi->n_imgs * d2 * sizeof *feat);
    float *f1 = malloc(n * d2 * sizeof *f1), *f2 = malloc(n * d2 * sizeof *f2);
    int ok = feat && f1 && f2;
    if (!ok)
        fprintf(stderr, "sphere-eval: out of host memory for the features\n");
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    ok = ok && extract(x, pi->imgs, pi->n_imgs, feat);
    for (size_t p = 0; ok && p < n; p++) {
        memcpy(f1 + p * d2, feat + pi->i1[p] * d2, d2 * sizeof *f1);
        memcpy(f2 + p * d2, feat + pi->i2[p] * d2, d2 * sizeof *f2);
    }
    sc_verify_result r;
    sc_error err = {0};
    if (ok && sc_verify_lfw(f1, f2, n, d2, pi->same, pi->fold, SC_VERIFY_STEPS, &r, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        ok = 0;
    }
    if (ok)
        print_result(a, &r, n, pi->n_imgs, d2, (double)clock() / CLOCKS_PER_SEC - t0);
    free(feat), free(f1), free(f2);
    return ok;
}

int main(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sc_lfw_pairs pairs = {0};
    sc_error err = {0};
    sc_status st = sc_lfw_pairs_load(a.pairs, &pairs, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    extractor x = {0};
    pair_images pi = {0};
    rc = make_extractor(&x, &a);
    if (rc == SC_CLI_CONTINUE && !index_pairs(&pairs, &pi)) {
        fprintf(stderr, "sphere-eval: out of host memory\n");
        rc = SC_EXIT_FAILED;
    }
    if (rc == SC_CLI_CONTINUE && !check_images(&x, &pi))
        rc = SC_EXIT_USAGE;
    if (rc == SC_CLI_CONTINUE)
        rc = evaluate(&a, &pi, pairs.count, &x) ? SC_EXIT_OK : SC_EXIT_FAILED;
    free_pair_images(&pi);
    free_extractor(&x);
    sc_lfw_pairs_free(&pairs);
    return rc;
}
