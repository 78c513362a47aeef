/* The trainer of sphere-train, split by concern: data (the ImageData list
 * and its loader), snapshots (write, resume), the loop (pipelined steps,
 * display, divergence guard) and data-parallel setup. sphere-train.c holds the
 * command line, setup and main. */
#ifndef SC_TRAINER_H
#define SC_TRAINER_H

#include <signal.h>
#include <stdio.h>

#include "loader.h"
#include "sc_dist.h"
#include "sc_solver.h"

/* -log(FLT_MIN): the loss SoftmaxWithLoss reports when the target
 * probability underflows, the classic sign of a diverged SphereFace run. */
#define STUCK_LOSS 87.3365
#define STUCK_ITERATIONS 20

typedef struct train_args {
    const char *solver, *snapshot, *weights, *device, *asoftmax;
    const char *log_json; /* JSON Lines file, one object per display line */
    long long seed;     /* -1: solver random_seed, else 1 */
    int max_iter;       /* -1: solver's */
    int threads;
    int resize;
    float mpi_timeout;
} train_args;

typedef struct trainer {
    train_args args;
    /* the signal that asked to stop (0: none), set by main's handler */
    volatile sig_atomic_t *stop_signal;
    sc_ctx *ctx;
    sc_solver_params sp;
    sc_solver *solver;
    sc_net *net;
    sc_loader *loader;
    const char *data_blob, *label_blob;
    /* Host batches uploaded without waiting: a ring of two iterations' worth.
     * A slot is refilled two iterations after its upload, when the solver has
     * collected a later iteration: the upload, earlier in the queue, is done. */
    float **data, **labels;
    int n_staging, next_staging;
    size_t data_count;
    uint64_t seed;
    int tty;
    int exit_status; /* of a failed setup step: 2 when the input was refused */
    size_t snapshot_syncs; /* host-blocking calls spent writing snapshots */
    /* data-parallel (mpirun -np N): this rank, the global batch split N ways */
    sc_dist *dist;
    int rank, ranks, global_batch;
    int stop_requested;    /* every rank saw a stop in the reduced monitor */
    double reduce_s;       /* time spent in the all-reduces (host thread) */
    int reduces;
    size_t reduce_floats;
    char device[256];      /* this rank's entry of a --device list */
    char last_snapshot[4200];
    FILE *log_json;        /* --log-json, open for appending (rank 0 only) */
} trainer;

/* Setup steps return 1 on success, 0 on failure (message printed). */

/* Prints a setup failure and records its exit status; returns 0. */
int trainer_setup_failed(trainer *t, sc_status st, const char *msg);

/* train_data.c: the ImageData layer's list through loader threads. */
int trainer_make_loader(trainer *t);
int trainer_check_labels(trainer *t);
sc_status trainer_feed(void *user, sc_net *net);

/* train_snapshot.c */
int trainer_snapshot(trainer *t);
int trainer_restore(trainer *t);
/* The divergence message; returns 0, the loop's failure. */
int trainer_diverged(const trainer *t, int iter, const char *what);

/* train_loop.c: 1 when done, 2 after a signal's snapshot, 0 on failure. */
int trainer_loop(trainer *t, int max_iter);

/* train_dist.c: data-parallel under mpirun */
int trainer_start_ranks(trainer *t, int *argc, char ***argv);
void trainer_pick_device(trainer *t);
int trainer_split_batch(trainer *t, sc_net_options *no);
void trainer_reduce_across_ranks(void *user, float *grads, size_t n, float *monitor);

#endif
