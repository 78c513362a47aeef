/* Device selector strings: cpu, gpu, N, P:D. */
#include "sc_runtime.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses a non-negative decimal int that spans [s, end). */
static int parse_index(const char *s, const char *end, int *out)
{
    if (s == end || end - s > 6)
        return 0;
    int v = 0;
    for (const char *p = s; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 1;
}

sc_status sc_selector_parse(const char *text, sc_selector *out, sc_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = SC_SEL_DEFAULT;
    if (!text || !*text)
        return SC_OK;
    if (!strcasecmp(text, "cpu")) {
        out->kind = SC_SEL_CPU;
        return SC_OK;
    }
    if (!strcasecmp(text, "gpu")) {
        out->kind = SC_SEL_GPU;
        return SC_OK;
    }
    const char *end = text + strlen(text);
    const char *colon = strchr(text, ':');
    if (!colon && parse_index(text, end, &out->index)) {
        out->kind = SC_SEL_INDEX;
        return SC_OK;
    }
    if (colon && parse_index(text, colon, &out->platform) &&
        parse_index(colon + 1, end, &out->device)) {
        out->kind = SC_SEL_PD;
        return SC_OK;
    }
    out->kind = SC_SEL_DEFAULT;
    return sc_fail(err, SC_ERR_ARG, "invalid device selector '%s': expected %s", text,
                   SC_SELECTOR_FORMS);
}
