/*
 * test_text.c — text_nfkc's quick path (domain/text.c): every code point text_nfkc_quick calls
 * stable is left as it is by utf8proc's NFKC, alone and between katakana and ASCII neighbours,
 * so skipping utf8proc for strings of them changes nothing; and strings with anything else still
 * get NFKC (half-width katakana, full-width letters, the ideographic space, combining marks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "domain/text.h"
#include "util/arena.h"

/* utf8proc's NFKC of s, compared with s. */
static int nfkc_unchanged(const char *s)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    int same = n >= 0 && (size_t)n == strlen(s) && memcmp(out, s, (size_t)n) == 0;
    free(out);
    return same;
}

static void test_quick_code_points_are_nfkc_stable(void **state)
{
    (void)state;
    size_t checked = 0;
    for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
        if (!text_nfkc_quick(cp))
            continue;
        utf8proc_uint8_t one[8] = {0};
        utf8proc_ssize_t len = utf8proc_encode_char((utf8proc_int32_t)cp, one);
        assert_true(len > 0 && len != 2 && len != 4); /* the quick path reads 1 or 3 bytes */
        char s[32];
        /* alone, after and before a katakana that takes voicing marks (カ), and before ASCII */
        const char *forms[] = {"%s", "\xE3\x82\xAB%s", "%s\xE3\x82\xAB", "%sA", "A%s"};
        for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
            snprintf(s, sizeof s, forms[f], (const char *)one);
            if (!nfkc_unchanged(s))
                fail_msg("NFKC changes U+%04X in \"%s\"", (unsigned)cp, s);
        }
        checked++;
    }
    assert_true(checked > 20000);
    /* what NFKC changes is not quick */
    assert_false(text_nfkc_quick(0x3000));  /* ideographic space */
    assert_false(text_nfkc_quick(0x3099));  /* combining voiced sound mark */
    assert_false(text_nfkc_quick(0x309B));  /* ゛ */
    assert_false(text_nfkc_quick(0x30FF));  /* ヿ */
    assert_false(text_nfkc_quick(0xFF76));  /* ｶ */
    assert_false(text_nfkc_quick(0xFF21));  /* Ａ */
    assert_false(text_nfkc_quick(0xF900));  /* a compatibility ideograph */
    assert_false(text_nfkc_quick(0x2460));  /* ① */
}

static void test_nfkc_still_normalises_the_rest(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_string_equal(text_nfkc(a, "ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
    assert_string_equal(text_nfkc(a, "ＡＢ－１２３"), "AB-123");
    assert_string_equal(text_nfkc(a, "山田　太郎"), "山田 太郎");
    assert_string_equal(text_nfkc(a, "\xE3\x82\xAB\xE3\x82\x99"), "ガ"); /* カ + U+3099 */
    assert_string_equal(text_nfkc(a, "①"), "1");
    /* the quick path: as it is, trimmed */
    assert_string_equal(text_nfkc(a, " 山田 タロウ ABC "), "山田 タロウ ABC");
    assert_string_equal(text_nfkc(a, "やまだ・ヤマダー"), "やまだ・ヤマダー");
    assert_null(text_nfkc(a, "\xE3\x82")); /* cut short: not UTF-8 */
    assert_null(text_nfkc(a, "a\x01"));    /* a control character */
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_code_points_are_nfkc_stable),
        cmocka_unit_test(test_nfkc_still_normalises_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
