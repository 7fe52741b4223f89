/*
 * test_password.c — the password policy (each refusal rule, with the verdict it gives) and
 * argon2id hashing (round trip, wrong password, re-hash on raised cost) of domain/password.c.
 * Hashing tests use libsodium's minimum cost so that they stay fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "domain/password.h"

#define USER_ID "ABCDEFGH2345"
#define USER_NAME "山田　太郎"

static const password_cost CHEAP = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

static int setup_sodium(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static password_verdict check(const char *password)
{
    return password_check(password, USER_ID, USER_NAME);
}

static void known_weak_passwords_are_refused(void **state)
{
    (void)state;
    /* password1234 and 123456789012 are on the bundled list; the others are not, but zxcvbn
     * sees a dictionary word plus a year, a repeat and a keyboard row. */
    assert_int_equal(check("password1234"), PASSWORD_COMMON);
    assert_int_equal(check("123456789012"), PASSWORD_COMMON);
    assert_int_equal(check("iloveyou2026"), PASSWORD_GUESSABLE);
    assert_int_equal(check("aaaaaaaaaaaa"), PASSWORD_GUESSABLE);
    assert_int_equal(check("qwertyuiopas"), PASSWORD_GUESSABLE);
    assert_int_equal(check("summer2026!!"), PASSWORD_GUESSABLE);
}

static void common_list_is_case_insensitive(void **state)
{
    (void)state;
    assert_int_equal(check("PASSWORD1234"), PASSWORD_COMMON);
    assert_int_equal(check("Password1234"), PASSWORD_COMMON);
    assert_int_equal(check("1Qaz2Wsx3Edc"), PASSWORD_COMMON);
}

static void short_passwords_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check(""), PASSWORD_TOO_SHORT);
    assert_int_equal(check("x7#Kq9!mZ2v"), PASSWORD_TOO_SHORT); /* 11 */
    /* Code points count, not bytes: 11 kana are 33 bytes but still too short. */
    assert_int_equal(check("しろいくもとあおいうみ"), PASSWORD_TOO_SHORT);
    assert_int_not_equal(check("x7#Kq9!mZ2vR"), PASSWORD_TOO_SHORT); /* 12 */
}

static void long_passwords_are_refused(void **state)
{
    (void)state;
    char pw[PASSWORD_MAX_BYTES + 2];
    static const char pattern[] = "k3#Vq9zL!w2Xm7pB";
    for (size_t i = 0; i < sizeof pw - 1; i++)
        pw[i] = pattern[(i * 7 + i / 16) % (sizeof pattern - 1)];
    pw[PASSWORD_MAX_BYTES + 1] = '\0';
    assert_int_equal(check(pw), PASSWORD_TOO_LONG);
    pw[PASSWORD_MAX_BYTES] = '\0';
    assert_int_not_equal(check(pw), PASSWORD_TOO_LONG);
}

static void control_characters_and_bad_utf8_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check("correct horse\x01 battery"), PASSWORD_BAD_CHARS);
    assert_int_equal(check("correct horse\x7f battery"), PASSWORD_BAD_CHARS);
    assert_int_equal(check("correct horse \xff\xfe battery"), PASSWORD_BAD_CHARS);
    assert_int_equal(check("correct horse \xe3\x81 battery"), PASSWORD_BAD_CHARS);
    assert_int_equal(check("correct horse \xc0\xaf battery"), PASSWORD_BAD_CHARS); /* overlong */
}

static void the_user_id_is_refused(void **state)
{
    (void)state;
    assert_int_equal(check(USER_ID), PASSWORD_IS_USER_ID);
    assert_int_equal(check("abcdefgh2345"), PASSWORD_IS_USER_ID);
    assert_int_equal(check("my id is abcdefgh2345!"), PASSWORD_IS_USER_ID);
    assert_int_equal(check("ABCDEFGH2345 plus words"), PASSWORD_IS_USER_ID);
    /* Without a user ID the same password is judged on its own merits. */
    assert_int_equal(password_check("ABCDEFGH2345 plus words", NULL, NULL), PASSWORD_OK);
}

static void the_user_name_counts_as_guessable(void **state)
{
    (void)state;
    /* "yamadatarou" alone would pass; as the user's own name parts it is weak. */
    const char *pw = "yamadatarou2026";
    assert_int_equal(password_check(pw, USER_ID, NULL), PASSWORD_OK);
    assert_int_equal(password_check(pw, USER_ID, "yamada tarou"), PASSWORD_GUESSABLE);
    assert_int_equal(password_check(pw, USER_ID, "yamada\xe3\x80\x80tarou"), PASSWORD_GUESSABLE);
}

static void strong_phrases_are_accepted(void **state)
{
    (void)state;
    assert_int_equal(check("しろいくもとあおいうみ2026"), PASSWORD_OK);
    assert_int_equal(check("correct horse battery staple"), PASSWORD_OK);
    assert_int_equal(check("Tr0ub4dor&3xyz"), PASSWORD_OK);
    assert_int_equal(check("ab3kq9zm2v7w"), PASSWORD_OK);
    assert_int_equal(password_check("correct horse battery staple", NULL, NULL), PASSWORD_OK);
}

static void every_verdict_has_a_japanese_message(void **state)
{
    (void)state;
    for (int v = PASSWORD_OK; v <= PASSWORD_GUESSABLE; v++) {
        const char *m = password_verdict_message((password_verdict)v);
        assert_non_null(m);
        assert_true(strlen(m) > 10);
        assert_true(strstr(m, "。") != NULL);
    }
    assert_non_null(strstr(password_verdict_message(PASSWORD_TOO_SHORT), "12文字以上"));
    assert_non_null(strstr(password_verdict_message(PASSWORD_IS_USER_ID), "ユーザID"));
}

static void *check_in_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        if (password_check("password1234", NULL, NULL) != PASSWORD_COMMON)
            return (void *)1;
    return NULL;
}

static void common_list_is_built_safely_from_many_threads(void **state)
{
    (void)state;
    pthread_t threads[4];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, check_in_thread, NULL), 0);
    for (size_t i = 0; i < 4; i++) {
        void *result;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
}

static void default_cost_is_owasp_minimum(void **state)
{
    (void)state;
    password_cost c = password_cost_default();
    assert_int_equal(c.opslimit, 2);
    assert_int_equal(c.memlimit, 19 * 1024 * 1024);
}

static void hash_and_verify_round_trip(void **state)
{
    (void)state;
    char hash[crypto_pwhash_STRBYTES];
    assert_int_equal(password_hash("correct horse battery staple", CHEAP, hash), NSDB_OK);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_true(password_verify(hash, "correct horse battery staple"));
    assert_false(password_verify(hash, "correct horse battery stapl"));
    assert_false(password_verify(hash, "Correct horse battery staple"));
    assert_false(password_verify(hash, ""));
    assert_false(password_verify("not a hash", "correct horse battery staple"));
    assert_false(password_verify(NULL, "x"));

    char again[crypto_pwhash_STRBYTES];
    assert_int_equal(password_hash("correct horse battery staple", CHEAP, again), NSDB_OK);
    assert_string_not_equal(hash, again); /* random salt */
}

static void default_cost_hash_verifies(void **state)
{
    (void)state;
    char hash[crypto_pwhash_STRBYTES];
    assert_int_equal(password_hash("しろいくもとあおいうみ2026", password_cost_default(), hash),
                     NSDB_OK);
    assert_non_null(strstr(hash, "m=19456,t=2,p=1"));
    assert_true(password_verify(hash, "しろいくもとあおいうみ2026"));
    assert_false(password_needs_rehash(hash, password_cost_default()));
}

static void weaker_hash_needs_rehash(void **state)
{
    (void)state;
    char hash[crypto_pwhash_STRBYTES];
    assert_int_equal(password_hash("correct horse battery staple", CHEAP, hash), NSDB_OK);
    assert_false(password_needs_rehash(hash, CHEAP));
    assert_true(password_needs_rehash(hash, password_cost_default()));
    password_cost more_passes = {CHEAP.opslimit + 1, CHEAP.memlimit};
    assert_true(password_needs_rehash(hash, more_passes));
    assert_true(password_needs_rehash("garbage", CHEAP));
    assert_true(password_needs_rehash(NULL, CHEAP));

    /* An argon2i hash with the right parameters is still replaced by argon2id. */
    char argon2i[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_argon2i_str(argon2i, "pw", 2, 3, CHEAP.memlimit), 0);
    assert_true(password_needs_rehash(argon2i, (password_cost){3, CHEAP.memlimit}));
}

static void kana_runs_are_refused_although_zxcvbn_scores_them_high(void **state)
{
    (void)state;
    assert_int_equal(password_check("あいうえおかきくけこさし", NULL, NULL), PASSWORD_GUESSABLE);
    assert_int_equal(password_check("アイウエオカキクケコサシ", NULL, NULL), PASSWORD_GUESSABLE);
    assert_int_equal(password_check("ああああああああああああ", NULL, NULL), PASSWORD_GUESSABLE);
    /* a real phrase in kana and kanji is not a run */
    assert_int_equal(password_check("しろいくもとあおいうみ2026", NULL, NULL), PASSWORD_OK);
    assert_int_equal(password_check("春の小川はさらさら行くよ", NULL, NULL), PASSWORD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kana_runs_are_refused_although_zxcvbn_scores_them_high),
        cmocka_unit_test(known_weak_passwords_are_refused),
        cmocka_unit_test(common_list_is_case_insensitive),
        cmocka_unit_test(short_passwords_are_refused),
        cmocka_unit_test(long_passwords_are_refused),
        cmocka_unit_test(control_characters_and_bad_utf8_are_refused),
        cmocka_unit_test(the_user_id_is_refused),
        cmocka_unit_test(the_user_name_counts_as_guessable),
        cmocka_unit_test(strong_phrases_are_accepted),
        cmocka_unit_test(every_verdict_has_a_japanese_message),
        cmocka_unit_test(common_list_is_built_safely_from_many_threads),
        cmocka_unit_test(default_cost_is_owasp_minimum),
        cmocka_unit_test(hash_and_verify_round_trip),
        cmocka_unit_test(default_cost_hash_verifies),
        cmocka_unit_test(weaker_hash_needs_rehash),
    };
    return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
