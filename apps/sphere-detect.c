/* sphere-detect: MTCNN face detection and 5-point landmarks (apps/common/
 * mtcnn.h) over one photo, a list or a folder, written in the format of
 * lfw_landmark_150px.txt so that sphere-align reads it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "face_draw.h"
#include "image.h"
#include "image_write.h"
#include "mtcnn.h"
#include "photo_list.h"

typedef struct detect_args {
    const char *models, *image, *list, *root, *dir, *out, *draw, *thresholds, *resize, *device;
    int all_faces, no_mirror;
    float min_face, factor;
} detect_args;

typedef struct run_stats {
    size_t photos, faces, no_face, unreadable;
} run_stats;

static const char k_description[] =
    "Finds faces and their 5 landmarks with MTCNN (kpzhang93's MATLAB detector, SphereFace's\n"
    "settings), from exactly one of --image, --list (one photo per line, the name being the line\n"
    "up to the first tab: a landmark file is a list) or --dir (every .jpg/.jpeg/.png/.pgm/.ppm\n"
    "below it). DIR holds det1..det3 .prototxt and .caffemodel.\n"
    "\n"
    "Output, one line per photo (tab-separated, 0-based pixels, as lfw_landmark_150px.txt):\n"
    "  name  x y of the left eye, right eye, nose, left and right mouth corner\n"
    "for the face nearest the photo's centre. With --all-faces, one line per face, best first,\n"
    "with 5 more columns: the box x1 y1 x2 y2 (inclusive) and ONet's score. Photos without a\n"
    "face are '# no face<TAB>name' lines, unreadable ones '# unreadable<TAB>name' (also reported\n"
    "on stderr, skipped and counted). The summary goes to stderr when the output is stdout.\n"
    "Exit status 1 also when no photo at all could be read.\n";

/* "0.6,0.7,0.9": three probabilities in [0, 1]. */
static int parse_thresholds(const char *text, float t[3])
{
    const char *s = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !(v >= 0 && v <= 1) || *end != (i < 2 ? ',' : '\0'))
            return 0;
        t[i] = (float)v;
        s = end + 1;
    }
    return 1;
}

static int parse_args(int argc, char **argv, detect_args *a, float thresholds[3])
{
    *a = (detect_args){.root = "", .out = "-", .thresholds = "0.6,0.7,0.9",
                       .resize = "imresample", .min_face = 20, .factor = 0.85f};
    const sc_opt opts[] = {
        {SC_STR("--models", &a->models, "DIR", "MTCNN nets: det1, det2, det3"), .required = 1},
        {SC_STR("--image", &a->image, "FILE", "one photo")},
        {SC_STR("--list", &a->list, "FILE", "photos, one per line")},
        {SC_STR("--root", &a->root, "DIR", "folder the --list names are relative to")},
        {SC_STR("--dir", &a->dir, "DIR", "every photo below this folder")},
        {SC_STR("--out", &a->out, "FILE", "landmark file ('-': stdout)")},
        {SC_FLAG("--all-faces", &a->all_faces, "every face, with its box and score")},
        {SC_FLOAT("--min-face", &a->min_face, "PX", "smallest face side to find", 6, 65536)},
        {SC_FLOAT("--factor", &a->factor, "F", "pyramid scale step", 0.1, 0.99)},
        {SC_STR("--thresholds", &a->thresholds, "P,R,O", "PNet, RNet, ONet face probability")},
        {SC_CHOICE("--resize", &a->resize, "imresample|imresize",
                   "resampling of levels and crops (detect_face.m: imresample)")},
        {SC_FLAG("--no-mirror", &a->no_mirror,
                 "landmarks from ONet's crop only, not averaged with its mirror")},
        {SC_STR("--draw", &a->draw, "DIR", "write each photo with boxes and landmarks (PNG)")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-detect",
                        .synopsis = "--models DIR (--image F | --list L | --dir D) [options]",
                        .description = k_description,
                        .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    if (!!a->image + !!a->list + !!a->dir != 1)
        return sc_cli_usage_error(&cli, "give exactly one of --image, --list and --dir");
    if (!parse_thresholds(a->thresholds, thresholds))
        return sc_cli_usage_error(&cli, "--thresholds: '%s' is not three probabilities in "
                                        "[0, 1] separated by commas", a->thresholds);
    return SC_CLI_CONTINUE;
}

/* The photos to read; SC_CLI_CONTINUE or an exit status. */
static int load_photos(const detect_args *a, sc_photo_list *photos)
{
    sc_error err = {0};
    sc_status st = SC_OK;
    int w, h;
    if (a->image && (st = sc_image_probe(a->image, &w, &h, &err)) == SC_OK)
        st = sc_photo_list_add(photos, a->image, a->image, &err);
    else if (a->list)
        st = sc_photo_list_read(a->list, a->root, photos, &err);
    else if (a->dir)
        st = sc_photo_list_scan(a->dir, photos, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-detect: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    if (photos->count == 0) {
        fprintf(stderr, "sphere-detect: %s: no photos\n", a->list ? a->list : a->dir);
        return SC_EXIT_USAGE;
    }
    return SC_CLI_CONTINUE;
}

/* ---- output */

typedef struct output {
    FILE *f;
    int is_stdout, progress; /* progress: a live line on stderr */
} output;

/* A message on stderr, first clearing the progress line. */
static void note(const output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const output *o, const char *fmt, ...)
{
    if (o->progress)
        fputs("\r\033[K", stderr);
    va_list ap;
    va_start(ap, fmt);
    fputs("sphere-detect: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void write_header(FILE *f, int all)
{
    fprintf(f, "# sphere-detect (MTCNN): name, then x y of the left eye, right eye, nose, left and "
               "right mouth corner%s (0-based pixels)\n",
            all ? ", then the box x1 y1 x2 y2 and the score" : "");
}

static void write_face(FILE *f, const char *name, const sc_face *face, int all)
{
    fprintf(f, "%s", name);
    for (int j = 0; j < 10; j++)
        fprintf(f, "\t%.2f", face->points[j]);
    if (all)
        fprintf(f, "\t%.2f\t%.2f\t%.2f\t%.2f\t%.5f", face->box[0], face->box[1], face->box[2],
                face->box[3], face->score);
    fputc('\n', f);
}

/* mkdir -p of the folders above path (which lies below an existing root). */
static int make_parents(char *path, size_t root_len)
{
    for (char *p = path + root_len + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        int ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok)
            return 0;
    }
    return 1;
}

/* DIR/<name>.png, the name's '.', '..' and empty components dropped so that
 * nothing lands outside DIR, and its extension replaced. */
static void draw_path(const char *dir, const char *name, char *dst, size_t cap)
{
    size_t n = (size_t)snprintf(dst, cap, "%s", dir);
    const char *s = name;
    while (*s && n + 1 < cap) {
        size_t len = strcspn(s, "/");
        int skip = len == 0 || (len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2));
        if (!skip)
            n += (size_t)snprintf(dst + n, cap - n, "/%.*s", (int)len, s);
        s += len + (s[len] == '/');
    }
    char *dot = strrchr(dst, '.'), *slash = strrchr(dst, '/');
    if (dot && (!slash || dot > slash))
        *dot = '\0';
    strncat(dst, ".png", cap - strlen(dst) - 1);
}

static int draw_photo(const detect_args *a, const output *o, sc_image *img, const char *name,
                      const sc_face *faces, size_t n, size_t chosen)
{
    char path[8192];
    sc_error err = {0};
    draw_path(a->draw, name, path, sizeof path);
    sc_face_draw(img, faces, n, chosen);
    if (!make_parents(path, strlen(a->draw)) ||
        sc_image_write_png(path, img, &err) != SC_OK) {
        note(o, "%s", err.msg[0] ? err.msg : "cannot create the folders of the drawing");
        return 0;
    }
    return 1;
}

/* ---- the run */

typedef struct detect_run {
    const detect_args *a;
    sc_ctx *ctx;
    sc_mtcnn *det;
    output out;
    run_stats stats;
} detect_run;

/* Writes the result of one photo; 0 on a failure that ends the run. */
static int report_photo(detect_run *r, sc_image *img, const char *name, sc_face *faces,
                        size_t n)
{
    FILE *f = r->out.f;
    if (n == 0) {
        r->stats.no_face++;
        fprintf(f, "# no face\t%s\n", name);
        note(&r->out, "%s: no face found", name);
    }
    size_t chosen = n ? sc_mtcnn_nearest_centre(faces, n, img->w, img->h) : 0;
    for (size_t i = 0; i < n; i++)
        if (r->a->all_faces || i == chosen)
            write_face(f, name, &faces[i], r->a->all_faces);
    r->stats.faces += n;
    if (ferror(f)) {
        note(&r->out, "%s: write error", r->a->out);
        return 0;
    }
    return !r->a->draw || draw_photo(r->a, &r->out, img, name, faces, n, chosen);
}

/* One photo; 0 when the run must stop (a device or output failure). */
static int detect_photo(detect_run *r, const sc_photo *p)
{
    sc_image img = {0};
    sc_error err = {0};
    if (sc_image_load(p->path, 3, &img, &err) != SC_OK) {
        r->stats.unreadable++;
        fprintf(r->out.f, "# unreadable\t%s\n", p->name);
        note(&r->out, "%s (skipped)", err.msg);
        return 1;
    }
    sc_face *faces = NULL;
    size_t n = 0;
    int ok = sc_mtcnn_detect(r->det, &img, p->path, &faces, &n) == SC_OK;
    if (!ok)
        note(&r->out, "%s", sc_ctx_message(r->ctx));
    else
        ok = report_photo(r, &img, p->name, faces, n);
    r->stats.photos += ok;
    free(faces);
    sc_image_free(&img);
    return ok;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(const detect_run *r, size_t done, size_t total)
{
    if (r->out.progress && (done % 16 == 0 || done == total))
        fprintf(stderr, "\r  %zu / %zu photos, %zu faces%s", done, total, r->stats.faces,
                done == total ? "\n" : "");
}

static void summary(const detect_run *r, double seconds)
{
    FILE *f = r->out.is_stdout ? stderr : stdout;
    const run_stats *s = &r->stats;
    fprintf(f,
            "sphere-detect: photos read: %zu, faces: %zu, photos without a face: %zu, "
            "unreadable: %zu; %.1f s (%.1f photos/s)\n",
            s->photos, s->faces, s->no_face, s->unreadable, seconds,
            seconds > 0 ? s->photos / seconds : 0.0);
}

static int run(detect_run *r, const sc_photo_list *photos)
{
    double t0 = now_s();
    write_header(r->out.f, r->a->all_faces);
    for (size_t i = 0; i < photos->count; i++) {
        if (!detect_photo(r, &photos->items[i]))
            return SC_EXIT_FAILED;
        progress(r, i + 1, photos->count);
    }
    if (fflush(r->out.f) != 0 || ferror(r->out.f)) {
        note(&r->out, "%s: write error", r->a->out);
        return SC_EXIT_FAILED;
    }
    summary(r, now_s() - t0);
    return r->stats.photos ? SC_EXIT_OK : SC_EXIT_FAILED;
}

/* Device, detector and output; SC_CLI_CONTINUE or an exit status. */
static int setup(detect_run *r, const sc_mtcnn_options *mo)
{
    sc_ctx_options co = {.selector = r->a->device};
    sc_error err = {0};
    sc_status st = sc_ctx_create(&co, &r->ctx, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-detect: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    if ((st = sc_mtcnn_create(r->ctx, r->a->models, mo, &r->det)) != SC_OK) {
        fprintf(stderr, "sphere-detect: %s\n", sc_ctx_message(r->ctx));
        return sc_cli_input_status(st);
    }
    if (r->a->draw && mkdir(r->a->draw, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sphere-detect: %s: cannot create the folder: %s\n", r->a->draw,
                strerror(errno));
        return SC_EXIT_USAGE;
    }
    r->out.is_stdout = !strcmp(r->a->out, "-");
    r->out.f = r->out.is_stdout ? stdout : fopen(r->a->out, "w");
    if (!r->out.f) {
        fprintf(stderr, "sphere-detect: %s: cannot create: %s\n", r->a->out, strerror(errno));
        return SC_EXIT_USAGE;
    }
    r->out.progress = isatty(STDERR_FILENO);
    return SC_CLI_CONTINUE;
}

/* The decimal the user typed, as a double: the parser keeps floats, and
 * MATLAB's factor is the double 0.85, not the float nearest it (whose
 * powers drift enough to move a level's ceil() now and then). */
static double as_typed(float v)
{
    char text[32];
    snprintf(text, sizeof text, "%.7g", (double)v);
    return strtod(text, NULL);
}

int main(int argc, char **argv)
{
    detect_args a;
    sc_mtcnn_options mo = sc_mtcnn_defaults();
    int rc = parse_args(argc, argv, &a, mo.thresholds);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    mo.min_face = as_typed(a.min_face);
    mo.factor = as_typed(a.factor);
    mo.no_mirror = a.no_mirror;
    mo.resize = strcmp(a.resize, "imresize") ? SC_RESIZE_IMRESAMPLE : SC_RESIZE_IMRESIZE;
    sc_photo_list photos = {0};
    detect_run r = {.a = &a};
    rc = load_photos(&a, &photos);
    if (rc == SC_CLI_CONTINUE)
        rc = setup(&r, &mo);
    if (rc == SC_CLI_CONTINUE)
        rc = run(&r, &photos);
    if (r.out.f && !r.out.is_stdout && fclose(r.out.f) != 0 && rc == SC_EXIT_OK) {
        fprintf(stderr, "sphere-detect: %s: write error\n", a.out);
        rc = SC_EXIT_FAILED;
    }
    sc_mtcnn_destroy(r.det);
    sc_ctx_destroy(r.ctx);
    sc_photo_list_free(&photos);
    return rc;
}
