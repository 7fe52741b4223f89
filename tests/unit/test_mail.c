/*
 * test_mail.c — composition of Japanese mail (domain/mail.c) and its delivery over SMTP
 * (domain/smtp.c). Composition is checked by decoding what was written: every header line and
 * encoded-word within its limit, subjects and names decoding back, the body decoding to the CRLF
 * text, and every way a value could smuggle in a header refused. Delivery goes to a real SMTP
 * server on loopback (tests/unit/smtp_sink.py, aiosmtpd) started by the test; those tests are
 * skipped, saying so, only when no python3 can import aiosmtpd. Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "domain/mail.h"
#include "domain/smtp.h"
#include "util/str.h"

extern char **environ;

#define SINK_SCRIPT "tests/unit/smtp_sink.py"
#define REFUSED_RECIPIENT "unknown@example.jp"
#define TEMPFAIL_RECIPIENT "busy@example.jp"
/* 2024-12-31 15:00:00 UTC, i.e. New Year's midnight in Japan. */
#define NEW_YEAR_JST 1735657200LL

/* ---------------------------------------------------------------- helpers: decoding ---- */

/* Base64 (original alphabet, CR and LF ignored) to a malloc'd NUL-terminated string. */
static char *base64_decode(const char *b64, size_t n)
{
    char *bin = malloc(n + 1);
    assert_non_null(bin);
    size_t bin_len = 0;
    const char *end = NULL;
    assert_int_equal(sodium_base642bin((unsigned char *)bin, n, b64, n, "\r\n", &bin_len, &end,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_ptr_equal(end, b64 + n);
    bin[bin_len] = '\0';
    return bin;
}

static size_t header_block_length(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    return (size_t)(end - msg) + 2;
}

/* The value of header name, unfolded (CRLF before white space removed), malloc'd; or NULL. */
static char *header_value(const char *msg, const char *name)
{
    size_t block = header_block_length(msg);
    size_t name_len = strlen(name);
    const char *line = msg;
    while (line < msg + block) {
        const char *eol = strstr(line, "\r\n");
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            strbuf value = STRBUF_INIT;
            const char *p = line + name_len + 1;
            if (*p == ' ')
                p++;
            for (;;) {
                strbuf_append(&value, p, (size_t)(eol - p));
                if (eol[2] != ' ' && eol[2] != '\t')
                    break;
                p = eol + 2;
                eol = strstr(p, "\r\n");
            }
            return strbuf_detach(&value, NULL);
        }
        line = eol + 2;
    }
    return NULL;
}

/* Decodes a run of B encoded-words separated by white space; checks each word is ≤ 75
 * characters and holds whole UTF-8 characters. *words_out counts them. Malloc'd. */
static char *decode_encoded_words(const char *value, size_t *words_out)
{
    static const char prefix[] = "=?UTF-8?B?";
    strbuf text = STRBUF_INIT;
    size_t words = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        assert_true(strncmp(p, prefix, sizeof prefix - 1) == 0);
        const char *payload = p + sizeof prefix - 1;
        const char *end = strstr(payload, "?=");
        assert_non_null(end);
        size_t word_len = (size_t)(end + 2 - p);
        assert_true(word_len <= 75);
        char *piece = base64_decode(payload, (size_t)(end - payload));
        assert_true(str_is_clean_utf8(piece, strlen(piece)));
        strbuf_puts(&text, piece);
        free(piece);
        words++;
        p = end + 2;
    }
    if (words_out != NULL)
        *words_out = words;
    return strbuf_detach(&text, NULL);
}

/* The decoded body: everything after the blank line, base64. */
static char *decoded_body(const char *msg)
{
    const char *body = strstr(msg, "\r\n\r\n") + 4;
    return base64_decode(body, strlen(body));
}

static void assert_crlf_only(const char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\n')
            assert_true(i > 0 && msg[i - 1] == '\r');
        if (msg[i] == '\r')
            assert_true(i + 1 < len && msg[i + 1] == '\n');
    }
}

/* Header lines ≤ 78, lines with encoded-words ≤ 76, body lines ≤ 76. */
static void assert_line_lengths(const char *msg)
{
    size_t block = header_block_length(msg);
    for (const char *line = msg; *line != '\0';) {
        const char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        size_t len = (size_t)(eol - line);
        bool in_header = line < msg + block;
        bool has_word = strstr(line, "=?") != NULL && strstr(line, "=?") < eol;
        assert_true(len <= (in_header && !has_word ? 78u : 76u));
        line = eol + 2;
    }
}

static mail_message sample_message(void)
{
    mail_message m = {
        .from_address = "noreply@nsdb.example.go.jp",
        .from_name = "難病・小慢DB",
        .to_address = "taro.yamada@city.example.lg.jp",
        .to_name = "山田 太郎",
        .subject = "テストのお知らせ",
        .body = "山田様\n\n本文です。\n2行目\n",
        .message_id = "20250101.abc@nsdb.example.go.jp",
        .date = NEW_YEAR_JST,
    };
    return m;
}

/* ---------------------------------------------------------------- composition ---- */

static void compose_writes_rfc5322_mime_headers_with_crlf(void **state)
{
    (void)state;
    mail_message m = sample_message();
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_crlf_only(out.data, out.len);
    assert_line_lengths(out.data);
    assert_non_null(strstr(out.data, "Date: Wed, 01 Jan 2025 00:00:00 +0900\r\n"));
    assert_non_null(strstr(out.data, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(out.data, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    assert_non_null(strstr(out.data, "\r\nContent-Transfer-Encoding: base64\r\n"));
    assert_non_null(strstr(out.data, "\r\nMessage-ID: <20250101.abc@nsdb.example.go.jp>\r\n"));
    assert_true(str_starts_with(out.data, "Date: "));

    char *from = header_value(out.data, "From");
    assert_non_null(from);
    char *lt = strstr(from, " <");
    assert_non_null(lt);
    assert_string_equal(lt, " <noreply@nsdb.example.go.jp>");
    *lt = '\0';
    char *from_name = decode_encoded_words(from, NULL);
    assert_string_equal(from_name, "難病・小慢DB");

    char *to = header_value(out.data, "To");
    assert_non_null(to);
    assert_non_null(strstr(to, " <taro.yamada@city.example.lg.jp>"));
    *strstr(to, " <") = '\0';
    char *to_name = decode_encoded_words(to, NULL);
    assert_string_equal(to_name, "山田 太郎");
    free(from);
    free(from_name);
    free(to);
    free(to_name);
    strbuf_free(&out);
}

static void compose_date_is_japan_time(void **state)
{
    (void)state;
    mail_message m = sample_message();
    m.date = 0;
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_non_null(strstr(out.data, "Date: Thu, 01 Jan 1970 09:00:00 +0900\r\n"));
    strbuf_reset(&out);
    m.date = 1719791999; /* 2024-06-30 23:59:59 UTC */
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_non_null(strstr(out.data, "Date: Mon, 01 Jul 2024 08:59:59 +0900\r\n"));
    strbuf_free(&out);
}

static void compose_subject_is_b_encoded_and_decodes_back(void **state)
{
    (void)state;
    mail_message m = sample_message();
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_non_null(strstr(out.data, "\r\nSubject: =?UTF-8?B?"));
    char *subject = header_value(out.data, "Subject");
    size_t words = 0;
    char *decoded = decode_encoded_words(subject, &words);
    assert_int_equal(words, 1);
    assert_string_equal(decoded, "テストのお知らせ");
    free(subject);
    free(decoded);
    strbuf_free(&out);
}

static void compose_long_subject_splits_on_character_boundaries(void **state)
{
    (void)state;
    /* 3-byte kana and kanji mixed with 4-byte characters (𠮷, 😀) and ASCII, so a cut in the
     * middle of any of them would show as an invalid word. */
    const char *subject = "【難病・小慢DB】𠮷野家の😀絵文字を含むとても長い件名です。"
                          "自治体管理者ユーザIDと初期パスワードのお知らせ、ABC123、"
                          "折り返しは文字の境目でのみ行われなければなりません𠮷😀";
    mail_message m = sample_message();
    m.subject = subject;
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_line_lengths(out.data);
    char *value = header_value(out.data, "Subject");
    size_t words = 0;
    char *decoded = decode_encoded_words(value, &words);
    assert_true(words >= 4);
    assert_string_equal(decoded, subject);
    free(value);
    free(decoded);
    strbuf_free(&out);
}

static void compose_plain_ascii_stays_readable(void **state)
{
    (void)state;
    mail_message m = sample_message();
    m.subject = "Account issued";
    m.from_name = "NSDB";
    m.to_name = "Yamada, Taro \"T\"";
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_non_null(strstr(out.data, "\r\nSubject: Account issued\r\n"));
    assert_non_null(strstr(out.data, "\r\nFrom: NSDB <noreply@nsdb.example.go.jp>\r\n"));
    assert_non_null(
        strstr(out.data, "\r\nTo: \"Yamada, Taro \\\"T\\\"\" <taro.yamada@city.example.lg.jp>\r\n"));
    /* Text that looks like an encoded-word is encoded, so it reads back as written. */
    strbuf_reset(&out);
    m.subject = "=?UTF-8?B?5pS7?=";
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    char *value = header_value(out.data, "Subject");
    char *decoded = decode_encoded_words(value, NULL);
    assert_string_equal(decoded, "=?UTF-8?B?5pS7?=");
    free(value);
    free(decoded);
    /* No display name: the bare address. */
    strbuf_reset(&out);
    m.to_name = NULL;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_non_null(strstr(out.data, "\r\nTo: taro.yamada@city.example.lg.jp\r\n"));
    strbuf_free(&out);
}

static void compose_body_is_base64_of_the_crlf_text(void **state)
{
    (void)state;
    strbuf body = STRBUF_INIT;
    strbuf expected = STRBUF_INIT;
    for (int i = 0; i < 40; i++) {
        strbuf_printf(&body, "%d行目：難病・小慢DBのお知らせ本文です。\n", i);
        strbuf_printf(&expected, "%d行目：難病・小慢DBのお知らせ本文です。\r\n", i);
    }
    strbuf_puts(&body, "最後の行（改行なし）");
    strbuf_puts(&expected, "最後の行（改行なし）\r\n");
    mail_message m = sample_message();
    m.body = body.data;
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_line_lengths(out.data);
    const char *encoded = strstr(out.data, "\r\n\r\n") + 4;
    assert_int_equal(strcspn(encoded, "\r"), 76); /* full 76-column lines */
    char *decoded = decoded_body(out.data);
    assert_string_equal(decoded, expected.data);
    free(decoded);
    strbuf_free(&out);
    strbuf_free(&body);
    strbuf_free(&expected);
}

static void compose_refuses_header_injection(void **state)
{
    (void)state;
    static const char *const bad_values[] = {
        "x\r\nBcc: a@b", "x\nBcc: a@b.example", "x\rBcc: a@b", "tab\there", "nul\x01", "\xff\xfe",
        "\xe3\x81",      "del\x7f",
    };
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        mail_message m = sample_message();
        m.subject = bad_values[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
        m = sample_message();
        m.from_name = bad_values[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
        m = sample_message();
        m.to_name = bad_values[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
        m = sample_message();
        m.message_id = bad_values[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    }
    mail_message m = sample_message();
    m.to_address = "a@b.example\r\nBcc: victim@example.jp";
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    m = sample_message();
    m.to_address = "a@b.example, victim@example.jp";
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    m = sample_message();
    m.message_id = "x@y>\r\nBcc: a@b";
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    m = sample_message();
    m.body = "invalid \xc3\x28 UTF-8";
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    m = sample_message();
    m.subject = NULL;
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0); /* a refusal writes nothing */
    strbuf_free(&out);
}

static void address_validation(void **state)
{
    (void)state;
    static const char *const good[] = {
        "a@b.jp", "taro.yamada@city.example.lg.jp", "first+tag@sub-domain.example.com",
        "o'neil@example.org", "x_y-z@a1.b2.c3",
    };
    static const char *const bad[] = {
        "", "plain", "@example.jp", "a@", "a@b", "a@@b.jp", "a@b@c.jp", "a b@c.jp", "a@b c.jp",
        "<a@b.jp>", "a@b.jp>", "a\r@b.jp", "a@b.jp\n", "a,b@c.jp", "\"a\"@b.jp", ".a@b.jp",
        "a.@b.jp", "a..b@c.jp", "a@.b.jp", "a@b..jp", "a@b.jp.", "a@-b.jp", "a@b-.jp",
        "a@b_c.jp", "山田@example.jp", "a@例え.jp", "a\t@b.jp", "a@[127.0.0.1]", "a(b)@c.jp",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(mail_address_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mail_address_valid(bad[i]));
    assert_false(mail_address_valid(NULL));

    char address[300];
    memset(address, 'a', 64);
    strcpy(address + 64, "@example.jp");
    assert_true(mail_address_valid(address));
    memset(address, 'a', 65);
    strcpy(address + 65, "@example.jp");
    assert_false(mail_address_valid(address)); /* local part over 64 */
    /* 254 bytes in all is the limit: 64 + '@' + 189 of labels. */
    strcpy(address, "a@");
    for (int i = 0; i < 4; i++)
        strcat(address, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
    strcat(address, "jp"); /* 2 + 4 × 64 + 2 = 260 */
    assert_false(mail_address_valid(address));

    mail_message m = sample_message();
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.to_address = bad[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
        m.to_address = "ok@example.jp";
        m.from_address = bad[i];
        assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
        m.from_address = "noreply@nsdb.example.go.jp";
    }
    assert_int_equal(out.len, 0);
    strbuf_free(&out);
}

static void compose_generates_a_message_id_in_the_sender_domain(void **state)
{
    (void)state;
    mail_message m = sample_message();
    m.message_id = NULL;
    strbuf first = STRBUF_INIT;
    strbuf second = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &first), NSDB_OK);
    assert_int_equal(mail_compose(&m, &second), NSDB_OK);
    char *id1 = header_value(first.data, "Message-ID");
    char *id2 = header_value(second.data, "Message-ID");
    assert_int_equal(strlen(id1), 1 + 32 + strlen("@nsdb.example.go.jp") + 1);
    assert_true(id1[0] == '<');
    assert_string_equal(id1 + 33, "@nsdb.example.go.jp>");
    assert_string_not_equal(id1, id2);
    free(id1);
    free(id2);
    strbuf_free(&first);
    strbuf_free(&second);
}

static void compose_refuses_dates_out_of_range(void **state)
{
    (void)state;
    mail_message m = sample_message();
    strbuf out = STRBUF_INIT;
    m.date = -1;
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    m.date = 400000000000LL;
    assert_int_equal(mail_compose(&m, &out), NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0);
    strbuf_free(&out);
}

static void compose_appends_to_existing_output(void **state)
{
    (void)state;
    mail_message m = sample_message();
    strbuf out = STRBUF_INIT;
    strbuf_puts(&out, "prefix");
    assert_int_equal(mail_compose(&m, &out), NSDB_OK);
    assert_true(str_starts_with(out.data, "prefixDate: "));
    strbuf_free(&out);
}

/* ---------------------------------------------------------------- the ⑦ mail ---- */

static void account_issued_mail_carries_id_password_url_and_instruction(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose_account_issued("admin@city.example.lg.jp", "佐藤 花子",
                                                 "千代田区", "AB23CD45EF6G", "K7MNP2QRS9TU",
                                                 "https://nsdb.example.go.jp/login", NEW_YEAR_JST,
                                                 &out),
                     NSDB_OK);
    assert_crlf_only(out.data, out.len);
    assert_line_lengths(out.data);
    /* The password travels only inside the base64 body, never as clear text. */
    assert_null(strstr(out.data, "K7MNP2QRS9TU"));

    char *subject_value = header_value(out.data, "Subject");
    size_t words = 0;
    char *subject = decode_encoded_words(subject_value, &words);
    assert_string_equal(subject, MAIL_ACCOUNT_ISSUED_SUBJECT);
    assert_string_equal(subject, "【難病・小慢DB】自治体管理者ユーザIDと初期パスワードのお知らせ");
    assert_true(words >= 2);

    char *from = header_value(out.data, "From");
    assert_non_null(strstr(from, " <" MAIL_DEFAULT_FROM_ADDRESS ">"));
    *strstr(from, " <") = '\0';
    char *from_name = decode_encoded_words(from, NULL);
    assert_string_equal(from_name, "難病・小慢DB");

    char *body = decoded_body(out.data);
    static const char *const expected[] = {
        "千代田区\r\n佐藤 花子 様\r\n",
        "自治体管理者ユーザを発行",
        "■ユーザID\r\nAB23CD45EF6G\r\n",
        "■初期パスワード\r\nK7MNP2QRS9TU\r\n",
        "■ログインURL\r\nhttps://nsdb.example.go.jp/login\r\n",
        "初回ログイン時にパスワードの変更が必要です。",
        "厳重に管理してください",
        "自動送信",
        "ご返信いただいてもお答えできません",
        "難病・小慢DB\r\n",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_non_null(strstr(body, expected[i]));
    free(subject_value);
    free(subject);
    free(from);
    free(from_name);
    free(body);
    strbuf_free(&out);
}

static void account_issued_mail_without_names_and_with_own_sender(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose_account_issued_from("mail@nsdb.mhlw.example.jp",
                                                      "admin@city.example.lg.jp", NULL, NULL,
                                                      "AB23CD45EF6G", "K7MNP2QRS9TU",
                                                      "http://127.0.0.1:8080/login", 0, &out),
                     NSDB_OK);
    char *from = header_value(out.data, "From");
    assert_non_null(strstr(from, " <mail@nsdb.mhlw.example.jp>"));
    char *id = header_value(out.data, "Message-ID");
    assert_non_null(strstr(id, "@nsdb.mhlw.example.jp>"));
    char *body = decoded_body(out.data);
    assert_true(str_starts_with(body, "自治体管理者 様\r\n"));
    assert_non_null(strstr(out.data, "\r\nTo: admin@city.example.lg.jp\r\n"));
    free(from);
    free(id);
    free(body);
    strbuf_free(&out);
}

static void account_issued_mail_refuses_bad_values(void **state)
{
    (void)state;
    strbuf out = STRBUF_INIT;
    const char *to = "admin@city.example.lg.jp";
    const char *url = "https://nsdb.example.go.jp/login";
    assert_int_equal(mail_compose_account_issued("not-an-address", NULL, NULL, "AB23CD45EF6G",
                                                 "K7MNP2QRS9TU", url, 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, "x\r\nBcc: a@b.jp", NULL, "AB23CD45EF6G",
                                                 "K7MNP2QRS9TU", url, 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, "市\n", "AB23CD45EF6G",
                                                 "K7MNP2QRS9TU", url, 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, "AB23 CD45", "K7MNP2QRS9TU",
                                                 url, 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, "AB23CD45EF6G", "K7MN\nP2",
                                                 url, 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, "AB23CD45EF6G", "", url, 0,
                                                 &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, NULL, "K7MNP2QRS9TU", url, 0,
                                                 &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, "AB23CD45EF6G", "K7MNP2QRS9TU",
                                                 "javascript:alert(1)", 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(mail_compose_account_issued(to, NULL, NULL, "AB23CD45EF6G", "K7MNP2QRS9TU",
                                                 "https://x/ y", 0, &out),
                     NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0);
    strbuf_free(&out);
}

/* ---------------------------------------------------------------- SMTP ---- */

typedef struct sink {
    const char *python; /* NULL: no python3 with aiosmtpd, SMTP sink tests skip */
    pid_t pid;
    int port;
    char dir[64];
    char url[64];
    int delivered;
} sink;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs argv with stdout and stderr to /dev/null (quiet) or inherited; returns the pid or -1. */
static pid_t spawn(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (quiet)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
}

static bool python_has_aiosmtpd(const char *python)
{
    char *argv[] = {(char *)python, "-c", "import aiosmtpd", NULL};
    pid_t pid = spawn(argv, true);
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* python3 on PATH may be a pyenv or venv interpreter without Debian's packages: try the
 * system one too. NSDB_PYTHON overrides. */
static const char *find_python_with_aiosmtpd(void)
{
    const char *candidates[] = {getenv("NSDB_PYTHON"), "python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (candidates[i] != NULL && python_has_aiosmtpd(candidates[i]))
            return candidates[i];
    return NULL;
}

/* A loopback port nobody listens on (the kernel's pick, released again). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    if (sb.data == NULL)
        strbuf_append(&sb, "", 0);
    return strbuf_detach(&sb, NULL);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static bool sink_start(sink *s)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || strlen(tmp) >= 40)
        tmp = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/nsdb-smtp-XXXXXX", tmp);
    if (mkdtemp(s->dir) == NULL)
        return false;
    if (access(SINK_SCRIPT, R_OK) != 0) {
        fprintf(stderr, "test_mail: %s not found; run the tests from the repository root\n",
                SINK_SCRIPT);
        return false;
    }
    s->port = free_port();
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    char *argv[] = {(char *)s->python, SINK_SCRIPT,        port, s->dir, "--refuse",
                    REFUSED_RECIPIENT, "--tempfail", TEMPFAIL_RECIPIENT, NULL};
    s->pid = spawn(argv, false);
    if (s->pid <= 0)
        return false;
    char ready[128];
    snprintf(ready, sizeof ready, "%s/.ready", s->dir);
    for (double deadline = now_seconds() + 20; now_seconds() < deadline; sleep_ms(50)) {
        if (access(ready, F_OK) == 0)
            return true;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            fprintf(stderr, "test_mail: smtp_sink.py exited before it was ready\n");
            return false;
        }
    }
    fprintf(stderr, "test_mail: smtp_sink.py did not become ready\n");
    return false;
}

static void sink_stop(sink *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        waitpid(s->pid, &status, 0);
        s->pid = 0;
    }
    if (s->dir[0] != '\0')
        remove_dir(s->dir);
}

static int smtp_group_setup(void **state)
{
    smtp_global_init();
    sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    *state = s;
    s->python = find_python_with_aiosmtpd();
    if (s->python == NULL) {
        fprintf(stderr, "SKIP: no python3 can import aiosmtpd (Debian: apt-get install "
                        "python3-aiosmtpd; or set NSDB_PYTHON); the loopback SMTP tests are "
                        "skipped\n");
        return 0;
    }
    if (!sink_start(s)) {
        sink_stop(s);
        return -1;
    }
    return 0;
}

static int smtp_group_teardown(void **state)
{
    sink *s = *state;
    sink_stop(s);
    free(s);
    smtp_global_cleanup();
    return 0;
}

static void skip_without_sink(const sink *s)
{
    if (s->python == NULL) {
        print_message("SKIP: python3 with aiosmtpd not available\n");
        skip();
    }
}

static void smtp_delivers_the_account_mail_to_a_loopback_server(void **state)
{
    sink *s = *state;
    skip_without_sink(s);
    strbuf message = STRBUF_INIT;
    assert_int_equal(mail_compose_account_issued("admin@city.example.lg.jp", "佐藤 花子",
                                                 "千代田区", "AB23CD45EF6G", "K7MNP2QRS9TU",
                                                 "https://nsdb.example.go.jp/login",
                                                 (long long)time(NULL), &message),
                     NSDB_OK);
    smtp_config cfg = {s->url, "noreply@nsdb.example.go.jp", 10, false};
    char *error = (char *)"untouched";
    assert_int_equal(smtp_send(&cfg, "admin@city.example.lg.jp", message.data, message.len,
                               &error),
                     NSDB_OK);
    assert_null(error);

    /* The sink writes the files before it answers 250, so they exist now. */
    s->delivered++;
    char path[128];
    snprintf(path, sizeof path, "%s/msg-%04d.json", s->dir, s->delivered);
    char *meta_text = read_file(path);
    assert_non_null(meta_text);
    json_error_t json_error;
    json_t *meta = json_loads(meta_text, 0, &json_error);
    assert_non_null(meta);
    assert_string_equal(json_string_value(json_object_get(meta, "mail_from")),
                        "noreply@nsdb.example.go.jp");
    json_t *rcpts = json_object_get(meta, "rcpt_tos");
    assert_int_equal(json_array_size(rcpts), 1);
    assert_string_equal(json_string_value(json_array_get(rcpts, 0)), "admin@city.example.lg.jp");
    json_decref(meta);
    free(meta_text);

    snprintf(path, sizeof path, "%s/msg-%04d.eml", s->dir, s->delivered);
    char *received = read_file(path);
    assert_non_null(received);
    char *sent_subject = header_value(message.data, "Subject");
    char *received_subject = header_value(received, "Subject");
    assert_non_null(received_subject);
    assert_true(str_starts_with(received_subject, "=?UTF-8?B?"));
    assert_string_equal(received_subject, sent_subject);
    char *decoded = decode_encoded_words(received_subject, NULL);
    assert_string_equal(decoded, MAIL_ACCOUNT_ISSUED_SUBJECT);
    char *body = decoded_body(received);
    assert_non_null(strstr(body, "K7MNP2QRS9TU"));
    assert_string_equal(received, message.data); /* byte for byte */
    free(body);
    free(decoded);
    free(sent_subject);
    free(received_subject);
    free(received);
    strbuf_free(&message);
}

static void smtp_refused_recipient_is_a_permanent_failure(void **state)
{
    sink *s = *state;
    skip_without_sink(s);
    mail_message m = sample_message();
    m.to_address = REFUSED_RECIPIENT;
    strbuf message = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &message), NSDB_OK);
    smtp_config cfg = {s->url, "noreply@nsdb.example.go.jp", 10, false};
    char *error = NULL;
    assert_int_equal(smtp_send(&cfg, REFUSED_RECIPIENT, message.data, message.len, &error),
                     NSDB_ERR_INVALID);
    assert_non_null(error);
    assert_non_null(strstr(error, "550"));
    free(error);
    strbuf_free(&message);
}

static void smtp_temporarily_refused_recipient_is_worth_retrying(void **state)
{
    sink *s = *state;
    skip_without_sink(s);
    mail_message m = sample_message();
    m.to_address = TEMPFAIL_RECIPIENT;
    strbuf message = STRBUF_INIT;
    assert_int_equal(mail_compose(&m, &message), NSDB_OK);
    smtp_config cfg = {s->url, "noreply@nsdb.example.go.jp", 10, false};
    char *error = NULL;
    assert_int_equal(smtp_send(&cfg, TEMPFAIL_RECIPIENT, message.data, message.len, &error),
                     NSDB_ERR_IO);
    assert_non_null(error);
    assert_non_null(strstr(error, "451"));
    free(error);
    strbuf_free(&message);
}

static void smtp_required_tls_without_starttls_is_refused(void **state)
{
    sink *s = *state;
    skip_without_sink(s);
    /* The sink offers no STARTTLS: with TLS required nothing may go out in clear text. */
    smtp_config cfg = {s->url, "noreply@nsdb.example.go.jp", 10, true};
    char *error = NULL;
    const char msg[] = "Subject: x\r\n\r\nx\r\n";
    assert_int_equal(smtp_send(&cfg, "admin@city.example.lg.jp", msg, sizeof msg - 1, &error),
                     NSDB_ERR_IO);
    assert_non_null(error);
    free(error);
}

static void smtp_connection_refused_fails_quickly_and_is_worth_retrying(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", free_port());
    smtp_config cfg = {url, "noreply@nsdb.example.go.jp", 10, false};
    const char msg[] = "Subject: x\r\n\r\nx\r\n";
    char *error = NULL;
    double start = now_seconds();
    assert_int_equal(smtp_send(&cfg, "admin@city.example.lg.jp", msg, sizeof msg - 1, &error),
                     NSDB_ERR_IO);
    assert_true(now_seconds() - start < 3.0);
    assert_non_null(error);
    assert_true(strlen(error) > 0);
    free(error);
}

static void smtp_silent_server_times_out(void **state)
{
    (void)state;
    /* A listening socket nobody accepts from: the connection completes, no greeting comes. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", ntohs(addr.sin_port));
    smtp_config cfg = {url, "noreply@nsdb.example.go.jp", 1, false};
    const char msg[] = "Subject: x\r\n\r\nx\r\n";
    char *error = NULL;
    double start = now_seconds();
    assert_int_equal(smtp_send(&cfg, "admin@city.example.lg.jp", msg, sizeof msg - 1, &error),
                     NSDB_ERR_IO);
    double elapsed = now_seconds() - start;
    assert_true(elapsed >= 0.9 && elapsed < 5.0);
    assert_non_null(error);
    free(error);
    close(fd);
}

static void smtp_refuses_invalid_arguments_without_connecting(void **state)
{
    (void)state;
    smtp_config cfg = {"smtp://127.0.0.1:9", "noreply@nsdb.example.go.jp", 1, false};
    const char msg[] = "x";
    char *error = NULL;
    assert_int_equal(smtp_send(&cfg, "a@b.jp\r\nRCPT TO:<x@y.jp>", msg, 1, &error),
                     NSDB_ERR_INVALID);
    assert_non_null(error);
    free(error);
    cfg.from_address = "bad address";
    assert_int_equal(smtp_send(&cfg, "a@b.jp", msg, 1, NULL), NSDB_ERR_INVALID);
    cfg.from_address = "noreply@nsdb.example.go.jp";
    cfg.url = NULL;
    assert_int_equal(smtp_send(&cfg, "a@b.jp", msg, 1, NULL), NSDB_ERR_INVALID);
    /* Only SMTP may carry a message: a file:// URL must not write it anywhere. */
    cfg.url = "file:///tmp/nsdb-test-mail-must-not-exist";
    error = NULL;
    assert_int_equal(smtp_send(&cfg, "a@b.jp", msg, 1, &error), NSDB_ERR_IO);
    assert_int_equal(access("/tmp/nsdb-test-mail-must-not-exist", F_OK), -1);
    free(error);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest compose_tests[] = {
        cmocka_unit_test(compose_writes_rfc5322_mime_headers_with_crlf),
        cmocka_unit_test(compose_date_is_japan_time),
        cmocka_unit_test(compose_subject_is_b_encoded_and_decodes_back),
        cmocka_unit_test(compose_long_subject_splits_on_character_boundaries),
        cmocka_unit_test(compose_plain_ascii_stays_readable),
        cmocka_unit_test(compose_body_is_base64_of_the_crlf_text),
        cmocka_unit_test(compose_refuses_header_injection),
        cmocka_unit_test(address_validation),
        cmocka_unit_test(compose_generates_a_message_id_in_the_sender_domain),
        cmocka_unit_test(compose_refuses_dates_out_of_range),
        cmocka_unit_test(compose_appends_to_existing_output),
        cmocka_unit_test(account_issued_mail_carries_id_password_url_and_instruction),
        cmocka_unit_test(account_issued_mail_without_names_and_with_own_sender),
        cmocka_unit_test(account_issued_mail_refuses_bad_values),
    };
    const struct CMUnitTest smtp_tests[] = {
        cmocka_unit_test(smtp_delivers_the_account_mail_to_a_loopback_server),
        cmocka_unit_test(smtp_refused_recipient_is_a_permanent_failure),
        cmocka_unit_test(smtp_temporarily_refused_recipient_is_worth_retrying),
        cmocka_unit_test(smtp_required_tls_without_starttls_is_refused),
        cmocka_unit_test(smtp_connection_refused_fails_quickly_and_is_worth_retrying),
        cmocka_unit_test(smtp_silent_server_times_out),
        cmocka_unit_test(smtp_refuses_invalid_arguments_without_connecting),
    };
    int failed = cmocka_run_group_tests_name("mail composition", compose_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("smtp delivery", smtp_tests, smtp_group_setup,
                                          smtp_group_teardown);
    return failed == 0 ? 0 : 1;
}
