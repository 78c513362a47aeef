/* sphere-conformance: runs every op's kernels on a device and compares them
 * with the plain-C double-precision reference (forward) and with finite
 * differences of it (backward); --golden DIR adds reference data in the
 * format of ../shared/golden/asoftmax or ../shared/golden/train_tiny. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
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

typedef struct conf_args {
    const char *device, *op;
    sc_cli_list golden;
    int failures_only;
} conf_args;

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. Unknown
 * ops and missing golden folders are usage errors, found before any work. */
static int parse_args(int argc, char **argv, conf_args *a)
{
    memset(a, 0, sizeof *a);
    char ops[512] = "", description[1024];
    for (size_t i = 0; i < N_SUITES; i++)
        snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%s%s", i ? "|" : "", k_suites[i].op);
    snprintf(description, sizeof description,
             "Checks every kernel against the C reference on the chosen device and prints one row\n"
             "per check; the last line is 'N passed, M failed' (exit 1 if M > 0). --golden DIR\n"
             "adds A-Softmax cases (../shared/golden/asoftmax format) or a training trajectory\n"
             "(../shared/golden/train_tiny format); --golden alone (no --op) runs only those.\n");
    const sc_opt opts[] = {
        {SC_CHOICE("--op", &a->op, ops, "run only this op's checks")},
        {SC_LIST("--golden", &a->golden, "DIR", "a folder of golden reference data")},
        {SC_FLAG("--failures", &a->failures_only, "print only the failed rows")},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-conformance", .synopsis = "[options]",
                        .description = description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    for (int i = 0; rc == SC_CLI_CONTINUE && i < a->golden.count; i++) {
        struct stat st;
        if (stat(a->golden.items[i], &st) != 0 || !S_ISDIR(st.st_mode))
            rc = sc_cli_usage_error(&cli, "--golden: '%s' is not a folder%s", a->golden.items[i],
                                    errno == ENOENT ? " (it does not exist)" : "");
    }
    return rc;
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
        if (a->op ? strcmp(a->op, k_suites[i].op) : a->golden.count > 0)
            continue;
        matched = 1;
        size_t from = rep->n;
        run_or_record(ctx, rep, k_suites[i].op, k_suites[i].run(ctx, rep));
        print_rows(rep, from, a->failures_only);
    }
    return matched || !a->op;
}

int main(int argc, char **argv)
{
    conf_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    sc_ctx_options opts = {.selector = a.device};
    sc_error err = {0};
    sc_ctx *ctx = NULL;
    sc_status st = sc_ctx_create(&opts, &ctx, &err);
    if (st != SC_OK) {
        fprintf(stderr, "sphere-conformance: %s\n", err.msg);
        return sc_cli_input_status(st);
    }
    const sc_device_info *d = sc_ctx_info(ctx);
    char prov[256];
    sc_providers_describe(sc_ctx_gemm_provider(ctx), sc_ctx_conv_provider(ctx), prov, sizeof prov);
    printf("device: %s (%s, %s, driver %s), %s\n", d->name, sc_device_type_name(d->type),
           d->platform, d->driver, prov);
    print_header();
    sc_conf_report rep = {0};
    int ok = run_suites(ctx, &a, &rep);
    for (int i = 0; ok && i < a.golden.count; i++) {
        size_t from = rep.n;
        run_golden(ctx, a.golden.items[i], &rep);
        print_rows(&rep, from, a.failures_only);
    }
    size_t failed = sc_conf_failures(&rep);
    if (ok)
        printf("%zu passed, %zu failed\n", rep.n - failed, failed);
    sc_conf_report_free(&rep);
    sc_ctx_destroy(ctx);
    return ok && failed == 0 ? 0 : 1;
}
