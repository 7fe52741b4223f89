/*
 * institutions.c — medical institutions (医療機関), keyed by the 10-digit 医療機関コード. An
 * institution is shared by every municipality that registers its doctors.
 */
#define NSDB_STORE_INTERNAL
#include "store/institutions.h"
#include "store/sql.h"

nsdb_err store_institution_find_by_code(db *conn, arena *a, const char *code,
                                        store_institution **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, code, name, postal, address, phone FROM institutions "
                          "WHERE code = $1",
                          "t", code);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        store_institution *i = arena_calloc(a, 1, sizeof *i);
        i->pk = db_column_int(st, 0);
        i->code = arena_strdup(a, db_column_text(st, 1));
        i->name = arena_strdup(a, db_column_text(st, 2));
        i->postal = arena_strdup(a, db_column_text(st, 3));
        i->address = arena_strdup(a, db_column_text(st, 4));
        i->phone = arena_strdup(a, db_column_text(st, 5));
        *out = i;
    }
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : rc == DB_DONE ? NSDB_ERR_NOT_FOUND : NSDB_ERR_DB;
}

nsdb_err store_institution_insert(db *conn, const char *code, const char *name,
                                  const char *postal, const char *address, const char *phone,
                                  int64_t now, int64_t *pk_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO institutions (code, name, postal, address, phone, "
                          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                          "ttttti", code, name, postal, address, phone, now);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW)
        *pk_out = db_column_int(st, 0);
    e = rc == DB_ROW ? NSDB_OK : db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}
