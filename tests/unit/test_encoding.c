/*
 * test_encoding.c — domain/encoding.c on the text it is given that is not UTF-8: an uploaded
 * file's name sent in CP932 becomes its Japanese text, bytes that are neither UTF-8 nor CP932
 * become U+FFFD, and controls in a name are made visible, so the name can be stored, shown and
 * audited (issue 14: a CP932 name hid the admin list it named and dropped its audit text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "domain/encoding.h"

static void utf8_text_is_kept_as_it_is(void **state)
{
    (void)state;
    size_t n = 0;
    char *s = encoding_text_to_utf8("申請書.xlsx", strlen("申請書.xlsx"), &n);
    assert_string_equal(s, "申請書.xlsx");
    assert_int_equal(n, strlen("申請書.xlsx"));
    free(s);
}

static void a_cp932_name_becomes_its_text(void **state)
{
    (void)state;
    /* 申請書.xlsx as Windows sends it */
    static const char CP932[] = "\x90\x5c\x90\xbf\x8f\x91.xlsx";
    assert_false(encoding_is_utf8(CP932, strlen(CP932)));
    size_t n = 0;
    char *s = encoding_text_to_utf8(CP932, strlen(CP932), &n);
    assert_string_equal(s, "申請書.xlsx");
    free(s);
}

static void other_bytes_become_replacement_characters(void **state)
{
    (void)state;
    /* 0x80 and 0xA0 are no CP932 lead bytes, a cut UTF-8 sequence at the end */
    static const char BAD[] = "a\x80"
                              "b\xa0\xfd"
                              "c\xe7\x94";
    size_t n = 0;
    char *s = encoding_text_to_utf8(BAD, strlen(BAD), &n);
    assert_true(encoding_is_utf8(s, n));
    assert_non_null(strstr(s, "\xef\xbf\xbd")); /* U+FFFD */
    assert_int_equal(s[0], 'a');
    assert_non_null(strchr(s, 'b'));
    assert_non_null(strchr(s, 'c'));
    free(s);
}

static void a_file_name_is_text_on_one_line(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_string_equal(encoding_file_name(a, "\x90\x5c\x90\xbf\x8f\x91.xlsx"), "申請書.xlsx");
    const char *tricky = encoding_file_name(a, "list\n\xe2\x80\xaexslx.exe");
    assert_true(encoding_is_utf8(tricky, strlen(tricky)));
    assert_null(strchr(tricky, '\n'));
    assert_null(strstr(tricky, "\xe2\x80\xae")); /* U+202E made visible */
    assert_null(encoding_file_name(a, NULL));
    assert_string_equal(encoding_file_name(a, ""), "");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_text_is_kept_as_it_is),
        cmocka_unit_test(a_cp932_name_becomes_its_text),
        cmocka_unit_test(other_bytes_become_replacement_characters),
        cmocka_unit_test(a_file_name_is_text_on_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
