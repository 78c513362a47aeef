/* `cmake --install` of this build into a scratch prefix, then what a user does
 * with it: every installed header compiles on its own terms (C11, -Werror),
 * tests/apps/install_forward.c compiles and links with nothing but
 * `pkg-config --cflags --libs spherecl` (and with --static), and the program
 * builds the installed demo_deploy.prototxt (in pkg-config's modelsdir), runs
 * forward on the test device, saves and reloads the weights and prints the
 * output: fc5 of shape 1x128, finite and not all zero, the same after the
 * reload. The installed apps run too (sphere-info on an installed model). */
#include "sc_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char prefix[4096];

static void run_ok(const char *cmd, char *out, size_t cap)
{
    char err[4096];
    int rc = sc_test_run(cmd, out, cap, err, sizeof err);
    if (rc != 0)
        fail_msg("`%s` exited %d\nstdout: %s\nstderr: %s", cmd, rc, out ? out : "", err);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int setup(void **state)
{
    (void)state;
    snprintf(prefix, sizeof prefix, "%s", sc_test_tmp("install-prefix"));
    char cmd[16384], out[8192];
    /* A fresh prefix, so nothing a previous run left can stand in for an install. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && '%s' --install '%s' --prefix '%s'", prefix,
             SPHERECL_CMAKE_COMMAND, SPHERECL_BINARY_DIR, prefix);
    run_ok(cmd, out, sizeof out);
    return 0;
}

static void test_layout(void **state)
{
    (void)state;
    static const char *const files[] = {
        "bin/sphere-train",
        "bin/sphere-eval",
        "bin/sphere-info",
        SPHERECL_INSTALL_LIBDIR "/libspherecl.a",
        SPHERECL_INSTALL_LIBDIR "/pkgconfig/spherecl.pc",
        "include/spherecl/sc_graph.h",
        "include/spherecl/sc_runtime.h",
        "include/spherecl/sc_error.h",
        "share/spherecl/models/demo_deploy.prototxt",
        "share/spherecl/models/sphereface20_train.prototxt",
        "share/spherecl/models/mobilenet_sphereface_solver.prototxt",
    };
    char path[8192];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        if (!is_file(path))
            fail_msg("not installed: %s", path);
    }
    /* internal headers stay private */
    snprintf(path, sizeof path, "%s/include/spherecl/net_internal.h", prefix);
    assert_false(is_file(path));

    /* the installed apps run and read the installed models */
    char cmd[16384], out[8192];
    snprintf(cmd, sizeof cmd, "'%s/bin/sphere-info' '%s/share/spherecl/models/sphereface4_deploy.prototxt'",
             prefix, prefix);
    run_ok(cmd, out, sizeof out);
    assert_non_null(strstr(out, "fc5"));
}

/* "PKG_CONFIG_PATH=... pkg-config" for the scratch prefix only. */
static void pkg_config(char *buf, size_t cap)
{
    snprintf(buf, cap, "PKG_CONFIG_PATH='%s/%s/pkgconfig' '%s'", prefix, SPHERECL_INSTALL_LIBDIR,
             SPHERECL_PKG_CONFIG);
}

static void test_headers_compile(void **state)
{
    (void)state;
    char dir[8192], src[8192], cmd[32768], out[8192], pc[8192];
    snprintf(dir, sizeof dir, "%s/include/spherecl", prefix);
    snprintf(src, sizeof src, "%s/all_headers.c", prefix);
    DIR *d = opendir(dir);
    assert_non_null(d);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 2 && !strcmp(e->d_name + len - 2, ".h")) {
            fprintf(f, "#include <spherecl/%s>\n", e->d_name);
            n++;
        }
    }
    closedir(d);
    fprintf(f, "int main(void) { return 0; }\n");
    fclose(f);
    assert_true(n >= 10);
    pkg_config(pc, sizeof pc);
    snprintf(cmd, sizeof cmd, "'%s' -std=c11 -Wall -Wextra -Werror -c '%s' -o '%s/all_headers.o' $(%s --cflags spherecl)",
             SPHERECL_C_COMPILER, src, prefix, pc);
    run_ok(cmd, out, sizeof out);
}

static void test_forward_program(void **state)
{
    (void)state;
    char cmd[32768], out[8192], pc[8192];
    pkg_config(pc, sizeof pc);
    /* Plain --libs is what most users write; --static is the textbook form for
     * a static library: both must link. */
    snprintf(cmd, sizeof cmd,
             "'%s' -std=c11 -Wall -Wextra -Werror -o '%s/forward' '%s/tests/apps/install_forward.c' "
             "$(%s --cflags --libs spherecl) && "
             "'%s' -std=c11 -Wall -Wextra -Werror -o '%s/forward-static' '%s/tests/apps/install_forward.c' "
             "$(%s --static --cflags --libs spherecl)",
             SPHERECL_C_COMPILER, prefix, SPHERECL_SOURCE_DIR, pc, SPHERECL_C_COMPILER, prefix,
             SPHERECL_SOURCE_DIR, pc);
    run_ok(cmd, out, sizeof out);

    /* the models are found as the README says: pkg-config's modelsdir */
    snprintf(cmd, sizeof cmd,
             "SPHERECL_DEVICE='%s' '%s/forward-static' \"$(%s --variable=modelsdir spherecl)/demo_deploy.prototxt\" "
             "'%s/weights.caffemodel'",
             sc_test_device_selector(), prefix, pc, prefix);
    run_ok(cmd, out, sizeof out);
    const char *line = strstr(out, "output ");
    if (!line)
        fail_msg("no output line in:\n%s", out);
    char blob[64], shape[64], reload[32];
    double sum = NAN, abs_sum = NAN;
    assert_int_equal(sscanf(line, "output %63s %63s sum %lf abs %lf reload %31s", blob, shape, &sum,
                            &abs_sum, reload),
                     5);
    assert_string_equal(blob, "fc5");
    assert_string_equal(shape, "1x128"); /* demo_deploy: one 3x56x48 image -> 128-d descriptor */
    assert_true(isfinite(sum));
    assert_true(isfinite(abs_sum));
    assert_true(abs_sum > 0); /* an all-zero output would pass any checksum */
    assert_string_equal(reload, "identical");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_headers_compile),
        cmocka_unit_test(test_forward_program),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
