/* File-system helpers shared by every layer: atomic replacement for
 * checkpoints (a reader sees the old file or the complete new one, never a
 * torn write), folder creation and path resolution. */
#ifndef SC_FILES_H
#define SC_FILES_H

#include <stddef.h>

#include "sc_error.h"

/* Writes size bytes to a fresh temp file next to path, flushes and fsyncs
 * it, renames it over path and fsyncs the folder. On any failure the temp
 * file is removed and path is untouched. */
sc_status sc_write_file_atomic(const char *path, const void *data, size_t size, sc_error *err);

/* The same without the fsyncs, for outputs that can be made again (a folder
 * of thousands of crops, where the syncs cost four times the work): a reader
 * still never sees a torn file, but after a power loss a file may be empty. */
sc_status sc_write_file_replace(const char *path, const void *data, size_t size, sc_error *err);

/* mkdir -p. An existing folder is fine; an existing non-folder or a failed
 * mkdir is SC_ERR_IO naming the path (err may be NULL). */
sc_status sc_mkdirs(const char *path, sc_error *err);
/* The folders leading to a file (its parent, mkdir -p). */
sc_status sc_mkdirs_for_file(const char *file, sc_error *err);

/* The folder part of a path: "." when it has none, "/" for a file in /. */
void sc_path_dir(const char *path, char *dst, size_t cap);
/* Caffe resolves relative paths against the working directory; SphereCL
 * also looks next to the file that names them: dst gets path when it is
 * absolute or readable as given, else dir/path. */
void sc_path_resolve(const char *path, const char *dir, char *dst, size_t cap);

#endif
