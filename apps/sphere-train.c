/* sphere-train: trains a Caffe net with SGD, as `caffe train` does, on any
 * OpenCL device: ImageData lists decoded by loader threads, Caffe-style
 * logs, atomic snapshots (every `snapshot` iterations and on SIGINT /
 * SIGTERM) that --snapshot resumes exactly, and a divergence guard. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "loader.h"
#include "sc_solver.h"
#include "sc_dist.h"
#include "snapshot_dir.h"

/* Set by the signal handler, read by the training loop: the one piece of
 * global state, because a signal handler can reach nothing else. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

/* -log(FLT_MIN): the loss SoftmaxWithLoss reports when the target
 * probability underflows, the classic sign of a diverged SphereFace run. */
#define STUCK_LOSS 87.3365
#define STUCK_ITERATIONS 20

typedef struct train_args {
    const char *solver, *snapshot, *weights, *device, *asoftmax;
    const char *log_json; /* JSON Lines file, one object per display line */
    long long seed;     /* -1: solver random_seed, else 1 */
    int max_iter;       /* -1: solver's */
    int threads;
    int resize;
    float mpi_timeout;
} train_args;

typedef struct trainer {
    train_args args;
    sc_ctx *ctx;
    sc_solver_params sp;
    sc_solver *solver;
    sc_net *net;
    sc_loader *loader;
    const char *data_blob, *label_blob;
    /* Host batches uploaded without waiting: a ring of two iterations' worth.
     * A slot is refilled two iterations after its upload, when the solver has
     * collected a later iteration: the upload, earlier in the queue, is done. */
    float **data, **labels;
    int n_staging, next_staging;
    size_t data_count;
    uint64_t seed;
    int tty;
    int exit_status; /* of a failed setup step: 2 when the input was refused */
    size_t snapshot_syncs; /* host-blocking calls spent writing snapshots */
    /* data-parallel (mpirun -np N): this rank, the global batch split N ways */
    sc_dist *dist;
    int rank, ranks, global_batch;
    int stop_requested;    /* every rank saw a stop in the reduced monitor */
    double reduce_s;       /* time spent in the all-reduces (host thread) */
    int reduces;
    size_t reduce_floats;
    char device[256];      /* this rank's entry of a --device list */
    char last_snapshot[4200];
    FILE *log_json;        /* --log-json, open for appending (rank 0 only) */
} trainer;

/* Prints a setup failure and records its exit status. */
static int setup_failed(trainer *t, sc_status st, const char *msg)
{
    fprintf(stderr, "sphere-train: %s\n", msg);
    t->exit_status = sc_cli_input_status(st);
    return 0;
}

static const char k_description[] =
    "Trains the solver's net as `caffe train` does. --snapshot resumes a run exactly (weights\n"
    "from the .caffemodel next to it); --weights initialises from a caffemodel (fine-tuning).\n"
    "Snapshots are written every `snapshot` iterations, at the end, and on SIGINT/SIGTERM.\n"
    "Every image of the ImageData list must fit the net's input (after image_data_param's\n"
    "new_height/new_width, if set) unless --resize converts it (bilinear).\n"
    "Under `mpirun -np N` (a build with MPI) the ranks train one model together: the data\n"
    "layer's batch_size is the global batch, split N ways (it must divide); each rank reads\n"
    "its own slice of every global batch, gradients are averaged with MPI_Allreduce before\n"
    "each update, rank 0 logs and snapshots, and a run resumes with any rank count that\n"
    "divides the global batch. --device 0,1 gives rank r the r-th device of the list.\n";

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->seed = -1;
    a->max_iter = -1;
    a->threads = 2;
    a->mpi_timeout = 600;
    const sc_opt opts[] = {
        {SC_STR("--solver", &a->solver, "FILE", "solver prototxt"), .required = 1},
        {SC_STR("--snapshot", &a->snapshot, "FILE", "resume from this .solverstate")},
        {SC_STR("--weights", &a->weights, "FILE", "initial weights (.caffemodel)")},
        {SC_INT64("--seed", &a->seed, "N", "weight fillers, data order, mirroring", 0,
                  9007199254740991.0), .default_text = "the solver's random_seed, else 1"},
        {SC_INT("--max-iter", &a->max_iter, "N", "stop at this iteration", 0, 2147483647),
         .default_text = "the solver's max_iter"},
        {SC_CHOICE("--asoftmax", &a->asoftmax, "caffe|exact",
                   "A-Softmax backward: Caffe's or the true gradient"),
         .default_text = "caffe"},
        {SC_INT("--threads", &a->threads, "N", "image decoding threads", 1, 256)},
        {SC_FLOAT("--mpi-timeout", &a->mpi_timeout, "S",
                  "under mpirun: seconds to wait for the other ranks before stopping the job", 1,
                  86400)},
        {SC_FLAG("--resize", &a->resize, "resize images to the net's input")},
        {SC_STR("--log-json", &a->log_json, "FILE",
                "also append every display line to FILE as one JSON object (JSON Lines)"),
         .default_text = "none"},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-train", .synopsis = "--solver S.prototxt [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* ------------------------------------------------------------ data */

static const sc_pt_node *find_image_data(const sc_net *net, size_t *index)
{
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        if (li.reads_images) {
            *index = i;
            return sc_net_layer_def(net, i);
        }
    }
    return NULL;
}

static void read_transform(const sc_pt_node *def, sc_loader_config *c)
{
    const sc_pt_node *tp = sc_pt_find(def, "transform_param", 0);
    double v = 1.0;
    int b = 0;
    long long crop = 0;
    c->scale = 1.0f;
    if (!tp)
        return;
    if (sc_pt_get_float(tp, "scale", 1.0, &v, NULL) == SC_OK)
        c->scale = (float)v;
    if (sc_pt_get_bool(tp, "mirror", 0, &b, NULL) == SC_OK)
        c->mirror = b;
    if (sc_pt_get_int(tp, "crop_size", 0, &crop, NULL) == SC_OK)
        c->crop_size = (int)crop;
    size_t n = sc_pt_count(tp, "mean_value");
    for (size_t i = 0; i < 3 && n > 0; i++) {
        double m = 0;
        sc_pt_float_at(sc_pt_find(tp, "mean_value", i < n ? i : 0), &m, NULL);
        c->mean[i] = (float)m;
    }
}

/* The loss layer's loss_param.ignore_label, the one negative label a list may hold. */
static void read_ignore_label(const sc_net *net, sc_loader_config *c)
{
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        const sc_pt_node *lp = sc_pt_find(sc_net_layer_def(net, i), "loss_param", 0);
        long long v;
        if (!li.is_loss || !li.takes_labels || !lp || !sc_pt_find(lp, "ignore_label", 0) ||
            sc_pt_get_int(lp, "ignore_label", -1, &v, NULL) != SC_OK)
            continue;
        c->has_ignore_label = 1;
        c->ignore_label = (int)v;
    }
}

static void print_progress(void *user, size_t done, size_t total)
{
    const trainer *t = user;
    if (t->tty)
        printf("\r  checking images: %zu / %zu", done, total);
    if (t->tty && done == total)
        printf("\n");
    fflush(stdout);
}

static int make_loader(trainer *t)
{
    size_t li = 0;
    const sc_pt_node *def = find_image_data(t->net, &li);
    if (!def) {
        char msg[4400];
        snprintf(msg, sizeof msg, "%s has no ImageData layer to read training images", t->sp.net);
        return setup_failed(t, SC_ERR_PARSE, msg);
    }
    t->data_blob = sc_net_layer_top(t->net, li, 0);
    t->label_blob = sc_net_layer_top(t->net, li, 1);
    sc_blob_info b;
    sc_net_blob(t->net, t->data_blob, &b);
    const sc_pt_node *idp = sc_pt_find(def, "image_data_param", 0);
    const char *source = "", *root = "";
    int shuffle = 0;
    sc_pt_get_string(idp, "source", "", &source, NULL);
    sc_pt_get_string(idp, "root_folder", "", &root, NULL);
    sc_pt_get_bool(idp, "shuffle", 0, &shuffle, NULL);
    long long new_h = 0, new_w = 0;
    sc_pt_get_int(idp, "new_height", 0, &new_h, NULL);
    sc_pt_get_int(idp, "new_width", 0, &new_w, NULL);
    char list[4096], net_dir[4096];
    sc_path_dir(t->sp.net, net_dir, sizeof net_dir);
    sc_path_resolve(source, net_dir, list, sizeof list);
    sc_loader_config c = {.list_path = list, .root_folder = root, .batch = b.dims[0],
                          .shard_index = t->rank, .shard_count = t->ranks,
                          .channels = b.dims[1], .height = b.dims[2], .width = b.dims[3],
                          .train = 1, .shuffle = shuffle, .bgr = 1, .seed = t->seed,
                          .threads = t->args.threads, .prefetch = 3};
    read_transform(def, &c);
    read_ignore_label(t->net, &c);
    if (new_h > 0 && new_w > 0) { /* Caffe resizes to new_height x new_width, then crops */
        c.resize_h = (int)new_h;
        c.resize_w = (int)new_w;
    } else if (t->args.resize && !c.crop_size) {
        c.resize_h = c.height;
        c.resize_w = c.width;
    }
    printf("Loading %s (root '%s') ...\n", list, root);
    sc_error err = {0};
    sc_status st = sc_loader_create(&c, print_progress, t, &t->loader, &err);
    if (st != SC_OK)
        return setup_failed(t, st, err.msg);
    for (size_t i = 0; i < sc_loader_bad_count(t->loader); i++)
        printf("skipped bad image: %s\n", sc_loader_bad(t->loader, i));
    printf("%zu images usable, %zu of %zu list entries skipped\n", sc_loader_size(t->loader),
           sc_loader_bad_count(t->loader), sc_loader_listed(t->loader));
    t->data_count = b.count;
    t->n_staging = SC_SOLVER_PIPELINE * t->sp.iter_size;
    t->data = calloc((size_t)t->n_staging, sizeof *t->data);
    t->labels = calloc((size_t)t->n_staging, sizeof *t->labels);
    for (int i = 0; t->data && t->labels && i < t->n_staging; i++) {
        t->data[i] = malloc(b.count * sizeof **t->data);
        t->labels[i] = malloc((size_t)b.dims[0] * sizeof **t->labels);
        if (!t->data[i] || !t->labels[i])
            return setup_failed(t, SC_ERR_NOMEM, "out of host memory for the input batches");
    }
    return t->data && t->labels ? 1 : setup_failed(t, SC_ERR_NOMEM, "out of host memory");
}

/* Labels must index the classifier's outputs, or the loss is meaningless. */
static int check_labels(trainer *t)
{
    for (size_t i = 0; i < sc_net_layer_count(t->net); i++) {
        sc_layer_info li;
        sc_net_layer(t->net, i, &li);
        if (!li.takes_labels)
            continue;
        sc_blob_info scores;
        sc_net_blob(t->net, sc_net_layer_bottom(t->net, i, 0), &scores);
        int classes = scores.ndim > 1 ? scores.dims[1] : 1;
        if (sc_loader_max_label(t->loader) >= classes) {
            char msg[1024];
            snprintf(msg, sizeof msg, "the list has label %d but %s has %d classes (set "
                     "num_output of the classifier to at least %d)",
                     sc_loader_max_label(t->loader), li.name, classes,
                     sc_loader_max_label(t->loader) + 1);
            return setup_failed((trainer *)t, SC_ERR_SHAPE, msg);
        }
    }
    return 1;
}

/* The next batch from the loader threads into a staging slot, uploaded
 * without waiting (see trainer.data). */
static sc_status feed(void *user, sc_net *net)
{
    trainer *t = user;
    int k = t->next_staging;
    t->next_staging = (k + 1) % t->n_staging;
    sc_error err = {0};
    if (sc_loader_next(t->loader, t->data[k], t->labels[k], &err) != SC_OK)
        return sc_fail(sc_ctx_error(t->ctx), err.status, "%s", err.msg);
    sc_blob_info d, l;
    SC_TRY(sc_net_blob(net, t->data_blob, &d));
    SC_TRY(sc_net_blob(net, t->label_blob, &l));
    if (d.count != t->data_count || l.count != (size_t)sc_net_batch(net))
        return sc_fail(sc_ctx_error(t->ctx), SC_ERR_SHAPE, "input blobs changed shape");
    SC_TRY(sc_buffer_write_async(t->ctx, d.data, 0, d.count * sizeof(float), t->data[k], NULL));
    return sc_buffer_write_async(t->ctx, l.data, 0, l.count * sizeof(float), t->labels[k], NULL);
}

/* ------------------------------------------------------- snapshots */

typedef struct loader_state {
    char magic[8];
    uint64_t seed;
    uint64_t position;
} loader_state;

/* The divergence message (always 0, the loop's failure). */
static int diverged(const trainer *t, int iter, const char *what)
{
    fprintf(stderr,
            "sphere-train: training diverged at iteration %d: %s.\n"
            "  last good snapshot: %s\n"
            "  hint: lower base_lr (e.g. by 10x), keep lambda_min >= 5 for A-Softmax m=4, and "
            "check that labels are in range and the images are normalised.\n",
            iter, what, t->last_snapshot[0] ? t->last_snapshot : "(none)");
    return 0;
}

static int write_snapshot(trainer *t);

/* A snapshot, its host-blocking calls counted apart from the loop's. */
static int snapshot(trainer *t)
{
    if (t->rank != 0)
        return 1; /* rank 0 writes; every rank holds the same weights */
    size_t before = sc_ctx_sync_stats(t->ctx).blocking_calls;
    int ok = write_snapshot(t);
    t->snapshot_syncs += sc_ctx_sync_stats(t->ctx).blocking_calls - before;
    return ok;
}

static int write_snapshot(trainer *t)
{
    int iter = sc_solver_iter(t->solver), finite = 0;
    if (sc_solver_params_finite(t->solver, &finite) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    if (!finite)
        return diverged(t, iter, "the weights are not finite (NaN or infinity); no snapshot "
                                 "written");
    char model[4200], state[4200];
    const char *prefix = t->sp.snapshot_prefix;
    snprintf(model, sizeof model, "%s_iter_%d.caffemodel", prefix, iter);
    snprintf(state, sizeof state, "%s_iter_%d.solverstate", prefix, iter);
    sc_error err = {0};
    if (sc_mkdirs_for_file(model, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", err.msg);
        return 0;
    }
    loader_state ls = {.magic = "SCLOADR", .seed = t->seed,
                       .position = t->loader ? sc_loader_position(t->loader) : 0};
    if (sc_net_save_weights(t->net, model) != SC_OK ||
        sc_solver_save_state(t->solver, state, model, &ls, sizeof ls) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    printf("Snapshotting to %s and %s\n", model, state);
    snprintf(t->last_snapshot, sizeof t->last_snapshot, "%s", state);
    return 1;
}

/* X.solverstate -> X.caffemodel */
static void model_of_state(const char *state, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", state);
    char *dot = strrchr(dst, '.');
    if (dot && !strcmp(dot, ".solverstate"))
        snprintf(dot, cap - (size_t)(dot - dst), ".caffemodel");
}

static int restore(trainer *t)
{
    char model[4200];
    model_of_state(t->args.snapshot, model, sizeof model);
    void *user = NULL;
    size_t user_size = 0;
    sc_status st; /* the state first: a missing or foreign state is named as such */
    if ((st = sc_solver_load_state(t->solver, t->args.snapshot, model, &user, &user_size)) !=
            SC_OK ||
        (st = sc_net_load_weights(t->net, model, NULL, 0)) != SC_OK) {
        char msg[4400];
        snprintf(msg, sizeof msg, "cannot resume: %s", sc_ctx_message(t->ctx));
        free(user);
        return setup_failed(t, st, msg);
    }
    loader_state ls;
    int ok = user_size == sizeof ls;
    if (ok) {
        memcpy(&ls, user, sizeof ls);
        ok = !memcmp(ls.magic, "SCLOADR", 8) && ls.seed == t->seed;
    }
    free(user);
    if (!ok) {
        char msg[4400];
        snprintf(msg, sizeof msg, "%s was written by a run with another seed or data layout; "
                 "resume with the same --seed", t->args.snapshot);
        return setup_failed(t, SC_ERR_ARG, msg);
    }
    sc_error err = {0};
    if (sc_loader_seek(t->loader, ls.position, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", err.msg);
        return 0;
    }
    printf("Resumed from %s at iteration %d\n", t->args.snapshot, sc_solver_iter(t->solver));
    return 1;
}

/* ---------------------------------------------------------- the loop */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_eta(double seconds, char *buf, size_t cap)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else
        snprintf(buf, cap, "%ldm%02lds", s / 60, s % 60);
}

typedef struct loop_state {
    double t_start, t_window;
    int iter_start, iter_window;
    double loss_sum, acc_sum; /* over the iterations since the last display */
    int loss_n, acc_n, stuck;
    int max_iter;
} loop_state;

/* One display line as a JSON object. */
typedef struct json_point {
    int iter;
    double loss, accuracy, lambda, lr, img_s, wall_s; /* NaN: the net has none */
} json_point;

/* A number, or null where JSON has no spelling for it (NaN, infinity) or the
 * net has no such value (no Accuracy layer, no A-Softmax lambda). %.9g keeps
 * every float digit, so the file round-trips the logged values. */
static void json_number(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.9g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

/* Appends one JSON object and flushes it, so a plot of a run still in
 * progress (or killed) reads whole lines only. A failed write is reported
 * once and the file dropped: losing the log must not stop the training. */
static void log_json_line(trainer *t, const json_point *p)
{
    if (!t->log_json)
        return;
    FILE *f = t->log_json;
    fprintf(f, "{\"iteration\":%d", p->iter);
    json_number(f, "loss", p->loss);
    json_number(f, "accuracy", p->accuracy);
    json_number(f, "lambda", p->lambda);
    json_number(f, "lr", p->lr);
    json_number(f, "img_s", p->img_s);
    json_number(f, "wall_s", p->wall_s);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        fprintf(stderr, "sphere-train: --log-json %s: write failed; no more JSON lines\n",
                t->args.log_json);
        fclose(f);
        t->log_json = NULL;
    }
}

/* Loss and training accuracy are means over the iterations since the last
 * display line; lambda and lr are those of the last iteration. */
static void log_display(trainer *t, loop_state *ls, const sc_step_result *r)
{
    int iter = r->iter;
    double now = now_s();
    double ips = (iter - ls->iter_window) * (double)sc_net_batch(t->net) * t->ranks /
                 fmax(now - ls->t_window, 1e-9);
    double rate = (iter - ls->iter_start) / fmax(now - ls->t_start, 1e-9);
    char eta[32];
    format_eta(rate > 0 ? (ls->max_iter - iter) / rate : 0, eta, sizeof eta);
    if (t->tty)
        printf("\r\033[K");
    printf("Iteration %d (%.1f img/s), loss = %.7g", iter, ips, ls->loss_sum / ls->loss_n);
    if (ls->acc_n > 0)
        printf(", accuracy = %.4f", ls->acc_sum / ls->acc_n);
    const char *layer;
    long long it;
    float lambda = NAN;
    if (sc_net_state_count(t->net) > 0 && sc_net_state_get(t->net, 0, &layer, &it, &lambda) == SC_OK)
        printf(", lambda = %.4g", lambda); /* read only here: a host sync */
    printf(", lr = %.6g, ETA %s\n", r->lr, eta);
    fflush(stdout);
    json_point p = {.iter = iter, .loss = ls->loss_sum / ls->loss_n,
                    .accuracy = ls->acc_n > 0 ? ls->acc_sum / ls->acc_n : NAN,
                    .lambda = lambda, .lr = r->lr, .img_s = ips, .wall_s = now - ls->t_start};
    log_json_line(t, &p);
    ls->t_window = now;
    ls->iter_window = iter;
    ls->loss_sum = ls->acc_sum = 0;
    ls->loss_n = ls->acc_n = 0;
}

/* Returns 0 when training must stop because the loss diverged: non-finite
 * (the device flags it), or stuck at -ln(FLT_MIN). */
static int guard(trainer *t, loop_state *ls, const sc_step_result *r)
{
    ls->stuck = fabs(r->loss - STUCK_LOSS) < 1e-3 ? ls->stuck + 1 : 0;
    if (!r->nonfinite && ls->stuck < STUCK_ITERATIONS)
        return 1;
    char why[160];
    if (r->nonfinite)
        snprintf(why, sizeof why, "the loss is not finite (NaN or infinity)");
    else
        snprintf(why, sizeof why, "loss = %g for %d iterations (= -ln(FLT_MIN))", r->loss,
                 STUCK_ITERATIONS);
    return diverged(t, r->iter, why);
}

/* Takes the oldest pending iteration's results: guard, averages, display. */
static int collect_one(trainer *t, loop_state *ls)
{
    sc_step_result r;
    if (sc_solver_collect(t->solver, &r) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    if (!guard(t, ls, &r))
        return 0;
    t->stop_requested |= r.stop;
    ls->loss_sum += r.loss;
    ls->loss_n++;
    if (r.accuracy >= 0) {
        ls->acc_sum += r.accuracy;
        ls->acc_n++;
    }
    if (t->sp.display > 0 && r.iter % t->sp.display == 0)
        log_display(t, ls, &r);
    else if (t->tty) {
        printf("\r  iteration %d / %d, loss %.4f", r.iter, ls->max_iter, r.loss);
        fflush(stdout);
    }
    return 1;
}

static int drain(trainer *t, loop_state *ls)
{
    while (sc_solver_pending(t->solver) > 0)
        if (!collect_one(t, ls))
            return 0;
    return 1;
}

/* The device runs iteration k while the host collects k-1 (one wait per
 * iteration, on results that are normally ready) and the loader threads
 * decode k+1. Returns 1 when done, 2 after a signal's snapshot, 0 on failure. */
static int train_loop(trainer *t, int max_iter)
{
    loop_state ls = {.t_start = now_s(), .iter_start = sc_solver_iter(t->solver),
                     .max_iter = max_iter};
    ls.t_window = ls.t_start;
    ls.iter_window = ls.iter_start;
    int display = t->sp.display;
    while (sc_solver_iter(t->solver) < max_iter) {
        /* one process stops at once; ranks stop together, at the iteration
         * whose reduced monitor carried a rank's signal */
        if (t->ranks == 1 ? g_stop_signal != 0 : t->stop_requested) {
            printf("\nSignal %d: snapshotting and stopping\n", (int)g_stop_signal);
            return drain(t, &ls) && snapshot(t) ? 2 : 0;
        }
        int next = sc_solver_iter(t->solver) + 1;
        if (sc_solver_enqueue(t->solver, feed, t, display > 0 && next % display == 0) != SC_OK) {
            fprintf(stderr, "sphere-train: %s\n", sc_ctx_message(t->ctx));
            return 0;
        }
        if (sc_solver_pending(t->solver) == SC_SOLVER_PIPELINE && !collect_one(t, &ls))
            return 0;
        int snap = t->sp.snapshot > 0 && next % t->sp.snapshot == 0 && next < max_iter;
        if (snap && !(drain(t, &ls) && snapshot(t)))
            return 0;
    }
    return drain(t, &ls) && snapshot(t);
}

/* ------------------------------------------------------------ setup */

/* ------------------------------------------------------ data-parallel */

/* Rank r of a --device list "a,b,c" uses entry r mod count. */
static void pick_device(trainer *t)
{
    const char *list = t->args.device ? t->args.device : getenv("SPHERECL_DEVICE");
    t->device[0] = '\0';
    if (!list)
        return;
    int entries = 1;
    for (const char *p = list; *p; p++)
        entries += *p == ',';
    int want = t->rank % entries;
    const char *p = list;
    for (int i = 0; i < want; i++)
        p = strchr(p, ',') + 1;
    snprintf(t->device, sizeof t->device, "%.*s", (int)strcspn(p, ","), p);
}

/* The data layer's batch_size is the global batch: each rank builds its net
 * for its share. */
static int split_batch(trainer *t, sc_net_options *no)
{
    sc_net_options probe_opts = *no;
    probe_opts.phase = SC_PHASE_TRAIN;
    probe_opts.shapes_only = 1;
    sc_net *probe = NULL;
    sc_status st = sc_net_create(t->ctx, t->sp.net, &probe_opts, &probe);
    if (st != SC_OK)
        return setup_failed(t, st, sc_ctx_message(t->ctx));
    t->global_batch = sc_net_batch(probe);
    sc_net_destroy(probe);
    if (t->global_batch % t->ranks) {
        char msg[256];
        snprintf(msg, sizeof msg, "the global batch %d (the data layer's batch_size) does not "
                 "split into %d ranks", t->global_batch, t->ranks);
        return setup_failed(t, SC_ERR_ARG, msg);
    }
    no->batch = t->global_batch / t->ranks;
    printf("Data-parallel: rank %d of %d, %s; global batch %d, %d per rank\n", t->rank, t->ranks,
           sc_dist_backend(), t->global_batch, no->batch);
    return 1;
}

/* On the runtime's host thread, after backward: the mean gradient and loss
 * of all ranks, and their stop and non-finite flags, so that every rank
 * applies the same update and stops at the same iteration. */
static void reduce_across_ranks(void *user, float *grads, size_t n, float *monitor)
{
    trainer *t = user;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    float flags[2] = {monitor[SC_MONITOR_NONFINITE], g_stop_signal ? 1.0f : 0.0f};
    double timeout = t->args.mpi_timeout;
    if (sc_dist_mean(t->dist, grads, n, timeout, "the gradient all-reduce") != 0 ||
        sc_dist_mean(t->dist, monitor, 2, timeout, "the loss all-reduce") != 0 ||
        sc_dist_any(t->dist, flags, 2, timeout, "the flag all-reduce") != 0)
        flags[0] = 1.0f; /* a failed reduction: the guard stops the run */
    monitor[SC_MONITOR_NONFINITE] = flags[0];
    monitor[SC_MONITOR_STOP] = flags[1];
    clock_gettime(CLOCK_MONOTONIC, &t1);
    t->reduce_s += (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    t->reduces++;
    t->reduce_floats = n;
}

static void print_removed(void *user, const char *path)
{
    (void)user;
    printf("removed %s, left by an interrupted run\n", path);
}

static int setup(trainer *t)
{
    sc_error err = {0};
    sc_status st = sc_solver_params_load(t->args.solver, &t->sp, &err);
    if (st != SC_OK)
        return setup_failed(t, st, err.msg);
    if (t->args.max_iter >= 0)
        t->sp.max_iter = t->args.max_iter;
    if (!t->sp.snapshot_prefix[0]) /* Caffe's default: snapshots next to the working folder */
        snprintf(t->sp.snapshot_prefix, sizeof t->sp.snapshot_prefix, "snapshot");
    if (t->rank == 0 &&
        (st = sc_snapshot_dir_prepare(t->sp.snapshot_prefix, print_removed, NULL, &err)) != SC_OK)
        return setup_failed(t, st, err.msg);
    if (t->rank == 0 && t->args.log_json && !(t->log_json = fopen(t->args.log_json, "a"))) {
        char msg[4400];
        snprintf(msg, sizeof msg, "--log-json: cannot open %s for appending", t->args.log_json);
        return setup_failed(t, SC_ERR_IO, msg);
    }
    t->seed = t->args.seed >= 0 ? (uint64_t)t->args.seed
              : t->sp.random_seed >= 0 ? (uint64_t)t->sp.random_seed : 1;
    pick_device(t);
    sc_ctx_options co = {.selector = t->device[0] ? t->device : NULL};
    if ((st = sc_ctx_create(&co, &t->ctx, &err)) != SC_OK)
        return setup_failed(t, st, err.msg);
    const sc_device_info *d = sc_ctx_info(t->ctx);
    printf("Device: %s (%s, %s), GEMM: %s\n", d->name, sc_device_type_name(d->type), d->platform,
           sc_gemm_provider_name(sc_ctx_gemm_provider(t->ctx)));
    sc_net_options no = {.seed = t->seed,
                         .asoftmax_exact = t->args.asoftmax && !strcmp(t->args.asoftmax, "exact"),
                         .image_size = sc_loader_probe_size};
    if (t->ranks > 1 && !split_batch(t, &no))
        return 0;
    if ((st = sc_solver_create(t->ctx, &t->sp, &no, &t->solver)) != SC_OK)
        return setup_failed(t, st, sc_ctx_message(t->ctx));
    if (t->ranks > 1 && (st = sc_solver_set_reduce(t->solver, reduce_across_ranks, t)) != SC_OK)
        return setup_failed(t, st, sc_ctx_message(t->ctx));
    t->net = sc_solver_net(t->solver);
    sc_net_memory m = sc_net_memory_use(t->net);
    printf("Net %s: batch %d, %.1f MiB activations (%.1f MiB without reuse), %.1f MiB parameters\n",
           sc_net_name(t->net), sc_net_batch(t->net), m.activations_bytes / 1048576.0,
           m.unshared_bytes / 1048576.0, m.params_bytes / 1048576.0);
    return 1;
}

static int load_initial_weights(trainer *t)
{
    if (!t->args.weights)
        return 1;
    char missing[4096];
    sc_status st = sc_net_load_weights(t->net, t->args.weights, missing, sizeof missing);
    if (st != SC_OK)
        return setup_failed(t, st, sc_ctx_message(t->ctx));
    if (missing[0])
        printf("warning: %s has no weights for: %s (left as initialised)\n", t->args.weights,
               missing);
    return 1;
}

static void cleanup(trainer *t)
{
    if (t->log_json)
        fclose(t->log_json);
    sc_loader_destroy(t->loader);
    sc_solver_destroy(t->solver);
    sc_ctx_destroy(t->ctx);
    for (int i = 0; i < t->n_staging; i++) {
        if (t->data)
            free(t->data[i]);
        if (t->labels)
            free(t->labels[i]);
    }
    free(t->data);
    free(t->labels);
}

/* Only rank 0 talks on stdout; every rank reports its errors. */
static int start_ranks(trainer *t, int *argc, char ***argv)
{
    sc_error err = {0};
    if (sc_dist_init(argc, argv, &t->dist, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", err.msg);
        return 0;
    }
    t->rank = sc_dist_rank(t->dist);
    t->ranks = sc_dist_size(t->dist);
    if (t->rank != 0 && !freopen("/dev/null", "w", stdout))
        fprintf(stderr, "sphere-train: rank %d: cannot quiet stdout\n", t->rank);
    return 1;
}

int main(int argc, char **argv)
{
    trainer t;
    memset(&t, 0, sizeof t);
    int rc = parse_args(argc, argv, &t.args);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    if (!start_ranks(&t, &argc, &argv))
        return SC_EXIT_FAILED;
    t.tty = isatty(STDOUT_FILENO);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int ok = setup(&t) && make_loader(&t) && check_labels(&t) && load_initial_weights(&t) &&
             (!t.args.snapshot || restore(&t));
    rc = ok ? SC_EXIT_FAILED : t.exit_status ? t.exit_status : SC_EXIT_FAILED;
    if (ok) {
        printf("Training to iteration %d (seed %llu)\n", t.sp.max_iter, (unsigned long long)t.seed);
        int start = sc_solver_iter(t.solver);
        size_t syncs0 = sc_ctx_sync_stats(t.ctx).blocking_calls;
        int r = train_loop(&t, t.sp.max_iter);
        rc = r == 1 ? 0 : r == 2 ? 128 + (int)g_stop_signal : 1;
        int done = sc_solver_iter(t.solver) - start;
        size_t syncs = sc_ctx_sync_stats(t.ctx).blocking_calls - syncs0 - t.snapshot_syncs;
        if (done > 0)
            printf("Host-blocking calls: %zu over %d iterations (%.2f per iteration; display "
                   "lines included, %zu more writing snapshots)\n",
                   syncs, done, (double)syncs / done, t.snapshot_syncs);
        if (t.reduces > 0)
            printf("All-reduce of %zu gradient floats over %d ranks: %.2f ms per iteration "
                   "(waiting for the slowest rank included)\n",
                   t.reduce_floats, t.ranks, 1e3 * t.reduce_s / t.reduces);
        if (r == 1)
            printf("Optimization done.\n");
    }
    cleanup(&t);
    sc_dist_finalize(t.dist);
    return rc;
}
