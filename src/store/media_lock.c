/*
 * media_lock.c — see media_lock.h. The key is the pair (1853056098 "nsdb", 1): the two-integer
 * key space of advisory locks is apart from the one-bigint key db_pg.c uses for transactions.
 */
#define NSDB_STORE_INTERNAL
#include "store/media_lock.h"
#include "store/sql.h"

#define MEDIA_BUILD_LOCK_KEY "1853056098, 1"

/* The one integer a lock function's SELECT returns. */
static NSDB_MUST_CHECK nsdb_err select_int(db *conn, const char *sql, int64_t *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, sql, "");
    if (e != NSDB_OK)
        return e;
    int r = db_step(st);
    if (r == DB_ROW)
        *out = db_column_int(st, 0);
    db_finalize(st);
    return r == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
}

nsdb_err store_media_build_lock_try(db *conn, bool *got)
{
    *got = true;
    if (db_get_dialect(conn) != DB_POSTGRESQL)
        return NSDB_OK;
    int64_t v = 0;
    nsdb_err e = select_int(conn,
                            "SELECT CASE WHEN pg_try_advisory_lock(" MEDIA_BUILD_LOCK_KEY
                            ") THEN 1 ELSE 0 END",
                            &v);
    *got = e == NSDB_OK && v == 1;
    return e;
}

nsdb_err store_media_build_unlock(db *conn)
{
    if (db_get_dialect(conn) != DB_POSTGRESQL)
        return NSDB_OK;
    int64_t v = 0;
    return select_int(conn,
                      "SELECT CASE WHEN pg_advisory_unlock(" MEDIA_BUILD_LOCK_KEY
                      ") THEN 1 ELSE 0 END",
                      &v);
}
