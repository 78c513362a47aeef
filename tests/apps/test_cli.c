/* Every app (every build/bin/sphere-* program) follows one command-line
 * convention (apps/common/cli.h):
 *  - --help and --version exit 0 (help lists options with defaults, version
 *    names the git commit and the OpenCL device);
 *  - an unknown option and a malformed number each exit 2 with one message
 *    naming them;
 *  - none of these creates a file (each runs in an empty folder). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc_test.h"

/* A numeric option of each app and a malformed value for it (apps without a
 * numeric option get a malformed device index), and an option that takes a
 * value, for apps without --device. */
typedef struct number_case {
    const char *app, *args, *names;
    const char *value_opt; /* NULL: --device */
} number_case;

static const number_case k_numbers[] = {
    {"sphere-align", "--landmarks l --src s --dst d --threads 0x", "0x", "--landmarks"},
    {"sphere-bench", "net.prototxt --batch 12x", "12x", NULL},
    {"sphere-detect", "--models m --image x.jpg --min-face abc", "abc", NULL},
    {"sphere-eval", "--net a --weights b --pairs c --root d --batch abc", "abc", NULL},
    {"sphere-extract", "--net a --weights b --list c --batch 0x", "0x", NULL},
    {"sphere-identify", "--net a --weights b --gallery g --probe p --threshold x", "'x'", NULL},
    {"sphere-info", "net.prototxt --batch 0", "--batch", NULL},
    {"sphere-mnist", "--images a --labels b --out c --list d --limit 1e3", "1e3", "--out"},
    {"sphere-plot", "--features f --out o.png --width 12x", "12x", "--out"},
    {"sphere-synth", "--out o --height 1e3", "1e3", "--out"},
    {"sphere-train", "--solver s.prototxt --max-iter -5", "-5", NULL},
};

static const number_case *find_case(const char *app)
{
    for (size_t i = 0; i < sizeof k_numbers / sizeof k_numbers[0]; i++)
        if (!strcmp(app, k_numbers[i].app))
            return &k_numbers[i];
    return NULL;
}

static const char *malformed_number(const char *app, char *args, size_t cap)
{
    const number_case *c = find_case(app);
    if (c) {
        snprintf(args, cap, "%s", c->args);
        return c->names;
    }
    snprintf(args, cap, "--device 1x");
    return "1x";
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Runs `app args` in the empty folder `dir`; returns the exit status. */
static int run_in(const char *dir, const char *app, const char *args, char *out, size_t out_cap,
                  char *err, size_t err_cap)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '{APPS}/%s' %s", dir, app, args);
    int rc = sc_test_run(cmd, out, out_cap, err, err_cap);
    printf("  %s %s -> exit %d%s%.300s\n", app, args, rc, err[0] ? ", stderr: " : "", err);
    if (!dir_is_empty(dir))
        fail_msg("%s %s created a file in the working folder", app, args);
    return rc;
}

static void check_app(const char *dir, const char *app)
{
    static char out[65536], err[65536];
    printf("%s\n", app);
    assert_int_equal(run_in(dir, app, "--help", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "usage:"));
    assert_non_null(strstr(out, "--version"));
    assert_non_null(strstr(out, "exit status"));
    assert_string_equal(err, "");

    assert_int_equal(run_in(dir, app, "--version", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, app));
    assert_non_null(strstr(out, "git "));
    assert_non_null(strstr(out, "OpenCL device"));

    assert_int_equal(run_in(dir, app, "--no-such-option", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "unknown option --no-such-option"));
    assert_true(count_lines(err) <= 2);

    char args[1024];
    const char *names = malformed_number(app, args, sizeof args);
    assert_int_equal(run_in(dir, app, args, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, names));
    assert_true(count_lines(err) <= 2);

    /* A value-taking option at the end of the line has no value. */
    const number_case *c = find_case(app);
    const char *opt = c && c->value_opt ? c->value_opt : "--device";
    char want[64];
    snprintf(want, sizeof want, "%s needs a value", opt);
    assert_int_equal(run_in(dir, app, opt, out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, want));
}

static void test_every_app(void **state)
{
    (void)state;
    const char *apps = getenv("SPHERECL_APPS_DIR");
    assert_non_null(apps);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sc_test_tmp("cli-empty"));
    mkdir(dir, 0755);
    assert_true(dir_is_empty(dir));
    DIR *d = opendir(apps);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "sphere-", 7))
            continue;
        check_app(dir, e->d_name);
        n++;
    }
    closedir(d);
    printf("%d apps checked\n", n);
    assert_true(n >= 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_app),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
