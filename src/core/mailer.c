/*
 * mailer.c — the outbox sender. Each message is unsealed only in memory, handed to the SMTP
 * server (or written as DATA/mail/<id>.eml, atomically via a temporary file), then marked sent.
 * Temporary failures back off 30 s, 60 s, 120 s … up to an hour, for at most MAX_ATTEMPTS.
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

#define MAILER_BATCH 100
#define MAILER_MAX_ATTEMPTS 20
#define MAILER_BACKOFF_BASE 30
#define MAILER_BACKOFF_MAX 3600

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
                          .timeout_seconds = 30,
                          .require_tls = false};
        e = smtp_send(&sc, m->to_address, message, len, error_out);
    } else {
        e = write_eml(a, m->id, message, error_out);
    }
    sodium_memzero(message, len);
    free(message);
    return e;
}

static int64_t backoff_seconds(int64_t attempts)
{
    int64_t s = MAILER_BACKOFF_BASE;
    for (int64_t i = 0; i < attempts && s < MAILER_BACKOFF_MAX; i++)
        s *= 2;
    return s < MAILER_BACKOFF_MAX ? s : MAILER_BACKOFF_MAX;
}

/* Marks one message sent (at `at`) or due again at `at`, in a transaction of its own: a store
   write always runs in one. */
static NSDB_MUST_CHECK nsdb_err record_outcome(db *conn, int64_t id, bool sent, int64_t at,
                                               const char *error, bool give_up)
{
    nsdb_err e = db_begin(conn);
    if (e != NSDB_OK)
        return e;
    e = sent ? store_outbox_mark_sent(conn, id, at)
             : store_outbox_mark_retry(conn, id, at, error, give_up);
    if (e != NSDB_OK) {
        db_rollback(conn);
        return e;
    }
    return db_commit(conn);
}

nsdb_err mailer_flush(app *a, bool ignore_backoff, mailer_result *out)
{
    memset(out, 0, sizeof *out);
    db *conn = db_pool_acquire(a->pool);
    arena *ar = arena_new();
    store_outbox_mail *rows = NULL;
    size_t n = 0;
    int64_t now = (int64_t)time(NULL);
    nsdb_err e = store_outbox_due(conn, ar, ignore_backoff ? -1 : now, MAILER_BATCH, &rows, &n);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        char *error = NULL;
        nsdb_err d = deliver(a, &rows[i], &error);
        now = (int64_t)time(NULL);
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)rows[i].id);
        if (d == NSDB_OK) {
            e = record_outcome(conn, rows[i].id, true, now, NULL, false);
            out->sent++;
            log_event(LOG_INFO, "mail_sent", "outbox_id", id, "to", rows[i].to_address, NULL);
        } else {
            bool give_up = d == NSDB_ERR_INVALID || rows[i].attempts + 1 >= MAILER_MAX_ATTEMPTS;
            e = record_outcome(conn, rows[i].id, false, now + backoff_seconds(rows[i].attempts),
                               error, give_up);
            if (give_up)
                out->failed++;
            else
                out->retried++;
            log_event(give_up ? LOG_ERROR : LOG_WARN, give_up ? "mail_failed" : "mail_retry",
                      "outbox_id", id, "to", rows[i].to_address, "error", error, NULL);
        }
        free(error);
    }
    arena_free(ar);
    db_pool_release(a->pool, conn);
    return e;
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
