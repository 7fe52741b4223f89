/*
 * test_smtp.c — delivery of composed mail over SMTP (domain/smtp.c) to a real SMTP server on
 * loopback (tests/unit/smtp_sink.py, aiosmtpd) started by the test: a message arrives byte for
 * byte, a refused recipient is a permanent failure and a temporarily refused one worth retrying,
 * required TLS is never given up for clear text; and, without the server, a refused connection,
 * a silent server and invalid arguments. The sink tests are skipped, saying so, only when no
 * python3 can import aiosmtpd. Run from the repository root.
 */
#include "mail_decode.h"

#include <jansson.h>
#include <sodium.h>

#include "domain/mail.h"
#include "domain/smtp.h"
#include "smtp_sink.h"
#include "util/str.h"

/* The whole file (malloc'd), or NULL when it cannot be opened. */
static char *read_file(const char *path)
{
    size_t len;
    return test_slurp_maybe(path, &len);
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
    const struct CMUnitTest smtp_tests[] = {
        cmocka_unit_test(smtp_delivers_the_account_mail_to_a_loopback_server),
        cmocka_unit_test(smtp_refused_recipient_is_a_permanent_failure),
        cmocka_unit_test(smtp_temporarily_refused_recipient_is_worth_retrying),
        cmocka_unit_test(smtp_required_tls_without_starttls_is_refused),
        cmocka_unit_test(smtp_connection_refused_fails_quickly_and_is_worth_retrying),
        cmocka_unit_test(smtp_silent_server_times_out),
        cmocka_unit_test(smtp_refuses_invalid_arguments_without_connecting),
    };
    return cmocka_run_group_tests_name("smtp delivery", smtp_tests, smtp_group_setup,
                                       smtp_group_teardown);
}
