/* sphere-train against a hostile user (Step 10): each case failed on the
 * trainer before this test existed.
 *  - a solver state is tied to its caffemodel: a flipped byte, or the
 *    weights of another iteration, next to a valid state is refused naming
 *    both files (it resumed silently);
 *  - a missing .solverstate is named as such (it was reported as a missing
 *    .caffemodel), a caffemodel given to --snapshot says so (it said "CRC
 *    mismatch");
 *  - temp files a killed run left behind are removed at start, with a line;
 *  - an unwritable snapshot folder is an error before the first iteration;
 *  - a negative label is refused naming the list line (it was dropped from
 *    the loss), unless it is the loss's ignore_label;
 *  - two layers with one name are refused (the snapshots could never be read
 *    back). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sc_test.h"


static char g_net[1024], g_list[1024];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* 8 aligned LFW crops of two people (the first 4 of each), labels
 * first_label and 1. */
static void write_list(const char *path, int first_label)
{
    static const char *const people[2] = {"Alejandro_Toledo", "Alvaro_Uribe"};
    const int labels[2] = {first_label, 1};
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    sc_test_write_crops(f, people, 2, 4, labels);
    fclose(f);
}

static void write_net(const char *path, const char *list, const char *extra_layer)
{
    char text[8192];
    snprintf(text, sizeof text,
             "name: \"reliability\"\n"
             "layer { name: \"data\" type: \"ImageData\" top: \"data\" top: \"label\"\n"
             "  transform_param { scale: 0.0078125 }\n"
             "  image_data_param { source: \"%s\" batch_size: 4 } }\n"
             "layer { name: \"conv1\" type: \"Convolution\" bottom: \"data\" top: \"conv1\"\n"
             "  convolution_param { num_output: 4 kernel_size: 3 stride: 4\n"
             "    weight_filler { type: \"xavier\" } } }\n%s"
             "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"conv1\" top: \"fc\"\n"
             "  inner_product_param { num_output: 2 weight_filler { type: \"xavier\" } } }\n"
             "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"fc\" bottom: \"label\"\n"
             "  top: \"loss\" loss_param { ignore_label: -7 } }\n",
             list, extra_layer);
    write_text(path, text);
}

static void write_solver(const char *path, const char *net, const char *prefix, int max_iter,
                         int snapshot)
{
    char text[8192];
    snprintf(text, sizeof text,
             "net: \"%s\"\nbase_lr: 0.01\nlr_policy: \"fixed\"\nmomentum: 0.9\nmax_iter: %d\n"
             "display: 1\nsnapshot: %d\nsnapshot_prefix: \"%s\"\n",
             net, max_iter, snapshot, prefix);
    write_text(path, text);
}

static int train(const char *args, char *out, size_t cap)
{
    static char err[65536];
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'{APPS}/sphere-train' --device %s %s 2>&1",
             sc_test_device_selector(), args);
    int rc = sc_test_run(cmd, out, cap, err, sizeof err);
    printf("$ sphere-train %s -> exit %d\n%s", args, rc, out);
    return rc;
}

static void clear_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void copy_file(const char *from, const char *to, long flip_at)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    int ch;
    long i = 0;
    while ((ch = fgetc(a)) != EOF)
        fputc(i++ == flip_at ? ch ^ 0x40 : ch, b);
    fclose(a);
    fclose(b);
}

/* Snapshots at iterations 2 and 4 of a 4-iteration run, in dir. */
static void make_snapshots(const char *dir, char *solver, size_t cap)
{
    clear_dir(dir);
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    snprintf(solver, cap, "%s/solver.prototxt", dir);
    mkdir(dir, 0755);
    write_solver(solver, g_net, prefix, 4, 2);
    static char out[65536];
    char args[2048];
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(train(args, out, sizeof out), 0);
}

static void test_state_tied_to_weights(void **state)
{
    (void)state;
    static char out[65536];
    char dir[1024], solver[1024], args[4096], st[1200], model[1200], other[1200];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("reliab_tied"));
    make_snapshots(dir, solver, sizeof solver);
    snprintf(st, sizeof st, "%s/run_iter_2.solverstate", dir);
    snprintf(model, sizeof model, "%s/run_iter_2.caffemodel", dir);
    snprintf(other, sizeof other, "%s/run_iter_4.caffemodel", dir);
    char saved[1200];
    snprintf(saved, sizeof saved, "%s/saved.caffemodel", dir);
    copy_file(model, saved, -1);
    snprintf(args, sizeof args, "--solver '%s' --snapshot '%s'", solver, st);

    copy_file(saved, model, 100); /* one byte flipped */
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, model));
    assert_non_null(strstr(out, st));
    assert_non_null(strstr(out, "does not belong to"));
    assert_null(strstr(out, "Resumed from"));

    copy_file(other, model, -1); /* the weights of iteration 4 */
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "does not belong to"));

    copy_file(saved, model, -1); /* the right ones: resumes */
    assert_int_equal(train(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "Resumed from"));
}

static void test_snapshot_argument_messages(void **state)
{
    (void)state;
    static char out[65536];
    char dir[1024], solver[1024], args[4096], missing[1200], model[1200];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("reliab_messages"));
    make_snapshots(dir, solver, sizeof solver);
    snprintf(missing, sizeof missing, "%s/run_iter_3.solverstate", dir);
    snprintf(args, sizeof args, "--solver '%s' --snapshot '%s'", solver, missing);
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "run_iter_3.solverstate: cannot open the solver state"));
    snprintf(model, sizeof model, "%s/run_iter_2.caffemodel", dir);
    snprintf(args, sizeof args, "--solver '%s' --snapshot '%s'", solver, model);
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "looks like a .caffemodel"));
    assert_null(strstr(out, "CRC"));
}

static void test_stale_temp_files_removed(void **state)
{
    (void)state;
    static char out[65536];
    char dir[1024], prefix[1024], solver[1024], args[4096], stale[1200], unrelated[1200];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("reliab_stale"));
    clear_dir(dir);
    mkdir(dir, 0755);
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    snprintf(solver, sizeof solver, "%s/solver.prototxt", dir);
    write_solver(solver, g_net, prefix, 1, 0);
    /* pid 2^22 + 1 is above Linux's largest pid: the writer is gone */
    snprintf(stale, sizeof stale, "%s/run_iter_5.solverstate.tmp.4194305.0", dir);
    snprintf(unrelated, sizeof unrelated, "%s/other_iter_5.solverstate.tmp.4194305.0", dir);
    write_text(stale, "partial");
    write_text(unrelated, "not ours");
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(train(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "removed"));
    assert_non_null(strstr(out, "run_iter_5.solverstate.tmp.4194305.0"));
    struct stat st;
    assert_int_not_equal(stat(stale, &st), 0);
    assert_int_equal(stat(unrelated, &st), 0);
}

static void test_unwritable_snapshot_folder(void **state)
{
    (void)state;
    static char out[65536];
    char solver[1024], args[4096];
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("reliab_unwritable.prototxt"));
    /* /proc takes no new folders, even for root */
    write_solver(solver, g_net, "/proc/spherecl-no-such-folder/run", 50, 10);
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "/proc/spherecl-no-such-folder"));
    assert_null(strstr(out, "Iteration 1 ("));
}

static void test_negative_labels(void **state)
{
    (void)state;
    static char out[65536];
    char list[1024], net[1024], solver[1024], prefix[1024], args[4096];
    snprintf(list, sizeof list, "%s", sc_test_tmp("reliab_negative.txt"));
    snprintf(net, sizeof net, "%s", sc_test_tmp("reliab_negative.prototxt"));
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("reliab_negative_solver.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("reliab_negative/run"));
    write_list(list, -1);
    write_net(net, list, "");
    write_solver(solver, net, prefix, 1, 0);
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "reliab_negative.txt:1: label -1 is negative"));
    /* the loss's ignore_label (-7) is allowed */
    write_list(list, -7);
    assert_int_equal(train(args, out, sizeof out), 0);
}

static void test_duplicate_layer_names(void **state)
{
    (void)state;
    static char out[65536];
    char net[1024], solver[1024], prefix[1024], args[4096];
    snprintf(net, sizeof net, "%s", sc_test_tmp("reliab_duplicate.prototxt"));
    snprintf(solver, sizeof solver, "%s", sc_test_tmp("reliab_duplicate_solver.prototxt"));
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("reliab_duplicate/run"));
    write_net(net, g_list,
              "layer { name: \"conv1\" type: \"PReLU\" bottom: \"conv1\" top: \"conv1\" }\n");
    write_solver(solver, net, prefix, 1, 0);
    snprintf(args, sizeof args, "--solver '%s'", solver);
    assert_int_equal(train(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "duplicate layer name 'conv1'"));
    assert_null(strstr(out, "Iteration 1 ("));
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_list, sizeof g_list, "%s", sc_test_tmp("reliab_list.txt"));
    snprintf(g_net, sizeof g_net, "%s", sc_test_tmp("reliab_net.prototxt"));
    write_list(g_list, 0);
    write_net(g_net, g_list, "");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_tied_to_weights),
        cmocka_unit_test(test_snapshot_argument_messages),
        cmocka_unit_test(test_stale_temp_files_removed),
        cmocka_unit_test(test_unwritable_snapshot_folder),
        cmocka_unit_test(test_negative_labels),
        cmocka_unit_test(test_duplicate_layer_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
