/*
 * import_tail.c — see import_tail.h.
 */
#include "core/import_tail.h"

#include <stdlib.h>

#include "util/log.h"

void import_tail_open(import_tail *t, core_ctx *c, int64_t batch, const char *cycle_id)
{
    *t = (import_tail){.pool = c->app->pool,
                       .municipality_pk = c->who.municipality_pk,
                       .batch = batch,
                       .cycle_id = cycle_id};
    t->postgresql = db_get_dialect(c->conn) == DB_POSTGRESQL;
    if (getenv("NSDB_IMPORT_ONE_CONNECTION") == NULL)
        t->conn = db_pool_try_acquire(t->pool);
}

bool import_tail_beside(const import_tail *t)
{
    return t->conn != NULL && t->postgresql;
}

/* The thread: one transaction on the second connection. It takes the global key shared and no
   scope of its own: the chunk's writer holds the municipality's scope, and registrations are
   rows of their own, checked by their keys (the users they name were committed before). */
static void *tail_main(void *arg)
{
    import_tail *t = arg;
    if (t->checkpoint) {
        t->result = store_bulk_wal_checkpoint(t->conn);
        if (t->result != NSDB_OK)
            log_event(LOG_ERROR, "import_checkpoint_failed", "error", nsdb_err_name(t->result),
                      NULL);
        return NULL;
    }
    nsdb_err e = db_begin_scoped(t->conn, DB_SCOPE_NONE, 0);
    if (e == NSDB_OK)
        e = store_bulk_registrations_insert(t->conn, t->regs, t->n, t->municipality_pk,
                                            t->cycle_id, t->batch, t->now);
    if (e == NSDB_OK)
        e = db_commit(t->conn);
    if (e != NSDB_OK && db_in_transaction(t->conn))
        db_rollback(t->conn);
    if (e != NSDB_OK)
        log_event(LOG_ERROR, "import_registrations_failed", "error", nsdb_err_name(e), NULL);
    t->result = e;
    return NULL;
}

nsdb_err import_tail_wait(import_tail *t)
{
    if (!t->running)
        return NSDB_OK;
    pthread_join(t->thread, NULL);
    t->running = false;
    free(t->regs);
    t->regs = NULL;
    return t->result;
}

/* Starts the job set up in t on a thread; without one, runs it here (its result). */
static NSDB_MUST_CHECK nsdb_err tail_run(import_tail *t)
{
    t->result = NSDB_ERR_DB;
    if (pthread_create(&t->thread, NULL, tail_main, t) != 0) {
        tail_main(t); /* no thread: done here, the same way */
        free(t->regs);
        t->regs = NULL;
        return t->result;
    }
    t->running = true;
    return NSDB_OK;
}

nsdb_err import_tail_start(import_tail *t, store_bulk_registration *regs, size_t n, int64_t now)
{
    nsdb_err e = import_tail_wait(t);
    if (e != NSDB_OK || n == 0) {
        free(regs);
        return e;
    }
    t->regs = regs;
    t->n = n;
    t->now = now;
    t->checkpoint = false;
    return tail_run(t);
}

nsdb_err import_tail_checkpoint(import_tail *t, db *conn, bool *beside)
{
    *beside = false;
    if (t->postgresql)
        return NSDB_OK;
    if (t->conn == NULL)
        return store_bulk_wal_checkpoint(conn);
    nsdb_err e = import_tail_wait(t);
    if (e != NSDB_OK)
        return e;
    t->checkpoint = true;
    e = tail_run(t);
    *beside = e == NSDB_OK && t->running;
    return e;
}

nsdb_err import_tail_checkpoint_end(import_tail *t, db *conn)
{
    nsdb_err e = import_tail_wait(t);
    return e != NSDB_OK || t->postgresql ? e : store_bulk_wal_checkpoint(conn);
}

void import_tail_close(import_tail *t)
{
    nsdb_err e = import_tail_wait(t);
    (void)e; /* the caller waited and checked before, when it wanted the result */
    if (t->conn != NULL)
        db_pool_release(t->pool, t->conn);
    t->conn = NULL;
}
