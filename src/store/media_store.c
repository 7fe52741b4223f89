/*
 * media_store.c — see media_store.h.
 */
#define NSDB_STORE_INTERNAL
#include "store/media_store.h"

#include <assert.h>
#include <string.h>

#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"
#include "store/state_columns.h"

#define CYCLE_COLUMNS                                                                              \
    "id, registration_from, registration_to, media_from, media_to, delivery_from, delivery_to "

static void copy_day(char out[11], const char *text)
{
    memset(out, 0, 11);
    if (text != NULL)
        strncpy(out, text, 10);
}

static void cycle_from_row(arena *a, db_stmt *st, void *row)
{
    (void)a;
    cycle_window *c = row;
    copy_day(c->id, db_column_text(st, 0));
    copy_day(c->registration_from, db_column_text(st, 1));
    copy_day(c->registration_to, db_column_text(st, 2));
    copy_day(c->media_from, db_column_text(st, 3));
    copy_day(c->media_to, db_column_text(st, 4));
    copy_day(c->delivery_from, db_column_text(st, 5));
    copy_day(c->delivery_to, db_column_text(st, 6));
}

/* One cycle, read into the caller's struct. */
static NSDB_MUST_CHECK nsdb_err cycle_fetch(db_stmt *st, cycle_window *out)
{
    return store_row_read(st, NULL, out, cycle_from_row);
}

nsdb_err store_cycle_ensure(db *conn, const cycle_window *c)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "INSERT INTO cycles (" CYCLE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
                   "ON CONFLICT (id) DO NOTHING",
                   "ttttttt", c->id, c->registration_from, c->registration_to, c->media_from,
                   c->media_to, c->delivery_from, c->delivery_to);
}

nsdb_err store_cycle_for_date(db *conn, const char *date, cycle_window *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CYCLE_COLUMNS "FROM cycles WHERE registration_to >= $1 "
                          "ORDER BY registration_to LIMIT 1",
                          "t", date);
    return e != NSDB_OK ? e : cycle_fetch(st, out);
}

nsdb_err store_cycle_get(db *conn, const char *id, cycle_window *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT " CYCLE_COLUMNS "FROM cycles WHERE id = $1", "t", id);
    return e != NSDB_OK ? e : cycle_fetch(st, out);
}

nsdb_err store_cycle_prev(db *conn, const char *id, cycle_window *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CYCLE_COLUMNS "FROM cycles WHERE id < $1 ORDER BY id DESC LIMIT 1",
                          "t", id);
    return e != NSDB_OK ? e : cycle_fetch(st, out);
}

nsdb_err store_cycle_next(db *conn, const char *id, cycle_window *out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CYCLE_COLUMNS "FROM cycles WHERE id > $1 ORDER BY id LIMIT 1",
                          "t", id);
    return e != NSDB_OK ? e : cycle_fetch(st, out);
}

nsdb_err store_cycle_list(db *conn, const char *from_date, cycle_window *out, size_t cap,
                          size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " CYCLE_COLUMNS "FROM cycles WHERE delivery_to >= $1 "
                          "ORDER BY id LIMIT $2",
                          "ti", from_date ? from_date : "0000-00-00", (int64_t)cap);
    if (e != NSDB_OK)
        return e;
    size_t n = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW && n < cap)
        cycle_from_row(NULL, st, &out[n++]);
    db_finalize(st);
    *count_out = n;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_cycle_update(db *conn, const cycle_window *c, int64_t by, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE cycles SET registration_from = $2, registration_to = $3, "
                   "media_from = $4, media_to = $5, delivery_from = $6, delivery_to = $7, "
                   "adjusted_by = $8, adjusted_at = $9 WHERE id = $1",
                   "tttttttii", c->id, c->registration_from, c->registration_to, c->media_from,
                   c->media_to, c->delivery_from, c->delivery_to, by, now);
}

nsdb_err store_media_outlook_of_user(db *conn, int64_t municipality_pk, const char *user_id,
                                     char cycle_id[11], store_media_outlook *out)
{
    assert(municipality_pk != 0);
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        "SELECT r.cycle_id, "
        "EXISTS (SELECT 1 FROM media d WHERE d.municipality_id = r.municipality_id "
        "AND d.institution_id = r.institution_id AND d.kind = 'initial'), "
        "EXISTS (SELECT 1 FROM registrations p WHERE p.municipality_id = r.municipality_id "
        "AND p.institution_id = r.institution_id AND p.cycle_id < r.cycle_id) "
        "FROM registrations r JOIN users u ON u.id = r.user_pk "
        "WHERE u.user_id = $1 AND r.municipality_id = $2 AND " USER_SHOWN,
        "ti", user_id, municipality_pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW) {
        copy_day(cycle_id, db_column_text(st, 0));
        *out = db_column_int(st, 1) ? MEDIA_OUTLOOK_HAS_MEDIA
               : db_column_int(st, 2) ? MEDIA_OUTLOOK_PENDING
                                      : MEDIA_OUTLOOK_NEW;
    }
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : rc == DB_DONE ? NSDB_ERR_NOT_FOUND : NSDB_ERR_DB;
}

nsdb_err store_media_outlook_of_batch(db *conn, int64_t municipality_pk, int64_t batch_id,
                                      char cycle_id[11], int64_t *new_count, int64_t *other_count)
{
    assert(municipality_pk != 0);
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        /* each (cycle, institution) of the batch once, joined as sets with the municipality's
           initial media and each institution's first cycle among the municipality's other
           registrations (a batch registers in one cycle): looking each of 50,000 institutions up
           took 0.53 s on PostgreSQL after a 100,000-row import, this 0.20 s (SQLite 0.08 s,
           0.06 s) */
        "SELECT x.cycle_id, x.institution_id, "
        "m.institution_id IS NOT NULL OR (e.first IS NOT NULL AND e.first < x.cycle_id) "
        "FROM (SELECT DISTINCT r.cycle_id, r.institution_id FROM registrations r "
        "WHERE r.batch_id = $1 AND r.municipality_id = $2 AND " REGISTRATION_SHOWN ") x "
        "LEFT JOIN (SELECT DISTINCT d.institution_id FROM media d "
        "WHERE d.municipality_id = $2 AND d.kind = 'initial') m "
        "ON m.institution_id = x.institution_id "
        "LEFT JOIN (SELECT p.institution_id, MIN(p.cycle_id) AS first FROM registrations p "
        "WHERE p.municipality_id = $2 AND (p.batch_id IS NULL OR p.batch_id <> $1) "
        "GROUP BY p.institution_id) e ON e.institution_id = x.institution_id",
        "ii", batch_id, municipality_pk);
    if (e != NSDB_OK)
        return e;
    *new_count = *other_count = 0;
    cycle_id[0] = '\0';
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        copy_day(cycle_id, db_column_text(st, 0));
        if (db_column_int(st, 2))
            ++*other_count;
        else
            ++*new_count;
    }
    db_finalize(st);
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

#define MEDIA_COLUMNS                                                                              \
    "d.id, d.cycle_id, d.municipality_id, m.code, m.name, d.institution_id, i.code, i.name, "     \
    "d.kind, COALESCE(d.reissue_of, 0), d.status, d.iso_path, d.sha256, d.size_bytes, "           \
    "d.volume_id, d.passphrase_sealed, COALESCE(d.package_id, 0), d.forwarded_on, "               \
    "d.damage_note, d.reissue_cycle_id "                                                           \
    "FROM media d JOIN municipalities m ON m.id = d.municipality_id "                             \
    "JOIN institutions i ON i.id = d.institution_id "

static void media_from_row(arena *a, db_stmt *st, void *row)
{
    store_media *d = row;
    d->id = db_column_int(st, 0);
    d->cycle_id = store_column_strdup(a, st, 1);
    d->municipality_pk = db_column_int(st, 2);
    d->municipality_code = store_column_strdup(a, st, 3);
    d->municipality_name = store_column_strdup(a, st, 4);
    d->institution_pk = db_column_int(st, 5);
    d->institution_code = store_column_strdup(a, st, 6);
    d->institution_name = store_column_strdup(a, st, 7);
    d->kind = store_column_strdup(a, st, 8);
    d->reissue_of = db_column_int(st, 9);
    d->status = store_column_media_status(st, 10);
    d->iso_path = store_column_strdup(a, st, 11);
    d->sha256 = store_column_strdup(a, st, 12);
    d->size_bytes = db_column_int(st, 13);
    d->volume_id = store_column_strdup(a, st, 14);
    d->passphrase_sealed = store_column_blob_copy(a, st, 15, &d->passphrase_sealed_len);
    d->package_id = db_column_int(st, 16);
    d->forwarded_on = store_column_strdup(a, st, 17);
    d->damage_note = store_column_strdup(a, st, 18);
    d->reissue_cycle_id = store_column_strdup(a, st, 19);
}

/* Collects the rows of a media query into an arena array. */
static NSDB_MUST_CHECK nsdb_err media_collect(db_stmt *st, arena *a, store_media **rows_out,
                                              size_t *count_out)
{
    void *rows = NULL;
    nsdb_err e = store_rows_read(st, a, sizeof **rows_out, media_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

/* The first row of a media query (NSDB_ERR_NOT_FOUND without one). */
static NSDB_MUST_CHECK nsdb_err media_collect_one(db_stmt *st, arena *a, store_media **out)
{
    store_media *d = arena_calloc(a, 1, sizeof *d);
    nsdb_err e = store_row_read(st, a, d, media_from_row);
    if (e == NSDB_OK)
        *out = d;
    return e;
}

/* A media still to build: the pair it is for, and the damaged media it replaces (0: none). */
static void candidate_from_row(arena *a, db_stmt *st, void *row)
{
    store_media *d = row;
    d->municipality_pk = db_column_int(st, 0);
    d->municipality_code = store_column_strdup(a, st, 1);
    d->municipality_name = store_column_strdup(a, st, 2);
    d->institution_pk = db_column_int(st, 3);
    d->institution_code = store_column_strdup(a, st, 4);
    d->institution_name = store_column_strdup(a, st, 5);
    d->reissue_of = db_column_int(st, 6);
    d->kind = d->reissue_of ? "reissue" : "initial";
}

nsdb_err store_media_candidates(db *conn, arena *a, const char *cycle_id, store_media **rows_out,
                                size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        "SELECT DISTINCT r.municipality_id, m.code, m.name, r.institution_id, i.code, i.name, 0 "
        "FROM registrations r JOIN municipalities m ON m.id = r.municipality_id "
        "JOIN institutions i ON i.id = r.institution_id "
        "WHERE r.cycle_id = $1 AND " REGISTRATION_SHOWN " AND NOT EXISTS (SELECT 1 FROM media d WHERE "
        "d.municipality_id = r.municipality_id AND d.institution_id = r.institution_id "
        "AND d.kind = 'initial') "
        "UNION ALL "
        "SELECT d.municipality_id, m.code, m.name, d.institution_id, i.code, i.name, d.id "
        "FROM media d JOIN municipalities m ON m.id = d.municipality_id "
        "JOIN institutions i ON i.id = d.institution_id "
        "WHERE d.status = $2 AND d.reissue_cycle_id = $1 AND NOT EXISTS "
        "(SELECT 1 FROM media x WHERE x.reissue_of = d.id) "
        "ORDER BY 2, 5, 7",
        "tt", cycle_id, media_status_key(MEDIA_STATUS_DAMAGED));
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, candidate_from_row, &rows, count_out);
    *rows_out = rows;
    for (size_t i = 0; i < *count_out; i++)
        (*rows_out)[i].cycle_id = arena_strdup(a, cycle_id);
    return e;
}

nsdb_err store_media_insert(db *conn, const store_media *m, int64_t now, int64_t *id_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(
        conn,
        "INSERT INTO media (cycle_id, municipality_id, institution_id, kind, reissue_of, status, "
        "iso_path, sha256, size_bytes, volume_id, cert_serial, passphrase_sealed, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $13, $6, $7, $8, $9, $10, $11, $12, $12) "
        "RETURNING id",
        &st);
    if (e != NSDB_OK)
        return e;
    db_bind_text(st, 1, m->cycle_id);
    db_bind_int(st, 2, m->municipality_pk);
    db_bind_int(st, 3, m->institution_pk);
    db_bind_text(st, 4, m->kind);
    if (m->reissue_of)
        db_bind_int(st, 5, m->reissue_of);
    else
        db_bind_null(st, 5);
    db_bind_text(st, 6, m->iso_path);
    db_bind_text(st, 7, m->sha256);
    db_bind_int(st, 8, m->size_bytes);
    db_bind_text(st, 9, m->volume_id);
    db_bind_text(st, 10, m->cert_serial);
    db_bind_blob(st, 11, m->passphrase_sealed, m->passphrase_sealed_len);
    db_bind_int(st, 12, now);
    db_bind_text(st, 13, media_status_key(MEDIA_STATUS_CREATED));
    int rc = db_step(st);
    if (rc == DB_ROW)
        *id_out = db_column_int(st, 0);
    e = rc == DB_ROW ? NSDB_OK : db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

nsdb_err store_media_list(db *conn, arena *a, const char *cycle_id, int64_t municipality_pk,
                          int64_t package_id, media_status status, store_media **rows_out,
                          size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " MEDIA_COLUMNS
                          "WHERE (CAST($1 AS TEXT) IS NULL OR d.cycle_id = $1) AND ($2 = 0 OR d.municipality_id = $2) "
                          "AND ($3 = 0 OR d.package_id = $3) AND (CAST($4 AS TEXT) IS NULL OR d.status = $4) "
                          "ORDER BY d.cycle_id, m.code, i.code, d.id",
                          "tiit", cycle_id, municipality_pk, package_id,
                          media_status_key(status));
    return e != NSDB_OK ? e : media_collect(st, a, rows_out, count_out);
}

nsdb_err store_media_get(db *conn, arena *a, int64_t id, int64_t municipality_pk,
                         store_media **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " MEDIA_COLUMNS "WHERE d.id = $1 AND ($2 = 0 OR d.municipality_id = $2)",
                          "ii", id, municipality_pk);
    return e != NSDB_OK ? e : media_collect_one(st, a, out);
}

nsdb_err store_media_transition(db *conn, int64_t id, media_status from, media_action action,
                                int64_t now, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    media_status to;
    *changed_out = false;
    if (!media_status_can(from, action, &to))
        return NSDB_OK;
    /* `status = $2`: the media is still in the state the caller read */
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE media SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2",
                         "itti", id, media_status_key(from), media_status_key(to), now);
    *changed_out = changes == 1;
    return e;
}

nsdb_err store_media_set_package(db *conn, int64_t id, int64_t package_id, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE media SET package_id = $2, updated_at = $3 WHERE id = $1",
                   "iii", id, package_id, now);
}

nsdb_err store_media_forward(db *conn, int64_t id, media_status from, const char *date,
                             int64_t now, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    media_status to;
    *changed_out = false;
    if (!media_status_can(from, MEDIA_ACTION_FORWARD, &to))
        return NSDB_OK;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE media SET status = $5, forwarded_on = $2, updated_at = $3 "
                         "WHERE id = $1 AND status = $4",
                         "ititt", id, date, now, media_status_key(from), media_status_key(to));
    *changed_out = changes == 1;
    return e;
}

nsdb_err store_media_damage(db *conn, int64_t id, media_status from, const char *note,
                            const char *reissue_cycle_id, int64_t now, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    media_status to;
    *changed_out = false;
    if (!media_status_can(from, MEDIA_ACTION_DAMAGE, &to))
        return NSDB_OK;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE media SET status = $6, damage_note = $2, "
                         "reissue_cycle_id = $3, updated_at = $4 "
                         "WHERE id = $1 AND status = $5",
                         "ittitt", id, note, reissue_cycle_id, now, media_status_key(from),
                         media_status_key(to));
    *changed_out = changes == 1;
    return e;
}

nsdb_err store_media_board(db *conn, arena *a, const char *cycle_id,
                           store_media_board_row **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT m.code, m.name, d.status, COUNT(*) FROM media d "
                          "JOIN municipalities m ON m.id = d.municipality_id "
                          "WHERE (CAST($1 AS TEXT) IS NULL OR d.cycle_id = $1) "
                          "GROUP BY m.code, m.name, d.status ORDER BY m.code",
                          "t", cycle_id);
    if (e != NSDB_OK)
        return e;
    size_t cap = 16, n = 0;
    store_media_board_row *rows = arena_calloc(a, cap, sizeof *rows);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *code = db_column_text(st, 0);
        if (n == 0 || strcmp(rows[n - 1].municipality_code, code) != 0) {
            rows = arena_grow(a, rows, n, &cap, sizeof *rows);
            rows[n].municipality_code = arena_strdup(a, code);
            rows[n].municipality_name = store_column_strdup(a, st, 1);
            n++;
        }
        media_status status = store_column_media_status(st, 2);
        rows[n - 1].counts[status - 1] = db_column_int(st, 3);
    }
    db_finalize(st);
    *rows_out = rows;
    *count_out = n;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_media_user_categories(db *conn, arena *a, const char *cycle_id,
                                     int64_t municipality_pk, media_status status,
                                     store_media_users **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        "SELECT d.id, "
        "COALESCE(SUM(CASE WHEN u.category = 'nanbyo' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN u.category = 'shoman' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN u.category = 'both' THEN 1 ELSE 0 END), 0) "
        "FROM media d LEFT JOIN users u ON u.municipality_id = d.municipality_id "
        "AND u.institution_id = d.institution_id AND " USER_SHOWN " "
        "WHERE d.cycle_id = $1 AND d.municipality_id = $2 AND d.status = $3 "
        "GROUP BY d.id ORDER BY d.id",
        "tit", cycle_id, municipality_pk, media_status_key(status));
    if (e != NSDB_OK)
        return e;
    size_t cap = 16, n = 0;
    store_media_users *rows = arena_calloc(a, cap, sizeof *rows);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        rows = arena_grow(a, rows, n, &cap, sizeof *rows);
        rows[n++] = (store_media_users){db_column_int(st, 0), db_column_int(st, 1),
                                        db_column_int(st, 2), db_column_int(st, 3)};
    }
    db_finalize(st);
    *rows_out = rows;
    *count_out = n;
    return rc == DB_ERROR ? NSDB_ERR_DB : NSDB_OK;
}

nsdb_err store_package_insert(db *conn, const char *cycle_id, int64_t municipality_pk, int64_t seq,
                              const shipping_destination *to, int64_t now, int64_t *id_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO packages (cycle_id, municipality_id, seq, "
                          "status, created_at, to_category, to_postal, to_address, "
                          "to_department, to_phone) "
                          "VALUES ($1, $2, $3, $5, $4, $6, $7, $8, $9, $10) RETURNING id",
                          "tiiitttttt", cycle_id, municipality_pk, seq, now,
                          package_status_key(PACKAGE_STATUS_PACKED),
                          to->category ? category_key(to->category) : NULL, to->postal, to->address,
                          to->department, to->phone);
    return e != NSDB_OK ? e : store_row_int(st, id_out);
}

nsdb_err store_package_max_seq(db *conn, const char *cycle_id, int64_t municipality_pk,
                               int64_t *seq_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COALESCE(MAX(seq), 0) FROM packages WHERE cycle_id = $1 AND "
                          "municipality_id = $2",
                          "ti", cycle_id, municipality_pk);
    return e != NSDB_OK ? e : store_row_int(st, seq_out);
}

#define PACKAGE_COLUMNS                                                                            \
    "p.id, p.cycle_id, p.municipality_id, m.code, m.name, p.to_category, p.to_postal, "            \
    "p.to_address, p.to_department, p.to_phone, p.seq, p.tracking_number, p.status, "              \
    "(SELECT COUNT(*) FROM media d WHERE d.package_id = p.id), p.shipped_on "                      \
    "FROM packages p JOIN municipalities m ON m.id = p.municipality_id "

static void package_from_row(arena *a, db_stmt *st, void *row)
{
    store_package *p = row;
    p->id = db_column_int(st, 0);
    p->cycle_id = store_column_strdup(a, st, 1);
    p->municipality_pk = db_column_int(st, 2);
    p->municipality_code = store_column_strdup(a, st, 3);
    p->municipality_name = store_column_strdup(a, st, 4);
    user_category category = 0;
    p->to.category = category_from_key(db_column_text(st, 5), &category) ? category : 0;
    p->to.postal = store_column_strdup(a, st, 6);
    p->to.address = store_column_strdup(a, st, 7);
    p->to.department = store_column_strdup(a, st, 8);
    p->to.phone = store_column_strdup(a, st, 9);
    p->seq = db_column_int(st, 10);
    p->tracking_number = store_column_strdup(a, st, 11);
    p->status = store_column_package_status(st, 12);
    p->media_count = db_column_int(st, 13);
    p->shipped_on = store_column_strdup(a, st, 14);
}

static NSDB_MUST_CHECK nsdb_err package_collect(db_stmt *st, arena *a, store_package **rows_out,
                                                size_t *count_out)
{
    void *rows = NULL;
    nsdb_err e = store_rows_read(st, a, sizeof **rows_out, package_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

static NSDB_MUST_CHECK nsdb_err package_collect_one(db_stmt *st, arena *a, store_package **out)
{
    store_package *p = arena_calloc(a, 1, sizeof *p);
    nsdb_err e = store_row_read(st, a, p, package_from_row);
    if (e == NSDB_OK)
        *out = p;
    return e;
}

nsdb_err store_package_list(db *conn, arena *a, const char *cycle_id, int64_t municipality_pk,
                            store_package **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " PACKAGE_COLUMNS
                          "WHERE (CAST($1 AS TEXT) IS NULL OR p.cycle_id = $1) AND ($2 = 0 OR p.municipality_id = $2) "
                          "ORDER BY p.cycle_id DESC, m.code, p.seq",
                          "ti", cycle_id, municipality_pk);
    return e != NSDB_OK ? e : package_collect(st, a, rows_out, count_out);
}

nsdb_err store_package_get(db *conn, arena *a, int64_t id, int64_t municipality_pk,
                           store_package **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " PACKAGE_COLUMNS
                          "WHERE p.id = $1 AND ($2 = 0 OR p.municipality_id = $2)",
                          "ii", id, municipality_pk);
    return e != NSDB_OK ? e : package_collect_one(st, a, out);
}

nsdb_err store_package_receive(db *conn, int64_t id, int64_t by, int64_t now, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    /* the package and its media move together: shipped → received */
    package_status package_from = PACKAGE_STATUS_SHIPPED, package_to;
    media_status media_from = MEDIA_STATUS_SHIPPED, media_to;
    bool allowed = package_status_can(package_from, PACKAGE_ACTION_RECEIVE, &package_to) &&
                   media_status_can(media_from, MEDIA_ACTION_RECEIVE, &media_to);
    assert(allowed);
    (void)allowed;
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE packages SET status = $5, received_at = $3, received_by = $2 "
                         "WHERE id = $1 AND status = $4",
                         "iiitt", id, by, now, package_status_key(package_from),
                         package_status_key(package_to));
    *changed_out = changes == 1;
    if (e == NSDB_OK && changes == 1)
        e = db_exec(conn, NULL,
                    "UPDATE media SET status = $4, updated_at = $2 "
                    "WHERE package_id = $1 AND status = $3",
                    "iitt", id, now, media_status_key(media_from), media_status_key(media_to));
    return e;
}

nsdb_err store_package_ship(db *conn, int64_t id, const char *tracking, const char *shipped_on,
                            int64_t by, int64_t now, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    /* the package and its media move together: packed → shipped */
    package_status package_from = PACKAGE_STATUS_PACKED, package_to;
    media_status media_from = MEDIA_STATUS_PACKED, media_to;
    bool allowed = package_status_can(package_from, PACKAGE_ACTION_SHIP, &package_to) &&
                   media_status_can(media_from, MEDIA_ACTION_SHIP, &media_to);
    assert(allowed);
    (void)allowed;
    *changed_out = false;
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(conn,
                            "UPDATE packages SET status = $7, tracking_number = $2, "
                            "shipped_on = $3, shipped_by = $4, shipped_at = $5 "
                            "WHERE id = $1 AND status = $6",
                            &st);
    if (e != NSDB_OK)
        return e;
    db_bind_int(st, 1, id);
    db_bind_text(st, 2, tracking);
    db_bind_text(st, 3, shipped_on);
    if (by != 0)
        db_bind_int(st, 4, by);
    else
        db_bind_null(st, 4); /* the command line */
    db_bind_int(st, 5, now);
    db_bind_text(st, 6, package_status_key(package_from));
    db_bind_text(st, 7, package_status_key(package_to));
    int rc = db_step(st);
    e = rc == DB_DONE ? NSDB_OK : db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
    int64_t changes = rc == DB_DONE ? db_changes(st) : 0;
    db_finalize(st);
    *changed_out = changes == 1;
    if (e == NSDB_OK && changes == 1)
        e = db_exec(conn, NULL,
                    "UPDATE media SET status = $4, updated_at = $2 "
                    "WHERE package_id = $1 AND status = $3",
                    "iitt", id, now, media_status_key(media_from), media_status_key(media_to));
    return e;
}

nsdb_err store_package_find_by_tracking(db *conn, arena *a, const char *tracking,
                                        store_package **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT " PACKAGE_COLUMNS "WHERE p.tracking_number = $1", "t",
                          tracking);
    return e != NSDB_OK ? e : package_collect_one(st, a, out);
}
