/* sphere-devices: lists OpenCL platforms and devices and marks the one
 * SphereCL would use (the default, or the one --device / SPHERECL_DEVICE picks). */
#include "cli.h"
#include "sc_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_device(const sc_device_entry *e, int selected)
{
    const sc_device_info *d = &e->info;
    printf("%c [%d] %d:%d  %s  (%s)\n", selected ? '*' : ' ', e->index, e->platform, e->device,
           d->name, sc_device_type_name(d->type));
    printf("      platform: %s\n      vendor: %s\n      driver: %s, %s\n", d->platform, d->vendor,
           d->driver, d->version);
    printf("      compute units: %u, max work-group: %zu\n", d->compute_units, d->max_work_group);
    printf("      global memory: %.1f MiB (largest buffer %.1f MiB), local memory: %.1f KiB\n",
           d->global_mem / 1048576.0, d->max_alloc / 1048576.0, d->local_mem / 1024.0);
    printf("      fp64: %s, fp16: %s\n", d->fp64 ? "yes" : "no", d->fp16 ? "yes" : "no");
}

/* The providers a context on this device gets (SPHERECL_GEMM and
 * SPHERECL_CONV applied); 0 when a variable is invalid. */
static int print_providers(const sc_device_entry *e, sc_error *err)
{
    sc_gemm_provider gemm;
    sc_conv_provider conv;
    if (sc_providers_resolve(&e->info, SC_GEMM_AUTO, SC_CONV_AUTO, &gemm, &conv, err) != SC_OK)
        return 0;
    char prov[256];
    sc_providers_describe(gemm, conv, prov, sizeof prov);
    printf("      providers: %s\n", prov);
    return 1;
}

int main(int argc, char **argv)
{
    const char *sel_text = NULL;
    const sc_opt opts[] = {{SC_DEVICE_OPT(&sel_text)}};
    const sc_cli cli = {.prog = "sphere-devices", .synopsis = "[--device SEL]",
                        .description = "Lists the OpenCL platforms and devices and marks with '*' "
                                       "the one SphereCL would use.\n",
                        .opts = opts, .n_opts = 1};
    int rc = sc_cli_parse(&cli, argc, argv);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    if (!sel_text)
        sel_text = getenv("SPHERECL_DEVICE");
    sc_error err = {0};
    sc_selector sel;
    if (sc_selector_parse(sel_text, &sel, &err) != SC_OK) {
        fprintf(stderr, "sphere-devices: %s\n", err.msg);
        return SC_EXIT_USAGE;
    }
    sc_device_entry *list = NULL;
    int n = 0, chosen = -1;
    if (sc_devices_list(&list, &n, &err) != SC_OK) {
        fprintf(stderr, "sphere-devices: %s\n", err.msg);
        return 1;
    }
    sc_status st = sc_devices_pick(list, n, &sel, &chosen, &err);
    printf("%d OpenCL device(s):\n", n);
    int providers_ok = 1;
    for (int i = 0; i < n && providers_ok; i++) {
        print_device(&list[i], i == chosen);
        providers_ok = print_providers(&list[i], &err);
    }
    free(list);
    if (!providers_ok) {
        fprintf(stderr, "sphere-devices: %s\n", err.msg);
        return SC_EXIT_USAGE;
    }
    if (st != SC_OK) {
        fprintf(stderr, "sphere-devices: %s\n", err.msg);
        return SC_EXIT_USAGE; /* the selector names no device */
    }
    printf("selected: [%d]%s\n", chosen, sel_text && *sel_text ? "" : " (default)");
    return 0;
}
