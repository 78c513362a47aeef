/* sphere-conformance: runs every op's kernels on a device and compares them
 * with the plain-C double-precision reference (forward) and with finite
 * differences of it (backward); --golden DIR adds reference data in the
 * format of ../shared/golden/asoftmax or ../shared/golden/train_tiny. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"
#include "golden_train.h"
#include "suite_asoftmax.h"
#include "suite_dense.h"
#include "suite_elementwise.h"
#include "suite_fold.h"
#include "suite_pool_loss.h"

typedef struct suite {
    const char *op;
    sc_conf_suite_fn run;
} suite;

static const suite k_suites[] = {
    {"conv", sc_conf_conv},           {"depthwise", sc_conf_depthwise},
    {"inner_product", sc_conf_inner_product}, {"prelu", sc_conf_prelu},
    {"batchnorm", sc_conf_batchnorm}, {"batchnorm_fold", sc_conf_batchnorm_fold},
    {"scale", sc_conf_scale},
    {"eltwise", sc_conf_eltwise},     {"dropout", sc_conf_dropout},
    {"pooling", sc_conf_pooling},     {"softmax", sc_conf_softmax},
    {"softmax_loss", sc_conf_softmax_loss}, {"accuracy", sc_conf_accuracy},
    {"asoftmax", sc_conf_asoftmax},   {"sgd", sc_conf_sgd},
};
#define N_SUITES (sizeof k_suites / sizeof k_suites[0])
#define MAX_GOLDEN 16

typedef struct conf_args {
    const char *device, *op;
    const char *golden[MAX_GOLDEN];
    int n_golden;
    int failures_only;
} conf_args;

static void usage(FILE *f)
{
    fprintf(f, "usage: sphere-conformance [--device SEL] [--op NAME] [--golden DIR]... [--failures]\n"
               "  Checks every kernel against the C reference on the chosen device and prints\n"
               "  one row per check; the last line is 'N passed, M failed' (exit 1 if M > 0).\n"
               "  --golden DIR: A-Softmax cases (../shared/golden/asoftmax format) or a training\n"
               "  trajectory (../shared/golden/train_tiny format). --golden alone (no --op) runs\n"
               "  only the golden checks. Ops:");
    for (size_t i = 0; i < N_SUITES; i++)
        fprintf(f, " %s", k_suites[i].op);
    fprintf(f, "\n");
}

static int parse_args(int argc, char **argv, conf_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(o, "--failures")) {
            a->failures_only = 1;
        } else if (i + 1 < argc && !strcmp(o, "--device")) {
            a->device = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--op")) {
            a->op = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--golden") && a->n_golden < MAX_GOLDEN) {
            a->golden[a->n_golden++] = argv[++i];
        } else {
            fprintf(stderr, "sphere-conformance: bad argument '%s'\n", o);
            return 0;
        }
    }
    return 1;
}

static void print_header(void)
{
    printf("%-14s %-40s %-34s %11s %11s %9s %-4s %9s\n", "op", "shape", "direction", "max abs",
           "max rel", "tol", "", "GFLOP/s");
}

static void print_rows(const sc_conf_report *rep, size_t from, int failures_only)
{
    for (size_t i = from; i < rep->n; i++) {
        const sc_conf_row *r = &rep->rows[i];
        if (failures_only && r->pass)
            continue;
        char gf[16] = "-";
        if (r->gflops >= 0)
            snprintf(gf, sizeof gf, "%.2f", r->gflops);
        printf("%-14s %-40s %-34s %11.3e %11.3e %9.1e %-4s %9s\n", r->op, r->shape, r->direction,
               r->max_abs, r->max_rel, r->tol, r->pass ? "PASS" : "FAIL", gf);
    }
    fflush(stdout);
}

/* A check that cannot run at all (OpenCL failure) counts as a failed row. */
static void run_or_record(sc_ctx *ctx, sc_conf_report *rep, const char *what, sc_status st)
{
    if (st == SC_OK)
        return;
    fprintf(stderr, "sphere-conformance: %s: %s\n", what, sc_ctx_message(ctx));
    sc_conf_add_check(rep, what, "-", "could not run", 0);
}

static int exists(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, R_OK) == 0;
}

static void run_golden(sc_ctx *ctx, const char *dir, sc_conf_report *rep)
{
    if (exists(dir, "trajectory.txt") || exists(dir, "train.prototxt")) {
        if (exists(dir, "trajectory.txt"))
            run_or_record(ctx, rep, dir, sc_conf_train_golden(ctx, dir, "trajectory.txt", 1, rep));
        if (exists(dir, "trajectory_caffe_mode.txt"))
            run_or_record(ctx, rep, dir,
                          sc_conf_train_golden(ctx, dir, "trajectory_caffe_mode.txt", 0, rep));
        return;
    }
    run_or_record(ctx, rep, dir, sc_conf_asoftmax_golden(ctx, dir, rep));
    run_or_record(ctx, rep, dir, sc_conf_softmax_loss_golden(ctx, dir, rep));
}

static int run_suites(sc_ctx *ctx, const conf_args *a, sc_conf_report *rep)
{
    int matched = 0;
    for (size_t i = 0; i < N_SUITES; i++) {
        if (a->op ? strcmp(a->op, k_suites[i].op) : a->n_golden > 0)
            continue;
        matched = 1;
        size_t from = rep->n;
        run_or_record(ctx, rep, k_suites[i].op, k_suites[i].run(ctx, rep));
        print_rows(rep, from, a->failures_only);
    }
    if (a->op && !matched) {
        fprintf(stderr, "sphere-conformance: unknown op '%s'\n", a->op);
        usage(stderr);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    conf_args a;
    if (!parse_args(argc, argv, &a)) {
        usage(stderr);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sc_ctx_options opts = {.selector = a.device};
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    if (sc_ctx_create(&opts, &ctx, &err) != SC_OK) {
        fprintf(stderr, "sphere-conformance: %s\n", err.msg);
        return 1;
    }
    const sc_device_info *d = sc_ctx_info(ctx);
    printf("device: %s (%s, %s, driver %s), GEMM: %s\n", d->name, sc_device_type_name(d->type),
           d->platform, d->driver, sc_gemm_provider_name(sc_ctx_gemm_provider(ctx)));
    print_header();
    sc_conf_report rep = {0};
    int ok = run_suites(ctx, &a, &rep);
    for (int i = 0; ok && i < a.n_golden; i++) {
        size_t from = rep.n;
        run_golden(ctx, a.golden[i], &rep);
        print_rows(&rep, from, a.failures_only);
    }
    size_t failed = sc_conf_failures(&rep);
    if (ok)
        printf("%zu passed, %zu failed\n", rep.n - failed, failed);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    return ok && failed == 0 ? 0 : 1;
}
