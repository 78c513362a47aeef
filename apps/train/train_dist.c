/* sphere-train: data-parallel setup under mpirun (ranks, devices, batch
 * split) and the gradient all-reduce run on the runtime's host thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trainer.h"

/* Rank r of a --device list "a,b,c" uses entry r mod count. */
void trainer_pick_device(trainer *t)
{
    const char *list = t->args.device ? t->args.device : getenv("SPHERECL_DEVICE");
    t->device[0] = '\0';
    if (!list)
        return;
    int entries = 1;
    for (const char *p = list; *p; p++)
        entries += *p == ',';
    int want = t->rank % entries;
    const char *p = list;
    for (int i = 0; i < want; i++)
        p = strchr(p, ',') + 1;
    snprintf(t->device, sizeof t->device, "%.*s", (int)strcspn(p, ","), p);
}

/* The data layer's batch_size is the global batch: each rank builds its net
 * for its share. */
int trainer_split_batch(trainer *t, sc_net_options *no)
{
    sc_net_options probe_opts = *no;
    probe_opts.phase = SC_PHASE_TRAIN;
    probe_opts.shapes_only = 1;
    sc_net *probe = NULL;
    sc_status st = sc_net_create(t->ctx, t->sp.net, &probe_opts, &probe);
    if (st != SC_OK)
        return trainer_setup_failed(t, st, sc_ctx_message(t->ctx));
    t->global_batch = sc_net_batch(probe);
    sc_net_destroy(probe);
    if (t->global_batch % t->ranks) {
        char msg[256];
        snprintf(msg, sizeof msg, "the global batch %d (the data layer's batch_size) does not "
                 "split into %d ranks", t->global_batch, t->ranks);
        return trainer_setup_failed(t, SC_ERR_ARG, msg);
    }
    no->batch = t->global_batch / t->ranks;
    printf("Data-parallel: rank %d of %d, %s; global batch %d, %d per rank\n", t->rank, t->ranks,
           sc_dist_backend(), t->global_batch, no->batch);
    return 1;
}

/* On the runtime's host thread, after backward: the mean gradient and loss
 * of all ranks, and their stop and non-finite flags, so that every rank
 * applies the same update and stops at the same iteration. */
void trainer_reduce_across_ranks(void *user, float *grads, size_t n, float *monitor)
{
    trainer *t = user;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    float flags[2] = {monitor[SC_MONITOR_NONFINITE], *t->stop_signal ? 1.0f : 0.0f};
    double timeout = t->args.mpi_timeout;
    if (sc_dist_mean(t->dist, grads, n, timeout, "the gradient all-reduce") != 0 ||
        sc_dist_mean(t->dist, monitor, 2, timeout, "the loss all-reduce") != 0 ||
        sc_dist_any(t->dist, flags, 2, timeout, "the flag all-reduce") != 0)
        flags[0] = 1.0f; /* a failed reduction: the guard stops the run */
    monitor[SC_MONITOR_NONFINITE] = flags[0];
    monitor[SC_MONITOR_STOP] = flags[1];
    clock_gettime(CLOCK_MONOTONIC, &t1);
    t->reduce_s += (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    t->reduces++;
    t->reduce_floats = n;
}

/* Only rank 0 talks on stdout; every rank reports its errors. */
int trainer_start_ranks(trainer *t, int *argc, char ***argv)
{
    sc_error err = {0};
    if (sc_dist_init(argc, argv, &t->dist, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", err.msg);
        return 0;
    }
    t->rank = sc_dist_rank(t->dist);
    t->ranks = sc_dist_size(t->dist);
    if (t->rank != 0 && !freopen("/dev/null", "w", stdout))
        fprintf(stderr, "sphere-train: rank %d: cannot quiet stdout\n", t->rank);
    return 1;
}
