/* Atomic file replacement for checkpoints: a reader sees the old file or the
 * complete new one, never a torn write. */
#ifndef SC_ATOMIC_FILE_H
#define SC_ATOMIC_FILE_H

#include <stddef.h>

#include "sc_error.h"

/* Writes size bytes to a fresh temp file next to path, flushes and fsyncs
 * it, renames it over path and fsyncs the folder. On any failure the temp
 * file is removed and path is untouched. */
sc_status sc_write_file_atomic(const char *path, const void *data, size_t size, sc_error *err);

#endif
