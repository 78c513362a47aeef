/* sphere-train end to end on real LFW crops with a small net:
 *  - 20 iterations straight == 10, stop, --snapshot resume, 10 more: the same
 *    losses and bit-identical final weights;
 *  - SIGTERM in the middle leaves a snapshot that resumes;
 *  - a list with a truncated JPEG, a zero-byte file, a text file named .jpg
 *    and a missing path trains, reporting the 4 bad entries by path;
 *  - an all-bad list is an error before training starts;
 *  - a diverging run stops with the divergence guard's message;
 *  - --log-json appends one valid JSON object per display line, with the
 *    values of the text log;
 *  - the training accuracy of a net without an Accuracy layer equals what an
 *    Accuracy layer on the same scores reports (a 2-D A-Softmax net on MNIST,
 *    where the scores' buffer is reused during backward). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <math.h>

#include "sc_graph.h"
#include "sc_test.h"
#include "train_log.h"

#define LFW "data/lfw/reference-aligned-112x96"

/* 6 people x 4 images (the first 4 files of their folders), labels 0..5 */
static const char *k_people[] = {"Alejandro_Toledo", "Alvaro_Uribe", "Amelie_Mauresmo",
                                 "Andre_Agassi", "Ari_Fleischer", "Arnold_Schwarzenegger"};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The good part of every list: 4 images of each person, 24 lines. */
static void write_good_entries(FILE *f)
{
    sc_test_write_crops(f, k_people, 6, 4, NULL);
}

static void write_net(const char *net, const char *list)
{
    char text[8192];
    snprintf(text, sizeof text,
             "name: \"train-test\"\n"
             "layer { name: \"data\" type: \"ImageData\" top: \"data\" top: \"label\"\n"
             "  transform_param { mean_value: 127.5 mean_value: 127.5 mean_value: 127.5\n"
             "                    scale: 0.0078125 mirror: true }\n"
             "  image_data_param { source: \"%s\" batch_size: 8 shuffle: true } }\n"
             "layer { name: \"conv1\" type: \"Convolution\" bottom: \"data\" top: \"conv1\"\n"
             "  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1\n"
             "    weight_filler { type: \"xavier\" } } }\n"
             "layer { name: \"relu1\" type: \"PReLU\" bottom: \"conv1\" top: \"conv1\" }\n"
             "layer { name: \"conv2\" type: \"Convolution\" bottom: \"conv1\" top: \"conv2\"\n"
             "  convolution_param { num_output: 16 kernel_size: 3 stride: 4 pad: 1\n"
             "    weight_filler { type: \"xavier\" } } }\n"
             "layer { name: \"relu2\" type: \"PReLU\" bottom: \"conv2\" top: \"conv2\" }\n"
             "layer { name: \"fc5\" type: \"InnerProduct\" bottom: \"conv2\" top: \"fc5\"\n"
             "  inner_product_param { num_output: 32 weight_filler { type: \"xavier\" } } }\n"
             "layer { name: \"fc6\" type: \"MarginInnerProduct\" bottom: \"fc5\" bottom: \"label\"\n"
             "  top: \"fc6\" top: \"lambda\" margin_inner_product_param { num_output: 6\n"
             "  type: QUADRUPLE base: 1000 gamma: 0.12 power: 1 lambda_min: 5\n"
             "  weight_filler { type: \"xavier\" } } }\n"
             "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"fc6\" bottom: \"label\"\n"
             "  top: \"loss\" }\n",
             list);
    write_text(net, text);
}

static void write_solver(const char *solver, const char *net, const char *prefix, int snapshot)
{
    char text[8192];
    snprintf(text, sizeof text,
             "net: \"%s\"\nbase_lr: 0.01\nlr_policy: \"fixed\"\nmomentum: 0.9\n"
             "weight_decay: 0.0005\nmax_iter: 20\ndisplay: 1\nsnapshot: %d\n"
             "snapshot_prefix: \"%s\"\n",
             net, snapshot, prefix);
    write_text(solver, text);
}

/* Runs sphere-train with args; returns its exit status, output in *out (malloc'd). */
static int run_train(const char *args, char **out)
{
    char cmd[8192], log[1024];
    snprintf(log, sizeof log, "%s", sc_test_tmp("train_run.log"));
    snprintf(cmd, sizeof cmd, "'%s/sphere-train' --device cpu %s >'%s' 2>&1",
             getenv("SPHERECL_APPS_DIR"), args, log);
    int rc = system(cmd);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The "loss = X" text of the display line of iteration iter. */
static void loss_of(const char *log, int iter, char *dst, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "Iteration %d (", iter);
    const char *p = strstr(log, key);
    if (!p)
        fail_msg("no display line for iteration %d in:\n%s", iter, log);
    p = strstr(p, "loss = ");
    assert_non_null(p);
    size_t n = strcspn(p, ",\n");
    snprintf(dst, cap, "%.*s", (int)n, p);
}

static void read_all(const char *path, unsigned char **data, long *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)*size);
    assert_int_equal(fread(*data, 1, (size_t)*size, f), (size_t)*size);
    fclose(f);
}

static void setup_data(char *net, size_t cap)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", sc_test_tmp("train_good.txt"));
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    write_good_entries(f);
    fclose(f);
    snprintf(net, cap, "%s", sc_test_tmp("train_net.prototxt"));
    write_net(net, list);
}

static void test_resume_is_exact(void **state)
{
    (void)state;
    char net[1024], s_a[1024], s_b[1024], pa[1024], pb[1024], args[4096];
    setup_data(net, sizeof net);
    snprintf(s_a, sizeof s_a, "%s", sc_test_tmp("solver_a.prototxt"));
    snprintf(s_b, sizeof s_b, "%s", sc_test_tmp("solver_b.prototxt"));
    snprintf(pa, sizeof pa, "%s", sc_test_tmp("snap_a/run"));
    snprintf(pb, sizeof pb, "%s", sc_test_tmp("snap_b/run"));
    write_solver(s_a, net, pa, 0);
    write_solver(s_b, net, pb, 0);
    char *straight, *first, *second;
    snprintf(args, sizeof args, "--solver '%s' --seed 7", s_a);
    assert_int_equal(run_train(args, &straight), 0);
    snprintf(args, sizeof args, "--solver '%s' --seed 7 --max-iter 10", s_b);
    assert_int_equal(run_train(args, &first), 0);
    snprintf(args, sizeof args, "--solver '%s' --seed 7 --snapshot '%s_iter_10.solverstate'", s_b,
             pb);
    assert_int_equal(run_train(args, &second), 0);
    assert_non_null(strstr(second, "Resumed from"));
    for (int it = 1; it <= 20; it++) {
        char a[64], b[64];
        loss_of(straight, it, a, sizeof a);
        loss_of(it <= 10 ? first : second, it, b, sizeof b);
        printf("iteration %2d: straight %-22s resumed %s\n", it, a, b);
        assert_string_equal(a, b);
    }
    char ma[1200], mb[1200];
    snprintf(ma, sizeof ma, "%s_iter_20.caffemodel", pa);
    snprintf(mb, sizeof mb, "%s_iter_20.caffemodel", pb);
    unsigned char *da, *db;
    long na, nb;
    read_all(ma, &da, &na);
    read_all(mb, &db, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(da, db, (size_t)na); /* bit-identical weights */
    free(da);
    free(db);
    free(straight);
    free(first);
    free(second);
}

/* Starts sphere-train, waits for iteration 5 in its output, sends SIGTERM. */
static int train_and_terminate(const char *solver, char *log, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        char exe[4096];
        snprintf(exe, sizeof exe, "%s/sphere-train", getenv("SPHERECL_APPS_DIR"));
        execl(exe, exe, "--device", "cpu", "--solver", solver, "--max-iter", "100000", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    int sent = 0;
    for (;;) {
        ssize_t r = read(fds[0], log + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        log[n] = '\0';
        if (!sent && strstr(log, "Iteration 5 (")) {
            kill(pid, SIGTERM);
            sent = 1;
        }
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_sigterm_snapshot_resumes(void **state)
{
    (void)state;
    char net[1024], solver[1024], prefix[1024], args[4096];
    setup_data(net, sizeof net);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_sig.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_sig/run"));
    write_solver(solver, net, prefix, 0);
    static char log[1 << 16];
    int rc = train_and_terminate(solver, log, sizeof log);
    printf("%s", log);
    assert_int_equal(rc, 128 + SIGTERM);
    const char *snap = strstr(log, "Snapshotting to ");
    assert_non_null(snap);
    const char *state_file = strstr(snap, " and ");
    assert_non_null(state_file);
    char path[2048];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(state_file + 5, "\n"), state_file + 5);
    int iter = 0;
    const char *it = strstr(path, "_iter_");
    assert_non_null(it);
    iter = atoi(it + 6);
    assert_true(iter >= 5);
    char *out;
    snprintf(args, sizeof args, "--solver '%s' --snapshot '%s' --max-iter %d", solver, path,
             iter + 3);
    assert_int_equal(run_train(args, &out), 0);
    assert_non_null(strstr(out, "Resumed from"));
    char key[64];
    snprintf(key, sizeof key, "Iteration %d (", iter + 3);
    assert_non_null(strstr(out, key));
    free(out);
}

static void write_bad_files(char paths[4][1024])
{
    snprintf(paths[0], 1024, "%s", sc_test_tmp("bad_truncated.jpg"));
    snprintf(paths[1], 1024, "%s", sc_test_tmp("bad_empty.jpg"));
    snprintf(paths[2], 1024, "%s", sc_test_tmp("bad_text.jpg"));
    snprintf(paths[3], 1024, "%s", sc_test_tmp("bad_missing_does_not_exist.jpg"));
    unsigned char *jpg;
    long n;
    read_all(sc_test_shared(LFW "/Abel_Pacheco/Abel_Pacheco_0001.jpg"), &jpg, &n);
    FILE *f = fopen(paths[0], "wb");
    assert_non_null(f);
    fwrite(jpg, 1, (size_t)n / 2, f);
    fclose(f);
    free(jpg);
    write_text(paths[1], "");
    write_text(paths[2], "this is not an image\n");
    unlink(paths[3]);
}

static void test_bad_images_are_skipped(void **state)
{
    (void)state;
    char bad[4][1024], list[1024], net[1024], solver[1024], prefix[1024], args[4096];
    write_bad_files(bad);
    snprintf(list, sizeof list, "%s", sc_test_tmp("train_bad.txt"));
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    write_good_entries(f);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s %d\n", bad[i], i);
    fclose(f);
    snprintf(net, sizeof net, "%s", sc_test_tmp("train_bad_net.prototxt"));
    write_net(net, list);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_bad.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_bad/run"));
    write_solver(solver, net, prefix, 0);
    char *out;
    snprintf(args, sizeof args, "--solver '%s' --max-iter 2", solver);
    int rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 0);
    for (int i = 0; i < 4; i++) {
        char line[1200];
        snprintf(line, sizeof line, "skipped bad image: %s", bad[i]);
        assert_non_null(strstr(out, line));
    }
    assert_non_null(strstr(out, "4 of 28 list entries skipped"));
    assert_non_null(strstr(out, "Iteration 2 ("));
    free(out);

    /* nothing usable: an error before training */
    f = fopen(list, "w");
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s 0\n", bad[i]);
    fclose(f);
    snprintf(args, sizeof args, "--solver '%s' --max-iter 2", solver);
    rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 2); /* input refused before any work */
    assert_non_null(strstr(out, "no usable image"));
    assert_null(strstr(out, "Iteration 1"));
    free(out);
}

/* An image whose size is not the net's input is an error naming it and both
 * sizes, before any training; --resize converts it instead. */
static void test_wrong_size_images(void **state)
{
    (void)state;
    char list[1024], net[1024], solver[1024], prefix[1024], args[4096], big[1024];
    snprintf(big, sizeof big, "%s",
             sc_test_shared("data/lfw/lfw-150px/Abel_Pacheco/Abel_Pacheco_0001.jpg"));
    snprintf(list, sizeof list, "%s", sc_test_tmp("train_sizes.txt"));
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    write_good_entries(f);
    fprintf(f, "%s 0\n", big);
    fclose(f);
    snprintf(net, sizeof net, "%s", sc_test_tmp("train_sizes_net.prototxt"));
    write_net(net, list);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_sizes.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_sizes/run"));
    write_solver(solver, net, prefix, 0);
    char *out;
    snprintf(args, sizeof args, "--solver '%s' --max-iter 2", solver);
    int rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, big));
    assert_non_null(strstr(out, "150x150"));
    assert_non_null(strstr(out, "96x112"));
    assert_null(strstr(out, "Iteration 1"));
    free(out);
    snprintf(args, sizeof args, "--solver '%s' --max-iter 2 --resize", solver);
    rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "0 of 25 list entries skipped"));
    assert_non_null(strstr(out, "Iteration 2 ("));
    free(out);
}

/* Removes what an earlier run of the test left in a scratch folder. */
static void clear_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Every .caffemodel under dir holds only finite values. */
static void expect_finite_snapshots(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return; /* no snapshot at all is fine */
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 11 || strcmp(e->d_name + n - 11, ".caffemodel"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        sc_caffemodel *m = NULL;
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_caffemodel_read_file(path, &m, &err));
        for (size_t l = 0; l < m->n_layers; l++)
            for (size_t b = 0; b < m->layers[l].n_blobs; b++)
                for (size_t i = 0; i < m->layers[l].blobs[b].count; i++)
                    if (!isfinite(m->layers[l].blobs[b].data[i]))
                        fail_msg("%s holds a non-finite weight", path);
        printf("%s: all weights finite\n", path);
        sc_caffemodel_free(m);
    }
    closedir(d);
}

/* A learning rate far too large drives the loss to -ln(FLT_MIN) = 87.3365 (or
 * NaN): training stops with the iteration, the last snapshot and a hint. */
static void test_divergence_guard(void **state)
{
    (void)state;
    char net[1024], solver[1024], prefix[1024], args[4096];
    setup_data(net, sizeof net);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_diverge.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_diverge/run"));
    clear_dir(sc_test_tmp("snap_diverge"));
    write_solver(solver, net, prefix, 10);
    char text[8192];
    snprintf(text, sizeof text,
             "net: \"%s\"\nbase_lr: 1000\nlr_policy: \"fixed\"\nmomentum: 0.9\nmax_iter: 200\n"
             "display: 10\nsnapshot: 5\nsnapshot_prefix: \"%s\"\n",
             net, prefix);
    write_text(solver, text);
    char *out;
    snprintf(args, sizeof args, "--solver '%s'", solver);
    int rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "training diverged at iteration"));
    assert_non_null(strstr(out, "last good snapshot: "));
    assert_non_null(strstr(out, "hint: lower base_lr"));
    assert_null(strstr(out, "Optimization done"));
    free(out);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("snap_diverge"));
    expect_finite_snapshots(dir);
}

/* With display 0 the trainer waits for the device at most once per
 * iteration (the runtime counts every host-blocking call). */
static void test_one_sync_per_iteration(void **state)
{
    (void)state;
    char net[1024], solver[1024], prefix[1024], args[4096], text[8192];
    setup_data(net, sizeof net);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_sync.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_sync/run"));
    snprintf(text, sizeof text,
             "net: \"%s\"\nbase_lr: 0.01\nlr_policy: \"fixed\"\nmomentum: 0.9\nmax_iter: 30\n"
             "display: 0\nsnapshot: 0\nsnapshot_prefix: \"%s\"\n",
             net, prefix);
    write_text(solver, text);
    char *out;
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(run_train(args, &out), 0);
    const char *line = strstr(out, "Host-blocking calls: ");
    assert_non_null(line);
    printf("%.*s\n", (int)strcspn(line, "\n"), line);
    unsigned long syncs = 0;
    int iters = 0;
    assert_int_equal(sscanf(line, "Host-blocking calls: %lu over %d iterations", &syncs, &iters), 2);
    assert_int_equal(iters, 30);
    assert_true(syncs <= (unsigned long)iters);
    free(out);
}

/* A run that goes to NaN before the guard could see a stuck loss (a short
 * run): it stops with exit 1, writes no snapshot of NaN weights (the final
 * one included) and never reports an accuracy of 1. */
static void test_nan_weights_never_saved(void **state)
{
    (void)state;
    char net[1024], solver[1024], prefix[1024], dir[1024], args[4096], text[8192];
    setup_data(net, sizeof net);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_nan.prototxt"));
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("snap_nan"));
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    clear_dir(dir);
    snprintf(text, sizeof text,
             "net: \"%s\"\nbase_lr: 1000\nlr_policy: \"fixed\"\nmomentum: 0.9\nmax_iter: 12\n"
             "display: 1\nsnapshot: 0\nsnapshot_prefix: \"%s\"\n",
             net, prefix);
    write_text(solver, text);
    char *out;
    snprintf(args, sizeof args, "--solver '%s'", solver);
    int rc = run_train(args, &out);
    printf("%s", out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "training diverged at iteration"));
    assert_null(strstr(out, "Optimization done"));
    assert_null(strstr(out, "accuracy = 1.0000"));
    expect_finite_snapshots(dir);
    free(out);
}


/* The "key = X" number of the display line of iteration iter. */
static double logged_value(const char *log, int iter, const char *key)
{
    char text[64], want[64];
    loss_of(log, iter, text, sizeof text); /* checks that the line exists */
    snprintf(want, sizeof want, "Iteration %d (", iter);
    const char *line = strstr(log, want);
    snprintf(want, sizeof want, "%s = ", key);
    const char *p = strstr(line, want);
    assert_non_null(p);
    assert_true(p < line + strcspn(line, "\n"));
    return strtod(p + strlen(want), NULL);
}

static void check_json_run(const sc_train_log *jl, size_t first, const char *log, int iters)
{
    for (int it = 1; it <= iters; it++) {
        size_t i = first + (size_t)it - 1;
        assert_int_equal((int)jl->iter[i], it);
        double loss = logged_value(log, it, "loss"), lambda = logged_value(log, it, "lambda");
        assert_true(fabs(jl->v[SC_LOG_LOSS][i] - loss) <= 1e-6 * fabs(loss));
        assert_true(fabs(jl->v[SC_LOG_LAMBDA][i] - lambda) <= 1e-3 * fabs(lambda));
        assert_true(jl->v[SC_LOG_ACCURACY][i] >= 0 && jl->v[SC_LOG_ACCURACY][i] <= 1);
        assert_true(fabs(jl->v[SC_LOG_LR][i] - 0.01) < 1e-12);
        assert_true(jl->v[SC_LOG_IMG_S][i] > 0);
        assert_true(it == 1 || jl->v[SC_LOG_WALL_S][i] >= jl->v[SC_LOG_WALL_S][i - 1]);
    }
}

/* Every line is one complete object: '{' ... '}' and a newline. */
static void check_json_lines(const char *path, int want_lines)
{
    unsigned char *data;
    long n;
    read_all(path, &data, &n);
    int lines = 0;
    for (long i = 0, start = 0; i < n; i++)
        if (data[i] == '\n') {
            assert_int_equal(data[start], '{');
            assert_int_equal(data[i - 1], '}');
            start = i + 1;
            lines++;
        }
    assert_int_equal(data[n - 1], '\n');
    assert_int_equal(lines, want_lines);
    free(data);
}

static void test_log_json(void **state)
{
    (void)state;
    char net[1024], solver[1024], prefix[1024], json[1024], args[4096];
    setup_data(net, sizeof net);
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("solver_json.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("snap_json/run"));
    snprintf(json, sizeof json, "%s", sc_test_tmp("train_log.jsonl"));
    write_solver(solver, net, prefix, 0);
    remove(json);
    char *first, *second;
    snprintf(args, sizeof args, "--solver '%s' --seed 3 --max-iter 6 --log-json '%s'", solver,
             json);
    assert_int_equal(run_train(args, &first), 0);
    assert_int_equal(run_train(args, &second), 0); /* appends */
    check_json_lines(json, 12);
    sc_train_log jl;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_train_log_read(json, &jl, &err));
    assert_int_equal(jl.n, 12);
    check_json_run(&jl, 0, first, 6);
    check_json_run(&jl, 6, second, 6);
    sc_train_log_free(&jl);
    /* an independent JSON parser, where the machine has one */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "command -v python3 >/dev/null || exit 0; python3 -c 'import json,"
             "sys\nfor l in open(sys.argv[1]): json.loads(l)' '%s'", json);
    assert_int_equal(sc_test_run(cmd, NULL, 0, NULL, 0), 0);
    free(first);
    free(second);

    char *out;
    snprintf(args, sizeof args, "--solver '%s' --max-iter 2 --log-json /no/such/dir/log.jsonl",
             solver);
    assert_int_equal(run_train(args, &out), 2);
    assert_non_null(strstr(out, "--log-json"));
    assert_null(strstr(out, "Iteration 1 ("));
    free(out);
}

/* The MNIST 2-D feature net of scripts/experiments/mnist_2d.sh (A-Softmax
 * m = 4), optionally with an Accuracy layer on the loss layer's scores. */
static void write_mnist_net(const char *path, const char *list, const char *root, int accuracy)
{
    char text[8192];
    int n = snprintf(text, sizeof text,
        "layer { name: \"data\" type: \"ImageData\" top: \"data\" top: \"label\"\n"
        "  transform_param { mean_value: 127.5 scale: 0.0078125 }\n"
        "  image_data_param { source: \"%s\" root_folder: \"%s/\" batch_size: 64 shuffle: true\n"
        "                     is_color: false } }\n", list, root);
    const char *in = "data";
    for (int c = 1; c <= 3; c++) {
        n += snprintf(text + n, sizeof text - (size_t)n,
            "layer { name: \"conv%d\" type: \"Convolution\" bottom: \"%s\" top: \"conv%d\"\n"
            "  convolution_param { num_output: %d kernel_size: 3 pad: 1\n"
            "    weight_filler { type: \"xavier\" } } }\n"
            "layer { name: \"relu%d\" type: \"PReLU\" bottom: \"conv%d\" top: \"conv%d\" }\n"
            "layer { name: \"pool%d\" type: \"Pooling\" bottom: \"conv%d\" top: \"pool%d\"\n"
            "  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n",
            c, in, c, 16 << c, c, c, c, c, c, c);
        in = c == 1 ? "pool1" : c == 2 ? "pool2" : "pool3";
    }
    snprintf(text + n, sizeof text - (size_t)n,
        "layer { name: \"fc5\" type: \"InnerProduct\" bottom: \"pool3\" top: \"fc5\"\n"
        "  inner_product_param { num_output: 2 weight_filler { type: \"xavier\" } } }\n"
        "layer { name: \"fc6\" type: \"MarginInnerProduct\" bottom: \"fc5\" bottom: \"label\"\n"
        "  top: \"fc6\" top: \"lambda\" margin_inner_product_param { num_output: 10\n"
        "  type: QUADRUPLE base: 1000 gamma: 0.12 power: 1 lambda_min: 5\n"
        "  weight_filler { type: \"xavier\" } } }\n"
        "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"fc6\" bottom: \"label\"\n"
        "  top: \"loss\" }\n%s",
        accuracy ? "layer { name: \"acc\" type: \"Accuracy\" bottom: \"fc6\" bottom: \"label\"\n"
                   "  top: \"acc\" }\n" : "");
    write_text(path, text);
}

/* The "accuracy = X" text of the display line of iteration iter. */
static void accuracy_of(const char *log, int iter, char *dst, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "Iteration %d (", iter);
    const char *p = strstr(log, key);
    if (!p)
        fail_msg("no display line for iteration %d in:\n%s", iter, log);
    p = strstr(p, "accuracy = ");
    assert_non_null(p);
    snprintf(dst, cap, "%.*s", (int)strcspn(p, ",\n"), p);
}

static void test_train_accuracy(void **state)
{
    (void)state;
    char dir[1024], list[1024], cmd[8192], args[4096], net[2][1024], solver[2][1024];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("acc_mnist"));
    snprintf(list, sizeof list, "%s", sc_test_tmp("acc_mnist.txt"));
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-mnist' --images '%s' --labels '%s' --out '%s' "
             "--list '%s' --limit 256",
             sc_test_shared("data/mnist/t10k-images-idx3-ubyte.gz"),
             sc_test_shared("data/mnist/t10k-labels-idx1-ubyte.gz"), dir, list);
    assert_int_equal(sc_test_run(cmd, NULL, 0, NULL, 0), 0);
    char *out[2];
    for (int k = 0; k < 2; k++) {
        char name[64], prefix[1024], text[4096];
        snprintf(name, sizeof name, "acc_net_%d.prototxt", k);
        snprintf(net[k], sizeof net[k], "%s", sc_test_tmp(name));
        snprintf(name, sizeof name, "acc_solver_%d.prototxt", k);
        snprintf(solver[k], sizeof solver[k], "%s", sc_test_tmp(name));
        snprintf(name, sizeof name, "snap_acc_%d/run", k);
        snprintf(prefix, sizeof prefix, "%s", sc_test_tmp(name));
        write_mnist_net(net[k], list, dir, k);
        snprintf(text, sizeof text,
                 "net: \"%s\"\nbase_lr: 0.01\nlr_policy: \"fixed\"\nmomentum: 0.9\n"
                 "max_iter: 8\ndisplay: 1\nsnapshot: 0\nsnapshot_prefix: \"%s\"\n", net[k], prefix);
        write_text(solver[k], text);
        snprintf(args, sizeof args, "--solver '%s' --seed 5", solver[k]);
        assert_int_equal(run_train(args, &out[k]), 0);
    }
    for (int it = 1; it <= 8; it++) {
        char a[64], b[64];
        accuracy_of(out[0], it, a, sizeof a);
        accuracy_of(out[1], it, b, sizeof b);
        printf("iteration %d: without an Accuracy layer %s, with one %s\n", it, a, b);
        assert_string_equal(a, b);
    }
    free(out[0]);
    free(out[1]);
}

int main(void)
{
    if (!getenv("SPHERECL_APPS_DIR")) {
        fprintf(stderr, "SPHERECL_APPS_DIR is not set (run through ctest)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_is_exact),
        cmocka_unit_test(test_sigterm_snapshot_resumes),
        cmocka_unit_test(test_bad_images_are_skipped),
        cmocka_unit_test(test_wrong_size_images),
        cmocka_unit_test(test_divergence_guard),
        cmocka_unit_test(test_one_sync_per_iteration),
        cmocka_unit_test(test_nan_weights_never_saved),
        cmocka_unit_test(test_log_json),
        cmocka_unit_test(test_train_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
