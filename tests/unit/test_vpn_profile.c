/*
 * test_vpn_profile.c — the OpenVPN profile on each media (domain/vpn_profile.c): an institution
 * name with line breaks and OpenVPN directives stays inside one quoted comment, so it cannot add
 * a line to the profile; the remote from the configuration is refused unless it is plain
 * "host [port [proto]]"; and the character rule's visible form (domain/text_chars.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/text_chars.h"
#include "domain/vpn_profile.h"
#include "util/arena.h"
#include "util/str.h"

#define CODE "1312345679"
#define REMOTE "vpn.example.jp 1194"

/* The lines of a profile that are not comments, as one string with '\n' after each. */
static char *directives(const char *profile, strbuf *sb)
{
    for (const char *line = profile; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != '#') {
            strbuf_append(sb, line, len);
            strbuf_putc(sb, '\n');
        }
        line += len + (end != NULL);
    }
    return sb->data;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n' || *s == '\r';
    return n;
}

static void a_plain_name_gives_the_fixed_directives(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT, d = STRBUF_INIT;
    assert_int_equal(vpn_profile_render(CODE, "さくら記念病院", REMOTE, &out), NSDB_OK);
    assert_non_null(
        strstr(out.data, "# 難病・小慢DB VPN 接続設定（医療機関 " CODE " \"さくら記念病院\"）\n"));
    assert_string_equal(directives(out.data, &d),
                        "client\ndev tun\nproto udp\nremote " REMOTE "\nresolv-retry infinite\n"
                        "nobind\npersist-key\npersist-tun\npkcs12 client.p12\n"
                        "remote-cert-tls server\ncipher AES-256-GCM\nverb 3\n");
    strbuf_free(&out);
    strbuf_free(&d);
}

static void a_name_with_a_line_break_and_a_directive_cannot_add_a_line(void **state)
{
    (void)state;
    static const char *const NAMES[] = {
        "病院\nup /bin/sh -c 'id > /tmp/pwned'\nscript-security 2",
        "病院\r\nroute 0.0.0.0 0.0.0.0",
        "病院\rremote evil.example 1194",
        "病院\xC2\x85plugin /tmp/x.so",       /* NEL */
        "病院\xE2\x80\xA8up /bin/sh",         /* LINE SEPARATOR */
        "病院\" \\\n\\\"\nup /bin/true",      /* quotes and backslashes */
        "\xE2\x80\xAE院病\tmeti\xff\x0b\x0c", /* bidi, tab, a byte that is not UTF-8 */
    };
    strbuf plain = STRBUF_INIT, pd = STRBUF_INIT;
    assert_int_equal(vpn_profile_render(CODE, "病院", REMOTE, &plain), NSDB_OK);
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        strbuf out = STRBUF_INIT, d = STRBUF_INIT;
        assert_int_equal(vpn_profile_render(CODE, NAMES[i], REMOTE, &out), NSDB_OK);
        assert_int_equal(count_lines(out.data), count_lines(plain.data));
        assert_string_equal(directives(out.data, &d), directives(plain.data, &pd));
        /* the first forbidden character is the end of the first line: the name left none */
        assert_int_equal(text_chars_forbidden(out.data), (uint32_t)'\n');
        const char *first_end = strchr(out.data, '\n');
        assert_null(memchr(out.data, '\r', out.len));
        /* the name stays on the first line, quoted */
        const char *open = strchr(out.data, '"');
        assert_true(open != NULL && open < first_end);
        assert_true(first_end[-4] == '"'); /* ...name"）\n: the closing quote, then （ */
        strbuf_free(&out);
        strbuf_free(&d);
        strbuf_reset(&pd);
    }
    strbuf_free(&plain);
    strbuf_free(&pd);
}

static void a_bad_remote_or_code_is_refused(void **state)
{
    (void)state;
    static const char *const BAD[] = {"",
                                      "vpn.example.jp\nup /bin/sh",
                                      "vpn.example.jp 1194\n",
                                      "vpn.example.jp  1194",
                                      "vpn.example.jp 1194 udp extra",
                                      "\"vpn.example.jp\"",
                                      "vpn.example.jp;up"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        strbuf out = STRBUF_INIT;
        assert_false(vpn_remote_valid(BAD[i]));
        assert_int_equal(vpn_profile_render(CODE, "病院", BAD[i], &out), NSDB_ERR_INVALID);
        assert_int_equal(out.len, 0);
        strbuf_free(&out);
    }
    assert_false(vpn_remote_valid(NULL));
    assert_true(vpn_remote_valid("vpn.example.jp"));
    assert_true(vpn_remote_valid("192.0.2.1 1194 udp"));
    assert_true(vpn_remote_valid("2001:db8::1 443 tcp-client"));
    strbuf out = STRBUF_INIT;
    assert_int_equal(vpn_profile_render("13\n12", "病院", REMOTE, &out), NSDB_ERR_INVALID);
    assert_int_equal(vpn_profile_render("", "病院", REMOTE, &out), NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0);
    strbuf_free(&out);
}

static void forbidden_characters_are_shown_by_code_point(void **state)
{
    (void)state;
    arena *a = arena_new();
    assert_string_equal(text_chars_visible(a, "a\nb\tc\xE2\x80\xAE"
                                              "d\xff"),
                        "a<U+000A>b<U+0009>c<U+202E>d<0xFF>");
    assert_string_equal(text_chars_visible(a, "山田　太郎"), "山田　太郎");
    assert_string_equal(text_chars_visible(a, NULL), "");
    assert_int_equal(text_chars_forbidden("山田 太郎"), 0);
    assert_int_equal(text_chars_forbidden("\xC0\x80"), TEXT_CHARS_BAD_UTF8); /* overlong NUL */
    assert_int_equal(text_chars_forbidden("x\xE2\x81\xA8"), 0x2068);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_name_gives_the_fixed_directives),
        cmocka_unit_test(a_name_with_a_line_break_and_a_directive_cannot_add_a_line),
        cmocka_unit_test(a_bad_remote_or_code_is_refused),
        cmocka_unit_test(forbidden_characters_are_shown_by_code_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
