/*
 * totp.c — the user_totp and user_recovery_codes tables (see totp.h). The used-step rule and
 * the single use of a recovery code are conditions of one UPDATE each, so that they hold under
 * concurrent requests on SQLite and PostgreSQL alike.
 */
#define NSDB_STORE_INTERNAL
#include "store/totp.h"

#include "store/rows.h"
#include "store/sql.h"

static void totp_from_row(arena *a, db_stmt *st, void *row)
{
    store_totp *t = row;
    t->secret_sealed = store_column_blob_copy(a, st, 0, &t->secret_sealed_len);
    t->confirmed_at = db_column_int(st, 1);
    t->last_step = db_column_int(st, 2);
    t->created_at = db_column_int(st, 3);
}

nsdb_err store_totp_find(db *conn, arena *a, int64_t user_pk, store_totp *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT secret_sealed, confirmed_at, last_step, created_at "
                          "FROM user_totp WHERE user_pk = $1",
                          "i", user_pk);
    return e != NSDB_OK ? e : store_row_read(st, a, out, totp_from_row);
}

nsdb_err store_totp_put_pending(db *conn, int64_t user_pk, const unsigned char *sealed,
                                size_t sealed_len, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    nsdb_err e = db_exec(conn, NULL, "DELETE FROM user_totp WHERE user_pk = $1", "i", user_pk);
    if (e == NSDB_OK)
        e = db_exec(conn, NULL,
                    "INSERT INTO user_totp (user_pk, secret_sealed, confirmed_at, last_step, "
                    "created_at) VALUES ($1, $2, 0, 0, $3)",
                    "ibi", user_pk, sealed, sealed_len, now);
    return e;
}

nsdb_err store_totp_confirm(db *conn, int64_t user_pk, int64_t step, int64_t now,
                            const char *const *code_hashes, size_t n, bool *confirmed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    *confirmed_out = false;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE user_totp SET confirmed_at = $2, last_step = $3 "
                         "WHERE user_pk = $1 AND confirmed_at = 0",
                         "iii", user_pk, now, step);
    if (e != NSDB_OK || changes == 0)
        return e;
    e = db_exec(conn, NULL, "UPDATE users SET totp_enrolled_at = $2, updated_at = $2 WHERE id = $1",
                "ii", user_pk, now);
    if (e == NSDB_OK)
        e = db_exec(conn, NULL, "DELETE FROM user_recovery_codes WHERE user_pk = $1", "i", user_pk);
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = db_exec(conn, NULL,
                    "INSERT INTO user_recovery_codes (user_pk, code_hash, used_at, created_at) "
                    "VALUES ($1, $2, 0, $3)",
                    "iti", user_pk, code_hashes[i], now);
    *confirmed_out = e == NSDB_OK;
    return e;
}

nsdb_err store_totp_use_step(db *conn, int64_t user_pk, int64_t step, bool *accepted_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE user_totp SET last_step = $2 "
                         "WHERE user_pk = $1 AND confirmed_at > 0 AND last_step < $2",
                         "ii", user_pk, step);
    *accepted_out = e == NSDB_OK && changes == 1;
    return e;
}

nsdb_err store_totp_use_recovery_code(db *conn, int64_t user_pk, const char *code_hash, int64_t now,
                                      bool *used_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE user_recovery_codes SET used_at = $3 "
                         "WHERE user_pk = $1 AND code_hash = $2 AND used_at = 0",
                         "iti", user_pk, code_hash, now);
    *used_out = e == NSDB_OK && changes > 0;
    return e;
}

nsdb_err store_totp_recovery_codes_left(db *conn, int64_t user_pk, int64_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COUNT(*) FROM user_recovery_codes "
                          "WHERE user_pk = $1 AND used_at = 0",
                          "i", user_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    *count_out = rc == DB_ROW ? db_column_int(st, 0) : 0;
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
}

nsdb_err store_totp_delete(db *conn, int64_t user_pk, int64_t now, bool *removed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes, "DELETE FROM user_totp WHERE user_pk = $1", "i", user_pk);
    *removed_out = e == NSDB_OK && changes > 0;
    if (e == NSDB_OK)
        e = db_exec(conn, NULL, "DELETE FROM user_recovery_codes WHERE user_pk = $1", "i", user_pk);
    if (e == NSDB_OK)
        e = db_exec(conn, NULL,
                    "UPDATE users SET totp_enrolled_at = 0, updated_at = $2 WHERE id = $1", "ii",
                    user_pk, now);
    return e;
}
