/* Caffe's six solvers through the solver API on a small net:
 *  - the first 5 updates of each type equal a double-precision C reference of
 *    Caffe's update rule (written here from sgd_solvers.hpp, independently of
 *    cl/sgd.cl), with lr_mult/decay_mult != 1, L1 and L2, iter_size 2 and a
 *    changing learning rate, and with clip_gradients, to 1e-6 relative;
 *  - resuming from a snapshot mid-run reproduces the straight run bit-exactly
 *    (weights and every history) for every type;
 *  - `solver_type: ADAM` runs Adam (the same weights as `type: "Adam"`);
 *  - a state saved by one type is refused by another, naming both; a version 1
 *    (SGD-only) state still loads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_solver.h"
#include "sc_test.h"

#define BATCH 4
#define DIM 6
#define CLASSES 3
#define STEPS 5
#define MAX_PARAMS 8
#define MAX_COUNT 64

/* Every parameter has lr_mult and decay_mult != 1 except ip2's weights. */
static const char k_net[] =
    "name: \"solvers\"\n"
    "layer { name: \"data\" type: \"Input\" top: \"data\"\n"
    "  input_param { shape { dim: 4 dim: 6 } } }\n"
    "layer { name: \"label\" type: \"Input\" top: \"label\"\n"
    "  input_param { shape { dim: 4 } } }\n"
    "layer { name: \"ip1\" type: \"InnerProduct\" bottom: \"data\" top: \"ip1\"\n"
    "  param { lr_mult: 1.5 decay_mult: 2 } param { lr_mult: 2 decay_mult: 0 }\n"
    "  inner_product_param { num_output: 5 weight_filler { type: \"gaussian\" std: 0.3 }\n"
    "    bias_filler { type: \"constant\" value: 0.1 } } }\n"
    "layer { name: \"relu1\" type: \"PReLU\" bottom: \"ip1\" top: \"ip1\"\n"
    "  param { lr_mult: 0.5 decay_mult: 3 } }\n"
    "layer { name: \"ip2\" type: \"InnerProduct\" bottom: \"ip1\" top: \"ip2\"\n"
    "  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 3 decay_mult: 0.5 }\n"
    "  inner_product_param { num_output: 3 weight_filler { type: \"xavier\" }\n"
    "    bias_filler { type: \"constant\" value: -0.2 } } }\n"
    "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip2\" bottom: \"label\"\n"
    "  top: \"loss\" }\n";

/* One solver configuration: the solver file's type-specific lines. */
typedef struct solver_case {
    sc_solver_type type;
    const char *lines;
} solver_case;

static const solver_case k_cases[] = {
    {SC_SOLVER_SGD, "type: \"SGD\"\nbase_lr: 0.1\nmomentum: 0.9\nweight_decay: 0.01\n"
                    "lr_policy: \"step\"\ngamma: 0.5\nstepsize: 2\n"},
    {SC_SOLVER_NESTEROV, "type: \"Nesterov\"\nbase_lr: 0.05\nmomentum: 0.8\nweight_decay: 0.005\n"
                         "regularization_type: \"L1\"\niter_size: 2\n"},
    {SC_SOLVER_ADAGRAD, "type: \"AdaGrad\"\nbase_lr: 0.05\ndelta: 1e-6\nweight_decay: 0.01\n"},
    {SC_SOLVER_RMSPROP, "type: \"RMSProp\"\nbase_lr: 0.01\nmomentum: 0\nrms_decay: 0.9\n"
                        "delta: 1e-6\nweight_decay: 0.01\nregularization_type: \"L1\"\n"},
    {SC_SOLVER_ADADELTA, "type: \"AdaDelta\"\nbase_lr: 1.0\nmomentum: 0.95\ndelta: 1e-6\n"
                         "weight_decay: 0.0005\niter_size: 2\n"},
    {SC_SOLVER_ADAM, "type: \"Adam\"\nbase_lr: 0.001\nmomentum: 0.9\nmomentum2: 0.999\n"
                     "weight_decay: 0.0005\nlr_policy: \"inv\"\ngamma: 0.1\npower: 0.75\n"},
    /* clip_gradients below the gradients' norm: every update is scaled */
    {SC_SOLVER_SGD, "base_lr: 0.1\nmomentum: 0.9\nweight_decay: 0.01\niter_size: 2\n"
                    "clip_gradients: 0.05\n"},
    {SC_SOLVER_ADAM, "type: \"Adam\"\nbase_lr: 0.01\nmomentum: 0.9\nmomentum2: 0.99\n"
                     "clip_gradients: 0.1\n"},
};
#define N_CASES (sizeof k_cases / sizeof *k_cases)

/* ------------------------------------------------------------- fixtures */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *net_path(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s", sc_test_tmp("solvers_net.prototxt"));
    write_text(path, k_net);
    return path;
}

/* Loads a solver whose type-specific lines are `lines`. */
static sc_solver_params load_params(const char *lines)
{
    char path[1024], text[2048];
    snprintf(path, sizeof path, "%s", sc_test_tmp("solvers_solver.prototxt"));
    snprintf(text, sizeof text, "net: \"%s\"\nmax_iter: 100\n%s", net_path(), lines);
    write_text(path, text);
    sc_solver_params p;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_solver_params_load(path, &p, &err));
    return p;
}

/* Batches depend only on the pass number, so a resumed run can replay them. */
typedef struct feeder {
    int pass;
} feeder;

static sc_status feed(void *user, sc_net *net)
{
    feeder *f = user;
    float data[BATCH * DIM], label[BATCH];
    for (int i = 0; i < BATCH * DIM; i++)
        data[i] = (float)sin(0.37 * (i + 1) + 1.3 * f->pass);
    for (int n = 0; n < BATCH; n++)
        label[n] = (float)((n + f->pass) % CLASSES);
    f->pass++;
    SC_TRY(sc_net_write_blob(net, "data", data, BATCH * DIM));
    return sc_net_write_blob(net, "label", label, BATCH);
}

static sc_solver *make_solver(sc_ctx *ctx, const sc_solver_params *p)
{
    sc_net_options opts = {.seed = 11};
    sc_solver *s = NULL;
    sc_assert_ok(ctx, sc_solver_create(ctx, p, &opts, &s));
    return s;
}

static void read_floats(sc_ctx *ctx, cl_mem mem, size_t n, float *dst)
{
    sc_assert_ok(ctx, sc_buffer_read(ctx, mem, 0, n * sizeof *dst, dst));
}

/* ------------------------------------------------------------ reference */

/* Caffe's rule for one blob in double, on the accumulated diff of iteration
 * `iter` (sgd_solver.cpp: Normalize, Regularize, ComputeUpdateValue, then
 * Net::Update). The solver's float parameters are used as Caffe would. */
typedef struct ref_blob {
    size_t count;
    double lr_mult, decay_mult;
    double w[MAX_COUNT], h[MAX_COUNT], h2[MAX_COUNT];
    double scale[3]; /* largest |w|, |h|, |h2| so far */
} ref_blob;

static double f32(double v) { return (double)(float)v; }

static double ref_rate(const sc_solver_params *p, int iter)
{
    if (!strcmp(p->lr_policy, "step"))
        return f32(p->base_lr) * pow(f32(p->gamma), iter / p->stepsize);
    if (!strcmp(p->lr_policy, "inv"))
        return f32(p->base_lr) * pow(1.0 + f32(p->gamma) * iter, -f32(p->power));
    assert_string_equal(p->lr_policy, "fixed");
    return f32(p->base_lr);
}

static double ref_value(const sc_solver_params *p, ref_blob *b, size_t i, double g, double rate,
                        int iter)
{
    const double m = f32(p->momentum), delta = f32(p->delta);
    double *h = &b->h[i], *h2 = &b->h2[i];
    switch (p->type) {
    case SC_SOLVER_SGD:
        *h = m * *h + rate * g;
        return *h;
    case SC_SOLVER_NESTEROV: {
        double old = *h;
        *h = m * *h + rate * g;
        return (1 + m) * *h - m * old;
    }
    case SC_SOLVER_ADAGRAD:
        *h += g * g;
        return rate * g / (sqrt(*h) + delta);
    case SC_SOLVER_RMSPROP: {
        const double d = f32(p->rms_decay);
        *h = d * *h + (1 - d) * g * g;
        return rate * g / (sqrt(*h) + delta);
    }
    case SC_SOLVER_ADADELTA: {
        *h = m * *h + (1 - m) * g * g;
        double u = g * sqrt((*h2 + delta) / (*h + delta));
        *h2 = m * *h2 + (1 - m) * u * u;
        return rate * u;
    }
    case SC_SOLVER_ADAM: {
        const double b2 = f32(p->momentum2);
        const int t = iter + 1;
        *h = m * *h + (1 - m) * g;
        *h2 = b2 * *h2 + (1 - b2) * g * g;
        return rate * sqrt(1 - pow(b2, t)) / (1 - pow(m, t)) * *h / (sqrt(*h2) + delta);
    }
    }
    fail_msg("unknown type %d", (int)p->type);
    return 0;
}

static void ref_update(const sc_solver_params *p, ref_blob *b, const float *diff, double clip,
                       int iter)
{
    const double local_decay = f32(p->weight_decay) * b->decay_mult;
    const double rate = ref_rate(p, iter) * b->lr_mult;
    for (size_t i = 0; i < b->count; i++) {
        double w = b->w[i], g = diff[i] * clip / (double)p->iter_size;
        g += local_decay * (p->regularization_l1 ? (double)((w > 0) - (w < 0)) : w);
        b->w[i] -= ref_value(p, b, i, g, rate, iter);
    }
}

/* max |got - ref| over the largest |ref| the array has held so far in the
 * run (*scale): float rounding of a value that cancels towards 0 (a weight
 * crossing 0, a momentum turning) is measured against the array's scale, not
 * against the small result. */
static double rel_error(const float *got, const double *ref, size_t n, double *scale)
{
    *scale = fmax(*scale, sc_test_max_abs(ref, n));
    return sc_test_max_abs_diff(got, ref, n) / fmax(*scale, 1e-30);
}

static double check_array(const char *what, const sc_param_info *pi, int step, cl_mem mem,
                          const double *ref, double *scale, sc_ctx *ctx)
{
    float got[MAX_COUNT];
    read_floats(ctx, mem, pi->count, got);
    double e = rel_error(got, ref, pi->count, scale);
    if (!(e <= 1e-6))
        fail_msg("%s of %s after update %d: relative error %.3g > 1e-6", what, pi->name, step + 1,
                 e);
    return e;
}

static void init_ref(sc_ctx *ctx, sc_net *net, ref_blob *refs)
{
    assert_true(sc_net_param_count(net) <= MAX_PARAMS);
    for (size_t k = 0; k < sc_net_param_count(net); k++) {
        sc_param_info pi;
        sc_assert_ok(ctx, sc_net_param(net, k, &pi));
        assert_true(pi.count <= MAX_COUNT);
        float w[MAX_COUNT];
        read_floats(ctx, pi.data, pi.count, w);
        ref_blob *b = &refs[k];
        memset(b, 0, sizeof *b);
        b->count = pi.count;
        b->lr_mult = pi.lr_mult;
        b->decay_mult = pi.decay_mult;
        for (size_t i = 0; i < pi.count; i++)
            b->w[i] = w[i];
    }
}

/* One iteration: the device's accumulated diffs drive the reference, then
 * the device's weights and histories must match it. */
static double step_and_compare(sc_ctx *ctx, sc_solver *s, const sc_solver_params *p,
                               ref_blob *refs, feeder *fd, int step)
{
    sc_net *net = sc_solver_net(s);
    sc_assert_ok(ctx, sc_solver_forward_backward(s, feed, fd, 0, NULL));
    static float diffs[MAX_PARAMS][MAX_COUNT];
    double sumsq = 0;
    for (size_t k = 0; k < sc_net_param_count(net); k++) {
        sc_param_info pi;
        sc_assert_ok(ctx, sc_net_param(net, k, &pi));
        read_floats(ctx, pi.diff, pi.count, diffs[k]);
        for (size_t i = 0; i < pi.count; i++)
            sumsq += (double)diffs[k][i] * diffs[k][i];
    }
    /* ClipGradients: on the accumulated diffs, before Normalize */
    double norm = sqrt(sumsq), clip = 1.0;
    if (p->clip_gradients >= 0 && norm > f32(p->clip_gradients))
        clip = f32(p->clip_gradients) / norm;
    if (p->clip_gradients >= 0)
        assert_true(clip < 1.0); /* the cases clip every update */
    for (size_t k = 0; k < sc_net_param_count(net); k++)
        ref_update(p, &refs[k], diffs[k], clip, sc_solver_iter(s));
    sc_assert_ok(ctx, sc_solver_apply_update(s));
    double worst = 0;
    for (size_t k = 0; k < sc_net_param_count(net); k++) {
        sc_param_info pi;
        sc_assert_ok(ctx, sc_net_param(net, k, &pi));
        ref_blob *r = &refs[k];
        worst = fmax(worst, check_array("weights", &pi, step, pi.data, r->w, &r->scale[0], ctx));
        worst = fmax(worst, check_array("history", &pi, step, pi.history, r->h, &r->scale[1], ctx));
        if (sc_solver_type_histories(p->type) == 2)
            worst = fmax(worst, check_array("history2", &pi, step, pi.history2, r->h2,
                                            &r->scale[2], ctx));
        else
            assert_null(pi.history2);
    }
    return worst;
}

static void test_updates_match_reference(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    for (size_t c = 0; c < N_CASES; c++) {
        sc_solver_params p = load_params(k_cases[c].lines);
        assert_int_equal(p.type, k_cases[c].type);
        sc_solver *s = make_solver(ctx, &p);
        ref_blob refs[MAX_PARAMS];
        init_ref(ctx, sc_solver_net(s), refs);
        feeder fd = {0};
        double worst = 0;
        for (int step = 0; step < STEPS; step++)
            worst = fmax(worst, step_and_compare(ctx, s, &p, refs, &fd, step));
        printf("%-8s %d updates%s: max relative error %.3g\n", sc_solver_type_name(p.type), STEPS,
               p.clip_gradients >= 0 ? " (clipped)" : "", worst);
        sc_solver_destroy(s);
    }
    sc_ctx_destroy(ctx);
}

/* --------------------------------------------------------------- resume */

#define MAX_FLOATS (MAX_PARAMS * MAX_COUNT * 3)

/* Every weight and history value of the net, in parameter order. */
static size_t snapshot_values(sc_ctx *ctx, sc_solver *s, float *dst)
{
    sc_net *net = sc_solver_net(s);
    size_t n = 0;
    for (size_t k = 0; k < sc_net_param_count(net); k++) {
        sc_param_info pi;
        sc_assert_ok(ctx, sc_net_param(net, k, &pi));
        cl_mem mems[3] = {pi.data, pi.history, pi.history2};
        for (int m = 0; m < 3; m++) {
            if (!mems[m])
                continue;
            assert_true(n + pi.count <= MAX_FLOATS);
            read_floats(ctx, mems[m], pi.count, dst + n);
            n += pi.count;
        }
    }
    return n;
}

static void run_iterations(sc_ctx *ctx, sc_solver *s, feeder *fd, int n)
{
    for (int i = 0; i < n; i++)
        sc_assert_ok(ctx, sc_solver_step(s, feed, fd, 0, NULL));
}

static void check_resume(sc_ctx *ctx, const solver_case *c)
{
    sc_solver_params p = load_params(c->lines);
    char model[1024], state[1024];
    snprintf(model, sizeof model, "%s", sc_test_tmp("solvers_resume.caffemodel"));
    snprintf(state, sizeof state, "%s", sc_test_tmp("solvers_resume.solverstate"));
    static float straight[MAX_FLOATS], resumed[MAX_FLOATS];

    sc_solver *s = make_solver(ctx, &p);
    feeder fd = {0};
    run_iterations(ctx, s, &fd, 6);
    size_t n = snapshot_values(ctx, s, straight);
    sc_solver_destroy(s);

    s = make_solver(ctx, &p);
    fd.pass = 0;
    run_iterations(ctx, s, &fd, 3);
    sc_assert_ok(ctx, sc_net_save_weights(sc_solver_net(s), model));
    sc_assert_ok(ctx, sc_solver_save_state(s, state, NULL, "user", 4));
    sc_solver_destroy(s);

    s = make_solver(ctx, &p); /* fresh weights and zero histories until loaded */
    void *user = NULL;
    size_t user_size = 0;
    sc_assert_ok(ctx, sc_net_load_weights(sc_solver_net(s), model, NULL, 0));
    sc_assert_ok(ctx, sc_solver_load_state(s, state, NULL, &user, &user_size));
    assert_int_equal(user_size, 4);
    assert_memory_equal(user, "user", 4);
    free(user);
    assert_int_equal(sc_solver_iter(s), 3);
    fd.pass = 3 * p.iter_size;
    run_iterations(ctx, s, &fd, 3);
    assert_int_equal(snapshot_values(ctx, s, resumed), n);
    sc_solver_destroy(s);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&straight[i], &resumed[i], sizeof(float)))
            fail_msg("%s: value %zu after resume %.9g, straight run %.9g", sc_solver_type_name(c->type),
                     i, resumed[i], straight[i]);
    printf("%-8s resumed at 3: %zu weight and history values bit-identical at 6\n",
           sc_solver_type_name(c->type), n);
}

static void test_resume_is_exact(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    for (size_t c = 0; c < N_CASES; c++)
        check_resume(ctx, &k_cases[c]);
    sc_ctx_destroy(ctx);
}

/* ------------------------------------------------------- solver_type enum */

/* The deprecated enum selects the same solver as the string, by name or number. */
static void test_solver_type_enum_runs_adam(void **state)
{
    (void)state;
    static const char *const variants[] = {
        "type: \"Adam\"\n", "solver_type: ADAM\n", "solver_type: 5\n"};
    sc_ctx *ctx = sc_test_ctx();
    static float first[MAX_FLOATS], got[MAX_FLOATS];
    size_t n = 0;
    for (size_t v = 0; v < 3; v++) {
        char lines[512];
        snprintf(lines, sizeof lines, "%sbase_lr: 0.01\nmomentum: 0.9\nmomentum2: 0.99\n",
                 variants[v]);
        sc_solver_params p = load_params(lines);
        assert_int_equal(p.type, SC_SOLVER_ADAM);
        sc_solver *s = make_solver(ctx, &p);
        assert_int_equal(sc_solver_get_type(s), SC_SOLVER_ADAM);
        feeder fd = {0};
        run_iterations(ctx, s, &fd, 3);
        size_t k = snapshot_values(ctx, s, v ? got : first);
        sc_solver_destroy(s);
        if (v == 0) {
            n = k;
            continue;
        }
        assert_int_equal(k, n);
        assert_memory_equal(first, got, n * sizeof(float));
    }
    sc_ctx_destroy(ctx);
}

/* ------------------------------------------------------ state file types */

static void save_state_of(sc_ctx *ctx, const char *lines, const char *path, int iterations)
{
    sc_solver_params p = load_params(lines);
    sc_solver *s = make_solver(ctx, &p);
    feeder fd = {0};
    run_iterations(ctx, s, &fd, iterations);
    sc_assert_ok(ctx, sc_solver_save_state(s, path, NULL, NULL, 0));
    sc_solver_destroy(s);
}

static void expect_refused(sc_ctx *ctx, const char *lines, const char *path, const char *a,
                           const char *b, const char *c)
{
    sc_solver_params p = load_params(lines);
    sc_solver *s = make_solver(ctx, &p);
    sc_status st = sc_solver_load_state(s, path, NULL, NULL, NULL);
    const char *msg = sc_ctx_message(ctx);
    printf("refused: %s\n", msg);
    assert_int_not_equal(st, SC_OK);
    assert_non_null(strstr(msg, a));
    assert_non_null(strstr(msg, b));
    if (c)
        assert_non_null(strstr(msg, c));
    assert_int_equal(sc_solver_iter(s), 0);
    sc_solver_destroy(s);
}

static void test_other_type_is_refused(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    char path[1024];
    snprintf(path, sizeof path, "%s", sc_test_tmp("solvers_sgd.solverstate"));
    save_state_of(ctx, k_cases[0].lines, path, 2);
    expect_refused(ctx, k_cases[5].lines, path, "saved by the SGD solver", "this solver is Adam",
                   NULL);
    expect_refused(ctx, k_cases[1].lines, path, "saved by the SGD solver",
                   "this solver is Nesterov", NULL);
    snprintf(path, sizeof path, "%s", sc_test_tmp("solvers_adadelta.solverstate"));
    save_state_of(ctx, k_cases[4].lines, path, 2);
    expect_refused(ctx, k_cases[5].lines, path, "saved by the AdaDelta solver",
                   "this solver is Adam", NULL);
    sc_ctx_destroy(ctx);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

/* Rewrites a version 3 SGD state as the version 1 format: no type,
 * histories and weights fields after the iteration, a new CRC. */
static void write_version1(const char *v2, const char *v1)
{
    size_t n;
    unsigned char *d = read_file(v2, &n);
    uint32_t version, type, histories;
    memcpy(&version, d + 8, 4);
    memcpy(&type, d + 20, 4);
    memcpy(&histories, d + 24, 4);
    assert_int_equal(version, 3);
    assert_int_equal(type, SC_SOLVER_SGD);
    assert_int_equal(histories, 1);
    version = 1;
    memcpy(d + 8, &version, 4);
    memmove(d + 20, d + 40, n - 40); /* type, histories, weights size and CRC */
    n -= 20;
    uint32_t crc = sc_crc32(0, d, n - 4);
    memcpy(d + n - 4, &crc, 4);
    FILE *f = fopen(v1, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
    free(d);
}

static void test_version1_state_loads(void **state)
{
    (void)state;
    sc_ctx *ctx = sc_test_ctx();
    char v2[1024], v1[1024];
    snprintf(v2, sizeof v2, "%s", sc_test_tmp("solvers_v2.solverstate"));
    snprintf(v1, sizeof v1, "%s", sc_test_tmp("solvers_v1.solverstate"));
    sc_solver_params p = load_params(k_cases[0].lines);
    sc_solver *s = make_solver(ctx, &p);
    feeder fd = {0};
    run_iterations(ctx, s, &fd, 2);
    sc_assert_ok(ctx, sc_solver_save_state(s, v2, NULL, NULL, 0));
    static float saved[MAX_FLOATS], loaded[MAX_FLOATS];
    size_t n = snapshot_values(ctx, s, saved);
    sc_solver_destroy(s);
    write_version1(v2, v1);

    s = make_solver(ctx, &p);
    sc_net *net = sc_solver_net(s);
    sc_assert_ok(ctx, sc_solver_load_state(s, v1, NULL, NULL, NULL));
    assert_int_equal(sc_solver_iter(s), 2);
    snapshot_values(ctx, s, loaded);
    /* weights are not in the state: compare the histories */
    size_t off = 0;
    for (size_t k = 0; k < sc_net_param_count(net); k++) {
        sc_param_info pi;
        sc_assert_ok(ctx, sc_net_param(net, k, &pi));
        assert_memory_equal(saved + off + pi.count, loaded + off + pi.count,
                            pi.count * sizeof(float));
        off += 2 * pi.count;
    }
    assert_int_equal(off, n);
    sc_solver_destroy(s);
    expect_refused(ctx, k_cases[5].lines, v1, "saved by the SGD solver (a version 1 state)",
                   "this solver is Adam", "resume with type \"SGD\"");
    sc_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_updates_match_reference),
        cmocka_unit_test(test_resume_is_exact),
        cmocka_unit_test(test_solver_type_enum_runs_adam),
        cmocka_unit_test(test_other_type_is_refused),
        cmocka_unit_test(test_version1_state_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
