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

#include "synth.h"

typedef struct synth_args {
    const char *out;
    sc_synth_config cfg;
    int quiet;
} synth_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sphere-synth --out DIR [--identities 200] [--per-identity 20] [--holdout 60]\n"
            "                    [--height 56] [--width 48] [--seed 1] [--folds 10] [--pairs N]\n"
            "                    [--quiet]\n"
            "  Renders seeded synthetic faces: DIR/train/<id>/<id>_NNNN.png listed with labels\n"
            "  in DIR/train.txt, and DIR/holdout/<id>/<id>_NNNN.png for identities never in\n"
            "  train.txt, with DIR/pairs.txt (LFW View 2 layout: --folds folds of --pairs\n"
            "  matched + --pairs mismatched pairs; default min(60, what the holdout supplies)).\n"
            "  The same seed and size always give the same images.\n");
}

/* Whole-string integer in lo..hi, or a one-line error. */
static int parse_int(const char *flag, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "sphere-synth: %s wants an integer in %lld..%lld, not '%s'\n", flag, lo,
                hi, s);
        return 0;
    }
    *out = v;
    return 1;
}

/* The flags that take an integer, and where each one goes. */
static int int_flag(const char *flag, const char *value, sc_synth_config *c)
{
    static const struct {
        const char *name;
        size_t off;
        long long lo, hi;
    } flags[] = {
        {"--identities", offsetof(sc_synth_config, identities), 0, SC_SYNTH_MAX_IDENTITIES},
        {"--per-identity", offsetof(sc_synth_config, per_identity), 1, SC_SYNTH_MAX_PER_IDENTITY},
        {"--holdout", offsetof(sc_synth_config, holdout), 0, SC_SYNTH_MAX_IDENTITIES},
        {"--height", offsetof(sc_synth_config, height), 8, SC_SYNTH_MAX_SIDE},
        {"--width", offsetof(sc_synth_config, width), 8, SC_SYNTH_MAX_SIDE},
        {"--folds", offsetof(sc_synth_config, folds), 2, 64},
        {"--pairs", offsetof(sc_synth_config, pairs_per_fold), 1, INT_MAX},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(flag, flags[i].name)) {
            long long v;
            if (!parse_int(flag, value, flags[i].lo, flags[i].hi, &v))
                return -1;
            *(int *)((char *)c + flags[i].off) = (int)v;
            return 1;
        }
    return 0;
}

static int parse_args(int argc, char **argv, synth_args *a)
{
    memset(a, 0, sizeof *a);
    sc_synth_config_default(&a->cfg);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        int has_value = i + 1 < argc;
        int r = has_value ? int_flag(f, argv[i + 1], &a->cfg) : 0;
        long long seed;
        if (r < 0)
            return 0;
        if (r > 0)
            i++;
        else if (!strcmp(f, "--out") && has_value)
            a->out = argv[++i];
        else if (!strcmp(f, "--seed") && has_value) {
            if (!parse_int(f, argv[++i], 0, LLONG_MAX, &seed))
                return 0;
            a->cfg.seed = (uint64_t)seed;
        } else if (!strcmp(f, "--quiet"))
            a->quiet = 1;
        else if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, has_value ? "sphere-synth: unknown argument '%s' (see --help)\n"
                                      : "sphere-synth: '%s' is unknown or lacks its value (see "
                                        "--help)\n",
                    f);
            return 0;
        }
    }
    if (!a->out)
        fprintf(stderr, "sphere-synth: no --out DIR given (see --help)\n");
    return a->out != NULL;
}

typedef struct progress_state {
    int tty;
    int last_pct;
} progress_state;

/* A live percentage on a terminal only; logs stay clean. */
static void on_progress(void *user, size_t done, size_t total)
{
    progress_state *p = user;
    int pct = (int)(100.0 * (double)done / (double)total);
    if (!p->tty || (pct == p->last_pct && done != total))
        return;
    p->last_pct = pct;
    fprintf(stderr, "\rsphere-synth: %zu/%zu images (%d%%)%s", done, total, pct,
            done == total ? "\n" : "");
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
    if (argc == 1) {
        usage(stderr);
        return 1;
    }
    if (!parse_args(argc, argv, &a))
        return 1;
    sc_error err = {0};
    if (sc_synth_check(&a.cfg, &err) != SC_OK) {
        fprintf(stderr, "sphere-synth: %s\n", err.msg);
        return 1;
    }
    progress_state prog = {.tty = !a.quiet && isatty(fileno(stderr)), .last_pct = -1};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sc_synth_summary sum;
    if (sc_synth_generate(&a.cfg, a.out, on_progress, &prog, &sum, &err) != SC_OK) {
        if (prog.tty && prog.last_pct >= 0)
            fprintf(stderr, "\n");
        fprintf(stderr, "sphere-synth: %s\n", err.msg);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_summary(&a, &sum,
                  (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    return 0;
}
