/* sphere-train: atomic snapshots (weights, solver state, loader position)
 * and exact resume from them. */
#include <stdio.h>
#include <string.h>

#include "trainer.h"

typedef struct loader_state {
    char magic[8];
    uint64_t seed;
    uint64_t position;
} loader_state;

int trainer_diverged(const trainer *t, int iter, const char *what)
{
    fprintf(stderr,
            "sphere-train: training diverged at iteration %d: %s.\n"
            "  last good snapshot: %s\n"
            "  hint: lower base_lr (e.g. by 10x), keep lambda_min >= 5 for A-Softmax m=4, and "
            "check that labels are in range and the images are normalised.\n",
            iter, what, t->last_snapshot[0] ? t->last_snapshot : "(none)");
    return 0;
}

static int write_snapshot(trainer *t);

/* A snapshot, its host-blocking calls counted apart from the loop's. */
int trainer_snapshot(trainer *t)
{
    if (t->rank != 0)
        return 1; /* rank 0 writes; every rank holds the same weights */
    size_t before = sc_ctx_sync_stats(t->ctx).blocking_calls;
    int ok = write_snapshot(t);
    t->snapshot_syncs += sc_ctx_sync_stats(t->ctx).blocking_calls - before;
    return ok;
}

static int write_snapshot(trainer *t)
{
    int iter = sc_solver_iter(t->solver), finite = 0;
    if (sc_solver_params_finite(t->solver, &finite) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    if (!finite)
        return trainer_diverged(t, iter, "the weights are not finite (NaN or infinity); no snapshot "
                                 "written");
    char model[4200], state[4200];
    const char *prefix = t->sp.snapshot_prefix;
    snprintf(model, sizeof model, "%s_iter_%d.caffemodel", prefix, iter);
    snprintf(state, sizeof state, "%s_iter_%d.solverstate", prefix, iter);
    sc_error err = {0};
    if (sc_mkdirs_for_file(model, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", err.msg);
        return 0;
    }
    loader_state ls = {.magic = "SCLOADR", .seed = t->seed,
                       .position = t->loader ? sc_loader_position(t->loader) : 0};
    if (sc_net_save_weights(t->net, model) != SC_OK ||
        sc_solver_save_state(t->solver, state, model, &ls, sizeof ls) != SC_OK) {
        fprintf(stderr, "sphere-train: snapshot failed: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    printf("Snapshotting to %s and %s\n", model, state);
    snprintf(t->last_snapshot, sizeof t->last_snapshot, "%s", state);
    return 1;
}

/* X.solverstate -> X.caffemodel */
static void model_of_state(const char *state, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", state);
    char *dot = strrchr(dst, '.');
    if (dot && !strcmp(dot, ".solverstate"))
        snprintf(dot, cap - (size_t)(dot - dst), ".caffemodel");
}

int trainer_restore(trainer *t)
{
    char model[4200];
    model_of_state(t->args.snapshot, model, sizeof model);
    void *user = NULL;
    size_t user_size = 0;
    sc_status st; /* the state first: a missing or foreign state is named as such */
    if ((st = sc_solver_load_state(t->solver, t->args.snapshot, model, &user, &user_size)) !=
            SC_OK ||
        (st = sc_net_load_weights(t->net, model, NULL, 0)) != SC_OK) {
        char msg[4400];
        snprintf(msg, sizeof msg, "cannot resume: %s", sc_ctx_message(t->ctx));
        free(user);
        return trainer_setup_failed(t, st, msg);
    }
    loader_state ls;
    int ok = user_size == sizeof ls;
    if (ok) {
        memcpy(&ls, user, sizeof ls);
        ok = !memcmp(ls.magic, "SCLOADR", 8) && ls.seed == t->seed;
    }
    free(user);
    if (!ok) {
        char msg[4400];
        snprintf(msg, sizeof msg, "%s was written by a run with another seed or data layout; "
                 "resume with the same --seed", t->args.snapshot);
        return trainer_setup_failed(t, SC_ERR_ARG, msg);
    }
    sc_error err = {0};
    if (sc_loader_seek(t->loader, ls.position, &err) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", err.msg);
        return 0;
    }
    printf("Resumed from %s at iteration %d\n", t->args.snapshot, sc_solver_iter(t->solver));
    return 1;
}
