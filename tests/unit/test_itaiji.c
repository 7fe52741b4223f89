/*
 * test_itaiji.c — the table of name variants (domain/itaiji.c) and the search key that folds
 * through it (text_search_key in domain/text.c): the table is sorted and its standard forms are
 * never variants themselves (so one fold is enough, and a key folded again stays as it is); the
 * issue's pairs fold both ways round to one key (髙橋 is found by 高橋 and 高橋 by 髙橋); characters
 * outside the table, kana and ASCII are untouched; the fingerprint is 16 hex digits and stable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/itaiji.h"
#include "domain/text.h"
#include "util/arena.h"

static void test_table_sorted_and_standards_are_not_variants(void **state)
{
    (void)state;
    size_t n = 0;
    const itaiji_pair *p = itaiji_pairs(&n);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_true(p[i - 1].variant < p[i].variant);
        assert_int_not_equal(p[i].variant, p[i].standard);
        assert_int_equal(itaiji_fold(p[i].variant), p[i].standard);
        assert_int_equal(itaiji_fold(p[i].standard), p[i].standard);
    }
    assert_int_equal(itaiji_fold('a'), 'a');
    assert_int_equal(itaiji_fold(0x30A2 /* ア */), 0x30A2);
    assert_int_equal(itaiji_fold(0x4E00 /* 一 */), 0x4E00);
    assert_int_equal(itaiji_fold(0x10FFFF), 0x10FFFF);
}

/* Each row: names that must have one search key (the first is the form the key uses). */
static const char *const SAME[][4] = {
    {"高橋", "髙橋", NULL},         {"山崎", "山﨑", "山嵜", NULL},
    {"渡辺", "渡邊", "渡邉", NULL}, {"斎藤", "齋藤", "齊藤", "斉藤"},
    {"浜田", "濱田", "濵田", NULL}, {"沢井", "澤井", NULL},
    {"国分", "國分", NULL},         {"広瀬", "廣瀬", "廣瀨", NULL},
    {"徳永", "德永", NULL},         {"槙原", "槇原", NULL},
    {"桜井", "櫻井", NULL},         {"竜崎", "龍崎", "龍﨑", NULL},
    {"島田", "嶋田", "嶌田", NULL}, {"館野", "舘野", NULL},
    {"富田", "冨田", NULL},         {"北条", "北條", NULL},
    {"吉田", "𠮷田", NULL},
};

static void test_variants_give_one_key(void **state)
{
    (void)state;
    arena *a = arena_new();
    for (size_t i = 0; i < sizeof SAME / sizeof SAME[0]; i++) {
        const char *key = text_search_key(a, SAME[i][0]);
        assert_string_equal(key, SAME[i][0]); /* the standard form is its own key */
        for (size_t k = 1; k < 4 && SAME[i][k] != NULL; k++) {
            const char *other = text_search_key(a, SAME[i][k]);
            if (strcmp(other, key) != 0)
                fail_msg("%s has the key %s, %s has %s", SAME[i][k], other, SAME[i][0], key);
            /* a key folded again is the same key (stored keys are re-folded at start) */
            assert_string_equal(text_search_key(a, other), other);
        }
    }
    /* with the rest of the key's rules: spaces, half-width kana, hiragana */
    assert_string_equal(text_search_key(a, "髙橋　太郎 ﾀｶﾊｼ たろう"), "高橋太郎タカハシタロウ");
    /* other kanji, kana and ASCII are untouched; 崎 and 﨑 are not 埼 */
    assert_string_equal(text_search_key(a, "埼玉 ABC"), "埼玉abc");
    assert_string_not_equal(text_search_key(a, "埼"), text_search_key(a, "﨑"));
    arena_free(a);
}

static void test_fingerprint(void **state)
{
    (void)state;
    char x[ITAIJI_FINGERPRINT_LEN + 1], y[ITAIJI_FINGERPRINT_LEN + 1];
    itaiji_fingerprint(x);
    itaiji_fingerprint(y);
    assert_int_equal(strlen(x), ITAIJI_FINGERPRINT_LEN);
    assert_int_equal(strspn(x, "0123456789abcdef"), ITAIJI_FINGERPRINT_LEN);
    assert_string_equal(x, y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sorted_and_standards_are_not_variants),
        cmocka_unit_test(test_variants_give_one_key),
        cmocka_unit_test(test_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
