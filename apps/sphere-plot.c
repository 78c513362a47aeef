/* sphere-plot: figures from SphereCL's own outputs, as PNG, with nothing
 * outside the project (plot.h draws, image_write.h encodes):
 *  - training curves: loss, accuracy, lambda and lr against the iteration
 *    from one or more sphere-train --log-json files, one colour per run;
 *  - a 2-D feature scatter from a sphere-extract text file, one colour per
 *    label, raw and L2-normalised (on the unit circle) side by side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "features_io.h"
#include "image_list.h"
#include "image_write.h"
#include "plot.h"
#include "train_log.h"

typedef struct plot_args {
    sc_cli_list curves, labels;
    const char *features, *list, *out, *title;
    int width, height, max_points, scale;
    float point_size;
} plot_args;

static const char k_description[] =
    "Draws a PNG from sphere-train or sphere-extract output.\n"
    "--curves LOG (repeat for several runs, each with its --label, default the file name):\n"
    "  four charts of the sphere-train --log-json lines against the iteration: loss,\n"
    "  training accuracy, lambda (A-Softmax; log scale) and lr (log scale).\n"
    "--features FILE: a scatter of 2-D features (sphere-extract's text or .npy), one colour\n"
    "  per label, raw on the left and L2-normalised (on the unit circle) on the right. The\n"
    "  label of a row is its label in --list (a Caffe list \"relpath label\") or else the\n"
    "  first folder of its path (LFW's <Name>/, MNIST's <digit>/).\n";

static int parse_args(int argc, char **argv, plot_args *a)
{
    memset(a, 0, sizeof *a);
    a->width = 0, a->height = 0, a->max_points = 0, a->scale = 2, a->point_size = 1.5f;
    const sc_opt opts[] = {
        {SC_LIST("--curves", &a->curves, "LOG", "a sphere-train --log-json file (repeatable)")},
        {SC_LIST("--label", &a->labels, "NAME", "legend name of the n-th --curves (repeatable)"),
         .default_text = "the file name"},
        {SC_STR("--features", &a->features, "FILE", "2-D features from sphere-extract")},
        {SC_STR("--list", &a->list, "LIST", "labels of the feature rows (Caffe list)"),
         .default_text = "the first folder of each path"},
        {SC_STR("--out", &a->out, "FILE", "PNG to write"), .required = 1},
        {SC_STR("--title", &a->title, "TEXT", "figure title"), .default_text = "none"},
        {SC_INT("--width", &a->width, "N", "image width in pixels", 200, 8000),
         .default_text = "1400 (curves), 1600 (features)"},
        {SC_INT("--height", &a->height, "N", "image height in pixels", 200, 8000),
         .default_text = "1000 (curves), 820 (features)"},
        {SC_INT("--max-points", &a->max_points, "N", "plot every k-th row so at most N (0: all)",
                0, 100000000)},
        {SC_FLOAT("--point-size", &a->point_size, "R", "dot radius in pixels", 0.5, 20)},
        {SC_INT("--scale", &a->scale, "N", "font scale (1: 5x7 pixels)", 1, 8)},
    };
    const sc_cli cli = {.prog = "sphere-plot",
                        .synopsis = "(--curves LOG [--label NAME] ... | --features FILE) --out PNG "
                                    "[options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc == SC_CLI_CONTINUE && (a->curves.count > 0) == (a->features != NULL))
        rc = sc_cli_usage_error(&cli, "give either --curves (one or more) or --features");
    if (rc == SC_CLI_CONTINUE && a->labels.count > a->curves.count)
        rc = sc_cli_usage_error(&cli, "%d --label for %d --curves", a->labels.count,
                                a->curves.count);
    if (rc == SC_CLI_CONTINUE && a->list && !a->features)
        rc = sc_cli_usage_error(&cli, "--list goes with --features");
    return rc;
}

/* ------------------------------------------------------------ figure */

typedef struct figure {
    sc_canvas cv;
    int top;      /* pixels the title takes */
} figure;

static int figure_start(figure *fg, const plot_args *a, int w, int h)
{
    sc_error err = {0};
    if (sc_canvas_create(&fg->cv, a->width ? a->width : w, a->height ? a->height : h, 0xffffff,
                         &err) != SC_OK) {
        fprintf(stderr, "sphere-plot: %s\n", err.msg);
        return 0;
    }
    fg->top = 0;
    if (a->title) {
        /* one step above the charts' text, smaller when that would not fit */
        int s = a->scale + 1;
        while (s > 1 && sc_text_width(a->title, s) > fg->cv.img.w - 8)
            s--;
        sc_canvas_text(&fg->cv, (fg->cv.img.w - sc_text_width(a->title, s)) / 2, 4 * s, a->title,
                       0x000000, s, 0);
        fg->top = sc_text_height(s) + 6 * s;
    }
    return 1;
}

static int figure_finish(figure *fg, const char *out)
{
    sc_error err = {0};
    int ok = sc_image_write_png(out, &fg->cv.img, &err) == SC_OK;
    if (ok)
        printf("sphere-plot: wrote %s (%dx%d)\n", out, fg->cv.img.w, fg->cv.img.h);
    else
        fprintf(stderr, "sphere-plot: %s\n", err.msg);
    sc_canvas_free(&fg->cv);
    return ok ? SC_EXIT_OK : SC_EXIT_FAILED;
}

/* Chart k of a rows x cols grid below the title. */
static int draw_cell(figure *fg, int k, int rows, int cols, const sc_chart *c)
{
    int w = fg->cv.img.w / cols, h = (fg->cv.img.h - fg->top) / rows;
    sc_error err = {0};
    if (sc_chart_draw(&fg->cv, (k % cols) * w, fg->top + (k / cols) * h, w, h, c, &err) != SC_OK) {
        fprintf(stderr, "sphere-plot: %s (make --width/--height larger)\n", err.msg);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ curves */

/* "runs/m4/train.log.jsonl" -> "train.log" */
static void file_label(const char *path, char *dst, size_t cap)
{
    const char *base = strrchr(path, '/');
    snprintf(dst, cap, "%s", base ? base + 1 : path);
    char *dot = strrchr(dst, '.');
    if (dot && dot != dst)
        *dot = '\0';
}

static int read_logs(const plot_args *a, sc_train_log *logs, char names[][256])
{
    for (int i = 0; i < a->curves.count; i++) {
        sc_error err = {0};
        sc_status st = sc_train_log_read(a->curves.items[i], &logs[i], &err);
        if (st != SC_OK) {
            fprintf(stderr, "sphere-plot: %s\n", err.msg);
            return sc_cli_input_status(st);
        }
        if (i < a->labels.count)
            snprintf(names[i], 256, "%s", a->labels.items[i]);
        else
            file_label(a->curves.items[i], names[i], 256);
    }
    return SC_EXIT_OK;
}

static int draw_curves(const plot_args *a, sc_train_log *logs, char names[][256])
{
    static const struct {
        sc_train_field field;
        const char *title;
        int log_y;
    } k_panels[4] = {{SC_LOG_LOSS, "training loss", 0},
                     {SC_LOG_ACCURACY, "training accuracy", 0},
                     {SC_LOG_LAMBDA, "A-Softmax lambda", 1},
                     {SC_LOG_LR, "learning rate", 1}};
    figure fg;
    if (!figure_start(&fg, a, 1400, 1000))
        return SC_EXIT_FAILED;
    sc_series series[16];
    int ok = 1;
    for (int p = 0; ok && p < 4; p++) {
        for (int i = 0; i < a->curves.count; i++)
            series[i] = (sc_series){.label = names[i], .x = logs[i].iter,
                                    .y = logs[i].v[k_panels[p].field], .n = logs[i].n,
                                    .rgb = sc_plot_color((size_t)i), .kind = SC_SERIES_LINE};
        sc_chart c = {.title = k_panels[p].title, .xlabel = "iteration",
                      .ylabel = sc_train_field_key(k_panels[p].field), .series = series,
                      .n_series = (size_t)a->curves.count, .log_y = k_panels[p].log_y,
                      .legend = 1, .scale = a->scale};
        ok = draw_cell(&fg, p, 2, 2, &c);
    }
    if (!ok) {
        sc_canvas_free(&fg.cv);
        return SC_EXIT_USAGE;
    }
    return figure_finish(&fg, a->out);
}

static int plot_curves(const plot_args *a)
{
    sc_train_log logs[16];
    char names[16][256];
    memset(logs, 0, sizeof logs);
    int rc = read_logs(a, logs, names);
    if (rc == SC_EXIT_OK)
        rc = draw_curves(a, logs, names);
    for (int i = 0; i < a->curves.count; i++)
        sc_train_log_free(&logs[i]);
    return rc;
}

/* ---------------------------------------------------------- features */

/* The rows' class names: from the list (by path) or the first folder. */
typedef struct classes {
    char **name;       /* per row */
    char **distinct;   /* sorted */
    size_t n_distinct;
    size_t *of_row;    /* index into distinct */
} classes;

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Names that are all digits sort as numbers ("2" before "10"). */
static int cmp_class(const void *x, const void *y)
{
    const char *p = *(char *const *)x, *q = *(char *const *)y;
    size_t np = strspn(p, "0123456789"), nq = strspn(q, "0123456789");
    if (np == strlen(p) && nq == strlen(q) && np != nq)
        return np < nq ? -1 : 1;
    return strcmp(p, q);
}

typedef struct list_index {
    char **paths; /* sorted "relpath\tlabel" */
    size_t n;
} list_index;

static const char *lookup_label(const list_index *ix, const char *rel, char *buf, size_t cap)
{
    size_t lo = 0, hi = ix->n, len = strlen(rel);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(ix->paths[mid], rel, len);
        if (c == 0 && ix->paths[mid][len] == '\t') {
            snprintf(buf, cap, "%s", ix->paths[mid] + len + 1);
            return buf;
        }
        if (c < 0 || (c == 0 && ix->paths[mid][len] < '\t'))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int index_list(const char *path, list_index *ix)
{
    sc_image_list l = {0};
    sc_error err = {0};
    sc_status st = sc_image_list_load(path, &l, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-plot: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    ix->n = l.count;
    ix->paths = calloc(l.count + 1, sizeof *ix->paths);
    for (size_t i = 0; ix->paths && i < l.count; i++) {
        size_t need = strlen(l.items[i].path) + 16;
        if ((ix->paths[i] = malloc(need)))
            snprintf(ix->paths[i], need, "%s\t%d", l.items[i].path, l.items[i].label);
    }
    sc_image_list_free(&l);
    for (size_t i = 0; ix->paths && i < ix->n; i++)
        if (!ix->paths[i])
            return SC_EXIT_FAILED;
    if (!ix->paths)
        return SC_EXIT_FAILED;
    qsort(ix->paths, ix->n, sizeof *ix->paths, cmp_str);
    return SC_EXIT_OK;
}

static void free_index(list_index *ix)
{
    for (size_t i = 0; ix->paths && i < ix->n; i++)
        free(ix->paths[i]);
    free(ix->paths);
}

static int name_rows(const sc_features *f, const list_index *ix, const char *list, classes *c)
{
    c->name = calloc(f->n + 1, sizeof *c->name);
    if (!c->name)
        return SC_EXIT_FAILED;
    for (size_t i = 0; i < f->n; i++) {
        char buf[64];
        const char *rel = f->names[i], *label = NULL;
        if (ix->paths && !(label = lookup_label(ix, rel, buf, sizeof buf))) {
            fprintf(stderr, "sphere-plot: %s is not in %s\n", rel, list);
            return SC_EXIT_USAGE;
        }
        size_t len = label ? strlen(label) : strcspn(rel, "/");
        if (!(c->name[i] = malloc(len + 1)))
            return SC_EXIT_FAILED;
        memcpy(c->name[i], label ? label : rel, len);
        c->name[i][len] = '\0';
    }
    return SC_EXIT_OK;
}

static size_t find_class(const classes *c, const char *name)
{
    size_t lo = 0, hi = c->n_distinct;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = cmp_class(&c->distinct[mid], &name);
        if (r == 0)
            return mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int group_rows(size_t n, classes *c)
{
    c->distinct = malloc((n + 1) * sizeof *c->distinct);
    c->of_row = malloc((n + 1) * sizeof *c->of_row);
    if (!c->distinct || !c->of_row)
        return SC_EXIT_FAILED;
    memcpy(c->distinct, c->name, n * sizeof *c->name);
    qsort(c->distinct, n, sizeof *c->distinct, cmp_class);
    for (size_t i = 0; i < n; i++)
        if (c->n_distinct == 0 || cmp_class(&c->distinct[c->n_distinct - 1], &c->distinct[i]))
            c->distinct[c->n_distinct++] = c->distinct[i];
    for (size_t i = 0; i < n; i++)
        c->of_row[i] = find_class(c, c->name[i]);
    return SC_EXIT_OK;
}

static void free_classes(classes *c, size_t n)
{
    for (size_t i = 0; c->name && i < n; i++)
        free(c->name[i]);
    free(c->name);
    free(c->distinct);
    free(c->of_row);
}

/* Per class: its rows' raw and normalised coordinates (every k-th row). */
typedef struct scatter {
    double *x, *y, *nx, *ny;
    size_t *start, *count; /* per class, into the arrays */
} scatter;

static int build_scatter(const sc_features *f, const classes *c, size_t every, scatter *s)
{
    size_t n = f->n, k = c->n_distinct;
    s->x = malloc((n + 1) * sizeof *s->x), s->y = malloc((n + 1) * sizeof *s->y);
    s->nx = malloc((n + 1) * sizeof *s->nx), s->ny = malloc((n + 1) * sizeof *s->ny);
    s->start = calloc(k + 1, sizeof *s->start), s->count = calloc(k + 1, sizeof *s->count);
    if (!s->x || !s->y || !s->nx || !s->ny || !s->start || !s->count)
        return 0;
    for (size_t i = 0; i < n; i += every)
        s->count[c->of_row[i]]++;
    for (size_t j = 1; j < k; j++)
        s->start[j] = s->start[j - 1] + s->count[j - 1];
    size_t *fill = calloc(k + 1, sizeof *fill);
    if (!fill)
        return 0;
    for (size_t i = 0; i < n; i += every) {
        size_t j = c->of_row[i], at = s->start[j] + fill[j]++;
        double x = f->rows[2 * i], y = f->rows[2 * i + 1], r = hypot(x, y);
        s->x[at] = x, s->y[at] = y;
        s->nx[at] = r > 0 ? x / r : NAN, s->ny[at] = r > 0 ? y / r : NAN;
    }
    free(fill);
    return 1;
}

static void free_scatter(scatter *s)
{
    free(s->x), free(s->y), free(s->nx), free(s->ny), free(s->start), free(s->count);
}

/* A legend of more than a dozen classes would cover the points. */
#define LEGEND_MAX 12

static int draw_scatter(const plot_args *a, const classes *c, const scatter *s, size_t shown)
{
    size_t k = c->n_distinct;
    sc_series *raw = calloc(k, sizeof *raw), *norm = calloc(k, sizeof *norm);
    figure fg;
    if (!raw || !norm || !figure_start(&fg, a, 1600, 820)) {
        free(raw), free(norm);
        return SC_EXIT_FAILED;
    }
    for (size_t j = 0; j < k; j++) {
        sc_series base = {.label = k <= LEGEND_MAX ? c->distinct[j] : NULL, .n = s->count[j],
                          .rgb = sc_plot_color(j), .kind = SC_SERIES_POINTS,
                          .size = a->point_size, .alpha = 0.6};
        raw[j] = norm[j] = base;
        raw[j].x = s->x + s->start[j], raw[j].y = s->y + s->start[j];
        norm[j].x = s->nx + s->start[j], norm[j].y = s->ny + s->start[j];
        norm[j].size = 2 * a->point_size; /* on one curve: larger, or the circle hides them */
        norm[j].label = NULL;             /* the raw chart's legend names the colours */
    }
    char t1[128], t2[128];
    snprintf(t1, sizeof t1, "raw features (%zu points)", shown);
    snprintf(t2, sizeof t2, "L2-normalised: x / |x|");
    sc_chart cr = {.title = t1, .xlabel = "x1", .ylabel = "x2", .series = raw, .n_series = k,
                   .equal_aspect = 1, .legend = 1, .scale = a->scale};
    sc_chart cn = {.title = t2, .xlabel = "x1 / |x|", .ylabel = "x2 / |x|", .series = norm,
                   .n_series = k, .equal_aspect = 1, .unit_circle = 1, .fixed_x = 1,
                   .fixed_y = 1, .xlim = {-1.15, 1.15}, .ylim = {-1.15, 1.15},
                   .scale = a->scale};
    int ok = draw_cell(&fg, 0, 1, 2, &cr) && draw_cell(&fg, 1, 1, 2, &cn);
    free(raw), free(norm);
    if (!ok) {
        sc_canvas_free(&fg.cv);
        return SC_EXIT_USAGE;
    }
    return figure_finish(&fg, a->out);
}

static int check_features(const plot_args *a, const sc_features *f)
{
    if (f->dim != 2 || f->n == 0) {
        fprintf(stderr, "sphere-plot: %s has %zu rows of %zu values; the scatter needs 2-D "
                "features (a feature layer of 2 outputs)\n", a->features, f->n, f->dim);
        return SC_EXIT_USAGE;
    }
    return SC_EXIT_OK;
}

static int plot_features(const plot_args *a)
{
    sc_features f = {0};
    sc_error err = {0};
    sc_status st = sc_features_read(a->features, &f, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-plot: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    list_index ix = {0};
    classes c = {0};
    scatter s = {0};
    int rc = check_features(a, &f);
    if (rc == SC_EXIT_OK && a->list)
        rc = index_list(a->list, &ix);
    if (rc == SC_EXIT_OK)
        rc = name_rows(&f, &ix, a->list, &c);
    if (rc == SC_EXIT_OK)
        rc = group_rows(f.n, &c);
    size_t every = a->max_points > 0 && f.n > (size_t)a->max_points
                       ? (f.n + (size_t)a->max_points - 1) / (size_t)a->max_points : 1;
    if (rc == SC_EXIT_OK)
        rc = build_scatter(&f, &c, every, &s) ? SC_EXIT_OK : SC_EXIT_FAILED;
    if (rc == SC_EXIT_OK)
        rc = draw_scatter(a, &c, &s, (f.n + every - 1) / every);
    free_scatter(&s);
    free_classes(&c, f.n);
    free_index(&ix);
    sc_features_free(&f);
    return rc;
}

int main(int argc, char **argv)
{
    plot_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    return a.features ? plot_features(&a) : plot_curves(&a);
}
