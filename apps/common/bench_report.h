/* sphere-bench's results: statistics over the timed passes and the two ways
 * of printing them (a human summary and one JSON object for scripts such as
 * bench/compare.sh). */
#ifndef SC_BENCH_REPORT_H
#define SC_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

typedef struct sc_bench_stats {
    double median, min, max;
} sc_bench_stats;

/* Median (mean of the middle two for an even count), min and max of n >= 1
 * values; v is left unchanged. */
sc_bench_stats sc_bench_stats_of(const double *v, int n);

/* One layer's time in the profiled pass (device time from the OpenCL events
 * of its steps; host tasks: their host time). */
typedef struct sc_bench_layer {
    char name[128];
    double fwd_ms, bwd_ms;
} sc_bench_layer;

typedef struct sc_bench_result {
    const char *net_name, *prototxt;
    const char *mode;         /* "test", "fwdbwd", "train" */
    int batch, warmup, iters;
    const char *device, *device_type, *providers;
    const double *pass_ms;    /* iters wall times, each pass waited for */
    double flops_per_pass;    /* 2 per multiply-add; x3 for a backward */
    size_t peak_device_bytes; /* the context's buffer pool at its peak */
    size_t peak_rss_bytes;    /* the process's peak resident set */
    size_t blocking_calls;    /* over the timed passes */
    const sc_bench_layer *layers; /* NULL without --profile */
    size_t n_layers;
} sc_bench_result;

void sc_bench_print_text(FILE *f, const sc_bench_result *r);
void sc_bench_print_json(FILE *f, const sc_bench_result *r);

#endif
