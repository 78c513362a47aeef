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

#include "image.h"
#include "sc_graph.h"
#include "verification.h"

typedef struct eval_args {
    const char *net, *weights, *pairs, *root, *ext, *feature, *device;
    int batch, rgb;
    float mean, scale;
} eval_args;

typedef struct image_ref {
    const char *name;
    int n;
} image_ref;

static void usage(FILE *f)
{
    fprintf(f, "usage: sphere-eval --net DEPLOY.prototxt --weights W.caffemodel --pairs pairs.txt\n"
               "                   --root DIR [--ext jpg] [--feature fc5] [--rgb] [--mean 127.5]\n"
               "                   [--scale 0.0078125] [--batch 32] [--device SEL]\n"
               "  Verification accuracy (LFW 10-fold protocol) of the net's feature blob on the\n"
               "  pairs file; images are DIR/<Name>/<Name>_NNNN.<ext>. Channel order is BGR as\n"
               "  Caffe's ImageData feeds training, unless --rgb.\n");
}

static int parse_args(int argc, char **argv, eval_args *a)
{
    *a = (eval_args){.ext = "jpg", .feature = "fc5", .batch = 32, .mean = 127.5f,
                     .scale = 0.0078125f};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(o, "--rgb")) {
            a->rgb = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "sphere-eval: %s needs a value\n", o);
            return 0;
        }
        i++;
        if (!strcmp(o, "--net")) a->net = v;
        else if (!strcmp(o, "--weights")) a->weights = v;
        else if (!strcmp(o, "--pairs")) a->pairs = v;
        else if (!strcmp(o, "--root")) a->root = v;
        else if (!strcmp(o, "--ext")) a->ext = v;
        else if (!strcmp(o, "--feature")) a->feature = v;
        else if (!strcmp(o, "--device")) a->device = v;
        else if (!strcmp(o, "--batch") && atoi(v) > 0) a->batch = atoi(v);
        else if (!strcmp(o, "--mean")) a->mean = (float)atof(v);
        else if (!strcmp(o, "--scale")) a->scale = (float)atof(v);
        else {
            fprintf(stderr, "sphere-eval: bad option '%s %s'\n", o, v);
            return 0;
        }
    }
    if (!a->net || !a->weights || !a->pairs || !a->root) {
        fprintf(stderr, "sphere-eval: --net, --weights, --pairs and --root are required\n");
        return 0;
    }
    return 1;
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

/* Features of every image: [f(x), f(mirror x)] (2 * dim floats each). */
static int extract(extractor *x, const image_ref *imgs, size_t n_imgs, float *features)
{
    const float mean[3] = {x->a->mean, x->a->mean, x->a->mean};
    int staged = 0;
    size_t done = 0; /* network outputs written so far (2 per image) */
    for (size_t i = 0; i < n_imgs; i++) {
        char path[4096];
        sc_error err = {0};
        sc_image img = {0};
        if (sc_lfw_image_path(x->a->root, imgs[i].name, imgs[i].n, x->a->ext, path, sizeof path,
                              &err) != SC_OK ||
            sc_image_load(path, 3, &img, &err) != SC_OK) {
            fprintf(stderr, "sphere-eval: %s\n", err.msg);
            return 0;
        }
        for (int flip = 0; flip < 2; flip++)
            sc_image_to_planar_float(&img, x->in + x->per_image * (size_t)staged++, mean,
                                     x->a->scale, flip, !x->a->rgb);
        sc_image_free(&img);
        if (staged == x->batch || i + 1 == n_imgs) {
            if (!run_batch(x, staged, features + done * x->dim))
                return 0;
            done += (size_t)staged;
            staged = 0;
        }
        if (isatty(STDOUT_FILENO) && (i % 64 == 0 || i + 1 == n_imgs))
            printf("\r  features: %zu / %zu images", i + 1, n_imgs);
    }
    if (isatty(STDOUT_FILENO))
        printf("\n");
    return 1;
}

static int make_extractor(extractor *x, const eval_args *a)
{
    x->a = a;
    x->batch = a->batch % 2 ? a->batch + 1 : a->batch; /* an image and its mirror together */
    sc_ctx_options co = {.selector = a->device};
    sc_error err = {0};
    if (sc_ctx_create(&co, &x->ctx, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return 0;
    }
    sc_net_options no = {.phase = SC_PHASE_TEST, .batch = x->batch};
    char missing[4096];
    sc_blob_info in, out;
    if (sc_net_create(x->ctx, a->net, &no, &x->net) != SC_OK ||
        sc_net_load_weights(x->net, a->weights, missing, sizeof missing) != SC_OK ||
        sc_net_blob(x->net, "data", &in) != SC_OK || sc_net_blob(x->net, a->feature, &out) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", sc_ctx_message(x->ctx));
        return 0;
    }
    if (missing[0])
        printf("warning: %s has no weights for: %s\n", a->weights, missing);
    x->per_image = in.count / (size_t)x->batch;
    x->dim = out.count / (size_t)x->batch;
    x->in = calloc(in.count, sizeof *x->in);
    x->out = malloc(out.count * sizeof *x->out);
    return x->in && x->out;
}

static void free_extractor(extractor *x)
{
    free(x->in);
    free(x->out);
    sc_net_destroy(x->net);
    sc_ctx_destroy(x->ctx);
}

static int evaluate(const eval_args *a, const sc_lfw_pairs *pairs, extractor *x)
{
    size_t n = pairs->count, n_imgs = 0;
    image_ref *imgs = malloc(2 * n * sizeof *imgs);
    size_t *i1 = malloc(n * sizeof *i1), *i2 = malloc(n * sizeof *i2);
    int *same = malloc(n * sizeof *same), *fold = malloc(n * sizeof *fold);
    float *feat = NULL, *f1 = NULL, *f2 = NULL;
    int ok = imgs && i1 && i2 && same && fold;
    for (size_t p = 0; ok && p < n; p++) {
        i1[p] = image_index(imgs, &n_imgs, pairs->items[p].name1, pairs->items[p].n1);
        i2[p] = image_index(imgs, &n_imgs, pairs->items[p].name2, pairs->items[p].n2);
        same[p] = pairs->items[p].same;
        fold[p] = pairs->items[p].fold;
    }
    size_t d2 = 2 * x->dim;
    ok = ok && (feat = malloc(n_imgs * d2 * sizeof *feat)) && (f1 = malloc(n * d2 * sizeof *f1)) &&
         (f2 = malloc(n * d2 * sizeof *f2));
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    ok = ok && extract(x, imgs, n_imgs, feat);
    for (size_t p = 0; ok && p < n; p++) {
        memcpy(f1 + p * d2, feat + i1[p] * d2, d2 * sizeof *f1);
        memcpy(f2 + p * d2, feat + i2[p] * d2, d2 * sizeof *f2);
    }
    sc_verify_result r;
    sc_error err = {0};
    if (ok && sc_verify_lfw(f1, f2, n, d2, same, fold, SC_VERIFY_STEPS, &r, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        ok = 0;
    }
    if (ok) {
        printf("%zu pairs, %zu images, %zu-d features (%s + mirror), %.1f s CPU\n", n, n_imgs, d2,
               a->feature, (double)clock() / CLOCKS_PER_SEC - t0);
        for (int k = 0; k < r.folds; k++)
            printf("fold %2d: accuracy %.2f%% (threshold %.4f)\n", k + 1, 100 * r.accuracy[k],
                   r.threshold[k]);
        printf("verification accuracy: %.2f%% +- %.2f%% (%d folds)\n", 100 * r.mean, 100 * r.std,
               r.folds);
    }
    free(imgs), free(i1), free(i2), free(same), free(fold), free(feat), free(f1), free(f2);
    return ok;
}

int main(int argc, char **argv)
{
    eval_args a;
    if (!parse_args(argc, argv, &a)) {
        usage(stderr);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sc_lfw_pairs pairs = {0};
    sc_error err = {0};
    if (sc_lfw_pairs_load(a.pairs, &pairs, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return 1;
    }
    extractor x = {0};
    int ok = make_extractor(&x, &a) && evaluate(&a, &pairs, &x);
    free_extractor(&x);
    sc_lfw_pairs_free(&pairs);
    return ok ? 0 : 1;
}
