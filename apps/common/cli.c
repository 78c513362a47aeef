/* The apps' command-line parser (see cli.h). */
#include "cli.h"
#include "sc_ops.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_runtime.h"

static const sc_opt *find_opt(const sc_cli *cli, const char *name)
{
    for (size_t i = 0; i < cli->n_opts; i++)
        if (!strcmp(cli->opts[i].name, name))
            return &cli->opts[i];
    return NULL;
}

int sc_cli_usage_error(const sc_cli *cli, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n%s: see '%s --help'\n", cli->prog, msg, cli->prog, cli->prog);
    return SC_EXIT_USAGE;
}

int sc_cli_input_status(sc_status st)
{
    switch (st) {
    case SC_ERR_ARG:
    case SC_ERR_PARSE:
    case SC_ERR_FORMAT:
    case SC_ERR_SHAPE:
    case SC_ERR_UNSUPPORTED:
    case SC_ERR_IO:
    case SC_ERR_NO_DEVICE:
        return SC_EXIT_USAGE;
    default:
        return SC_EXIT_FAILED;
    }
}

/* ------------------------------------------------------------- help */

static int has_range(const sc_opt *o)
{
    return o->min != 0 || o->max != 0;
}

static void format_default(const sc_opt *o, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (o->default_text) {
        snprintf(buf, cap, "%s", o->default_text);
        return;
    }
    switch (o->type) {
    case SC_OPT_FLAG: snprintf(buf, cap, "%s", *(const int *)o->dest ? "on" : "off"); break;
    case SC_OPT_STRING:
    case SC_OPT_CHOICE: {
        const char *v = *(const char *const *)o->dest;
        if (v)
            snprintf(buf, cap, "%s", v);
        break;
    }
    case SC_OPT_INT: snprintf(buf, cap, "%d", *(const int *)o->dest); break;
    case SC_OPT_INT64: snprintf(buf, cap, "%lld", *(const long long *)o->dest); break;
    case SC_OPT_FLOAT: snprintf(buf, cap, "%g", (double)*(const float *)o->dest); break;
    case SC_OPT_LIST: break;
    }
}

static void print_option(const sc_opt *o)
{
    char head[128], def[256], range[128] = "";
    const char *value = o->value ? o->value : (o->type == SC_OPT_CHOICE ? o->choices : "VALUE");
    if (o->type == SC_OPT_FLAG)
        snprintf(head, sizeof head, "%s", o->name);
    else
        snprintf(head, sizeof head, "%s %s", o->name, value);
    format_default(o, def, sizeof def);
    if (has_range(o) && (o->type == SC_OPT_INT || o->type == SC_OPT_INT64))
        snprintf(range, sizeof range, ", %.0f..%.0f", o->min, o->max);
    else if (has_range(o) && o->type == SC_OPT_FLOAT)
        snprintf(range, sizeof range, ", %g..%g", o->min, o->max);
    else if (o->type == SC_OPT_CHOICE)
        snprintf(range, sizeof range, ", one of %s", o->choices);
    if (strlen(head) > 24)
        printf("  %s\n  %-24s ", head, "");
    else
        printf("  %-24s ", head);
    printf("%s%s", o->help, range);
    if (o->required)
        printf(" (required)");
    else if (o->type == SC_OPT_LIST)
        printf(" (may repeat)");
    else if (def[0])
        printf(" (default: %s)", def);
    printf("\n");
}

static void print_help(const sc_cli *cli)
{
    printf("usage: %s %s\n", cli->prog, cli->synopsis);
    if (cli->description)
        printf("%s", cli->description);
    printf("\noptions:\n");
    for (size_t i = 0; i < cli->n_opts; i++)
        print_option(&cli->opts[i]);
    printf("  %-24s %s\n", "--help", "print this help and exit");
    printf("  %-24s %s\n", "--version",
           "print the version, the git commit and the OpenCL device, and exit");
    printf("\nexit status: 0 success, 1 the work failed, 2 usage error or input refused before "
           "any work\n");
}

/* ---------------------------------------------------------- version */

static void print_version(const sc_cli *cli)
{
    printf("%s %s (git %s)\n", cli->prog, sc_version(), sc_git_commit());
    const sc_opt *dev = find_opt(cli, "--device");
    const char *sel_text = dev ? *(const char *const *)dev->dest : NULL;
    if (!sel_text)
        sel_text = getenv("SPHERECL_DEVICE");
    sc_error err = {0};
    sc_selector sel;
    sc_device_entry *list = NULL;
    int n = 0, chosen = -1;
    if (sc_selector_parse(sel_text, &sel, &err) == SC_OK &&
        sc_devices_list(&list, &n, &err) == SC_OK &&
        sc_devices_pick(list, n, &sel, &chosen, &err) == SC_OK) {
        const sc_device_info *d = &list[chosen].info;
        printf("OpenCL platform: %s\nOpenCL device: [%d] %s (%s), %s, driver %s\n", d->platform,
               chosen, d->name, sc_device_type_name(d->type), d->version, d->driver);
        sc_gemm_provider gp;
        sc_conv_provider cp;
        char prov[256];
        if (sc_providers_resolve(d, SC_GEMM_AUTO, SC_CONV_AUTO, &gp, &cp, &err) == SC_OK) {
            sc_providers_describe(gp, cp, prov, sizeof prov);
            printf("providers: %s\n", prov);
        } else {
            printf("providers: %s\n", err.msg);
        }
    } else {
        printf("OpenCL device: none (%s)\n", err.msg);
    }
    free(list);
}

/* ----------------------------------------------------------- values */

static int parse_number(const sc_cli *cli, const sc_opt *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    double x;
    if (o->type == SC_OPT_FLOAT) {
        x = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !isfinite(x))
            return sc_cli_usage_error(cli, "%s: '%s' is not a number", o->name, v);
    } else {
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || errno == ERANGE)
            return sc_cli_usage_error(cli, "%s: '%s' is not a whole number", o->name, v);
        x = (double)n;
        if (o->type == SC_OPT_INT && (n < -2147483647LL - 1 || n > 2147483647LL))
            return sc_cli_usage_error(cli, "%s: %s is out of range", o->name, v);
        if (o->type == SC_OPT_INT)
            *(int *)o->dest = (int)n;
        else
            *(long long *)o->dest = n;
    }
    if (has_range(o) && (x < o->min || x > o->max))
        return o->type == SC_OPT_FLOAT
                   ? sc_cli_usage_error(cli, "%s: %s is out of range (%g..%g)", o->name, v, o->min,
                                        o->max)
                   : sc_cli_usage_error(cli, "%s: %s is out of range (%.0f..%.0f)", o->name, v,
                                        o->min, o->max);
    if (o->type == SC_OPT_FLOAT)
        *(float *)o->dest = (float)x;
    return SC_CLI_CONTINUE;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        size_t k = strcspn(p, "|");
        if (k == n && !strncmp(p, v, n))
            return 1;
        p += k + (p[k] == '|');
    }
    return 0;
}

static int set_value(const sc_cli *cli, const sc_opt *o, const char *v)
{
    switch (o->type) {
    case SC_OPT_STRING:
        if (!*v)
            return sc_cli_usage_error(cli, "%s: the value is empty", o->name);
        *(const char **)o->dest = v;
        return SC_CLI_CONTINUE;
    case SC_OPT_CHOICE:
        if (!choice_ok(o->choices, v))
            return sc_cli_usage_error(cli, "%s: '%s' is not one of %s", o->name, v, o->choices);
        *(const char **)o->dest = v;
        return SC_CLI_CONTINUE;
    case SC_OPT_LIST: {
        sc_cli_list *l = o->dest;
        if (l->count >= (int)(sizeof l->items / sizeof l->items[0]))
            return sc_cli_usage_error(cli, "%s: given more than %zu times", o->name,
                                      sizeof l->items / sizeof l->items[0]);
        l->items[l->count++] = v;
        return SC_CLI_CONTINUE;
    }
    default: return parse_number(cli, o, v);
    }
}

/* ------------------------------------------------------------ parse */

/* Handles argv[*i] as an option; returns SC_CLI_CONTINUE or an exit status. */
static int parse_option(const sc_cli *cli, int argc, char **argv, int *i, int *seen,
                        int *want_version)
{
    char name[256];
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    const char *inline_value = NULL;
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    if (eq)
        inline_value = eq + 1;
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        print_help(cli);
        return SC_EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        *want_version = 1;
        return SC_CLI_CONTINUE;
    }
    const sc_opt *o = find_opt(cli, name);
    if (!o)
        return sc_cli_usage_error(cli, "unknown option %s", name);
    seen[o - cli->opts] = 1;
    if (o->type == SC_OPT_FLAG) {
        if (inline_value)
            return sc_cli_usage_error(cli, "%s takes no value", o->name);
        *(int *)o->dest = 1;
        return SC_CLI_CONTINUE;
    }
    const char *v = inline_value;
    if (!v) {
        if (*i + 1 >= argc)
            return sc_cli_usage_error(cli, "%s needs a value (%s)", o->name,
                                      o->value ? o->value : o->choices ? o->choices : "VALUE");
        v = argv[++*i];
    }
    return set_value(cli, o, v);
}

static int check_required(const sc_cli *cli, const int *seen, int n_pos)
{
    for (size_t k = 0; k < cli->n_opts; k++)
        if (cli->opts[k].required && !seen[k])
            return sc_cli_usage_error(cli, "%s is required", cli->opts[k].name);
    if (n_pos < cli->min_positional)
        return sc_cli_usage_error(cli, "missing %s", cli->positional_name);
    return SC_CLI_CONTINUE;
}

int sc_cli_parse(const sc_cli *cli, int argc, char **argv)
{
    int *seen = calloc(cli->n_opts + 1, sizeof *seen);
    if (!seen) {
        fprintf(stderr, "%s: out of memory\n", cli->prog);
        return SC_EXIT_FAILED;
    }
    int rc = SC_CLI_CONTINUE, n_pos = 0, want_version = 0, options_done = 0;
    for (int i = 1; i < argc && rc == SC_CLI_CONTINUE; i++) {
        const char *a = argv[i];
        if (!options_done && !strcmp(a, "--")) {
            options_done = 1;
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            rc = parse_option(cli, argc, argv, &i, seen, &want_version);
        } else if (n_pos < cli->max_positional) {
            cli->positional[n_pos++] = a;
        } else {
            rc = sc_cli_usage_error(cli, "unexpected argument '%s'", a);
        }
    }
    if (rc == SC_CLI_CONTINUE && want_version) {
        print_version(cli);
        rc = SC_EXIT_OK;
    }
    if (rc == SC_CLI_CONTINUE)
        rc = check_required(cli, seen, n_pos);
    if (cli->n_positional)
        *cli->n_positional = n_pos;
    free(seen);
    return rc;
}
