/* sphere-bench: throughput of a net on a device (forward, or forward +
 * backward for TRAIN) on random inputs, and with --profile the device time of
 * every layer, read from the OpenCL events of its steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "loader.h"
#include "sc_graph.h"

typedef struct bench_args {
    const char *net, *device;
    sc_phase phase;
    int batch, iters, warmup, profile;
} bench_args;

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){.phase = SC_PHASE_TEST, .iters = 10, .warmup = 2};
    const char *phase = "TEST";
    const sc_opt opts[] = {
        {SC_CHOICE("--phase", &phase, "TRAIN|TEST",
                   "TEST: forward passes; TRAIN: forward + backward")},
        {SC_INT("--batch", &a->batch, "N", "batch size", 1, 65536),
         .default_text = "the prototxt's"},
        {SC_INT("--iters", &a->iters, "N", "timed passes", 1, 1000000)},
        {SC_INT("--warmup", &a->warmup, "N", "untimed passes first", 0, 1000000)},
        {SC_FLAG("--profile", &a->profile, "also time every layer")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-bench", .synopsis = "NET.prototxt [options]",
                        .description = "Times forward (TEST) or forward + backward (TRAIN) passes "
                                       "on random inputs and prints\nimages/s and GFLOP/s; "
                                       "--profile adds the time of every layer.\n",
                        .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                        .positional = &a->net, .min_positional = 1, .max_positional = 1,
                        .positional_name = "NET.prototxt"};
    int rc = sc_cli_parse(&cli, argc, argv);
    a->phase = !strcmp(phase, "TRAIN") ? SC_PHASE_TRAIN : SC_PHASE_TEST;
    return rc;
}

/* Random inputs: data ~ U(-1, 1); labels uniform over the classes of the
 * layer that reads them (the classifier's output count). */
static sc_status fill_inputs(sc_net *net)
{
    const char *names[16];
    size_t n = sc_net_inputs(net, names, 16);
    uint64_t s = 42;
    for (size_t i = 0; i < n && i < 16; i++) {
        sc_blob_info b;
        SC_TRY(sc_net_blob(net, names[i], &b));
        float *v = malloc(b.count * sizeof *v);
        if (!v)
            return SC_ERR_NOMEM;
        int is_label = b.ndim == 1 || strstr(names[i], "label") != NULL;
        for (size_t k = 0; k < b.count; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(s >> 11) / 9007199254740992.0;
            v[k] = is_label ? 0.0f : (float)(2 * u - 1);
        }
        sc_status st = sc_net_write_blob(net, names[i], v, b.count);
        free(v);
        SC_TRY(st);
    }
    return SC_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Enqueues one pass; nothing waits for the device until sc_ctx_finish. */
static sc_status one_pass(sc_net *net)
{
    SC_TRY(sc_net_forward(net));
    if (sc_net_phase(net) == SC_PHASE_TRAIN) {
        SC_TRY(sc_net_backward(net));
        SC_TRY(sc_net_clear_param_diffs(net));
    }
    return SC_OK;
}

/* n passes, then one wait for the device. */
static sc_status passes(sc_net *net, int n)
{
    for (int i = 0; i < n; i++)
        SC_TRY(one_pass(net));
    return sc_ctx_finish(sc_net_ctx(net));
}

typedef struct layer_time {
    char name[128];
    double fwd, bwd;
} layer_time;

/* Adds a plan's step times to their layers (step labels are
 * "<layer>/<step>", and layer names may hold '/' themselves). */
static void accumulate(sc_plan *plan, layer_time *t, size_t *n, size_t cap, int backward)
{
    sc_plan_profile_entry *e = NULL;
    size_t count = 0;
    if (!plan || sc_plan_profile(plan, &e, &count) != SC_OK)
        return;
    for (size_t i = 0; i < count; i++) {
        const char *slash = strrchr(e[i].label, '/');
        size_t len = slash ? (size_t)(slash - e[i].label) : strlen(e[i].label);
        size_t k = 0;
        while (k < *n && (strlen(t[k].name) != len || strncmp(t[k].name, e[i].label, len)))
            k++;
        if (k == *n && *n < cap)
            snprintf(t[(*n)++].name, sizeof t[0].name, "%.*s", (int)len, e[i].label);
        if (k < cap)
            *(backward ? &t[k].bwd : &t[k].fwd) += e[i].ms;
    }
    free(e);
}

static void print_profile(sc_net *net)
{
    size_t cap = 4 * sc_net_layer_count(net) + 16, n = 0;
    layer_time *t = calloc(cap, sizeof *t);
    if (!t)
        return;
    accumulate(sc_net_forward_plan(net), t, &n, cap, 0);
    accumulate(sc_net_backward_plan(net), t, &n, cap, 1);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += t[i].fwd + t[i].bwd;
    printf("%-28s %10s %10s %7s\n", "layer (last pass)", "fwd ms", "bwd ms", "share");
    for (size_t i = 0; i < n; i++)
        printf("%-28s %10.2f %10.2f %6.1f%%\n", t[i].name, t[i].fwd, t[i].bwd,
               100 * (t[i].fwd + t[i].bwd) / (total > 0 ? total : 1));
    printf("%-28s %10.2f (device time of every step from its OpenCL event; host GEMMs: their "
           "host time)\n", "total", total);
    free(t);
}

static double net_flops(const sc_net *net)
{
    double f = 0;
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        f += li.flops;
    }
    return f;
}

/* Returns the exit status. */
static int run(const bench_args *a, sc_ctx *ctx)
{
    sc_net_options no = {.phase = a->phase, .batch = a->batch, .image_size = sc_loader_probe_size};
    sc_net *net = NULL;
    sc_status st = sc_net_create(ctx, a->net, &no, &net);
    if (st == SC_OK)
        st = fill_inputs(net);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-bench: %s\n", sc_ctx_message(ctx));
        sc_net_destroy(net);
        return sc_cli_input_status(st);
    }
    int ok = passes(net, a->warmup) == SC_OK;
    double t0 = now_s();
    sc_sync_stats s0 = sc_ctx_sync_stats(ctx);
    ok = ok && passes(net, a->iters) == SC_OK;
    double dt = (now_s() - t0) / a->iters;
    sc_sync_stats s1 = sc_ctx_sync_stats(ctx);
    if (!ok) {
        fprintf(stderr, "sphere-bench: %s\n", sc_ctx_message(ctx));
    } else {
        /* backward costs about twice the forward's FLOPs */
        double flops = net_flops(net) * (a->phase == SC_PHASE_TRAIN ? 3.0 : 1.0);
        printf("%s %s, batch %d: %.2f ms per %s, %.1f images/s, %.1f GFLOP/s\n", sc_net_name(net),
               a->phase == SC_PHASE_TRAIN ? "TRAIN" : "TEST", sc_net_batch(net), dt * 1e3,
               a->phase == SC_PHASE_TRAIN ? "forward+backward" : "forward",
               sc_net_batch(net) / dt, flops / dt / 1e9);
        printf("host-blocking calls: %zu over %d passes (the one wait at the end)\n",
               s1.blocking_calls - s0.blocking_calls, a->iters);
        /* one more pass with an event per step */
        if (a->profile) {
            sc_ctx_set_profiling(ctx, 1);
            if (passes(net, 1) == SC_OK)
                print_profile(net);
        }
    }
    sc_net_destroy(net);
    return ok ? SC_EXIT_OK : SC_EXIT_FAILED;
}

int main(int argc, char **argv)
{
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    sc_ctx_options co = {.selector = a.device};
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    sc_status st = sc_ctx_create(&co, &ctx, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-bench: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    const sc_device_info *d = sc_ctx_info(ctx);
    printf("device: %s (%s), GEMM: %s\n", d->name, sc_device_type_name(d->type),
           sc_gemm_provider_name(sc_ctx_gemm_provider(ctx)));
    rc = run(&a, ctx);
    sc_ctx_destroy(ctx);
    return rc;
}
