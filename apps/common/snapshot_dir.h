/* The trainer's snapshot folder, checked before any training: created when
 * missing, proven writable with a temp file, and cleared of the temp files
 * that a killed run left behind (*.tmp.<pid>.<n> of the same prefix, from a
 * process that no longer runs). */
#ifndef SC_SNAPSHOT_DIR_H
#define SC_SNAPSHOT_DIR_H

#include <stddef.h>

#include "sc_error.h"

/* Called with each stale temp file removed. */
typedef void (*sc_snapshot_removed_fn)(void *user, const char *path);

/* prefix: the solver's snapshot_prefix ("dir/name"; files are
 * name_iter_N.caffemodel / .solverstate). SC_ERR_IO naming the folder when
 * it cannot be created or written. */
sc_status sc_snapshot_dir_prepare(const char *prefix, sc_snapshot_removed_fn removed, void *user,
                                  sc_error *err);

#endif
