/* The command lines of the scripts in scripts/ follow the apps' convention
 * (apps/common/cli.h): --help and -h print a usage and exit 0; an unknown
 * option is "unknown option --x", exit 2; a missing or bad value is exit 2
 * with a message naming the option; bash's own "unbound variable" never
 * shows. None of these may do any work: each runs in an empty folder that is
 * also its TMPDIR, which must still be empty afterwards, under a timeout that
 * stops a script that started working instead.
 *
 * Every executable scripts/NAME.sh and scripts/experiments/NAME.sh (the
 * scripts that reproduce README.md's figures and tables) must have a row in
 * k_scripts (sourced helpers such as common.sh and exp_common.sh are not
 * executable). SPHERECL_SCRIPTS_DIR checks another copy of the scripts (e.g.
 * an older checkout's) instead of this tree's. */
#include "sc_test.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct script_case {
    const char *name;
    const char *valued;        /* an option that takes a value: given last, without one */
    const char *bad[5];        /* argument lists with a bad value for their first option */
} script_case;

static const script_case k_scripts[] = {
    {"demo.sh", "--iters", {"--iters abc", "--iters 0", "--iters 12x", "--net nosuchnet"}},
    {"test.sh", "--jobs", {"--jobs abc", "--jobs 0", "--jobs -3", NULL}},
    {"lfw_sphereface4.sh", "--seed", {"--max-iter 0", "--max-iter abc", "--asoftmax nope", NULL}},
    {"lfw_pipeline.sh", "--work", {"--threads 0", "--threads x1", NULL, NULL}},
    {"experiments/mnist_2d.sh", "--iters", {"--iters 0", "--iters abc", "--losses m5", "--seed 1x"}},
    {"experiments/lfw_view1.sh", "--work", {"--iters 9", "--losses softmax,bogus", "--seed -1",
                                            "--losses ,", "--landmarks bogus"}},
};

/* The folders scanned for scripts, relative to scripts_dir(). */
static const char *const k_script_dirs[] = {"", "experiments/"};
#define N_SCRIPTS (sizeof k_scripts / sizeof k_scripts[0])

static const char *scripts_dir(void)
{
    const char *d = getenv("SPHERECL_SCRIPTS_DIR");
    return d && *d ? d : SPHERECL_SOURCE_DIR "/scripts";
}

/* Output big enough for any usage text; errors are a line or two. */
static char out[65536], err[65536];

/* Runs scripts/<name> ARGS in a new empty folder (its working directory and
 * TMPDIR), checks the folder stays empty, returns the exit status. */
static int run_script(const char *name, const char *args)
{
    static int serial;
    char dir[4096], cmd[16384], label[256];
    snprintf(label, sizeof label, "scripts-cli/%s-%d", name, serial++);
    snprintf(dir, sizeof dir, "%s", sc_test_tmp(label));
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(sc_test_run(cmd, NULL, 0, NULL, 0), 0);
    /* timeout signals the script's whole process group: a build or training
     * it wrongly starts stops with it (status 124). */
    snprintf(cmd, sizeof cmd, "cd '%s' && TMPDIR='%s' timeout 120 '%s/%s' %s", dir, dir,
             scripts_dir(), name, args);
    int rc = sc_test_run(cmd, out, sizeof out, err, sizeof err);

    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("`%s %s` created '%s' in its working directory (exit %d)\nstderr: %s", name,
                     args, e->d_name, rc, err);
    closedir(d);
    if (strstr(err, "unbound variable") || strstr(out, "unbound variable"))
        fail_msg("`%s %s` let bash's set -u message through:\n%s", name, args, err);
    return rc;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void expect_usage_error(const char *name, const char *args, const char *named)
{
    int rc = run_script(name, args);
    if (rc != 2 || !strstr(err, named))
        fail_msg("`%s %s`: want exit 2 and a message naming %s; got exit %d\nstdout: %s\nstderr: %s",
                 name, args, named, rc, out, err);
}

/* Marks in seen[] the k_scripts rows of the executable .sh files of one folder. */
static void scan_scripts(const char *sub, int *seen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", scripts_dir(), sub);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char path[8192], name[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(name, sizeof name, "%s%s", sub, e->d_name);
        struct stat st;
        if (len < 4 || strcmp(e->d_name + len - 3, ".sh") || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
            continue;
        size_t i = 0;
        while (i < N_SCRIPTS && strcmp(k_scripts[i].name, name))
            i++;
        if (i == N_SCRIPTS)
            fail_msg("scripts/%s is not in tests/apps/test_scripts.c's k_scripts: add its row",
                     name);
        seen[i] = 1;
    }
    closedir(d);
}

static void test_every_script_listed(void **state)
{
    (void)state;
    int seen[N_SCRIPTS] = {0};
    for (size_t k = 0; k < sizeof k_script_dirs / sizeof k_script_dirs[0]; k++)
        scan_scripts(k_script_dirs[k], seen);
    for (size_t i = 0; i < N_SCRIPTS; i++)
        if (!seen[i])
            fail_msg("k_scripts lists %s, which is not an executable script in %s",
                     k_scripts[i].name, scripts_dir());
}

static void test_help(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SCRIPTS; i++) {
        const char *forms[] = {"--help", "-h"};
        for (int f = 0; f < 2; f++) {
            int rc = run_script(k_scripts[i].name, forms[f]);
            if (rc != 0 || !contains_nocase(out, "usage"))
                fail_msg("`%s %s`: want exit 0 and a usage on stdout; got exit %d\nstdout: %s\n"
                         "stderr: %s",
                         k_scripts[i].name, forms[f], rc, out, err);
        }
    }
}

static void test_unknown_option(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SCRIPTS; i++)
        expect_usage_error(k_scripts[i].name, "--no-such-option",
                           "unknown option --no-such-option");
}

static void test_missing_value(void **state)
{
    (void)state;
    char args[256];
    for (size_t i = 0; i < N_SCRIPTS; i++) {
        expect_usage_error(k_scripts[i].name, k_scripts[i].valued, k_scripts[i].valued);
        /* the next option is not the value */
        snprintf(args, sizeof args, "%s --help", k_scripts[i].valued);
        expect_usage_error(k_scripts[i].name, args, k_scripts[i].valued);
    }
}

static void test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SCRIPTS; i++)
        for (int b = 0; b < 5 && k_scripts[i].bad[b]; b++) {
            char option[64];
            assert_int_equal(sscanf(k_scripts[i].bad[b], "%63s", option), 1);
            expect_usage_error(k_scripts[i].name, k_scripts[i].bad[b], option);
        }
}

/* demo.sh --net: every train net of models/ is accepted and an unknown name
 * is refused with the list of valid ones. */
static void test_demo_net_names(void **state)
{
    (void)state;
    DIR *d = opendir(SPHERECL_SOURCE_DIR "/models");
    assert_non_null(d);
    int nets = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *suffix = strstr(e->d_name, "_train.prototxt");
        if (!suffix || suffix[strlen("_train.prototxt")])
            continue;
        char net[256], args[512];
        snprintf(net, sizeof net, "%.*s", (int)(suffix - e->d_name), e->d_name);
        /* valid net, then a usage error that stops the script before any work */
        snprintf(args, sizeof args, "--net %s --iters 0", net);
        expect_usage_error("demo.sh", args, "--iters");
        expect_usage_error("demo.sh", "--net nosuchnet", net);
        nets++;
    }
    closedir(d);
    assert_true(nets >= 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_script_listed),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_demo_net_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
