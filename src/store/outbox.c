/*
 * outbox.c — the durable mail outbox. A message is written in the transaction of the change
 * that causes it (払出し), sealed because it carries an initial password, and leaves the pending
 * state only when the SMTP server accepted it or a refusal has lasted long enough to be believed.
 * A sender claims rows before it sends them (claimed_by, claim_until): one UPDATE that takes only
 * rows nobody holds, so that servers sharing a database never send a message twice, and a lease,
 * so that the claim of a server that died ends by itself. The operator's queries never read the
 * sealed message.
 */
#define NSDB_STORE_INTERNAL
#include "store/outbox.h"

#include <stdlib.h>

#include "store/rows.h"
#include "store/sql.h"
#include "store/state_columns.h"

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
    m->refused_since = db_column_is_null(st, 4) ? 0 : db_column_int(st, 4);
}

static int compare_mail_ids(const void *a, const void *b)
{
    const store_outbox_mail *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The row condition is written twice: where the rows are picked and on the UPDATE itself, so that
   PostgreSQL checks it again on the row version it locks (a row another server claimed meanwhile
   no longer qualifies). On PostgreSQL the rows are picked in a materialised CTE, run once: a
   `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` may be rescanned by the plan, and each
   rescan skips the rows this statement has just updated and takes n more (a claim of 10 took
   all 30 pending rows). SKIP LOCKED lets a second server pass over rows another is claiming
   instead of queueing behind it. */
#define CLAIMABLE                                                                                  \
    "status = 'pending' AND ($3 = 0 OR next_attempt_at <= $4) AND id > $5 "                        \
    "AND (claim_until IS NULL OR claim_until <= $4)"
#define CLAIMABLE_M                                                                                \
    "m.status = 'pending' AND ($3 = 0 OR m.next_attempt_at <= $4) AND m.id > $5 "                  \
    "AND (m.claim_until IS NULL OR m.claim_until <= $4)"

static const char CLAIM_PG[] =
    "WITH picked AS MATERIALIZED (SELECT id FROM mail_outbox WHERE " CLAIMABLE " ORDER BY id "
    "LIMIT $6 FOR UPDATE SKIP LOCKED) "
    "UPDATE mail_outbox AS m SET claimed_by = $1, claim_until = $2 FROM picked "
    "WHERE m.id = picked.id AND " CLAIMABLE_M " "
    "RETURNING m.id, m.to_address, m.message_sealed, m.attempts, m.refused_since";
static const char CLAIM_SQLITE[] =
    "UPDATE mail_outbox SET claimed_by = $1, claim_until = $2 WHERE id IN "
    "(SELECT id FROM mail_outbox WHERE " CLAIMABLE " ORDER BY id LIMIT $6) AND " CLAIMABLE " "
    "RETURNING id, to_address, message_sealed, attempts, refused_since";

nsdb_err store_outbox_claim(db *conn, arena *a, const char *claimer, int64_t now, bool due_only,
                            int64_t claim_until, int64_t after_id, int64_t limit,
                            store_outbox_mail **rows_out, size_t *count_out)
{
    STORE_ASSERT_WRITE(conn);
    const char *sql = db_get_dialect(conn) == DB_POSTGRESQL ? CLAIM_PG : CLAIM_SQLITE;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, sql, "tiiiii", claimer, claim_until, (int64_t)due_only, now,
                          after_id, limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, outbox_mail_from_row, &rows, count_out);
    *rows_out = rows;
    if (e == NSDB_OK && *count_out > 1) /* RETURNING promises no order */
        qsort(rows, *count_out, sizeof **rows_out, compare_mail_ids);
    return e;
}

nsdb_err store_outbox_release(db *conn, int64_t id, const char *claimer)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE mail_outbox SET claimed_by = NULL, claim_until = NULL "
                   "WHERE id = $1 AND claimed_by = $2",
                   "it", id, claimer);
}

nsdb_err store_outbox_mark_sent(db *conn, int64_t id, const char *claimer, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e = db_exec(conn, &changed,
                         "UPDATE mail_outbox SET status = 'sent', sent_at = $3, "
                         "attempts = attempts + 1, last_error = NULL, refused_since = NULL, "
                         "claimed_by = NULL, claim_until = NULL "
                         "WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
                         "iti", id, claimer, now);
    return e == NSDB_OK && changed == 0 ? NSDB_ERR_CONFLICT : e;
}

nsdb_err store_outbox_mark_retry(db *conn, int64_t id, const char *claimer, int64_t next_attempt_at,
                                 const char *error, int64_t refused_since, bool give_up)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e = db_exec(conn, &changed,
                         "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $3, "
                         "last_error = $4, refused_since = NULLIF($5, 0), status = $6, "
                         "claimed_by = NULL, claim_until = NULL "
                         "WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
                         "ititit", id, claimer, next_attempt_at, error, refused_since,
                         mail_status_key(give_up ? MAIL_STATUS_FAILED : MAIL_STATUS_PENDING));
    return e == NSDB_OK && changed == 0 ? NSDB_ERR_CONFLICT : e;
}

#define ENTRY_COLUMNS                                                                              \
    "id, purpose, to_address, status, created_at, attempts, next_attempt_at, refused_since, "      \
    "claim_until, last_error"

static void outbox_entry_from_row(arena *a, db_stmt *st, void *row)
{
    store_outbox_entry *m = row;
    m->id = db_column_int(st, 0);
    m->purpose = store_column_strdup(a, st, 1);
    m->to_address = store_column_strdup(a, st, 2);
    m->status = store_column_mail_status(st, 3);
    m->created_at = db_column_int(st, 4);
    m->attempts = db_column_int(st, 5);
    m->next_attempt_at = db_column_int(st, 6);
    m->refused_since = db_column_is_null(st, 7) ? 0 : db_column_int(st, 7);
    m->claim_until = db_column_is_null(st, 8) ? 0 : db_column_int(st, 8);
    m->last_error = store_column_strdup(a, st, 9);
}

nsdb_err store_outbox_find(db *conn, arena *a, int64_t id, store_outbox_entry **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT " ENTRY_COLUMNS " FROM mail_outbox WHERE id = $1", "i",
                          id);
    if (e != NSDB_OK)
        return e;
    store_outbox_entry *m = arena_calloc(a, 1, sizeof *m);
    e = store_row_read(st, a, m, outbox_entry_from_row);
    *out = e == NSDB_OK ? m : NULL;
    return e;
}

nsdb_err store_outbox_list_troubled(db *conn, arena *a, int64_t limit,
                                    store_outbox_entry **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " ENTRY_COLUMNS " FROM mail_outbox "
                          "WHERE status = 'failed' OR (status = 'pending' AND attempts > 0) "
                          "ORDER BY CASE WHEN status = 'failed' THEN 0 ELSE 1 END, id LIMIT $1",
                          "i", limit);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, outbox_entry_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_outbox_resend(db *conn, int64_t id, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changed = 0;
    nsdb_err e = db_exec(conn, &changed,
                         "UPDATE mail_outbox SET status = 'pending', attempts = 0, "
                         "next_attempt_at = $2, refused_since = NULL, claimed_by = NULL, "
                         "claim_until = NULL WHERE id = $1 "
                         "AND (status = 'failed' OR (status = 'pending' AND attempts > 0)) "
                         "AND (claim_until IS NULL OR claim_until <= $2)",
                         "ii", id, now);
    return e == NSDB_OK && changed == 0 ? NSDB_ERR_CONFLICT : e;
}

nsdb_err store_outbox_stats_read(db *conn, int64_t now, store_outbox_stats *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT "
                          "COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), "
                          "COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 "
                          "THEN 1 ELSE 0 END), 0), "
                          "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), "
                          "MIN(CASE WHEN status = 'pending' THEN created_at END) "
                          "FROM mail_outbox WHERE status IN ('pending', 'failed')",
                          NULL);
    if (e != NSDB_OK)
        return e;
    e = db_step(st) == DB_ROW ? NSDB_OK : NSDB_ERR_DB;
    if (e == NSDB_OK) {
        out->pending = db_column_int(st, 0);
        out->waiting = db_column_int(st, 1);
        out->failed = db_column_int(st, 2);
        int64_t oldest = db_column_is_null(st, 3) ? now : db_column_int(st, 3);
        out->oldest_pending_age = now > oldest ? now - oldest : 0;
    }
    db_finalize(st);
    return e;
}
