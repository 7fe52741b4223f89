/*
 * mailer.c — the outbox sender. It claims a few messages at a time (a lease in the outbox, so
 * that servers sharing a database never send the same one, and one that died gives its claim
 * back when the lease ends), unseals each only in memory, hands it to the SMTP server (or writes
 * it as DATA/mail/<id>.eml, atomically via a temporary file) and records the outcome. Failures
 * back off 30 s, 60 s, 120 s … up to an hour and are retried for ever; a refusal (5xx, or a
 * message that cannot be opened) is believed only when refusals have lasted a day, because a
 * misconfigured relay answers 5xx too, and the mail is then failed until the operator resends it.
 * The recorded error is the server's answer, never the message.
 */
#include "core/mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domain/smtp.h"
#include "store/outbox.h"
#include "util/log.h"

#define MAILER_BATCH 100      /* messages one flush tries at most */
#define MAILER_CLAIM_BATCH 10 /* messages claimed at once: ten 30-second sends fit the lease */
#define MAILER_SEND_SECONDS 30
/* a send that could still run when the lease ends is not started: another server may take the
   message then */
#define MAILER_SEND_MARGIN (2 * MAILER_SEND_SECONDS)
#define MAILER_ERROR_MAX 500 /* bytes of the server's answer kept as last_error */

nsdb_err mailer_enqueue(app *a, db *conn, const char *to_address, const char *purpose,
                        const char *message, size_t len, int64_t now)
{
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    nsdb_err e = secret_seal(&a->key, message, len, &sealed, &sealed_len);
    if (e != NSDB_OK)
        return e;
    e = store_outbox_insert(conn, to_address, purpose, sealed, sealed_len, now);
    free(sealed);
    return e;
}

static NSDB_MUST_CHECK nsdb_err write_eml(const app *a, int64_t id, const char *message,
                                          char **error_out)
{
    char dir[4096], tmp[4200], final[4200];
    snprintf(dir, sizeof dir, "%s/mail", a->cfg.data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *error_out = strdup(strerror(errno));
        return NSDB_ERR_IO;
    }
    snprintf(tmp, sizeof tmp, "%s/.%lld.eml.tmp", dir, (long long)id);
    snprintf(final, sizeof final, "%s/%06lld.eml", dir, (long long)id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        *error_out = strdup(strerror(errno));
        return NSDB_ERR_IO;
    }
    size_t len = strlen(message), done = 0;
    while (done < len) {
        ssize_t w = write(fd, message + done, len - done);
        if (w <= 0) {
            *error_out = strdup(strerror(errno));
            close(fd);
            unlink(tmp);
            return NSDB_ERR_IO;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, final) != 0) {
        *error_out = strdup(strerror(errno));
        unlink(tmp);
        return NSDB_ERR_IO;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err deliver(const app *a, const store_outbox_mail *m, char **error_out)
{
    char *message = NULL;
    nsdb_err e = secret_unseal(&a->key, m->sealed, m->sealed_len, &message);
    if (e != NSDB_OK) {
        *error_out = strdup("sealed message cannot be opened (key changed?)");
        return NSDB_ERR_INVALID;
    }
    size_t len = strlen(message);
    if (a->cfg.smtp_url != NULL) {
        smtp_config sc = {.url = a->cfg.smtp_url,
                          .from_address = a->cfg.mail_from,
                          .timeout_seconds = MAILER_SEND_SECONDS,
                          .require_tls = false};
        e = smtp_send(&sc, m->to_address, message, len, error_out);
    } else {
        e = write_eml(a, m->id, message, error_out);
    }
    sodium_memzero(message, len);
    free(message);
    return e;
}

int64_t mailer_backoff_seconds(int64_t attempts)
{
    int64_t s = MAILER_BACKOFF_BASE;
    for (int64_t i = 0; i < attempts && s < MAILER_BACKOFF_MAX; i++)
        s *= 2;
    return s < MAILER_BACKOFF_MAX ? s : MAILER_BACKOFF_MAX;
}

static int64_t sender_now(const mailer_sender *s)
{
    return s->clock != NULL ? s->clock(s->clock_arg) : (int64_t)time(NULL);
}

/* The server's answer cut to MAILER_ERROR_MAX bytes on a character boundary. */
static const char *error_text(arena *ar, const char *error)
{
    if (error == NULL || *error == '\0')
        return "unknown error";
    size_t n = strlen(error);
    if (n <= MAILER_ERROR_MAX)
        return error;
    n = MAILER_ERROR_MAX;
    while (n > 0 && ((unsigned char)error[n] & 0xC0) == 0x80)
        n--;
    return arena_strndup(ar, error, n);
}

/* Claims the next few messages after after_id in a transaction of its own. The mailer's writes
   are each one conditional statement on outbox rows (a claim skips rows another sender holds),
   so its transactions take no scope and never wait for a municipality's work (db.h). */
static NSDB_MUST_CHECK nsdb_err claim_batch(db *conn, arena *ar, const mailer_sender *s,
                                            bool ignore_backoff, int64_t after_id,
                                            store_outbox_mail **rows, size_t *n,
                                            int64_t *claim_until)
{
    int64_t now = sender_now(s);
    *claim_until = now + MAILER_CLAIM_SECONDS;
    nsdb_err e = db_begin_scoped(conn, DB_SCOPE_NONE, 0);
    if (e != NSDB_OK)
        return e;
    e = store_outbox_claim(conn, ar, s->id, now, !ignore_backoff, *claim_until, after_id,
                           MAILER_CLAIM_BATCH, rows, n);
    if (e != NSDB_OK) {
        db_rollback(conn);
        return e;
    }
    return db_commit(conn);
}

/* Gives back the claims on rows[from..n) that were not tried (best effort: otherwise their
   lease ends by itself). */
static void release_rest(db *conn, const mailer_sender *s, const store_outbox_mail *rows,
                         size_t from, size_t n)
{
    if (from >= n || db_begin_scoped(conn, DB_SCOPE_NONE, 0) != NSDB_OK)
        return;
    nsdb_err e = NSDB_OK;
    for (size_t i = from; e == NSDB_OK && i < n; i++)
        e = store_outbox_release(conn, rows[i].id, s->id);
    if (e == NSDB_OK)
        e = db_commit(conn);
    else
        db_rollback(conn);
    if (e != NSDB_OK)
        log_event(LOG_WARN, "mail_release_failed", "error", nsdb_err_name(e), NULL);
}

/* Records one attempt's outcome in a transaction of its own (a store write always runs in one).
   A claim lost meanwhile (the lease ended and another sender took the message) is logged, not an
   error. */
static NSDB_MUST_CHECK nsdb_err record_attempt(db *conn, arena *ar, const mailer_sender *s,
                                               const store_outbox_mail *m, nsdb_err delivered,
                                               const char *error, mailer_result *out)
{
    int64_t now = sender_now(s);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)m->id);
    bool refused = delivered == NSDB_ERR_INVALID;
    int64_t refused_since = refused ? (m->refused_since != 0 ? m->refused_since : now) : 0;
    bool give_up = refused && now - refused_since >= MAILER_REFUSAL_SECONDS;
    nsdb_err e = db_begin_scoped(conn, DB_SCOPE_NONE, 0);
    if (e != NSDB_OK)
        return e;
    if (delivered == NSDB_OK)
        e = store_outbox_mark_sent(conn, m->id, s->id, now);
    else
        e = store_outbox_mark_retry(conn, m->id, s->id, now + mailer_backoff_seconds(m->attempts),
                                    error_text(ar, error), refused_since, give_up);
    if (e == NSDB_ERR_CONFLICT) {
        db_rollback(conn);
        log_event(LOG_WARN, "mail_claim_lost", "outbox_id", id, "sender", s->id, NULL);
        return NSDB_OK;
    }
    if (e != NSDB_OK) {
        db_rollback(conn);
        return e;
    }
    if ((e = db_commit(conn)) != NSDB_OK)
        return e;
    if (delivered == NSDB_OK) {
        out->sent++;
        log_event(LOG_INFO, "mail_sent", "outbox_id", id, "to", m->to_address, NULL);
        return NSDB_OK;
    }
    if (give_up)
        out->failed++;
    else
        out->retried++;
    log_event(give_up ? LOG_ERROR : LOG_WARN, give_up ? "mail_failed" : "mail_retry", "outbox_id",
              id, "to", m->to_address, "refused", refused ? "yes" : "no", "error",
              error_text(ar, error), NULL);
    return NSDB_OK;
}

nsdb_err mailer_flush_as(app *a, const mailer_sender *s, bool ignore_backoff, mailer_result *out)
{
    memset(out, 0, sizeof *out);
    db *conn = db_pool_acquire(a->pool);
    arena *ar = arena_new();
    nsdb_err e = NSDB_OK;
    int64_t after_id = 0;
    for (int tried = 0; e == NSDB_OK && tried < MAILER_BATCH;) {
        store_outbox_mail *rows = NULL;
        size_t n = 0, i = 0;
        int64_t claim_until = 0;
        e = claim_batch(conn, ar, s, ignore_backoff, after_id, &rows, &n, &claim_until);
        if (e != NSDB_OK || n == 0)
            break;
        for (; e == NSDB_OK && i < n && tried < MAILER_BATCH; i++, tried++) {
            if (sender_now(s) + MAILER_SEND_MARGIN > claim_until)
                break; /* claimed again, with a new lease, by the next batch */
            char *error = NULL;
            nsdb_err d = deliver(a, &rows[i], &error);
            e = record_attempt(conn, ar, s, &rows[i], d, error, out);
            free(error);
            after_id = rows[i].id;
        }
        release_rest(conn, s, rows, i, n);
    }
    arena_free(ar);
    db_pool_release(a->pool, conn);
    return e;
}

nsdb_err mailer_flush(app *a, bool ignore_backoff, mailer_result *out)
{
    /* unique among the senders of every server: host, process and a random part (a process
       may flush from two threads: the sender thread and a test) */
    char host[64] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    char id[128];
    snprintf(id, sizeof id, "%s:%ld:%08x", host, (long)getpid(), (unsigned)randombytes_random());
    mailer_sender s = {.id = id};
    return mailer_flush_as(a, &s, ignore_backoff, out);
}

struct mailer_thread {
    app *app;
    int interval;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    bool woken;
};

static void *mailer_main(void *arg)
{
    mailer_thread *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        pthread_mutex_unlock(&t->lock);
        mailer_result r;
        nsdb_err e = mailer_flush(t->app, false, &r);
        if (e != NSDB_OK) /* tried again at the next round */
            log_event(LOG_ERROR, "mail_flush_failed", "error", nsdb_err_name(e), NULL);
        pthread_mutex_lock(&t->lock);
        if (t->stopping)
            break;
        if (!t->woken) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += t->interval;
            pthread_cond_timedwait(&t->wake, &t->lock, &until);
        }
        t->woken = false;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

nsdb_err mailer_thread_start(app *a, int interval_seconds, mailer_thread **out)
{
    mailer_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NSDB_ERR_NOMEM;
    t->app = a;
    t->interval = interval_seconds;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, mailer_main, t) != 0) {
        free(t);
        return NSDB_ERR_NOMEM;
    }
    *out = t;
    return NSDB_OK;
}

void mailer_thread_wake(mailer_thread *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->woken = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void mailer_thread_stop(mailer_thread *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}
