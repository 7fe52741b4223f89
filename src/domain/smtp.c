/*
 * smtp.c — one message to one recipient over libcurl's SMTP client. A fresh easy handle per
 * call keeps it safe from any thread (NOSIGNAL, so timeouts use no signals). The outcome is
 * sorted for the outbox: worth retrying (IO) or refused for good (INVALID). The message itself
 * is never logged nor put in an error text: the account mail holds an initial password.
 */
#include "domain/smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "domain/mail.h"
#include "util/log.h"

enum { SMTP_DEFAULT_TIMEOUT_SECONDS = 30, SMTP_ERROR_TEXT_MAX = CURL_ERROR_SIZE + 64 };

typedef struct smtp_upload {
    const char *data;
    size_t len;
    size_t pos;
} smtp_upload;

void smtp_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Not fatal here: every later smtp_send then fails with a reason, and mail waits. */
    if (rc != CURLE_OK)
        log_event(LOG_ERROR, "curl_global_init_failed", "error", curl_easy_strerror(rc), NULL);
}

void smtp_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t smtp_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
    smtp_upload *upload = userdata;
    size_t room = size * nitems;
    size_t n = upload->len - upload->pos;
    if (n > room)
        n = room;
    memcpy(buffer, upload->data + upload->pos, n);
    upload->pos += n;
    return n;
}

static void smtp_set_error(char **error_out, const char *reason, long response)
{
    if (error_out == NULL)
        return;
    char text[SMTP_ERROR_TEXT_MAX];
    if (response > 0)
        snprintf(text, sizeof text, "%s (SMTP reply %ld)", reason, response);
    else
        snprintf(text, sizeof text, "%s", reason);
    *error_out = strdup(text);
}

/* A 5xx reply refuses this message for good (unknown recipient, rejected content), except
 * when it concerns our credentials or TLS: those are configuration, and mail must wait for the
 * fix rather than be dropped. Everything without a 5xx — no connection, timeout, 4xx — passes. */
static NSDB_MUST_CHECK nsdb_err smtp_classify(CURLcode rc, long response)
{
    if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED)
        return NSDB_ERR_IO;
    if (response >= 500 && response <= 599)
        return NSDB_ERR_INVALID;
    return NSDB_ERR_IO;
}

static void smtp_configure(CURL *curl, const smtp_config *cfg, const char *envelope_from,
                           struct curl_slist *recipients, smtp_upload *upload, char *error_buffer)
{
    long timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : SMTP_DEFAULT_TIMEOUT_SECONDS;
    curl_easy_setopt(curl, CURLOPT_URL, cfg->url);
    /* The URL comes from configuration, but nothing but SMTP may ever read the message. */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, smtp_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     (long)(cfg->require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
}

nsdb_err smtp_send(const smtp_config *cfg, const char *to_address, const char *data, size_t len,
                   char **error_out)
{
    if (error_out != NULL)
        *error_out = NULL;
    if (cfg == NULL || cfg->url == NULL || data == NULL) {
        smtp_set_error(error_out, "no SMTP URL or no message", 0);
        return NSDB_ERR_INVALID;
    }
    if (!mail_address_valid(cfg->from_address) || !mail_address_valid(to_address)) {
        smtp_set_error(error_out, "invalid sender or recipient address", 0);
        return NSDB_ERR_INVALID;
    }
    char envelope_from[MAIL_ADDRESS_MAX + 3];
    char envelope_to[MAIL_ADDRESS_MAX + 3];
    snprintf(envelope_from, sizeof envelope_from, "<%s>", cfg->from_address);
    snprintf(envelope_to, sizeof envelope_to, "<%s>", to_address);

    CURL *curl = curl_easy_init();
    struct curl_slist *recipients = curl_slist_append(NULL, envelope_to);
    if (curl == NULL || recipients == NULL) {
        curl_slist_free_all(recipients);
        curl_easy_cleanup(curl);
        smtp_set_error(error_out, "curl could not start (out of memory or not initialised)", 0);
        return NSDB_ERR_NOMEM;
    }
    char error_buffer[CURL_ERROR_SIZE] = "";
    smtp_upload upload = {data, len, 0};
    smtp_configure(curl, cfg, envelope_from, recipients, &upload, error_buffer);

    CURLcode rc = curl_easy_perform(curl);
    long response = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK)
        return NSDB_OK;
    smtp_set_error(error_out, error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc),
                   response);
    return smtp_classify(rc, response);
}
