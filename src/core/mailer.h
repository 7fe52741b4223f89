/*
 * mailer.h — delivering the mail outbox: through SMTP (libcurl) when configured, otherwise as
 * one .eml file a message under DATA/mail/. A temporary failure is retried for ever with
 * exponential backoff capped at an hour; a refusal (SMTP 5xx) is retried the same way and
 * believed only once it has lasted MAILER_REFUSAL_SECONDS. Nothing leaves the outbox until it was
 * handed over or given up, and a sender claims each message before it sends it, so that servers
 * sharing a database never send one twice.
 */
#ifndef NSDB_MAILER_H
#define NSDB_MAILER_H

#include "core/app.h"

#define MAILER_BACKOFF_BASE 30       /* seconds before the first retry, doubled each time */
#define MAILER_BACKOFF_MAX 3600      /* the interval's ceiling */
#define MAILER_REFUSAL_SECONDS 86400 /* how long refusals must last before a mail is failed */
#define MAILER_CLAIM_SECONDS 600     /* a sender's lease on the messages it claimed */

typedef struct mailer_result {
    int sent;
    int retried;
    int failed; /* given up: refused for MAILER_REFUSAL_SECONDS */
} mailer_result;

/* Who sends, and by which clock: a server's sender thread, `nsdb mail send`, or a test that
   moves time on without sleeping. */
typedef struct mailer_sender {
    const char *id;              /* written as claimed_by: unique among concurrent senders */
    int64_t (*clock)(void *arg); /* Unix time; NULL: time(NULL) */
    void *clock_arg;
} mailer_sender;

/* Delivers the due messages once (all pending ones when ignore_backoff), as this process. */
NSDB_MUST_CHECK nsdb_err mailer_flush(app *a, bool ignore_backoff, mailer_result *out);
/* The same as sender s. */
NSDB_MUST_CHECK nsdb_err mailer_flush_as(app *a, const mailer_sender *s, bool ignore_backoff,
                                         mailer_result *out);
/* The wait after a failed attempt that was the attempts-th before it (0 for the first). */
int64_t mailer_backoff_seconds(int64_t attempts);

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
