/*
 * db_sqlite.c — the SQLite driver: one connection per pool slot, WAL, foreign keys, a busy
 * timeout, and `$N` parameters (prepared as SQLite's numbered `?N`) so that the same SQL runs on PostgreSQL.
 */
#define NSDB_STORE_INTERNAL
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_internal.h"
#include "util/log.h"

#define SQLITE_BUSY_TIMEOUT_MS 10000

nsdb_err db_sqlite_connect(const char *path, db **out)
{
    sqlite3 *handle = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &handle, flags, NULL) != SQLITE_OK) {
        log_event(LOG_ERROR, "sqlite_open_failed", "path", path, "error",
                  handle ? sqlite3_errmsg(handle) : "nomem", NULL);
        sqlite3_close(handle);
        return NSDB_ERR_DB;
    }
    sqlite3_busy_timeout(handle, SQLITE_BUSY_TIMEOUT_MS);
    static const char *const PRAGMAS =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;";
    char *err = NULL;
    if (sqlite3_exec(handle, PRAGMAS, NULL, NULL, &err) != SQLITE_OK) {
        log_event(LOG_ERROR, "sqlite_pragma_failed", "error", err, NULL);
        sqlite3_free(err);
        sqlite3_close(handle);
        return NSDB_ERR_DB;
    }
    db *conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        sqlite3_close(handle);
        return NSDB_ERR_NOMEM;
    }
    conn->dialect = DB_SQLITE;
    conn->driver = &DB_SQLITE_DRIVER;
    conn->sqlite = handle;
    *out = conn;
    return NSDB_OK;
}

static void sqlite_disconnect(db *conn)
{
    if (conn == NULL)
        return;
    for (int i = 0; i < conn->cache_count; i++) {
        sqlite3_finalize(conn->cache[i].stmt);
        free(conn->cache[i].sql);
    }
    sqlite3_close(conn->sqlite);
    free(conn);
}

static void sqlite_rollback(db *conn);

static NSDB_MUST_CHECK nsdb_err db_simple(db *conn, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(conn->sqlite, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        log_event(LOG_ERROR, "sql_failed", "sql", sql, "error", err, NULL);
        sqlite3_free(err);
        return rc == SQLITE_BUSY ? NSDB_ERR_BUSY : NSDB_ERR_DB;
    }
    return NSDB_OK;
}

/* Connections of this process waiting in BEGIN IMMEDIATE (db_yield_to_writers). */
static atomic_int writers_waiting;

void db_sqlite_yield_to_writers(int max_ms)
{
    for (int waited = 0; waited < max_ms && atomic_load(&writers_waiting) > 0; waited++)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
}

static NSDB_MUST_CHECK nsdb_err sqlite_begin(db *conn)
{
    atomic_fetch_add(&writers_waiting, 1);
    nsdb_err e = db_simple(conn, "BEGIN IMMEDIATE");
    atomic_fetch_sub(&writers_waiting, 1);
    if (e == NSDB_OK)
        conn->in_transaction = 1;
    return e;
}

/* SQLite has one writer at a time: every scope is the whole database. */
static NSDB_MUST_CHECK nsdb_err sqlite_begin_scoped(db *conn, db_scope kind, int64_t key)
{
    (void)kind;
    (void)key;
    return sqlite_begin(conn);
}

static NSDB_MUST_CHECK nsdb_err sqlite_begin_read(db *conn)
{
    nsdb_err e = db_simple(conn, "BEGIN DEFERRED");
    if (e == NSDB_OK)
        conn->in_transaction = 1;
    return e;
}

static NSDB_MUST_CHECK nsdb_err sqlite_commit(db *conn)
{
    nsdb_err e = db_simple(conn, "COMMIT");
    if (e != NSDB_OK) {
        sqlite_rollback(conn);
        return e;
    }
    conn->in_transaction = 0;
    return NSDB_OK;
}

static void sqlite_rollback(db *conn)
{
    if (sqlite3_get_autocommit(conn->sqlite) == 0)
        sqlite3_exec(conn->sqlite, "ROLLBACK", NULL, NULL, NULL);
    conn->in_transaction = 0;
}

static NSDB_MUST_CHECK nsdb_err sqlite_exec_script(db *conn, const char *sql)
{
    return db_simple(conn, sql);
}

/* sql with every `$N` parameter (outside quotes and comments) written `?N`, SQLite's numbered
   parameter, which keeps the number as its slot; malloc'd. */
static char *sqlite_numbered(const char *sql)
{
    char *out = strdup(sql);
    if (out == NULL)
        return NULL;
    for (char *p = out; *p; p++) {
        if (*p == '\'' || *p == '"') {
            const char quote = *p;
            for (p++; *p && *p != quote; p++)
                ;
            if (*p == '\0')
                break;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            if (*p == '\0')
                break;
        } else if (*p == '$' && isdigit((unsigned char)p[1]) &&
                   (p == out || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
            *p = '?';
        }
    }
    return out;
}

static NSDB_MUST_CHECK nsdb_err sqlite_prepare(db *conn, const char *sql, db_stmt **out)
{
    for (int i = 0; i < conn->cache_count; i++) {
        struct db_cached_stmt *c = &conn->cache[i];
        if (c->in_use || strcmp(c->sql, sql) != 0)
            continue;
        db_stmt *s = calloc(1, sizeof *s);
        if (s == NULL)
            return NSDB_ERR_NOMEM;
        c->in_use = 1;
        s->conn = conn;
        s->sqlite = c->stmt;
        s->cached = c;
        *out = s;
        return NSDB_OK;
    }
    sqlite3_stmt *st = NULL;
    char *numbered = sqlite_numbered(sql);
    if (numbered == NULL)
        return NSDB_ERR_NOMEM;
    int rc = sqlite3_prepare_v3(conn->sqlite, numbered, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    free(numbered);
    if (rc != SQLITE_OK) {
        log_event(LOG_ERROR, "sql_prepare_failed", "sql", sql, "error",
                  sqlite3_errmsg(conn->sqlite), NULL);
        sqlite3_finalize(st);
        return NSDB_ERR_DB;
    }
    db_stmt *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sqlite3_finalize(st);
        return NSDB_ERR_NOMEM;
    }
    s->conn = conn;
    s->sqlite = st;
    if (conn->cache_count < DB_STMT_CACHE_SIZE) {
        struct db_cached_stmt *c = &conn->cache[conn->cache_count];
        c->sql = strdup(sql);
        if (c->sql != NULL) {
            c->stmt = st;
            c->in_use = 1;
            s->cached = c;
            conn->cache_count++;
        }
    }
    *out = s;
    return NSDB_OK;
}

/* The SQL is prepared with `$N` turned into `?N` (sqlite_numbered), so parameter N is slot N:
   no lookup by name, which SQLite does by a linear scan (a multi-row INSERT of thousands of
   parameters would bind in quadratic time). A number the SQL does not reach is ignored. */
static int param_slot(db_stmt *st, int index)
{
    return index >= 1 && index <= sqlite3_bind_parameter_count(st->sqlite) ? index : 0;
}

static void sqlite_bind_text(db_stmt *st, int index, const char *value)
{
    int slot = param_slot(st, index);
    if (slot == 0)
        return;
    if (value == NULL)
        sqlite3_bind_null(st->sqlite, slot);
    else
        sqlite3_bind_text(st->sqlite, slot, value, -1, SQLITE_TRANSIENT);
}

static void sqlite_bind_int(db_stmt *st, int index, int64_t value)
{
    int slot = param_slot(st, index);
    if (slot != 0)
        sqlite3_bind_int64(st->sqlite, slot, value);
}

static void sqlite_bind_blob(db_stmt *st, int index, const void *value, size_t len)
{
    int slot = param_slot(st, index);
    if (slot == 0)
        return;
    if (value == NULL)
        sqlite3_bind_null(st->sqlite, slot);
    else
        sqlite3_bind_blob64(st->sqlite, slot, value, len, SQLITE_TRANSIENT);
}

static void sqlite_bind_null(db_stmt *st, int index)
{
    int slot = param_slot(st, index);
    if (slot != 0)
        sqlite3_bind_null(st->sqlite, slot);
}

static int sqlite_step(db_stmt *st)
{
    int rc = sqlite3_step(st->sqlite);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        st->changes = sqlite3_changes(st->conn->sqlite);
        return DB_DONE;
    }
    return DB_ERROR;
}

static int sqlite_last_error_is_unique(db_stmt *st)
{
    return sqlite3_extended_errcode(st->conn->sqlite) == SQLITE_CONSTRAINT_UNIQUE ||
           sqlite3_extended_errcode(st->conn->sqlite) == SQLITE_CONSTRAINT_PRIMARYKEY;
}

static const char *sqlite_column_text(db_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->sqlite, col);
}

static int64_t sqlite_column_int(db_stmt *st, int col)
{
    return sqlite3_column_int64(st->sqlite, col);
}

static const void *sqlite_column_blob(db_stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st->sqlite, col);
    *len = (size_t)sqlite3_column_bytes(st->sqlite, col);
    return p;
}

static int sqlite_column_is_null(db_stmt *st, int col)
{
    return sqlite3_column_type(st->sqlite, col) == SQLITE_NULL;
}

static void sqlite_finalize(db_stmt *st)
{
    if (st->cached != NULL) {
        sqlite3_reset(st->sqlite);
        sqlite3_clear_bindings(st->sqlite);
        st->cached->in_use = 0;
    } else {
        sqlite3_finalize(st->sqlite);
    }
    free(st);
}

static const char *sqlite_error_message(db *conn)
{
    return sqlite3_errmsg(conn->sqlite);
}

const struct db_driver DB_SQLITE_DRIVER = {
    .disconnect = sqlite_disconnect,
    .revive = NULL,
    .begin = sqlite_begin,
    .begin_scoped = sqlite_begin_scoped,
    .begin_read = sqlite_begin_read,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec_script = sqlite_exec_script,
    .prepare = sqlite_prepare,
    .bind_text = sqlite_bind_text,
    .bind_int = sqlite_bind_int,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .column_text = sqlite_column_text,
    .column_int = sqlite_column_int,
    .column_blob = sqlite_column_blob,
    .column_is_null = sqlite_column_is_null,
    .finalize = sqlite_finalize,
    .error_message = sqlite_error_message,
    .last_error_is_unique = sqlite_last_error_is_unique,
};
