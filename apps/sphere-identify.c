/* sphere-identify: open-set identification, the seed's video demo on
 * photos. A gallery folder holds one sub-folder per identity (its name) with
 * one or more aligned photos; each probe is compared by cosine with every
 * gallery photo (features of the photo and its mirror, concatenated), and
 * the best identity is printed with its score, or "unknown" below the
 * threshold. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "extractor.h"
#include "sc_runtime.h"

typedef struct identify_args {
    const char *net, *weights, *gallery, *probe, *blob, *device;
    float threshold, mean, scale;
    int rgb, resize, batch, threads;
} identify_args;

static const char k_description[] =
    "Open-set identification: --gallery holds one folder per identity (the folder name is the\n"
    "identity) with one or more face crops; each --probe image (a file, or every image of a\n"
    "folder, sorted) is compared by cosine with every gallery crop (features of the crop and\n"
    "its mirror). Prints \"probe identity score\" for the best identity, or \"probe unknown\n"
    "score\" when the best score is below --threshold. Crops must have the net's input size\n"
    "unless --resize.\n";

static int parse_args(int argc, char **argv, identify_args *a)
{
    *a = (identify_args){.blob = "fc5", .threshold = 0.4f, .mean = 127.5f, .scale = 0.0078125f,
                         .batch = 32, .threads = 2};
    const sc_opt opts[] = {
        {SC_STR("--net", &a->net, "FILE", "deploy prototxt"), .required = 1},
        {SC_STR("--weights", &a->weights, "FILE", "caffemodel"), .required = 1},
        {SC_STR("--gallery", &a->gallery, "DIR", "one folder of crops per identity"),
         .required = 1},
        {SC_STR("--probe", &a->probe, "PATH", "an image, or a folder of images"), .required = 1},
        {SC_FLOAT("--threshold", &a->threshold, "T", "cosine below which a probe is unknown",
                  -1, 1)},
        {SC_STR("--blob", &a->blob, "NAME", "feature blob")},
        {SC_FLAG("--rgb", &a->rgb, "feed R, G, B planes instead of B, G, R")},
        {SC_FLOAT("--mean", &a->mean, "X", "subtracted from every pixel", -255, 255)},
        {SC_FLOAT("--scale", &a->scale, "X", "applied after the mean", -1e6, 1e6)},
        {SC_FLAG("--resize", &a->resize, "resize images to the net's input")},
        {SC_INT("--batch", &a->batch, "N", "network inputs per forward", 1, 65536)},
        {SC_INT("--threads", &a->threads, "N", "image decoding threads", 1, 64)},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-identify",
                        .synopsis = "--net DEPLOY --weights W --gallery DIR --probe PATH [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* ----------------------------------------------------------- folders */

typedef struct photos {
    char **path;   /* full paths */
    int *who;      /* gallery: identity index */
    size_t n, cap;
    char **names;  /* gallery: identity names */
    size_t n_names, cap_names;
} photos;

static void photos_free(photos *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->path[i]);
    for (size_t i = 0; i < p->n_names; i++)
        free(p->names[i]);
    free(p->path), free(p->who), free(p->names);
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".jpg") || !strcmp(dot, ".jpeg") || !strcmp(dot, ".png") ||
                   !strcmp(dot, ".pgm") || !strcmp(dot, ".ppm") || !strcmp(dot, ".JPG"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entries of a folder that pass keep(). */
static sc_status list_dir(const char *dir, int want_dirs, char ***out, size_t *n, sc_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sc_fail(err, SC_ERR_IO, "%s: cannot open the folder", dir);
    size_t cap = 0;
    struct dirent *e;
    sc_status st = SC_OK;
    while (st == SC_OK && (e = readdir(d))) {
        char full[8192];
        struct stat s;
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(full, &s) != 0 ||
            (want_dirs ? !S_ISDIR(s.st_mode) : !(S_ISREG(s.st_mode) && is_image_name(e->d_name))))
            continue;
        if (!sc_grow((void **)out, &cap, *n + 1, sizeof **out) ||
            !((*out)[*n] = strdup(e->d_name)))
            st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        else
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_str);
    return st;
}

static sc_status add_photo(photos *p, const char *dir, const char *file, int who, sc_error *err)
{
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", dir, file);
    if (!sc_grow((void **)&p->path, &p->cap, p->n + 1, sizeof *p->path) ||
        !(p->who = realloc(p->who, p->cap * sizeof *p->who)) || !(p->path[p->n] = strdup(full)))
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    p->who[p->n++] = who;
    return SC_OK;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static sc_status load_gallery(const char *dir, photos *g, sc_error *err)
{
    char **people = NULL;
    size_t n_people = 0;
    SC_TRY(list_dir(dir, 1, &people, &n_people, err));
    sc_status st = SC_OK;
    for (size_t i = 0; i < n_people && st == SC_OK; i++) {
        char sub[8192], **files = NULL;
        size_t n_files = 0;
        snprintf(sub, sizeof sub, "%s/%s", dir, people[i]);
        st = list_dir(sub, 0, &files, &n_files, err);
        if (st == SC_OK && n_files > 0) {
            if (!sc_grow((void **)&g->names, &g->cap_names, g->n_names + 1, sizeof *g->names) ||
                !(g->names[g->n_names] = strdup(people[i])))
                st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
            else
                g->n_names++;
        }
        for (size_t f = 0; f < n_files && st == SC_OK; f++)
            st = add_photo(g, sub, files[f], (int)g->n_names - 1, err);
        free_names(files, n_files);
    }
    free_names(people, n_people);
    if (st == SC_OK && g->n_names == 0)
        st = sc_fail(err, SC_ERR_IO, "%s: no identity folder with an image in it", dir);
    return st;
}

static sc_status load_probes(const char *path, photos *p, sc_error *err)
{
    struct stat s;
    if (stat(path, &s) != 0)
        return sc_fail(err, SC_ERR_IO, "%s: no such file or folder", path);
    if (!S_ISDIR(s.st_mode)) {
        if (!sc_grow((void **)&p->path, &p->cap, 1, sizeof *p->path) ||
            !(p->path[0] = strdup(path)))
            return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        p->n = 1;
        return SC_OK;
    }
    char **files = NULL;
    size_t n = 0;
    sc_status st = list_dir(path, 0, &files, &n, err);
    for (size_t i = 0; i < n && st == SC_OK; i++)
        st = add_photo(p, path, files[i], -1, err);
    free_names(files, n);
    if (st == SC_OK && p->n == 0)
        st = sc_fail(err, SC_ERR_IO, "%s: no image in the folder", path);
    return st;
}

/* --------------------------------------------------------- matching */

static void normalise(float *rows, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < dim; k++)
            s += (double)rows[i * dim + k] * rows[i * dim + k];
        double inv = s > 0 ? 1.0 / sqrt(s) : 0.0;
        for (size_t k = 0; k < dim; k++)
            rows[i * dim + k] = (float)(rows[i * dim + k] * inv);
    }
}

/* Best identity of each probe (the best cosine over that identity's crops). */
static void report(const identify_args *a, const photos *g, const float *gf, const photos *p,
                   const float *pf, size_t dim)
{
    size_t unknown = 0;
    for (size_t i = 0; i < p->n; i++) {
        double best = -2;
        int who = -1;
        for (size_t j = 0; j < g->n; j++) {
            double c = 0;
            for (size_t k = 0; k < dim; k++)
                c += (double)pf[i * dim + k] * gf[j * dim + k];
            if (c > best) {
                best = c;
                who = g->who[j];
            }
        }
        int known = best >= a->threshold;
        unknown += !known;
        printf("%s %s %.4f\n", p->path[i], known ? g->names[who] : "unknown", best);
    }
    fprintf(stderr, "sphere-identify: %zu probes, %zu identities (%zu gallery crops), %zu "
                    "unknown at threshold %.3f\n",
            p->n, g->n_names, g->n, unknown, a->threshold);
}

static sc_status features(sc_extractor *x, const photos *p, float **rows, sc_error *err)
{
    size_t wrong = 0, dim = sc_extractor_dim(x);
    *rows = malloc(p->n * dim * sizeof **rows);
    if (!*rows)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    SC_TRY(sc_extractor_check(x, (const char *const *)p->path, p->n, &wrong, err));
    SC_TRY(sc_extractor_run(x, (const char *const *)p->path, p->n, *rows, NULL, NULL, err));
    normalise(*rows, p->n, dim);
    return SC_OK;
}

int main(int argc, char **argv)
{
    identify_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    photos g = {0}, p = {0};
    sc_error err = {0};
    sc_extractor *x = NULL;
    sc_extractor_config c = {.net = a.net, .weights = a.weights, .feature = a.blob,
                             .device = a.device, .batch = a.batch, .rgb = a.rgb, .mean = a.mean,
                             .scale = a.scale, .resize = a.resize, .flip = 1,
                             .threads = a.threads};
    sc_status st = load_gallery(a.gallery, &g, &err);
    if (st == SC_OK)
        st = load_probes(a.probe, &p, &err);
    if (st == SC_OK)
        st = sc_extractor_create(&c, &x, &err);
    rc = st == SC_OK ? SC_CLI_CONTINUE : sc_cli_input_status(st);
    float *gf = NULL, *pf = NULL;
    if (rc == SC_CLI_CONTINUE && ((st = features(x, &g, &gf, &err)) != SC_OK ||
                                  (st = features(x, &p, &pf, &err)) != SC_OK))
        rc = st == SC_ERR_SHAPE || st == SC_ERR_IO || st == SC_ERR_FORMAT ? SC_EXIT_USAGE
                                                                          : SC_EXIT_FAILED;
    if (rc == SC_CLI_CONTINUE) {
        report(&a, &g, gf, &p, pf, sc_extractor_dim(x));
        rc = SC_EXIT_OK;
    } else {
        fprintf(stderr, "sphere-identify: %s\n", err.msg);
    }
    free(gf);
    free(pf);
    sc_extractor_destroy(x);
    photos_free(&g);
    photos_free(&p);
    return rc;
}
