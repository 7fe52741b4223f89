/*
 * test_mail.c — composition of Japanese mail (domain/mail.c), checked by decoding what was written
 * (mail_decode.h): every header line and encoded-word within its limit, subjects and names
 * decoding back, the body decoding to the CRLF text, every way a value could smuggle in a header
 * refused, and the ⑦ account mail. Its delivery over SMTP is test_smtp.c.
 */
#include "mail_decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/mail.h"
#include "util/str.h"

/* ---------------------------------------------------------------- helpers: checking ---- */

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

static void account_issued_mail_carries_the_helpdesk(void **state)
{
    (void)state;
    mail_account_issued in = {NULL, "admin@city.example.lg.jp", "佐藤 花子", "千代田区",
                              "AB23CD45EF6G", "K7MNP2QRS9TU", "https://nsdb.example.go.jp/login",
                              "電話 03-0000-0000（平日9時〜17時）", 0};
    strbuf out = STRBUF_INIT;
    assert_int_equal(mail_compose_account_issued_message(&in, &out), NSDB_OK);
    char *body = decoded_body(out.data);
    assert_non_null(strstr(body, "＜難病・小慢データベース利用者お問い合わせ窓口（ヘルプデスク）＞\r\n"
                                 "電話 03-0000-0000（平日9時〜17時）\r\n"));
    assert_non_null(strstr(body, "https://nsdb.example.go.jp/login"));
    free(body);
    strbuf_free(&out);
    /* without one, no heading; a contact that would add a line is refused */
    in.helpdesk = NULL;
    assert_int_equal(mail_compose_account_issued_message(&in, &out), NSDB_OK);
    body = decoded_body(out.data);
    assert_null(strstr(body, "ヘルプデスク"));
    free(body);
    strbuf_free(&out);
    in.helpdesk = "x\r\nBcc: a@b.jp";
    assert_int_equal(mail_compose_account_issued_message(&in, &out), NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0);
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
        cmocka_unit_test(account_issued_mail_carries_the_helpdesk),
        cmocka_unit_test(account_issued_mail_refuses_bad_values),
    };
    return cmocka_run_group_tests_name("mail composition", compose_tests, NULL, NULL);
}
