/*
 * test_hardening_edges.c — small edge functions of issue 14 (finding 7) that decide trust or
 * shape what a user follows: which peer addresses count as loopback for /metrics
 * (http/peer.c), the login URL printed on notices and mail, taken from configuration only
 * (core/app.c), and the percent-encoding of the values a paging link carries (util/str.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <locale.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/app.h"
#include "http/http.h"
#include "util/str.h"

static bool v4_loopback(const char *text)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    return http_address_is_loopback((const struct sockaddr *)&sa);
}

static bool v6_loopback(const char *text)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    return http_address_is_loopback((const struct sockaddr *)&sa);
}

static void loopback_is_127_slash_8_and_colon_colon_1(void **state)
{
    (void)state;
    assert_true(v4_loopback("127.0.0.1"));
    assert_true(v4_loopback("127.255.0.9"));
    assert_true(v6_loopback("::1"));
    assert_true(v6_loopback("::ffff:127.0.0.1"));
    assert_false(v4_loopback("128.0.0.1"));
    assert_false(v4_loopback("10.0.0.1"));
    assert_false(v4_loopback("192.0.2.2"));
    assert_false(v4_loopback("0.0.0.0"));
    assert_false(v6_loopback("::"));
    assert_false(v6_loopback("::2"));
    assert_false(v6_loopback("fd00::2"));
    assert_false(v6_loopback("::ffff:10.0.0.1"));
    assert_false(http_address_is_loopback(NULL));
}

static void login_url_comes_from_configuration(void **state)
{
    (void)state;
    arena *a = arena_new();
    app_config cfg;
    app_config_defaults(&cfg);
    assert_string_equal(app_login_url(&cfg, a), "http://127.0.0.1:8080/login");
    cfg.listen_host = "0.0.0.0";
    cfg.port = 9000;
    assert_string_equal(app_login_url(&cfg, a), "http://127.0.0.1:9000/login");
    cfg.listen_host = "::1";
    assert_string_equal(app_login_url(&cfg, a), "http://[::1]:9000/login");
    cfg.listen_host = "nsdb.internal";
    assert_string_equal(app_login_url(&cfg, a), "http://nsdb.internal:9000/login");
    cfg.public_url = "https://nsdb.example.go.jp/";
    assert_string_equal(app_login_url(&cfg, a), "https://nsdb.example.go.jp/login");
    cfg.public_url = "https://nsdb.example.go.jp/nsdb";
    assert_string_equal(app_login_url(&cfg, a), "https://nsdb.example.go.jp/nsdb/login");
    arena_free(a);
}

static void public_url_must_be_a_plain_http_url(void **state)
{
    (void)state;
    assert_true(app_public_url_valid("https://nsdb.example.go.jp"));
    assert_true(app_public_url_valid("http://10.0.0.5:8080/nsdb/"));
    assert_false(app_public_url_valid(NULL));
    assert_false(app_public_url_valid(""));
    assert_false(app_public_url_valid("nsdb.example.go.jp"));
    assert_false(app_public_url_valid("javascript:alert(1)"));
    assert_false(app_public_url_valid("https://"));
    assert_false(app_public_url_valid("https:///path"));
    assert_false(app_public_url_valid("https://a b"));
    assert_false(app_public_url_valid("https://a\r\nBcc: x@example.jp"));
    assert_false(app_public_url_valid("https://例え.jp"));
    char long_url[APP_PUBLIC_URL_MAX + 2];
    memset(long_url, 'a', sizeof long_url - 1);
    memcpy(long_url, "https://", 8);
    long_url[sizeof long_url - 1] = '\0';
    assert_false(app_public_url_valid(long_url));
}

static void query_values_are_percent_encoded(void **state)
{
    (void)state;
    strbuf sb = STRBUF_INIT;
    strbuf_append_url(&sb, "a&b=c#d+e%f g/鈴木~-_.");
    assert_string_equal(sb.data, "a%26b%3Dc%23d%2Be%25f%20g%2F%E9%88%B4%E6%9C%A8~-_.");
    /* the same under a single-byte locale, where isalnum() admits bytes past 0x7F */
    if (setlocale(LC_CTYPE, "en_US.ISO-8859-1") != NULL ||
        setlocale(LC_CTYPE, "de_DE.ISO-8859-1") != NULL) {
        strbuf_reset(&sb);
        strbuf_append_url(&sb, "\xe9t\xe9");
        assert_string_equal(sb.data, "%E9t%E9");
        setlocale(LC_CTYPE, "C");
    }
    strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_is_127_slash_8_and_colon_colon_1),
        cmocka_unit_test(login_url_comes_from_configuration),
        cmocka_unit_test(public_url_must_be_a_plain_http_url),
        cmocka_unit_test(query_values_are_percent_encoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
