/*
 * test_multipart.c — the multipart/form-data parser (http/multipart.c): the shapes browsers
 * send, the file bytes kept exactly (NUL, CRLF, near-boundaries), file names, the limits, and
 * malformed or truncated bodies that must fail with NSDB_ERR_PARSE and never read out of bounds
 * (the truncation and mutation loops are meant for the ASan build: each body is malloc'd at its
 * exact length).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/multipart.h"
#include "util/str.h"

#define BOUNDARY "----nsdbFormBoundary7MA4YWxkTrZu0gW"
#define CT "multipart/form-data; boundary=" BOUNDARY
#define DELIM "--" BOUNDARY "\r\n"
#define CLOSE "--" BOUNDARY "--\r\n"
#define DISPOSITION(name) "Content-Disposition: form-data; name=\"" name "\"\r\n"

enum { BIG_PART = 10 * 1024 * 1024, HUGE_PART = 32 * 1024 * 1024, MUTATIONS = 20000 };

static int arena_setup(void **state)
{
    *state = arena_new();
    return 0;
}

static int arena_teardown(void **state)
{
    arena_free(*state);
    return 0;
}

/* Parses a copy of body[0..len) held in a buffer of exactly len bytes, so that ASan sees any
 * read past the end. */
static nsdb_err parse_exact(arena *a, const char *content_type, const char *body, size_t len,
                            http_param **out)
{
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, body, len);
    nsdb_err err = http_parse_multipart(a, content_type, copy, len, out);
    free(copy);
    return err;
}

/* String literal bodies may hold NUL bytes: their length comes from sizeof. */
#define PARSE(a, ct, literal, out) parse_exact((a), (ct), (literal), sizeof(literal) - 1, (out))

static size_t param_count(const http_param *p)
{
    size_t n = 0;
    for (; p != NULL; p = p->next)
        n++;
    return n;
}

static void assert_text_param(const http_param *p, const char *name, const char *value)
{
    assert_non_null(p);
    assert_string_equal(p->name, name);
    assert_string_equal(p->value, value);
    assert_int_equal(p->value_len, strlen(value));
    assert_null(p->filename);
    assert_null(p->content_type);
}

static const char SIMPLE_FORM[] = DELIM DISPOSITION("csrf") "\r\n"
                                        "tok123\r\n" DELIM DISPOSITION("municipality_id") "\r\n"
                                        "131016\r\n" DELIM
                                        "Content-Disposition: form-data; name=\"file\"; "
                                        "filename=\"users.csv\"\r\n"
                                        "Content-Type: text/csv\r\n"
                                        "\r\n"
                                        "user_id,name\r\nA1,Sato\r\n"
                                        "\r\n" CLOSE;

static void simple_form_gives_text_fields_and_the_file(void **state)
{
    http_param *p;
    assert_int_equal(PARSE(*state, CT, SIMPLE_FORM, &p), NSDB_OK);
    assert_int_equal(param_count(p), 3);
    assert_text_param(p, "csrf", "tok123");
    assert_text_param(p->next, "municipality_id", "131016");
    const http_param *f = p->next->next;
    assert_string_equal(f->name, "file");
    assert_string_equal(f->filename, "users.csv");
    assert_string_equal(f->content_type, "text/csv");
    assert_string_equal(f->value, "user_id,name\r\nA1,Sato\r\n");
    assert_int_equal(f->value_len, strlen("user_id,name\r\nA1,Sato\r\n"));
}

static void boundary_may_be_quoted_or_not(void **state)
{
    static const char body[] = "--a b:c\r\n" DISPOSITION("x") "\r\n1\r\n--a b:c--";
    static const char *const quoted[] = {
        "multipart/form-data; boundary=\"a b:c\"",
        "Multipart/Form-Data;boundary=\"a b:c\"",
        "multipart/form-data; charset=utf-8; BOUNDARY=\"a b:c\" ",
    };
    for (size_t i = 0; i < sizeof quoted / sizeof *quoted; i++) {
        http_param *p;
        assert_int_equal(PARSE(*state, quoted[i], body, &p), NSDB_OK);
        assert_text_param(p, "x", "1");
        assert_null(p->next);
    }
    static const char *const unquoted[] = {
        "multipart/form-data; boundary=" BOUNDARY,
        "MULTIPART/FORM-DATA ;boundary=" BOUNDARY ";",
        "multipart/form-data; boundary=" BOUNDARY "; charset=utf-8",
    };
    for (size_t i = 0; i < sizeof unquoted / sizeof *unquoted; i++) {
        http_param *p;
        assert_int_equal(PARSE(*state, unquoted[i], SIMPLE_FORM, &p), NSDB_OK);
        assert_int_equal(param_count(p), 3);
    }
}

static void file_bytes_are_kept_exactly(void **state)
{
    /* NUL bytes, CRLFs, "--" + boundary prefix, and the full boundary not ending a line (data,
     * as the close delimiter must be followed by "--" or padding and CRLF). */
    static const char data[] = "a\0b\r\n\r\n\0\r\n--\r\n--" "----nsdbFormBound" "\r\n--"
                               BOUNDARY "x\r\n\r\n-" BOUNDARY "\r\n\0";
    static const char body[] = DELIM "Content-Disposition: form-data; name=\"f\"; "
                                     "filename=\"bin.dat\"\r\n"
                                     "Content-Type: application/octet-stream\r\n\r\n" "a\0b\r\n\r\n\0\r\n--\r\n--"
                                     "----nsdbFormBound" "\r\n--" BOUNDARY "x\r\n\r\n-" BOUNDARY
                                     "\r\n\0"
                                     "\r\n" CLOSE;
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 1);
    assert_int_equal(p->value_len, sizeof data - 1);
    assert_memory_equal(p->value, data, sizeof data - 1);
    assert_int_equal(p->value[p->value_len], '\0');
}

static void file_name_keeps_only_the_last_path_component(void **state)
{
    static const struct {
        const char *disposition;
        const char *filename;
    } cases[] = {
        {"form-data; name=\"f\"; filename=\"C:\\Users\\x\\a.csv\"", "a.csv"},
        {"form-data; name=\"f\"; filename=\"C:\\\\Users\\\\x\\\\b.csv\"", "b.csv"},
        {"form-data; name=\"f\"; filename=\"/home/x/c.csv\"", "c.csv"},
        {"form-data; name=\"f\"; filename=\"../../etc/passwd\"", "passwd"},
        {"form-data; name=\"f\"; filename=\"..\"", ""},
        {"form-data; name=\"f\"; filename=\"a \\\"quoted\\\" name.xlsx\"", "a \"quoted\" name.xlsx"},
        {"form-data; name=\"f\"; filename=plain.csv", "plain.csv"},
        {"form-data; name=\"f\"; filename=\"\"", ""},
        {"form-data; filename=\"x; name=\\\"g\\\".csv\"; name=\"f\"", "x; name=\"g\".csv"},
        /* CP932 (issue 14): 申 is 90 5C, 表 is 95 5C; their 5C is no path separator */
        {"form-data; name=\"f\"; filename=\"\x90\x5c\x90\xbf\x8f\x91.xlsx\"",
         "\x90\x5c\x90\xbf\x8f\x91.xlsx"},
        {"form-data; name=\"f\"; filename=\"docs/\x95\x5c/\x90\x5c\x90\xbf\x8f\x91.xlsx\"",
         "\x90\x5c\x90\xbf\x8f\x91.xlsx"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = arena_printf(*state, DELIM "Content-Disposition: %s\r\n\r\nx\r\n" CLOSE,
                                  cases[i].disposition);
        http_param *p;
        assert_int_equal(parse_exact(*state, CT, body, strlen(body), &p), NSDB_OK);
        assert_string_equal(p->name, "f");
        assert_non_null(p->filename);
        assert_string_equal(p->filename, cases[i].filename);
        assert_string_equal(p->content_type, "application/octet-stream");
    }
}

static void utf8_filename_star_is_preferred(void **state)
{
    static const struct {
        const char *disposition;
        const char *filename;
    } cases[] = {
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; "
         "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.csv",
         "日本語.csv"},
        {"form-data; name=\"f\"; filename*=utf-8'ja'C%3A%5Cdir%5C%E6%97%A5.csv; filename=\"x.csv\"",
         "日.csv"},
        /* Not UTF-8, bad escapes, invalid UTF-8 or controls: the plain filename is used. */
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; filename*=ISO-8859-1''%E9.csv",
         "fallback.csv"},
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; filename*=UTF-8''%E6%9", "fallback.csv"},
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; filename*=UTF-8''%FF.csv", "fallback.csv"},
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; filename*=UTF-8''a%0Ab.csv", "fallback.csv"},
        {"form-data; name=\"f\"; filename=\"fallback.csv\"; filename*=UTF-8''a%00b.csv", "fallback.csv"},
        {"form-data; name=\"f\"; filename*=UTF-8''%ZZ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = arena_printf(*state, DELIM "Content-Disposition: %s\r\n\r\nx\r\n" CLOSE,
                                  cases[i].disposition);
        http_param *p;
        assert_int_equal(parse_exact(*state, CT, body, strlen(body), &p), NSDB_OK);
        assert_string_equal(p->filename, cases[i].filename);
    }
}

static void japanese_field_values_are_kept(void **state)
{
    static const char body[] = DELIM DISPOSITION("name") "\r\n"
                                     "山田　太郎\r\n" DELIM DISPOSITION("note") "\r\n"
                                     "第１行\r\n第２行\r\n" CLOSE;
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 2);
    assert_text_param(p, "name", "山田　太郎");
    assert_text_param(p->next, "note", "第１行\r\n第２行");
}

static void repeated_field_names_keep_their_order(void **state)
{
    static const char body[] = DELIM DISPOSITION("user_id") "\r\nA1\r\n" DELIM
        DISPOSITION("action") "\r\nsuspend\r\n" DELIM DISPOSITION("user_id") "\r\nB2\r\n" DELIM
            DISPOSITION("user_id") "\r\nC3\r\n" CLOSE;
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 4);
    assert_text_param(p, "user_id", "A1");
    assert_text_param(p->next, "action", "suspend");
    assert_text_param(p->next->next, "user_id", "B2");
    assert_text_param(p->next->next->next, "user_id", "C3");
}

static void empty_parts_have_zero_length(void **state)
{
    /* An <input type=file> with no file chosen, an empty text field, an empty file. */
    static const char body[] = DELIM "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
                                     "Content-Type: application/octet-stream\r\n\r\n"
                                     "\r\n" DELIM DISPOSITION("t") "\r\n"
                                     "\r\n" DELIM
                                     "Content-Disposition: form-data; name=\"g\"; filename=\"e.csv\"\r\n"
                                     "Content-Type: text/csv\r\n\r\n"
                                     "\r\n" CLOSE;
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 3);
    assert_string_equal(p->filename, "");
    assert_int_equal(p->value_len, 0);
    assert_string_equal(p->value, "");
    assert_text_param(p->next, "t", "");
    assert_string_equal(p->next->next->filename, "e.csv");
    assert_int_equal(p->next->next->value_len, 0);
}

static void form_without_parts_is_empty(void **state)
{
    http_param *p = (http_param *)1;
    assert_int_equal(PARSE(*state, CT, CLOSE, &p), NSDB_OK);
    assert_null(p);
}

static void missing_closing_boundary_is_a_parse_error(void **state)
{
    static const char *const bodies[] = {
        DELIM DISPOSITION("a") "\r\n1\r\n",
        DELIM DISPOSITION("a") "\r\n1\r\n--" BOUNDARY,
        DELIM DISPOSITION("a") "\r\n1\r\n--" BOUNDARY "-",
        DELIM DISPOSITION("a") "\r\n1\r\n--" BOUNDARY "  ",
        DELIM DISPOSITION("a") "\r\n1\r\n--" BOUNDARY "x--",
        DELIM DISPOSITION("a") "\r\n1--" BOUNDARY "--",
        DELIM DISPOSITION("a"),
        DELIM,
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        http_param *p = (http_param *)1;
        assert_int_equal(parse_exact(*state, CT, bodies[i], strlen(bodies[i]), &p), NSDB_ERR_PARSE);
        assert_null(p);
    }
}

static void content_type_without_usable_boundary_is_a_parse_error(void **state)
{
    static const char *const types[] = {
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"" BOUNDARY,
        "multipart/form-data; boundary",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=\"" BOUNDARY "\" junk",
        "multipart/form-data; boundary=" /* 71 characters */
        "12345678901234567890123456789012345678901234567890123456789012345678901",
        "multipart/mixed; boundary=" BOUNDARY,
        "multipart/form-dataX; boundary=" BOUNDARY,
        "application/x-www-form-urlencoded",
        "",
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        http_param *p = (http_param *)1;
        assert_int_equal(PARSE(*state, types[i], SIMPLE_FORM, &p), NSDB_ERR_PARSE);
        assert_null(p);
    }
    http_param *p;
    assert_int_equal(PARSE(*state, NULL, SIMPLE_FORM, &p), NSDB_ERR_PARSE);
    /* 70 characters is the longest boundary RFC 2046 allows. */
    static const char b70[] = "1234567890123456789012345678901234567890123456789012345678901234567890";
    char *body = arena_printf(*state, "--%s\r\n" DISPOSITION("a") "\r\n1\r\n--%s--", b70, b70);
    char *ct = arena_printf(*state, "multipart/form-data; boundary=%s", b70);
    assert_int_equal(parse_exact(*state, ct, body, strlen(body), &p), NSDB_OK);
    assert_text_param(p, "a", "1");
}

static void parts_without_a_form_data_name_are_parse_errors(void **state)
{
    static const char *const bodies[] = {
        DELIM "Content-Type: text/plain\r\n\r\nx\r\n" CLOSE,
        DELIM "\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: form-data\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: form-data; filename=\"a.csv\"\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: form-data; name=\"a\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: form-data; name\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition form-data; name=\"a\"\r\n\r\nx\r\n" CLOSE,
        DELIM "Content-Disposition: form-data; name=\"a\"\nX: y\r\n\r\nx\r\n" CLOSE,
        DELIM DISPOSITION("ok") "\r\n1\r\n" DELIM "Content-Disposition: form-data\r\n\r\nx\r\n" CLOSE,
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        http_param *p = (http_param *)1;
        assert_int_equal(parse_exact(*state, CT, bodies[i], strlen(bodies[i]), &p), NSDB_ERR_PARSE);
        assert_null(p);
    }
}

static void headers_are_read_leniently_where_rfcs_allow(void **state)
{
    /* Case-insensitive names and parameters, unquoted values, folded lines, padding after the
     * delimiter, headers we do not know. */
    static const char body[] = "--" BOUNDARY " \t\r\n"
                               "content-disposition:FORM-DATA;NAME=a;\r\n"
                               "X-Unknown: 1\r\n\r\n1\r\n"
                               "--" BOUNDARY "\r\n"
                               "Content-Disposition: form-data;\r\n"
                               "\tname=\"b\"; filename=\"b.csv\"\r\n"
                               "CONTENT-TYPE:  text/csv; charset=utf-8  \r\n\r\n2\r\n"
                               "--" BOUNDARY "--";
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 2);
    assert_text_param(p, "a", "1");
    assert_string_equal(p->next->name, "b");
    assert_string_equal(p->next->filename, "b.csv");
    assert_string_equal(p->next->content_type, "text/csv; charset=utf-8");
    assert_string_equal(p->next->value, "2");
}

static void preamble_and_epilogue_are_ignored(void **state)
{
    static const char body[] = "This is a preamble.\r\n--" BOUNDARY "x is not a delimiter\r\n"
                               "\r\n--" BOUNDARY "\r\n" DISPOSITION("a") "\r\n1\r\n"
                               "--" BOUNDARY "--\r\nThis is the epilogue.\r\n--" BOUNDARY
                               "\r\n" DISPOSITION("b") "\r\n2\r\n";
    http_param *p;
    assert_int_equal(PARSE(*state, CT, body, &p), NSDB_OK);
    assert_int_equal(param_count(p), 1);
    assert_text_param(p, "a", "1");

    static const char no_crlf_epilogue[] = DELIM DISPOSITION("a") "\r\n1\r\n--" BOUNDARY "--";
    assert_int_equal(PARSE(*state, CT, no_crlf_epilogue, &p), NSDB_OK);
    assert_text_param(p, "a", "1");
}

static void header_block_is_limited_to_8_kb(void **state)
{
    /* A header block of exactly the limit passes; one byte more fails. */
    for (size_t extra = 0; extra <= 1; extra++) {
        strbuf sb = STRBUF_INIT;
        strbuf_puts(&sb, DELIM DISPOSITION("a"));
        size_t block_start = strlen(DELIM);
        size_t block_len = HTTP_MULTIPART_MAX_HEADER_BLOCK + extra;
        strbuf_puts(&sb, "X-Pad: ");
        while (sb.len - block_start < block_len)
            strbuf_putc(&sb, 'p');
        strbuf_puts(&sb, "\r\n\r\nv\r\n" CLOSE);
        http_param *p;
        nsdb_err err = parse_exact(*state, CT, sb.data, sb.len, &p);
        assert_int_equal(err, extra == 0 ? NSDB_OK : NSDB_ERR_PARSE);
        if (err == NSDB_OK)
            assert_text_param(p, "a", "v");
        strbuf_free(&sb);
    }
}

static void parts_are_limited_to_1000(void **state)
{
    for (size_t parts = HTTP_MULTIPART_MAX_PARTS; parts <= HTTP_MULTIPART_MAX_PARTS + 1; parts++) {
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < parts; i++)
            strbuf_puts(&sb, DELIM DISPOSITION("user_id") "\r\nA\r\n");
        strbuf_puts(&sb, CLOSE);
        http_param *p;
        nsdb_err err = parse_exact(*state, CT, sb.data, sb.len, &p);
        if (parts == HTTP_MULTIPART_MAX_PARTS) {
            assert_int_equal(err, NSDB_OK);
            assert_int_equal(param_count(p), parts);
        } else {
            assert_int_equal(err, NSDB_ERR_PARSE);
        }
        strbuf_free(&sb);
    }
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A body with one file part of size bytes, filled with near-delimiters ("\r\n--" and most of the
 * boundary), the worst case for the search. */
static char *big_body(size_t size, size_t *len)
{
    static const char head[] = DELIM "Content-Disposition: form-data; name=\"f\"; "
                                     "filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n";
    static const char tail[] = "\r\n" CLOSE;
    static const char filler[] = "\r\n--" "----nsdbFormBoundary7MA4YWxkTrZu0g" "\0,";
    *len = sizeof head - 1 + size + sizeof tail - 1;
    char *body = malloc(*len);
    assert_non_null(body);
    memcpy(body, head, sizeof head - 1);
    char *data = body + sizeof head - 1;
    for (size_t i = 0; i < size; i++)
        data[i] = filler[i % (sizeof filler - 1)];
    memcpy(data + size, tail, sizeof tail - 1);
    return body;
}

static void ten_megabyte_part_has_its_exact_length(void **state)
{
    size_t len;
    char *body = big_body(BIG_PART, &len);
    http_param *p;
    assert_int_equal(http_parse_multipart(*state, CT, body, len, &p), NSDB_OK);
    assert_int_equal(param_count(p), 1);
    assert_int_equal(p->value_len, BIG_PART);
    assert_memory_equal(p->value, body + (len - BIG_PART - strlen("\r\n" CLOSE)), BIG_PART);
    assert_int_equal(p->value[BIG_PART], '\0');
    free(body);
}

static void thirty_two_megabyte_upload_parses_in_linear_time(void **state)
{
    size_t len;
    char *body = big_body(HUGE_PART, &len);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    http_param *p;
    assert_int_equal(http_parse_multipart(*state, CT, body, len, &p), NSDB_OK);
    double seconds = seconds_since(&start);
    assert_int_equal(p->value_len, HUGE_PART);
    /* Well under 100 ms in the release build; the bound is loose for sanitizers and busy CI, and
     * still catches anything quadratic by orders of magnitude. */
    print_message("32 MB part: %.1f ms\n", seconds * 1000);
    assert_true(seconds < 5.0);
    free(body);
}

static void garbage_bytes_are_a_parse_error(void **state)
{
    srand(7578);
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(rand() % 600);
        char *body = malloc(len + 1);
        assert_non_null(body);
        for (size_t i = 0; i < len; i++)
            body[i] = (char)(rand() & 0xff);
        http_param *p;
        assert_int_equal(http_parse_multipart(*state, CT, body, len, &p), NSDB_ERR_PARSE);
        free(body);
    }
    http_param *p;
    assert_int_equal(http_parse_multipart(*state, CT, NULL, 0, &p), NSDB_ERR_PARSE);
    assert_int_equal(http_parse_multipart(*state, CT, NULL, 5, &p), NSDB_ERR_PARSE);
}

static void every_truncation_fails_cleanly_until_the_close_delimiter(void **state)
{
    static const char body[] = "preamble\r\n" DELIM DISPOSITION("csrf") "\r\n"
                                     "tok\r\n" DELIM
                                     "Content-Disposition: form-data; name=\"file\"; "
                                     "filename=\"C:\\x\\a.csv\"; filename*=UTF-8''%E6%97%A5.csv\r\n"
                                     "Content-Type: text/csv\r\n\r\n"
                                     "a\0b\r\n--" "----nsdb" "\r\n" CLOSE "epilogue";
    size_t len = sizeof body - 1;
    size_t complete = (size_t)((const char *)memmem(body, len, CLOSE, strlen(CLOSE)) - body) +
                      strlen("--" BOUNDARY "--");
    for (size_t n = 0; n <= len; n++) {
        http_param *p;
        nsdb_err err = parse_exact(*state, CT, body, n, &p);
        assert_int_equal(err, n < complete ? NSDB_ERR_PARSE : NSDB_OK);
        if (err == NSDB_OK) {
            assert_int_equal(param_count(p), 2);
            assert_string_equal(p->next->filename, "日.csv");
            assert_int_equal(p->next->value_len, 15);
        }
    }
}

static void random_mutations_never_crash(void **state)
{
    size_t len = sizeof SIMPLE_FORM - 1;
    char *body = malloc(len);
    assert_non_null(body);
    static const char interesting[] = "\r\n-\"\\;=:\0 ";
    srand(2046);
    for (int round = 0; round < MUTATIONS; round++) {
        memcpy(body, SIMPLE_FORM, len);
        for (int k = 1 + rand() % 4; k > 0; k--) {
            size_t at = (size_t)rand() % len;
            body[at] = rand() % 2 ? (char)(rand() & 0xff)
                                  : interesting[(size_t)rand() % (sizeof interesting - 1)];
        }
        size_t n = (size_t)rand() % (len + 1);
        http_param *p;
        nsdb_err err = parse_exact(*state, CT, body, n, &p);
        assert_true(err == NSDB_OK || err == NSDB_ERR_PARSE);
        for (; err == NSDB_OK && p != NULL; p = p->next)
            assert_int_equal(p->value[p->value_len], '\0');
    }
    free(body);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, arena_setup, arena_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(simple_form_gives_text_fields_and_the_file),
        TEST(boundary_may_be_quoted_or_not),
        TEST(file_bytes_are_kept_exactly),
        TEST(file_name_keeps_only_the_last_path_component),
        TEST(utf8_filename_star_is_preferred),
        TEST(japanese_field_values_are_kept),
        TEST(repeated_field_names_keep_their_order),
        TEST(empty_parts_have_zero_length),
        TEST(form_without_parts_is_empty),
        TEST(missing_closing_boundary_is_a_parse_error),
        TEST(content_type_without_usable_boundary_is_a_parse_error),
        TEST(parts_without_a_form_data_name_are_parse_errors),
        TEST(headers_are_read_leniently_where_rfcs_allow),
        TEST(preamble_and_epilogue_are_ignored),
        TEST(header_block_is_limited_to_8_kb),
        TEST(parts_are_limited_to_1000),
        TEST(ten_megabyte_part_has_its_exact_length),
        TEST(thirty_two_megabyte_upload_parses_in_linear_time),
        TEST(garbage_bytes_are_a_parse_error),
        TEST(every_truncation_fails_cleanly_until_the_close_delimiter),
        TEST(random_mutations_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
