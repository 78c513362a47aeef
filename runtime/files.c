/* File-system helpers: atomic replacement (temp file + fsync + rename),
 * mkdir -p, path resolution. */
#include "sc_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sc_path_dir(const char *path, char *dst, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dst, cap, ".");
    else
        snprintf(dst, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

void sc_path_resolve(const char *path, const char *dir, char *dst, size_t cap)
{
    if (path[0] == '/' || access(path, R_OK) == 0 || !dir || !dir[0]) {
        snprintf(dst, cap, "%s", path);
        return;
    }
    char candidate[8192];
    snprintf(candidate, sizeof candidate, "%s/%s", dir, path);
    snprintf(dst, cap, "%s", access(candidate, R_OK) == 0 ? candidate : path);
}

static sc_status make_dir(const char *path, sc_error *err)
{
    if (mkdir(path, 0777) == 0)
        return SC_OK;
    int errnum = errno;
    struct stat st;
    if (errnum == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return SC_OK;
    if (errnum == EEXIST)
        return sc_fail(err, SC_ERR_IO, "%s: exists and is not a folder", path);
    return sc_fail(err, SC_ERR_IO, "%s: cannot create folder: %s", path, strerror(errnum));
}

sc_status sc_mkdirs(const char *path, sc_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return sc_fail(err, SC_ERR_ARG, "folder name is empty or too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++)
        if (buf[i] == '/' && buf[i - 1] != '/') {
            buf[i] = '\0';
            SC_TRY(make_dir(buf, err));
            buf[i] = '/';
        }
    return make_dir(buf, err);
}

sc_status sc_mkdirs_for_file(const char *file, sc_error *err)
{
    char dir[4096];
    sc_path_dir(file, dir, sizeof dir);
    return sc_mkdirs(dir, err);
}

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
    sc_path_dir(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Temp file, optional fsync, rename; durable also fsyncs the folder. */
static sc_status write_replace(const char *path, const void *data, size_t size, int durable,
                               sc_error *err)
{
    char tmp[4200];
    int fd = open_temp(path, tmp, sizeof tmp);
    if (fd < 0)
        return sc_fail(err, SC_ERR_IO, "%s: cannot create a temp file next to it: %s", path,
                       strerror(errno));
    int e = write_all(fd, data, size);
    if (!e && durable && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return sc_fail(err, SC_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    if (durable)
        sync_dir(path);
    return SC_OK;
}

sc_status sc_write_file_atomic(const char *path, const void *data, size_t size, sc_error *err)
{
    return write_replace(path, data, size, 1, err);
}

sc_status sc_write_file_replace(const char *path, const void *data, size_t size, sc_error *err)
{
    return write_replace(path, data, size, 0, err);
}
