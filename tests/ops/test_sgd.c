/* The SGD-family updates on the test device: the SGD conformance suite (a
 * recorded plan replayed with a changing learning-rate buffer), a
 * hand-computed step, every type on a sub-range of larger buffers, and the
 * argument errors. (Each type's rule against a reference of Caffe's:
 * tests/graph/test_solvers.c.) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conf_check.h"
#include "suite_pool_loss.h"

static void test_sgd_suite(void **state)
{
    (void)state;
    sc_test_run_suite(sc_conf_sgd, 0);
}

/* One L2 + momentum step with iter_size 2, by hand:
 * g = 4/2 + 0.1*2*w; h = 0.5*h0 + 0.1*3*g; w -= h. */
static void test_hand_step(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    const float w0[2] = {1.0f, -2.0f}, d0[2] = {4.0f, 2.0f}, h0[2] = {1.0f, 0.0f}, lr = 0.1f;
    cl_mem w, d, h, l;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof w0, &w));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof d0, &d));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof h0, &h));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, SC_SGD_SCALARS * sizeof lr, &l));
    sc_assert_ok(ctx, sc_buffer_write(ctx, w, 0, sizeof w0, w0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, d, 0, sizeof d0, d0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, h, 0, sizeof h0, h0));
    sc_assert_ok(ctx, sc_buffer_write(ctx, l, 0, sizeof lr, &lr));
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_sgd_params p = {.type = SC_SOLVER_SGD, .lr_mult = 3.0f, .decay_mult = 2.0f,
                       .momentum = 0.5f, .weight_decay = 0.1f, .iter_size = 2,
                       .regularization = SC_REG_L2};
    sc_sgd_blob b = {.w = w, .diff = d, .history = h, .count = 2};
    sc_assert_ok(ctx, sc_sgd_update(plan, "ip1.w", &b, l, &p));
    sc_assert_ok(ctx, sc_plan_run(plan));
    float wv[2], hv[2], dv[2];
    sc_assert_ok(ctx, sc_buffer_read(ctx, w, 0, sizeof wv, wv));
    sc_assert_ok(ctx, sc_buffer_read(ctx, h, 0, sizeof hv, hv));
    sc_assert_ok(ctx, sc_buffer_read(ctx, d, 0, sizeof dv, dv));
    /* element 0: g = 2 + 0.2 = 2.2, h = 0.5 + 0.66 = 1.16, w = -0.16
     * element 1: g = 1 - 0.4 = 0.6, h = 0.18, w = -2.18 */
    assert_float_equal(hv[0], 1.16, 1e-6);
    assert_float_equal(wv[0], -0.16, 1e-6);
    assert_float_equal(hv[1], 0.18, 1e-6);
    assert_float_equal(wv[1], -2.18, 1e-6);
    assert_true(dv[0] == hv[0] && dv[1] == hv[1]);
    sc_plan_destroy(plan);
    sc_buffer_release(ctx, w);
    sc_buffer_release(ctx, d);
    sc_buffer_release(ctx, h);
    sc_buffer_release(ctx, l);
    sc_ctx_destroy(ctx);
}

/* Every type updates exactly [offset, offset + count) of its buffers, and
 * those values come out as the same blob's update at offset 0 would make
 * them (a blob may be a sub-range of flat stores). */
static void check_sub_range(sc_ctx *ctx, sc_solver_type type)
{
    enum { N = 11, OFF = 4, COUNT = 5 };
    float w0[N], d0[N], h0[N], sc[SC_SGD_SCALARS] = {0.05f, 1.7f};
    for (int i = 0; i < N; i++) {
        w0[i] = 0.3f * (float)(i - 5);
        d0[i] = 0.1f * (float)(i % 4) - 0.12f;
        h0[i] = 0.01f * (float)(i + 1);
    }
    cl_mem big[4], one[4], l;
    for (int k = 0; k < 4; k++) {
        const float *init = k == 0 ? w0 : k == 1 ? d0 : h0;
        sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof w0, &big[k]));
        sc_assert_ok(ctx, sc_buffer_write(ctx, big[k], 0, sizeof w0, init));
        sc_assert_ok(ctx, sc_buffer_alloc(ctx, COUNT * sizeof(float), &one[k]));
        sc_assert_ok(ctx, sc_buffer_write(ctx, one[k], 0, COUNT * sizeof(float), init + OFF));
    }
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof sc, &l));
    sc_assert_ok(ctx, sc_buffer_write(ctx, l, 0, sizeof sc, sc));
    sc_sgd_params p = {.type = type, .lr_mult = 2.0f, .decay_mult = 1.0f, .momentum = 0.9f,
                       .momentum2 = 0.999f, .rms_decay = 0.9f, .delta = 1e-6f,
                       .weight_decay = 0.01f, .iter_size = 1, .regularization = SC_REG_L1};
    if (type == SC_SOLVER_ADAGRAD || type == SC_SOLVER_RMSPROP)
        p.momentum = 0.0f;
    sc_sgd_blob in_big = {big[0], big[1], big[2], big[3], OFF, COUNT};
    sc_sgd_blob alone = {one[0], one[1], one[2], one[3], 0, COUNT};
    sc_plan *plan;
    sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
    sc_assert_ok(ctx, sc_sgd_update(plan, "ip.w", &in_big, l, &p));
    sc_assert_ok(ctx, sc_sgd_update(plan, "ip.w", &alone, l, &p));
    sc_assert_ok(ctx, sc_plan_run(plan));
    for (int k = 0; k < 4; k++) {
        const float *init = k == 0 ? w0 : k == 1 ? d0 : h0;
        float got[N], ref[COUNT];
        sc_assert_ok(ctx, sc_buffer_read(ctx, big[k], 0, sizeof got, got));
        sc_assert_ok(ctx, sc_buffer_read(ctx, one[k], 0, sizeof ref, ref));
        for (int i = 0; i < N; i++) {
            int inside = i >= OFF && i < OFF + COUNT;
            int used = k < 3 || sc_solver_type_histories(type) == 2;
            float want = inside && used ? ref[i - OFF] : init[i];
            if (memcmp(&got[i], &want, sizeof want))
                fail_msg("%s buffer %d value %d: %.9g, expected %.9g", sc_solver_type_name(type),
                         k, i, got[i], want);
        }
        if (k == 0 || (k == 3 && sc_solver_type_histories(type) == 2))
            assert_true(memcmp(ref, init + OFF, sizeof ref) != 0); /* the update did something */
        sc_buffer_release(ctx, big[k]);
        sc_buffer_release(ctx, one[k]);
    }
    sc_buffer_release(ctx, l);
    sc_plan_destroy(plan);
}

static void test_sub_range(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    for (int t = 0; t < SC_SOLVER_TYPES; t++)
        check_sub_range(ctx, (sc_solver_type)t);
    sc_ctx_destroy(ctx);
}

/* ClipGradients' device reduction: two blobs (one a sub-range of a large
 * buffer, so many work-groups stride over it), the norm against double, and
 * the scale Caffe uses for a clip below and above the norm. */
static void test_clip_scale(void **state)
{
    (void)state;
    enum { BIG = 100003, OFF = 17, COUNT = 99001, SMALL = 37 };
    sc_ctx *ctx = sc_test_ctx();
    static float big[BIG];
    float small[SMALL];
    double sumsq = 0;
    for (int i = 0; i < BIG; i++) {
        big[i] = (float)sin(0.1 * i) * 0.01f;
        if (i >= OFF && i < OFF + COUNT)
            sumsq += (double)big[i] * big[i];
    }
    for (int i = 0; i < SMALL; i++) {
        small[i] = 0.05f * (float)(i - 18);
        sumsq += (double)small[i] * small[i];
    }
    const double norm = sqrt(sumsq);
    cl_mem db, ds, partial, scalars;
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof big, &db));
    sc_assert_ok(ctx, sc_buffer_write(ctx, db, 0, sizeof big, big));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, sizeof small, &ds));
    sc_assert_ok(ctx, sc_buffer_write(ctx, ds, 0, sizeof small, small));
    size_t g1 = sc_sgd_sumsq_groups(ctx, COUNT), g2 = sc_sgd_sumsq_groups(ctx, SMALL);
    assert_true(g1 > 1);
    assert_int_equal(g2, 1);
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, (g1 + g2) * sizeof(float), &partial));
    sc_assert_ok(ctx, sc_buffer_alloc(ctx, SC_SGD_SCALARS * sizeof(float), &scalars));
    const double clips[2] = {0.5 * norm, 2.0 * norm};
    for (int c = 0; c < 2; c++) {
        sc_plan *plan;
        sc_assert_ok(ctx, sc_plan_create(ctx, &plan));
        sc_sgd_blob b1 = {.diff = db, .offset = OFF, .count = COUNT};
        sc_sgd_blob b2 = {.diff = ds, .count = SMALL};
        sc_assert_ok(ctx, sc_sgd_sumsq(plan, "fc5.w", &b1, partial, 0));
        sc_assert_ok(ctx, sc_sgd_sumsq(plan, "fc5.b", &b2, partial, g1));
        sc_assert_ok(ctx, sc_sgd_clip_scale(plan, "clip", partial, g1 + g2, scalars,
                                            (float)clips[c]));
        sc_assert_ok(ctx, sc_plan_run(plan));
        float got[SC_SGD_SCALARS];
        sc_assert_ok(ctx, sc_buffer_read(ctx, scalars, 0, sizeof got, got));
        double want = c == 0 ? (double)(float)clips[c] / norm : 1.0;
        printf("norm %.9g, clip %.9g: scale %.9g, expected %.9g\n", norm, clips[c],
               got[SC_SGD_CLIP_SCALE], want);
        assert_float_equal(got[SC_SGD_CLIP_SCALE], want, 1e-6 * want);
        sc_plan_destroy(plan);
    }
    sc_buffer_release(ctx, db);
    sc_buffer_release(ctx, ds);
    sc_buffer_release(ctx, partial);
    sc_buffer_release(ctx, scalars);
    sc_ctx_destroy(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    sc_test_bufs B = sc_test_bufs_open();
    sc_ctx *ctx = B.ctx;
    sc_plan *plan = B.plan;
    cl_mem x = B.a, y = B.small;
    sc_sgd_params p = {.type = SC_SOLVER_SGD, .lr_mult = 1.0f, .decay_mult = 1.0f,
                       .momentum = 0.9f, .weight_decay = 5e-4f, .iter_size = 1,
                       .regularization = SC_REG_L2};
    sc_sgd_blob b = {.w = x, .diff = x, .history = x, .count = 0};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", &b, x, &p), SC_ERR_ARG,
                         "conv1_1.w (SGD)", "0 elements", NULL);
    sc_test_expect_error(ctx, sc_sgd_clear_diff(plan, "conv1_1.w", 0, x), SC_ERR_ARG,
                         "conv1_1.w (SGD)", "0 elements", NULL);
    b = (sc_sgd_blob){.w = x, .diff = x, .history = y, .count = 100};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", &b, x, &p), SC_ERR_SHAPE,
                         "conv1_1.w (SGD)", "history buffer holds", "needs 100", NULL);
    /* the range ends past the buffer: offset counts */
    b = (sc_sgd_blob){.w = y, .diff = y, .history = y, .offset = 10, .count = 8};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", &b, x, &p), SC_ERR_SHAPE,
                         "conv1_1.w (SGD)", "weights buffer holds 16", "needs 18", NULL);
    b = (sc_sgd_blob){.w = x, .diff = x, .history = x, .offset = 0x7ffffff0, .count = 32};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.w", &b, x, &p), SC_ERR_UNSUPPORTED,
                         "conv1_1.w (SGD)", "2^31-1", NULL);
    sc_test_expect_error(ctx, sc_sgd_clear_diff(plan, "conv1_1.w", 100, y), SC_ERR_SHAPE,
                         "conv1_1.w (SGD)", "diff buffer holds", "needs 100", NULL);
    b = (sc_sgd_blob){.w = x, .diff = x, .history = x, .count = 4};
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", &b, B.tiny, &p), SC_ERR_SHAPE,
                         "conv1_1.b (SGD)", "scalars buffer holds 1", "needs 3", NULL);
    p.type = SC_SOLVER_ADAM; /* two histories: the second one is required */
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", &b, x, &p), SC_ERR_ARG,
                         "conv1_1.b (Adam)", "second history buffer is missing", NULL);
    p.type = (sc_solver_type)6;
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", &b, x, &p), SC_ERR_ARG,
                         "conv1_1.b (SGD)", "unknown solver type 6", NULL);
    sc_test_expect_error(ctx, sc_sgd_sumsq(plan, "fc5.w", &b, y, 16), SC_ERR_SHAPE,
                         "fc5.w (ClipGradients)", "partial sums buffer holds 16", "needs 17", NULL);
    sc_test_expect_error(ctx, sc_sgd_clip_scale(plan, "clip", y, 0, x, 1.0f), SC_ERR_ARG,
                         "clip (ClipGradients)", "0 partial sums", NULL);
    sc_test_expect_error(ctx, sc_sgd_clip_scale(plan, "clip", y, 4, x, -1.0f), SC_ERR_ARG,
                         "clip (ClipGradients)", "clip -1", NULL);
    sc_test_expect_error(ctx, sc_sgd_clip_scale(plan, "clip", y, 4, B.tiny, 1.0f), SC_ERR_SHAPE,
                         "clip (ClipGradients)", "scalars buffer holds 1", NULL);
    p.type = SC_SOLVER_RMSPROP;
    p.iter_size = 0;
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", &b, x, &p), SC_ERR_ARG,
                         "conv1_1.b (RMSProp)", "iter_size 0", NULL);
    p.iter_size = 1;
    p.regularization = (sc_regularization)5;
    sc_test_expect_error(ctx, sc_sgd_update(plan, "conv1_1.b", &b, x, &p), SC_ERR_ARG,
                         "conv1_1.b (RMSProp)", "regularization", NULL);
    assert_int_equal(sc_plan_steps(plan), 0);
    sc_test_bufs_close(&B);
}

static void test_type_names(void **state)
{
    (void)state;
    static const char *const names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta",
                                        "Adam"};
    static const int histories[] = {1, 1, 1, 1, 2, 2};
    for (int t = 0; t < SC_SOLVER_TYPES; t++) {
        assert_string_equal(sc_solver_type_name((sc_solver_type)t), names[t]);
        assert_int_equal(sc_solver_type_histories((sc_solver_type)t), histories[t]);
    }
    assert_string_equal(sc_solver_type_name((sc_solver_type)6), "?");
    assert_int_equal(sc_solver_type_histories((sc_solver_type)-1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_suite),
        cmocka_unit_test(test_hand_step),
        cmocka_unit_test(test_sub_range),
        cmocka_unit_test(test_clip_scale),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
