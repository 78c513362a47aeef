/* sphere-synth: writes a seeded synthetic face-like identity set (training
 * images with a Caffe list, holdout identities with an LFW-style pairs.txt)
 * for the demo and for quick experiments. See apps/common/synth.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno */
#endif
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "synth.h"

typedef struct synth_args {
    const char *out;
    sc_synth_config cfg;
    int quiet;
} synth_args;

static const char k_description[] =
    "Renders seeded synthetic faces: DIR/train/<id>/<id>_NNNN.png listed with labels in\n"
    "DIR/train.txt, and DIR/holdout/<id>/<id>_NNNN.png for identities never in train.txt,\n"
    "with DIR/pairs.txt (LFW View 2 layout: --folds folds of --pairs matched + --pairs\n"
    "mismatched pairs). The same seed and size always give the same images.\n";

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, synth_args *a)
{
    memset(a, 0, sizeof *a);
    sc_synth_config_default(&a->cfg);
    sc_synth_config *c = &a->cfg;
    long long seed = (long long)c->seed;
    const sc_opt opts[] = {
        {SC_STR("--out", &a->out, "DIR", "output folder"), .required = 1},
        {SC_INT("--identities", &c->identities, "N", "training identities", 0,
                SC_SYNTH_MAX_IDENTITIES)},
        {SC_INT("--per-identity", &c->per_identity, "N", "images per training identity", 1,
                SC_SYNTH_MAX_PER_IDENTITY)},
        {SC_INT("--holdout", &c->holdout, "N", "held-out identities (for pairs.txt)", 0,
                SC_SYNTH_MAX_IDENTITIES)},
        {SC_INT("--height", &c->height, "N", "image height", 8, SC_SYNTH_MAX_SIDE)},
        {SC_INT("--width", &c->width, "N", "image width", 8, SC_SYNTH_MAX_SIDE)},
        {SC_INT64("--seed", &seed, "N", "random seed", 0, 9007199254740991.0)},
        {SC_INT("--folds", &c->folds, "N", "folds of pairs.txt", 2, 64)},
        {SC_INT("--pairs", &c->pairs_per_fold, "N", "matched (and mismatched) pairs per fold", 1,
                1000000), .default_text = "min(60, what the holdout supplies)"},
        {SC_FLAG("--quiet", &a->quiet, "no progress lines")},
    };
    const sc_cli cli = {.prog = "sphere-synth", .synopsis = "--out DIR [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    int rc = sc_cli_parse(&cli, argc, argv);
    c->seed = (uint64_t)seed;
    return rc;
}

typedef struct progress_state {
    int quiet, tty;
    int last_pct;
} progress_state;

/* A live percentage on a terminal; in a log, one line every 10%. */
static void on_progress(void *user, size_t done, size_t total)
{
    progress_state *p = user;
    int pct = (int)(100.0 * (double)done / (double)total);
    if (p->quiet || pct == p->last_pct || (!p->tty && pct % 10 != 0 && done != total))
        return;
    p->last_pct = pct;
    if (p->tty)
        fprintf(stderr, "\rsphere-synth: %zu/%zu images (%d%%)%s", done, total, pct,
                done == total ? "\n" : "");
    else
        fprintf(stderr, "sphere-synth: %zu/%zu images (%d%%)\n", done, total, pct);
    fflush(stderr);
}

static void print_summary(const synth_args *a, const sc_synth_summary *sum, double secs)
{
    const sc_synth_config *c = &a->cfg;
    char pairs[128] = "no holdout, no pairs.txt";
    if (c->holdout > 0)
        snprintf(pairs, sizeof pairs, "%d holdout identities = %zu images, pairs.txt %d folds x "
                 "%d+%d pairs",
                 c->holdout, sum->holdout_images, sum->folds, sum->pairs_per_fold,
                 sum->pairs_per_fold);
    printf("sphere-synth: %s: %d identities x %d = %zu training images (train.txt), %s, %dx%d "
           "(WxH), seed %llu, %.1f s\n",
           a->out, c->identities, c->per_identity, sum->train_images, pairs, c->width,
           c->height, (unsigned long long)c->seed, secs);
}

int main(int argc, char **argv)
{
    synth_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    sc_error err = {0};
    if (sc_synth_check(&a.cfg, &err) != SC_OK) {
        fprintf(stderr, "sphere-synth: %s\n", err.msg);
        return SC_EXIT_USAGE;
    }
    progress_state prog = {.quiet = a.quiet, .tty = isatty(fileno(stderr)), .last_pct = -1};
    if (!a.quiet)
        fprintf(stderr, "sphere-synth: rendering %d + %d identities at %dx%d (WxH) into %s\n",
                a.cfg.identities, a.cfg.holdout, a.cfg.width, a.cfg.height, a.out);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sc_synth_summary sum;
    if (sc_synth_generate(&a.cfg, a.out, on_progress, &prog, &sum, &err) != SC_OK) {
        if (prog.tty && !prog.quiet && prog.last_pct >= 0)
            fprintf(stderr, "\n");
        fprintf(stderr, "sphere-synth: %s\n", err.msg);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_summary(&a, &sum,
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    return 0;
}
