/*
 * mailer.h — delivering the mail outbox: through SMTP (libcurl) when configured, otherwise as
 * one .eml file a message under DATA/mail/. A failed delivery is retried with exponential
 * backoff; nothing leaves the outbox until it was handed over.
 */
#ifndef NSDB_MAILER_H
#define NSDB_MAILER_H

#include "core/app.h"

typedef struct mailer_result {
    int sent;
    int retried;
    int failed; /* given up: permanent refusal or too many attempts */
} mailer_result;

/* Delivers the due messages once (all pending ones when ignore_backoff). */
NSDB_MUST_CHECK nsdb_err mailer_flush(app *a, bool ignore_backoff, mailer_result *out);

/* Seals msg and adds it to the outbox on conn (inside the caller's transaction). */
NSDB_MUST_CHECK nsdb_err mailer_enqueue(app *a, db *conn, const char *to_address,
                                        const char *purpose, const char *message, size_t len,
                                        int64_t now);

typedef struct mailer_thread mailer_thread;
/* A background sender inside `nsdb serve`, flushing every interval_seconds and when woken. */
NSDB_MUST_CHECK nsdb_err mailer_thread_start(app *a, int interval_seconds, mailer_thread **out);
void mailer_thread_wake(mailer_thread *t);
void mailer_thread_stop(mailer_thread *t);

#endif
