/* prototxt parser and Caffe schema: every prototxt in ../shared parses and
 * validates, the value forms of protobuf text format, the typed getters, the
 * schema tables, malformed inputs with their file:line:col messages, and the
 * fuzzer's regression inputs. */
#include "sc_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caffe_schema.h"
#include "prototxt.h"

/* ------------------------------------------------------------ helpers */

static sc_pt_node *parse(const char *text)
{
    sc_error err = {0};
    sc_pt_node *root = NULL;
    sc_assert_ok_err(&err, sc_prototxt_parse_text(text, strlen(text), "t.prototxt", &root, &err));
    assert_non_null(root);
    return root;
}

static sc_pt_node *parse_valid(const char *text, const char *type)
{
    sc_error err = {0};
    sc_pt_node *root = parse(text);
    sc_status st = sc_schema_validate(root, type, &err);
    if (st != SC_OK) {
        sc_pt_free(root);
        fail_msg("validate -> %s: %s", sc_status_name(st), err.msg);
    }
    return root;
}

static void assert_contains(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *type_for(const char *path)
{
    const char *base = strrchr(path, '/');
    return strstr(base ? base : path, "solver") ? "SolverParameter" : "NetParameter";
}

/* Parses and validates every *.prototxt under dir, recursively; returns the count. */
static int check_tree(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open directory %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            n += check_tree(path);
            continue;
        }
        if (!ends_with(e->d_name, ".prototxt"))
            continue;
        sc_error err = {0};
        sc_pt_node *root = NULL;
        sc_assert_ok_err(&err, sc_prototxt_parse_file(path, &root, &err));
        sc_status vs = sc_schema_validate(root, type_for(path), &err);
        sc_pt_free(root);
        if (vs != SC_OK)
            fail_msg("%s does not validate as %s: %s", path, type_for(path), err.msg);
        n++;
    }
    closedir(d);
    return n;
}

static const sc_pt_node *layer_named(const sc_pt_node *net, const char *name)
{
    for (size_t i = 0; i < sc_pt_count(net, "layer"); i++) {
        const sc_pt_node *l = sc_pt_find(net, "layer", i);
        const char *n = NULL;
        if (sc_pt_get_string(l, "name", "", &n, NULL) == SC_OK && strcmp(n, name) == 0)
            return l;
    }
    fail_msg("layer %s not found", name);
    return NULL;
}

static sc_pt_node *load_valid(const char *rel)
{
    sc_error err = {0};
    sc_pt_node *root = NULL;
    const char *path = sc_test_shared(rel);
    sc_assert_ok_err(&err, sc_prototxt_parse_file(path, &root, &err));
    sc_assert_ok_err(&err, sc_schema_validate(root, type_for(path), &err));
    return root;
}

/* ------------------------------------------------------------ real files */

static void test_all_shared_prototxts(void **state)
{
    (void)state;
    int n = check_tree(sc_test_shared("models"));
    n += check_tree(sc_test_shared("golden/train_tiny"));
    /* 46 upstream SphereFace files, 3 MTCNN, 1 MobileFaceNet, 3 train_tiny */
    assert_true(n >= 50);
}

static void test_sphereface_contents(void **state)
{
    (void)state;
    sc_error err = {0};
    sc_pt_node *net = load_valid("models/sphereface-upstream/wy1iu-sphereface/sphereface_model.prototxt");
    const sc_pt_node *fc6 = layer_named(net, "fc6");
    const char *s;
    sc_assert_ok_err(&err, sc_pt_get_string(fc6, "type", NULL, &s, &err));
    assert_string_equal(s, "MarginInnerProduct");
    const sc_pt_node *m = sc_pt_find(fc6, "margin_inner_product_param", 0);
    assert_non_null(m);
    long long num_output, iteration;
    double base, gamma, power, lambda_min;
    sc_assert_ok_err(&err, sc_pt_get_enum(m, "type", "SINGLE", &s, &err));
    assert_string_equal(s, "QUADRUPLE");
    sc_assert_ok_err(&err, sc_pt_get_int(m, "num_output", 0, &num_output, &err));
    sc_assert_ok_err(&err, sc_pt_get_int(m, "iteration", -1, &iteration, &err));
    sc_assert_ok_err(&err, sc_pt_get_float(m, "base", 0, &base, &err));
    sc_assert_ok_err(&err, sc_pt_get_float(m, "gamma", 0, &gamma, &err));
    sc_assert_ok_err(&err, sc_pt_get_float(m, "power", 0, &power, &err));
    sc_assert_ok_err(&err, sc_pt_get_float(m, "lambda_min", 0, &lambda_min, &err));
    assert_int_equal(num_output, 10572);
    assert_int_equal(iteration, 0);
    assert_true(base == 1000 && fabs(gamma - 0.12) < 1e-12 && power == 1 && lambda_min == 5);
    /* `operation: 1` in the file reads as its name once validated */
    const sc_pt_node *res = layer_named(net, "res1_3");
    sc_assert_ok_err(&err, sc_pt_get_enum(sc_pt_find(res, "eltwise_param", 0), "operation", "", &s, &err));
    assert_string_equal(s, "SUM");
    sc_pt_free(net);
}

static void test_solver_and_inputs(void **state)
{
    (void)state;
    sc_error err = {0};
    sc_pt_node *sol = load_valid("models/sphereface-upstream/wy1iu-sphereface/sphereface_solver.prototxt");
    static const long long steps[] = {16000, 24000, 28000};
    assert_int_equal(sc_pt_count(sol, "stepvalue"), 3);
    for (size_t i = 0; i < 3; i++) {
        long long v;
        sc_assert_ok_err(&err, sc_pt_int_at(sc_pt_find(sol, "stepvalue", i), &v, &err));
        assert_int_equal(v, steps[i]);
    }
    const char *mode;
    sc_assert_ok_err(&err, sc_pt_get_enum(sol, "solver_mode", "GPU", &mode, &err));
    assert_string_equal(mode, "GPU");
    sc_pt_free(sol);

    sc_pt_node *pnet = load_valid("models/mtcnn/det1.prototxt");
    static const long long dims[] = {1, 3, 12, 12};
    assert_int_equal(sc_pt_count(pnet, "input_dim"), 4);
    for (size_t i = 0; i < 4; i++) {
        long long v;
        sc_assert_ok_err(&err, sc_pt_int_at(sc_pt_find(pnet, "input_dim", i), &v, &err));
        assert_int_equal(v, dims[i]);
    }
    sc_pt_free(pnet);

    sc_pt_node *tiny = load_valid("golden/train_tiny/train.prototxt");
    const sc_pt_node *shape = sc_pt_find(sc_pt_find(layer_named(tiny, "data"), "input_param", 0), "shape", 0);
    assert_int_equal(sc_pt_count(shape, "dim"), 4);
    assert_int_equal(sc_pt_find(shape, "dim", 0)->line, 6);
    sc_pt_free(tiny);
}

/* ------------------------------------------------------------ value forms */

static void test_strings(void **state)
{
    (void)state;
    sc_pt_node *r = parse("a: 'it\\'s' \"x\\\"y\"\n"
                          "b: \"\\n\\t\\r\\a\\b\\f\\v\\\\\\?\"\n"
                          "c: \"\\101\\x42\\x4a\\7\" # octal and hex\n"
                          "d: \"p\\0q\"\n"
                          "e: \"\\u00e9\\U0001F600\\ud83d\\ude00\"\n"
                          "f: '' \"\" 'z'\n");
    const char *s;
    assert_int_equal(sc_pt_get_string(r, "a", NULL, &s, NULL), SC_OK);
    assert_string_equal(s, "it'sx\"y");
    assert_int_equal(sc_pt_get_string(r, "b", NULL, &s, NULL), SC_OK);
    assert_string_equal(s, "\n\t\r\a\b\f\v\\?");
    assert_int_equal(sc_pt_get_string(r, "c", NULL, &s, NULL), SC_OK);
    assert_string_equal(s, "ABJ\a");
    const sc_pt_node *d = sc_pt_find(r, "d", 0);
    assert_int_equal(d->text_len, 3);
    assert_memory_equal(d->text, "p\0q", 3);
    assert_int_equal(sc_pt_get_string(r, "e", NULL, &s, NULL), SC_OK);
    assert_string_equal(s, "\xc3\xa9\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
    assert_int_equal(sc_pt_get_string(r, "f", NULL, &s, NULL), SC_OK);
    assert_string_equal(s, "z");
    sc_pt_free(r);
}

static void test_numbers(void **state)
{
    (void)state;
    sc_pt_node *r = parse("i: 42 i: -7 i: 0x1F i: 017 i: 0 i: -9223372036854775808\n"
                          "f: .5 f: 5. f: 1e-5 f: 1.0f f: 2F f: -2.5E+3 f: inf f: -inf f: nan f: -Infinity f: 0x10\n");
    static const long long ints[] = {42, -7, 31, 15, 0, -9223372036854775807LL - 1};
    assert_int_equal(sc_pt_count(r, "i"), 6);
    for (size_t k = 0; k < 6; k++) {
        long long v;
        assert_int_equal(sc_pt_int_at(sc_pt_find(r, "i", k), &v, NULL), SC_OK);
        assert_true(v == ints[k]);
        assert_true(sc_pt_is_integer(sc_pt_find(r, "i", k)));
    }
    static const double floats[] = {0.5, 5.0, 1e-5, 1.0, 2.0, -2500.0};
    for (size_t k = 0; k < 6; k++) {
        double v;
        assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", k), &v, NULL), SC_OK);
        assert_true(v == floats[k]);
        assert_false(sc_pt_is_integer(sc_pt_find(r, "f", k)));
    }
    double v;
    assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", 6), &v, NULL), SC_OK);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", 7), &v, NULL), SC_OK);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", 8), &v, NULL), SC_OK);
    assert_true(isnan(v));
    assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", 9), &v, NULL), SC_OK);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(sc_pt_float_at(sc_pt_find(r, "f", 10), &v, NULL), SC_OK);
    assert_true(v == 16.0);
    unsigned long long u;
    assert_int_equal(sc_pt_uint_at(sc_pt_find(r, "i", 0), &u, NULL), SC_OK);
    assert_true(u == 42);
    assert_int_equal(sc_pt_uint_at(sc_pt_find(r, "i", 1), &u, NULL), SC_ERR_PARSE);
    sc_pt_free(r);
}

static void test_structure_forms(void **state)
{
    (void)state;
    /* `name: {`, `< >`, list forms, separators, comments and CRLF line ends */
    sc_pt_node *r = parse_valid("# leading comment\r\n"
                                "name: \"n\";\r\n"
                                "input_dim: [1, 3, 112, 96],\n"
                                "layer: { name: 'a'; type: \"Input\", input_param { shape { dim: [2, 3] } } }\n"
                                "layer < name: \"b\" top: [\"x\", \"y\"] param [{lr_mult: 1}, {lr_mult: 2}] >\n"
                                "layer { name: \"c\" input_param { shape: [{dim: 1}, <dim: 2>] } } # trailing\n"
                                "layer {}\n"
                                "layers { type: CONVOLUTION name: \"v1\" blobs_lr: 1 blobs_lr: 2 }\n"
                                "state { phase: TRAIN stage: [] }\n",
                                "NetParameter");
    assert_int_equal(sc_pt_count(r, "input_dim"), 4);
    const sc_pt_node *dim3 = sc_pt_find(r, "input_dim", 3);
    assert_int_equal(dim3->line, 3);
    assert_int_equal(dim3->col, 24);
    assert_true(dim3->in_list);
    assert_int_equal(sc_pt_count(r, "layer"), 4);
    const sc_pt_node *b = sc_pt_find(r, "layer", 1);
    assert_int_equal(b->line, 5);
    assert_int_equal(b->col, 1);
    assert_int_equal(sc_pt_count(b, "top"), 2);
    assert_int_equal(sc_pt_count(b, "param"), 2);
    double lr;
    assert_int_equal(sc_pt_get_float(sc_pt_find(b, "param", 1), "lr_mult", 1, &lr, NULL), SC_OK);
    assert_true(lr == 2.0);
    const sc_pt_node *c = sc_pt_find(r, "layer", 2);
    assert_int_equal(sc_pt_count(sc_pt_find(c, "input_param", 0), "shape"), 2);
    assert_int_equal(sc_pt_find(r, "layer", 3)->n_children, 0);
    const char *t;
    assert_int_equal(sc_pt_get_enum(sc_pt_find(r, "layers", 0), "type", NULL, &t, NULL), SC_OK);
    assert_string_equal(t, "CONVOLUTION");
    assert_string_equal(r->file, "t.prototxt");
    assert_string_equal(b->file, "t.prototxt");
    sc_pt_free(r);
    /* empty input and only comments are an empty message */
    r = parse("");
    assert_int_equal(r->n_children, 0);
    sc_pt_free(r);
    r = parse("# nothing\n\n   # at all");
    assert_int_equal(r->n_children, 0);
    sc_pt_free(r);
}

static void test_legacy_layers(void **state)
{
    (void)state;
    /* V1 `layers` (enum types, blobs_lr) and a V0 `layer` inside one, as old
     * Caffe model zoo files have them */
    sc_pt_node *r = parse_valid("name: \"LeNet\"\n"
                                "input: \"data\" input_dim: 64 input_dim: 1 input_dim: 28 input_dim: 28\n"
                                "layers {\n"
                                "  name: \"conv1\" type: CONVOLUTION bottom: \"data\" top: \"conv1\"\n"
                                "  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0\n"
                                "  convolution_param { num_output: 20 kernel_size: 5 stride: 1\n"
                                "    weight_filler { type: \"xavier\" } bias_filler { type: \"constant\" } }\n"
                                "}\n"
                                "layers { name: \"pool1\" type: POOLING bottom: \"conv1\" top: \"pool1\"\n"
                                "  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n"
                                "layers { name: \"loss\" type: SOFTMAX_LOSS bottom: \"ip2\" bottom: \"label\"\n"
                                "  include { phase: TRAIN } }\n"
                                "layers { layer { name: \"old\" type: \"conv\" num_output: 96 kernelsize: 11 }\n"
                                "  bottom: \"data\" top: \"old\" }\n",
                                "NetParameter");
    assert_int_equal(sc_pt_count(r, "layers"), 4);
    const char *t;
    assert_int_equal(sc_pt_get_enum(sc_pt_find(r, "layers", 2), "type", NULL, &t, NULL), SC_OK);
    assert_string_equal(t, "SOFTMAX_LOSS");
    sc_pt_free(r);
    /* V2 type names are not V1 enum values */
    sc_error err = {0};
    r = parse("layers { type: PRELU }");
    assert_int_equal(sc_schema_validate(r, "NetParameter", &err), SC_ERR_PARSE);
    assert_contains(err.msg, "t.prototxt:1:10: bad value 'PRELU' for V1LayerParameter.type, expected one of NONE,");
    sc_pt_free(r);
}

/* ------------------------------------------------------------ getters */

static void test_getters(void **state)
{
    (void)state;
    sc_error err = {0};
    sc_pt_node *r = parse("n: 3\nf: 2.5\nb: true\nb2: 0\nb3: f\ns: \"str\"\ne: MAX\nm { x: 1 }\nn2: 1 n2: 2\n"
                          "big: 9223372036854775808\n");
    long long i;
    double d;
    int bo;
    const char *s;
    /* missing fields give the default */
    assert_int_equal(sc_pt_get_int(r, "missing", 77, &i, &err), SC_OK);
    assert_int_equal(i, 77);
    assert_int_equal(sc_pt_get_float(r, "missing", 1.5, &d, &err), SC_OK);
    assert_true(d == 1.5);
    assert_int_equal(sc_pt_get_bool(r, "missing", 1, &bo, &err), SC_OK);
    assert_int_equal(bo, 1);
    assert_int_equal(sc_pt_get_string(r, "missing", "dflt", &s, &err), SC_OK);
    assert_string_equal(s, "dflt");
    assert_int_equal(sc_pt_get_enum(r, "missing", "AVE", &s, &err), SC_OK);
    assert_string_equal(s, "AVE");
    /* present fields */
    assert_int_equal(sc_pt_get_int(r, "n", 0, &i, &err), SC_OK);
    assert_int_equal(i, 3);
    assert_int_equal(sc_pt_get_float(r, "n", 0, &d, &err), SC_OK); /* ints are numbers too */
    assert_true(d == 3.0);
    assert_int_equal(sc_pt_get_bool(r, "b", 0, &bo, &err), SC_OK);
    assert_int_equal(bo, 1);
    assert_int_equal(sc_pt_get_bool(r, "b2", 1, &bo, &err), SC_OK);
    assert_int_equal(bo, 0);
    assert_int_equal(sc_pt_get_bool(r, "b3", 1, &bo, &err), SC_OK);
    assert_int_equal(bo, 0);
    assert_int_equal(sc_pt_get_enum(r, "e", NULL, &s, &err), SC_OK);
    assert_string_equal(s, "MAX");
    assert_int_equal(sc_pt_get_int(r, "n2", 0, &i, &err), SC_OK); /* last one wins */
    assert_int_equal(i, 2);
    /* wrong kinds name the position and the field */
    assert_int_equal(sc_pt_get_int(r, "f", 0, &i, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "t.prototxt:2:1: number '2.5' for 'f', expected an integer");
    assert_int_equal(sc_pt_get_int(r, "s", 0, &i, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "t.prototxt:6:1: string \"str\" for 's'");
    assert_int_equal(sc_pt_get_string(r, "e", NULL, &s, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "7:1: identifier 'MAX' for 'e', expected a quoted string");
    assert_int_equal(sc_pt_get_enum(r, "s", NULL, &s, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "6:1:");
    assert_int_equal(sc_pt_get_bool(r, "n", 0, &bo, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "1:1: number '3' for 'n', expected true or false");
    assert_int_equal(sc_pt_get_float(r, "m", 0, &d, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "8:1: message block for 'm'");
    assert_int_equal(sc_pt_get_int(r, "big", 0, &i, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "10:1:");
    unsigned long long u;
    assert_int_equal(sc_pt_uint_at(sc_pt_find(r, "big", 0), &u, &err), SC_OK);
    assert_true(u == 9223372036854775808ULL);
    /* sc_pt_find / sc_pt_count edge cases */
    assert_null(sc_pt_find(r, "n2", 2));
    assert_int_equal(sc_pt_count(r, "n2"), 2);
    assert_int_equal(sc_pt_count(NULL, "n"), 0);
    assert_int_equal(sc_pt_count(sc_pt_find(r, "n", 0), "x"), 0);
    sc_pt_free(r);
}

/* ------------------------------------------------------------ schema tables */

static void test_schema_tables(void **state)
{
    (void)state;
    size_t n;
    const sc_schema_message *const *all = sc_schema_messages(&n);
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const sc_schema_message *m = all[i];
        assert_true(m->n_fields > 0 && m->n_fields <= 80);
        assert_ptr_equal(sc_schema_find(m->name), m);
        for (size_t j = 0; j < m->n_fields; j++) {
            const sc_schema_field *f = &m->fields[j];
            assert_ptr_equal(sc_schema_field_find(m, f->name), f); /* names unique */
            if (f->type == SC_SCHEMA_MESSAGE)
                assert_non_null(f->message);
            if (f->type == SC_SCHEMA_ENUM)
                assert_true(f->enum_type && f->enum_type->n_values > 0);
            const sc_schema_field *byn = sc_schema_field_by_number(m, f->number);
            if (byn != f) /* the one documented clash */
                assert_true(!strcmp(m->name, "LayerParameter") && f->number == 147 &&
                            !strcmp(byn->name, "margin_inner_product_param"));
        }
    }
    const sc_schema_message *net = sc_schema_find("NetParameter");
    assert_int_equal(sc_schema_field_find(net, "layer")->number, 100);
    assert_int_equal(sc_schema_field_find(net, "layers")->number, 2);
    const sc_schema_field *ks = sc_schema_field_find(sc_schema_find("ConvolutionParameter"), "kernel_size");
    assert_int_equal(ks->number, 4);
    assert_int_equal(ks->type, SC_SCHEMA_UINT32);
    assert_int_equal(ks->label, SC_SCHEMA_REPEATED);
    const sc_schema_field *dim = sc_schema_field_find(sc_schema_find("BlobShape"), "dim");
    assert_true(dim->type == SC_SCHEMA_INT64 && dim->packed);
    const sc_schema_field *v1type = sc_schema_field_find(sc_schema_find("V1LayerParameter"), "type");
    assert_int_equal(sc_schema_enum_find(v1type->enum_type, "CONVOLUTION")->number, 4);
    assert_int_equal(sc_schema_enum_find(v1type->enum_type, "SOFTMAX_LOSS")->number, 21);
    assert_null(sc_schema_enum_find(v1type->enum_type, "PRELU"));
    assert_string_equal(sc_schema_enum_by_number(v1type->enum_type, 14)->name, "INNER_PRODUCT");
    const sc_schema_message *mip = sc_schema_find("MarginInnerProductParameter");
    assert_int_equal(sc_schema_field_find(mip, "lambda_min")->number, 9);
    assert_int_equal(sc_schema_enum_find(sc_schema_field_find(mip, "type")->enum_type, "QUADRUPLE")->number, 3);
    assert_int_equal(sc_schema_field_find(sc_schema_find("SolverParameter"), "net")->number, 24);
    assert_null(sc_schema_find("NoSuchMessage"));
    assert_null(sc_schema_field_find(net, "nope"));
    sc_error err = {0};
    sc_pt_node *r = parse("");
    assert_int_equal(sc_schema_validate(r, "NoSuchMessage", &err), SC_ERR_ARG);
    sc_pt_free(r);
}

/* ------------------------------------------------------------ malformed inputs */

typedef struct bad_case {
    const char *text;
    const char *type;     /* validate as this after parsing; NULL: the parse must fail */
    const char *position; /* "t.prototxt:L:C:" */
    const char *word;     /* telling part of the message */
} bad_case;

static const bad_case bad_cases[] = {
    /* unbalanced braces */
    {"layer {\n  name: \"a\"\n", NULL, "t.prototxt:3:1:",
     "unexpected end of file, expected '}' to close 'layer' opened at 1:1"},
    {"name: \"a\"\n}\n", NULL, "t.prototxt:2:1:", "unexpected '}', expected a field name (no block is open"},
    {"layer { name: \"a\" >", NULL, "t.prototxt:1:19:", "expected a field name or '}' to close 'layer'"},
    /* strings */
    {"name: \"abc", NULL, "t.prototxt:1:11:", "unexpected end of file in string opened at 1:7"},
    {"name: 'abc\n'", NULL, "t.prototxt:1:11:", "unexpected end of line in string"},
    {"name: \"a\\qb\"", NULL, "t.prototxt:1:9:", "bad escape '\\q' in string, expected one of"},
    {"name: \"a\\x\"", NULL, "t.prototxt:1:9:", "expected hex digits after \\x"},
    {"name: \"\\777\"", NULL, "t.prototxt:1:8:", "octal value above \\377"},
    {"name: \"\\ud800x\"", NULL, "t.prototxt:1:8:", "unpaired UTF-16 surrogate"},
    /* numbers and syntax */
    {"input_dim: 1e", NULL, "t.prototxt:1:12:", "malformed number '1e', expected digits in the exponent"},
    {"input_dim: 09", NULL, "t.prototxt:1:12:", "malformed number '09'"},
    {"input_dim: 12abc", NULL, "t.prototxt:1:12:", "malformed number '12a'"},
    {"input_dim: 0x", NULL, "t.prototxt:1:12:", "expected hex digits after 0x"},
    {"input_dim: - x", NULL, "t.prototxt:1:14:", "unexpected identifier 'x', expected a number after '-'"},
    {"name \"a\"", NULL, "t.prototxt:1:6:", "unexpected string \"a\", expected ':' or '{' after field name 'name'"},
    {"name: \"a\"\n  @", NULL, "t.prototxt:2:3:", "unexpected character '@', expected a field name"},
    {"name: \"a\"\n\x01", NULL, "t.prototxt:2:1:", "unexpected character '\\x01'"},
    {"input_dim: [1, 2", NULL, "t.prototxt:1:17:", "expected ',' or ']' to close the list of 'input_dim' opened at 1:12"},
    {"input_dim: [1,]", NULL, "t.prototxt:1:15:", "unexpected ']', expected a value for 'input_dim'"},
    {"layer [ name: \"a\" ]", NULL, "t.prototxt:1:9:", "expected '{' (a list without ':' holds messages only)"},
    {"name:", NULL, "t.prototxt:1:6:", "unexpected end of file, expected a value for 'name'"},
    {"12: 3", NULL, "t.prototxt:1:1:", "unexpected number '12', expected a field name"},
    /* schema */
    {"layer {\n  convolution_param { kernel_sise: 3 }\n}", "NetParameter", "t.prototxt:2:23:",
     "unknown field 'kernel_sise' in ConvolutionParameter, expected a field of ConvolutionParameter (did you mean "
     "'kernel_size'?)"},
    {"layer {\n pooling_param {\n  pool: AVERAGE\n }\n}", "NetParameter", "t.prototxt:3:3:",
     "bad value 'AVERAGE' for PoolingParameter.pool, expected one of MAX, AVE, STOCHASTIC"},
    {"layer { pooling_param { pool: \"MAX\" } }", "NetParameter", "t.prototxt:1:25:",
     "string \"MAX\" for PoolingParameter.pool, expected one of MAX, AVE, STOCHASTIC"},
    {"layer { eltwise_param { operation: 7 } }", "NetParameter", "t.prototxt:1:25:",
     "bad value number '7' for EltwiseParameter.operation, expected one of PROD, SUM, MAX"},
    {"layer { convolution_param { num_output: \"64\" } }", "NetParameter", "t.prototxt:1:29:",
     "string \"64\" for ConvolutionParameter.num_output, expected an integer (uint32)"},
    {"input_dim: 3.5", "NetParameter", "t.prototxt:1:1:",
     "number '3.5' for NetParameter.input_dim, expected an integer (int32)"},
    {"layer { convolution_param { num_output: -1 } }", "NetParameter", "t.prototxt:1:29:",
     "number '-1' for ConvolutionParameter.num_output is out of range, expected an integer in 0..4294967295"},
    {"input_dim: 2147483648", "NetParameter", "t.prototxt:1:1:", "is out of range"},
    {"layer { convolution_param { bias_term: yes } }", "NetParameter", "t.prototxt:1:29:",
     "identifier 'yes' for ConvolutionParameter.bias_term, expected true or false"},
    {"layer { type: Convolution }", "NetParameter", "t.prototxt:1:9:",
     "identifier 'Convolution' for LayerParameter.type, expected a quoted string"},
    {"name { x: 1 }", "NetParameter", "t.prototxt:1:1:",
     "message block for NetParameter.name (a scalar field), expected a quoted string"},
    {"layer: 5", "NetParameter", "t.prototxt:1:1:",
     "number '5' for NetParameter.layer, expected a '{ ... }' block (LayerParameter)"},
    {"name: \"a\"\nname: \"b\"", "NetParameter", "t.prototxt:2:1:",
     "second 'name' in NetParameter (first at 1:1), expected at most one: the field is not repeated"},
    {"name: [\"a\"]", "NetParameter", "t.prototxt:1:8:", "list '[...]' for NetParameter.name, expected a single value"},
    {"layer { clip_param { min: 0 } }", "NetParameter", "t.prototxt:1:9:",
     "'clip_param' block without 'max', expected the required field ClipParameter.max"},
    {"base_lr: \"0.1\"", "SolverParameter", "t.prototxt:1:1:",
     "string \"0.1\" for SolverParameter.base_lr, expected a number (float)"},
    {"solver_mode: TPU", "SolverParameter", "t.prototxt:1:1:",
     "bad value 'TPU' for SolverParameter.solver_mode, expected one of CPU, GPU"},
    {"net_param { layer { name: 1 } }", "SolverParameter", "t.prototxt:1:21:", "number '1' for LayerParameter.name"},
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        sc_error err = {0};
        sc_pt_node *root = NULL;
        sc_status st = sc_prototxt_parse_text(c->text, strlen(c->text), "t.prototxt", &root, &err);
        if (c->type) {
            if (st != SC_OK)
                fail_msg("case %zu should parse: %s", i, err.msg);
            st = sc_schema_validate(root, c->type, &err);
            sc_pt_free(root);
        } else {
            assert_null(root);
        }
        if (st != SC_ERR_PARSE)
            fail_msg("case %zu (%s): got %s, expected SC_ERR_PARSE", i, c->text, sc_status_name(st));
        if (strncmp(err.msg, c->position, strlen(c->position)) != 0)
            fail_msg("case %zu: message \"%s\" does not start with \"%s\"", i, err.msg, c->position);
        assert_contains(err.msg, c->word);
        assert_null(strchr(err.msg, '\n')); /* one line */
    }
}

static void test_too_deep(void **state)
{
    (void)state;
    char text[2048] = "";
    for (int i = 0; i < SC_PT_MAX_DEPTH; i++)
        strcat(text, "a { ");
    for (int i = 0; i < SC_PT_MAX_DEPTH; i++)
        strcat(text, "} ");
    sc_pt_node *r = parse(text); /* exactly the limit is fine */
    sc_pt_free(r);

    /* 100000 levels: rejected at level 65 without recursing further */
    size_t n = 100000;
    char *deep = malloc(4 * n + 1);
    assert_non_null(deep);
    for (size_t i = 0; i < n; i++)
        memcpy(deep + 4 * i, "a { ", 4);
    sc_error err = {0};
    r = NULL;
    assert_int_equal(sc_prototxt_parse_text(deep, 4 * n, "t.prototxt", &r, &err), SC_ERR_PARSE);
    assert_null(r);
    assert_contains(err.msg, "t.prototxt:1:257: message 'a' nested 65 levels deep, expected at most 64");
    assert_contains(err.msg, "too deep");
    free(deep);
}

static void test_io_errors(void **state)
{
    (void)state;
    sc_error err = {0};
    sc_pt_node *r = NULL;
    assert_int_equal(sc_prototxt_parse_file("/nonexistent/dir/net.prototxt", &r, &err), SC_ERR_IO);
    assert_null(r);
    assert_contains(err.msg, "/nonexistent/dir/net.prototxt");
    assert_int_equal(sc_prototxt_parse_file(sc_test_shared("models"), &r, &err), SC_ERR_IO); /* a directory */
    assert_null(r);
    /* a NUL byte inside the text is an error at its position, not an early end */
    assert_int_equal(sc_prototxt_parse_text("name: \"a\"\0x", 11, NULL, &r, &err), SC_ERR_PARSE);
    assert_contains(err.msg, "<text>:1:10: unexpected character '\\x00'");
    /* errors in a file name the file */
    const char *tmp = sc_test_tmp("bad_net.prototxt");
    FILE *f = fopen(tmp, "wb");
    assert_non_null(f);
    fputs("name: \"x\"\nlayer {\n", f);
    fclose(f);
    assert_int_equal(sc_prototxt_parse_file(tmp, &r, &err), SC_ERR_PARSE);
    char want[4200];
    snprintf(want, sizeof want, "%s:3:1: unexpected end of file, expected '}' to close 'layer' opened at 2:1", tmp);
    assert_string_equal(err.msg, want);
    remove(tmp);
}

/* ------------------------------------------------------------ fuzzer regressions */

static void test_crashers(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/prototxt_crashers", SPHERECL_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        for (int t = 0; t < 2; t++) {
            sc_error err = {0};
            sc_pt_node *root = NULL;
            sc_status st = sc_prototxt_parse_file(path, &root, &err);
            if (st == SC_OK)
                st = sc_schema_validate(root, t ? "SolverParameter" : "NetParameter", &err);
            sc_pt_free(root);
            assert_true(st == SC_OK || st == SC_ERR_PARSE);
            if (st != SC_OK)
                assert_true(strlen(err.msg) > 0);
        }
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_shared_prototxts),
        cmocka_unit_test(test_sphereface_contents),
        cmocka_unit_test(test_solver_and_inputs),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_structure_forms),
        cmocka_unit_test(test_legacy_layers),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_schema_tables),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_io_errors),
        cmocka_unit_test(test_crashers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
