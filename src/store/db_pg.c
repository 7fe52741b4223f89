/*
 * db_pg.c — the PostgreSQL driver (libpq). A statement collects its parameters as text (integers
 * formatted, blobs as binary bytea) and is sent on its first db_step; the whole result comes back
 * in text format and db_step walks its rows. Each connection prepares a statement on the server
 * once per SQL text and parameter types, as the SQLite driver caches its statements.
 * Write transactions take advisory locks shared by every nsdb server on the database, in two
 * levels (see db_begin in db.h): one global key — exclusive for db_begin, so that code without a
 * scope runs alone as under SQLite's BEGIN IMMEDIATE and needs no retry loop, shared for
 * db_begin_scoped — and, for a scoped transaction, an exclusive lock on (scope kind, key) in the
 * two-int4 key space, which is separate from the global bigint key. Transactions of different
 * scopes thus run at once (a login does not wait for another municipality's import); what they
 * share is kept by constraints, upserts and row locks.
 */
#define NSDB_STORE_INTERNAL
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "util/log.h"

#define PG_STMT_CACHE_SIZE 256
/* Type OIDs sent with parameters; 0 lets the server infer the type from the SQL, as it does for
   a quoted literal. Integers are int8 so that `$1 = 0 OR col = $1` never narrows to int4. */
#define PG_OID_UNKNOWN 0
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
/* The global pg_advisory_xact_lock key of nsdb's write transactions: "nsdb" in ASCII. */
#define PG_TRANSACTION_LOCK "1853056098"
/* A writer waits this long for another, as SQLite's busy timeout (db_sqlite.c) waits. */
#define PG_LOCK_TIMEOUT "10s"

#define SQLSTATE_UNIQUE_VIOLATION "23505"
#define SQLSTATE_LOCK_NOT_AVAILABLE "55P03"
#define SQLSTATE_IN_FAILED_TRANSACTION "25P02"

struct pg_cached_stmt {
    char *sql;
    Oid *types;
    int nparams;
    char name[24];
};

struct db_pg {
    PGconn *conn;
    struct pg_cached_stmt cache[PG_STMT_CACHE_SIZE];
    int cache_count;
    unsigned long next_name;
    char *last_error; /* message of the last failure, for db_error_message */
    /* pipeline mode (db_send): statements are numbered as sent; read_seq is the next whose
       results come, sent_seq the next number (none pending when equal) */
    uint64_t sent_seq, read_seq;
};

struct db_pg_stmt {
    char *sql;
    int nparams; /* the highest $N of the SQL: bindings past it are ignored, as by SQLite */
    char **values;
    int *lengths;
    int *formats;
    Oid *types;
    PGresult *result;
    int executed;
    int sent;     /* sent in pipeline mode (db_send) as number seq; its result not read yet */
    uint64_t seq;
    int row; /* the current row; -1 before the first db_step */
    char sqlstate[6];
    unsigned char **blobs; /* decoded bytea of the current row, per column (PQfreemem) */
    size_t *blob_lens;
};

/* db_stmt and its PostgreSQL part in one allocation (db_stmt first: freed as one). */
struct pg_statement {
    db_stmt base;
    struct db_pg_stmt pg;
};

static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like: not for stderr */
}

/* Keeps the error of res (or of the connection when res has none) for db_error_message, as
   "message (SQLSTATE)" on one line. */
static void pg_set_error(struct db_pg *pg, const PGresult *res)
{
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *message = primary != NULL ? primary : PQerrorMessage(pg->conn);
    char *text = malloc(strlen(message) + 16);
    if (text != NULL) {
        snprintf(text, strlen(message) + 16, state != NULL ? "%s (%s)" : "%s", message, state);
        for (char *p = text; *p; p++)
            if (*p == '\n')
                *p = ' ';
        size_t n = strlen(text);
        while (n > 0 && text[n - 1] == ' ')
            text[--n] = '\0';
    }
    free(pg->last_error);
    pg->last_error = text;
}

static const char *pg_error_message(db *conn)
{
    return conn->pg->last_error != NULL ? conn->pg->last_error : PQerrorMessage(conn->pg->conn);
}

static void pg_cache_clear(struct db_pg *pg)
{
    for (int i = 0; i < pg->cache_count; i++) {
        free(pg->cache[i].sql);
        free(pg->cache[i].types);
    }
    pg->cache_count = 0;
}

static void pg_pipeline_drain(struct db_pg *pg);

/* Runs SQL without parameters; on failure the error is logged and kept for db_error_message. */
static NSDB_MUST_CHECK nsdb_err pg_command(db *conn, const char *sql)
{
    pg_pipeline_drain(conn->pg);
    PGresult *res = PQexec(conn->pg->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(res);
        return NSDB_OK;
    }
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    nsdb_err e = state != NULL && strcmp(state, SQLSTATE_LOCK_NOT_AVAILABLE) == 0 ? NSDB_ERR_BUSY
                                                                               : NSDB_ERR_DB;
    pg_set_error(conn->pg, res);
    log_event(LOG_ERROR, "sql_failed", "sql", sql, "error", pg_error_message(conn), NULL);
    PQclear(res);
    return e;
}

/* Settings every session needs, run again after a reconnection. */
static NSDB_MUST_CHECK nsdb_err pg_session_setup(db *conn)
{
    PQsetNoticeProcessor(conn->pg->conn, pg_notice_ignore, NULL);
    /* `LIKE … ESCAPE '\'` in nsdb's SQL needs standard strings (the default since 9.1); no JIT:
       nsdb's statements are short, and while an import grows a table faster than its statistics
       the planner's estimates crossed jit_above_cost, compiling for ~30 ms a lookup of 1 ms */
    return pg_command(conn, "SET standard_conforming_strings = on; SET jit = off");
}

nsdb_err db_pg_connect(const char *url, db **out)
{
    /* connect_timeout before dbname: a value in the URL overrides it; client_encoding after. */
    const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const values[] = {"10", url, "nsdb", "UTF8", NULL};
    PGconn *pgconn = PQconnectdbParams(keys, values, 1);
    if (pgconn == NULL || PQstatus(pgconn) != CONNECTION_OK) {
        /* the URL is not logged: it may hold a password */
        log_event(LOG_ERROR, "pg_connect_failed", "error",
                  pgconn != NULL ? PQerrorMessage(pgconn) : "out of memory", NULL);
        PQfinish(pgconn);
        return NSDB_ERR_DB;
    }
    db *conn = calloc(1, sizeof *conn);
    struct db_pg *pg = calloc(1, sizeof *pg);
    if (conn == NULL || pg == NULL) {
        free(conn);
        free(pg);
        PQfinish(pgconn);
        return NSDB_ERR_NOMEM;
    }
    pg->conn = pgconn;
    conn->dialect = DB_POSTGRESQL;
    conn->driver = &DB_PG_DRIVER;
    conn->pg = pg;
    nsdb_err e = pg_session_setup(conn);
    if (e != NSDB_OK) {
        conn->driver->disconnect(conn);
        return e;
    }
    *out = conn;
    return NSDB_OK;
}

static void pg_disconnect(db *conn)
{
    if (conn == NULL)
        return;
    pg_cache_clear(conn->pg);
    PQfinish(conn->pg->conn);
    free(conn->pg->last_error);
    free(conn->pg);
    free(conn);
}

/* Connects again: a new session, without the old one's prepared statements or transaction. */
static void pg_reconnect(db *conn)
{
    log_event(LOG_WARN, "pg_reconnect", "error", PQerrorMessage(conn->pg->conn), NULL);
    pg_cache_clear(conn->pg);
    conn->pg->read_seq = conn->pg->sent_seq; /* what was sent is gone with the link */
    PQreset(conn->pg->conn);
    if (PQstatus(conn->pg->conn) == CONNECTION_OK && pg_session_setup(conn) != NSDB_OK)
        log_event(LOG_WARN, "pg_session_setup_failed", NULL); /* the next statement fails */
}

/* A server restart or a dropped link leaves the connection bad: connect again when the pool
   hands it out. */
static void pg_revive(db *conn)
{
    if (PQstatus(conn->pg->conn) != CONNECTION_BAD)
        return;
    conn->in_transaction = 0;
    pg_reconnect(conn);
}

static void pg_rollback(db *conn);

/* BEGIN with lock_timeout and the global key taken by lock_sql; on failure nothing stays open. */
static NSDB_MUST_CHECK nsdb_err pg_begin_with(db *conn, const char *lock_sql)
{
    nsdb_err e = pg_command(conn, lock_sql);
    if (e != NSDB_OK) {
        if (PQtransactionStatus(conn->pg->conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn->pg->conn, "ROLLBACK"));
        return e;
    }
    conn->in_transaction = 1;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err pg_begin(db *conn)
{
    return pg_begin_with(conn, "BEGIN; SET LOCAL lock_timeout = '" PG_LOCK_TIMEOUT "'; "
                               "SELECT pg_advisory_xact_lock(" PG_TRANSACTION_LOCK ")");
}

/* The scope's key folded into int4: a key past 2^31 (or two keys that fold alike) only shares
   its lock with another scope — the two wait for each other, never run together wrongly. */
static int32_t pg_scope_key(int64_t key)
{
    uint64_t k = (uint64_t)key;
    return (int32_t)(uint32_t)(k ^ (k >> 32));
}

static NSDB_MUST_CHECK nsdb_err pg_begin_scoped(db *conn, db_scope kind, int64_t key)
{
    nsdb_err e = pg_begin_with(conn, "BEGIN; SET LOCAL lock_timeout = '" PG_LOCK_TIMEOUT "'; "
                                     "SELECT pg_advisory_xact_lock_shared(" PG_TRANSACTION_LOCK ")");
    if (e != NSDB_OK || kind == DB_SCOPE_NONE)
        return e;
    char kind_text[12], key_text[12];
    snprintf(kind_text, sizeof kind_text, "%d", (int)kind);
    snprintf(key_text, sizeof key_text, "%" PRId32, pg_scope_key(key));
    const char *const values[] = {kind_text, key_text};
    PGresult *res = PQexecParams(conn->pg->conn, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                                 2, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        PQclear(res);
        return NSDB_OK;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    e = state != NULL && strcmp(state, SQLSTATE_LOCK_NOT_AVAILABLE) == 0 ? NSDB_ERR_BUSY
                                                                        : NSDB_ERR_DB;
    pg_set_error(conn->pg, res);
    log_event(LOG_ERROR, "sql_failed", "sql", "pg_advisory_xact_lock(scope)", "error",
              pg_error_message(conn), NULL);
    PQclear(res);
    pg_rollback(conn);
    return e;
}

static NSDB_MUST_CHECK nsdb_err pg_begin_read(db *conn)
{
    nsdb_err e = pg_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (e == NSDB_OK)
        conn->in_transaction = 1;
    return e;
}

static void pg_rollback(db *conn)
{
    pg_pipeline_drain(conn->pg);
    PGTransactionStatusType ts = PQtransactionStatus(conn->pg->conn);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        PQclear(PQexec(conn->pg->conn, "ROLLBACK"));
    conn->in_transaction = 0;
}

static NSDB_MUST_CHECK nsdb_err pg_commit(db *conn)
{
    pg_pipeline_drain(conn->pg);
    PGresult *res = PQexec(conn->pg->conn, "COMMIT");
    /* COMMIT of a transaction that had failed succeeds as a ROLLBACK: that is a failure here */
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0;
    if (!ok) {
        pg_set_error(conn->pg, res);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            free(conn->pg->last_error);
            conn->pg->last_error = strdup("transaction rolled back: a statement in it had failed");
        }
        log_event(LOG_ERROR, "sql_failed", "sql", "COMMIT", "error", pg_error_message(conn), NULL);
    }
    PQclear(res);
    if (!ok) {
        pg_rollback(conn);
        return NSDB_ERR_DB;
    }
    conn->in_transaction = 0;
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err pg_exec_script(db *conn, const char *sql)
{
    return pg_command(conn, sql);
}

/* The highest $N outside quoted text and comments. */
static int sql_param_count(const char *sql)
{
    int max = 0;
    for (const char *p = sql; *p; p++) {
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
        } else if (*p == '$' && isdigit((unsigned char)p[1])) {
            char *end = NULL;
            long n = strtol(p + 1, &end, 10);
            if (n > max && n <= 65535)
                max = (int)n;
            p = end - 1;
        }
    }
    return max;
}

static NSDB_MUST_CHECK nsdb_err pg_prepare(db *conn, const char *sql, db_stmt **out)
{
    struct pg_statement *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NSDB_ERR_NOMEM;
    struct db_pg_stmt *ps = &s->pg;
    s->base.conn = conn;
    s->base.pg = ps;
    ps->row = -1;
    ps->sql = strdup(sql);
    ps->nparams = sql_param_count(sql);
    size_t n = ps->nparams > 0 ? (size_t)ps->nparams : 1;
    ps->values = calloc(n, sizeof *ps->values);
    ps->lengths = calloc(n, sizeof *ps->lengths);
    ps->formats = calloc(n, sizeof *ps->formats);
    ps->types = calloc(n, sizeof *ps->types);
    if (ps->sql == NULL || ps->values == NULL || ps->lengths == NULL || ps->formats == NULL ||
        ps->types == NULL) {
        conn->driver->finalize(&s->base);
        return NSDB_ERR_NOMEM;
    }
    *out = &s->base;
    return NSDB_OK;
}

/* Sets parameter index (from 1) to value, which the statement now owns (NULL: SQL NULL). */
static void pg_param_set(db_stmt *st, int index, char *value, int length, int format, Oid type)
{
    struct db_pg_stmt *ps = st->pg;
    if (index < 1 || index > ps->nparams) {
        free(value);
        return;
    }
    int i = index - 1;
    free(ps->values[i]);
    ps->values[i] = value;
    ps->lengths[i] = length;
    ps->formats[i] = format;
    ps->types[i] = type;
}

static void pg_bind_text(db_stmt *st, int index, const char *value)
{
    pg_param_set(st, index, value != NULL ? strdup(value) : NULL, 0, 0, PG_OID_UNKNOWN);
}

static void pg_bind_int(db_stmt *st, int index, int64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, value);
    pg_param_set(st, index, strdup(text), 0, 0, PG_OID_INT8);
}

static void pg_bind_blob(db_stmt *st, int index, const void *value, size_t len)
{
    char *copy = NULL;
    if (value != NULL) {
        copy = malloc(len ? len : 1);
        if (copy != NULL && len)
            memcpy(copy, value, len);
    }
    pg_param_set(st, index, copy, (int)len, 1, PG_OID_BYTEA);
}

static void pg_bind_null(db_stmt *st, int index)
{
    pg_param_set(st, index, NULL, 0, 0, PG_OID_UNKNOWN);
}

static const struct pg_cached_stmt *pg_cache_find(const struct db_pg *pg,
                                                  const struct db_pg_stmt *ps)
{
    for (int i = 0; i < pg->cache_count; i++) {
        const struct pg_cached_stmt *c = &pg->cache[i];
        if (c->nparams == ps->nparams && strcmp(c->sql, ps->sql) == 0 &&
            (ps->nparams == 0 || memcmp(c->types, ps->types, (size_t)ps->nparams * sizeof(Oid)) == 0))
            return c;
    }
    return NULL;
}

/* Prepares the statement on the server and caches it. Returns NULL with *out set (or left NULL
   when the cache is full or out of memory), or the failed result. */
static PGresult *pg_cache_add(struct db_pg *pg, const struct db_pg_stmt *ps,
                              const struct pg_cached_stmt **out)
{
    *out = NULL;
    if (pg->cache_count >= PG_STMT_CACHE_SIZE)
        return NULL;
    struct pg_cached_stmt *c = &pg->cache[pg->cache_count];
    size_t n = ps->nparams > 0 ? (size_t)ps->nparams : 1;
    c->sql = strdup(ps->sql);
    c->types = malloc(n * sizeof *c->types);
    if (c->sql == NULL || c->types == NULL) {
        free(c->sql);
        free(c->types);
        return NULL;
    }
    memcpy(c->types, ps->types, (size_t)ps->nparams * sizeof *c->types);
    c->nparams = ps->nparams;
    snprintf(c->name, sizeof c->name, "nsdb_%lu", pg->next_name++);
    PGresult *res = PQprepare(pg->conn, c->name, c->sql, c->nparams, c->types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        free(c->sql);
        free(c->types);
        return res != NULL ? res : PQmakeEmptyPGresult(pg->conn, PGRES_FATAL_ERROR);
    }
    PQclear(res);
    pg->cache_count++;
    *out = c;
    return NULL;
}

/* Records a failed execution. Errors SQLite reports when it prepares (SQL that does not parse or
   type-check: class 42) and statements in an aborted transaction are logged here; the caller
   decides about the others (a unique violation is often expected). */
static int pg_fail(db_stmt *st, PGresult *res)
{
    struct db_pg *pg = st->conn->pg;
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(st->pg->sqlstate, sizeof st->pg->sqlstate, "%s", state != NULL ? state : "");
    pg_set_error(pg, res);
    if (state == NULL || strncmp(state, "42", 2) == 0 ||
        strcmp(state, SQLSTATE_IN_FAILED_TRANSACTION) == 0 || strncmp(state, "08", 2) == 0)
        log_event(LOG_ERROR, "sql_prepare_failed", "sql", st->pg->sql, "error",
                  pg_error_message(st->conn), NULL);
    PQclear(res);
    return DB_ERROR;
}

static int pg_result_take(db_stmt *st, PGresult *res);

/* ---- pipeline mode (db_send) ----------------------------------------------------------------

   A statement sent is followed by its own sync point, so that an error stops only that
   statement (in a transaction, those after it then fail as the transaction has failed), and its
   results are read up to that sync point. Results come in the order sent: reading a statement's
   results first reads (and drops) those of statements sent before it and never stepped. */

/* Reads the results of the next statement sent, up to its sync point: its result (NULL when
   the connection broke), and leaves pipeline mode after the last statement sent. */
static PGresult *pg_pipeline_next(struct db_pg *pg)
{
    PGresult *mine = NULL;
    int nulls = 0;
    for (;;) {
        PGresult *res = PQgetResult(pg->conn);
        if (res == NULL) {
            if (++nulls > 2 || PQstatus(pg->conn) != CONNECTION_OK)
                break; /* nothing more comes: the connection is gone */
            continue;
        }
        nulls = 0;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (mine == NULL)
            mine = res;
        else
            PQclear(res);
    }
    pg->read_seq++;
    if (pg->read_seq == pg->sent_seq)
        (void)PQexitPipelineMode(pg->conn);
    return mine;
}

/* Reads and drops the results of every statement sent before number seq. */
static void pg_pipeline_skip_to(struct db_pg *pg, uint64_t seq)
{
    while (pg->read_seq < seq && pg->read_seq < pg->sent_seq)
        PQclear(pg_pipeline_next(pg));
}

/* Reads and drops every result still to come (before anything else runs on the connection). */
static void pg_pipeline_drain(struct db_pg *pg)
{
    pg_pipeline_skip_to(pg, pg->sent_seq);
}

static int pg_send(db_stmt *st)
{
    struct db_pg *pg = st->conn->pg;
    struct db_pg_stmt *ps = st->pg;
    if (ps->executed || ps->sent)
        return DB_DONE;
    const struct pg_cached_stmt *c = pg_cache_find(pg, ps);
    if (c == NULL) {
        if (pg->read_seq != pg->sent_seq)
            return DB_BUSY; /* preparing waits for its answer: not behind unread results */
        PGresult *res = pg_cache_add(pg, ps, &c);
        if (res != NULL) {
            ps->executed = 1;
            return pg_fail(st, res);
        }
        if (c == NULL)
            return DB_DONE; /* not cached (the cache is full): run at its step, unpipelined */
    }
    if (PQpipelineStatus(pg->conn) == PQ_PIPELINE_OFF && PQenterPipelineMode(pg->conn) != 1)
        return DB_DONE; /* run at its step */
    if (PQsendQueryPrepared(pg->conn, c->name, ps->nparams, (const char *const *)ps->values,
                            ps->lengths, ps->formats, 0) != 1 ||
        PQpipelineSync(pg->conn) != 1) {
        pg_set_error(pg, NULL);
        ps->executed = 1;
        if (pg->read_seq == pg->sent_seq)
            (void)PQexitPipelineMode(pg->conn);
        return DB_ERROR;
    }
    ps->sent = 1;
    ps->seq = pg->sent_seq++;
    return DB_DONE;
}

static int pg_execute(db_stmt *st)
{
    struct db_pg *pg = st->conn->pg;
    struct db_pg_stmt *ps = st->pg;
    const char *const *values = (const char *const *)ps->values;
    const struct pg_cached_stmt *c = NULL;
    PGresult *res = NULL;
    if (ps->sent) { /* its result, after those of statements sent before it */
        ps->sent = 0;
        if (ps->seq < pg->read_seq)
            return DB_ERROR; /* dropped (finalized out of order) */
        pg_pipeline_skip_to(pg, ps->seq);
        res = pg_pipeline_next(pg);
        if (res == NULL) {
            pg_set_error(pg, NULL);
            return DB_ERROR;
        }
        return pg_result_take(st, res);
    }
    pg_pipeline_drain(pg); /* a statement run at once: nothing sent may wait behind it */
    c = pg_cache_find(pg, ps);
    if (c == NULL) {
        res = pg_cache_add(pg, ps, &c);
        if (res != NULL)
            return pg_fail(st, res);
    }
    if (c != NULL)
        res = PQexecPrepared(pg->conn, c->name, ps->nparams, values, ps->lengths, ps->formats, 0);
    else
        res = PQexecParams(pg->conn, ps->sql, ps->nparams, ps->types, values, ps->lengths,
                           ps->formats, 0);
    return pg_result_take(st, res);
}

/* The statement's result res (taken over): DB_DONE, rows to step through, or DB_ERROR. */
static int pg_result_take(db_stmt *st, PGresult *res)
{
    struct db_pg_stmt *ps = st->pg;
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
        return pg_fail(st, res);
    ps->result = res;
    /* rows changed: INSERT, UPDATE and DELETE report them (with RETURNING too); not SELECT */
    st->changes = strncmp(PQcmdStatus(res), "SELECT", 6) == 0 ? 0 : strtoll(PQcmdTuples(res), NULL, 10);
    int fields = PQnfields(res);
    if (fields > 0) {
        ps->blobs = calloc((size_t)fields, sizeof *ps->blobs);
        ps->blob_lens = calloc((size_t)fields, sizeof *ps->blob_lens);
        if (ps->blobs == NULL || ps->blob_lens == NULL)
            return DB_ERROR;
    }
    return DB_DONE;
}

static void pg_blobs_clear(struct db_pg_stmt *ps)
{
    if (ps->blobs == NULL)
        return;
    int fields = PQnfields(ps->result);
    for (int i = 0; i < fields; i++) {
        if (ps->blobs[i] != NULL)
            PQfreemem(ps->blobs[i]);
        ps->blobs[i] = NULL;
        ps->blob_lens[i] = 0;
    }
}

static int pg_step(db_stmt *st)
{
    struct db_pg_stmt *ps = st->pg;
    if (!ps->executed) {
        ps->executed = 1;
        if (pg_execute(st) == DB_ERROR)
            return DB_ERROR;
    }
    if (ps->result == NULL)
        return DB_ERROR;
    pg_blobs_clear(ps);
    if (ps->row < PQntuples(ps->result))
        ps->row++;
    return ps->row < PQntuples(ps->result) ? DB_ROW : DB_DONE;
}

static int pg_has_value(const struct db_pg_stmt *ps, int col)
{
    return ps->result != NULL && ps->row >= 0 && ps->row < PQntuples(ps->result) && col >= 0 &&
           col < PQnfields(ps->result) && !PQgetisnull(ps->result, ps->row, col);
}

static const char *pg_column_text(db_stmt *st, int col)
{
    struct db_pg_stmt *ps = st->pg;
    return pg_has_value(ps, col) ? PQgetvalue(ps->result, ps->row, col) : NULL;
}

static int64_t pg_column_int(db_stmt *st, int col)
{
    const char *text = pg_column_text(st, col);
    if (text == NULL)
        return 0;
    if (text[0] == 't' && text[1] == '\0') /* a boolean expression: SQLite gives 1 and 0 */
        return 1;
    return strtoll(text, NULL, 10);
}

static const void *pg_column_blob(db_stmt *st, int col, size_t *len)
{
    struct db_pg_stmt *ps = st->pg;
    *len = 0;
    if (!pg_has_value(ps, col))
        return NULL;
    const char *text = PQgetvalue(ps->result, ps->row, col);
    if (PQftype(ps->result, col) != PG_OID_BYTEA) { /* SQLite gives a text's bytes */
        *len = (size_t)PQgetlength(ps->result, ps->row, col);
        return text;
    }
    if (ps->blobs == NULL)
        return NULL;
    if (ps->blobs[col] == NULL) {
        size_t n = 0;
        ps->blobs[col] = PQunescapeBytea((const unsigned char *)text, &n);
        if (ps->blobs[col] == NULL)
            return NULL;
        ps->blob_lens[col] = n;
    }
    *len = ps->blob_lens[col];
    return ps->blobs[col];
}

static int pg_column_is_null(db_stmt *st, int col)
{
    return !pg_has_value(st->pg, col);
}

static void pg_finalize(db_stmt *st)
{
    struct db_pg_stmt *ps = st->pg;
    if (ps->sent && ps->seq >= st->conn->pg->read_seq) /* sent, never stepped: its result */
        pg_pipeline_skip_to(st->conn->pg, ps->seq + 1);
    if (ps->result != NULL) {
        pg_blobs_clear(ps);
        PQclear(ps->result);
    }
    free(ps->blobs);
    free(ps->blob_lens);
    for (int i = 0; ps->values != NULL && i < ps->nparams; i++)
        free(ps->values[i]);
    free(ps->values);
    free(ps->lengths);
    free(ps->formats);
    free(ps->types);
    free(ps->sql);
    free(st);
}

/* ---- COPY (db_copy_in) ------------------------------------------------------------------------

   A bulk write's rows as one stream: the server parses them without a statement per row, and
   the unique check of an INSERT … ON CONFLICT (a probe before every row's insertion) is left to
   the index itself. The savepoint around it keeps a failure from failing the transaction. */

#define PG_COPY_PIECE (64 * 1024) /* bytes handed to libpq at a time */

static NSDB_MUST_CHECK nsdb_err pg_copy_in(db *conn, const char *copy_sql, const char *data,
                                           size_t len)
{
    struct db_pg *pg = conn->pg;
    nsdb_err e = pg_command(conn, "SAVEPOINT nsdb_copy"); /* drains the pipeline first */
    if (e != NSDB_OK)
        return e;
    PGresult *res = PQexec(pg->conn, copy_sql);
    if (PQresultStatus(res) == PGRES_COPY_IN) {
        PQclear(res);
        int sent = 1;
        for (size_t at = 0; sent && at < len; at += PG_COPY_PIECE) {
            size_t k = len - at < PG_COPY_PIECE ? len - at : PG_COPY_PIECE;
            sent = PQputCopyData(pg->conn, data + at, (int)k) == 1;
        }
        /* ended with an error message when a piece could not be sent: the server then fails it */
        if (PQputCopyEnd(pg->conn, sent ? NULL : "nsdb: rows not sent") != 1) {
            /* libpq is still copying (out of memory) or the link broke: where the session
               stands is unknown, so it starts over, and the caller's transaction is lost */
            pg_set_error(pg, NULL);
            log_event(LOG_ERROR, "sql_failed", "sql", copy_sql, "error", pg_error_message(conn),
                      NULL);
            pg_reconnect(conn);
            return NSDB_ERR_DB;
        }
        res = PQgetResult(pg->conn);
        for (PGresult *more; (more = PQgetResult(pg->conn)) != NULL;)
            PQclear(more); /* the copy has ended: its one result, then NULL */
        if (!sent && PQresultStatus(res) == PGRES_COMMAND_OK) { /* cannot happen: be safe */
            PQclear(res);
            res = NULL;
        }
    }
    if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return pg_command(conn, "RELEASE SAVEPOINT nsdb_copy");
    }
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool unique = state != NULL && strcmp(state, SQLSTATE_UNIQUE_VIOLATION) == 0;
    pg_set_error(pg, res);
    if (!unique) /* the statement, never its rows */
        log_event(LOG_ERROR, "sql_failed", "sql", copy_sql, "error", pg_error_message(conn), NULL);
    PQclear(res);
    char *kept = pg->last_error; /* the COPY's error, not the savepoint's answer, for the caller */
    pg->last_error = NULL;
    e = pg_command(conn, "ROLLBACK TO SAVEPOINT nsdb_copy; RELEASE SAVEPOINT nsdb_copy");
    free(pg->last_error);
    pg->last_error = kept;
    return e != NSDB_OK ? NSDB_ERR_DB : unique ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
}

static int pg_last_error_is_unique(db_stmt *st)
{
    return strcmp(st->pg->sqlstate, SQLSTATE_UNIQUE_VIOLATION) == 0;
}

const struct db_driver DB_PG_DRIVER = {
    .disconnect = pg_disconnect,
    .revive = pg_revive,
    .begin = pg_begin,
    .begin_scoped = pg_begin_scoped,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec_script = pg_exec_script,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .send = pg_send,
    .copy_in = pg_copy_in,
    .column_text = pg_column_text,
    .column_int = pg_column_int,
    .column_blob = pg_column_blob,
    .column_is_null = pg_column_is_null,
    .finalize = pg_finalize,
    .error_message = pg_error_message,
    .last_error_is_unique = pg_last_error_is_unique,
};
