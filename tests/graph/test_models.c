/* The network definitions authored in models/ (written by models/generate.py):
 * every net builds shapes-only in its phase (*_deploy TEST, *_train TRAIN),
 * every solver parses with the agreed schedule, the parameter counts match
 * the architecture computed here from first principles (not from the files),
 * our SphereFace-20 deploy net matches upstream's layer by layer (names, top
 * shapes, parameters, so upstream caffemodels load by name) and our -64 is
 * upstream's plus the one unit upstream's file lacks, and
 * the demo net trains: a real build, forward and backward, a finite loss. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance.h"
#include "loader.h"
#include "sc_graph.h"
#include "sc_solver.h"
#include "sc_test.h"

#define MODELS_DIR SPHERECL_SOURCE_DIR "/models"

static const char *model_path(const char *file)
{
    static char buf[8][4096];
    static int slot;
    char *p = buf[slot++ % 8];
    snprintf(p, 4096, "%s/%s", MODELS_DIR, file);
    return p;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

typedef struct net_totals {
    size_t params;
    double flops;
    int layers;
} net_totals;

static net_totals totals(sc_ctx *ctx, const sc_net *net)
{
    net_totals t = {0, 0.0, (int)sc_net_layer_count(net)};
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_assert_ok(ctx, sc_net_layer(net, i, &li));
        t.params += li.params;
        t.flops += li.flops;
    }
    return t;
}

static sc_net *build_shapes_in(sc_ctx *ctx, const char *path, sc_phase phase,
                               const char *base_dir)
{
    sc_net_options opts = {.phase = phase, .shapes_only = 1, .base_dir = base_dir};
    sc_net *net = NULL;
    if (sc_net_create(ctx, path, &opts, &net) != SC_OK)
        fail_msg("%s: %s", path, sc_ctx_message(ctx));
    return net;
}

static sc_net *build_shapes(sc_ctx *ctx, const char *path, sc_phase phase)
{
    return build_shapes_in(ctx, path, phase, NULL);
}

/* A 48x56 PPM and a one-line list, so the demo's ImageData layer sizes
 * itself from the image as it will in the demo (the list gives no
 * new_height/new_width; without a readable list the builder assumes the
 * SphereFace crop, 112x96). Returns the folder, the data layers' base. */
static const char *write_demo_list(void)
{
    const char *dir = sc_test_tmp("models_demo");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", dir, strerror(errno));
    char img[4096], list[4200];
    snprintf(img, sizeof img, "%s/face.ppm", dir);
    snprintf(list, sizeof list, "%s/train.txt", dir);
    FILE *f = fopen(img, "wb");
    assert_non_null(f);
    fprintf(f, "P6\n48 56\n255\n");
    for (int i = 0; i < 48 * 56 * 3; i++)
        fputc((i * 37) & 255, f);
    assert_int_equal(fclose(f), 0);
    f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "%s 0\n", img);
    assert_int_equal(fclose(f), 0);
    return dir;
}

/* ---- the architecture, from the facts (not from the prototxts) */

static const int widths[4] = {64, 128, 256, 512};
static const struct {
    int depth;
    int units[4];
} sphereface[] = {
    {4, {0, 0, 0, 0}}, {10, {0, 1, 2, 0}}, {20, {1, 2, 4, 1}}, {36, {2, 4, 8, 2}},
    {64, {3, 8, 16, 3}},
};
#define N_SPHEREFACE (sizeof sphereface / sizeof sphereface[0])

/* Caffe's convolution output size: floor((in + 2 pad - k) / stride) + 1 */
static int conv_out(int in, int k, int pad, int stride) { return (in + 2 * pad - k) / stride + 1; }

/* Each 3x3 conv has a bias (kept even where frozen, as upstream, so the
 * caffemodel blobs line up) and a per-channel PReLU: in*9*out + out + out.
 * The four stride-2 convs take 112x96 to 7x6, fc5's input. */
static size_t sphereface_deploy_params(const int units[4])
{
    size_t p = 0;
    int c = 3, h = 112, w = 96;
    for (int s = 0; s < 4; s++) {
        size_t k = (size_t)widths[s];
        p += (size_t)c * 9 * k + k + k;              /* opener + PReLU */
        p += (size_t)units[s] * 2 * (k * 9 * k + k + k); /* two convs + PReLUs per unit */
        c = widths[s];
        h = conv_out(h, 3, 1, 2);
        w = conv_out(w, 3, 1, 2);
    }
    p += (size_t)c * (size_t)h * (size_t)w * 512 + 512; /* fc5 */
    return p;
}

static void test_sphereface_formula_is_the_published_size(void **state)
{
    (void)state;
    /* the formula itself, against the SphereFace-20 figure everyone quotes */
    assert_int_equal(sphereface_deploy_params(sphereface[2].units), 22670656);
}

/* Each SphereFace-N: deploy (TEST) and train (TRAIN) build shapes-only with
 * the parameter count of the formula; the train net adds fc6's 10572 x 512
 * weights (A-Softmax has no bias). N counts the convolutions (the paper's
 * convention: 4 stage openers + 2 per residual unit). */
static void test_sphereface_nets(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    for (size_t i = 0; i < N_SPHEREFACE; i++) {
        const int *u = sphereface[i].units;
        char file[128];
        snprintf(file, sizeof file, "sphereface%d_deploy.prototxt", sphereface[i].depth);
        sc_net *net = build_shapes(ctx, model_path(file), SC_PHASE_TEST);
        net_totals d = totals(ctx, net);
        size_t expect = sphereface_deploy_params(u);
        int convs = 0;
        for (size_t l = 0; l < sc_net_layer_count(net); l++) {
            sc_layer_info li;
            sc_assert_ok(ctx, sc_net_layer(net, l, &li));
            convs += !strcmp(li.type, "Convolution");
            if (!strcmp(li.name, "fc5")) {
                sc_blob_info b;
                sc_assert_ok(ctx, sc_net_blob(net, sc_net_layer_bottom(net, l, 0), &b));
                assert_int_equal(b.dims[1], 512);
                assert_int_equal(b.dims[2], 7);
                assert_int_equal(b.dims[3], 6);
            }
        }
        sc_blob_info fc5;
        sc_assert_ok(ctx, sc_net_blob(net, "fc5", &fc5));
        assert_int_equal(fc5.dims[0], 1);
        assert_int_equal(fc5.dims[1], 512);
        printf("%-32s %10zu params (expect %10zu) %7.3f GFLOPs\n", file, d.params, expect,
               d.flops / 1e9);
        assert_int_equal(d.params, expect);
        assert_int_equal(convs, sphereface[i].depth);
        assert_int_equal(convs, 4 + 2 * (u[0] + u[1] + u[2] + u[3]));
        sc_net_destroy(net);

        snprintf(file, sizeof file, "sphereface%d_train.prototxt", sphereface[i].depth);
        net = build_shapes(ctx, model_path(file), SC_PHASE_TRAIN);
        net_totals t = totals(ctx, net);
        assert_int_equal(sc_net_batch(net), 256);
        assert_int_equal(t.params, expect + (size_t)10572 * 512);
        sc_blob_info data, fc6;
        sc_assert_ok(ctx, sc_net_blob(net, "data", &data));
        assert_int_equal(data.dims[1], 3);
        assert_int_equal(data.dims[2], 112);
        assert_int_equal(data.dims[3], 96);
        sc_assert_ok(ctx, sc_net_blob(net, "fc6", &fc6));
        assert_int_equal(fc6.dims[1], 10572);
        assert_true(sc_net_blob(net, "lambda", &fc6) == SC_OK);
        assert_true(sc_net_blob(net, "softmax_loss", &fc6) == SC_OK);
        sc_net_destroy(net);
    }
    sc_ctx_destroy(ctx);
}

/* Ours against upstream, by layer name: every upstream layer exists in ours
 * with the same type, parameter count, top names and top shapes, so an
 * upstream caffemodel loads by name. Upstream declares its input with the
 * legacy `input:` fields, so data layers are left out. Returns how many of
 * our layers have no upstream counterpart; *same_order tells whether the
 * matched layers come in the same order. */
static size_t find_layer(sc_ctx *ctx, const sc_net *net, const char *name)
{
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_assert_ok(ctx, sc_net_layer(net, i, &li));
        if (!strcmp(li.name, name))
            return i;
    }
    return (size_t)-1;
}

static size_t compare_with_upstream(sc_ctx *ctx, const sc_net *a, const char *ours,
                                    const sc_net *b, int *same_order)
{
    size_t matched = 0, ours_layers = 0, last = 0;
    *same_order = 1;
    for (size_t ib = 0; ib < sc_net_layer_count(b); ib++) {
        sc_layer_info la, lb;
        sc_assert_ok(ctx, sc_net_layer(b, ib, &lb));
        if (!strcmp(lb.type, "Input"))
            continue;
        size_t ia = find_layer(ctx, a, lb.name);
        if (ia == (size_t)-1)
            fail_msg("%s: upstream layer %s (%s) is missing", ours, lb.name, lb.type);
        if (ia < last)
            *same_order = 0;
        last = ia;
        sc_assert_ok(ctx, sc_net_layer(a, ia, &la));
        if (strcmp(la.type, lb.type))
            fail_msg("%s: %s is %s, upstream %s", ours, la.name, la.type, lb.type);
        if (la.params != lb.params)
            fail_msg("%s: %s has %zu parameters, upstream %zu", ours, la.name, la.params,
                     lb.params);
        assert_int_equal(la.n_tops, lb.n_tops);
        for (size_t t = 0; t < la.n_tops; t++) {
            int nda, ndb, da[4], db[4];
            sc_assert_ok(ctx, sc_net_layer_top_shape(a, ia, t, &nda, da));
            sc_assert_ok(ctx, sc_net_layer_top_shape(b, ib, t, &ndb, db));
            assert_int_equal(nda, ndb);
            for (int k = 0; k < nda; k++)
                if (da[k] != db[k])
                    fail_msg("%s: %s top %zu dim %d is %d, upstream %d", ours, la.name, t, k,
                             da[k], db[k]);
            if (strcmp(sc_net_layer_top(a, ia, t), sc_net_layer_top(b, ib, t)))
                fail_msg("%s: %s writes %s, upstream %s", ours, la.name,
                         sc_net_layer_top(a, ia, t), sc_net_layer_top(b, ib, t));
        }
        matched++;
    }
    for (size_t ia = 0; ia < sc_net_layer_count(a); ia++) {
        sc_layer_info la;
        sc_assert_ok(ctx, sc_net_layer(a, ia, &la));
        ours_layers += strcmp(la.type, "Input") != 0;
    }
    printf("%s: all %zu upstream layers match; %zu of ours have no upstream counterpart\n",
           ours, matched, ours_layers - matched);
    return ours_layers - matched;
}

static void test_matches_upstream(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const char *up = "models/sphereface-upstream/wy1iu-sphereface/";
    char path[512];
    int same_order;

    /* SphereFace-20: the same net, layer for layer */
    sc_net *a = build_shapes(ctx, model_path("sphereface20_deploy.prototxt"), SC_PHASE_TEST);
    snprintf(path, sizeof path, "%ssphereface_deploy.prototxt", up);
    sc_net *b = build_shapes(ctx, sc_test_shared(path), SC_PHASE_TEST);
    assert_int_equal(compare_with_upstream(ctx, a, "sphereface20_deploy", b, &same_order), 0);
    assert_true(same_order);
    net_totals ta = totals(ctx, a), tb = totals(ctx, b);
    printf("SphereFace-20: %zu params, %.4f GFLOPs (upstream %zu, %.4f)\n", ta.params,
           ta.flops / 1e9, tb.params, tb.flops / 1e9);
    assert_int_equal(ta.params, 22670656);
    assert_int_equal(ta.params, tb.params);
    assert_true(fabs(ta.flops - tb.flops) <= 1e-9 * tb.flops);
    sc_net_destroy(a);
    sc_net_destroy(b);

    /* SphereFace-64: upstream's file has 7 units in stage 2 (62 convolutions),
     * the paper and our facts 8 (64). Ours is upstream plus that one unit
     * (conv2_16, conv2_17 and their PReLUs, res2_17): upstream weights load by
     * name and only that unit keeps its initial values. */
    a = build_shapes(ctx, model_path("sphereface64_deploy.prototxt"), SC_PHASE_TEST);
    snprintf(path, sizeof path, "%ssphereface_64_deploy.prototxt", up);
    b = build_shapes(ctx, sc_test_shared(path), SC_PHASE_TEST);
    assert_int_equal(compare_with_upstream(ctx, a, "sphereface64_deploy", b, &same_order), 5);
    assert_true(same_order);
    for (int j = 16; j <= 17; j++) {
        char name[32];
        snprintf(name, sizeof name, "conv2_%d", j);
        assert_true(find_layer(ctx, a, name) != (size_t)-1);
        assert_true(find_layer(ctx, b, name) == (size_t)-1);
    }
    ta = totals(ctx, a);
    tb = totals(ctx, b);
    assert_int_equal(ta.params - tb.params, 2 * (128 * 9 * 128 + 128 + 128));
    sc_net_destroy(a);
    sc_net_destroy(b);
    sc_ctx_destroy(ctx);
}

/* MobileNet-SphereFace, from its definition: a full 3x3 stride-2 conv to 64,
 * then per stage a stride-2 separable block (depthwise 3x3 on the input
 * channels, pointwise 1x1 to the stage width) and units of two separable
 * blocks; no conv biases (BatchNorm follows); fc5 512 with BatchNorm + Scale. */
/* BatchNorm (bn_per_c values per channel plus bn_const) + Scale (gamma,
 * beta) + PReLU on c channels */
static size_t bn_scale_prelu(size_t c, size_t bn_per_c, size_t bn_const)
{
    return c * (bn_per_c + 2 + 1) + bn_const;
}

/* depthwise 3x3 on cin, pointwise 1x1 cin -> cout, each with BN + Scale + PReLU */
static size_t separable(size_t cin, size_t cout, size_t bn_per_c, size_t bn_const)
{
    return cin * 9 + bn_scale_prelu(cin, bn_per_c, bn_const) + cin * cout +
           bn_scale_prelu(cout, bn_per_c, bn_const);
}

static size_t mobilenet_deploy_params(sc_ctx *ctx, const sc_net *net)
{
    /* what BatchNorm reports as parameters: its statistics (mean, variance:
     * C each, plus the scale factor) are caffemodel blobs but not learned, so
     * a count may include them or not; read it from a BN layer of known width */
    size_t bn64 = 0;
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_assert_ok(ctx, sc_net_layer(net, i, &li));
        if (!strcmp(li.name, "conv1_1/bn"))
            bn64 = li.params;
    }
    assert_true(bn64 == 0 || bn64 == 2 * 64 + 1);
    size_t per_c = bn64 ? 2 : 0, cst = bn64 ? 1 : 0;
    static const int units[4] = {0, 1, 2, 0};
    size_t p = (size_t)3 * 9 * 64 + bn_scale_prelu(64, per_c, cst); /* conv1_1, no bias */
    size_t c = 64;
    int h = conv_out(112, 3, 1, 2), w = conv_out(96, 3, 1, 2);
    for (int s = 1; s < 4; s++) {
        p += separable(c, (size_t)widths[s], per_c, cst); /* stride-2 opener */
        c = (size_t)widths[s];
        p += (size_t)units[s] * 2 * separable(c, c, per_c, cst);
        h = conv_out(h, 3, 1, 2);
        w = conv_out(w, 3, 1, 2);
    }
    p += c * (size_t)h * (size_t)w * 512 + 512;         /* fc5 */
    p += bn_scale_prelu(512, per_c, cst) - 512;         /* its BN + Scale, no PReLU */
    return p;
}

static void test_mobilenet(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net *net = build_shapes(ctx, model_path("mobilenet_sphereface_deploy.prototxt"),
                               SC_PHASE_TEST);
    net_totals d = totals(ctx, net);
    size_t expect = mobilenet_deploy_params(ctx, net);
    int dw = 0, bn = 0, scale = 0;
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_assert_ok(ctx, sc_net_layer(net, i, &li));
        dw += !strcmp(li.type, "DepthwiseConvolution");
        bn += !strcmp(li.type, "BatchNorm");
        scale += !strcmp(li.type, "Scale");
        if (!strcmp(li.name, "fc5")) {
            sc_blob_info b;
            sc_assert_ok(ctx, sc_net_blob(net, sc_net_layer_bottom(net, i, 0), &b));
            assert_int_equal(b.dims[1], 512);
            assert_int_equal(b.dims[2], 7);
            assert_int_equal(b.dims[3], 6);
        }
    }
    printf("mobilenet_sphereface_deploy: %zu params (expect %zu), %.3f GFLOPs, %d depthwise\n",
           d.params, expect, d.flops / 1e9, dw);
    assert_int_equal(d.params, expect);
    assert_int_equal(dw, 3 + 2 * 3);            /* 3 openers + 3 units of 2 blocks */
    assert_int_equal(bn, 1 + 2 * dw + 1);       /* conv1_1, every dw and sep, fc5 */
    assert_int_equal(scale, bn);
    sc_net_destroy(net);

    net = build_shapes(ctx, model_path("mobilenet_sphereface_train.prototxt"), SC_PHASE_TRAIN);
    net_totals t = totals(ctx, net);
    assert_int_equal(t.params, expect + (size_t)10572 * 512);
    assert_int_equal(sc_net_batch(net), 256);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

/* ---- every file in models/: the expected set exists, each net builds in
 * its phase, each solver parses */

static const char *const expected_files[] = {
    "sphereface4", "sphereface10", "sphereface20", "sphereface36", "sphereface64",
    "mobilenet_sphereface", "demo",
};

static void test_every_file(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof expected_files / sizeof expected_files[0]; i++) {
        static const char *const kinds[] = {"_train", "_deploy", "_solver"};
        for (int k = 0; k < 3; k++) {
            char file[128];
            snprintf(file, sizeof file, "%s%s.prototxt", expected_files[i], kinds[k]);
            struct stat st;
            if (stat(model_path(file), &st) != 0)
                fail_msg("missing %s", model_path(file));
        }
    }

    sc_ctx *ctx = sc_test_ctx();
    const char *demo_dir = write_demo_list();
    DIR *d = opendir(MODELS_DIR);
    assert_non_null(d);
    int nets = 0, solvers = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".prototxt"))
            continue;
        const char *path = model_path(e->d_name);
        if (ends_with(e->d_name, "_solver.prototxt")) {
            sc_solver_params p;
            sc_error err = {0};
            if (sc_solver_params_load(path, &p, &err) != SC_OK)
                fail_msg("%s: %s", path, err.msg);
            assert_string_equal(p.lr_policy, "multistep");
            assert_true(p.n_stepvalue == 2);
            assert_true(fabs(p.gamma - 0.1) < 1e-12);
            assert_true(fabs(p.momentum - 0.9) < 1e-12);
            assert_true(fabs(p.weight_decay - 0.0005) < 1e-12);
            if (!strncmp(e->d_name, "demo", 4)) {
                assert_true(fabs(p.base_lr - 0.05) < 1e-12);
                assert_int_equal(p.stepvalue[0], p.max_iter * 60 / 100);
                assert_int_equal(p.stepvalue[1], p.max_iter * 85 / 100);
                assert_int_equal(p.snapshot, 0);
                assert_int_equal(p.display, 50);
            } else {
                assert_true(fabs(p.base_lr - 0.1) < 1e-12);
                assert_int_equal(p.stepvalue[0], 16000);
                assert_int_equal(p.stepvalue[1], 24000);
                assert_int_equal(p.max_iter, 28000);
                assert_int_equal(p.snapshot, 1000);
                assert_int_equal(p.display, 100);
            }
            /* the solver names its own train net (relative to the repository
             * root, or to the solver's folder for the demo) */
            char train[256];
            snprintf(train, sizeof train, "%.*s_train.prototxt",
                     (int)(strlen(e->d_name) - strlen("_solver.prototxt")), e->d_name);
            size_t nl = strlen(p.net), tl = strlen(train);
            if (!ends_with(p.net, train) || (nl > tl && p.net[nl - tl - 1] != '/'))
                fail_msg("%s: net %s, expected %s", e->d_name, p.net, train);
            solvers++;
            continue;
        }
        sc_phase phase = ends_with(e->d_name, "_deploy.prototxt") ? SC_PHASE_TEST : SC_PHASE_TRAIN;
        if (phase == SC_PHASE_TRAIN && !ends_with(e->d_name, "_train.prototxt"))
            fail_msg("%s: a net must be *_train or *_deploy", e->d_name);
        sc_net *net = build_shapes_in(ctx, path, phase,
                                      !strcmp(e->d_name, "demo_train.prototxt") ? demo_dir : NULL);
        net_totals t = totals(ctx, net);
        printf("built %-40s %-5s %4d layers %10zu params %9.4f GFLOPs/image\n", e->d_name,
               phase == SC_PHASE_TEST ? "TEST" : "TRAIN", t.layers, t.params,
               t.flops / 1e9 / sc_net_batch(net));
        sc_net_destroy(net);
        nets++;
    }
    closedir(d);
    sc_ctx_destroy(ctx);
    assert_int_equal(nets, 2 * (int)(sizeof expected_files / sizeof expected_files[0]));
    assert_int_equal(solvers, (int)(sizeof expected_files / sizeof expected_files[0]));
}

/* ---- the demo net, for real */

static void test_demo_trains(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const char *dir = write_demo_list();
    const int batch = 4;
    sc_net_options opts = {.phase = SC_PHASE_TRAIN, .batch = batch, .seed = 7, .base_dir = dir,
                           .image_size = sc_loader_probe_size};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, model_path("demo_train.prototxt"), &opts, &net));

    sc_blob_info data, fc6;
    sc_assert_ok(ctx, sc_net_blob(net, "data", &data));
    assert_int_equal(data.dims[0], batch);
    assert_int_equal(data.dims[1], 3);
    assert_int_equal(data.dims[2], 56);
    assert_int_equal(data.dims[3], 48);
    sc_assert_ok(ctx, sc_net_blob(net, "fc6", &fc6));
    int classes = fc6.dims[1];
    assert_int_equal(classes, 100); /* the placeholder the demo script substitutes */
    /* 16/32/64 channels, one unit at 32, 7x6 into fc5 128, fc6 without bias */
    size_t expect = (3 * 9 * 16 + 16 + 16) + (16 * 9 * 32 + 32 + 32) +
                    2 * (32 * 9 * 32 + 32 + 32) + (32 * 9 * 64 + 64 + 64) +
                    (64 * 7 * 6 * 128 + 128) + (size_t)128 * (size_t)classes;
    assert_int_equal(totals(ctx, net).params, expect);

    sc_conf_rng rng;
    sc_conf_rng_seed(&rng, 1234);
    float *x = malloc(data.count * sizeof *x);
    assert_non_null(x);
    /* pixels already normalised: (x - 127.5) / 128 lies in [-1, 1) */
    sc_conf_fill(&rng, x, NULL, data.count, -1.0, 1.0);
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", x, data.count));
    float labels[4];
    for (int i = 0; i < batch; i++)
        labels[i] = (float)((int)sc_conf_uniform(&rng, 0, classes) % classes);
    sc_assert_ok(ctx, sc_net_write_blob(net, "label", labels, (size_t)batch));
    free(x);

    sc_assert_ok(ctx, sc_net_clear_param_diffs(net));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_assert_ok(ctx, sc_net_backward(net));
    float loss = NAN, lambda = NAN;
    sc_assert_ok(ctx, sc_net_read_blob(net, "softmax_loss", &loss, 1));
    sc_assert_ok(ctx, sc_net_read_blob(net, "lambda", &lambda, 1));
    float feat_grad[4 * 128];
    sc_blob_info fc5;
    sc_assert_ok(ctx, sc_net_blob(net, "fc5", &fc5));
    assert_int_equal(fc5.count, (size_t)batch * 128);
    sc_assert_ok(ctx, sc_net_read_blob_diff(net, "fc5", feat_grad, fc5.count));
    double g2 = 0;
    for (size_t i = 0; i < fc5.count; i++) {
        assert_true(isfinite(feat_grad[i]));
        g2 += (double)feat_grad[i] * feat_grad[i];
    }
    printf("demo: loss %.4f (ln %d = %.4f), lambda %.1f, |dL/dfc5| %.3g\n", loss, classes,
           log(classes), lambda, sqrt(g2));
    assert_true(isfinite(loss));
    /* first iteration: lambda ~ 1000 makes fc6 almost a plain softmax over
     * small random logits, so the loss sits near ln(classes) */
    assert_true(loss > 0.5 * log(classes) && loss < 2.0 * log(classes));
    assert_true(g2 > 0);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sphereface_formula_is_the_published_size),
        cmocka_unit_test(test_every_file),
        cmocka_unit_test(test_sphereface_nets),
        cmocka_unit_test(test_matches_upstream),
        cmocka_unit_test(test_mobilenet),
        cmocka_unit_test(test_demo_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
