/*
 * test_inst_master.c — comparing a registration's institution with the institution master
 * (domain/inst_master.c): numbered cases of two names or two addresses that are the same after
 * normalising (issue 12 item 5: 「西新宿１丁目１番１号」 is 「西新宿1-1-1」) and of real
 * differences, and the warning sentence that names both values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain/inst_master.h"
#include "util/arena.h"

typedef struct same_case {
    int number;
    const char *x, *y;
    bool same;
} same_case;

static const same_case ADDRESSES[] = {
    {1, "西新宿１丁目１番１号", "西新宿1-1-1", true},
    {2, "東京都新宿区西新宿1-1-1", "新宿区西新宿１－１－１", true},
    {3, "新宿区　西新宿 1-1-1", "新宿区西新宿1-1-1", true},
    {4, "西新宿1ー1ー1", "西新宿1-1-1", true},  /* katakana prolonged sound mark */
    {5, "西新宿1−1−1", "西新宿1-1-1", true},    /* minus sign */
    {6, "西新宿1‐1‐1", "西新宿1-1-1", true},    /* hyphen U+2010 */
    {7, "西新宿1―1―1", "西新宿1-1-1", true},    /* horizontal bar */
    {8, "西新宿1‑1‑1", "西新宿1-1-1", true},    /* non-breaking hyphen */
    {9, "西新宿1–1—1", "西新宿1-1-1", true},    /* en and em dash */
    {10, "西新宿1丁目1番地1", "西新宿1-1-1", true},
    {11, "西新宿一丁目1番1号", "西新宿1-1-1", true},
    {12, "札幌市中央区北1条西2丁目", "北海道札幌市中央区北1条西2", true},
    {13, "西新宿1-1-1号", "西新宿1-1-1", true}, /* a trailing 号 */
    {14, "西新宿1番1号 新宿ビル5階", "西新宿1-1新宿ビル5階", true},
    {15, "大阪府大阪市北区梅田二十三丁目4", "大阪市北区梅田23-4", true},
    {16, "ＡＢＣビル", "abcビル", true},
    {17, "西新宿1-1-1", "西新宿1-1-2", false},
    {18, "西新宿1-1-1", "東新宿1-1-1", false},
    {19, "新宿区西新宿1-1-1", "渋谷区西新宿1-1-1", false},
    {20, "西新宿1-11", "西新宿11-1", false},
    {21, "京都府京都市1-1", "京都市1-1", true},
    {22, "東京都京都市1-1", "京都府京都市1-1", true}, /* only a prefecture differs: ignored */
    {23, "西新宿1丁目", "西新宿1", true},
    {24, "", "西新宿1-1-1", false},
};

static const same_case NAMES[] = {
    {101, "新宿記念病院", "新宿記念病院", true},
    {102, "新宿 記念　病院", "新宿記念病院", true},
    {103, "ｼﾝｼﾞｭｸｸﾘﾆｯｸ", "シンジュククリニック", true},
    {104, "ABC内科クリニック", "ａｂｃ内科クリニック", true},
    {105, "医療法人ー新宿会", "医療法人-新宿会", true},
    {106, "新宿記念病院", "別名総合病院", false},
    /* a prefecture starts many names: in a name it is part of the name */
    {107, "北海道大学病院", "大学病院", false},
    {108, "東京都立墨東病院", "都立墨東病院", false},
};

static void addresses_compare_after_normalising(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ADDRESSES / sizeof ADDRESSES[0]; i++) {
        const same_case *t = &ADDRESSES[i];
        if (inst_master_same_address(t->x, t->y) != t->same ||
            inst_master_same_address(t->y, t->x) != t->same)
            fail_msg("address case %d: 「%s」 vs 「%s」 should be %s", t->number, t->x, t->y,
                     t->same ? "the same" : "different");
    }
}

static void names_compare_after_normalising(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        const same_case *t = &NAMES[i];
        if (inst_master_same_name(t->x, t->y) != t->same ||
            inst_master_same_name(t->y, t->x) != t->same)
            fail_msg("name case %d: 「%s」 vs 「%s」 should be %s", t->number, t->x, t->y,
                     t->same ? "the same" : "different");
    }
}

static void address_key_is_the_hyphenated_form(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_string_equal(inst_master_address_key(a, "東京都新宿区西新宿１丁目１番１号"),
                        "新宿区西新宿1-1-1");
    assert_string_equal(inst_master_address_key(a, "西新宿一丁目"), "西新宿1");
    assert_string_equal(inst_master_name_key(a, "Ｔｏｋｙｏ　クリニック"), "tokyoクリニック");
    /* 番 not after a number is a place name */
    assert_string_equal(inst_master_address_key(a, "青葉区一番町1-1"), "青葉区一番町1-1");
    assert_null(inst_master_address_key(a, "\xff\xfe"));
    assert_null(inst_master_name_key(a, "\xc3"));
    arena_free(a);
}

static void same_text_with_null_and_bad_bytes(void **state)
{
    (void)state;
    assert_true(inst_master_same_name(NULL, ""));
    assert_true(inst_master_same_address(NULL, " "));
    assert_false(inst_master_same_name("\xff", "a"));
    assert_true(inst_master_same_name("\xff", "\xff")); /* byte-identical */
}

static void difference_names_both_values(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_null(inst_master_difference(a, "1312345679", "新宿記念病院", "新宿区西新宿１丁目１番１号",
                                       "新宿記念病院", "東京都新宿区西新宿1-1-1"));
    const char *w = inst_master_difference(a, "1312345679", "別名総合病院", "西新宿1-1-1",
                                           "新宿記念病院", "西新宿1-1-1");
    assert_non_null(w);
    assert_non_null(strstr(w, "1312345679"));
    assert_non_null(strstr(w, "医療機関名が医療機関マスタと異なります"));
    assert_non_null(strstr(w, "入力「別名総合病院」"));
    assert_non_null(strstr(w, "マスタ「新宿記念病院」"));
    assert_null(strstr(w, "所在地"));
    w = inst_master_difference(a, "1312345679", "新宿記念病院", "渋谷区1-1", "新宿記念病院",
                               "新宿区1-1");
    assert_non_null(strstr(w, "所在地が医療機関マスタと異なります"));
    assert_non_null(strstr(w, "入力「渋谷区1-1」、マスタ「新宿区1-1」"));
    assert_null(strstr(w, "医療機関名"));
    w = inst_master_difference(a, "1312345679", "別名", "渋谷区1-1", "新宿記念病院", "新宿区1-1");
    assert_non_null(strstr(w, "医療機関名と所在地が"));
    assert_non_null(strstr(w, "マスタ「新宿記念病院」"));
    assert_non_null(strstr(w, "マスタ「新宿区1-1」"));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_compare_after_normalising),
        cmocka_unit_test(names_compare_after_normalising),
        cmocka_unit_test(address_key_is_the_hyphenated_form),
        cmocka_unit_test(same_text_with_null_and_bad_bytes),
        cmocka_unit_test(difference_names_both_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
