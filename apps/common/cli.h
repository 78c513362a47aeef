/* The command line of every SphereCL app: one parser, one help layout, one
 * exit-status convention.
 *
 *   0  success
 *   1  the work started and failed (device error, out of memory, divergence,
 *      an I/O error while working)
 *   2  usage error (unknown option, missing or malformed value, value out of
 *      range, missing required option) or input refused before any work
 *      (missing file, malformed net/solver/weights, images that do not fit)
 *
 * An app declares its options in a table whose destinations already hold the
 * defaults; --help prints every option with its default, --version prints the
 * project version, the git commit and the OpenCL platform and device the app
 * would use. Numbers are parsed whole ("12x" and "" are refused) and checked
 * against their range; every error names the option and the value. */
#ifndef SC_CLI_H
#define SC_CLI_H

#include <stddef.h>

#include "sc_error.h"

enum { SC_EXIT_OK = 0, SC_EXIT_FAILED = 1, SC_EXIT_USAGE = 2 };

/* sc_cli_parse's "go on" result (any other value is an exit status). */
#define SC_CLI_CONTINUE (-1)

typedef enum sc_opt_type {
    SC_OPT_FLAG,   /* int *: set to 1, takes no value */
    SC_OPT_STRING, /* const char **: the argument itself */
    SC_OPT_CHOICE, /* const char **: one of `choices` ("caffe|exact") */
    SC_OPT_INT,    /* int *: whole decimal integer in [min, max] */
    SC_OPT_INT64,  /* long long *: whole decimal integer in [min, max] */
    SC_OPT_FLOAT,  /* float *: finite number in [min, max] */
    SC_OPT_LIST    /* sc_cli_list *: a string option that may repeat */
} sc_opt_type;

typedef struct sc_cli_list {
    const char *items[16];
    int count;
} sc_cli_list;

typedef struct sc_opt {
    const char *name;   /* "--batch" */
    sc_opt_type type;
    void *dest;         /* holds the default before parsing */
    const char *value;  /* what the value is, for the help: "N", "FILE" */
    const char *help;   /* one line */
    double min, max;    /* numeric range (inclusive); both 0: any value of the type */
    const char *choices;
    int required;
    const char *default_text; /* overrides the default shown by --help */
} sc_opt;

/* Field lists for sc_opt tables, so that a row reads as what it is:
 *   {SC_INT("--batch", &a.batch, "N", "images per forward", 1, 4096)},
 *   {SC_STR("--net", &a.net, "FILE", "deploy prototxt"), .required = 1}, */
#define SC_FLAG(n, d, h) .name = (n), .type = SC_OPT_FLAG, .dest = (d), .help = (h)
#define SC_STR(n, d, v, h) .name = (n), .type = SC_OPT_STRING, .dest = (d), .value = (v), .help = (h)
#define SC_LIST(n, d, v, h) .name = (n), .type = SC_OPT_LIST, .dest = (d), .value = (v), .help = (h)
#define SC_CHOICE(n, d, c, h) .name = (n), .type = SC_OPT_CHOICE, .dest = (d), .choices = (c), .help = (h)
#define SC_INT(n, d, v, h, lo, hi) \
    .name = (n), .type = SC_OPT_INT, .dest = (d), .value = (v), .help = (h), .min = (lo), .max = (hi)
#define SC_INT64(n, d, v, h, lo, hi) \
    .name = (n), .type = SC_OPT_INT64, .dest = (d), .value = (v), .help = (h), .min = (lo), .max = (hi)
#define SC_FLOAT(n, d, v, h, lo, hi) \
    .name = (n), .type = SC_OPT_FLOAT, .dest = (d), .value = (v), .help = (h), .min = (lo), .max = (hi)
/* The --device row every app that uses a device has. */
#define SC_DEVICE_OPT(d)                                                                           \
    SC_STR("--device", (d), "SEL", "OpenCL device: cpu, gpu, an index N or P:D (see sphere-devices)"), \
        .default_text = "$SPHERECL_DEVICE, else the first GPU, else the first CPU"

typedef struct sc_cli {
    const char *prog;        /* "sphere-eval" */
    const char *synopsis;    /* after the program name in the usage line */
    const char *description; /* paragraph(s) after the usage line */
    const sc_opt *opts;
    size_t n_opts;
    /* Positional arguments: at most max_positional, at least min_positional,
     * stored in order. */
    const char **positional;
    int min_positional, max_positional;
    const char *positional_name; /* "NET.prototxt", for messages */
    int *n_positional;           /* may be NULL */
} sc_cli;

/* Parses argv. Returns SC_CLI_CONTINUE when the app should run, otherwise
 * the exit status to return at once: 0 after --help or --version (printed to
 * stdout), 2 after a usage error (one line on stderr, then a hint to --help).
 * The selector for --version is the table's "--device" value, else
 * $SPHERECL_DEVICE. */
int sc_cli_parse(const sc_cli *cli, int argc, char **argv);

/* Prints "<prog>: <message>" and the --help hint on stderr; returns 2. */
int sc_cli_usage_error(const sc_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit status for a failure with this status before any work: 2 when the
 * input was refused (bad argument, parse, format, shape, unsupported input,
 * missing or unreadable file, unknown device), 1 otherwise. */
int sc_cli_input_status(sc_status st);

#endif
