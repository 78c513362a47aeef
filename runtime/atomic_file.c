/* Atomic file replacement (temp file + fsync + rename). */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opens path.tmp.<pid>.<n> exclusively, in the destination's folder so the
 * rename stays on one file system. */
static int open_temp(const char *path, char *tmp, size_t cap)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, cap, "%s.tmp.%ld.%d", path, (long)getpid(), attempt);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static int write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno ? errno : EIO;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

/* Makes the rename durable; best effort (the file itself is complete). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

sc_status sc_write_file_atomic(const char *path, const void *data, size_t size, sc_error *err)
{
    char tmp[4200];
    int fd = open_temp(path, tmp, sizeof tmp);
    if (fd < 0)
        return sc_fail(err, SC_ERR_IO, "%s: cannot create a temp file next to it: %s", path,
                       strerror(errno));
    int e = write_all(fd, data, size);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return sc_fail(err, SC_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    sync_dir(path);
    return SC_OK;
}
