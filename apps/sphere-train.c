/* sphere-train: trains a Caffe net with Caffe's solvers, as `caffe train`
 * does, on any OpenCL device: ImageData lists decoded by loader threads,
 * Caffe-style logs, atomic snapshots (every `snapshot` iterations and on
 * SIGINT / SIGTERM) that --snapshot resumes exactly, and a divergence guard.
 * This file: the command line, setup and main; the trainer is in apps/train/. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "snapshot_dir.h"
#include "trainer.h"

/* Set by the signal handler, read by the training loop: the one piece of
 * global state, because a signal handler can reach nothing else. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

int trainer_setup_failed(trainer *t, sc_status st, const char *msg)
{
    fprintf(stderr, "sphere-train: %s\n", msg);
    t->exit_status = sc_cli_input_status(st);
    return 0;
}

static const char k_description[] =
    "Trains the solver's net as `caffe train` does. --snapshot resumes a run exactly (weights\n"
    "from the .caffemodel next to it); --weights initialises from a caffemodel (fine-tuning).\n"
    "Snapshots are written every `snapshot` iterations, at the end, and on SIGINT/SIGTERM.\n"
    "Every image of the ImageData list must fit the net's input (after image_data_param's\n"
    "new_height/new_width, if set) unless --resize converts it (bilinear).\n"
    "Under `mpirun -np N` (a build with MPI) the ranks train one model together: the data\n"
    "layer's batch_size is the global batch, split N ways (it must divide); each rank reads\n"
    "its own slice of every global batch, gradients are averaged with MPI_Allreduce before\n"
    "each update, rank 0 logs and snapshots, and a run resumes with any rank count that\n"
    "divides the global batch. --device 0,1 gives rank r the r-th device of the list.\n";

/* Parses the command line; returns SC_CLI_CONTINUE or an exit status. */
static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->seed = -1;
    a->max_iter = -1;
    a->threads = 2;
    a->mpi_timeout = 600;
    const sc_opt opts[] = {
        {SC_STR("--solver", &a->solver, "FILE", "solver prototxt"), .required = 1},
        {SC_STR("--snapshot", &a->snapshot, "FILE", "resume from this .solverstate")},
        {SC_STR("--weights", &a->weights, "FILE", "initial weights (.caffemodel)")},
        {SC_INT64("--seed", &a->seed, "N", "weight fillers, data order, mirroring", 0,
                  9007199254740991.0), .default_text = "the solver's random_seed, else 1"},
        {SC_INT("--max-iter", &a->max_iter, "N", "stop at this iteration", 0, 2147483647),
         .default_text = "the solver's max_iter"},
        {SC_CHOICE("--asoftmax", &a->asoftmax, "caffe|exact",
                   "A-Softmax backward: Caffe's or the true gradient"),
         .default_text = "caffe"},
        {SC_INT("--threads", &a->threads, "N", "image decoding threads", 1, 256)},
        {SC_FLOAT("--mpi-timeout", &a->mpi_timeout, "S",
                  "under mpirun: seconds to wait for the other ranks before stopping the job", 1,
                  86400)},
        {SC_FLAG("--resize", &a->resize, "resize images to the net's input")},
        {SC_STR("--log-json", &a->log_json, "FILE",
                "also append every display line to FILE as one JSON object (JSON Lines)"),
         .default_text = "none"},
        {SC_DEVICE_OPT(&a->device)},
    };
    const sc_cli cli = {.prog = "sphere-train", .synopsis = "--solver S.prototxt [options]",
                        .description = k_description, .opts = opts,
                        .n_opts = sizeof opts / sizeof opts[0]};
    return sc_cli_parse(&cli, argc, argv);
}

/* ------------------------------------------------------------ setup */

static void print_removed(void *user, const char *path)
{
    (void)user;
    printf("removed %s, left by an interrupted run\n", path);
}

static int setup(trainer *t)
{
    sc_error err = {0};
    sc_status st = sc_solver_params_load(t->args.solver, &t->sp, &err);
    if (st != SC_OK)
        return trainer_setup_failed(t, st, err.msg);
    if (t->args.max_iter >= 0)
        t->sp.max_iter = t->args.max_iter;
    if (!t->sp.snapshot_prefix[0]) /* Caffe's default: snapshots next to the working folder */
        snprintf(t->sp.snapshot_prefix, sizeof t->sp.snapshot_prefix, "snapshot");
    if (t->rank == 0 &&
        (st = sc_snapshot_dir_prepare(t->sp.snapshot_prefix, print_removed, NULL, &err)) != SC_OK)
        return trainer_setup_failed(t, st, err.msg);
    if (t->rank == 0 && t->args.log_json && !(t->log_json = fopen(t->args.log_json, "a"))) {
        char msg[4400];
        snprintf(msg, sizeof msg, "--log-json: cannot open %s for appending", t->args.log_json);
        return trainer_setup_failed(t, SC_ERR_IO, msg);
    }
    t->seed = t->args.seed >= 0 ? (uint64_t)t->args.seed
              : t->sp.random_seed >= 0 ? (uint64_t)t->sp.random_seed : 1;
    trainer_pick_device(t);
    sc_ctx_options co = {.selector = t->device[0] ? t->device : NULL};
    if ((st = sc_ctx_create(&co, &t->ctx, &err)) != SC_OK)
        return trainer_setup_failed(t, st, err.msg);
    const sc_device_info *d = sc_ctx_info(t->ctx);
    char prov[256];
    sc_providers_describe(sc_ctx_gemm_provider(t->ctx), sc_ctx_conv_provider(t->ctx), prov,
                          sizeof prov);
    printf("Device: %s (%s, %s), %s\n", d->name, sc_device_type_name(d->type), d->platform, prov);
    sc_net_options no = {.seed = t->seed,
                         .asoftmax_exact = t->args.asoftmax && !strcmp(t->args.asoftmax, "exact"),
                         .image_size = sc_loader_probe_size};
    if (t->ranks > 1 && !trainer_split_batch(t, &no))
        return 0;
    if ((st = sc_solver_create(t->ctx, &t->sp, &no, &t->solver)) != SC_OK)
        return trainer_setup_failed(t, st, sc_ctx_message(t->ctx));
    if (t->ranks > 1 && (st = sc_solver_set_reduce(t->solver, trainer_reduce_across_ranks, t)) != SC_OK)
        return trainer_setup_failed(t, st, sc_ctx_message(t->ctx));
    t->net = sc_solver_net(t->solver);
    sc_net_memory m = sc_net_memory_use(t->net);
    printf("Net %s: batch %d, %.1f MiB activations (%.1f MiB without reuse), %.1f MiB parameters\n",
           sc_net_name(t->net), sc_net_batch(t->net), m.activations_bytes / 1048576.0,
           m.unshared_bytes / 1048576.0, m.params_bytes / 1048576.0);
    return 1;
}

static int load_initial_weights(trainer *t)
{
    if (!t->args.weights)
        return 1;
    char missing[4096];
    sc_status st = sc_net_load_weights(t->net, t->args.weights, missing, sizeof missing);
    if (st != SC_OK)
        return trainer_setup_failed(t, st, sc_ctx_message(t->ctx));
    if (missing[0])
        printf("warning: %s has no weights for: %s (left as initialised)\n", t->args.weights,
               missing);
    return 1;
}

static void cleanup(trainer *t)
{
    if (t->log_json)
        fclose(t->log_json);
    sc_loader_destroy(t->loader);
    sc_solver_destroy(t->solver);
    sc_ctx_destroy(t->ctx);
    for (int i = 0; i < t->n_staging; i++) {
        if (t->data)
            free(t->data[i]);
        if (t->labels)
            free(t->labels[i]);
    }
    free(t->data);
    free(t->labels);
}

int main(int argc, char **argv)
{
    trainer t;
    memset(&t, 0, sizeof t);
    t.stop_signal = &g_stop_signal;
    int rc = parse_args(argc, argv, &t.args);
    if (rc != SC_CLI_CONTINUE)
        return rc;
    if (!trainer_start_ranks(&t, &argc, &argv))
        return SC_EXIT_FAILED;
    t.tty = isatty(STDOUT_FILENO);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int ok = setup(&t) && trainer_make_loader(&t) && trainer_check_labels(&t) && load_initial_weights(&t) &&
             (!t.args.snapshot || trainer_restore(&t));
    rc = ok ? SC_EXIT_FAILED : t.exit_status ? t.exit_status : SC_EXIT_FAILED;
    if (ok) {
        printf("Training to iteration %d (seed %llu)\n", t.sp.max_iter, (unsigned long long)t.seed);
        int start = sc_solver_iter(t.solver);
        size_t syncs0 = sc_ctx_sync_stats(t.ctx).blocking_calls;
        int r = trainer_loop(&t, t.sp.max_iter);
        rc = r == 1 ? 0 : r == 2 ? 128 + (int)g_stop_signal : 1;
        int done = sc_solver_iter(t.solver) - start;
        size_t syncs = sc_ctx_sync_stats(t.ctx).blocking_calls - syncs0 - t.snapshot_syncs;
        if (done > 0)
            printf("Host-blocking calls: %zu over %d iterations (%.2f per iteration; display "
                   "lines included, %zu more writing snapshots)\n",
                   syncs, done, (double)syncs / done, t.snapshot_syncs);
        if (t.reduces > 0)
            printf("All-reduce of %zu gradient floats over %d ranks: %.2f ms per iteration "
                   "(waiting for the slowest rank included)\n",
                   t.reduce_floats, t.ranks, 1e3 * t.reduce_s / t.reduces);
        if (r == 1)
            printf("Optimization done.\n");
    }
    cleanup(&t);
    sc_dist_finalize(t.dist);
    return rc;
}
