/*
 * media_timing.c — see media_timing.h.
 */
#define NSDB_STORE_INTERNAL
#include "store/media_timing.h"

#include <stdlib.h>
#include <string.h>

#include "domain/states.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"

static void registrant_from_row(arena *a, db_stmt *st, void *row)
{
    store_cycle_registrant *r = row;
    r->municipality_code = store_column_strdup(a, st, 0);
    r->municipality_name = store_column_strdup(a, st, 1);
    r->users = db_column_int(st, 2);
    r->institutions = db_column_int(st, 3);
}

nsdb_err store_cycle_registrants(db *conn, arena *a, const char *cycle_id,
                                 store_cycle_registrant **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT m.code, m.name, COUNT(*), COUNT(DISTINCT r.institution_id) "
                          "FROM registrations r JOIN municipalities m ON m.id = r.municipality_id "
                          "WHERE r.cycle_id = $1 AND " REGISTRATION_SHOWN
                          " GROUP BY m.code, m.name ORDER BY m.code",
                          "t", cycle_id);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, registrant_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

static void supplement_from_row(arena *a, db_stmt *st, void *row)
{
    store_supplement_user *u = row;
    u->municipality_pk = db_column_int(st, 0);
    u->municipality_code = store_column_strdup(a, st, 1);
    u->municipality_name = store_column_strdup(a, st, 2);
    u->institution_code = store_column_strdup(a, st, 3);
    u->institution_name = store_column_strdup(a, st, 4);
    u->user_pk = db_column_int(st, 5);
    u->user_id = store_column_strdup(a, st, 6);
    u->name = store_column_strdup(a, st, 7);
    u->category = store_column_strdup(a, st, 8);
    u->registered_at = db_column_int(st, 9);
}

nsdb_err store_supplement_due(db *conn, arena *a, const char *cycle_id,
                              store_supplement_user **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        "SELECT r.municipality_id, m.code, m.name, i.code, i.name, u.id, u.user_id, u.name, "
        "u.category, r.registered_at "
        "FROM registrations r JOIN users u ON u.id = r.user_pk "
        "JOIN municipalities m ON m.id = r.municipality_id "
        "JOIN institutions i ON i.id = r.institution_id "
        "WHERE u.role IN ('doctor', 'inst_manager') AND " USER_SHOWN " "
        "AND NOT EXISTS (SELECT 1 FROM package_listings l WHERE l.user_pk = u.id) "
        "AND EXISTS (SELECT 1 FROM media d JOIN packages p ON p.id = d.package_id "
        "WHERE d.municipality_id = r.municipality_id AND d.institution_id = r.institution_id "
        "AND d.kind = 'initial' AND p.cycle_id < $1) "
        "AND NOT EXISTS (SELECT 1 FROM media x WHERE x.municipality_id = r.municipality_id "
        "AND x.institution_id = r.institution_id AND x.cycle_id = $1 AND x.status = $2) "
        "ORDER BY m.code, i.code, r.registered_at, u.user_id",
        "tt", cycle_id, media_status_key(MEDIA_STATUS_CREATED));
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, supplement_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_package_listing_main(db *conn, int64_t package_id)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(
        conn, NULL,
        "INSERT INTO package_listings (user_pk, package_id, supplement) "
        "SELECT DISTINCT u.id, d.package_id, 0 FROM media d JOIN users u "
        "ON u.municipality_id = d.municipality_id AND u.institution_id = d.institution_id "
        "WHERE d.package_id = $1 AND u.role IN ('doctor', 'inst_manager') AND " USER_SHOWN " "
        "AND NOT EXISTS (SELECT 1 FROM package_listings l "
        "WHERE l.user_pk = u.id AND l.package_id = d.package_id)",
        "i", package_id);
}

nsdb_err store_package_listing_supplement(db *conn, int64_t package_id, int64_t user_pk)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO package_listings (user_pk, package_id, supplement) "
                          "VALUES ($1, $2, 1) RETURNING user_pk",
                          "ii", user_pk, package_id);
    return e != NSDB_OK ? e : store_row_int(st, NULL);
}

/* The row of code in rows (sorted by code as both queries are), added when missing. */
static store_supplement_count *count_row(arena *a, store_supplement_count **rows, size_t *n,
                                         size_t *cap, const char *code, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*rows)[i].municipality_code, code) == 0)
            return &(*rows)[i];
    *rows = arena_grow(a, *rows, *n, cap, sizeof **rows);
    store_supplement_count *r = &(*rows)[(*n)++];
    *r = (store_supplement_count){arena_strdup(a, code), arena_strdup(a, name ? name : ""), 0, 0};
    return r;
}

static int count_by_code(const void *x, const void *y)
{
    return strcmp(((const store_supplement_count *)x)->municipality_code,
                  ((const store_supplement_count *)y)->municipality_code);
}

nsdb_err store_supplement_counts(db *conn, arena *a, const char *cycle_id,
                                 store_supplement_count **rows_out, size_t *count_out)
{
    store_supplement_user *due = NULL;
    size_t due_n = 0, n = 0, cap = 8;
    nsdb_err e = store_supplement_due(conn, a, cycle_id, &due, &due_n);
    if (e != NSDB_OK)
        return e;
    db_stmt *st = NULL;
    e = db_query(
        conn, &st,
        "SELECT m.code, m.name, COUNT(*) FROM package_listings l "
        "JOIN packages p ON p.id = l.package_id "
        "JOIN municipalities m ON m.id = p.municipality_id "
        "WHERE l.supplement = 1 AND p.cycle_id = $1 GROUP BY m.code, m.name ORDER BY m.code",
        "t", cycle_id);
    if (e != NSDB_OK)
        return e;
    store_supplement_count *rows = arena_calloc(a, cap, sizeof *rows);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        count_row(a, &rows, &n, &cap, db_column_text(st, 0), db_column_text(st, 1))->listed =
            db_column_int(st, 2);
    db_finalize(st);
    if (rc == DB_ERROR)
        return NSDB_ERR_DB;
    for (size_t i = 0; i < due_n; i++)
        count_row(a, &rows, &n, &cap, due[i].municipality_code, due[i].municipality_name)->due++;
    qsort(rows, n, sizeof *rows, count_by_code);
    *rows_out = rows;
    *count_out = n;
    return NSDB_OK;
}
