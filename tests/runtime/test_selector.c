/* Device selector parsing: every valid form, and invalid forms whose error
 * names the valid ones. */
#include "sc_test.h"

#include <string.h>

static void test_valid_forms(void **state)
{
    (void)state;
    sc_selector s;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_selector_parse(NULL, &s, &err));
    assert_int_equal(s.kind, SC_SEL_DEFAULT);
    sc_assert_ok_err(&err, sc_selector_parse("", &s, &err));
    assert_int_equal(s.kind, SC_SEL_DEFAULT);
    sc_assert_ok_err(&err, sc_selector_parse("cpu", &s, &err));
    assert_int_equal(s.kind, SC_SEL_CPU);
    sc_assert_ok_err(&err, sc_selector_parse("GPU", &s, &err));
    assert_int_equal(s.kind, SC_SEL_GPU);
    sc_assert_ok_err(&err, sc_selector_parse("3", &s, &err));
    assert_int_equal(s.kind, SC_SEL_INDEX);
    assert_int_equal(s.index, 3);
    sc_assert_ok_err(&err, sc_selector_parse("1:2", &s, &err));
    assert_int_equal(s.kind, SC_SEL_PD);
    assert_int_equal(s.platform, 1);
    assert_int_equal(s.device, 2);
}

static void test_invalid_forms(void **state)
{
    (void)state;
    const char *bad[] = {"bogus", "-1", "1:", ":2", "1:2:3", "gpu0", "1.5", " 1", "99999999", "a:b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_selector s;
        sc_error err = {0};
        assert_int_equal(sc_selector_parse(bad[i], &s, &err), SC_ERR_ARG);
        assert_non_null(strstr(err.msg, bad[i]));
        assert_non_null(strstr(err.msg, "'cpu'"));
        assert_non_null(strstr(err.msg, "'gpu'"));
        assert_non_null(strstr(err.msg, "P:D"));
        assert_null(strchr(err.msg, '\n')); /* one line */
    }
}

static void test_pick(void **state)
{
    (void)state;
    sc_device_entry *list = NULL;
    int n = 0, chosen = -1;
    sc_error err = {0};
    sc_assert_ok_err(&err, sc_devices_list(&list, &n, &err));
    assert_true(n >= 1);
    sc_selector s;
    sc_assert_ok_err(&err, sc_selector_parse("cpu", &s, &err));
    sc_assert_ok_err(&err, sc_devices_pick(list, n, &s, &chosen, &err));
    assert_true(list[chosen].info.type & CL_DEVICE_TYPE_CPU);
    sc_assert_ok_err(&err, sc_selector_parse("0:0", &s, &err));
    sc_assert_ok_err(&err, sc_devices_pick(list, n, &s, &chosen, &err));
    assert_int_equal(chosen, 0);
    sc_assert_ok_err(&err, sc_selector_parse("999", &s, &err));
    assert_int_equal(sc_devices_pick(list, n, &s, &chosen, &err), SC_ERR_NO_DEVICE);
    assert_non_null(strstr(err.msg, "sphere-devices"));
    free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_forms),
        cmocka_unit_test(test_invalid_forms),
        cmocka_unit_test(test_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
