/*
 * registrations.c — 指定医マスタの登録通知: one row per registered institution user with the
 * media cycle it falls into, read by the operator (screen, CSV, JSON API); import batches, so
 * that a bulk registration's result can be listed and downloaded.
 */
#define NSDB_STORE_INTERNAL
#include <string.h>

#include "store/registrations.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"
#include "store/state_columns.h"

nsdb_err store_import_batch_warnings(db *conn, arena *a, int64_t municipality_pk, int64_t batch_id,
                                     const char **warnings_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT warnings FROM import_batches WHERE id = $1 AND municipality_id = $2",
                          "ii", batch_id, municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    *warnings_out = rc == DB_ROW ? arena_strdup(a, db_column_text(st, 0)) : NULL;
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : rc == DB_ROW ? NSDB_OK : NSDB_ERR_NOT_FOUND;
}

nsdb_err store_registration_move(db *conn, int64_t user_pk, int64_t institution_pk,
                                 const char *cycle_id, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE registrations SET institution_id = $2, cycle_id = $3, "
                   "registered_at = $4 WHERE user_pk = $1",
                   "iiti", user_pk, institution_pk, cycle_id, now);
}

nsdb_err store_registration_insert(db *conn, int64_t user_pk, int64_t municipality_pk,
                                   int64_t institution_pk, const char *cycle_id, int64_t batch_id,
                                   int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(conn,
                            "INSERT INTO registrations (user_pk, municipality_id, institution_id, "
                            "cycle_id, batch_id, registered_at) VALUES ($1, $2, $3, $4, $5, $6)",
                            &st);
    if (e != NSDB_OK)
        return e;
    db_bind_int(st, 1, user_pk);
    db_bind_int(st, 2, municipality_pk);
    db_bind_int(st, 3, institution_pk);
    db_bind_text(st, 4, cycle_id);
    if (batch_id)
        db_bind_int(st, 5, batch_id);
    else
        db_bind_null(st, 5);
    db_bind_int(st, 6, now);
    e = db_step(st) == DB_DONE ? NSDB_OK : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

nsdb_err store_registration_set_warning(db *conn, int64_t user_pk, const char *warning)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE registrations SET master_warning = $2 WHERE user_pk = $1",
                   "it", user_pk, warning);
}

nsdb_err store_registration_warning(db *conn, arena *a, int64_t municipality_pk,
                                    const char *user_id, const char **warning_out)
{
    *warning_out = NULL;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT r.master_warning FROM registrations r "
                          "JOIN users u ON u.id = r.user_pk "
                          "WHERE u.user_id = $1 AND r.municipality_id = $2 AND " USER_SHOWN,
                          "ti", user_id, municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW && !db_column_is_null(st, 0))
        *warning_out = arena_strdup(a, db_column_text(st, 0));
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_import_batch_warnings_set(db *conn, int64_t batch_id, const char *warnings)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE import_batches SET warnings = $2 WHERE id = $1", "it",
                   batch_id, warnings);
}

nsdb_err store_registration_each(db *conn, const char *cycle_id,
                                 int (*fn)(void *cls, const store_registration *r), void *cls)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT m.code, m.name, i.code, i.name, u.user_id, u.role, r.cycle_id, "
                          "r.registered_at FROM registrations r "
                          "JOIN users u ON u.id = r.user_pk "
                          "JOIN municipalities m ON m.id = r.municipality_id "
                          "JOIN institutions i ON i.id = r.institution_id "
                          "WHERE (CAST($1 AS TEXT) IS NULL OR r.cycle_id = $1) AND " USER_SHOWN
                          " ORDER BY m.code, i.code, r.id",
                          "t", cycle_id);
    if (e != NSDB_OK)
        return e;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        store_registration r = {db_column_text(st, 0), db_column_text(st, 1),
                                db_column_text(st, 2), db_column_text(st, 3),
                                db_column_text(st, 4), store_column_user_role(st, 5),
                                db_column_text(st, 6), db_column_int(st, 7)};
        if (fn(cls, &r) != 0)
            break;
    }
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

static void registration_from_row(arena *a, db_stmt *st, void *row)
{
    store_registration *r = row;
    r->municipality_code = store_column_strdup(a, st, 0);
    r->municipality_name = store_column_strdup(a, st, 1);
    r->institution_code = store_column_strdup(a, st, 2);
    r->institution_name = store_column_strdup(a, st, 3);
    r->user_id = store_column_strdup(a, st, 4);
    r->role = store_column_user_role(st, 5);
    r->cycle_id = store_column_strdup(a, st, 6);
    r->registered_at = db_column_int(st, 7);
}

nsdb_err store_registration_page(db *conn, arena *a, const char *cycle_id, int64_t limit,
                                 int64_t offset, store_registration **rows_out, size_t *count_out,
                                 int64_t *total_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COUNT(*) FROM registrations r "
                          "WHERE (CAST($1 AS TEXT) IS NULL OR r.cycle_id = $1) AND " REGISTRATION_SHOWN,
                          "t", cycle_id);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    *total_out = rc == DB_ROW ? db_column_int(st, 0) : 0;
    db_finalize(st);
    if (rc != DB_ROW)
        return NSDB_ERR_DB;
    e = db_query(conn, &st,
                 "SELECT m.code, m.name, i.code, i.name, u.user_id, u.role, r.cycle_id, "
                 "r.registered_at FROM registrations r "
                 "JOIN users u ON u.id = r.user_pk "
                 "JOIN municipalities m ON m.id = r.municipality_id "
                 "JOIN institutions i ON i.id = r.institution_id "
                 "WHERE (CAST($1 AS TEXT) IS NULL OR r.cycle_id = $1) AND " USER_SHOWN
                 " ORDER BY m.code, i.code, r.id LIMIT $2 OFFSET $3",
                 "tii", cycle_id, limit, offset);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, registration_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}
