/* sphere-devices lists the PoCL CPU device and marks the selected one; an
 * invalid SPHERECL_DEVICE is one error line naming the valid forms, exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sc_test.h"

static int run(const char *env, char *out, size_t cap, char *err, size_t err_cap)
{
    char cmd[4096], o[1024], e[1024];
    snprintf(o, sizeof o, "%s", sc_test_tmp("devices.out"));
    snprintf(e, sizeof e, "%s", sc_test_tmp("devices.err"));
    snprintf(cmd, sizeof cmd, "%s '%s/sphere-devices' >'%s' 2>'%s'", env,
             getenv("SPHERECL_APPS_DIR"), o, e);
    int rc = system(cmd);
    const char *paths[2] = {o, e};
    char *bufs[2] = {out, err};
    size_t caps[2] = {cap, err_cap};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "r");
        assert_non_null(f);
        size_t n = fread(bufs[i], 1, caps[i] - 1, f);
        bufs[i][n] = '\0';
        fclose(f);
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_lists_cpu_device(void **state)
{
    (void)state;
    char out[16384], err[4096];
    assert_int_equal(run("SPHERECL_DEVICE=cpu", out, sizeof out, err, sizeof err), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "(CPU)"));
    assert_non_null(strstr(out, "compute units"));
    assert_non_null(strstr(out, "global memory"));
    assert_non_null(strstr(out, "\n* ["));      /* the selected device is marked */
    assert_non_null(strstr(out, "selected: ["));
}

static void test_bogus_selector(void **state)
{
    (void)state;
    char out[16384], err[4096];
    int rc = run("SPHERECL_DEVICE=bogus", out, sizeof out, err, sizeof err);
    printf("stderr: %s", err);
    assert_int_equal(rc, 2);
    int lines = 0;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1);
    assert_non_null(strstr(err, "bogus"));
    assert_non_null(strstr(err, "'cpu'"));
    assert_non_null(strstr(err, "'gpu'"));
    assert_non_null(strstr(err, "P:D"));
}

int main(void)
{
    if (!getenv("SPHERECL_APPS_DIR")) {
        fprintf(stderr, "SPHERECL_APPS_DIR is not set (run through ctest)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_cpu_device),
        cmocka_unit_test(test_bogus_selector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
