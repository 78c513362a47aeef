/* Status codes and error messages shared by every SphereCL library.
 *
 * Library functions return an sc_status and, on failure, leave a one-line
 * human-readable cause in an sc_error (the OpenCL call and error name, the
 * file:line:col of bad input, or the layer name and both shapes). They never
 * print, exit or abort; the apps decide what to do with the message. */
#ifndef SC_ERROR_H
#define SC_ERROR_H

#include <stdarg.h>

typedef enum sc_status {
    SC_OK = 0,
    SC_ERR_ARG,         /* invalid argument: bad shape, zero size, bad selector */
    SC_ERR_OPENCL,      /* an OpenCL call failed */
    SC_ERR_NO_PLATFORM, /* no OpenCL platform / ICD installed */
    SC_ERR_NO_DEVICE,   /* the selector matched no device */
    SC_ERR_BUILD,       /* kernel compilation failed (message holds the build log) */
    SC_ERR_IO,          /* file missing, unreadable, unwritable */
    SC_ERR_PARSE,       /* malformed text input (message holds file:line:col) */
    SC_ERR_FORMAT,      /* malformed binary input (message holds the byte offset) */
    SC_ERR_NOMEM,       /* host or device out of memory */
    SC_ERR_SHAPE,       /* shape mismatch between layers/blobs */
    SC_ERR_UNSUPPORTED, /* valid input that this build does not implement */
    SC_ERR_NUMERIC,     /* NaN/Inf or divergence detected */
    SC_ERR_INTERRUPTED  /* stopped by a signal */
} sc_status;

#define SC_ERROR_MSG_MAX 8192

typedef struct sc_error {
    sc_status status;
    char msg[SC_ERROR_MSG_MAX];
} sc_error;

/* Records status and a printf-style message in err (err may be NULL) and
 * returns status, so callers can write `return sc_fail(err, SC_ERR_ARG, ...)`. */
sc_status sc_fail(sc_error *err, sc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sc_status sc_vfail(sc_error *err, sc_status status, const char *fmt, va_list ap);

/* Prepends context ("layer conv1: ") to the message already in err and
 * returns err->status. */
sc_status sc_error_prefix(sc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sc_error_clear(sc_error *err);

/* "SC_ERR_PARSE" etc. */
const char *sc_status_name(sc_status status);

/* Evaluates expr (an sc_status); returns it from the enclosing function on failure. */
#define SC_TRY(expr)                          \
    do {                                      \
        sc_status sc_try_status_ = (expr);    \
        if (sc_try_status_ != SC_OK)          \
            return sc_try_status_;            \
    } while (0)

#endif
