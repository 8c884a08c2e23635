/* SPDX-License-Identifier: MIT */
/* test_version.c: semantic versions as plans write them (compiler/version.c). */
#include "tests/unit/unittest.h"

#include <string.h>

#include "compiler/version.h"

static int
cmp(const char *a, const char *b)
{
    struct semver x, y;

    assert_null(semver_parse(a, &x));
    assert_null(semver_parse(b, &y));
    return semver_cmp(&x, &y);
}

static void
test_version_accepts_two_and_three_numbers(void **state)
{
    struct semver v;

    (void)state;
    assert_null(semver_parse("7.0", &v));
    assert_int_equal(v.major, 7);
    assert_int_equal(v.minor, 0);
    assert_int_equal(v.patch, 0);
    assert_null(semver_parse("6.3.12", &v));
    assert_int_equal(v.patch, 12);
    assert_null(semver_parse("7.0.0-preview.1", &v));
    assert_string_equal(v.pre, "preview.1");
}

static void
test_version_missing_patch_is_zero(void **state)
{
    (void)state;
    assert_int_equal(cmp("7.0", "7.0.0"), 0);
    assert_true(cmp("7.0", "7.0.1") < 0);
}

static void
test_version_orders_by_numbers_not_text(void **state)
{
    (void)state;
    assert_true(cmp("6.9", "6.10") < 0);
    assert_true(cmp("10.0", "9.99") > 0);
    assert_true(cmp("6.3", "7.0") < 0);
}

static void
test_version_prerelease_orders_before_release(void **state)
{
    (void)state;
    /* semver 2.0.0 §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
     * < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0 */
    static const char *const order[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                        "1.0.0-beta",   "1.0.0-beta.2",  "1.0.0-beta.11",
                                        "1.0.0-rc.1",   "1.0.0"};
    size_t i;

    for (i = 0; i + 1 < sizeof order / sizeof order[0]; i++) {
        assert_true(cmp(order[i], order[i + 1]) < 0);
        assert_true(cmp(order[i + 1], order[i]) > 0);
    }
    assert_true(cmp("7.0.0-preview.1", "7.0") < 0);
}

static void
test_version_rejects_malformed(void **state)
{
    static const char *const bad[] = {"",       "7",        "7.",      "07.0",    "7.0.0.1",
                                      "7.0-",   "7.0-a..b", "7.0+abc", "v7.0",    "7.0 ",
                                      "7.0-01", "7.x",      "-1.0",    "99999999999999999999.0"};
    struct semver v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *err = semver_parse(bad[i], &v);
        if (!err)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_accepts_two_and_three_numbers),
        cmocka_unit_test(test_version_missing_patch_is_zero),
        cmocka_unit_test(test_version_orders_by_numbers_not_text),
        cmocka_unit_test(test_version_prerelease_orders_before_release),
        cmocka_unit_test(test_version_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
