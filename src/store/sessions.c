/*
 * sessions.c — the sessions table. Only the hash of a session token is stored, so a copy of
 * the database does not let anyone take over a session.
 */
#define NSDB_STORE_INTERNAL
#include "store/sessions.h"
#include "store/rows.h"
#include "store/sql.h"

nsdb_err store_session_insert(db *conn, const char *token_hash, int64_t user_pk, int64_t now,
                              const char *client_ip)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "INSERT INTO sessions (token_hash, user_pk, created_at, last_seen_at, client_ip) "
                   "VALUES ($1, $2, $3, $3, $4)",
                   "tiit", token_hash, user_pk, now, client_ip);
}

static void session_from_row(arena *a, db_stmt *st, void *row)
{
    (void)a;
    store_session *s = row;
    s->user_pk = db_column_int(st, 0);
    s->created_at = db_column_int(st, 1);
    s->last_seen_at = db_column_int(st, 2);
    s->totp_pending = db_column_int(st, 3) != 0;
}

nsdb_err store_session_find(db *conn, const char *token_hash, store_session *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT user_pk, created_at, last_seen_at, totp_pending FROM sessions "
                          "WHERE token_hash = $1",
                          "t", token_hash);
    return e != NSDB_OK ? e : store_row_read(st, NULL, out, session_from_row);
}

nsdb_err store_session_mark_totp_pending(db *conn, const char *token_hash)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE sessions SET totp_pending = 1 WHERE token_hash = $1", "t",
                   token_hash);
}

nsdb_err store_session_touch(db *conn, const char *token_hash, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
                   "ti", token_hash, now);
}

nsdb_err store_session_delete(db *conn, const char *token_hash)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "DELETE FROM sessions WHERE token_hash = $1", "t", token_hash);
}

nsdb_err store_session_delete_for_user(db *conn, int64_t user_pk, const char *keep_token_hash)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "DELETE FROM sessions WHERE user_pk = $1 AND token_hash <> COALESCE($2, '')",
                   "it", user_pk, keep_token_hash);
}

nsdb_err store_session_delete_expired(db *conn, int64_t idle_before, int64_t created_before)
{
    STORE_ASSERT_WRITE(conn);
    /* logins of different users run at once on PostgreSQL and each clears the expired sessions:
       rows another login is deleting are left to the next one, so that two never wait for (or
       deadlock on) each other's rows */
    if (db_get_dialect(conn) == DB_POSTGRESQL)
        return db_exec(conn, NULL,
                       "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions "
                       "WHERE last_seen_at < $1 OR created_at < $2 FOR UPDATE SKIP LOCKED)",
                       "ii", idle_before, created_before);
    return db_exec(conn, NULL,
                   "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2", "ii",
                   idle_before, created_before);
}
