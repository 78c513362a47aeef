/* 5-point landmark files: the LFW file of ../shared as it is, both field
 * separators, and every kind of bad line reported with file:line while the
 * good lines around it are kept. */
#include "sc_test.h"

#include <stdio.h>
#include <string.h>

#include "sc_common.h"

static void test_lfw_file(void **state)
{
    (void)state;
    sc_landmark_file lf;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_landmarks_load(sc_test_shared("data/lfw/lfw_landmark_150px.txt"),
                                             &lf, &err));
    printf("  %zu entries, %zu bad\n", lf.count, lf.bad);
    assert_int_equal(lf.count, 13233); /* two comment lines skipped */
    assert_int_equal(lf.bad, 0);
    /* The relpath includes the person folder, as under lfw-150px/. */
    assert_string_equal(lf.items[0].path, "Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    assert_int_equal(lf.items[0].line, 3);
    const double want[10] = {64.00, 64.00, 88.00, 66.40, 74.20, 85.60, 61.60, 94.00, 83.20, 96.40};
    for (int i = 0; i < 5; i++) {
        assert_true(lf.items[0].pt[i].x == want[2 * i]);
        assert_true(lf.items[0].pt[i].y == want[2 * i + 1]);
    }
    assert_string_equal(lf.items[lf.count - 1].path,
                        "Zydrunas_Ilgauskas/Zydrunas_Ilgauskas_0001.jpg");
    sc_landmarks_free(&lf);
    sc_landmarks_free(&lf);
}

static void test_separators(void **state)
{
    (void)state;
    const char *t = "  # comment\n"
                    "\n"
                    "a/one.jpg 1 2 30 4 5 60 7 8 90 10\r\n"
                    "John Doe/two photo.jpg\t1\t2 \t 30\t4\t5\t60\t7\t8\t90\t-1e1\n"
                    "   c/three.jpg   1  2 30 4 5 60 7 8 90 10   ";
    sc_landmark_file lf;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_landmarks_parse(t, strlen(t), "mem.txt", &lf, &err));
    assert_int_equal(lf.count, 3);
    assert_int_equal(lf.bad, 0);
    assert_string_equal(lf.items[0].path, "a/one.jpg");
    assert_int_equal(lf.items[0].line, 3);
    assert_true(lf.items[0].pt[4].y == 10);
    assert_string_equal(lf.items[1].path, "John Doe/two photo.jpg");
    assert_true(lf.items[1].pt[1].x == 30 && lf.items[1].pt[4].y == -10);
    assert_string_equal(lf.items[2].path, "c/three.jpg");
    assert_int_equal(lf.items[2].line, 5);
    sc_landmarks_free(&lf);
}

static void test_bad_lines(void **state)
{
    (void)state;
    const char *t = "ok.jpg 1 2 30 4 5 60 7 8 90 10\n"           /* 1 */
                    "few.jpg 1 2 30 4 5 60 7 8 90\n"             /* 2 */
                    "many.jpg 1 2 30 4 5 60 7 8 90 10 11\n"      /* 3 */
                    "word.jpg 1 2 30 4 5 60 7 8 90 1O\n"         /* 4 */
                    "inf.jpg 1 2 30 4 5 inf 7 8 90 10\n"         /* 5 */
                    "huge.jpg 1 2 30 4 5 1e999 7 8 90 10\n"      /* 6 */
                    "same.jpg 3 3 3 3 3 3 3 3 3 3.1\n"           /* 7 */
                    "/abs.jpg 1 2 30 4 5 60 7 8 90 10\n"         /* 8 */
                    "a/../../up.jpg 1 2 30 4 5 60 7 8 90 10\n"   /* 9 */
                    "ok.jpg 1 2 30 4 5 60 7 8 90 10\n"           /* 10 */
                    "same.jpg 1 2 30 4 5 60 7 8 90 10\n"         /* 11: the first good one */
                    "a/..b/fine.jpg 1 2 30 4 5 60 7 8 90 10\n";  /* 12 */
    sc_landmark_file lf;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_landmarks_parse(t, strlen(t), "lm.txt", &lf, &err));
    assert_int_equal(lf.count, 12);
    const char *want[12] = {NULL,
                            "lm.txt:2: 10 fields, expected 11",
                            "lm.txt:3: 12 fields, expected 11",
                            "lm.txt:4: field 11 ('1O') is not a number",
                            "lm.txt:5: field 7 ('inf') is not finite",
                            "lm.txt:6: field 7 ('1e999') is not finite",
                            "lm.txt:7: degenerate landmarks",
                            "lm.txt:8: path '/abs.jpg' is absolute",
                            "lm.txt:9: path 'a/../../up.jpg' climbs out",
                            "lm.txt:10: 'ok.jpg' again (first on line 1)",
                            NULL,
                            NULL};
    for (int i = 0; i < 12; i++) {
        const sc_landmark_entry *e = &lf.items[i];
        assert_int_equal(e->line, i + 1);
        if (!want[i]) {
            if (e->problem)
                fail_msg("line %d: unexpected problem %s", i + 1, e->problem);
            continue;
        }
        if (!e->problem || strncmp(e->problem, want[i], strlen(want[i])) != 0)
            fail_msg("line %d: '%s', want '%s...'", i + 1, e->problem ? e->problem : "(none)",
                     want[i]);
        assert_string_equal(e->path, "");
    }
    assert_int_equal(lf.bad, 9);
    assert_string_equal(lf.items[10].path, "same.jpg");
    sc_landmarks_free(&lf);
}

static void test_missing_file(void **state)
{
    (void)state;
    sc_landmark_file lf;
    sc_error err = {0};
    assert_int_equal(sc_landmarks_load("/no/such/lm.txt", &lf, &err), SC_ERR_IO);
    assert_non_null(strstr(err.msg, "/no/such/lm.txt"));
    assert_int_equal(lf.count, 0);
    sc_assert_ok_err(&err, sc_landmarks_parse("", 0, "empty.txt", &lf, &err));
    assert_int_equal(lf.count, 0);
    sc_landmarks_free(&lf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lfw_file),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
