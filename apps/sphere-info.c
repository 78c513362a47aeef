/* sphere-info: the layer table of a Caffe net (name, type, top shape,
 * parameters, forward FLOPs) and its totals, optionally checked against a
 * caffemodel. Builds shapes only: no device memory is allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader.h"
#include "sc_graph.h"

typedef struct info_args {
    const char *net, *weights, *device;
    sc_phase phase;
    int json, memory, batch;
} info_args;

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, info_args *a)
{
    memset(a, 0, sizeof *a);
    const char *phase = "TEST";
    const sc_opt opts[] = {
        {SC_STR("--weights", &a->weights, "FILE", "check a caffemodel against the net")},
        {SC_CHOICE("--phase", &phase, "TRAIN|TEST", "phase to build")},
        {SC_FLAG("--json", &a->json, "print the table as JSON")},
        {SC_INT("--batch", &a->batch, "N", "batch size", 1, 65536),
         .default_text = "the prototxt's"},
        {SC_FLAG("--memory", &a->memory, "build on the device and report its memory use")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-info", .synopsis = "NET.prototxt [options]",
                        .description = "Prints every layer's type, top shape, parameter count and "
                                       "forward FLOPs (2 per multiply-add,\nfor the net's batch "
                                       "size), and the totals. --memory builds the net on the "
                                       "device and\nreports its memory use with and without "
                                       "buffer reuse.\n",
                        .opts = opts, .n_opts = sizeof opts / sizeof opts[0],
                        .positional = &a->net, .min_positional = 1, .max_positional = 1,
                        .positional_name = "NET.prototxt"};
    int rc = sc_cli_parse(&cli, argc, argv);
    a->phase = !strcmp(phase, "TRAIN") ? SC_PHASE_TRAIN : SC_PHASE_TEST;
    return rc;
}

static void shape_str(const sc_net *net, size_t layer, size_t top, char *buf, size_t cap)
{
    int nd, dims[4];
    sc_net_layer_top_shape(net, layer, top, &nd, dims);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < nd && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, i ? "x%d" : "%d", dims[i]);
    if (nd == 0)
        snprintf(buf, cap, "scalar");
}

static void print_table(const sc_net *net)
{
    size_t params = 0;
    double flops = 0;
    printf("%-28s %-22s %-18s %12s %14s\n", "layer", "type", "top shape", "params", "MFLOPs");
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        char shape[64] = "-";
        if (li.n_tops > 0)
            shape_str(net, i, 0, shape, sizeof shape);
        printf("%-28s %-22s %-18s %12zu %14.3f\n", li.name, li.type, shape, li.params,
               li.flops / 1e6);
        params += li.params;
        flops += li.flops;
    }
    printf("total: %zu layers, %zu parameters, %.3f GFLOPs per forward (batch %d)\n",
           sc_net_layer_count(net), params, flops / 1e9, sc_net_batch(net));
}

static void print_memory(const sc_net *net)
{
    sc_net_memory m = sc_net_memory_use(net);
    double mib = 1048576.0;
    printf("device memory (%s, batch %d): activations+gradients %.1f MiB with reuse, %.1f MiB "
           "without; parameters %.1f MiB; workspace %.1f MiB; total %.1f MiB (%.1f MiB without "
           "reuse)\n",
           sc_net_phase(net) == SC_PHASE_TRAIN ? "TRAIN" : "TEST", sc_net_batch(net),
           m.activations_bytes / mib, m.unshared_bytes / mib, m.params_bytes / mib,
           m.workspace_bytes / mib,
           (m.activations_bytes + m.params_bytes + m.workspace_bytes) / mib,
           (m.unshared_bytes + m.params_bytes + m.workspace_bytes) / mib);
}

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_json(const sc_net *net)
{
    size_t params = 0;
    double flops = 0;
    printf("{\"name\": ");
    print_json_string(sc_net_name(net));
    printf(", \"batch\": %d, \"layers\": [", sc_net_batch(net));
    for (size_t i = 0; i < sc_net_layer_count(net); i++) {
        sc_layer_info li;
        sc_net_layer(net, i, &li);
        printf("%s\n  {\"name\": ", i ? "," : "");
        print_json_string(li.name);
        printf(", \"type\": ");
        print_json_string(li.type);
        printf(", \"tops\": [");
        for (size_t t = 0; t < li.n_tops; t++) {
            int nd, dims[4];
            sc_net_layer_top_shape(net, i, t, &nd, dims);
            printf("%s{\"name\": ", t ? ", " : "");
            print_json_string(sc_net_layer_top(net, i, t));
            printf(", \"shape\": [");
            for (int d = 0; d < nd; d++)
                printf("%s%d", d ? ", " : "", dims[d]);
            printf("]}");
        }
        printf("], \"params\": %zu, \"flops\": %.0f}", li.params, li.flops);
        params += li.params;
        flops += li.flops;
    }
    printf("\n], \"total_params\": %zu, \"total_flops\": %.0f}\n", params, flops);
}

int main(int argc, char **argv)
{
    info_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    sc_net_options opts = {.phase = a.phase, .shapes_only = !a.memory, .batch = a.batch,
                           .image_size = sc_loader_probe_size};
    sc_net *net = NULL;
    /* a shapes-only net allocates nothing; the context carries its errors */
    sc_ctx *ctx = NULL;
    sc_ctx_options copts = {.selector = a.device};
    sc_error err = {0};
    sc_status st = sc_ctx_create(&copts, &ctx, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-info: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    rc = 0;
    if ((st = sc_net_create(ctx, a.net, &opts, &net)) != SC_OK) {
        fprintf(stderr, "sphere-info: %s\n", sc_ctx_message(ctx));
        rc = sc_cli_input_status(st);
    } else if (a.weights) {
        char missing[4096];
        if ((st = sc_net_load_weights(net, a.weights, missing, sizeof missing)) != SC_OK) {
            fprintf(stderr, "sphere-info: %s\n", sc_ctx_message(ctx));
            rc = sc_cli_input_status(st);
        } else if (missing[0]) {
            fprintf(stderr, "sphere-info: warning: %s has no weights for: %s\n", a.weights, missing);
        }
    }
    if (rc == 0)
        a.json ? print_json(net) : print_table(net);
    if (rc == 0 && a.memory)
        print_memory(net);
    sc_net_destroy(net);
    sc_ctx_destroy(ctx);
    return rc;
}
