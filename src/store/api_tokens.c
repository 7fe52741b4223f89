/*
 * api_tokens.c — the api_tokens table: a token is stored by its hash only, with the time it
 * expires; a successful check records when it was last used (so a check is a write, inside the
 * caller's transaction). Validity is decided in the UPDATE itself, so a token revoked or expired
 * between two requests is refused by the next one.
 */
#define NSDB_STORE_INTERNAL
#include "store/api_tokens.h"
#include "store/rows.h"
#include "store/sql.h"

nsdb_err store_api_token_insert(db *conn, const char *name, const char *token_hash, int64_t now,
                                int64_t expires_at, int64_t *id_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO api_tokens (name, token_hash, created_at, expires_at) "
                          "VALUES ($1, $2, $3, $4) RETURNING id",
                          "ttii", name, token_hash, now, expires_at);
    return e != NSDB_OK ? e : store_row_int(st, id_out);
}

/* Why the token of token_hash is not valid at now. */
static NSDB_MUST_CHECK nsdb_err token_refusal(db *conn, const char *token_hash,
                                              store_api_token_refusal *refusal_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END "
                          "FROM api_tokens WHERE token_hash = $1",
                          "t", token_hash);
    int64_t revoked = 0;
    if (e == NSDB_OK)
        e = store_row_int(st, &revoked);
    if (e == NSDB_ERR_NOT_FOUND)
        *refusal_out = API_TOKEN_REFUSED_UNKNOWN;
    else if (e == NSDB_OK)
        *refusal_out = revoked ? API_TOKEN_REFUSED_REVOKED : API_TOKEN_REFUSED_EXPIRED;
    else
        return e;
    return NSDB_ERR_NOT_FOUND;
}

nsdb_err store_api_token_check(db *conn, const char *token_hash, int64_t now,
                               store_api_token_refusal *refusal_out)
{
    STORE_ASSERT_WRITE(conn);
    *refusal_out = API_TOKEN_REFUSED_UNKNOWN;
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE api_tokens SET last_used_at = $2 "
                         "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
                         "ti", token_hash, now);
    if (e != NSDB_OK)
        return e;
    return changes == 1 ? NSDB_OK : token_refusal(conn, token_hash, refusal_out);
}

nsdb_err store_api_token_revoke(db *conn, int64_t id, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e =
        db_exec(conn, &changes,
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", "ii",
                id, now);
    if (e != NSDB_OK || changes == 1)
        return e;
    db_stmt *st = NULL;
    e = db_query(conn, &st, "SELECT id FROM api_tokens WHERE id = $1", "i", id);
    if (e == NSDB_OK)
        e = store_row_int(st, NULL);
    return e == NSDB_OK ? NSDB_ERR_CONFLICT : e;
}

static void token_from_row(arena *a, db_stmt *st, void *row)
{
    store_api_token *t = row;
    t->id = db_column_int(st, 0);
    t->name = store_column_strdup(a, st, 1);
    t->created_at = db_column_int(st, 2);
    t->expires_at = db_column_int(st, 3);
    t->last_used_at = db_column_is_null(st, 4) ? 0 : db_column_int(st, 4);
    t->revoked_at = db_column_is_null(st, 5) ? 0 : db_column_int(st, 5);
}

nsdb_err store_api_token_list(db *conn, arena *a, store_api_token **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, name, created_at, expires_at, last_used_at, revoked_at "
                          "FROM api_tokens ORDER BY id",
                          NULL);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, token_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}
