/*
 * media_job.c — the operator's media build on a thread of its own (see media_job.h). A build of
 * a thousand media takes minutes (PKCS#12, ISO image and fsync each), far longer than an HTTP
 * request should; the screen starts it and then shows how far it has got.
 */
#include "core/media_job.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/media.h"
#include "util/arena.h"
#include "util/log.h"

struct media_job {
    app *app;
    pthread_mutex_t lock;
    pthread_t thread;
    bool joinable;
    atomic_bool stop;
    media_job_status status; /* under lock */
    /* the running build's parameters (written before its thread starts) */
    int64_t actor_pk;
    char actor_user_id[32];
    char client_ip[64];
};

nsdb_err media_job_create(app *a, media_job **out)
{
    media_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NSDB_ERR_NOMEM;
    j->app = a;
    pthread_mutex_init(&j->lock, NULL);
    atomic_init(&j->stop, false);
    *out = j;
    return NSDB_OK;
}

void media_job_destroy(media_job *j)
{
    if (j == NULL)
        return;
    atomic_store(&j->stop, true);
    pthread_mutex_lock(&j->lock);
    bool joinable = j->joinable;
    j->joinable = false;
    pthread_mutex_unlock(&j->lock);
    if (joinable)
        pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void on_progress(void *ctx, size_t done, size_t total)
{
    media_job *j = ctx;
    pthread_mutex_lock(&j->lock);
    j->status.done = done;
    j->status.total = total;
    pthread_mutex_unlock(&j->lock);
}

static void *job_main(void *arg)
{
    media_job *j = arg;
    char cycle[sizeof j->status.cycle];
    pthread_mutex_lock(&j->lock);
    memcpy(cycle, j->status.cycle, sizeof cycle);
    pthread_mutex_unlock(&j->lock);
    arena *ar = arena_new();
    media_built *built = NULL;
    size_t n = 0;
    nsdb_problem pb = {0};
    media_progress progress = {on_progress, j, &j->stop};
    core_actor who = {.user_pk = j->actor_pk,
                      .user_id = j->actor_user_id,
                      .client_ip = j->client_ip,
                      .now = (int64_t)time(NULL)};
    nsdb_err e = media_build_cycle(j->app, cycle, j->app->cfg.media_template, &who, &progress,
                                   ar, &built, &n, &pb);
    log_event(e == NSDB_OK ? LOG_INFO : LOG_ERROR, "media_build_ended", "cycle", cycle, "result",
              nsdb_err_name(e), NULL);
    pthread_mutex_lock(&j->lock);
    j->status.running = false;
    j->status.ended = true;
    j->status.failed = e != NSDB_OK;
    j->status.done = n;
    j->status.ended_at = (int64_t)time(NULL);
    snprintf(j->status.message, sizeof j->status.message, "%s",
             e == NSDB_OK ? "" : problem_message(&pb));
    pthread_mutex_unlock(&j->lock);
    arena_free(ar);
    return NULL;
}

nsdb_err media_job_start(media_job *j, const char *cycle_id, const core_actor *who)
{
    if (strlen(cycle_id) >= sizeof j->status.cycle)
        return NSDB_ERR_INVALID;
    pthread_mutex_lock(&j->lock);
    if (j->status.running) {
        pthread_mutex_unlock(&j->lock);
        return NSDB_ERR_BUSY;
    }
    if (j->joinable) /* the last build's thread has ended: reap it */
        pthread_join(j->thread, NULL);
    j->joinable = false;
    memset(&j->status, 0, sizeof j->status);
    j->status.running = true;
    j->status.started_at = who->now;
    snprintf(j->status.cycle, sizeof j->status.cycle, "%s", cycle_id);
    /* the job outlives the request: the actor's strings are copied */
    j->actor_pk = who->user_pk;
    snprintf(j->actor_user_id, sizeof j->actor_user_id, "%s", who->user_id ? who->user_id : "");
    snprintf(j->client_ip, sizeof j->client_ip, "%s", who->client_ip ? who->client_ip : "");
    nsdb_err e = NSDB_OK;
    if (pthread_create(&j->thread, NULL, job_main, j) == 0) {
        j->joinable = true;
    } else {
        j->status.running = false;
        e = NSDB_ERR_NOMEM;
    }
    pthread_mutex_unlock(&j->lock);
    return e;
}

void media_job_status_get(media_job *j, media_job_status *out)
{
    pthread_mutex_lock(&j->lock);
    *out = j->status;
    pthread_mutex_unlock(&j->lock);
}
