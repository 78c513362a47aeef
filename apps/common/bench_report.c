/* sphere-bench's statistics and output (see bench_report.h). */
#include "bench_report.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

sc_bench_stats sc_bench_stats_of(const double *v, int n)
{
    sc_bench_stats s = {0, 0, 0};
    double *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted || n <= 0) {
        free(sorted);
        return s;
    }
    memcpy(sorted, v, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    s.min = sorted[0];
    s.max = sorted[n - 1];
    s.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    free(sorted);
    return s;
}

/* img/s of the passes: batch / time, so the fastest pass gives the max. */
static sc_bench_stats images_per_s(const sc_bench_result *r, sc_bench_stats ms)
{
    return (sc_bench_stats){r->batch / (ms.median * 1e-3), r->batch / (ms.max * 1e-3),
                            r->batch / (ms.min * 1e-3)};
}

static const char *mode_what(const char *mode)
{
    return !strcmp(mode, "train")    ? "training step (forward, backward, SGD update)"
           : !strcmp(mode, "fwdbwd") ? "forward+backward"
                                     : "forward";
}

static void print_layers_text(FILE *f, const sc_bench_result *r)
{
    double total = 0;
    for (size_t i = 0; i < r->n_layers; i++)
        total += r->layers[i].fwd_ms + r->layers[i].bwd_ms;
    fprintf(f, "%-28s %10s %10s %7s\n", "layer (profiled pass)", "fwd ms", "bwd ms", "share");
    for (size_t i = 0; i < r->n_layers; i++) {
        const sc_bench_layer *l = &r->layers[i];
        fprintf(f, "%-28s %10.2f %10.2f %6.1f%%\n", l->name, l->fwd_ms, l->bwd_ms,
                100 * (l->fwd_ms + l->bwd_ms) / (total > 0 ? total : 1));
    }
    fprintf(f, "%-28s %10.2f (device time of every step from its OpenCL event; host GEMMs and "
               "oneDNN tasks: their host time)\n", "total", total);
}

void sc_bench_print_text(FILE *f, const sc_bench_result *r)
{
    sc_bench_stats ms = sc_bench_stats_of(r->pass_ms, r->iters), ips = images_per_s(r, ms);
    fprintf(f, "%s %s, batch %d: %.2f ms per %s (median of %d; min %.2f, max %.2f), "
               "%.1f images/s (%.1f-%.1f), %.1f GFLOP/s\n",
            r->net_name, r->mode, r->batch, ms.median, mode_what(r->mode), r->iters, ms.min,
            ms.max, ips.median, ips.min, ips.max, r->flops_per_pass / (ms.median * 1e6));
    fprintf(f, "memory: peak %.1f MiB of device buffers, peak host RSS %.1f MiB\n",
            r->peak_device_bytes / 1048576.0, r->peak_rss_bytes / 1048576.0);
    fprintf(f, "host-blocking calls: %zu over %d passes (one wait per timed pass)\n",
            r->blocking_calls, r->iters);
    if (r->layers)
        print_layers_text(f, r);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_stats(FILE *f, const char *key, sc_bench_stats s)
{
    fprintf(f, "  \"%s\": {\"median\": %.4f, \"min\": %.4f, \"max\": %.4f},\n", key, s.median,
            s.min, s.max);
}

static void json_field(FILE *f, const char *key, const char *value)
{
    fprintf(f, "  \"%s\": ", key);
    json_string(f, value);
    fprintf(f, ",\n");
}

static void print_layers_json(FILE *f, const sc_bench_result *r)
{
    fprintf(f, ",\n  \"layers\": [");
    for (size_t i = 0; i < r->n_layers; i++) {
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        json_string(f, r->layers[i].name);
        fprintf(f, ", \"forward_ms\": %.4f, \"backward_ms\": %.4f}", r->layers[i].fwd_ms,
                r->layers[i].bwd_ms);
    }
    fprintf(f, "\n  ]");
}

void sc_bench_print_json(FILE *f, const sc_bench_result *r)
{
    sc_bench_stats ms = sc_bench_stats_of(r->pass_ms, r->iters), ips = images_per_s(r, ms);
    sc_bench_stats gf = {r->flops_per_pass / (ms.median * 1e6), r->flops_per_pass / (ms.max * 1e6),
                         r->flops_per_pass / (ms.min * 1e6)};
    fprintf(f, "{\n");
    json_field(f, "tool", "sphere-bench");
    json_field(f, "net", r->net_name);
    json_field(f, "prototxt", r->prototxt);
    json_field(f, "mode", r->mode);
    fprintf(f, "  \"batch\": %d,\n  \"warmup\": %d,\n  \"iters\": %d,\n", r->batch, r->warmup,
            r->iters);
    json_field(f, "device", r->device);
    json_field(f, "device_type", r->device_type);
    json_field(f, "providers", r->providers);
    json_stats(f, "images_per_s", ips);
    json_stats(f, "ms_per_pass", ms);
    json_stats(f, "gflop_per_s", gf);
    fprintf(f, "  \"gflop_per_pass\": %.4f,\n", r->flops_per_pass * 1e-9);
    fprintf(f, "  \"pass_ms\": [");
    for (int i = 0; i < r->iters; i++)
        fprintf(f, "%s%.4f", i ? ", " : "", r->pass_ms[i]);
    fprintf(f, "],\n  \"peak_device_bytes\": %zu,\n  \"peak_host_rss_bytes\": %zu,\n",
            r->peak_device_bytes, r->peak_rss_bytes);
    fprintf(f, "  \"host_blocking_calls\": %zu", r->blocking_calls);
    if (r->layers)
        print_layers_json(f, r);
    fprintf(f, "\n}\n");
}
