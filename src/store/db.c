/*
 * db.c — the connection pool and the typed exec/query helpers built on the driver primitives.
 * A pool is sized to the HTTP thread pool, so a request never waits for a connection unless
 * a background task holds one. The primitives of db.h and sql.h are dispatched here to the driver of
 * the connection (db_sqlite.c or db_pg.c), and the fault hook of db_fault.h is checked here.
 */
#define NSDB_STORE_INTERNAL
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/db_fault.h"
#include "store/db_internal.h"
#include "util/log.h"


struct db_pool {
    db_dialect dialect;
    char *sqlite_path;
    pthread_mutex_t lock;
    pthread_cond_t available;
    db *free_list;
    db **all;
    int size;
};

static int url_is_postgresql(const char *url)
{
    return url != NULL &&
           (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0);
}

nsdb_err db_pool_open(const char *url, const char *data_dir, int size, db_pool **out)
{
    db_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return NSDB_ERR_NOMEM;
    if (url_is_postgresql(url)) {
        pool->dialect = DB_POSTGRESQL;
    } else if (url != NULL && strncmp(url, "sqlite:", 7) == 0) {
        pool->dialect = DB_SQLITE;
        pool->sqlite_path = strdup(url + 7);
    } else if (url != NULL && *url != '\0') {
        free(pool);
        return NSDB_ERR_INVALID;
    } else {
        pool->dialect = DB_SQLITE;
        size_t n = strlen(data_dir) + 32;
        pool->sqlite_path = malloc(n);
        if (pool->sqlite_path)
            snprintf(pool->sqlite_path, n, "%s/nsdb.sqlite3", data_dir);
    }
    pool->all = calloc((size_t)size, sizeof *pool->all);
    if ((pool->dialect == DB_SQLITE && pool->sqlite_path == NULL) || pool->all == NULL) {
        db_pool_close(pool);
        return NSDB_ERR_NOMEM;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->available, NULL);
    for (int i = 0; i < size; i++) {
        nsdb_err e = pool->dialect == DB_POSTGRESQL ? db_pg_connect(url, &pool->all[i])
                                                    : db_sqlite_connect(pool->sqlite_path, &pool->all[i]);
        if (e != NSDB_OK) {
            db_pool_close(pool);
            return e;
        }
        pool->size = i + 1;
        pool->all[i]->next_free = pool->free_list;
        pool->free_list = pool->all[i];
    }
    *out = pool;
    return NSDB_OK;
}

void db_pool_close(db_pool *pool)
{
    if (pool == NULL)
        return;
    for (int i = 0; i < pool->size; i++)
        pool->all[i]->driver->disconnect(pool->all[i]);
    if (pool->all != NULL) {
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->available);
    }
    free(pool->all);
    free(pool->sqlite_path);
    free(pool);
}

db *db_pool_acquire(db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->free_list == NULL)
        pthread_cond_wait(&pool->available, &pool->lock);
    db *conn = pool->free_list;
    pool->free_list = conn->next_free;
    pthread_mutex_unlock(&pool->lock);
    if (conn->driver->revive != NULL)
        conn->driver->revive(conn);
    return conn;
}

db *db_pool_try_acquire(db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    db *conn = pool->free_list;
    if (conn != NULL)
        pool->free_list = conn->next_free;
    pthread_mutex_unlock(&pool->lock);
    if (conn != NULL && conn->driver->revive != NULL)
        conn->driver->revive(conn);
    return conn;
}

void db_pool_release(db_pool *pool, db *conn)
{
    if (conn->in_transaction)
        db_rollback(conn); /* a handler that forgot to finish never leaks its transaction */
    pthread_mutex_lock(&pool->lock);
    conn->next_free = pool->free_list;
    pool->free_list = conn;
    pthread_cond_signal(&pool->available);
    pthread_mutex_unlock(&pool->lock);
}

db_dialect db_pool_dialect(const db_pool *pool)
{
    return pool->dialect;
}

const char *db_pool_sqlite_path(const db_pool *pool)
{
    return pool->dialect == DB_SQLITE ? pool->sqlite_path : NULL;
}

/* ---- the primitives of db.h, dispatched to the connection's driver ---- */

db_dialect db_get_dialect(const db *conn)
{
    return conn->dialect;
}

nsdb_err db_begin(db *conn)
{
    conn->fault_injected = 0;
    return conn->driver->begin(conn);
}

nsdb_err db_begin_scoped(db *conn, db_scope kind, int64_t key)
{
    conn->fault_injected = 0;
    return conn->driver->begin_scoped(conn, kind, kind == DB_SCOPE_NONE ? 0 : key);
}

void db_yield_to_writers(db *conn, int max_ms)
{
    if (conn->dialect == DB_SQLITE)
        db_sqlite_yield_to_writers(max_ms);
}

nsdb_err db_begin_read(db *conn)
{
    conn->fault_injected = 0;
    return conn->driver->begin_read(conn);
}

bool db_in_transaction(const db *conn)
{
    return conn->in_transaction != 0;
}

nsdb_err db_commit(db *conn)
{
    conn->fault_injected = 0;
    return conn->driver->commit(conn);
}

void db_rollback(db *conn)
{
    conn->driver->rollback(conn);
}

nsdb_err db_exec_script(db *conn, const char *sql)
{
    conn->fault_injected = 0;
    return conn->driver->exec_script(conn, sql);
}

/* ---- the fault hook (db_fault.h) ---- */

/* Write statements still to run before the failing one; 0: off. */
static atomic_int fault_countdown;

void db_fault_inject(int countdown)
{
    atomic_store(&fault_countdown, countdown > 0 ? countdown : 0);
}

/* Whether this write is the one to fail: counts it down when the hook is armed. */
static bool fault_fires(void)
{
    int left = atomic_load(&fault_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&fault_countdown, &left, left - 1))
            return left == 1;
    }
    return false;
}

static bool keyword_at(const char *p, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(p, word, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

/* INSERT, UPDATE or DELETE, also after a WITH clause: the statements the fault hook counts. */
static bool sql_is_write(const char *sql)
{
    while (isspace((unsigned char)*sql))
        sql++;
    if (keyword_at(sql, "INSERT") || keyword_at(sql, "UPDATE") || keyword_at(sql, "DELETE"))
        return true;
    if (!keyword_at(sql, "WITH"))
        return false;
    for (const char *p = sql; *p != '\0'; p++) {
        if (p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        if (keyword_at(p, "INSERT") || keyword_at(p, "UPDATE") || keyword_at(p, "DELETE"))
            return true;
    }
    return false;
}

nsdb_err db_prepare(db *conn, const char *sql, db_stmt **out)
{
    conn->fault_injected = 0;
    nsdb_err e = conn->driver->prepare(conn, sql, out);
    if (e == NSDB_OK)
        (*out)->is_write = sql_is_write(sql);
    return e;
}

void db_bind_text(db_stmt *st, int index, const char *value)
{
    st->conn->driver->bind_text(st, index, value);
}

void db_bind_int(db_stmt *st, int index, int64_t value)
{
    st->conn->driver->bind_int(st, index, value);
}

void db_bind_blob(db_stmt *st, int index, const void *value, size_t len)
{
    st->conn->driver->bind_blob(st, index, value, len);
}

void db_bind_null(db_stmt *st, int index)
{
    st->conn->driver->bind_null(st, index);
}

int db_step(db_stmt *st)
{
    if (st->fault_injected)
        return DB_ERROR;
    if (st->is_write && fault_fires()) {
        st->fault_injected = true;
        st->conn->fault_injected = 1;
        return DB_ERROR;
    }
    st->is_write = false; /* counted once: a later step fetches a row of RETURNING */
    return st->conn->driver->step(st);
}

nsdb_err db_send(db_stmt *st)
{
    if (st->conn->driver->send == NULL || st->fault_injected)
        return NSDB_OK; /* runs (or fails) at its first step */
    int rc = st->conn->driver->send(st);
    return rc == DB_DONE ? NSDB_OK : rc == DB_BUSY ? NSDB_ERR_BUSY : NSDB_ERR_DB;
}

nsdb_err db_copy_in(db *conn, const char *copy_sql, const char *data, size_t len)
{
    conn->fault_injected = 0;
    if (conn->driver->copy_in == NULL)
        return NSDB_ERR_INVALID;
    if (fault_fires()) { /* before it ran: the transaction is as it was, as after a failure */
        conn->fault_injected = 1;
        return NSDB_ERR_DB;
    }
    return conn->driver->copy_in(conn, copy_sql, data, len);
}

const char *db_column_text(db_stmt *st, int col)
{
    return st->conn->driver->column_text(st, col);
}

int64_t db_column_int(db_stmt *st, int col)
{
    return st->conn->driver->column_int(st, col);
}

const void *db_column_blob(db_stmt *st, int col, size_t *len)
{
    return st->conn->driver->column_blob(st, col, len);
}

int db_column_is_null(db_stmt *st, int col)
{
    return st->conn->driver->column_is_null(st, col);
}

int64_t db_changes(db_stmt *st)
{
    return st->changes;
}

void db_finalize(db_stmt *st)
{
    if (st != NULL)
        st->conn->driver->finalize(st);
}

const char *db_error_message(db *conn)
{
    if (conn->fault_injected)
        return "fault injected by db_fault_inject";
    return conn->driver->error_message(conn);
}

int db_last_error_is_unique(db_stmt *st)
{
    if (st->fault_injected)
        return 0;
    return st->conn->driver->last_error_is_unique(st);
}

nsdb_err store_ping(db *conn)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT 1", NULL);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
}

/* ---- typed helpers ---- */

static void bind_args(db_stmt *st, const char *types, va_list ap)
{
    for (int i = 0; types != NULL && types[i]; i++) {
        int idx = i + 1;
        switch (types[i]) {
        case 't':
            db_bind_text(st, idx, va_arg(ap, const char *));
            break;
        case 'i':
            db_bind_int(st, idx, va_arg(ap, int64_t));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            db_bind_blob(st, idx, p, n);
            break;
        }
        case 'n':
            db_bind_null(st, idx);
            break;
        default:
            abort(); /* a wrong type letter is a programming error */
        }
    }
}

nsdb_err db_query(db *conn, db_stmt **out, const char *sql, const char *types, ...)
{
    nsdb_err e = db_prepare(conn, sql, out);
    if (e != NSDB_OK)
        return e;
    va_list ap;
    va_start(ap, types);
    bind_args(*out, types, ap);
    va_end(ap);
    return NSDB_OK;
}

nsdb_err db_exec(db *conn, int64_t *changes_out, const char *sql, const char *types, ...)
{
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(conn, sql, &st);
    if (e != NSDB_OK)
        return e;
    va_list ap;
    va_start(ap, types);
    bind_args(st, types, ap);
    va_end(ap);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        ;
    if (rc == DB_ERROR) {
        e = db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
        if (e == NSDB_ERR_DB)
            log_event(LOG_ERROR, "sql_failed", "sql", sql, "error", db_error_message(conn), NULL);
    } else if (changes_out != NULL) {
        *changes_out = db_changes(st);
    }
    db_finalize(st);
    return e;
}
