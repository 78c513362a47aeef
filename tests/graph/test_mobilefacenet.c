/* The pretrained MobileFaceNet (../shared/models/mobilefacenet): its deploy
 * prototxt and caffemodel, run on the 4 golden aligned LFW faces and their
 * mirror images in one batch of 8, reproduce golden.txt's fc5 embeddings.
 * Tolerance: 1e-5 of the largest reference value per embedding; the README
 * puts a float32 pass about 1e-6 from the float64 reference, the rest is
 * room for a different summation order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_input.h"
#include "sc_graph.h"
#include "sc_test.h"

#define DIM 128
#define MAX_ROWS 16
#define TOLERANCE 1e-5

typedef struct golden_row {
    char path[256];
    int flip;
    double v[DIM];
} golden_row;

static int load_golden(golden_row *rows)
{
    FILE *f = fopen(sc_test_shared("models/mobilefacenet/golden.txt"), "r");
    assert_non_null(f);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < MAX_ROWS) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char kind[16];
        int used = 0;
        if (sscanf(line, "%255s %15s%n", rows[n].path, kind, &used) != 2)
            continue;
        rows[n].flip = !strcmp(kind, "hflip");
        char *p = line + used;
        for (int k = 0; k < DIM; k++)
            rows[n].v[k] = strtod(p, &p);
        n++;
    }
    fclose(f);
    return n;
}

static void test_golden_embeddings(void **state)
{
    (void)state;
    golden_row rows[MAX_ROWS];
    int n = load_golden(rows);
    assert_int_equal(n, 8);
    sc_ctx *ctx = sc_test_ctx();
    sc_net_options opts = {.phase = SC_PHASE_TEST, .batch = n};
    sc_net *net = NULL;
    sc_assert_ok(ctx, sc_net_create(ctx,
                                    sc_test_shared("models/mobilefacenet/mobilefacenet_112x96_deploy.prototxt"),
                                    &opts, &net));
    char missing[1024];
    sc_assert_ok(ctx, sc_net_load_weights(net,
                                          sc_test_shared("models/mobilefacenet/mobilefacenet_112x96.caffemodel"),
                                          missing, sizeof missing));
    assert_string_equal(missing, "");
    size_t per = 3 * 112 * 96;
    float *in = malloc(per * (size_t)n * sizeof *in);
    const sc_pixel_norm norm = {{127.5f, 127.5f, 127.5f}, 1.0f / 128.0f, 0};
    const sc_input_shape shape = {3, 112, 96};
    for (int i = 0; i < n; i++) {
        char rel[1024];
        snprintf(rel, sizeof rel, "data/lfw/reference-aligned-112x96/%.255s", rows[i].path);
        sc_image img = {0};
        sc_error err = {0};
        sc_assert_ok_err(&err, sc_image_load(sc_test_shared(rel), 3, &img, &err));
        sc_assert_ok_err(&err, sc_image_to_input(&img, &shape, &norm, rows[i].flip,
                                                 in + per * (size_t)i, rel, &err));
        sc_image_free(&img);
    }
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", in, per * (size_t)n));
    sc_assert_ok(ctx, sc_net_forward(net));
    float out[MAX_ROWS * DIM];
    sc_assert_ok(ctx, sc_net_read_blob(net, "fc5", out, (size_t)n * DIM));
    for (int i = 0; i < n; i++) {
        double max_ref = 0, max_diff = 0;
        for (int k = 0; k < DIM; k++) {
            max_ref = fmax(max_ref, fabs(rows[i].v[k]));
            max_diff = fmax(max_diff, fabs(out[i * DIM + k] - rows[i].v[k]));
        }
        printf("%-45s %-5s max |diff| %.3g (%.3g of max |ref|)\n", rows[i].path,
               rows[i].flip ? "hflip" : "orig", max_diff, max_diff / max_ref);
        assert_true(max_diff <= TOLERANCE * max_ref);
    }
    /* the same net rebuilt for batch 1 keeps its weights and gives the same embedding */
    sc_assert_ok(ctx, sc_net_set_batch(&net, 1));
    assert_int_equal(sc_net_batch(net), 1);
    sc_assert_ok(ctx, sc_net_write_blob(net, "data", in, per));
    sc_assert_ok(ctx, sc_net_forward(net));
    float one[DIM];
    sc_assert_ok(ctx, sc_net_read_blob(net, "fc5", one, DIM));
    double max_ref = 0, max_diff = 0;
    for (int k = 0; k < DIM; k++) {
        max_ref = fmax(max_ref, fabs(rows[0].v[k]));
        max_diff = fmax(max_diff, fabs(one[k] - rows[0].v[k]));
    }
    printf("after set_batch(1): max |diff| %.3g\n", max_diff);
    assert_true(max_diff <= TOLERANCE * max_ref);
    free(in);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_embeddings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
