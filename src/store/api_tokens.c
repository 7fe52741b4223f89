/*
 * api_tokens.c — the api_tokens table: a token is stored by its hash only, and a successful
 * check records when it was last used (so a check is a write, inside the caller's transaction).
 */
#define NSDB_STORE_INTERNAL
#include "store/api_tokens.h"
#include "store/sql.h"

nsdb_err store_api_token_insert(db *conn, const char *name, const char *token_hash, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3)",
                   "tti", name, token_hash, now);
}

nsdb_err store_api_token_check(db *conn, const char *token_hash, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE api_tokens SET last_used_at = $2 "
                         "WHERE token_hash = $1 AND revoked_at IS NULL",
                         "ti", token_hash, now);
    if (e != NSDB_OK)
        return e;
    return changes == 1 ? NSDB_OK : NSDB_ERR_NOT_FOUND;
}
