/* sphere-align: cuts aligned face crops out of photos, given 5 landmarks per
 * photo: the pipeline's step between sphere-detect and recognition. The
 * maths is in apps/common/align.c, the landmark file in landmarks.c; this
 * file runs them over a whole list on every core and reports. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* fileno, open_memstream, realpath, strdup */
#endif
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sc_common.h"
#include "sc_files.h"

#define MAX_THREADS 256
#define MAX_SIDE 4096

typedef struct align_args {
    const char *landmarks, *src, *dst, *size, *tmpl;
    int threads, quality, quiet;
    int w, h; /* from --size */
} align_args;

static const char k_description[] =
    "For every line 'relpath x1 y1 ... x5 y5' of FILE (left eye, right eye, nose, left and\n"
    "right mouth corner, 0-based pixels; the layout of lfw_landmark_150px.txt), fits the\n"
    "least-squares similarity (rotation, scale, shift; never a reflection) onto the\n"
    "template, cuts the crop out of SRC/relpath by bilinear sampling and writes it as\n"
    "JPEG to DST/relpath; DST/transforms.txt gets each source -> crop matrix. --size is\n"
    "HEIGHTxWIDTH as SphereFace names it (112x96: 112 high, 96 wide); another size scales\n"
    "the 96x112 template uniformly by min(W/96, H/112) and centres it (112x112 moves it\n"
    "8 pixels right). Bad lines and missing or corrupt photos are reported (file:line or\n"
    "the photo) and skipped. The output does not depend on --threads.\n"
    "Exit 0 when at least one photo was aligned, 1 when none was.\n";

/* "112x96" -> h = 112, w = 96; every character must belong to the two numbers. */
static int parse_size(const char *s, int *h, int *w)
{
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    long hh = strtol(s, &end, 10);
    if (*end != 'x' || end[1] < '0' || end[1] > '9')
        return 0;
    long ww = strtol(end + 1, &end, 10);
    if (*end || hh < 8 || ww < 8 || hh > MAX_SIDE || ww > MAX_SIDE)
        return 0;
    *h = (int)hh;
    *w = (int)ww;
    return 1;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, align_args *a)
{
    memset(a, 0, sizeof *a);
    a->size = "112x96";
    a->tmpl = "sphereface";
    a->threads = default_threads();
    a->quality = 95;
    const sc_opt opts[] = {
        {SC_STR("--landmarks", &a->landmarks, "FILE", "landmark file"), .required = 1},
        {SC_STR("--src", &a->src, "DIR", "folder the relpaths are in"), .required = 1},
        {SC_STR("--dst", &a->dst, "DIR", "output folder (created)"), .required = 1},
        {SC_STR("--size", &a->size, "HxW", "crop height x width, 8..4096 each")},
        {SC_CHOICE("--template", &a->tmpl, "sphereface", "landmark positions in the crop")},
        {SC_INT("--threads", &a->threads, "N", "worker threads", 1, MAX_THREADS),
         .default_text = "the number of online CPUs"},
        {SC_INT("--quality", &a->quality, "Q", "JPEG quality (4:2:0)", 1, 100)},
        {SC_FLAG("--quiet", &a->quiet, "no progress lines")},
    };
    const sc_cli cli = {.prog = "sphere-align",
                        .synopsis = "--landmarks FILE --src DIR --dst DIR [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc == SC_CLI_CONTINUE && !parse_size(a->size, &a->h, &a->w))
        rc = sc_cli_usage_error(&cli, "--size: '%s' is not HEIGHTxWIDTH with 8..%d each "
                                "(e.g. 112x96)", a->size, MAX_SIDE);
    return rc;
}

/* ------------------------------------------------------------ the work */

typedef enum outcome { PENDING = 0, ALIGNED, BAD_LINE, BAD_IMAGE, NOT_WRITTEN, N_OUTCOMES } outcome;

typedef struct result {
    outcome kind;
    sc_affine m;
    char *msg; /* why it was skipped */
} result;

typedef struct progress {
    int quiet, tty, shown, last_pct;
} progress;

typedef struct job {
    const align_args *a;
    const sc_landmark_file *lf;
    sc_point2 tpl[SC_ALIGN_POINTS];
    pthread_mutex_t mu; /* guards everything below */
    result *res;
    size_t next;        /* the next entry a worker takes */
    size_t reported;    /* entries reported, in file order */
    size_t counts[N_OUTCOMES];
    progress prog;
} job;

/* Records why entry r was skipped. */
static void skip(result *r, outcome kind, const char *msg)
{
    r->kind = kind;
    r->msg = strdup(msg);
}

/* Cuts the crop of entry e out of its photo; on failure records why in r
 * and returns -1. */
static int make_crop(const job *j, const sc_landmark_entry *e, result *r, sc_image *crop)
{
    char path[8192];
    sc_error err = {0};
    sc_image img = {0};
    sc_status st = sc_path_join(j->a->src, e->path, path, sizeof path, &err);
    if (st == SC_OK)
        st = sc_image_load(path, 0, &img, &err);
    if (st == SC_OK && sc_align_warp(&img, &r->m, j->a->w, j->a->h, crop, &err) != SC_OK)
        st = sc_error_prefix(&err, "%s: ", path);
    sc_image_free(&img);
    if (st != SC_OK)
        skip(r, BAD_IMAGE, err.msg);
    return st == SC_OK ? 0 : -1;
}

/* Writes the crop to DST/relpath, creating its folders. */
static void write_crop(const job *j, const sc_landmark_entry *e, const sc_image *crop, result *r)
{
    char path[8192];
    sc_error err = {0};
    if (sc_path_join(j->a->dst, e->path, path, sizeof path, &err) == SC_OK &&
        sc_mkdirs_for_file(path, &err) == SC_OK &&
        sc_image_write_jpeg(path, crop, j->a->quality, &err) == SC_OK)
        r->kind = ALIGNED;
    else
        skip(r, NOT_WRITTEN, err.msg);
}

/* Works on entry i into r, which only this thread sees until it is handed
 * over under the lock. */
static void run_entry(const job *j, size_t i, result *r)
{
    const sc_landmark_entry *e = &j->lf->items[i];
    if (e->problem) {
        skip(r, BAD_LINE, e->problem);
        return;
    }
    sc_error err = {0};
    if (sc_align_similarity(e->pt, j->tpl, SC_ALIGN_POINTS, &r->m, &err) != SC_OK) {
        sc_error_prefix(&err, "%s:%d: ", j->lf->file, e->line);
        skip(r, BAD_LINE, err.msg);
        return;
    }
    sc_image crop = {0};
    if (make_crop(j, e, r, &crop) == 0)
        write_crop(j, e, &crop, r);
    sc_image_free(&crop);
}

/* ------------------------------------------------------------ reports */

static void clear_progress(progress *p)
{
    if (p->tty && p->shown)
        fprintf(stderr, "\r\033[K");
    p->shown = 0;
}

/* A live line on a terminal; in a log, one line every 10%. */
static void show_progress(progress *p, size_t done, size_t total)
{
    int pct = (int)(100.0 * (double)done / (double)total);
    if (p->quiet || (pct == p->last_pct && done != total))
        return;
    if (!p->tty && pct / 10 == p->last_pct / 10 && done != total)
        return;
    p->last_pct = pct;
    if (p->tty) {
        fprintf(stderr, "\rsphere-align: %zu/%zu photos (%d%%)", done, total, pct);
        p->shown = 1;
    } else if (done != total) {
        fprintf(stderr, "sphere-align: %zu/%zu photos (%d%%)\n", done, total, pct);
    }
    fflush(stderr);
}

/* Reports finished entries in file order, so that the log and the counts
 * read the same whatever the threads did. Called with j->mu held. */
static void report_ready(job *j)
{
    size_t total = j->lf->count;
    while (j->reported < total && j->res[j->reported].kind != PENDING) {
        const result *r = &j->res[j->reported++];
        j->counts[r->kind]++;
        if (r->kind != ALIGNED) {
            clear_progress(&j->prog);
            fprintf(stderr, "sphere-align: %s; skipped\n", r->msg ? r->msg : "out of memory");
        }
        show_progress(&j->prog, j->reported, total);
    }
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->lf->count)
            return NULL;
        result r = {0};
        run_entry(j, i, &r);
        pthread_mutex_lock(&j->mu);
        j->res[i] = r;
        report_ready(j);
        pthread_mutex_unlock(&j->mu);
    }
}

/* Runs the workers over every entry; returns 0, or -1 when no thread could
 * be started (then the error is printed). */
static int run_threads(job *j, int n)
{
    pthread_t th[MAX_THREADS];
    if ((size_t)n > j->lf->count)
        n = (int)j->lf->count;
    int started = 0;
    while (started < n && pthread_create(&th[started], NULL, worker, j) == 0)
        started++;
    if (started == 0) {
        fprintf(stderr, "sphere-align: cannot start a worker thread\n");
        return -1;
    }
    /* Fewer threads than asked only make it slower, never different. */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    return 0;
}

/* ---------------------------------------------------- transforms.txt */

/* One "relpath a11 a12 tx a21 a22 ty" line per aligned photo, in file order,
 * with the columns and precision of reference-aligned-112x96.transforms.txt. */
static sc_status write_transforms(const job *j, const char *path, sc_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", path);
    fprintf(f, "# name\ta11\ta12\ttx\ta21\ta22\tty  (maps source pixel (x,y) -> %dx%d crop: "
            "x'=a11*x+a12*y+tx, y'=a21*x+a22*y+ty)\n", j->a->w, j->a->h);
    for (size_t i = 0; i < j->lf->count; i++) {
        const double *m = j->res[i].m.m;
        if (j->res[i].kind == ALIGNED)
            fprintf(f, "%s\t%.6f\t%.6f\t%.4f\t%.6f\t%.6f\t%.4f\n", j->lf->items[i].path, m[0],
                    m[1], m[2], m[3], m[4], m[5]);
    }
    if (fclose(f) != 0) {
        free(buf);
        return sc_fail(err, SC_ERR_NOMEM, "%s: out of memory", path);
    }
    sc_status st = sc_write_file_atomic(path, buf, len, err);
    free(buf);
    return st;
}

/* ----------------------------------------------------------- checks */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Refuses what would fail every photo, before any work: exit 2 or
 * SC_CLI_CONTINUE. */
static int check_inputs(const align_args *a, const sc_landmark_file *lf)
{
    if (lf->count == 0) {
        fprintf(stderr, "sphere-align: %s: no landmark lines\n", a->landmarks);
        return SC_EXIT_USAGE;
    }
    if (!is_dir(a->src)) {
        fprintf(stderr, "sphere-align: --src %s: not a folder\n", a->src);
        return SC_EXIT_USAGE;
    }
    /* With DST = SRC every crop would replace its own photo. */
    char rs[PATH_MAX], rd[PATH_MAX];
    if (realpath(a->src, rs) && realpath(a->dst, rd) && !strcmp(rs, rd)) {
        fprintf(stderr, "sphere-align: --dst %s is the --src folder; the crops would replace "
                "the photos\n", a->dst);
        return SC_EXIT_USAGE;
    }
    return SC_CLI_CONTINUE;
}

/* --------------------------------------------------------------- main */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static void print_summary(const job *j, double secs)
{
    const size_t *c = j->counts;
    size_t skipped = c[BAD_LINE] + c[BAD_IMAGE] + c[NOT_WRITTEN];
    printf("sphere-align: %zu aligned, %zu skipped (%zu bad lines, %zu missing or corrupt "
           "photos, %zu not written) in %.1f s (%.0f photos/s, %d threads); %dx%d (HxW) crops "
           "and transforms.txt in %s\n",
           c[ALIGNED], skipped, c[BAD_LINE], c[BAD_IMAGE], c[NOT_WRITTEN], secs,
           secs > 0 ? (double)j->lf->count / secs : 0.0, j->a->threads, j->a->h, j->a->w,
           j->a->dst);
}

/* Aligns every entry and writes transforms.txt; returns the exit status. */
static int align_all(job *j)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (run_threads(j, j->a->threads) != 0)
        return SC_EXIT_FAILED;
    clear_progress(&j->prog);
    char path[8192];
    sc_error err = {0};
    if (sc_path_join(j->a->dst, "transforms.txt", path, sizeof path, &err) != SC_OK ||
        write_transforms(j, path, &err) != SC_OK) {
        fprintf(stderr, "sphere-align: %s\n", err.msg);
        return SC_EXIT_FAILED;
    }
    print_summary(j, seconds_since(&t0));
    return j->counts[ALIGNED] > 0 ? SC_EXIT_OK : SC_EXIT_FAILED;
}

static int run(const align_args *a, const sc_landmark_file *lf)
{
    job j = {.a = a, .lf = lf, .prog = {.quiet = a->quiet, .tty = isatty(fileno(stderr)),
                                        .last_pct = -1}};
    sc_error err = {0};
    if (sc_align_template(a->tmpl, a->w, a->h, j.tpl, &err) != SC_OK) {
        fprintf(stderr, "sphere-align: %s\n", err.msg);
        return SC_EXIT_USAGE;
    }
    if (sc_mkdirs(a->dst, &err) != SC_OK) {
        fprintf(stderr, "sphere-align: %s\n", err.msg);
        return SC_EXIT_FAILED;
    }
    j.res = calloc(lf->count, sizeof *j.res);
    if (!j.res) {
        fprintf(stderr, "sphere-align: out of memory for %zu results\n", lf->count);
        return SC_EXIT_FAILED;
    }
    pthread_mutex_init(&j.mu, NULL);
    int rc = align_all(&j);
    pthread_mutex_destroy(&j.mu);
    for (size_t i = 0; i < lf->count; i++)
        free(j.res[i].msg);
    free(j.res);
    return rc;
}

int main(int argc, char **argv)
{
    align_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    sc_landmark_file lf;
    sc_error err = {0};
    sc_status st = sc_landmarks_load(a.landmarks, &lf, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-align: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    rc = check_inputs(&a, &lf);
    if (rc == SC_CLI_CONTINUE) {
        if (!a.quiet)
            fprintf(stderr, "sphere-align: %zu photos in %s (%zu bad lines), %d threads\n",
                    lf.count - lf.bad, a.landmarks, lf.bad, a.threads);
        rc = run(&a, &lf);
    }
    sc_landmarks_free(&lf);
    return rc;
}
