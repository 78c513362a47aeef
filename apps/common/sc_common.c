/* Whole-file reading shared by the image, list and golden-data readers. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno, fstat, strerror_r */
#endif
#include "sc_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* strerror is not guaranteed thread-safe, and data-loader threads read files. */
static sc_status io_fail(sc_error *err, const char *path, const char *what, int errnum)
{
    char buf[128] = "unknown error";
    (void)strerror_r(errnum, buf, sizeof buf);
    return sc_fail(err, SC_ERR_IO, "%s: %s: %s", path, what, buf);
}

static sc_status read_stream(FILE *f, const char *path, size_t max_size, unsigned char **data,
                             size_t *size, sc_error *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return io_fail(err, path, "cannot stat", errno);
    /* A directory opens fine on Linux and only fails at read time, obscurely. */
    if (!S_ISREG(st.st_mode))
        return sc_fail(err, SC_ERR_IO, "%s: not a regular file", path);
    if ((unsigned long long)st.st_size > max_size)
        return sc_fail(err, SC_ERR_FORMAT, "%s: file of %lld bytes exceeds the %zu byte limit",
                       path, (long long)st.st_size, max_size);
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n + 1);
    if (!buf)
        return sc_fail(err, SC_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
    if (fread(buf, 1, n, f) != n) {
        int errnum = ferror(f) ? errno : EIO;
        free(buf);
        return io_fail(err, path, "read failed (file changed while reading?)", errnum);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return SC_OK;
}

sc_status sc_read_file(const char *path, size_t max_size, unsigned char **data, size_t *size,
                       sc_error *err)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return io_fail(err, path, "cannot open", errno);
    sc_status st = read_stream(f, path, max_size, data, size, err);
    fclose(f);
    return st;
}
