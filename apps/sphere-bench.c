/* sphere-bench: throughput of a net on a device on random inputs: forward
 * passes (--mode test), forward + backward (--mode fwdbwd), or whole
 * training steps with an SGD update (--mode train, an in-memory sc_solver
 * as sphere-train builds). Every timed pass is waited for, so the median,
 * min and max are of single passes; --profile adds the time of every layer
 * (from the OpenCL events of its steps), --json prints one JSON object. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_report.h"
#include "cli.h"
#include "loader.h"
#include "sc_graph.h"
#include "sc_solver.h"

typedef enum bench_mode { MODE_TEST, MODE_FWDBWD, MODE_TRAIN } bench_mode;
static const char *const k_mode_names[] = {"test", "fwdbwd", "train"};

typedef struct bench_args {
    const char *net, *device, *phase, *mode_text;
    bench_mode mode;
    int batch, iters, warmup, profile, json;
} bench_args;

/* --phase is the older spelling: TEST is --mode test, TRAIN --mode fwdbwd. */
static int resolve_mode(bench_args *a)
{
    int from_phase = a->phase && !strcmp(a->phase, "TRAIN") ? MODE_FWDBWD : MODE_TEST;
    a->mode = (bench_mode)from_phase;
    for (int m = 0; a->mode_text && m < 3; m++)
        if (!strcmp(a->mode_text, k_mode_names[m]))
            a->mode = (bench_mode)m;
    if (a->phase && a->mode_text && (a->mode == MODE_TEST) != (from_phase == MODE_TEST)) {
        fprintf(stderr, "sphere-bench: --phase %s contradicts --mode %s\n", a->phase,
                a->mode_text);
        return SC_EXIT_USAGE;
    }
    return SC_CLI_CONTINUE;
}

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){.iters = 10, .warmup = 2};
    const sc_opt opts[] = {
        {SC_CHOICE("--mode", &a->mode_text, "test|fwdbwd|train",
                   "test: forward passes (TEST net); fwdbwd: forward + backward (TRAIN net); "
                   "train: training steps with an SGD update"),
         .default_text = "test"},
        {SC_CHOICE("--phase", &a->phase, "TRAIN|TEST",
                   "older spelling: TEST is --mode test, TRAIN is --mode fwdbwd"),
         .default_text = "TEST"},
        {SC_INT("--batch", &a->batch, "N", "batch size", 1, 65536),
         .default_text = "the prototxt's"},
        {SC_INT("--iters", &a->iters, "N", "timed passes", 1, 1000000)},
        {SC_INT("--warmup", &a->warmup, "N", "untimed passes first", 0, 1000000)},
        {SC_FLAG("--profile", &a->profile, "also time every layer (one more pass)")},
        {SC_FLAG("--json", &a->json, "print one JSON object instead of the summary")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-bench", .synopsis = "NET.prototxt [options]",
                        .description = "Times forward passes, forward + backward passes or "
                                       "training steps on random inputs and\nprints images/s "
                                       "(median, min, max over the passes), GFLOP/s and memory;\n"
                                       "--profile adds the time of every layer.\n",
                        .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                        .positional = &a->net, .min_positional = 1, .max_positional = 1,
                        .positional_name = "NET.prototxt"};
    int rc = sc_cli_parse(&cli, argc, argv);
    return rc == SC_CLI_CONTINUE ? resolve_mode(a) : rc;
}

/* Random inputs: data ~ U(-1, 1); labels 0. */
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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* What is timed: a net, and in train mode the solver that owns it. */
typedef struct bench_run {
    bench_mode mode;
    sc_net *net;
    sc_solver *solver;
} bench_run;

/* SphereFace's SGD (momentum 0.9, weight decay 5e-4) at a small fixed rate,
 * so random inputs cannot blow the weights up during a benchmark. */
static void sgd_params(const char *net, sc_solver_params *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->net, sizeof p->net, "%s", net);
    snprintf(p->lr_policy, sizeof p->lr_policy, "fixed");
    p->type = SC_SOLVER_SGD;
    p->base_lr = 1e-4;
    p->momentum = 0.9;
    p->momentum2 = 0.999;
    p->rms_decay = 0.99;
    p->delta = 1e-8;
    p->weight_decay = 5e-4;
    p->clip_gradients = -1;
    p->max_iter = 1 << 30;
    p->iter_size = 1;
    p->average_loss = 1;
    p->random_seed = -1;
}

static sc_status bench_open(sc_ctx *ctx, const bench_args *a, bench_run *b)
{
    sc_net_options no = {.phase = a->mode == MODE_TEST ? SC_PHASE_TEST : SC_PHASE_TRAIN,
                         .batch = a->batch, .image_size = sc_loader_probe_size};
    *b = (bench_run){.mode = a->mode};
    if (a->mode == MODE_TRAIN) {
        sc_solver_params sp;
        sgd_params(a->net, &sp);
        SC_TRY(sc_solver_create(ctx, &sp, &no, &b->solver));
        b->net = sc_solver_net(b->solver);
    } else {
        SC_TRY(sc_net_create(ctx, a->net, &no, &b->net));
    }
    return fill_inputs(b->net);
}

static void bench_close(bench_run *b)
{
    if (b->solver)
        sc_solver_destroy(b->solver); /* owns the net */
    else
        sc_net_destroy(b->net);
}

/* Enqueues one pass; nothing waits for the device. */
static sc_status one_pass(bench_run *b)
{
    if (b->mode == MODE_TRAIN)
        return sc_solver_step(b->solver, NULL, NULL, 0, NULL);
    SC_TRY(sc_net_forward(b->net));
    if (b->mode == MODE_FWDBWD) {
        SC_TRY(sc_net_backward(b->net));
        SC_TRY(sc_net_clear_param_diffs(b->net));
    }
    return SC_OK;
}

/* n passes, each waited for; ms (may be NULL) receives each one's time. */
static sc_status passes(bench_run *b, int n, double *ms)
{
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        SC_TRY(one_pass(b));
        SC_TRY(sc_ctx_finish(sc_net_ctx(b->net)));
        if (ms)
            ms[i] = now_ms() - t0;
    }
    return SC_OK;
}

/* Adds a plan's step times to their layers (step labels are
 * "<layer>/<step>", and layer names may hold '/' themselves); a plan whose
 * steps are not a layer's (the solver update) is one row named `whole`. */
static void accumulate(sc_plan *plan, sc_bench_layer *t, size_t *n, size_t cap, int backward,
                       const char *whole)
{
    sc_plan_profile_entry *e = NULL;
    size_t count = 0;
    if (!plan || sc_plan_profile(plan, &e, &count) != SC_OK)
        return;
    for (size_t i = 0; i < count; i++) {
        const char *label = whole ? whole : e[i].label;
        const char *slash = whole ? NULL : strrchr(label, '/');
        size_t len = slash ? (size_t)(slash - label) : strlen(label);
        size_t k = 0;
        while (k < *n && (strlen(t[k].name) != len || strncmp(t[k].name, label, len)))
            k++;
        if (k == *n && *n < cap)
            snprintf(t[(*n)++].name, sizeof t[0].name, "%.*s", (int)len, label);
        if (k < cap)
            *(backward ? &t[k].bwd_ms : &t[k].fwd_ms) += e[i].ms;
    }
    free(e);
}

/* One more pass with an event per step, folded into per-layer times. */
static sc_status profile_pass(bench_run *b, sc_bench_layer **layers, size_t *n)
{
    sc_ctx *ctx = sc_net_ctx(b->net);
    size_t cap = 4 * sc_net_layer_count(b->net) + 16;
    *layers = calloc(cap, sizeof **layers);
    *n = 0;
    if (!*layers)
        return sc_fail(sc_ctx_error(ctx), SC_ERR_NOMEM, "out of host memory");
    sc_ctx_set_profiling(ctx, 1);
    sc_status st = passes(b, 1, NULL);
    if (st == SC_OK) {
        accumulate(sc_net_forward_plan(b->net), *layers, n, cap, 0, NULL);
        accumulate(sc_net_backward_plan(b->net), *layers, n, cap, 1, NULL);
        if (b->solver)
            accumulate(sc_solver_update_plan(b->solver), *layers, n, cap, 1, "solver update");
    }
    sc_ctx_set_profiling(ctx, 0);
    return st;
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

static size_t peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss * 1024 : 0;
}

/* Times the passes and prints the result; returns the exit status. */
static int measure(const bench_args *a, sc_ctx *ctx, bench_run *b)
{
    double *ms = calloc((size_t)a->iters, sizeof *ms);
    sc_bench_layer *layers = NULL;
    size_t n_layers = 0;
    sc_status st = ms ? passes(b, a->warmup, NULL) : SC_ERR_NOMEM;
    sc_sync_stats s0 = sc_ctx_sync_stats(ctx);
    if (st == SC_OK)
        st = passes(b, a->iters, ms);
    sc_sync_stats s1 = sc_ctx_sync_stats(ctx);
    if (st == SC_OK && a->profile)
        st = profile_pass(b, &layers, &n_layers);
    if (st == SC_OK) {
        const sc_device_info *d = sc_ctx_info(ctx);
        char prov[256];
        sc_providers_describe(sc_ctx_gemm_provider(ctx), sc_ctx_conv_provider(ctx), prov,
                              sizeof prov);
        /* backward costs about twice the forward's FLOPs */
        sc_bench_result r = {
            .net_name = sc_net_name(b->net), .prototxt = a->net, .mode = k_mode_names[a->mode],
            .batch = sc_net_batch(b->net), .warmup = a->warmup, .iters = a->iters,
            .device = d->name, .device_type = sc_device_type_name(d->type), .providers = prov,
            .pass_ms = ms, .flops_per_pass = net_flops(b->net) * (a->mode == MODE_TEST ? 1 : 3),
            .peak_device_bytes = sc_ctx_pool_stats(ctx).peak_bytes,
            .peak_rss_bytes = peak_rss_bytes(),
            .blocking_calls = s1.blocking_calls - s0.blocking_calls,
            .layers = layers, .n_layers = n_layers};
        if (a->json)
            sc_bench_print_json(stdout, &r);
        else
            sc_bench_print_text(stdout, &r);
    } else {
        fprintf(stderr, "sphere-bench: %s\n", st == SC_ERR_NOMEM && !ms ? "out of host memory"
                                                                        : sc_ctx_message(ctx));
    }
    free(ms);
    free(layers);
    return st == SC_OK ? SC_EXIT_OK : SC_EXIT_FAILED;
}

/* Returns the exit status. */
static int run(const bench_args *a, sc_ctx *ctx)
{
    bench_run b = {0};
    sc_status st = bench_open(ctx, a, &b);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-bench: %s\n", sc_ctx_message(ctx));
        bench_close(&b);
        return sc_cli_input_status(st);
    }
    int rc = measure(a, ctx, &b);
    bench_close(&b);
    return rc;
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
    if (!a.json) {
        const sc_device_info *d = sc_ctx_info(ctx);
        char prov[256];
        sc_providers_describe(sc_ctx_gemm_provider(ctx), sc_ctx_conv_provider(ctx), prov,
                              sizeof prov);
        printf("device: %s (%s), %s\n", d->name, sc_device_type_name(d->type), prov);
    }
    rc = run(&a, ctx);
    sc_ctx_destroy(ctx);
    return rc;
}
