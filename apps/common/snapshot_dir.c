/* Snapshot folder checks (see snapshot_dir.h). */
#include "snapshot_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sc_files.h"

/* A temp file "<base>_iter_<N>.<ext>.tmp.<pid>.<n>" of this prefix; *pid
 * receives the pid that wrote it. */
static int is_temp_of(const char *name, const char *base, long *pid)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) || strncmp(name + n, "_iter_", 6))
        return 0;
    const char *tmp = strstr(name + n, ".tmp.");
    if (!tmp)
        return 0;
    char *end;
    *pid = strtol(tmp + 5, &end, 10);
    return end != tmp + 5 && *end == '.' && *pid > 0;
}

/* Whether process pid still runs (a live writer's temp file is not stale). */
static int alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static void remove_stale(const char *dir, const char *base, sc_snapshot_removed_fn removed,
                         void *user)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        if (!is_temp_of(e->d_name, base, &pid) || alive(pid))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0 && removed)
            removed(user, path);
    }
    closedir(d);
}

/* Creates and removes a temp file: the folder takes new files. */
static sc_status check_writable(const char *dir, sc_error *err)
{
    char probe[8192];
    snprintf(probe, sizeof probe, "%s/.sphere-train-write-test.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sc_fail(err, SC_ERR_IO, "snapshot folder %s is not writable: %s", dir,
                       strerror(errno));
    close(fd);
    unlink(probe);
    return SC_OK;
}

sc_status sc_snapshot_dir_prepare(const char *prefix, sc_snapshot_removed_fn removed, void *user,
                                  sc_error *err)
{
    char dir[4096];
    sc_path_dir(prefix, dir, sizeof dir);
    const char *slash = strrchr(prefix, '/');
    const char *base = slash ? slash + 1 : prefix;
    if (!*base)
        return sc_fail(err, SC_ERR_ARG, "snapshot_prefix '%s' names a folder, not a file prefix",
                       prefix);
    sc_status st = sc_mkdirs(dir, err);
    if (st != SC_OK)
        return sc_error_prefix(err, "snapshot folder: ");
    SC_TRY(check_writable(dir, err));
    remove_stale(dir, base, removed, user);
    return SC_OK;
}
