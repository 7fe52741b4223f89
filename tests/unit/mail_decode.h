/*
 * mail_decode.h — what test_mail.c and test_smtp.c share, written once: reading a composed
 * message back as a mail client would (a header's value unfolded, a run of B encoded-words
 * decoded with each word's length and UTF-8 checked, the base64 body decoded) and a sample
 * message to compose. Everything is static inline, as in test_support.h; the caller runs
 * sodium_init() first.
 */
#ifndef NSDB_TEST_MAIL_DECODE_H
#define NSDB_TEST_MAIL_DECODE_H

#include "test_support.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "domain/mail.h"
#include "util/str.h"

/* 2024-12-31 15:00:00 UTC, i.e. New Year's midnight in Japan. */
#define NEW_YEAR_JST 1735657200LL

/* Base64 (original alphabet, CR and LF ignored) to a malloc'd NUL-terminated string. */
static inline char *base64_decode(const char *b64, size_t n)
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

static inline size_t header_block_length(const char *msg)
{
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    return (size_t)(end - msg) + 2;
}

/* The value of header name, unfolded (CRLF before white space removed), malloc'd; or NULL. */
static inline char *header_value(const char *msg, const char *name)
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
static inline char *decode_encoded_words(const char *value, size_t *words_out)
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
static inline char *decoded_body(const char *msg)
{
    const char *body = strstr(msg, "\r\n\r\n") + 4;
    return base64_decode(body, strlen(body));
}

static inline mail_message sample_message(void)
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

#endif
