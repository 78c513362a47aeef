/* Caffe ImageData list files: ordinary lists, paths with spaces (split at the
 * last blank, as Caffe does), bad labels with file:line, empty files, joins. */
#include "sc_test.h"

#include <stdio.h>
#include <string.h>

#include "sc_common.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_normal_list(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("list_normal.txt"));
    write_text(path, "Aaron_Eckhart/Aaron_Eckhart_0001.jpg 0\n"
                     "\n"
                     "Abel_Pacheco/Abel_Pacheco_0001.jpg 1   \n"
                     "  Abel_Pacheco/Abel_Pacheco_0004.jpg\t1\r\n"
                     "Dean_Barker/Dean_Barker_0001.jpg 17");
    sc_image_list l;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_list_load(path, &l, &err));
    assert_int_equal(l.count, 4);
    assert_string_equal(l.items[0].path, "Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    assert_int_equal(l.items[0].label, 0);
    assert_int_equal(l.items[0].line, 1);
    assert_string_equal(l.items[1].path, "Abel_Pacheco/Abel_Pacheco_0001.jpg");
    assert_int_equal(l.items[1].line, 3);
    assert_string_equal(l.items[2].path, "Abel_Pacheco/Abel_Pacheco_0004.jpg");
    assert_int_equal(l.items[2].label, 1);
    assert_string_equal(l.items[3].path, "Dean_Barker/Dean_Barker_0001.jpg");
    assert_int_equal(l.items[3].label, 17);

    /* The joined paths open: the list really points at the aligned LFW crops. */
    char root[4096], full[4096];
    snprintf(root, sizeof root, "%s", sc_test_shared("data/lfw/reference-aligned-112x96"));
    for (size_t i = 1; i < l.count; i++) {
        sc_assert_ok_err(&err, sc_path_join(root, l.items[i].path, full, sizeof full, &err));
        sc_image img;
        sc_assert_ok_err(&err, sc_image_load(full, 3, &img, &err));
        assert_int_equal(img.w, 96);
        sc_image_free(&img);
    }
    sc_image_list_free(&l);
    sc_image_list_free(&l);
}

static void test_spaces_in_paths(void **state)
{
    (void)state;
    const char *t = "John Doe/holiday photo 1.jpg 3\n"
                    "a b c 7  \n"
                    "dir/name with  two  spaces.png -2\n";
    sc_image_list l;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_list_parse(t, strlen(t), "mem", &l, &err));
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0].path, "John Doe/holiday photo 1.jpg");
    assert_int_equal(l.items[0].label, 3);
    assert_string_equal(l.items[1].path, "a b c");
    assert_int_equal(l.items[1].label, 7);
    assert_string_equal(l.items[2].path, "dir/name with  two  spaces.png");
    assert_int_equal(l.items[2].label, -2);
    sc_image_list_free(&l);
}

static void expect_parse_error(const char *text, const char *where, const char *fragment)
{
    sc_image_list l;
    sc_error err = {0};
    sc_status st = sc_image_list_parse(text, strlen(text), "list.txt", &l, &err);
    if (st != SC_ERR_PARSE || !strstr(err.msg, where) || !strstr(err.msg, fragment))
        fail_msg("got %s '%s', expected SC_ERR_PARSE with '%s' and '%s'", sc_status_name(st),
                 err.msg, where, fragment);
    assert_int_equal(l.count, 0);
    assert_null(l.items);
}

static void test_missing_label(void **state)
{
    (void)state;
    expect_parse_error("a.jpg 1\nb.jpg\n", "list.txt:2:", "expected '<path> <label>'");
    expect_parse_error("a.jpg 1\n\n\nb c.jpg x\n", "list.txt:4:", "label 'x' is not an integer");
    expect_parse_error("a.jpg 1.5\n", "list.txt:1:", "not an integer");
    expect_parse_error("a.jpg 99999999999\n", "list.txt:1:", "not an integer");
    expect_parse_error("a.jpg 1\nb.jpg 2x\n", "list.txt:2:", "'2x'");
    /* From a file: the message names the file. */
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("list_bad.txt"));
    write_text(path, "x.jpg 0\ny.jpg\n");
    sc_image_list l;
    sc_error err = {0};
    assert_int_equal(sc_image_list_load(path, &l, &err), SC_ERR_PARSE);
    char where[4200];
    snprintf(where, sizeof where, "%s:2:", path);
    assert_non_null(strstr(err.msg, where));
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s", sc_test_tmp("list_empty.txt"));
    write_text(path, "");
    sc_image_list l;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_image_list_load(path, &l, &err));
    assert_int_equal(l.count, 0);
    sc_image_list_free(&l);
    sc_assert_ok_err(&err, sc_image_list_parse("\n  \n\t\r\n", 6, "blank", &l, &err));
    assert_int_equal(l.count, 0);
    sc_image_list_free(&l);

    snprintf(path, sizeof path, "%s", sc_test_tmp("no_such_list.txt"));
    remove(path);
    assert_int_equal(sc_image_list_load(path, &l, &err), SC_ERR_IO);
    assert_non_null(strstr(err.msg, path));
}

static void test_path_join(void **state)
{
    (void)state;
    char out[32];
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_path_join("root", "a/b.jpg", out, sizeof out, &err));
    assert_string_equal(out, "root/a/b.jpg");
    sc_assert_ok_err(&err, sc_path_join("root/", "a.jpg", out, sizeof out, &err));
    assert_string_equal(out, "root/a.jpg");
    sc_assert_ok_err(&err, sc_path_join("", "a.jpg", out, sizeof out, &err));
    assert_string_equal(out, "a.jpg");
    sc_assert_ok_err(&err, sc_path_join(NULL, "a.jpg", out, sizeof out, &err));
    assert_string_equal(out, "a.jpg");
    /* Exactly full (31 chars + NUL) fits; one more does not. */
    sc_assert_ok_err(&err, sc_path_join("0123456789", "0123456789012345678x", out, sizeof out,
                                        &err));
    assert_int_equal(strlen(out), 31);
    assert_int_equal(sc_path_join("0123456789", "0123456789012345678xy", out, sizeof out, &err),
                     SC_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_list),
        cmocka_unit_test(test_spaces_in_paths),
        cmocka_unit_test(test_missing_label),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_path_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
