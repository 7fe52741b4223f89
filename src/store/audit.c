/*
 * audit.c — the append-only audit log: who, when, from where, what, target, result.
 * Written by the caller inside the transaction of the change it records.
 */
#define NSDB_STORE_INTERNAL
#include "store/audit.h"
#include "store/rows.h"
#include "store/sql.h"

nsdb_err store_audit_insert(db *conn, const store_audit *entry)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(conn,
                            "INSERT INTO audit_log (at, actor_user_pk, actor_user_id, client_ip, "
                            "action, target, result, detail) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            &st);
    if (e != NSDB_OK)
        return e;
    db_bind_int(st, 1, entry->at);
    if (entry->actor_user_pk)
        db_bind_int(st, 2, entry->actor_user_pk);
    else
        db_bind_null(st, 2);
    db_bind_text(st, 3, entry->actor_user_id);
    db_bind_text(st, 4, entry->client_ip);
    db_bind_text(st, 5, entry->action);
    db_bind_text(st, 6, entry->target);
    db_bind_text(st, 7, entry->result);
    db_bind_text(st, 8, entry->detail);
    e = db_step(st) == DB_DONE ? NSDB_OK : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

static void audit_from_row(arena *a, db_stmt *st, void *row)
{
    store_audit *r = row;
    r->id = db_column_int(st, 0);
    r->at = db_column_int(st, 1);
    r->actor_user_pk = db_column_int(st, 2);
    r->actor_user_id = store_column_strdup(a, st, 3);
    r->client_ip = store_column_strdup(a, st, 4);
    r->action = store_column_strdup(a, st, 5);
    r->target = store_column_strdup(a, st, 6);
    r->result = store_column_strdup(a, st, 7);
    r->detail = store_column_strdup(a, st, 8);
}

nsdb_err store_audit_list(db *conn, arena *a, int64_t limit, store_audit **rows_out,
                          size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, at, COALESCE(actor_user_pk, 0), actor_user_id, client_ip, "
                          "action, target, result, detail FROM audit_log "
                          "ORDER BY id DESC LIMIT $1",
                          "i", limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, audit_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}
