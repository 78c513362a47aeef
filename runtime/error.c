/* sc_error: one-line causes carried from the failing call to the app. */
#include "sc_error.h"

#include <stdio.h>
#include <string.h>

sc_status sc_vfail(sc_error *err, sc_status status, const char *fmt, va_list ap)
{
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return status;
}

sc_status sc_fail(sc_error *err, sc_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_vfail(err, status, fmt, ap);
    va_end(ap);
    return status;
}

sc_status sc_error_prefix(sc_error *err, const char *fmt, ...)
{
    if (!err)
        return SC_ERR_ARG;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    size_t mlen = strlen(err->msg);
    if (plen + mlen >= sizeof err->msg)
        mlen = sizeof err->msg - plen - 1;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
    return err->status;
}

void sc_error_clear(sc_error *err)
{
    if (err) {
        err->status = SC_OK;
        err->msg[0] = '\0';
    }
}

const char *sc_status_name(sc_status status)
{
    switch (status) {
    case SC_OK: return "SC_OK";
    case SC_ERR_ARG: return "SC_ERR_ARG";
    case SC_ERR_OPENCL: return "SC_ERR_OPENCL";
    case SC_ERR_NO_PLATFORM: return "SC_ERR_NO_PLATFORM";
    case SC_ERR_NO_DEVICE: return "SC_ERR_NO_DEVICE";
    case SC_ERR_BUILD: return "SC_ERR_BUILD";
    case SC_ERR_IO: return "SC_ERR_IO";
    case SC_ERR_PARSE: return "SC_ERR_PARSE";
    case SC_ERR_FORMAT: return "SC_ERR_FORMAT";
    case SC_ERR_NOMEM: return "SC_ERR_NOMEM";
    case SC_ERR_SHAPE: return "SC_ERR_SHAPE";
    case SC_ERR_UNSUPPORTED: return "SC_ERR_UNSUPPORTED";
    case SC_ERR_NUMERIC: return "SC_ERR_NUMERIC";
    case SC_ERR_INTERRUPTED: return "SC_ERR_INTERRUPTED";
    }
    return "SC_ERR_UNKNOWN";
}
