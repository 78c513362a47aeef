/* sphere-extract: one feature row per image of a list or a folder, from a
 * deploy net (with --flip, the mirrored image's features concatenated, as
 * the SphereFace protocol uses), written as text or .npy (features_io.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "extractor.h"
#include "features_io.h"
#include "image_list.h"
#include "photo_list.h"
#include "sc_runtime.h"

typedef struct extract_args {
    const char *list, *dir, *root, *out;
    sc_extractor_config x; /* net, weights, feature blob, --flip, input options */
} extract_args;

static const char k_description[] =
    "Runs the net over every image of --list (Caffe list lines \"relpath [label]\", under\n"
    "--root) or of --dir (every .jpg, .jpeg, .png, .pgm, .ppm below it, sorted) and writes one\n"
    "row per image: \"relpath v1 ... vD\" as text, or a float32 (n, D) array in FILE.npy with\n"
    "the paths in FILE.npy.names. --flip appends the mirrored image's features. Images are fed\n"
    "as B, G, R planes unless --rgb and must have the net's input size unless --resize.\n";

static int parse_args(int argc, char **argv, extract_args *a)
{
    *a = (extract_args){.out = "features.txt", .root = "", .x = sc_extractor_defaults()};
    const sc_opt opts[] = {
        {SC_STR("--net", &a->x.net, "FILE", "deploy prototxt"), .required = 1},
        {SC_STR("--weights", &a->x.weights, "FILE", "caffemodel"), .required = 1},
        {SC_STR("--list", &a->list, "FILE", "image list")},
        {SC_STR("--dir", &a->dir, "DIR", "every image below this folder")},
        {SC_STR("--root", &a->root, "DIR", "prefix of the list's paths"),
         .default_text = "none"},
        {SC_STR("--blob", &a->x.feature, "NAME", "feature blob")},
        {SC_FLAG("--flip", &a->x.flip, "append the mirrored image's features")},
        {SC_STR("--out", &a->out, "FILE", "output (.npy: NumPy, else text)")},
        SC_EXTRACTOR_OPTIONS(&a->x),
    };
    const sc_cli cli = {.prog = "sphere-extract",
                        .synopsis = "--net DEPLOY --weights W (--list L | --dir D) [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc == SC_CLI_CONTINUE && !a->list == !a->dir)
        rc = sc_cli_usage_error(&cli, "give exactly one of --list and --dir");
    return rc;
}

/* ------------------------------------------------------------ inputs */

typedef struct names {
    char **rel;
    size_t n, cap;
} names;

static void names_free(names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rel[i]);
    free(s->rel);
}

static int names_add(names *s, const char *rel)
{
    return sc_grow((void **)&s->rel, &s->cap, s->n + 1, sizeof *s->rel) &&
           (s->rel[s->n] = strdup(rel)) != NULL && ++s->n;
}

/* The images of --dir (sorted, apps/common/photo_list.c) or of --list. */
static sc_status collect(const extract_args *a, names *out, const char **root, sc_error *err)
{
    sc_status st = SC_OK;
    if (a->dir) {
        *root = a->dir;
        sc_photo_list photos = {0};
        st = sc_photo_list_scan(a->dir, &photos, err);
        for (size_t i = 0; st == SC_OK && i < photos.count; i++)
            if (!names_add(out, photos.items[i].name))
                st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        sc_photo_list_free(&photos);
        if (st == SC_OK && out->n == 0)
            st = sc_fail(err, SC_ERR_IO, "%s: no image below it", a->dir);
        return st;
    }
    *root = a->root;
    sc_image_list list = {0};
    SC_TRY(sc_image_list_load(a->list, &list, err));
    st = list.count ? SC_OK : sc_fail(err, SC_ERR_IO, "%s: empty list", a->list);
    for (size_t i = 0; st == SC_OK && i < list.count; i++)
        if (!names_add(out, list.items[i].path))
            st = sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    sc_image_list_free(&list);
    return st;
}

static void progress(void *user, size_t done, size_t total)
{
    int *last = user, tenth = total ? (int)(done * 10 / total) : 10;
    if (isatty(STDERR_FILENO)) {
        fprintf(stderr, "\r  features: %zu / %zu images%s", done, total, done == total ? "\n" : "");
        fflush(stderr);
    } else if (tenth != *last) {
        *last = tenth;
        fprintf(stderr, "  features: %zu / %zu images (%d%%)\n", done, total, tenth * 10);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Extracts and writes; returns the exit status. */
static int extract(const extract_args *a, sc_extractor *x, const names *in, const char *root)
{
    sc_error err = {0};
    char **full = calloc(in->n + 1, sizeof *full);
    size_t dim = sc_extractor_dim(x), wrong = 0;
    float *rows = malloc(in->n * dim * sizeof *rows);
    int rc = full && rows ? SC_CLI_CONTINUE : SC_EXIT_FAILED;
    for (size_t i = 0; rc == SC_CLI_CONTINUE && i < in->n; i++) {
        full[i] = malloc(strlen(root) + strlen(in->rel[i]) + 2);
        if (!full[i] || sc_path_join(root, in->rel[i], full[i], strlen(root) + strlen(in->rel[i]) + 2,
                                     &err) != SC_OK)
            rc = SC_EXIT_FAILED;
    }
    double t0 = now_s();
    sc_status st = SC_OK;
    if (rc == SC_CLI_CONTINUE &&
        (st = sc_extractor_check(x, (const char *const *)full, in->n, &wrong, &err)) != SC_OK)
        rc = SC_EXIT_USAGE;
    if (rc == SC_CLI_CONTINUE && (st = sc_extractor_run(x, (const char *const *)full, in->n, rows,
                                                        progress, &(int){-1}, &err)) != SC_OK)
        rc = SC_EXIT_FAILED;
    if (rc == SC_CLI_CONTINUE && (st = sc_features_write(a->out, (const char *const *)in->rel,
                                                         rows, in->n, dim, &err)) != SC_OK)
        rc = SC_EXIT_FAILED;
    if (rc == SC_CLI_CONTINUE) {
        printf("%zu images, %zu-d rows%s, %.1f s: %s\n", in->n, dim,
               a->x.flip ? " (with mirror)" : "",
               now_s() - t0, a->out);
        rc = SC_EXIT_OK;
    } else {
        fprintf(stderr, "sphere-extract: %s\n", err.msg[0] ? err.msg : "out of host memory");
    }
    for (size_t i = 0; full && i < in->n; i++)
        free(full[i]);
    free(full);
    free(rows);
    return rc;
}

int main(int argc, char **argv)
{
    extract_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    names in = {0};
    const char *root = "";
    sc_error err = {0};
    sc_status st = collect(&a, &in, &root, &err);
    sc_extractor *x = NULL;
    if (st == SC_OK)
        st = sc_extractor_create(&a.x, &x, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-extract: %s\n", err.msg);
        rc = sc_cli_input_status(st);
    } else {
        if (sc_extractor_missing(x)[0])
            fprintf(stderr, "warning: %s has no weights for: %s\n", a.x.weights,
                    sc_extractor_missing(x));
        rc = extract(&a, x, &in, root);
    }
    sc_extractor_destroy(x);
    names_free(&in);
    return rc;
}
