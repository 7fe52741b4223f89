/*
 * search_keys.c — see search_keys.h. The keys are read in (municipality, key) order and only the
 * users whose key changes are kept, then written after the read has ended: one UPDATE per user by
 * its primary key, and per (municipality, old key) of institution users one move of the
 * name-pair index rows (the old key's rows go, the new key's count grows by those users), so that
 * a name shared by many users costs two statements, not two per user.
 */
#define NSDB_STORE_INTERNAL
#include "store/search_keys.h"

#include <string.h>

#include "domain/text.h"
#include "store/sql.h"
#include "store/visible.h"
#include "store/state_columns.h"
#include "store/users_internal.h"

/* The keys of this many rows are computed in one scratch arena, then it is freed. */
#define REFOLD_SCRATCH_ROWS 4096

typedef struct rekey {
    int64_t pk;
    int64_t municipality_pk;
    bool indexed; /* in user_grams: an institution user of a municipality */
    const char *old_key, *new_key;
} rekey;

nsdb_err store_search_fold_get(db *conn, arena *a, const char **fingerprint_out)
{
    *fingerprint_out = "";
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT fingerprint FROM search_fold WHERE id = 1", "");
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW)
        *fingerprint_out = arena_strdup(a, db_column_text(st, 0));
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_search_fold_set(db *conn, const char *fingerprint)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "INSERT INTO search_fold (id, fingerprint) VALUES (1, $1) "
                   "ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
                   "t", fingerprint);
}

/* The users whose stored key text_search_key now gives differently, in (municipality, key)
   order, in a; *n_out of them. */
static NSDB_MUST_CHECK nsdb_err changed_keys(db *conn, arena *a, rekey **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT u.id, COALESCE(u.municipality_id, 0), u.role, u.name_search FROM users u "
                          "WHERE u.name_search IS NOT NULL AND u.name_search <> '' AND " USER_SHOWN " "
                          "ORDER BY COALESCE(municipality_id, 0), name_search, id",
                          "");
    if (e != NSDB_OK)
        return e;
    size_t n = 0, cap = 0, scratch_rows = 0;
    rekey *rows = NULL;
    arena *scratch = arena_new();
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *old_key = db_column_text(st, 3);
        const char *new_key = text_search_key(scratch, old_key);
        if (new_key != NULL && strcmp(new_key, old_key) != 0) {
            rows = arena_grow(a, rows, n, &cap, sizeof *rows);
            int64_t municipality_pk = db_column_int(st, 1);
            rows[n++] = (rekey){db_column_int(st, 0), municipality_pk,
                                municipality_pk != 0 &&
                                    user_grams_role(store_column_user_role(st, 2)),
                                arena_strdup(a, old_key), arena_strdup(a, new_key)};
        }
        if (++scratch_rows == REFOLD_SCRATCH_ROWS) {
            arena_free(scratch);
            scratch = arena_new();
            scratch_rows = 0;
        }
    }
    arena_free(scratch);
    db_finalize(st);
    *out = rows;
    *n_out = n;
    return rc == DB_DONE ? NSDB_OK : NSDB_ERR_DB;
}

nsdb_err store_search_keys_refold(db *conn, int64_t *users_out)
{
    STORE_ASSERT_WRITE(conn);
    *users_out = 0;
    arena *a = arena_new();
    rekey *rows = NULL;
    size_t n = 0;
    nsdb_err e = changed_keys(conn, a, &rows, &n);
    int64_t group = 0; /* institution users of the current (municipality, old key) */
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        e = db_exec(conn, NULL, "UPDATE users SET name_search = $2 WHERE id = $1", "it", rows[i].pk,
                    rows[i].new_key);
        group += rows[i].indexed;
        bool last = i + 1 == n || rows[i + 1].municipality_pk != rows[i].municipality_pk ||
                    strcmp(rows[i + 1].old_key, rows[i].old_key) != 0;
        if (e == NSDB_OK && last && group > 0)
            e = user_grams_move(conn, rows[i].municipality_pk, rows[i].old_key, rows[i].new_key,
                                group);
        if (last)
            group = 0;
    }
    if (e == NSDB_OK)
        *users_out = (int64_t)n;
    arena_free(a);
    return e;
}
