/*
 * outbox.c — the durable mail outbox. A message is written in the transaction of the change
 * that causes it (払出し), sealed because it carries an initial password, and leaves the table's
 * pending state only when the SMTP server accepted it or retries are exhausted.
 */
#define NSDB_STORE_INTERNAL
#include "store/outbox.h"
#include "store/rows.h"
#include "store/sql.h"

nsdb_err store_outbox_insert(db *conn, const char *to_address, const char *purpose,
                             const unsigned char *sealed, size_t sealed_len, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "INSERT INTO mail_outbox (created_at, to_address, purpose, message_sealed, "
                   "next_attempt_at) VALUES ($1, $2, $3, $4, $1)",
                   "ittb", now, to_address, purpose, sealed, sealed_len);
}

static void outbox_mail_from_row(arena *a, db_stmt *st, void *row)
{
    store_outbox_mail *m = row;
    m->id = db_column_int(st, 0);
    m->to_address = store_column_strdup(a, st, 1);
    m->sealed = store_column_blob_copy(a, st, 2, &m->sealed_len);
    m->attempts = db_column_int(st, 3);
}

nsdb_err store_outbox_due(db *conn, arena *a, int64_t now, int64_t limit,
                          store_outbox_mail **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT id, to_address, message_sealed, attempts FROM mail_outbox "
                          "WHERE status = 'pending' AND ($1 < 0 OR next_attempt_at <= $1) "
                          "ORDER BY id LIMIT $2",
                          "ii", now, limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, outbox_mail_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_outbox_mark_sent(db *conn, int64_t id, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE mail_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, "
                   "last_error = NULL WHERE id = $1 AND status = 'pending'",
                   "ii", id, now);
}

nsdb_err store_outbox_mark_retry(db *conn, int64_t id, int64_t next_attempt_at, const char *error,
                                 bool give_up)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, "
                   "last_error = $3, status = $4 WHERE id = $1 AND status = 'pending'",
                   "iitt", id, next_attempt_at, error, give_up ? "failed" : "pending");
}

nsdb_err store_outbox_counts(db *conn, int64_t *pending_out, int64_t *sent_out,
                             int64_t *failed_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT "
                          "COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), "
                          "COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), "
                          "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) "
                          "FROM mail_outbox",
                          NULL);
    if (e != NSDB_OK)
        return e;
    e = db_step(st) == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
    if (e == NSDB_OK) {
        *pending_out = db_column_int(st, 0);
        *sent_out = db_column_int(st, 1);
        *failed_out = db_column_int(st, 2);
    }
    db_finalize(st);
    return e;
}
