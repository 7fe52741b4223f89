/*
 * test_ids.c — user IDs, initial passwords and the municipality / institution check digits
 * (domain/ids.c). The check-symbol tests are exhaustive over every substitution and every
 * transposition of a few IDs, which is what the proof in ids.c promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/ids.h"

enum { MANY_IDS = 10000, EXHAUSTIVE_IDS = 40 };

static int setup_sodium(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static bool in_alphabet(char c)
{
    return c != '\0' && strchr(IDS_ALPHABET, c) != NULL;
}

static void alphabet_has_31_symbols_without_look_alikes(void **state)
{
    (void)state;
    assert_int_equal(strlen(IDS_ALPHABET), 31);
    for (const char *bad = "01OIL"; *bad; bad++)
        assert_null(strchr(IDS_ALPHABET, *bad));
    for (size_t i = 0; i < 31; i++)
        assert_ptr_equal(strchr(IDS_ALPHABET, IDS_ALPHABET[i]), &IDS_ALPHABET[i]);
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void generated_user_ids_are_valid_and_distinct(void **state)
{
    (void)state;
    char(*ids)[IDS_USER_ID_LEN + 1] = calloc(MANY_IDS, sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < MANY_IDS; i++) {
        ids_user_id_generate(ids[i]);
        assert_int_equal(strlen(ids[i]), IDS_USER_ID_LEN);
        for (size_t k = 0; k < IDS_USER_ID_LEN; k++)
            assert_true(in_alphabet(ids[i][k]));
        assert_true(ids_user_id_valid(ids[i]));
    }
    qsort(ids, MANY_IDS, sizeof *ids, compare_ids);
    for (size_t i = 1; i < MANY_IDS; i++)
        assert_int_not_equal(strcmp(ids[i - 1], ids[i]), 0);
    free(ids);
}

static void user_id_check_char_matches_the_formula(void **state)
{
    (void)state;
    /* "22222222222": all values 0, so the check is 0 → '2'. "32222222222": v_0 = 1, weight 2,
     * check = 31 − 2 = 29 → 'Y'. "22222222223": v_10 = 1, weight 12, check = 19 → 'N'. */
    assert_int_equal(ids_user_id_check_char("22222222222"), '2');
    assert_int_equal(ids_user_id_check_char("32222222222"), 'Y');
    assert_int_equal(ids_user_id_check_char("22222222223"), 'N');
    assert_true(ids_user_id_valid("222222222222"));
    assert_true(ids_user_id_valid("32222222222Y"));
    assert_true(ids_user_id_valid("22222222223N"));
    assert_int_equal(ids_user_id_check_char("2222222222O"), '\0');
}

static void user_id_detects_every_substitution(void **state)
{
    (void)state;
    for (int n = 0; n < EXHAUSTIVE_IDS; n++) {
        char id[IDS_USER_ID_LEN + 1];
        ids_user_id_generate(id);
        for (size_t pos = 0; pos < IDS_USER_ID_LEN; pos++) {
            char orig = id[pos];
            for (size_t s = 0; s < IDS_ALPHABET_SIZE; s++) {
                if (IDS_ALPHABET[s] == orig)
                    continue;
                id[pos] = IDS_ALPHABET[s];
                assert_false(ids_user_id_valid(id));
            }
            id[pos] = orig;
        }
        assert_true(ids_user_id_valid(id));
    }
}

static void swap(char *a, char *b)
{
    char t = *a;
    *a = *b;
    *b = t;
}

static void user_id_detects_every_transposition(void **state)
{
    (void)state;
    int adjacent_checked = 0;
    for (int n = 0; n < EXHAUSTIVE_IDS; n++) {
        char id[IDS_USER_ID_LEN + 1];
        ids_user_id_generate(id);
        for (size_t i = 0; i < IDS_USER_ID_LEN; i++) {
            for (size_t j = i + 1; j < IDS_USER_ID_LEN; j++) {
                if (id[i] == id[j])
                    continue;
                swap(&id[i], &id[j]);
                assert_false(ids_user_id_valid(id));
                swap(&id[i], &id[j]);
                adjacent_checked += j == i + 1;
            }
        }
        assert_true(ids_user_id_valid(id));
    }
    assert_true(adjacent_checked > EXHAUSTIVE_IDS * 9);
}

static void user_id_is_case_insensitive(void **state)
{
    (void)state;
    char id[IDS_USER_ID_LEN + 1], lower[IDS_USER_ID_LEN + 1];
    do
        ids_user_id_generate(id);
    while (strpbrk(id, "ABCDEFGHJKMNPQRSTUVWXYZ") == NULL);
    for (size_t i = 0; i <= IDS_USER_ID_LEN; i++)
        lower[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] - 'A' + 'a' : id[i]);
    assert_string_not_equal(lower, id);
    assert_true(ids_user_id_valid(lower));
    ids_user_id_normalize(lower);
    assert_string_equal(lower, id);
}

static void user_id_rejects_bad_input(void **state)
{
    (void)state;
    char id[IDS_USER_ID_LEN + 2];
    ids_user_id_generate(id);
    assert_true(ids_user_id_valid(id));
    assert_false(ids_user_id_valid(NULL));
    assert_false(ids_user_id_valid(""));
    char shorter[IDS_USER_ID_LEN];
    memcpy(shorter, id, IDS_USER_ID_LEN - 1);
    shorter[IDS_USER_ID_LEN - 1] = '\0';
    assert_false(ids_user_id_valid(shorter));
    char longer[IDS_USER_ID_LEN + 2];
    memcpy(longer, id, IDS_USER_ID_LEN);
    longer[IDS_USER_ID_LEN] = '2';
    longer[IDS_USER_ID_LEN + 1] = '\0';
    assert_false(ids_user_id_valid(longer));
    /* Look-alikes and foreign characters are refused wherever they stand. */
    static const char bad_chars[] = {'0', '1', 'O', 'I', 'L', 'o', 'i', 'l', '-', ' ', '\xe3'};
    for (size_t b = 0; b < sizeof bad_chars; b++) {
        for (size_t pos = 0; pos < IDS_USER_ID_LEN; pos++) {
            char copy[IDS_USER_ID_LEN + 1];
            memcpy(copy, id, sizeof copy);
            copy[pos] = bad_chars[b];
            assert_false(ids_user_id_valid(copy));
        }
    }
}

static void initial_passwords_use_the_alphabet_uniformly(void **state)
{
    (void)state;
    enum { N = 3100 };
    unsigned counts[IDS_ALPHABET_SIZE] = {0};
    char first[IDS_INITIAL_PASSWORD_LEN + 1];
    ids_initial_password_generate(first);
    for (int n = 0; n < N; n++) {
        char pw[IDS_INITIAL_PASSWORD_LEN + 1];
        ids_initial_password_generate(pw);
        assert_int_equal(strlen(pw), IDS_INITIAL_PASSWORD_LEN);
        for (size_t i = 0; i < IDS_INITIAL_PASSWORD_LEN; i++) {
            const char *p = strchr(IDS_ALPHABET, pw[i]);
            assert_true(pw[i] != '\0' && p != NULL);
            counts[p - IDS_ALPHABET]++;
        }
        assert_string_not_equal(pw, first);
    }
    /* 37,200 symbols, 1,200 expected per symbol; σ ≈ 34, so 900..1500 never fails by chance. */
    for (size_t s = 0; s < IDS_ALPHABET_SIZE; s++) {
        assert_in_range(counts[s], 900, 1500);
    }
}

static void municipality_examples_are_valid(void **state)
{
    (void)state;
    static const char *const codes[] = {"131016", "011002", "271004", "130001", "010006"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_true(ids_municipality_code_valid(codes[i]));
        assert_int_equal(ids_municipality_check_digit(codes[i]), codes[i][5]);
    }
}

static void municipality_check_digit_follows_the_formula(void **state)
{
    (void)state;
    /* 13101: 1·6 + 3·5 + 1·4 + 0·3 + 1·2 = 27, 27 mod 11 = 5, (11 − 5) mod 10 = 6. */
    assert_int_equal(ids_municipality_check_digit("13101"), '6');
    /* Remainder 0 gives 11 mod 10 = 1; remainder 1 gives 10 mod 10 = 0. */
    assert_int_equal(ids_municipality_check_digit("00000"), '1');
    assert_int_equal(ids_municipality_check_digit("20000"), '0'); /* 12 mod 11 = 1 */
    assert_int_equal(ids_municipality_check_digit("00003"), '5'); /* 3·2 = 6 */
    assert_int_equal(ids_municipality_check_digit("10001"), '3'); /* 6 + 2 = 8 */
    assert_int_equal(ids_municipality_check_digit("00010"), '8'); /* 3 */
    assert_int_equal(ids_municipality_check_digit("2710"), '\0');
    assert_int_equal(ids_municipality_check_digit("27a00"), '\0');
    assert_int_equal(ids_municipality_check_digit(NULL), '\0');
}

static void municipality_rejects_bad_input(void **state)
{
    (void)state;
    assert_false(ids_municipality_code_valid(NULL));
    assert_false(ids_municipality_code_valid(""));
    assert_false(ids_municipality_code_valid("13101"));
    assert_false(ids_municipality_code_valid("1310160"));
    assert_false(ids_municipality_code_valid("13101a"));
    assert_false(ids_municipality_code_valid("13 016"));
    assert_false(ids_municipality_code_valid("１３１０１６")); /* full-width digits */
    for (char d = '0'; d <= '9'; d++) {
        char code[] = "13101_";
        code[5] = d;
        assert_int_equal(ids_municipality_code_valid(code), d == '6');
    }
}

static void institution_luhn_known_values(void **state)
{
    (void)state;
    /* Computed independently (Python reference implementation of Luhn). */
    static const char *const codes[] = {"1234567897", "1312345679", "0111111118", "0000000000",
                                        "2710000189"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_true(ids_institution_code_valid(codes[i]));
        assert_int_equal(ids_luhn_check_digit(codes[i]), codes[i][9]);
    }
    assert_int_equal(ids_luhn_check_digit("12345678"), '\0');
    assert_int_equal(ids_luhn_check_digit("12345678x"), '\0');
    assert_int_equal(ids_luhn_check_digit(NULL), '\0');
}

static void institution_rejects_bad_input(void **state)
{
    (void)state;
    assert_false(ids_institution_code_valid(NULL));
    assert_false(ids_institution_code_valid(""));
    assert_false(ids_institution_code_valid("123456789"));
    assert_false(ids_institution_code_valid("12345678970"));
    assert_false(ids_institution_code_valid("123456789X"));
    assert_false(ids_institution_code_valid("-234567897"));
    for (char d = '0'; d <= '9'; d++) {
        char code[] = "123456789_";
        code[9] = d;
        assert_int_equal(ids_institution_code_valid(code), d == '7');
    }
}

static void institution_detects_every_single_digit_error(void **state)
{
    (void)state;
    char code[] = "1312345679";
    for (size_t pos = 0; pos < 10; pos++) {
        char orig = code[pos];
        for (char d = '0'; d <= '9'; d++) {
            code[pos] = d;
            assert_int_equal(ids_institution_code_valid(code), d == orig);
        }
        code[pos] = orig;
    }
}

static void initial_password_symbols_are_uniform(void **state)
{
    (void)state;
    enum { ROUNDS = 20000 };
    unsigned counts[IDS_ALPHABET_SIZE] = {0};
    char pw[IDS_INITIAL_PASSWORD_LEN + 1];
    for (int r = 0; r < ROUNDS; r++) {
        ids_initial_password_generate(pw);
        for (int i = 0; i < IDS_INITIAL_PASSWORD_LEN; i++)
            counts[strchr(IDS_ALPHABET, pw[i]) - IDS_ALPHABET]++;
    }
    /* 240,000 draws: each symbol expects 7,742; a biased generator (b % 31 without rejection)
       would give the first symbols about 12.5% more */
    double expected = (double)ROUNDS * IDS_INITIAL_PASSWORD_LEN / IDS_ALPHABET_SIZE;
    for (int k = 0; k < IDS_ALPHABET_SIZE; k++) {
        assert_true(counts[k] > expected * 0.95);
        assert_true(counts[k] < expected * 1.05);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initial_password_symbols_are_uniform),
        cmocka_unit_test(alphabet_has_31_symbols_without_look_alikes),
        cmocka_unit_test(generated_user_ids_are_valid_and_distinct),
        cmocka_unit_test(user_id_check_char_matches_the_formula),
        cmocka_unit_test(user_id_detects_every_substitution),
        cmocka_unit_test(user_id_detects_every_transposition),
        cmocka_unit_test(user_id_is_case_insensitive),
        cmocka_unit_test(user_id_rejects_bad_input),
        cmocka_unit_test(initial_passwords_use_the_alphabet_uniformly),
        cmocka_unit_test(municipality_examples_are_valid),
        cmocka_unit_test(municipality_check_digit_follows_the_formula),
        cmocka_unit_test(municipality_rejects_bad_input),
        cmocka_unit_test(institution_luhn_known_values),
        cmocka_unit_test(institution_rejects_bad_input),
        cmocka_unit_test(institution_detects_every_single_digit_error),
    };
    return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
