/* sphere-identify: open-set identification, the seed's video demo on
 * photos. A gallery folder holds one sub-folder per identity (its name) with
 * one or more aligned photos; each probe is compared by cosine with every
 * gallery photo (features of the photo and its mirror, concatenated), and
 * the best identity is printed with its score, or "unknown" below the
 * threshold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "extractor.h"
#include "photo_list.h"
#include "sc_runtime.h"

typedef struct identify_args {
    const char *gallery, *probe;
    float threshold;
    sc_extractor_config x; /* net, weights, feature blob, input options */
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
    *a = (identify_args){.threshold = 0.4f, .x = sc_extractor_defaults()};
    a->x.flip = 1; /* features of the crop and its mirror */
    const sc_opt opts[] = {
        {SC_STR("--net", &a->x.net, "FILE", "deploy prototxt"), .required = 1},
        {SC_STR("--weights", &a->x.weights, "FILE", "caffemodel"), .required = 1},
        {SC_STR("--gallery", &a->gallery, "DIR", "one folder of crops per identity"),
         .required = 1},
        {SC_STR("--probe", &a->probe, "PATH", "an image, or a folder of images"), .required = 1},
        {SC_FLOAT("--threshold", &a->threshold, "T", "cosine below which a probe is unknown",
                  -1, 1)},
        {SC_STR("--blob", &a->x.feature, "NAME", "feature blob")},
        SC_EXTRACTOR_OPTIONS(&a->x),
    };
    const sc_cli cli = {.prog = "sphere-identify",
                        .synopsis = "--net DEPLOY --weights W --gallery DIR --probe PATH [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* ----------------------------------------------------------- folders */

typedef struct photos {
    sc_photo_list list; /* path: to open; name: relative to the gallery or probe folder */
    int *who;           /* gallery: identity index of each photo */
    char **names;       /* gallery: identity names (the first folder of each path) */
    size_t n_names;
} photos;

static void photos_free(photos *p)
{
    for (size_t i = 0; i < p->n_names; i++)
        free(p->names[i]);
    free(p->names);
    free(p->who);
    sc_photo_list_free(&p->list);
}

/* Every crop below dir; its identity is the folder directly below dir. */
static sc_status load_gallery(const char *dir, photos *g, sc_error *err)
{
    SC_TRY(sc_photo_list_scan(dir, &g->list, err));
    size_t n = g->list.count;
    g->who = calloc(n + 1, sizeof *g->who);
    g->names = calloc(n + 1, sizeof *g->names);
    if (!g->who || !g->names)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = g->list.items[i].name, *slash = strchr(name, '/');
        if (!slash)
            return sc_fail(err, SC_ERR_IO, "%s: %s is not inside an identity folder", dir, name);
        size_t len = (size_t)(slash - name);
        /* the scan is sorted: one identity's crops are adjacent */
        if (g->n_names == 0 || strncmp(g->names[g->n_names - 1], name, len) ||
            g->names[g->n_names - 1][len]) {
            g->names[g->n_names] = strndup(name, len);
            if (!g->names[g->n_names++])
                return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        }
        g->who[i] = (int)g->n_names - 1;
    }
    if (n == 0)
        return sc_fail(err, SC_ERR_IO, "%s: no identity folder with an image in it", dir);
    return SC_OK;
}

static sc_status load_probes(const char *path, photos *p, sc_error *err)
{
    struct stat s;
    if (stat(path, &s) != 0)
        return sc_fail(err, SC_ERR_IO, "%s: no such file or folder", path);
    if (!S_ISDIR(s.st_mode))
        return sc_photo_list_add(&p->list, path, path, err);
    SC_TRY(sc_photo_list_scan(path, &p->list, err));
    return p->list.count ? SC_OK : sc_fail(err, SC_ERR_IO, "%s: no image in the folder", path);
}

/* The paths to open, for the extractor. */
static const char **paths_of(const photos *p)
{
    const char **v = calloc(p->list.count + 1, sizeof *v);
    for (size_t i = 0; v && i < p->list.count; i++)
        v[i] = p->list.items[i].path;
    return v;
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
    for (size_t i = 0; i < p->list.count; i++) {
        double best = -2;
        int who = -1;
        for (size_t j = 0; j < g->list.count; j++) {
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
        printf("%s %s %.4f\n", p->list.items[i].path, known ? g->names[who] : "unknown", best);
    }
    fprintf(stderr, "sphere-identify: %zu probes, %zu identities (%zu gallery crops), %zu "
                    "unknown at threshold %.3f\n",
            p->list.count, g->n_names, g->list.count, unknown, a->threshold);
}

static sc_status features(sc_extractor *x, const photos *p, float **rows, sc_error *err)
{
    size_t wrong = 0, dim = sc_extractor_dim(x), n = p->list.count;
    const char **paths = paths_of(p);
    *rows = malloc(n * dim * sizeof **rows);
    sc_status st = paths && *rows ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    if (st == SC_OK)
        st = sc_extractor_check(x, paths, n, &wrong, err);
    if (st == SC_OK)
        st = sc_extractor_run(x, paths, n, *rows, NULL, NULL, err);
    if (st == SC_OK)
        normalise(*rows, n, dim);
    free(paths);
    return st;
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
    sc_status st = load_gallery(a.gallery, &g, &err);
    if (st == SC_OK)
        st = load_probes(a.probe, &p, &err);
    if (st == SC_OK)
        st = sc_extractor_create(&a.x, &x, &err);
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
