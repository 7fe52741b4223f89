/*
 * institutions.c — medical institutions (医療機関), keyed by the 10-digit 医療機関コード. An
 * institution is shared by every municipality that registers its doctors.
 */
#define NSDB_STORE_INTERNAL
#include "store/institutions.h"

#include <assert.h>

#include "util/str.h"

#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"

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

/* FOR UPDATE only on PostgreSQL: SQLite has one writer, which already holds the database. */
#define INSTITUTION_LOCK_PG "SELECT id, code, name, postal, address, phone FROM institutions " \
                            "WHERE code = $1 FOR UPDATE"
#define INSTITUTION_LOCK_SQLITE "SELECT id, code, name, postal, address, phone FROM institutions " \
                                "WHERE code = $1"

static NSDB_MUST_CHECK nsdb_err institution_lock_by_code(db *conn, arena *a, const char *code,
                                                         store_institution **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          db_get_dialect(conn) == DB_POSTGRESQL ? INSTITUTION_LOCK_PG
                                                                : INSTITUTION_LOCK_SQLITE,
                          "t", code);
    if (e != NSDB_OK)
        return e;
    store_institution *i = arena_calloc(a, 1, sizeof *i);
    e = store_row_read(st, a, i, institution_from_row);
    if (e == NSDB_OK)
        *out = i;
    return e;
}

nsdb_err store_institution_ensure_locked(db *conn, arena *a, const store_institution *values,
                                         int64_t now, store_institution **out, bool *created)
{
    STORE_ASSERT_WRITE(conn);
    *created = false;
    nsdb_err e = institution_lock_by_code(conn, a, values->code, out);
    if (e != NSDB_ERR_NOT_FOUND)
        return e;
    /* new: inserted unless another transaction inserts the code at the same moment (its
       INSERT waits for that one and then inserts nothing, without failing this transaction) */
    db_stmt *st = NULL;
    e = db_query(conn, &st,
                 "INSERT INTO institutions (code, name, postal, address, phone, created_at, "
                 "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) "
                 "ON CONFLICT (code) DO NOTHING RETURNING id",
                 "ttttti", values->code, values->name, values->postal, values->address,
                 values->phone, now);
    int64_t pk = 0;
    if (e == NSDB_OK)
        e = store_row_int(st, &pk);
    if (e == NSDB_ERR_NOT_FOUND) /* the other one's, committed by now */
        return institution_lock_by_code(conn, a, values->code, out);
    if (e != NSDB_OK)
        return e;
    store_institution *i = arena_calloc(a, 1, sizeof *i);
    *i = *values;
    i->pk = pk;
    *out = i;
    *created = true;
    return NSDB_OK;
}

nsdb_err store_institution_lock(db *conn, int64_t pk)
{
    STORE_ASSERT_WRITE(conn);
    if (db_get_dialect(conn) != DB_POSTGRESQL)
        return NSDB_OK;
    db_stmt *st = NULL;
    nsdb_err e =
        db_query(conn, &st, "SELECT id FROM institutions WHERE id = $1 FOR UPDATE", "i", pk);
    return e != NSDB_OK ? e : store_row_int(st, NULL);
}

nsdb_err store_institution_find_for_municipality(db *conn, arena *a, const char *code,
                                                 int64_t municipality_pk, store_institution **out)
{
    assert(municipality_pk != 0);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT i.id, i.code, i.name, i.postal, i.address, i.phone "
                          "FROM institutions i WHERE i.code = $1 AND EXISTS (SELECT 1 FROM users u "
                          "WHERE u.institution_id = i.id AND u.municipality_id = $2 AND " USER_SHOWN ")",
                          "ti", code, municipality_pk);
    if (e != NSDB_OK)
        return e;
    store_institution *i = arena_calloc(a, 1, sizeof *i);
    e = store_row_read(st, a, i, institution_from_row);
    if (e == NSDB_OK)
        *out = i;
    return e;
}

nsdb_err store_institution_update(db *conn, int64_t pk, const char *name, const char *postal,
                                  const char *address, const char *phone, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e = db_exec(conn, &changed,
                         "UPDATE institutions SET name = $2, postal = $3, address = $4, phone = $5, "
                         "updated_at = $6 WHERE id = $1",
                         "itttti", pk, name, postal, address, phone, now);
    return e != NSDB_OK ? e : changed == 1 ? NSDB_OK : NSDB_ERR_NOT_FOUND;
}

/* "%text%" for LIKE, with the wildcards of text escaped. */
static const char *like_pattern(arena *a, const char *text)
{
    strbuf like = STRBUF_INIT;
    strbuf_putc(&like, '%');
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            strbuf_putc(&like, '\\');
        strbuf_putc(&like, *p);
    }
    strbuf_putc(&like, '%');
    const char *out = arena_strdup(a, like.data);
    strbuf_free(&like);
    return out;
}

nsdb_err store_institution_search(db *conn, arena *a, const char *code, const char *name_part,
                                  int64_t limit, store_institution **rows_out, size_t *count_out)
{
    *rows_out = NULL;
    *count_out = 0;
    const char *like = name_part && *name_part ? like_pattern(a, name_part) : "";
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, code, name, postal, address, phone FROM institutions "
                          "WHERE ($1 = '' OR code = $1) AND ($2 = '' OR LOWER(name) LIKE LOWER($2) "
                          "ESCAPE '\\') ORDER BY code LIMIT $3",
                          "tti", code ? code : "", like, limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, institution_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}
