/* Step 5's graph runtime: reshapeable nets, shared and flat parameter stores.
 *  - a net built for batch 32 at 112x96 runs at batch 7, at 56x48 and back,
 *    giving what nets built for those shapes give (bit for bit: the same
 *    kernels at the same launch sizes), with no weights re-read;
 *  - two nets sharing a store see each other's updates;
 *  - the data, gradient and history stores are one allocation each, every
 *    parameter a region of them, and clearing the gradients is one launch;
 *  - a reshape that would change a parameter, or exceed the built shape, is
 *    an error naming why, and the net keeps working at its previous shape. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_graph.h"
#include "sc_test.h"

/* Fully convolutional: conv + BatchNorm + Scale (folded in TEST) + PReLU,
 * max pooling, a residual block, a depthwise conv and a 1x1 conv. */
static const char *k_fcn =
    "name: \"fcn\"\n"
    "layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 32 dim: 3 "
    "dim: 112 dim: 96 } } }\n"
    "layer { name: \"c1\" type: \"Convolution\" bottom: \"data\" top: \"c1\" convolution_param { "
    "num_output: 8 kernel_size: 3 pad: 1 stride: 2 weight_filler { type: \"xavier\" } "
    "bias_filler { type: \"gaussian\" std: 0.1 } } }\n"
    "layer { name: \"bn1\" type: \"BatchNorm\" bottom: \"c1\" top: \"c1\" }\n"
    "layer { name: \"s1\" type: \"Scale\" bottom: \"c1\" top: \"c1\" scale_param { bias_term: true "
    "filler { type: \"uniform\" min: 0.5 max: 1.5 } bias_filler { type: \"gaussian\" std: 0.1 } "
    "} }\n"
    "layer { name: \"r1\" type: \"PReLU\" bottom: \"c1\" top: \"c1\" }\n"
    "layer { name: \"p1\" type: \"Pooling\" bottom: \"c1\" top: \"p1\" pooling_param { pool: MAX "
    "kernel_size: 3 stride: 2 } }\n"
    "layer { name: \"c2\" type: \"Convolution\" bottom: \"p1\" top: \"c2\" convolution_param { "
    "num_output: 8 kernel_size: 3 pad: 1 weight_filler { type: \"msra\" } } }\n"
    "layer { name: \"r2\" type: \"PReLU\" bottom: \"c2\" top: \"c2\" }\n"
    "layer { name: \"sum\" type: \"Eltwise\" bottom: \"p1\" bottom: \"c2\" top: \"sum\" }\n"
    "layer { name: \"dw\" type: \"DepthwiseConvolution\" bottom: \"sum\" top: \"dw\" "
    "convolution_param { num_output: 8 group: 8 kernel_size: 3 pad: 1 weight_filler { type: "
    "\"gaussian\" std: 0.3 } } }\n"
    "layer { name: \"out\" type: \"Convolution\" bottom: \"dw\" top: \"out\" convolution_param { "
    "num_output: 4 kernel_size: 1 weight_filler { type: \"xavier\" } } }\n";

static char g_net_path[4096];

static sc_net *build(sc_ctx *ctx, sc_phase phase, int batch, int h, int w, const sc_net *share)
{
    sc_net_options o = {.phase = phase, .batch = batch, .height = h, .width = w, .seed = 5,
                        .share_params = share};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, g_net_path, &o, &net));
    return net;
}

static float *random_input(size_t n, unsigned seed)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

/* Output of the net for an input of n x 3 x h x w (the net must be at that shape). */
static float *run(sc_ctx *ctx, sc_net *net, const float *x, int n, int h, int w, size_t *count)
{
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", x, (size_t)n * 3 * h * w));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_blob_info out;
    sc_assert_ok(ctx, sc_net_blob(net, "out", &out));
    assert_int_equal(out.dims[0], n);
    float *y = malloc(out.count * sizeof *y);
    assert_non_null(y);
    sc_assert_ok(ctx, sc_net_read_blob(net, "out", y, out.count));
    *count = out.count;
    return y;
}

static void expect_same(const float *a, const float *b, size_t n, const char *what)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    printf("%-44s %zu values, max |diff| %.3g\n", what, n, worst);
    assert_true(worst == 0);
}

/* Runs `net` (built big) at shape (n, h, w) and a net built for that shape
 * over the same parameters; both must agree exactly. */
static void check_shape(sc_ctx *ctx, sc_net *net, int n, int h, int w, const char *what)
{
    sc_assert_ok(ctx, sc_net_reshape(net, n, h, w));
    assert_int_equal(sc_net_batch(net), n);
    float *x = random_input((size_t)n * 3 * h * w, (unsigned)(n * 1000 + h));
    size_t c1, c2;
    float *y1 = run(ctx, net, x, n, h, w, &c1);
    sc_net *ref = build(ctx, SC_PHASE_TEST, n, h, w, net);
    float *y2 = run(ctx, ref, x, n, h, w, &c2);
    assert_int_equal(c1, c2);
    expect_same(y1, y2, c1, what);
    sc_net_destroy(ref);
    free(x), free(y1), free(y2);
}

static void test_reshape_matches_built_shapes(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net *net = build(ctx, SC_PHASE_TEST, 0, 0, 0, NULL);
    assert_int_equal(sc_net_batch(net), 32);
    sc_param_store_info before;
    sc_assert_ok(ctx, sc_net_param_store(net, &before));
    size_t full_count;
    float *x = random_input((size_t)32 * 3 * 112 * 96, 1);
    float *y_full = run(ctx, net, x, 32, 112, 96, &full_count);

    check_shape(ctx, net, 7, 112, 96, "batch 7 at 112x96 vs a net built for it");
    check_shape(ctx, net, 7, 56, 48, "batch 7 at 56x48 vs a net built for it");
    check_shape(ctx, net, 32, 56, 48, "batch 32 at 56x48 vs a net built for it");
    check_shape(ctx, net, 1, 31, 17, "batch 1 at 31x17 vs a net built for it");

    /* back to the built shape: the first answer again */
    sc_assert_ok(ctx, sc_net_reshape(net, 32, 112, 96));
    size_t again_count;
    float *y_again = run(ctx, net, x, 32, 112, 96, &again_count);
    assert_int_equal(again_count, full_count);
    expect_same(y_full, y_again, full_count, "back at 32x112x96");

    /* no weights were re-read or copied: still the one store, shared by nobody now */
    sc_param_store_info after;
    sc_assert_ok(ctx, sc_net_param_store(net, &after));
    assert_ptr_equal(after.data, before.data);
    assert_int_equal(after.nets, 1);

    /* larger than built: refused, and the net still works */
    assert_int_equal(sc_net_reshape(net, 33, 112, 96), SC_ERR_SHAPE);
    printf("reshape to 33x112x96: %s\n", sc_ctx_message(ctx));
    assert_non_null(strstr(sc_ctx_message(ctx), "built for"));
    assert_int_equal(sc_net_reshape(net, 32, 120, 96), SC_ERR_SHAPE);
    assert_int_equal(sc_net_batch(net), 32);
    float *y_still = run(ctx, net, x, 32, 112, 96, &again_count);
    expect_same(y_full, y_still, full_count, "after refused reshapes");

    free(x), free(y_full), free(y_again), free(y_still);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

/* An InnerProduct's weights depend on the input size: a smaller image is
 * an error naming the layer; the batch may still change. */
static void test_reshape_refuses_parameter_change(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("reshape_ip.prototxt"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("layer { name: \"data\" type: \"Input\" top: \"data\" input_param { shape { dim: 4 "
          "dim: 2 dim: 8 dim: 8 } } }\n"
          "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"data\" top: \"fc\" "
          "inner_product_param { num_output: 3 } }\n", f);
    fclose(f);
    sc_net_options o = {.phase = SC_PHASE_TEST};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, path, &o, &net));
    assert_int_equal(sc_net_reshape(net, 4, 4, 4), SC_ERR_SHAPE);
    printf("%s\n", sc_ctx_message(ctx));
    assert_non_null(strstr(sc_ctx_message(ctx), "fc"));
    assert_non_null(strstr(sc_ctx_message(ctx), "3x32"));
    assert_non_null(strstr(sc_ctx_message(ctx), "3x128"));
    sc_assert_ok(ctx, sc_net_reshape(net, 2, 0, 0));
    sc_assert_ok(ctx, sc_net_set_batch(&net, 3));
    assert_int_equal(sc_net_batch(net), 3);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

/* A TRAIN net and its TEST twin over one store: an SGD-style change made
 * through one is what the other computes with. */
static void test_shared_store_sees_updates(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    sc_net *train = build(ctx, SC_PHASE_TRAIN, 4, 56, 48, NULL);
    sc_net *test = build(ctx, SC_PHASE_TEST, 4, 56, 48, train);
    sc_param_store_info si;
    sc_assert_ok(ctx, sc_net_param_store(test, &si));
    assert_int_equal(si.nets, 2);
    sc_param_info a, b;
    sc_assert_ok(ctx, sc_net_find_param(train, "out.0", &a));
    sc_assert_ok(ctx, sc_net_find_param(test, "out.0", &b));
    assert_ptr_equal(a.data, b.data);

    float *x = random_input((size_t)4 * 3 * 56 * 48, 9);
    size_t n;
    float *y0 = run(ctx, test, x, 4, 56, 48, &n);
    float *w = malloc(a.count * sizeof *w);
    assert_non_null(w);
    sc_assert_ok(ctx, sc_buffer_read(ctx, a.data, 0, a.count * sizeof *w, w));
    for (size_t i = 0; i < a.count; i++)
        w[i] *= 2.0f; /* the output conv is linear, without bias: outputs double */
    sc_assert_ok(ctx, sc_buffer_write(ctx, a.data, 0, a.count * sizeof *w, w));
    float *y1 = run(ctx, test, x, 4, 56, 48, &n);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(y1[i], 2.0f * y0[i], 1e-5 * fabs(y0[i]) + 1e-6);
    printf("TEST twin sees the TRAIN net's update of out.0: %zu outputs doubled\n", n);
    /* the store outlives the net that made it */
    sc_net_destroy(train);
    float *y2 = run(ctx, test, x, 4, 56, 48, &n);
    expect_same(y1, y2, n, "after the TRAIN net is gone");
    free(x), free(w), free(y0), free(y1), free(y2);
    sc_net_destroy(test);
    sc_ctx_destroy(ctx);
}

/* One allocation each for data, gradients and history; every parameter is a
 * region of them; clearing the gradients is one launch. */
static void test_flat_stores(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("reshape_train.prototxt"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("layer { name: \"data\" type: \"Input\" top: \"data\" top: \"label\" input_param { "
          "shape { dim: 2 dim: 3 dim: 8 dim: 8 } shape { dim: 2 } } }\n"
          "layer { name: \"c\" type: \"Convolution\" bottom: \"data\" top: \"c\" "
          "convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: \"xavier\" } "
          "} }\n"
          "layer { name: \"r\" type: \"PReLU\" bottom: \"c\" top: \"c\" }\n"
          "layer { name: \"fc\" type: \"InnerProduct\" bottom: \"c\" top: \"fc\" "
          "inner_product_param { num_output: 5 weight_filler { type: \"xavier\" } } }\n"
          "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"fc\" bottom: \"label\" "
          "top: \"loss\" }\n", f);
    fclose(f);
    sc_net_options o = {.phase = SC_PHASE_TRAIN, .seed = 2};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx, path, &o, &net));
    sc_param_store_info si;
    sc_assert_ok(ctx, sc_net_param_store(net, &si));
    assert_non_null(si.data);
    assert_non_null(si.diff);
    assert_non_null(si.history);
    assert_int_equal(si.params, sc_net_param_count(net));
    cl_mem stores[3] = {si.data, si.diff, si.history};
    for (size_t i = 0; i < sc_net_param_count(net); i++) {
        sc_param_info p;
        sc_assert_ok(ctx, sc_net_param(net, i, &p));
        cl_mem regions[3] = {p.data, p.diff, p.history};
        size_t offset[3];
        for (int k = 0; k < 3; k++) {
            cl_mem parent = NULL;
            assert_int_equal(clGetMemObjectInfo(regions[k], CL_MEM_ASSOCIATED_MEMOBJECT,
                                                sizeof parent, &parent, NULL), CL_SUCCESS);
            assert_ptr_equal(parent, stores[k]);
            assert_int_equal(clGetMemObjectInfo(regions[k], CL_MEM_OFFSET, sizeof offset[k],
                                                &offset[k], NULL), CL_SUCCESS);
            assert_true(offset[k] + p.count * sizeof(float) <= si.bytes);
        }
        assert_int_equal(offset[0], offset[1]);
        assert_int_equal(offset[0], offset[2]);
    }
    printf("%zu parameters in 3 stores of %zu bytes each\n", si.params, si.bytes);

    /* a backward pass makes gradients; one fill clears them all */
    float *x = random_input((size_t)2 * 3 * 8 * 8, 3);
    const float labels[2] = {1, 4};
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", x, (size_t)2 * 3 * 8 * 8));
    sc_assert_ok(ctx, sc_net_write_blob(net, "label", labels, 2));
    sc_assert_ok(ctx, sc_net_forward(net));
    sc_assert_ok(ctx, sc_net_backward(net));
    float *g = malloc(si.bytes);
    assert_non_null(g);
    sc_assert_ok(ctx, sc_buffer_read(ctx, si.diff, 0, si.bytes, g));
    size_t nonzero = 0;
    for (size_t i = 0; i < si.bytes / sizeof(float); i++)
        nonzero += g[i] != 0.0f;
    assert_true(nonzero > 100);
    assert_int_equal(sc_plan_steps(sc_net_clear_plan(net)), 1);
    sc_assert_ok(ctx, sc_net_clear_param_diffs(net));
    sc_assert_ok(ctx, sc_buffer_read(ctx, si.diff, 0, si.bytes, g));
    for (size_t i = 0; i < si.bytes / sizeof(float); i++)
        assert_true(g[i] == 0.0f);
    printf("%zu nonzero gradient values cleared by one launch\n", nonzero);
    free(x), free(g);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

static int write_net(void **state)
{
    (void)state;
    snprintf(g_net_path, sizeof g_net_path, "%s", sc_test_tmp("reshape_fcn.prototxt"));
    FILE *f = fopen(g_net_path, "w");
    if (!f)
        return -1;
    fputs(k_fcn, f);
    fclose(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_matches_built_shapes),
        cmocka_unit_test(test_reshape_refuses_parameter_change),
        cmocka_unit_test(test_shared_store_sees_updates),
        cmocka_unit_test(test_flat_stores),
    };
    return cmocka_run_group_tests(tests, write_net, NULL);
}
