/* sphere-train: the training loop (pipelined solver steps), Caffe-style
 * display lines, --log-json and the divergence guard. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "trainer.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void format_eta(double seconds, char *buf, size_t cap)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else
        snprintf(buf, cap, "%ldm%02lds", s / 60, s % 60);
}

typedef struct loop_state {
    double t_start, t_window;
    int iter_start, iter_window;
    double loss_sum, acc_sum; /* over the iterations since the last display */
    int loss_n, acc_n, stuck;
    int max_iter;
} loop_state;

/* One display line as a JSON object. */
typedef struct json_point {
    int iter;
    double loss, accuracy, lambda, lr, img_s, wall_s; /* NaN: the net has none */
} json_point;

/* A number, or null where JSON has no spelling for it (NaN, infinity) or the
 * net has no such value (no Accuracy layer, no A-Softmax lambda). %.9g keeps
 * every float digit, so the file round-trips the logged values. */
static void json_number(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.9g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

/* Appends one JSON object and flushes it, so a plot of a run still in
 * progress (or killed) reads whole lines only. A failed write is reported
 * once and the file dropped: losing the log must not stop the training. */
static void log_json_line(trainer *t, const json_point *p)
{
    if (!t->log_json)
        return;
    FILE *f = t->log_json;
    fprintf(f, "{\"iteration\":%d", p->iter);
    json_number(f, "loss", p->loss);
    json_number(f, "accuracy", p->accuracy);
    json_number(f, "lambda", p->lambda);
    json_number(f, "lr", p->lr);
    json_number(f, "img_s", p->img_s);
    json_number(f, "wall_s", p->wall_s);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        fprintf(stderr, "sphere-train: --log-json %s: write failed; no more JSON lines\n",
                t->args.log_json);
        fclose(f);
        t->log_json = NULL;
    }
}

/* Loss and training accuracy are means over the iterations since the last
 * display line; lambda and lr are those of the last iteration. */
static void log_display(trainer *t, loop_state *ls, const sc_step_result *r)
{
    int iter = r->iter;
    double now = now_s();
    double ips = (iter - ls->iter_window) * (double)sc_net_batch(t->net) * t->ranks /
                 fmax(now - ls->t_window, 1e-9);
    double rate = (iter - ls->iter_start) / fmax(now - ls->t_start, 1e-9);
    char eta[32];
    format_eta(rate > 0 ? (ls->max_iter - iter) / rate : 0, eta, sizeof eta);
    if (t->tty)
        printf("\r\033[K");
    printf("Iteration %d (%.1f img/s), loss = %.7g", iter, ips, ls->loss_sum / ls->loss_n);
    if (ls->acc_n > 0)
        printf(", accuracy = %.4f", ls->acc_sum / ls->acc_n);
    const char *layer;
    long long it;
    float lambda = NAN;
    if (sc_net_state_count(t->net) > 0 && sc_net_state_get(t->net, 0, &layer, &it, &lambda) == SC_OK)
        printf(", lambda = %.4g", lambda); /* read only here: a host sync */
    printf(", lr = %.6g, ETA %s\n", r->lr, eta);
    fflush(stdout);
    json_point p = {.iter = iter, .loss = ls->loss_sum / ls->loss_n,
                    .accuracy = ls->acc_n > 0 ? ls->acc_sum / ls->acc_n : NAN,
                    .lambda = lambda, .lr = r->lr, .img_s = ips, .wall_s = now - ls->t_start};
    log_json_line(t, &p);
    ls->t_window = now;
    ls->iter_window = iter;
    ls->loss_sum = ls->acc_sum = 0;
    ls->loss_n = ls->acc_n = 0;
}

/* Returns 0 when training must stop because the loss diverged: non-finite
 * (the device flags it), or stuck at -ln(FLT_MIN). */
static int guard(trainer *t, loop_state *ls, const sc_step_result *r)
{
    ls->stuck = fabs(r->loss - STUCK_LOSS) < 1e-3 ? ls->stuck + 1 : 0;
    if (!r->nonfinite && ls->stuck < STUCK_ITERATIONS)
        return 1;
    char why[160];
    if (r->nonfinite)
        snprintf(why, sizeof why, "the loss is not finite (NaN or infinity)");
    else
        snprintf(why, sizeof why, "loss = %g for %d iterations (= -ln(FLT_MIN))", r->loss,
                 STUCK_ITERATIONS);
    return trainer_diverged(t, r->iter, why);
}

/* Takes the oldest pending iteration's results: guard, averages, display. */
static int collect_one(trainer *t, loop_state *ls)
{
    sc_step_result r;
    if (sc_solver_collect(t->solver, &r) != SC_OK) {
        fprintf(stderr, "sphere-train: %s\n", sc_ctx_message(t->ctx));
        return 0;
    }
    if (!guard(t, ls, &r))
        return 0;
    t->stop_requested |= r.stop;
    ls->loss_sum += r.loss;
    ls->loss_n++;
    if (r.accuracy >= 0) {
        ls->acc_sum += r.accuracy;
        ls->acc_n++;
    }
    if (t->sp.display > 0 && r.iter % t->sp.display == 0)
        log_display(t, ls, &r);
    else if (t->tty) {
        printf("\r  iteration %d / %d, loss %.4f", r.iter, ls->max_iter, r.loss);
        fflush(stdout);
    }
    return 1;
}

static int drain(trainer *t, loop_state *ls)
{
    while (sc_solver_pending(t->solver) > 0)
        if (!collect_one(t, ls))
            return 0;
    return 1;
}

/* The device runs iteration k while the host collects k-1 (one wait per
 * iteration, on results that are normally ready) and the loader threads
 * decode k+1. Returns 1 when done, 2 after a signal's snapshot, 0 on failure. */
int trainer_loop(trainer *t, int max_iter)
{
    loop_state ls = {.t_start = now_s(), .iter_start = sc_solver_iter(t->solver),
                     .max_iter = max_iter};
    ls.t_window = ls.t_start;
    ls.iter_window = ls.iter_start;
    int display = t->sp.display;
    while (sc_solver_iter(t->solver) < max_iter) {
        /* one process stops at once; ranks stop together, at the iteration
         * whose reduced monitor carried a rank's signal */
        if (t->ranks == 1 ? *t->stop_signal != 0 : t->stop_requested) {
            printf("\nSignal %d: snapshotting and stopping\n", (int)*t->stop_signal);
            return drain(t, &ls) && trainer_snapshot(t) ? 2 : 0;
        }
        int next = sc_solver_iter(t->solver) + 1;
        if (sc_solver_enqueue(t->solver, trainer_feed, t, display > 0 && next % display == 0) != SC_OK) {
            fprintf(stderr, "sphere-train: %s\n", sc_ctx_message(t->ctx));
            return 0;
        }
        if (sc_solver_pending(t->solver) == SC_SOLVER_PIPELINE && !collect_one(t, &ls))
            return 0;
        int snap = t->sp.snapshot > 0 && next % t->sp.snapshot == 0 && next < max_iter;
        if (snap && !(drain(t, &ls) && trainer_snapshot(t)))
            return 0;
    }
    return drain(t, &ls) && trainer_snapshot(t);
}
