/* A program as a user of the installed SphereCL writes it: only the installed
 * headers and `pkg-config --cflags --libs spherecl`. tests/apps/test_install.c
 * compiles it against an install and runs it; README.md shows it as the
 * example.
 *
 *   install_forward NET.prototxt WEIGHTS.caffemodel
 *
 * Builds the net (phase TEST, weights from the fillers, seed 1), fills every
 * input with a fixed pattern, runs forward on the device of $SPHERECL_DEVICE
 * (else the default), saves the weights to WEIGHTS, loads them into a second
 * net and runs it again, and prints each output blob:
 *   output fc5 1x128 sum 0.123456 abs 4.567890 reload identical
 * Exit status 1 when anything fails, with the library's message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spherecl/sc_graph.h>

#define MAX_BLOBS 16

static int fail(const char *what, sc_status st, const char *msg)
{
    fprintf(stderr, "install_forward: %s: %s: %s\n", what, sc_status_name(st), msg);
    return 1;
}

/* Forward with the same input every time; outputs[i] gets blob i's values. */
static sc_status run(sc_net *net, float **outputs, sc_blob_info *infos, size_t *n_out)
{
    const char *names[MAX_BLOBS];
    size_t n_in = sc_net_inputs(net, names, MAX_BLOBS);
    for (size_t i = 0; i < n_in && i < MAX_BLOBS; i++) {
        sc_blob_info b;
        SC_TRY(sc_net_blob(net, names[i], &b));
        float *x = malloc(b.count * sizeof *x);
        if (!x)
            return SC_ERR_NOMEM;
        for (size_t k = 0; k < b.count; k++)
            x[k] = (float)sin(0.01 * (double)k); /* a face-sized ramp of values in [-1, 1] */
        sc_status st = sc_net_write_blob(net, names[i], x, b.count);
        free(x);
        SC_TRY(st);
    }
    SC_TRY(sc_net_forward(net));
    *n_out = sc_net_outputs(net, names, MAX_BLOBS);
    if (*n_out > MAX_BLOBS)
        *n_out = MAX_BLOBS;
    for (size_t i = 0; i < *n_out; i++) {
        SC_TRY(sc_net_blob(net, names[i], &infos[i]));
        outputs[i] = malloc(infos[i].count * sizeof *outputs[i]);
        if (!outputs[i])
            return SC_ERR_NOMEM;
        SC_TRY(sc_net_read_blob(net, names[i], outputs[i], infos[i].count));
    }
    return SC_OK;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: install_forward NET.prototxt WEIGHTS.caffemodel\n");
        return 2;
    }
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    sc_ctx_options copts = {0}; /* device from $SPHERECL_DEVICE, default program cache */
    if (sc_ctx_create(&copts, &ctx, &err) != SC_OK)
        return fail("context", err.status, err.msg);
    printf("device %s, SphereCL %s\n", sc_ctx_info(ctx)->name, sc_version());

    sc_net_options nopts = {.phase = SC_PHASE_TEST, .seed = 1};
    sc_net *a = NULL, *b = NULL;
    float *out_a[MAX_BLOBS] = {0}, *out_b[MAX_BLOBS] = {0};
    sc_blob_info info_a[MAX_BLOBS], info_b[MAX_BLOBS];
    size_t n_a = 0, n_b = 0;
    int rc = 1;
    sc_status st;
    if ((st = sc_net_create(ctx, argv[1], &nopts, &a)) != SC_OK ||
        (st = run(a, out_a, info_a, &n_a)) != SC_OK ||
        (st = sc_net_save_weights(a, argv[2])) != SC_OK ||
        (st = sc_net_create(ctx, argv[1], &nopts, &b)) != SC_OK ||
        (st = sc_net_load_weights(b, argv[2], NULL, 0)) != SC_OK ||
        (st = run(b, out_b, info_b, &n_b)) != SC_OK) {
        rc = fail(argv[1], st, sc_ctx_message(ctx));
        goto done;
    }
    rc = n_a > 0 && n_a == n_b ? 0 : 1;
    for (size_t i = 0; i < n_a && i < n_b; i++) {
        double sum = 0, abs_sum = 0;
        for (size_t k = 0; k < info_a[i].count; k++) {
            sum += out_a[i][k];
            abs_sum += fabs(out_a[i][k]);
        }
        int same = info_a[i].count == info_b[i].count &&
                   !memcmp(out_a[i], out_b[i], info_a[i].count * sizeof(float));
        printf("output %s ", info_a[i].name);
        for (int d = 0; d < info_a[i].ndim; d++)
            printf("%s%d", d ? "x" : "", info_a[i].dims[d]);
        printf(" sum %.6f abs %.6f reload %s\n", sum, abs_sum, same ? "identical" : "differs");
        if (!same || !isfinite(sum))
            rc = 1;
    }
done:
    for (size_t i = 0; i < MAX_BLOBS; i++) {
        free(out_a[i]);
        free(out_b[i]);
    }
    sc_net_destroy(a);
    sc_net_destroy(b);
    sc_ctx_destroy(ctx);
    return rc;
}
