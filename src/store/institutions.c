/*
 * institutions.c — medical institutions (医療機関), keyed by the 10-digit 医療機関コード. An
 * institution is shared by every municipality that registers its doctors.
 */
#define NSDB_STORE_INTERNAL
#include "store/institutions.h"
#include "store/rows.h"
#include "store/sql.h"

static void institution_from_row(arena *a, db_stmt *st, void *row)
{
    store_institution *i = row;
    i->pk = db_column_int(st, 0);
    i->code = store_column_strdup(a, st, 1);
    i->name = store_column_strdup(a, st, 2);
    i->postal = store_column_strdup(a, st, 3);
    i->address = store_column_strdup(a, st, 4);
    i->phone = store_column_strdup(a, st, 5);
}

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
    store_institution *i = arena_calloc(a, 1, sizeof *i);
    e = store_row_read(st, a, i, institution_from_row);
    if (e == NSDB_OK)
        *out = i;
    return e;
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
    return e != NSDB_OK ? e : store_row_int(st, pk_out);
}

nsdb_err store_institution_has_users_of(db *conn, int64_t institution_pk, int64_t municipality_pk,
                                        bool *out)
{
    *out = false;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT 1 FROM users WHERE institution_id = $1 AND municipality_id = $2 "
                          "LIMIT 1",
                          "ii", institution_pk, municipality_pk);
    if (e == NSDB_OK)
        e = store_row_int(st, NULL);
    if (e == NSDB_ERR_NOT_FOUND)
        return NSDB_OK;
    *out = e == NSDB_OK;
    return e;
}
