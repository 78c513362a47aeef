/* gtext reader: an A-Softmax case in detail, every golden file of
 * ../shared/golden (cross-checked value by value against a line-based reading
 * in this test), and malformed input with file:line messages. */
#include "sc_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_common.h"

static void test_case00(void **state)
{
    (void)state;
    const char *path = sc_test_shared("golden/asoftmax/case00_m1_4x8x5_first.txt");
    sc_gtext g;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_gtext_load(path, &g, &err));
    double v;
    sc_assert_ok_err(&err, sc_gtext_scalar(&g, "M", &v, &err));
    assert_true(v == 4);
    sc_assert_ok_err(&err, sc_gtext_scalar(&g, "K", &v, &err));
    assert_true(v == 8);
    sc_assert_ok_err(&err, sc_gtext_scalar(&g, "N", &v, &err));
    assert_true(v == 5);
    sc_assert_ok_err(&err, sc_gtext_scalar(&g, "lambda", &v, &err));
    assert_true(v == 892.85714285714278); /* f64: strtod, exact */

    const sc_gtext_rec *x = sc_gtext_find(&g, "x");
    assert_non_null(x);
    assert_int_equal(x->dtype, SC_GTEXT_F32);
    assert_true(x->is_tensor);
    assert_int_equal(x->ndim, 2);
    assert_int_equal(x->dims[0], 4);
    assert_int_equal(x->dims[1], 8);
    assert_int_equal(x->count, 32);
    assert_int_equal(x->line, 16);
    /* f32 values are the float32 the reference used, not the nearest double. */
    assert_true(x->v[0] == (double)-0.163949f);
    assert_true(x->v[0] != -0.163949);
    assert_true(x->v[15] == (double)13.0197f);
    assert_true(x->v[31] == (double)-0.496897f);

    const sc_gtext_rec *label = sc_gtext_find(&g, "label");
    assert_non_null(label);
    assert_int_equal(label->dtype, SC_GTEXT_I32);
    assert_non_null(label->iv);
    assert_int_equal(label->iv[0], 3);
    assert_int_equal(label->iv[3], 1);
    assert_true(label->v[2] == 1.0);

    const sc_gtext_rec *m = sc_gtext_find(&g, "m");
    assert_non_null(m);
    assert_false(m->is_tensor);
    assert_int_equal(m->ndim, 0);
    assert_int_equal(m->count, 1);
    assert_null(sc_gtext_find(&g, "no_such_record"));

    float top[20];
    sc_assert_ok_err(&err, sc_gtext_copy_f32(&g, "top_diff", top, 20, &err));
    assert_true(top[0] == 0.369518f);
    assert_int_equal(sc_gtext_copy_f32(&g, "top_diff", top, 19, &err), SC_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "top_diff"));
    const sc_gtext_rec *r;
    assert_int_equal(sc_gtext_get(&g, "nope", &r, &err), SC_ERR_PARSE);
    assert_non_null(strstr(err.msg, "nope"));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(sc_gtext_scalar(&g, "x", &v, &err), SC_ERR_SHAPE);
    sc_gtext_free(&g);
    sc_gtext_free(&g); /* freeing twice is harmless */
}

/* An independent line-based reading of one record's values (the files put
 * each innermost row on its own line), compared value by value with r. */
static void check_values(FILE *f, const char *path, const sc_gtext_rec *r)
{
    char line[1 << 16];
    size_t i = 0;
    while (i < r->count) {
        if (!fgets(line, sizeof line, f))
            fail_msg("%s: end of file inside %s", path, r->name);
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n"), i++) {
            double want = strtod(tok, NULL);
            if (r->dtype == SC_GTEXT_F32)
                want = (double)(float)want;
            if (i >= r->count || r->v[i] != want)
                fail_msg("%s: %s[%zu] is %.17g, the file says %s", path, r->name, i,
                         i < r->count ? r->v[i] : 0.0, tok);
        }
    }
}

/* Every record header line of the file is found in g with its shape and values. */
static void cross_check(const char *path)
{
    sc_gtext g;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_gtext_load(path, &g, &err));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    size_t records = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16], name[256], dtype[8], value[64];
        int ndim = 0, off = 0;
        if (sscanf(line, "%15s %255s %7s %n", kind, name, dtype, &off) != 3 || kind[0] == '#')
            continue;
        const sc_gtext_rec *r = sc_gtext_find(&g, name);
        if (!r)
            fail_msg("%s: record %s missing", path, name);
        records++;
        assert_string_equal(sc_gtext_dtype_name(r->dtype), dtype);
        if (strcmp(kind, "scalar") == 0) {
            assert_int_equal(sscanf(line + off, "%63s", value), 1);
            double want = strtod(value, NULL);
            assert_true(r->v[0] == (r->dtype == SC_GTEXT_F32 ? (double)(float)want : want));
            continue;
        }
        const char *p = line + off;
        assert_int_equal(sscanf(p, "%d%n", &ndim, &off), 1);
        assert_int_equal(r->ndim, ndim);
        for (int d = 0; d < ndim; d++) {
            long long dim;
            p += off;
            assert_int_equal(sscanf(p, "%lld%n", &dim, &off), 1);
            assert_int_equal(r->dims[d], dim);
        }
        check_values(f, path, r);
    }
    fclose(f);
    assert_int_equal(records, g.count);
    assert_true(g.count > 0);
    sc_gtext_free(&g);
}

/* Cross-checks every file of dir whose name starts with prefix and ends in
 * .txt, except the case table cases.txt (not gtext; see below). */
static int check_dir(const char *rel, const char *prefix)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sc_test_shared(rel));
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 4 ||
            strcmp(e->d_name + len - 4, ".txt") != 0 || strcmp(e->d_name, "cases.txt") == 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cross_check(path);
        n++;
    }
    closedir(d);
    return n;
}

static void test_all_golden_files(void **state)
{
    (void)state;
    assert_int_equal(check_dir("golden/asoftmax", "case"), 29);
    assert_int_equal(check_dir("golden/train_tiny", ""), 4);
}

/* cases.txt is a table, not gtext: a clean error on its first data line. */
static void test_cases_table_is_not_gtext(void **state)
{
    (void)state;
    const char *path = sc_test_shared("golden/asoftmax/cases.txt");
    sc_gtext g;
    sc_error err = {0};
    assert_int_equal(sc_gtext_load(path, &g, &err), SC_ERR_PARSE);
    char where[4200];
    snprintf(where, sizeof where, "%s:2:", path);
    assert_non_null(strstr(err.msg, where));
    assert_int_equal(g.count, 0);
    assert_null(g.recs);
}

static void expect_parse_error(const char *text, const char *where, const char *fragment)
{
    sc_gtext g;
    sc_error err = {0};
    sc_status st = sc_gtext_parse(text, strlen(text), "mem.txt", &g, &err);
    if (st != SC_ERR_PARSE || !strstr(err.msg, where) || !strstr(err.msg, fragment))
        fail_msg("got %s '%s', expected SC_ERR_PARSE with '%s' and '%s' for:\n%s",
                 sc_status_name(st), err.msg, where, fragment, text);
    assert_int_equal(g.count, 0);
    assert_null(g.recs);
    assert_null(g.path);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_parse_error("scalar a f16 1\n", "mem.txt:1:", "dtype");
    expect_parse_error("# c\nscalar a i32 1\ntensor t f32 1 5\n1 2 3\n", "mem.txt:3:",
                       "only 3 of its 5");
    expect_parse_error("tensor t f32 2 2 2\n1 2\n3\ntensor u f32 1 1\n0\n", "mem.txt:1:",
                       "only 3 of its 4");
    expect_parse_error("scalar a f64 1.5\nscalar b f64 1.2.3\n", "mem.txt:2:", "'1.2.3'");
    expect_parse_error("tensor t f32 1 3\n1 2\nx\n", "mem.txt:3:", "bad f32 value 'x'");
    expect_parse_error("scalar a i32 1.5\n", "mem.txt:1:", "bad i32 value");
    expect_parse_error("scalar a i32 3000000000\n", "mem.txt:1:", "bad i32 value");
    expect_parse_error("scalar a f32 1e39\n", "mem.txt:1:", "bad f32 value");
    expect_parse_error("scalar a f64 1e999\n", "mem.txt:1:", "bad f64 value");
    expect_parse_error("\n\nvector a f32 1\n", "mem.txt:3:", "expected 'scalar' or 'tensor'");
    expect_parse_error("scalar a-b f32 1\n", "mem.txt:1:", "bad record name");
    expect_parse_error("scalar a f32 1\nscalar a f32 2\n", "mem.txt:2:", "duplicate");
    expect_parse_error("tensor t f32 0\n", "mem.txt:1:", "ndim");
    expect_parse_error("tensor t f32 9 1 1 1 1 1 1 1 1 1\n", "mem.txt:1:", "ndim");
    expect_parse_error("tensor t f32 2 3 -1\n", "mem.txt:1:", "dimension");
    expect_parse_error("tensor t f32 2 100000 100000\n1 2 3\n", "mem.txt:1:",
                       "more values than the file holds");
    expect_parse_error("scalar a f32", "mem.txt:1:", "end of file");
    expect_parse_error("scalar", "mem.txt:1:", "end of file");
}

static void test_edge_cases(void **state)
{
    (void)state;
    sc_gtext g;
    sc_error err = {0};
    /* Empty text, comments only, CRLF line ends, a trailing comment. */
    sc_assert_ok_err(&err, sc_gtext_parse("", 0, "empty", &g, &err));
    assert_int_equal(g.count, 0);
    sc_gtext_free(&g);
    const char *t = "# only\r\n#comments\r\nscalar a f32 0.1\r\ntensor b i32 1 2\r\n-7 8 # end\r\n";
    sc_assert_ok_err(&err, sc_gtext_parse(t, strlen(t), "crlf", &g, &err));
    assert_int_equal(g.count, 2);
    assert_true(sc_gtext_find(&g, "a")->v[0] == (double)0.1f);
    assert_int_equal(sc_gtext_find(&g, "b")->iv[0], -7);
    assert_int_equal(sc_gtext_find(&g, "b")->line, 4);
    sc_gtext_free(&g);
    /* Missing file: SC_ERR_IO naming it. */
    const char *missing = sc_test_tmp("no_such_golden.txt");
    remove(missing);
    assert_int_equal(sc_gtext_load(missing, &g, &err), SC_ERR_IO);
    assert_non_null(strstr(err.msg, missing));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case00),
        cmocka_unit_test(test_all_golden_files),
        cmocka_unit_test(test_cases_table_is_not_gtext),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
