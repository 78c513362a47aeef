/* Data-parallel training across processes (one per device), for sphere-train
 * under `mpirun -np N`. Two builds of one interface: MPI (Open MPI from
 * Debian, apps/dist/dist_mpi.c) when CMake finds it, and a single process
 * (apps/dist/dist_single.c) otherwise, so the trainer has one code path.
 *
 * Threads: sc_dist_init and sc_dist_finalize on the main thread; the
 * reductions may run on the runtime's host-task thread, never two calls at
 * once (MPI_THREAD_SERIALIZED). */
#ifndef SC_DIST_H
#define SC_DIST_H

#include <stddef.h>

#include "sc_error.h"

typedef struct sc_dist sc_dist;

sc_status sc_dist_init(int *argc, char ***argv, sc_dist **out, sc_error *err);
void sc_dist_finalize(sc_dist *d);

int sc_dist_rank(const sc_dist *d);
int sc_dist_size(const sc_dist *d);
const char *sc_dist_backend(void); /* "MPI (...)" or "single process" */

/* In place: buf = the mean over ranks of buf (n floats). A rank that gets no
 * answer within timeout_s seconds prints which rank and what it waited for
 * and aborts the whole job (a dead or hung rank never leaves the others
 * waiting forever). Returns 0, or -1 after printing an error. */
int sc_dist_mean(sc_dist *d, float *buf, size_t n, double timeout_s, const char *what);
/* In place: flags[i] = 1 if any rank's flags[i] is nonzero. */
int sc_dist_any(sc_dist *d, float *flags, size_t n, double timeout_s, const char *what);

#endif
