/* sphere-eval: face verification accuracy of a deploy net with the
 * SphereFace / LFW protocol (features of each image and its mirror,
 * concatenated; 10 folds, per-fold mean subtraction and threshold), LFW
 * View 1 (threshold on pairsDevTrain, accuracy on pairsDevTest), and the
 * angular Fisher score of a labelled set. Features come from the net
 * (decoding overlapped with the device, apps/common/extractor.c) or from a
 * file sphere-extract wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "extractor.h"
#include "face_metrics.h"
#include "features_io.h"
#include "image_list.h"
#include "sc_runtime.h"
#include "verification.h"

typedef struct eval_args {
    const char *pairs, *root, *ext, *features, *fisher;
    int view1;
    sc_extractor_config x; /* net, weights, feature blob, input options */
} eval_args;

static const char k_description[] =
    "Verification accuracy of a net's features with the SphereFace / LFW protocol: the feature\n"
    "of an image is concat(f(x), f(mirror x)); 10 folds, each scored with the mean of the other\n"
    "folds subtracted and the threshold chosen on them. Images are DIR/<Name>/<Name>_NNNN.<ext>,\n"
    "fed as B, G, R planes (as Caffe's ImageData trains) unless --rgb, and checked against the\n"
    "net's input before any work: a size that differs is an error unless --resize (bilinear).\n"
    "--view1: --pairs names the folder of pairsDevTrain.txt and pairsDevTest.txt (LFW View 1:\n"
    "threshold on DevTrain, accuracy on DevTest). --features FILE evaluates features written by\n"
    "sphere-extract (rows named <Name>/<Name>_NNNN.<ext>) instead of running a net. --fisher LIST\n"
    "adds the angular Fisher score (SphereFace appendix E) of a labelled list \"relpath label\"\n"
    "under --root.\n";

static int parse_args(int argc, char **argv, eval_args *a)
{
    *a = (eval_args){.ext = "jpg", .x = sc_extractor_defaults()};
    a->x.flip = 1; /* the protocol's concat(f(x), f(mirror x)) */
    const sc_opt opts[] = {
        {SC_STR("--net", &a->x.net, "FILE", "deploy prototxt (unless --features)")},
        {SC_STR("--weights", &a->x.weights, "FILE", "caffemodel (unless --features)")},
        {SC_STR("--pairs", &a->pairs, "FILE", "LFW pairs file (a folder with --view1)"),
         .required = 1},
        {SC_STR("--root", &a->root, "DIR", "image folder (unless --features)")},
        {SC_STR("--features", &a->features, "FILE", "precomputed features (.txt or .npy)")},
        {SC_FLAG("--view1", &a->view1, "LFW View 1: pairsDevTrain.txt, pairsDevTest.txt")},
        {SC_STR("--fisher", &a->fisher, "LIST", "also the angular Fisher score of this list")},
        {SC_STR("--ext", &a->ext, "EXT", "image file extension")},
        {SC_STR("--feature", &a->x.feature, "BLOB", "feature blob")},
        SC_EXTRACTOR_OPTIONS(&a->x),
    };
    const sc_cli cli = {.prog = "sphere-eval",
                        .synopsis = "--pairs FILE (--net DEPLOY --weights W --root DIR | "
                                    "--features FILE) [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc == SC_CLI_CONTINUE && !a->features && (!a->x.net || !a->x.weights || !a->root))
        rc = sc_cli_usage_error(&cli, "--net, --weights and --root are required (or --features)");
    if (rc == SC_CLI_CONTINUE && a->fisher && (a->features || !a->root))
        rc = sc_cli_usage_error(&cli, "--fisher runs the net: it needs --net, --weights, --root");
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------- image table */

/* The distinct images of one or more pairs sets, found by hash. */
typedef struct image_table {
    char **paths;     /* relative: <Name>/<Name>_NNNN.<ext> */
    size_t n, cap;
    size_t *slots;    /* open addressing: index + 1, 0 empty */
    size_t n_slots;
} image_table;

static void table_free(image_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->paths[i]);
    free(t->paths);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* Index of a relative path, adding it when new; -1 when out of memory. */
static long table_index(image_table *t, const char *rel)
{
    if (t->n_slots == 0 || 2 * (t->n + 1) > t->n_slots) { /* keep the load under a half */
        size_t ns = t->n_slots ? t->n_slots * 2 : 4096;
        size_t *slots = calloc(ns, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < t->n; i++) {
            size_t h = sc_hash64(t->paths[i], strlen(t->paths[i]), 0) & (ns - 1);
            while (slots[h])
                h = (h + 1) & (ns - 1);
            slots[h] = i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = ns;
    }
    size_t h = sc_hash64(rel, strlen(rel), 0) & (t->n_slots - 1);
    for (; t->slots[h]; h = (h + 1) & (t->n_slots - 1))
        if (!strcmp(t->paths[t->slots[h] - 1], rel))
            return (long)t->slots[h] - 1;
    if (!sc_grow((void **)&t->paths, &t->cap, t->n + 1, sizeof *t->paths) ||
        !(t->paths[t->n] = strdup(rel)))
        return -1;
    t->slots[h] = ++t->n;
    return (long)t->n - 1;
}

/* One pairs set mapped onto the table. */
typedef struct pair_set {
    sc_lfw_pairs pairs;
    size_t *i1, *i2;
    int *same, *fold;
} pair_set;

static void pair_set_free(pair_set *p)
{
    sc_lfw_pairs_free(&p->pairs);
    free(p->i1), free(p->i2), free(p->same), free(p->fold);
}

static sc_status index_pairs(const char *path, const char *ext, image_table *t, pair_set *p,
                             sc_error *err)
{
    SC_TRY(sc_lfw_pairs_load(path, &p->pairs, err));
    size_t n = p->pairs.count;
    p->i1 = malloc(n * sizeof *p->i1);
    p->i2 = malloc(n * sizeof *p->i2);
    p->same = malloc(n * sizeof *p->same);
    p->fold = malloc(n * sizeof *p->fold);
    if (!p->i1 || !p->i2 || !p->same || !p->fold)
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    for (size_t k = 0; k < n; k++) {
        const sc_lfw_pair *q = &p->pairs.items[k];
        char a[1024], b[1024];
        SC_TRY(sc_lfw_image_path(NULL, q->name1, q->n1, ext, a, sizeof a, err));
        SC_TRY(sc_lfw_image_path(NULL, q->name2, q->n2, ext, b, sizeof b, err));
        long ia = table_index(t, a), ib = table_index(t, b);
        if (ia < 0 || ib < 0)
            return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
        p->i1[k] = (size_t)ia;
        p->i2[k] = (size_t)ib;
        p->same[k] = q->same;
        p->fold[k] = q->fold;
    }
    return SC_OK;
}

/* --------------------------------------------------------- features */

/* A live count on a terminal; in a log, a line each 10% (user: int, the
 * last tenth printed, starting at -1). */
static void progress(void *user, size_t done, size_t total)
{
    int *last = user, tenth = total ? (int)(done * 10 / total) : 10;
    if (isatty(STDOUT_FILENO)) {
        printf("\r  features: %zu / %zu images%s", done, total, done == total ? "\n" : "");
        fflush(stdout);
    } else if (tenth != *last) {
        *last = tenth;
        printf("  features: %zu / %zu images (%d%%)\n", done, total, tenth * 10);
    }
}

/* Full paths of the table's images under root. */
static char **full_paths(const char *root, char *const *rel, size_t n)
{
    char **p = calloc(n + 1, sizeof *p);
    for (size_t i = 0; p && i < n; i++) {
        size_t len = strlen(root) + strlen(rel[i]) + 2;
        p[i] = malloc(len);
        if (!p[i])
            return p; /* caller frees; a NULL entry reports the failure */
        snprintf(p[i], len, "%s%s%s", root, root[0] && root[strlen(root) - 1] != '/' ? "/" : "",
                 rel[i]);
    }
    return p;
}

static void free_paths(char **p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i]);
    free(p);
}

/* Features of the table's images from the net (*rows: n x *dim). Returns
 * an exit status; setup failures are 2 (input refused), the run's 1. */
static int features_from_net(const eval_args *a, sc_extractor *x, const image_table *t,
                             float **rows, size_t *dim)
{
    sc_error err = {0};
    char **paths = full_paths(a->root, t->paths, t->n);
    size_t wrong = 0;
    int rc = SC_CLI_CONTINUE;
    for (size_t i = 0; paths && i < t->n; i++)
        if (!paths[i])
            paths = (free_paths(paths, t->n), NULL);
    *dim = sc_extractor_dim(x);
    *rows = paths ? malloc(t->n * *dim * sizeof **rows) : NULL;
    if (!*rows) {
        fprintf(stderr, "sphere-eval: out of host memory for %zu feature rows\n", t->n);
        rc = SC_EXIT_FAILED;
    } else if (sc_extractor_check(x, (const char *const *)paths, t->n, &wrong, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        rc = SC_EXIT_USAGE;
    } else if (sc_extractor_run(x, (const char *const *)paths, t->n, *rows, progress, &(int){-1},
                                &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        rc = SC_EXIT_FAILED;
    }
    free_paths(paths, t->n);
    return rc;
}

/* Rows of a feature file in the table's order. */
static int features_from_file(const eval_args *a, const image_table *t, float **rows,
                              size_t *dim)
{
    sc_features f;
    sc_error err = {0};
    sc_status st = sc_features_read(a->features, &f, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    image_table byname = {0};
    int rc = SC_CLI_CONTINUE;
    for (size_t i = 0; i < f.n && rc == SC_CLI_CONTINUE; i++)
        if (table_index(&byname, f.names[i]) != (long)i) {
            fprintf(stderr, "sphere-eval: %s: row %zu (%s) repeats an earlier image\n",
                    a->features, i + 1, f.names[i]);
            rc = SC_EXIT_USAGE;
        }
    *dim = f.dim;
    *rows = rc == SC_CLI_CONTINUE ? malloc(t->n * f.dim * sizeof **rows) : NULL;
    if (rc == SC_CLI_CONTINUE && !*rows)
        rc = SC_EXIT_FAILED;
    for (size_t i = 0; i < t->n && rc == SC_CLI_CONTINUE; i++) {
        size_t before = byname.n;
        long k = table_index(&byname, t->paths[i]);
        if (k < 0 || byname.n != before) {
            fprintf(stderr, "sphere-eval: %s has no features for %s\n", a->features,
                    t->paths[i]);
            rc = SC_EXIT_USAGE;
        } else {
            memcpy(*rows + i * f.dim, f.rows + (size_t)k * f.dim, f.dim * sizeof **rows);
        }
    }
    table_free(&byname);
    sc_features_free(&f);
    return rc;
}

/* ------------------------------------------------------------ scoring */

static float *gather(const float *rows, const size_t *idx, size_t n, size_t dim)
{
    float *out = malloc((n ? n : 1) * dim * sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        memcpy(out + i * dim, rows + idx[i] * dim, dim * sizeof *out);
    return out;
}

static void print_folds(const sc_verify_result *r)
{
    printf("fold ");
    for (int k = 0; k < r->folds; k++)
        printf(" %6d", k + 1);
    printf("    AVE\nACC  ");
    for (int k = 0; k < r->folds; k++)
        printf(" %6.2f", 100 * r->accuracy[k]);
    printf(" %6.2f\nTHR  ", 100 * r->mean);
    for (int k = 0; k < r->folds; k++)
        printf(" %6.3f", r->threshold[k]);
    printf("\n");
}

static int score_lfw(const pair_set *p, const float *rows, size_t dim)
{
    size_t n = p->pairs.count;
    float *f1 = gather(rows, p->i1, n, dim), *f2 = gather(rows, p->i2, n, dim);
    sc_verify_result r;
    sc_error err = {0};
    int ok = f1 && f2 &&
             sc_verify_lfw(f1, f2, n, dim, p->same, p->fold, SC_VERIFY_STEPS, &r, &err) == SC_OK;
    if (ok) {
        print_folds(&r);
        printf("LFW %d-fold accuracy: %.2f%% (std %.2f)\n", r.folds, 100 * r.mean, 100 * r.std);
    } else {
        fprintf(stderr, "sphere-eval: %s\n", f1 && f2 ? err.msg : "out of host memory");
    }
    free(f1);
    free(f2);
    return ok ? SC_EXIT_OK : SC_EXIT_FAILED;
}

static int score_view1(const pair_set *train, const pair_set *test, const float *rows,
                       size_t dim)
{
    size_t a = train->pairs.count, b = test->pairs.count;
    float *t1 = gather(rows, train->i1, a, dim), *t2 = gather(rows, train->i2, a, dim);
    float *s1 = gather(rows, test->i1, b, dim), *s2 = gather(rows, test->i2, b, dim);
    sc_view1_result r;
    sc_error err = {0};
    int ok = t1 && t2 && s1 && s2 &&
             sc_verify_view1(t1, t2, train->same, a, s1, s2, test->same, b, dim, SC_VERIFY_STEPS,
                             &r, &err) == SC_OK;
    if (ok)
        printf("View 1: threshold %.4f from %zu DevTrain pairs (accuracy %.2f%% there)\n"
               "LFW View 1 accuracy: %.2f%% (%zu DevTest pairs)\n",
               r.threshold, r.train_pairs, 100 * r.train_accuracy, 100 * r.test_accuracy,
               r.test_pairs);
    else
        fprintf(stderr, "sphere-eval: %s\n", err.msg[0] ? err.msg : "out of host memory");
    free(t1), free(t2), free(s1), free(s2);
    return ok ? SC_EXIT_OK : SC_EXIT_FAILED;
}

/* The angular Fisher score of the labelled list's features. */
static int score_fisher(const eval_args *a, sc_extractor *x)
{
    sc_image_list list = {0};
    sc_error err = {0};
    sc_status st = sc_image_list_load(a->fisher, &list, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    char **rel = calloc(list.count + 1, sizeof *rel);
    int *labels = malloc((list.count + 1) * sizeof *labels);
    for (size_t i = 0; rel && labels && i < list.count; i++) {
        rel[i] = (char *)list.items[i].path;
        labels[i] = list.items[i].label;
    }
    image_table t = {.paths = rel, .n = list.count};
    float *rows = NULL;
    size_t dim = 0;
    int rc = rel && labels ? features_from_net(a, x, &t, &rows, &dim) : SC_EXIT_FAILED;
    double score = 0;
    if (rc == SC_CLI_CONTINUE &&
        sc_angular_fisher(rows, labels, list.count, dim, &score, &err) != SC_OK) {
        fprintf(stderr, "sphere-eval: %s: %s\n", a->fisher, err.msg);
        rc = SC_EXIT_FAILED;
    }
    if (rc == SC_CLI_CONTINUE) {
        printf("angular Fisher score of %s (%zu images): %.4f (lower is better)\n", a->fisher,
               list.count, score);
        rc = SC_EXIT_OK;
    }
    free(rows), free(rel), free(labels);
    sc_image_list_free(&list);
    return rc;
}

/* ---------------------------------------------------------------- main */

static int load_pairs(const eval_args *a, image_table *t, pair_set sets[2], int *n_sets)
{
    sc_error err = {0};
    char train[4200], test[4200];
    struct stat st;
    const char *dir = a->pairs;
    *n_sets = a->view1 ? 2 : 1;
    if (a->view1 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sphere-eval: --view1: --pairs must name the folder of "
                        "pairsDevTrain.txt and pairsDevTest.txt\n");
        return SC_EXIT_USAGE;
    }
    snprintf(train, sizeof train, "%s/pairsDevTrain.txt", dir);
    snprintf(test, sizeof test, "%s/pairsDevTest.txt", dir);
    const char *files[2] = {a->view1 ? train : a->pairs, test};
    for (int i = 0; i < *n_sets; i++) {
        sc_status s = index_pairs(files[i], a->ext, t, &sets[i], &err);
        if (s != SC_OK) {
            fprintf(stderr, "sphere-eval: %s\n", err.msg);
            return sc_cli_input_status(s);
        }
    }
    return SC_CLI_CONTINUE;
}

static int make_extractor(const eval_args *a, sc_extractor **x)
{
    sc_error err = {0};
    sc_status st = sc_extractor_create(&a->x, x, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-eval: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    if (sc_extractor_missing(*x)[0])
        printf("warning: %s has no weights for: %s\n", a->x.weights, sc_extractor_missing(*x));
    return SC_CLI_CONTINUE;
}

int main(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    double t0 = now_s();
    image_table t = {0};
    pair_set sets[2] = {0};
    int n_sets = 0;
    sc_extractor *x = NULL;
    float *rows = NULL;
    size_t dim = 0;
    rc = load_pairs(&a, &t, sets, &n_sets);
    if (rc == SC_CLI_CONTINUE && !a.features)
        rc = make_extractor(&a, &x);
    if (rc == SC_CLI_CONTINUE)
        rc = a.features ? features_from_file(&a, &t, &rows, &dim)
                        : features_from_net(&a, x, &t, &rows, &dim);
    if (rc == SC_CLI_CONTINUE) {
        printf("%zu images, %zu-d features (%s)\n", t.n, dim,
               a.features ? a.features : "net + mirror");
        rc = a.view1 ? score_view1(&sets[0], &sets[1], rows, dim)
                     : score_lfw(&sets[0], rows, dim);
    }
    if (rc == SC_EXIT_OK && a.fisher)
        rc = score_fisher(&a, x);
    if (rc == SC_EXIT_OK)
        printf("time: %.1f s wall\n", now_s() - t0);
    free(rows);
    sc_extractor_destroy(x);
    for (int i = 0; i < n_sets; i++)
        pair_set_free(&sets[i]);
    table_free(&t);
    return rc;
}
