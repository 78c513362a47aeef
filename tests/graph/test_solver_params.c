/* Solver prototxt fields: caffe.proto's defaults, every type selectable by
 * `type` or the deprecated `solver_type`, and errors that name the field, the
 * value, the valid range and FILE:LINE:COL for every bad value, unknown type
 * or solver-specific field the chosen type does not read. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sc_solver.h"
#include "sc_test.h"

#define FILE_NAME "solver_case.prototxt"

/* Writes `net: ...` on line 1 and body from line 2, then loads it. */
static sc_status load(const char *body, sc_solver_params *p, sc_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", sc_test_tmp(FILE_NAME));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "net: \"net.prototxt\"\n%s", body);
    fclose(f);
    memset(err, 0, sizeof *err);
    return sc_solver_params_load(path, p, err);
}

typedef struct bad_case {
    const char *body;
    const char *where;   /* "LINE:COL", or NULL: the field is not written */
    const char *want[3]; /* more substrings of the message (NULL-terminated) */
} bad_case;

static const bad_case k_bad[] = {
    /* ranges */
    {"base_lr: -0.5\n", "2:1", {"base_lr -0.5", "must be > 0 and finite"}},
    {"base_lr: nan\n", "2:1", {"base_lr nan", "> 0 and finite"}},
    {"base_lr: 1e39\n", "2:1", {"base_lr 1e39", "> 0 and finite"}},
    {"\n", NULL, {"base_lr is not given (default 0)", "> 0"}},
    {"base_lr: 0.1\nmax_iter: -1\n", "3:1", {"max_iter -1", ">= 0"}},
    {"base_lr: 0.1\nsnapshot: -2\n", "3:1", {"snapshot -2", ">= 0"}},
    {"base_lr: 0.1\ndisplay: -1\n", "3:1", {"display -1", ">= 0"}},
    {"base_lr: 0.1\niter_size: 0\n", "3:1", {"iter_size 0", ">= 1"}},
    {"base_lr: 0.1\naverage_loss: 0\n", "3:1", {"average_loss 0", ">= 1"}},
    {"base_lr: 0.1\nweight_decay: -0.001\n", "3:1", {"weight_decay -0.001", ">= 0"}},
    {"base_lr: 0.1\n  momentum: 1\n", "3:3", {"momentum 1 ", "in [0, 1)"}},
    {"base_lr: 0.1\nmomentum: -0.1\n", "3:1", {"momentum -0.1", "in [0, 1)"}},
    {"type: \"Adam\"\nbase_lr: 0.1\nmomentum2: 1.5\n", "4:1", {"momentum2 1.5", "in [0, 1)"}},
    {"type: \"RMSProp\"\nbase_lr: 0.1\nrms_decay: 1\n", "4:1", {"rms_decay 1", "in [0, 1)"}},
    {"type: \"AdaGrad\"\nbase_lr: 0.1\ndelta: 0\n", "4:1", {"delta 0", "> 0"}},
    {"type: \"AdaDelta\"\nbase_lr: 1\ndelta: -1e-6\n", "4:1", {"delta -1e-6", "> 0"}},
    /* lr policies */
    {"base_lr: 0.1\n  lr_policy: \"step\"\ngamma: 0.1\n", "3:3",
     {"stepsize is not given", "lr_policy 'step'", ">= 1"}},
    {"base_lr: 0.1\nlr_policy: \"step\"\ngamma: 0.1\nstepsize: 0\n", "5:1",
     {"stepsize 0", "lr_policy 'step'"}},
    {"base_lr: 0.1\nlr_policy: \"step\"\nstepsize: 10\n", "3:1",
     {"gamma is not given", "lr_policy 'step'", "> 0"}},
    {"base_lr: 0.1\nlr_policy: \"exp\"\ngamma: -0.9\n", "4:1", {"gamma -0.9", "'exp'"}},
    {"base_lr: 0.1\nlr_policy: \"inv\"\ngamma: 0.1\npower: -1\n", "5:1", {"power -1", "'inv'"}},
    {"base_lr: 0.1\nlr_policy: \"poly\"\npower: 1\n", "3:1",
     {"max_iter is not given", "lr_policy 'poly'"}},
    {"base_lr: 0.1\nlr_policy: \"sigmoid\"\ngamma: 0.1\n", "3:1",
     {"stepsize is not given", "'sigmoid'"}},
    {"base_lr: 0.1\nlr_policy: \"multistep\"\ngamma: 0.1\nstepvalue: 100\nstepvalue: 50\n", "6:1",
     {"stepvalue 50", "greater than the stepvalue before it"}},
    {"base_lr: 0.1\nlr_policy: \"cosine\"\n", "3:1", {"unknown lr_policy 'cosine'", "multistep"}},
    {"base_lr: 0.1\nregularization_type: \"L3\"\n", "3:1", {"regularization_type 'L3'", "L1 or L2"}},
    {"base_lr: 0.1\nclip_gradients: inf\n", "3:1", {"clip_gradients inf", "must be finite"}},
    /* types */
    {"base_lr: 0.1\ntype: \"Adamw\"\n", "3:1",
     {"unknown solver type 'Adamw'", "SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam"}},
    {"base_lr: 0.1\ntype: \"adam\"\n", "3:1", {"unknown solver type 'adam'"}},
    {"type: \"Adam\"\nsolver_type: ADAM\nbase_lr: 0.1\n", "3:1",
     {"solver_type and type (line 2) are both given"}},
    /* fields the chosen type does not read */
    {"base_lr: 0.1\nmomentum2: 0.99\n", "3:1", {"momentum2 is not used by the SGD solver"}},
    {"type: \"Adam\"\nbase_lr: 0.1\nrms_decay: 0.9\n", "4:1",
     {"rms_decay is not used by the Adam solver"}},
    {"type: \"AdaGrad\"\nbase_lr: 0.1\nmomentum: 0.9\n", "4:1",
     {"momentum is not used by the AdaGrad solver", "Caffe requires 0"}},
    {"type: \"RMSProp\"\nbase_lr: 0.1\nmomentum: 0.5\n", "4:1",
     {"momentum is not used by the RMSProp solver"}},
    {"solver_type: NESTEROV\nbase_lr: 0.1\ndelta: 1e-6\n", "4:1",
     {"delta is not used by the Nesterov solver"}},
    {"type: \"RMSProp\"\nbase_lr: 0.1\nmomentum2: 0.9\n", "4:1",
     {"momentum2 is not used by the RMSProp solver"}},
    {"type: \"AdaDelta\"\nbase_lr: 1\nrms_decay: 0.9\n", "4:1",
     {"rms_decay is not used by the AdaDelta solver"}},
};

static void test_bad_values_name_field_and_place(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof *k_bad; i++) {
        const bad_case *c = &k_bad[i];
        sc_solver_params p;
        sc_error err;
        sc_status st = load(c->body, &p, &err);
        printf("case %2zu: %s\n", i, err.msg);
        if (st == SC_OK)
            fail_msg("accepted:\n%s", c->body);
        char where[64];
        snprintf(where, sizeof where, FILE_NAME ":%s: ", c->where ? c->where : "");
        if (!c->where)
            snprintf(where, sizeof where, FILE_NAME ": ");
        if (!strstr(err.msg, where))
            fail_msg("'%s' not in: %s", where, err.msg);
        for (int k = 0; k < 3 && c->want[k]; k++)
            if (!strstr(err.msg, c->want[k]))
                fail_msg("'%s' not in: %s", c->want[k], err.msg);
    }
}

static void expect_near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("%.17g, expected %.17g", got, want);
}

static void test_defaults(void **state)
{
    (void)state;
    sc_solver_params p;
    sc_error err;
    sc_assert_ok_err(&err, load("base_lr: 0.1\n", &p, &err));
    assert_int_equal(p.type, SC_SOLVER_SGD);
    expect_near(p.momentum2, 0.999);
    expect_near(p.delta, 1e-8);
    expect_near(p.rms_decay, 0.99);
    assert_true(p.momentum == 0.0 && p.weight_decay == 0.0);
    assert_int_equal(p.iter_size, 1);
    assert_int_equal(p.average_loss, 1);
    assert_string_equal(p.lr_policy, "fixed");
    assert_false(p.regularization_l1);
    assert_true(p.clip_gradients < 0); /* off */
    sc_assert_ok_err(&err, load("base_lr: 0.1\nclip_gradients: 35\n", &p, &err));
    expect_near(p.clip_gradients, 35);
}

/* Solvers written like Caffe's own examples (the lenet and autoencoder solvers in examples/mnist). */
static void test_caffe_style_solvers(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        sc_solver_type type;
    } ok[] = {
        {"base_lr: 1.0\nlr_policy: \"fixed\"\nmomentum: 0.95\nweight_decay: 0.0005\n"
         "type: \"AdaDelta\"\ndelta: 1e-6\n", SC_SOLVER_ADADELTA},
        {"base_lr: 0.001\nmomentum: 0.9\nmomentum2: 0.999\nlr_policy: \"fixed\"\ntype: \"Adam\"\n",
         SC_SOLVER_ADAM},
        {"base_lr: 0.01\nmomentum: 0.0\nweight_decay: 0.0005\nlr_policy: \"inv\"\ngamma: 0.0001\n"
         "power: 0.75\ntype: \"RMSProp\"\nrms_decay: 0.98\n", SC_SOLVER_RMSPROP},
        {"base_lr: 0.01\nlr_policy: \"fixed\"\nweight_decay: 0.0005\ntype: \"AdaGrad\"\n",
         SC_SOLVER_ADAGRAD},
        {"base_lr: 0.01\nlr_policy: \"step\"\ngamma: 0.1\nstepsize: 10000\nweight_decay: 0.0005\n"
         "momentum: 0.95\ntype: \"Nesterov\"\n", SC_SOLVER_NESTEROV},
        {"solver_type: ADAGRAD\nbase_lr: 0.01\n", SC_SOLVER_ADAGRAD},
        {"solver_type: 3\nbase_lr: 0.01\nrms_decay: 0.9\n", SC_SOLVER_RMSPROP},
        {"solver_type: ADADELTA\nbase_lr: 1\nmomentum: 0.9\ndelta: 1e-7\n", SC_SOLVER_ADADELTA},
        {"solver_type: SGD\nbase_lr: 0.01\nmomentum: 0.9\n", SC_SOLVER_SGD},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        sc_solver_params p;
        sc_error err;
        sc_assert_ok_err(&err, load(ok[i].body, &p, &err));
        assert_int_equal(p.type, ok[i].type);
    }
    sc_solver_params p;
    sc_error err;
    sc_assert_ok_err(&err, load(ok[0].body, &p, &err));
    expect_near(p.momentum, 0.95);
    expect_near(p.delta, 1e-6);
    sc_assert_ok_err(&err, load(ok[2].body, &p, &err));
    expect_near(p.rms_decay, 0.98);
    sc_assert_ok_err(&err, load(ok[1].body, &p, &err));
    expect_near(p.momentum2, 0.999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_values_name_field_and_place),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_caffe_style_solvers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
