/*
 * test_session.c — session tokens, CSRF tokens and expiry (domain/session_token.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "domain/session_token.h"

static secret_key key_a, key_b;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    randombytes_buf(key_a.master, sizeof key_a.master);
    randombytes_buf(key_b.master, sizeof key_b.master);
    return 0;
}

static void test_token_round_trips_through_cookie_text(void **state)
{
    (void)state;
    unsigned char t[SESSION_TOKEN_BYTES], back[SESSION_TOKEN_BYTES];
    char text[SESSION_TOKEN_TEXT_LEN + 1];
    session_token_new(t);
    session_token_encode(t, text);
    assert_int_equal(strlen(text), SESSION_TOKEN_TEXT_LEN);
    assert_null(strpbrk(text, "+/=;, "));
    assert_true(session_token_decode(text, back));
    assert_memory_equal(t, back, sizeof t);
}

static void test_tokens_are_random(void **state)
{
    (void)state;
    unsigned char a[SESSION_TOKEN_BYTES], b[SESSION_TOKEN_BYTES];
    session_token_new(a);
    session_token_new(b);
    assert_memory_not_equal(a, b, sizeof a);
}

static void test_malformed_cookie_text_is_refused(void **state)
{
    (void)state;
    unsigned char t[SESSION_TOKEN_BYTES];
    assert_false(session_token_decode(NULL, t));
    assert_false(session_token_decode("", t));
    assert_false(session_token_decode("abc", t));
    char text[SESSION_TOKEN_TEXT_LEN + 2];
    memset(text, 'A', SESSION_TOKEN_TEXT_LEN + 1);
    text[SESSION_TOKEN_TEXT_LEN + 1] = '\0';
    assert_false(session_token_decode(text, t)); /* one too long */
    text[SESSION_TOKEN_TEXT_LEN] = '\0';
    text[5] = '*';
    assert_false(session_token_decode(text, t)); /* not base64url */
}

static void test_csrf_token_is_bound_to_session_purpose_and_key(void **state)
{
    (void)state;
    unsigned char s1[SESSION_TOKEN_BYTES], s2[SESSION_TOKEN_BYTES];
    session_token_new(s1);
    session_token_new(s2);
    char c1[SESSION_CSRF_HEX_LEN + 1], c1again[SESSION_CSRF_HEX_LEN + 1],
        c2[SESSION_CSRF_HEX_LEN + 1], anon[SESSION_CSRF_HEX_LEN + 1],
        other_key[SESSION_CSRF_HEX_LEN + 1];
    session_csrf_token(&key_a, "csrf-session", s1, c1);
    session_csrf_token(&key_a, "csrf-session", s1, c1again);
    session_csrf_token(&key_a, "csrf-session", s2, c2);
    session_csrf_token(&key_a, "csrf-anon", s1, anon);
    session_csrf_token(&key_b, "csrf-session", s1, other_key);
    assert_true(session_csrf_equal(c1, c1again));
    assert_false(session_csrf_equal(c1, c2));
    assert_false(session_csrf_equal(c1, anon));
    assert_false(session_csrf_equal(c1, other_key));
}

static void test_csrf_comparison_refuses_missing_and_truncated(void **state)
{
    (void)state;
    unsigned char s[SESSION_TOKEN_BYTES];
    session_token_new(s);
    char c[SESSION_CSRF_HEX_LEN + 1];
    session_csrf_token(&key_a, "csrf-session", s, c);
    assert_false(session_csrf_equal(c, NULL));
    assert_false(session_csrf_equal(c, ""));
    char truncated[SESSION_CSRF_HEX_LEN];
    memcpy(truncated, c, SESSION_CSRF_HEX_LEN - 1);
    truncated[SESSION_CSRF_HEX_LEN - 1] = '\0';
    assert_false(session_csrf_equal(c, truncated));
    char flipped[SESSION_CSRF_HEX_LEN + 1];
    memcpy(flipped, c, sizeof flipped);
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    assert_false(session_csrf_equal(c, flipped));
}

static void test_session_expires_after_idle_and_absolute_limits(void **state)
{
    (void)state;
    const int idle = 30 * 60, absolute = 12 * 60 * 60;
    int64_t t0 = 1700000000;
    assert_false(session_expired(t0, t0, t0 + 10, idle, absolute));
    assert_false(session_expired(t0, t0, t0 + idle, idle, absolute));
    assert_true(session_expired(t0, t0, t0 + idle + 1, idle, absolute));
    /* kept busy, it still ends after 12 hours */
    assert_false(session_expired(t0, t0 + absolute - 60, t0 + absolute, idle, absolute));
    assert_true(session_expired(t0, t0 + absolute, t0 + absolute + 1, idle, absolute));
    /* a last-seen time far in the future is not trusted */
    assert_true(session_expired(t0, t0 + 3600, t0, idle, absolute));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_round_trips_through_cookie_text),
        cmocka_unit_test(test_tokens_are_random),
        cmocka_unit_test(test_malformed_cookie_text_is_refused),
        cmocka_unit_test(test_csrf_token_is_bound_to_session_purpose_and_key),
        cmocka_unit_test(test_csrf_comparison_refuses_missing_and_truncated),
        cmocka_unit_test(test_session_expires_after_idle_and_absolute_limits),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
