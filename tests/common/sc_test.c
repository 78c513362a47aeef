/* Shared test helpers: the context on the CPU device, ../shared lookup,
 * scratch paths, error metrics. */
#include "sc_test.h"

#include "verification.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Returned paths live in a small ring so a test can hold a few at once. */
#define PATH_RING 8
static char path_ring[PATH_RING][4096];
static int path_next;

static char *next_path_slot(void)
{
    char *p = path_ring[path_next];
    path_next = (path_next + 1) % PATH_RING;
    return p;
}

const char *sc_test_shared(const char *relative)
{
    const char *root = getenv("SPHERECL_SHARED");
    if (!root || !*root)
        root = SPHERECL_SHARED_DIR;
    char *p = next_path_slot();
    snprintf(p, 4096, "%s/%s", root, relative);
    struct stat st;
    if (stat(p, &st) != 0) {
        fprintf(stderr,
                "\n*** MISSING SHARED DATA: %s\n*** This test needs the ../shared folder "
                "(set SPHERECL_SHARED to its path).\n\n",
                p);
        fail_msg("shared data missing: %s", p);
    }
    return p;
}

const char *sc_test_tmp(const char *relative)
{
    const char *build = getenv("SPHERECL_BUILD_DIR");
    if (!build || !*build)
        build = SPHERECL_BINARY_DIR;
    char dir[3072];
    snprintf(dir, sizeof dir, "%s/test-tmp", build);
    mkdir(dir, 0755);
    char *p = next_path_slot();
    snprintf(p, 4096, "%s/%s", dir, relative);
    return p;
}

const char *sc_test_device_selector(void)
{
    const char *sel = getenv("SPHERECL_TEST_DEVICE");
    return sel && *sel ? sel : "cpu";
}

sc_ctx *sc_test_ctx(void)
{
    char cache[4096];
    const char *build = getenv("SPHERECL_BUILD_DIR");
    snprintf(cache, sizeof cache, "%s/test-cache", build && *build ? build : SPHERECL_BINARY_DIR);
    sc_ctx_options opts = {.selector = sc_test_device_selector(), .cache_dir = cache};
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    if (sc_ctx_create(&opts, &ctx, &err) != SC_OK)
        fail_msg("cannot create an OpenCL context: %s", err.msg);
    return ctx;
}

double sc_test_max_abs(const double *ref, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(ref[i]) > m)
            m = fabs(ref[i]);
    return m;
}

double sc_test_max_abs_diff(const float *a, const double *ref, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (!(d <= m)) /* NaN propagates as a failure */
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static void read_capture(const char *path, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

int sc_test_run(const char *cmd, char *out, size_t out_cap, char *err, size_t err_cap)
{
    const char *apps = getenv("SPHERECL_APPS_DIR");
    char o[4096], e[4096];
    char name[64];
    snprintf(name, sizeof name, "run-%d.out", (int)getpid()); /* tests run in parallel */
    snprintf(o, sizeof o, "%s", sc_test_tmp(name));
    snprintf(name, sizeof name, "run-%d.err", (int)getpid());
    snprintf(e, sizeof e, "%s", sc_test_tmp(name));
    size_t cap = strlen(cmd) * 2 + 8192;
    char *expanded = malloc(cap), *full = malloc(cap + 8192);
    assert_non_null(expanded);
    assert_non_null(full);
    size_t k = 0;
    for (const char *p = cmd; *p && k + 4096 < cap;) {
        if (!strncmp(p, "{APPS}", 6)) {
            k += (size_t)snprintf(expanded + k, cap - k, "%s", apps ? apps : SPHERECL_BINARY_DIR "/bin");
            p += 6;
        } else {
            expanded[k++] = *p++;
        }
    }
    expanded[k] = '\0';
    snprintf(full, cap + 8192, "( %s ) >'%s' 2>'%s'", expanded, o, e);
    int rc = system(full);
    free(expanded);
    free(full);
    read_capture(o, out, out_cap);
    read_capture(e, err, err_cap);
    remove(o);
    remove(e);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sc_test_write_crops(FILE *f, const char *const *people, int n_people, int per_person,
                         const int *labels)
{
    for (int p = 0; p < n_people; p++) {
        char rel[512], dir[4096];
        snprintf(rel, sizeof rel, "data/lfw/reference-aligned-112x96/%s", people[p]);
        snprintf(dir, sizeof dir, "%s", sc_test_shared(rel));
        DIR *d = opendir(dir);
        assert_non_null(d);
        char *names[256];
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 256)
            if (strstr(e->d_name, ".jpg"))
                names[n++] = strdup(e->d_name);
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        if (n < per_person)
            fail_msg("%s has %d crops, the test needs %d", people[p], n, per_person);
        for (int i = 0; i < n; i++) {
            if (i < per_person)
                fprintf(f, "%s/%s %d\n", dir, names[i], labels ? labels[p] : p);
            free(names[i]);
        }
    }
}

void sc_test_write_pairs_subset(const char *pairs_path, int per_fold, const char *list_path)
{
    sc_lfw_pairs all = {0};
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_lfw_pairs_load(sc_test_shared("data/lfw/pairs.txt"), &all, &err));
    FILE *f = fopen(pairs_path, "w"), *l = list_path ? fopen(list_path, "w") : NULL;
    assert_non_null(f);
    fprintf(f, "%d\t%d\n", all.folds, per_fold);
    for (int fold = 0; fold < all.folds; fold++)
        for (int same = 1; same >= 0; same--)
            for (size_t i = 0, taken = 0; i < all.count && taken < (size_t)per_fold; i++) {
                const sc_lfw_pair *p = &all.items[i];
                if (p->fold != fold || p->same != same)
                    continue;
                if (same)
                    fprintf(f, "%s\t%d\t%d\n", p->name1, p->n1, p->n2);
                else
                    fprintf(f, "%s\t%d\t%s\t%d\n", p->name1, p->n1, p->name2, p->n2);
                if (l)
                    fprintf(l, "%s/%s_%04d.jpg 0\n%s/%s_%04d.jpg 0\n", p->name1, p->name1, p->n1,
                            p->name2, p->name2, p->n2);
                taken++;
            }
    fclose(f);
    sc_lfw_pairs_free(&all);
    if (!l)
        return;
    fclose(l);
    char cmd[8192]; /* an image appears once */
    snprintf(cmd, sizeof cmd, "LC_ALL=C sort -u -o '%s' '%s'", list_path, list_path);
    assert_int_equal(system(cmd), 0);
}
