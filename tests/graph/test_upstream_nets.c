/* Every network definition under ../shared/models/sphereface-upstream parses
 * and builds in its phase (*_deploy: TEST, others: TRAIN; the image lists
 * they name need not exist), first shapes-only at their own batch size, then
 * for real (device buffers, forward and backward plans) at batch 2. Every
 * solver parses. SphereFace-20's deploy net has the published size. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sc_graph.h"
#include "sc_solver.h"
#include "sc_test.h"

typedef void (*file_fn)(sc_ctx *ctx, const char *path, int *count);

/* Solvers are told by their file name: the folders above (a checkout named
 * after a branch, say) may contain "solver" too. */
static int is_solver(const char *path)
{
    const char *base = strrchr(path, '/');
    return strstr(base ? base + 1 : path, "solver") != NULL;
}

static void walk(sc_ctx *ctx, const char *dir, file_fn fn, int *count)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            walk(ctx, path, fn, count);
        else if (strstr(e->d_name, ".prototxt"))
            fn(ctx, path, count);
    }
    closedir(d);
}

static void build_net(sc_ctx *ctx, const char *path, int *count)
{
    if (is_solver(path))
        return;
    sc_phase phase = strstr(path, "deploy") ? SC_PHASE_TEST : SC_PHASE_TRAIN;
    sc_net_options shapes = {.phase = phase, .shapes_only = 1};
    sc_net *net = NULL;
    if (sc_net_create(ctx, path, &shapes, &net) != SC_OK)
        fail_msg("%s (shapes): %s", path, sc_ctx_message(ctx));
    int native_batch = sc_net_batch(net);
    sc_net_destroy(net);
    sc_net_options real = {.phase = phase, .batch = 2};
    if (sc_net_create(ctx, path, &real, &net) != SC_OK)
        fail_msg("%s (batch 2): %s", path, sc_ctx_message(ctx));
    printf("built %-100s %s, batch %d\n", path, phase == SC_PHASE_TEST ? "TEST " : "TRAIN",
           native_batch);
    sc_net_destroy(net);
    (*count)++;
}

static void parse_solver(sc_ctx *ctx, const char *path, int *count)
{
    if (!is_solver(path))
        return;
    sc_solver_params p;
    sc_error err = {0};
    if (sc_solver_params_load(path, &p, &err) != SC_OK)
        fail_msg("%s: %s", path, err.msg);
    assert_true(p.base_lr > 0);
    (void)ctx;
    (*count)++;
}

static void test_every_net_builds(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    int n = 0;
    walk(ctx, sc_test_shared("models/sphereface-upstream"), build_net, &n);
    printf("%d nets built\n", n);
    assert_true(n >= 20);
    sc_ctx_destroy(ctx);
}

static void test_every_solver_parses(void **state)
{
    (void)state;
    int n = 0;
    walk(NULL, sc_test_shared("models/sphereface-upstream"), parse_solver, &n);
    printf("%d solvers parsed\n", n);
    assert_true(n >= 8);
}

static void test_sphereface20_size(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net_options opts = {.phase = SC_PHASE_TEST, .shapes_only = 1};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx,
                                    sc_test_shared("models/sphereface-upstream/wy1iu-sphereface/"
                                                   "sphereface_deploy.prototxt"),
                                    &opts, &net));
    size_t params = 0;
    double flops = 0;
    int fc5_seen = 0;
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_assert_ok(ctx, sc_net_layer(net, i, &li));
        params += li.params;
        flops += li.flops;
        if (!strcmp(li.name, "fc5")) {
            sc_blob_info b;
            sc_assert_ok(ctx, sc_net_blob(net, sc_net_layer_bottom(net, i, 0), &b));
            assert_int_equal(b.dims[1], 512);
            assert_int_equal(b.dims[2], 7);
            assert_int_equal(b.dims[3], 6);
            fc5_seen = 1;
        }
    }
    printf("SphereFace-20: %zu parameters, %.4f GFLOPs\n", params, flops / 1e9);
    assert_true(fc5_seen);
    assert_int_equal(params, 22670656);
    assert_true(fabs(flops / 1e9 - 3.50) <= 0.005 * 3.50);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sphereface20_size),
        cmocka_unit_test(test_every_solver_parses),
        cmocka_unit_test(test_every_net_builds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
