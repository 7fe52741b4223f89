/*
 * import_job.c — the background imports (see import_job.h). A job is queued by the upload
 * handler with the parsed import in an arena it now owns; a worker takes it, writes it with
 * core_register_import on a connection of its own, and frees the arena. The list of jobs, the
 * queue and the counters are under one mutex; a condition variable wakes the workers when a job
 * is queued and the waiting handlers when one ends. A job leaves the list when it ends: from then
 * on the batch's page reads its state from the database alone.
 */
#include "core/import_job.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/registration.h"
#include "store/import_batches.h"
#include "store/import_recovery.h"
#include "util/log.h"

typedef enum job_kind { JOB_IMPORT, JOB_DISCARD } job_kind;

typedef struct import_job {
    struct import_job *next;
    job_kind kind;
    int64_t batch;
    int64_t municipality_pk;
    bool ready;   /* its batch is open: a worker may take it */
    bool running; /* a worker has taken it */
    int64_t started_at;
    /* the import: imp lives in owner, which the job frees */
    arena *owner;
    inst_import imp;
    import_progress progress;
    /* the actor, copied: the job outlives the request */
    int64_t user_pk, institution_pk;
    char user_id[32];
    char client_ip[64];
} import_job;

struct import_jobs {
    app *app;
    pthread_mutex_t lock;
    pthread_cond_t queued; /* a job was queued, or the server stops */
    pthread_cond_t ended;  /* a job ended */
    import_job *jobs;      /* queued and running, in the order queued */
    bool stopping;
    pthread_t workers[IMPORT_JOB_WORKERS];
    size_t worker_count;
    /* the keeper: stamps this server's batches, fails those of servers that died */
    char owner[HOST_NAME_MAX + PATH_MAX + 2]; /* "host:data folder" */
    long heartbeat_ms;
    pthread_cond_t tick; /* the keeper's sleep; signalled when the server stops */
    pthread_t keeper;
    bool keeper_started;
};

/* How often a server stamps its batches (NSDB_IMPORT_HEARTBEAT_MS in the environment for tests)
   and after how many missed stamps another server takes a batch's server for dead. */
#define IMPORT_HEARTBEAT_MS 10000
#define IMPORT_STALE_BEATS 6

/* ---- operations ------------------------------------------------------------------------- */

nsdb_err core_import_batch_fail(core_ctx *c, int64_t batch, const char *reason)
{
    nsdb_err e = core_begin(c);
    store_import_batch b = {0};
    if (e == NSDB_OK)
        e = store_import_batch_get(c->conn, c->arena, 0, batch, &b);
    bool open = e == NSDB_OK && !import_state_ended(b.state);
    if (open)
        e = store_import_batch_set_state(c->conn, batch, IMPORT_STATE_FAILED, reason, NULL,
                                         c->who.now);
    if (open && e == NSDB_OK)
        e = core_audit(c, "inst_users_import", core_target_id(c, "batch", batch), "failed", reason);
    return core_end(c, e);
}

/* Ending a batch that an import left unfinished: attempts, and the pause between two. */
#define IMPORT_END_ATTEMPTS 10
#define IMPORT_END_PAUSE_MS 500

/* Stamps the batches this server runs (bookkeeping, not audited: nothing changes for a user).
   Each stamp is one atomic statement: the shared key only, so that it waits for no import's
   chunk and no login waits for it (PostgreSQL). */
static NSDB_MUST_CHECK nsdb_err core_import_batches_heartbeat(core_ctx *c, const char *owner,
                                                              const int64_t *ids, size_t n)
{
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_NONE, 0);
    if (e == NSDB_OK)
        e = store_import_batches_heartbeat(c->conn, owner, ids, n, c->who.now);
    return core_end(c, e);
}

/* ---- workers -------------------------------------------------------------------------------- */

static core_actor job_actor(const import_job *job)
{
    return (core_actor){.user_pk = job->user_pk,
                        .user_id = job->user_id,
                        .municipality_pk = job->municipality_pk,
                        .institution_pk = job->institution_pk,
                        .client_ip = job->client_ip,
                        .now = (int64_t)time(NULL)};
}

static void job_free(import_job *job)
{
    arena_free(job->owner);
    free(job);
}

/* Queues a job (under the lock). */
static void job_queue_locked(import_jobs *j, import_job *job)
{
    import_job **tail = &j->jobs;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = job;
    pthread_cond_signal(&j->queued);
}

static void queue_discard(import_jobs *j, int64_t batch)
{
    import_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return; /* removed at the next start */
    job->kind = JOB_DISCARD;
    job->ready = true;
    job->batch = batch;
    snprintf(job->user_id, sizeof job->user_id, "server");
    snprintf(job->client_ip, sizeof job->client_ip, "local");
    pthread_mutex_lock(&j->lock);
    job_queue_locked(j, job);
    pthread_mutex_unlock(&j->lock);
}

static void run_import(import_jobs *j, core_ctx *c, import_job *job)
{
    registration_conflict *conflicts = NULL;
    size_t n_conflicts = 0;
    nsdb_problem pb = {0};
    nsdb_err e = core_register_import(c, &job->imp, job->batch, &job->progress, &conflicts,
                                      &n_conflicts, &pb);
    log_event(e == NSDB_OK ? LOG_INFO : LOG_ERROR, "import_ended", "batch",
              arena_printf(c->arena, "%lld", (long long)job->batch), "result", nsdb_err_name(e),
              NULL);
    if (e == NSDB_OK)
        return;
    /* whatever went wrong, the batch does not stay unfinished (a refused batch has normally
       ended already; when even that could not be written, it ends failed here), else its
       municipality could import nothing until the next start: tried again for a few seconds */
    bool stopped = atomic_load(&job->progress.stop);
    nsdb_err f = NSDB_OK;
    for (int attempt = 0; attempt < IMPORT_END_ATTEMPTS; attempt++) {
        if (attempt > 0)
            nanosleep(&(struct timespec){.tv_nsec = IMPORT_END_PAUSE_MS * 1000000L}, NULL);
        f = core_import_batch_fail(c, job->batch,
                                   stopped ? IMPORT_RESTART_REASON
                                           : "一括登録に失敗しました。何も登録していません。"
                                             "時間をおいて再度お試しください。");
        if (f == NSDB_OK)
            break;
    }
    if (f != NSDB_OK)
        log_event(LOG_ERROR, "import_fail_failed", "error", nsdb_err_name(f), NULL);
    if (!stopped && n_conflicts == 0)
        queue_discard(j, job->batch);
}

static void run_job(import_jobs *j, import_job *job)
{
    arena *ar = arena_new();
    core_ctx c = {.app = j->app,
                  .conn = db_pool_acquire(j->app->pool),
                  .arena = ar,
                  .who = job_actor(job)};
    if (job->kind == JOB_IMPORT) {
        run_import(j, &c, job);
    } else {
        nsdb_err e = core_import_batch_discard(&c, job->batch, &job->progress.stop);
        if (e != NSDB_OK)
            log_event(LOG_ERROR, "import_discard_failed", "error", nsdb_err_name(e), NULL);
    }
    db_pool_release(j->app->pool, c.conn);
    arena_free(ar);
}

/* The first queued job, marked running (under the lock); NULL when none. */
static import_job *job_take_locked(import_jobs *j)
{
    for (import_job *job = j->jobs; job != NULL; job = job->next)
        if (job->ready && !job->running) {
            job->running = true;
            job->started_at = (int64_t)time(NULL);
            return job;
        }
    return NULL;
}

static void job_remove_locked(import_jobs *j, import_job *job)
{
    for (import_job **p = &j->jobs; *p != NULL; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            return;
        }
}

/* A pause after a job has ended in the database and before it leaves the list:
   NSDB_IMPORT_END_PAUSE_MS in the environment, for the test of an upload in that moment. */
static void test_pause_after_job(void)
{
    const char *env = getenv("NSDB_IMPORT_END_PAUSE_MS");
    long ms = env != NULL ? strtol(env, NULL, 10) : 0;
    if (ms > 0 && ms <= 10000)
        nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

static void *worker_main(void *arg)
{
    import_jobs *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        import_job *job = j->stopping ? NULL : job_take_locked(j);
        if (job == NULL) {
            if (j->stopping)
                break;
            pthread_cond_wait(&j->queued, &j->lock);
            continue;
        }
        pthread_mutex_unlock(&j->lock);
        run_job(j, job);
        test_pause_after_job();
        pthread_mutex_lock(&j->lock);
        job_remove_locked(j, job);
        pthread_cond_broadcast(&j->ended);
        job_free(job);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* ---- the server's side ---------------------------------------------------------------------- */

/* The server's own context (actor "server", a connection of the pool; release it after). */
static core_ctx server_ctx(import_jobs *j, arena *ar)
{
    core_ctx c = {.app = j->app,
                  .conn = db_pool_acquire(j->app->pool),
                  .arena = ar,
                  .who = core_actor_cli()};
    c.who.user_id = "server";
    return c;
}

static import_job *job_of_batch_locked(import_jobs *j, int64_t batch)
{
    for (import_job *job = j->jobs; job != NULL; job = job->next)
        if (job->kind == JOB_IMPORT && job->ready && job->batch == batch)
            return job;
    return NULL;
}

/* Seconds after which a batch's stamp is stale: its server is taken for dead. */
static int64_t stale_seconds(const import_jobs *j)
{
    int64_t s = (int64_t)j->heartbeat_ms * IMPORT_STALE_BEATS / 1000;
    return s > 0 ? s : 1;
}

/* Fails the batches no live server runs (store_import_batches_unfinished: this server's own
   from before it stopped when mine, else those of dead servers), except the ones queued or
   running here; queues the removal of every failed batch's rows. */
static NSDB_MUST_CHECK nsdb_err fail_orphans(import_jobs *j, const char *mine)
{
    arena *ar = arena_new();
    core_ctx c = server_ctx(j, ar);
    int64_t *ids = NULL;
    size_t n = 0;
    nsdb_err e = store_import_batches_unfinished(c.conn, ar, mine, c.who.now - stale_seconds(j),
                                                 &ids, &n);
    size_t failed = 0;
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        pthread_mutex_lock(&j->lock);
        bool here = job_of_batch_locked(j, ids[i]) != NULL;
        pthread_mutex_unlock(&j->lock);
        if (here)
            continue;
        log_event(LOG_ERROR, "import_orphan_failed", "batch",
                  arena_printf(ar, "%lld", (long long)ids[i]), NULL);
        e = core_import_batch_fail(&c, ids[i], IMPORT_RESTART_REASON);
        failed++;
    }
    if (e == NSDB_OK && (failed > 0 || mine != NULL))
        e = store_import_batches_to_discard(c.conn, ar, &ids, &n);
    else
        n = 0;
    db_pool_release(j->app->pool, c.conn);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        pthread_mutex_lock(&j->lock);
        bool queued = false; /* a removal of it queued already */
        for (import_job *job = j->jobs; job != NULL && !queued; job = job->next)
            queued = job->kind == JOB_DISCARD && job->batch == ids[i];
        pthread_mutex_unlock(&j->lock);
        if (!queued)
            queue_discard(j, ids[i]);
    }
    arena_free(ar);
    return e;
}

/* Marks what this server left unfinished when it stopped or crashed, and what servers that died
   left, as failed; queues the removals. Batches another live server runs are left to it. */
static NSDB_MUST_CHECK nsdb_err recover(import_jobs *j)
{
    return fail_orphans(j, j->owner);
}

/* Every heartbeat: stamps the batches queued or running here, then fails those whose server
   stopped stamping them. */
static void *keeper_main(void *arg)
{
    import_jobs *j = arg;
    pthread_mutex_lock(&j->lock);
    while (!j->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += j->heartbeat_ms / 1000;
        until.tv_nsec += (j->heartbeat_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!j->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&j->tick, &j->lock, &until);
        if (j->stopping)
            break;
        size_t n = 0;
        for (import_job *job = j->jobs; job != NULL; job = job->next)
            n += job->kind == JOB_IMPORT && job->ready;
        int64_t *ids = calloc(n ? n : 1, sizeof *ids);
        size_t k = 0;
        for (import_job *job = j->jobs; ids != NULL && job != NULL; job = job->next)
            if (job->kind == JOB_IMPORT && job->ready)
                ids[k++] = job->batch;
        pthread_mutex_unlock(&j->lock);
        arena *ar = arena_new();
        core_ctx c = server_ctx(j, ar);
        nsdb_err e = ids == NULL ? NSDB_ERR_NOMEM
                     : k > 0     ? core_import_batches_heartbeat(&c, j->owner, ids, k)
                                 : NSDB_OK;
        db_pool_release(j->app->pool, c.conn);
        arena_free(ar);
        free(ids);
        if (e == NSDB_OK)
            e = fail_orphans(j, NULL);
        if (e != NSDB_OK)
            log_event(LOG_ERROR, "import_keeper_failed", "error", nsdb_err_name(e), NULL);
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* "host:data folder": the server as the batches it runs name it. */
static void owner_name(const app *a, char *out, size_t size)
{
    char host[HOST_NAME_MAX + 1] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[HOST_NAME_MAX] = '\0';
    char dir[PATH_MAX] = "";
    const char *data = a->cfg.data_dir ? a->cfg.data_dir : "";
    if (realpath(data, dir) == NULL)
        snprintf(dir, sizeof dir, "%s", data);
    snprintf(out, size, "%s:%s", host, dir);
}

nsdb_err import_jobs_start(app *a, import_jobs **out)
{
    *out = NULL;
    import_jobs *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NSDB_ERR_NOMEM;
    j->app = a;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->queued, NULL);
    pthread_cond_init(&j->ended, NULL);
    pthread_cond_init(&j->tick, NULL);
    owner_name(a, j->owner, sizeof j->owner);
    const char *env = getenv("NSDB_IMPORT_HEARTBEAT_MS");
    long ms = env != NULL ? strtol(env, NULL, 10) : 0;
    j->heartbeat_ms = ms > 0 && ms <= 600000 ? ms : IMPORT_HEARTBEAT_MS;
    nsdb_err e = recover(j);
    for (size_t i = 0; e == NSDB_OK && i < IMPORT_JOB_WORKERS; i++) {
        if (pthread_create(&j->workers[i], NULL, worker_main, j) != 0)
            e = NSDB_ERR_NOMEM;
        else
            j->worker_count++;
    }
    if (e == NSDB_OK) {
        if (pthread_create(&j->keeper, NULL, keeper_main, j) != 0)
            e = NSDB_ERR_NOMEM;
        else
            j->keeper_started = true;
    }
    if (e != NSDB_OK) {
        import_jobs_stop(j);
        return e;
    }
    *out = j;
    return NSDB_OK;
}

void import_jobs_stop(import_jobs *j)
{
    if (j == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    for (import_job *job = j->jobs; job != NULL; job = job->next)
        atomic_store(&job->progress.stop, true);
    pthread_cond_broadcast(&j->queued);
    pthread_cond_broadcast(&j->tick);
    pthread_mutex_unlock(&j->lock);
    if (j->keeper_started)
        pthread_join(j->keeper, NULL);
    for (size_t i = 0; i < j->worker_count; i++)
        pthread_join(j->workers[i], NULL);
    /* the queued imports never started: their batches end failed now */
    arena *ar = arena_new();
    core_ctx c = server_ctx(j, ar);
    while (j->jobs != NULL) {
        import_job *job = j->jobs;
        j->jobs = job->next;
        if (job->kind == JOB_IMPORT &&
            core_import_batch_fail(&c, job->batch, IMPORT_RESTART_REASON) != NSDB_OK)
            log_event(LOG_ERROR, "import_fail_failed", "batch",
                      arena_printf(ar, "%lld", (long long)job->batch), NULL);
        job_free(job);
    }
    db_pool_release(j->app->pool, c.conn);
    arena_free(ar);
    pthread_cond_destroy(&j->queued);
    pthread_cond_destroy(&j->ended);
    pthread_cond_destroy(&j->tick);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* The time ms milliseconds from now, for pthread_cond_timedwait. */
static struct timespec deadline_in_ms(unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

/* How long an upload waits, at most, for an import of its municipality that has ended in the
   database to leave the list, and how often it looks again meanwhile. */
#define IMPORT_LEAVING_WAIT_MS 3000
#define IMPORT_LEAVING_POLL_MS 50

static import_job *job_of_municipality_locked(import_jobs *j, int64_t municipality_pk)
{
    for (import_job *job = j->jobs; job != NULL; job = job->next)
        if (job->kind == JOB_IMPORT && job->municipality_pk == municipality_pk)
            return job;
    return NULL;
}

nsdb_err import_jobs_submit(import_jobs *j, core_ctx *c, arena *owner, const inst_import *imp,
                            const char *filenames, const char *warnings, int64_t *batch_out,
                            int64_t *running_out, nsdb_problem *pb)
{
    *batch_out = 0;
    *running_out = 0;
    import_job *job = calloc(1, sizeof *job);
    if (job == NULL) {
        arena_free(owner);
        return problem_set(pb, NSDB_ERR_NOMEM, NULL, NULL);
    }
    job->kind = JOB_IMPORT;
    job->owner = owner;
    job->imp = *imp;
    job->municipality_pk = c->who.municipality_pk;
    job->user_pk = c->who.user_pk;
    job->institution_pk = c->who.institution_pk;
    snprintf(job->user_id, sizeof job->user_id, "%s", c->who.user_id ? c->who.user_id : "");
    snprintf(job->client_ip, sizeof job->client_ip, "%s", c->who.client_ip ? c->who.client_ip : "");
    /* one import at a time per municipality: the job holds the municipality's place in the list
       (not yet ready to run) while the database is asked, outside the lock, so that a slow
       database never blocks the progress pages; the database knows the other servers' imports */
    bool other = false, stopping = false;
    for (unsigned waited = 0;; waited += IMPORT_LEAVING_POLL_MS) {
        pthread_mutex_lock(&j->lock);
        const import_job *listed = job_of_municipality_locked(j, job->municipality_pk);
        other = listed != NULL;
        bool leaving = listed != NULL && listed->ready; /* its batch is open: ask the database */
        *running_out = listed != NULL ? listed->batch : 0;
        if (listed == NULL && !j->stopping)
            job_queue_locked(j, job);
        stopping = j->stopping;
        pthread_mutex_unlock(&j->lock);
        /* a listed import whose batch has ended in the database is being taken off the list by
           its worker: the municipality's next upload (its page already shows the result) waits
           for that rather than being told an import is running */
        int64_t running = 0;
        if (!other || stopping || !leaving || waited >= IMPORT_LEAVING_WAIT_MS ||
            store_import_batch_running(c->conn, job->municipality_pk, &running) !=
                NSDB_ERR_NOT_FOUND)
            break;
        pthread_mutex_lock(&j->lock);
        struct timespec until = deadline_in_ms(IMPORT_LEAVING_POLL_MS);
        if (job_of_municipality_locked(j, job->municipality_pk) != NULL)
            (void)pthread_cond_timedwait(&j->ended, &j->lock, &until);
        pthread_mutex_unlock(&j->lock);
    }
    nsdb_err e = NSDB_OK;
    if (other) {
        job_free(job);
        return problem_set(pb, NSDB_ERR_CONFLICT, "file", IMPORT_MSG_RUNNING);
    }
    if (stopping) {
        job_free(job);
        return problem_set(pb, NSDB_ERR_BUSY, NULL,
                           "サーバを停止しています。しばらくしてから再度お試しください。");
    }
    int64_t opened = 0; /* job->batch is read by other submitters, under the lock */
    bool running = false;
    e = store_import_batch_running(c->conn, job->municipality_pk, running_out);
    if (e == NSDB_OK) {
        running = true;
    } else if (e == NSDB_ERR_NOT_FOUND) {
        e = core_import_batch_open(c, j->owner, filenames, imp->row_count, warnings, &opened, pb);
        /* another server opened one meanwhile: the unique index of migration 024 refused it */
        if (e == NSDB_ERR_EXISTS) {
            running = true;
            if (store_import_batch_running(c->conn, job->municipality_pk, running_out) != NSDB_OK)
                *running_out = 0;
        }
    } else {
        problem_set(pb, e, NULL,
                    "一括登録を始められませんでした。時間をおいて再度お試しください。");
    }
    if (running)
        e = problem_set(pb, NSDB_ERR_CONFLICT, "file", IMPORT_MSG_RUNNING);
    pthread_mutex_lock(&j->lock);
    if (e == NSDB_OK) {
        job->batch = opened;
        *batch_out = job->batch;
        job->ready = true;
        pthread_cond_signal(&j->queued);
    } else {
        job_remove_locked(j, job);
    }
    pthread_mutex_unlock(&j->lock);
    if (e != NSDB_OK)
        job_free(job);
    return e;
}

bool import_jobs_wait(import_jobs *j, int64_t batch, unsigned ms)
{
    struct timespec until = deadline_in_ms(ms);
    pthread_mutex_lock(&j->lock);
    int rc = 0;
    while (rc == 0 && job_of_batch_locked(j, batch) != NULL)
        rc = pthread_cond_timedwait(&j->ended, &j->lock, &until);
    bool ended = job_of_batch_locked(j, batch) == NULL;
    pthread_mutex_unlock(&j->lock);
    return ended;
}

bool import_jobs_view_get(import_jobs *j, int64_t batch, import_job_view *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&j->lock);
    import_job *job = job_of_batch_locked(j, batch);
    if (job != NULL) {
        out->queued = !job->running;
        out->started_at = job->started_at;
        out->row_count = job->imp.row_count;
        out->rows_checked = atomic_load(&job->progress.rows_checked);
        out->rows_written = atomic_load(&job->progress.rows_written);
    }
    pthread_mutex_unlock(&j->lock);
    return job != NULL;
}
