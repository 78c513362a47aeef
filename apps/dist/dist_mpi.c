/* MPI collectives for data-parallel training (sc_dist.h). */
#include "sc_dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct sc_dist {
    int rank, size;
    int mpi; /* MPI initialised (launched by mpirun) */
};

/* Whether a process manager started us (mpirun, srun): a plain run stays a
 * plain process, with no MPI singleton to start. */
static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

sc_status sc_dist_init(int *argc, char ***argv, sc_dist **out, sc_error *err)
{
    *out = NULL;
    if (!launched_by_mpirun()) {
        *out = calloc(1, sizeof **out);
        if (*out)
            (*out)->size = 1;
        return *out ? SC_OK : sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    }
    /* Open MPI unloads its plugins at MPI_Finalize, which leaves LeakSanitizer
     * leak reports it cannot attribute or suppress; keep them loaded. */
    setenv("OMPI_MCA_mca_base_component_disable_dlclose", "1", 0);
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return sc_fail(err, SC_ERR_IO, "MPI_Init_thread failed");
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        return sc_fail(err, SC_ERR_UNSUPPORTED,
                       "the MPI library gives thread level %d, sphere-train needs "
                       "MPI_THREAD_SERIALIZED (%d)",
                       provided, MPI_THREAD_SERIALIZED);
    }
    sc_dist *d = calloc(1, sizeof *d);
    if (!d) {
        MPI_Finalize();
        return sc_fail(err, SC_ERR_NOMEM, "out of host memory");
    }
    d->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    *out = d;
    return SC_OK;
}

void sc_dist_finalize(sc_dist *d)
{
    if (!d)
        return;
    if (d->mpi)
        MPI_Finalize();
    free(d);
}

int sc_dist_rank(const sc_dist *d) { return d->rank; }
int sc_dist_size(const sc_dist *d) { return d->size; }

const char *sc_dist_backend(void)
{
    static char name[MPI_MAX_LIBRARY_VERSION_STRING + 8];
    int len = 0;
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    if (MPI_Get_library_version(version, &len) != MPI_SUCCESS)
        return "MPI";
    int cut = 0; /* the first line, at most 60 characters */
    while (cut < len && cut < 60 && version[cut] != '\n' && version[cut] != ',')
        cut++;
    snprintf(name, sizeof name, "MPI (%.*s)", cut, version);
    return name;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Waits for a non-blocking collective, or aborts the job after timeout_s. */
static int wait_or_abort(sc_dist *d, MPI_Request *req, double timeout_s, const char *what)
{
    double deadline = now_s() + timeout_s;
    for (int done = 0;;) {
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            fprintf(stderr, "sphere-train: rank %d: %s failed\n", d->rank, what);
            return -1;
        }
        if (done)
            return 0;
        if (now_s() > deadline) {
            fprintf(stderr,
                    "sphere-train: rank %d of %d: no answer from the other ranks for %.0f s in "
                    "%s: a rank died or hangs; stopping the job (resume from the last "
                    "snapshot)\n",
                    d->rank, d->size, timeout_s, what);
            MPI_Abort(MPI_COMM_WORLD, 1);
            return -1;
        }
        nanosleep(&(struct timespec){0, 200000}, NULL); /* 0.2 ms: polling, not spinning */
    }
}

int sc_dist_mean(sc_dist *d, float *buf, size_t n, double timeout_s, const char *what)
{
    if (d->size == 1 || n == 0)
        return 0;
    MPI_Request req;
    if (n > 2147483647u ||
        MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req) !=
            MPI_SUCCESS)
        return -1;
    if (wait_or_abort(d, &req, timeout_s, what) != 0)
        return -1;
    const float inv = 1.0f / (float)d->size;
    for (size_t i = 0; i < n; i++)
        buf[i] *= inv;
    return 0;
}

int sc_dist_any(sc_dist *d, float *flags, size_t n, double timeout_s, const char *what)
{
    if (d->size == 1 || n == 0)
        return 0;
    MPI_Request req;
    if (n > 2147483647u ||
        MPI_Iallreduce(MPI_IN_PLACE, flags, (int)n, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD, &req) !=
            MPI_SUCCESS)
        return -1;
    if (wait_or_abort(d, &req, timeout_s, what) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        flags[i] = flags[i] != 0.0f;
    return 0;
}
