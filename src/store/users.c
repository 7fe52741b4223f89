/*
 * users.c — the users table: creation, lookup for login, failure counting and lockout,
 * password changes; an institution user's creation and change of name also keep the name index
 * (user_grams) and the municipality's count of institution users (see user_search.c).
 */
#define NSDB_STORE_INTERNAL
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/registrations.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/visible.h"
#include "store/state_columns.h"
#include "store/users.h"
#include "store/users_internal.h"
#include "util/log.h"
#include "util/str.h"

static void user_read_row(arena *a, db_stmt *st, void *row)
{
    store_user *u = row;
    u->pk = db_column_int(st, 0);
    u->user_id = store_column_strdup(a, st, 1);
    u->role = store_column_user_role(st, 2);
    u->name = store_column_strdup(a, st, 3);
    u->name_kana = store_column_strdup(a, st, 4);
    u->email = store_column_strdup(a, st, 5);
    u->department = store_column_strdup(a, st, 6);
    u->category = store_column_strdup(a, st, 7);
    u->municipality_pk = db_column_int(st, 8);
    u->institution_pk = db_column_int(st, 9);
    u->municipality_code = store_column_strdup(a, st, 10);
    u->municipality_name = store_column_strdup(a, st, 11);
    u->institution_code = store_column_strdup(a, st, 12);
    u->institution_name = store_column_strdup(a, st, 13);
    u->password_hash = store_column_strdup(a, st, 14);
    if (!db_column_is_null(st, 15))
        u->initial_sealed = store_column_blob_copy(a, st, 15, &u->initial_sealed_len);
    u->notice_status = store_column_notice_status(st, 16);
    u->status = store_column_account_status(st, 17);
    u->must_change_password = db_column_int(st, 18) != 0;
    u->failed_logins = db_column_int(st, 19);
    u->locked_until = db_column_int(st, 20);
    u->created_at = db_column_int(st, 21);
    u->title = store_column_strdup(a, st, 22);
    u->phone = store_column_strdup(a, st, 23);
    u->totp_enrolled_at = db_column_int(st, 24);
    u->initial_password_by = db_column_int(st, 25);
    u->doctor_number = store_column_strdup(a, st, 26);
    u->specialty = store_column_strdup(a, st, 27);
}

store_user *user_from_row(arena *a, db_stmt *st)
{
    store_user *u = arena_calloc(a, 1, sizeof *u);
    user_read_row(a, st, u);
    return u;
}

static NSDB_MUST_CHECK nsdb_err user_fetch_one(db_stmt *st, arena *a, store_user **out)
{
    store_user *u = arena_calloc(a, 1, sizeof *u);
    nsdb_err e = store_row_read(st, a, u, user_read_row);
    if (e == NSDB_OK)
        *out = u;
    return e;
}

nsdb_err store_user_find_by_user_id(db *conn, arena *a, const char *user_id, store_user **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS "WHERE u.user_id = UPPER($1) AND " USER_SHOWN, "t",
                          user_id);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_find_by_pk(db *conn, arena *a, int64_t pk, store_user **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT " USER_COLUMNS "WHERE u.id = $1 AND " USER_SHOWN, "i",
                          pk);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_count(db *conn, int64_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT COUNT(*) FROM users u WHERE " USER_SHOWN, NULL);
    return e != NSDB_OK ? e : store_row_int(st, count_out);
}

static void null_if_zero_bind(db_stmt *st, int index, int64_t v)
{
    if (v == 0)
        db_bind_null(st, index);
    else
        db_bind_int(st, index, v);
}

nsdb_err store_user_insert(db *conn, const store_user_new *u, int64_t now, int64_t *pk_out)
{
    STORE_ASSERT_WRITE(conn);
    /* A user ID that is taken inserts nothing, without an error: the caller draws another in the
       same transaction, which a failed statement would have aborted on PostgreSQL. */
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(
        conn,
        "INSERT INTO users (user_id, role, name, name_kana, email, department, category, "
        "municipality_id, institution_id, doctor_number, specialty, initial_password_sealed, "
        "created_by, created_at, updated_at, title, phone, name_search, initial_password_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, "
        "$13) "
        "ON CONFLICT (user_id) DO NOTHING RETURNING id",
        &st);
    if (e != NSDB_OK)
        return e;
    db_bind_text(st, 1, u->user_id);
    db_bind_text(st, 2, user_role_key(u->role));
    db_bind_text(st, 3, u->name);
    db_bind_text(st, 4, u->name_kana);
    db_bind_text(st, 5, u->email);
    db_bind_text(st, 6, u->department);
    db_bind_text(st, 7, u->category ? u->category : "nanbyo");
    null_if_zero_bind(st, 8, u->municipality_pk);
    null_if_zero_bind(st, 9, u->institution_pk);
    db_bind_text(st, 10, u->doctor_number);
    db_bind_text(st, 11, u->specialty);
    db_bind_blob(st, 12, u->initial_sealed, u->initial_sealed_len);
    null_if_zero_bind(st, 13, u->created_by);
    db_bind_int(st, 14, now);
    db_bind_text(st, 15, u->title);
    db_bind_text(st, 16, u->phone);
    db_bind_text(st, 17, u->search_key);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        int64_t pk = db_column_int(st, 0);
        if (pk_out)
            *pk_out = pk;
        e = NSDB_OK;
        if (u->municipality_pk != 0 && user_grams_role(u->role)) {
            e = user_grams_add(conn, u->municipality_pk, u->search_key);
            if (e == NSDB_OK)
                e = db_exec(conn, NULL,
                            "UPDATE municipalities SET inst_users = inst_users + 1 WHERE id = $1",
                            "i", u->municipality_pk);
        }
    } else if (rc == DB_DONE) {
        e = NSDB_ERR_EXISTS; /* the user ID was taken: nothing inserted */
    } else {
        e = db_last_error_is_unique(st) ? NSDB_ERR_EXISTS : NSDB_ERR_DB;
        if (e == NSDB_ERR_DB)
            log_event(LOG_ERROR, "user_insert_failed", "error", db_error_message(conn), NULL);
    }
    db_finalize(st);
    return e;
}

nsdb_err store_user_login_failed(db *conn, int64_t pk, int64_t now, int max_failures,
                                 int64_t lock_seconds, bool *locked_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "UPDATE users SET failed_logins = failed_logins + 1, updated_at = $2 "
                          "WHERE id = $1 RETURNING failed_logins",
                          "ii", pk, now);
    if (e != NSDB_OK)
        return e;
    /* a count that was not written must not pass for one that was */
    int rc = db_step(st);
    int64_t failures = rc == DB_ROW ? db_column_int(st, 0) : 0;
    db_finalize(st);
    if (rc != DB_ROW)
        return NSDB_ERR_DB;
    *locked_out = failures >= max_failures;
    if (!*locked_out)
        return NSDB_OK;
    return db_exec(conn, NULL,
                   "UPDATE users SET failed_logins = 0, locked_until = $2 WHERE id = $1", "ii", pk,
                   now + lock_seconds);
}

nsdb_err store_user_login_reserve(db *conn, int64_t pk, int64_t now, int max_failures,
                                  bool *allowed_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "UPDATE users SET failed_logins = failed_logins + 1, updated_at = $2 "
                          "WHERE id = $1 AND locked_until <= $2 AND failed_logins < $3 "
                          "RETURNING failed_logins",
                          "iii", pk, now, (int64_t)max_failures);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    db_finalize(st);
    if (rc == DB_ERROR)
        return NSDB_ERR_DB;
    *allowed_out = rc == DB_ROW;
    return NSDB_OK;
}

nsdb_err store_user_login_lock_if_spent(db *conn, int64_t pk, int64_t now, int max_failures,
                                        int64_t lock_seconds, bool *locked_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e = db_exec(conn, &changes,
                         "UPDATE users SET failed_logins = 0, locked_until = $2 "
                         "WHERE id = $1 AND failed_logins >= $3",
                         "iii", pk, now + lock_seconds, (int64_t)max_failures);
    *locked_out = e == NSDB_OK && changes > 0;
    return e;
}

nsdb_err store_user_login_release(db *conn, int64_t pk, const char *rehash)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE users SET failed_logins = CASE WHEN failed_logins > 0 "
                   "THEN failed_logins - 1 ELSE 0 END, "
                   "password_hash = COALESCE($2, password_hash) WHERE id = $1",
                   "it", pk, rehash);
}

nsdb_err store_user_login_succeeded(db *conn, int64_t pk, int64_t now, const char *rehash)
{
    STORE_ASSERT_WRITE(conn);
    if (rehash != NULL)
        return db_exec(conn, NULL,
                       "UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = $2, "
                       "password_hash = $3 WHERE id = $1",
                       "iit", pk, now, rehash);
    return db_exec(conn, NULL,
                   "UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = $2 "
                   "WHERE id = $1",
                   "ii", pk, now);
}

nsdb_err store_user_set_password(db *conn, int64_t pk, const char *hash, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE users SET password_hash = $2, initial_password_sealed = NULL, "
                   "must_change_password = 0, notice_status = 'active', password_changed_at = $3, "
                   "updated_at = $3 WHERE id = $1",
                   "iti", pk, hash, now);
}

nsdb_err store_user_update_profile(db *conn, int64_t pk, const store_user_profile *p,
                                   const char *search_key, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    /* the name-pair index follows the name key: the old key's rows go, the new key's come */
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COALESCE(municipality_id, 0), role, COALESCE(name_search, '') "
                          "FROM users WHERE id = $1",
                          "i", pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    int64_t municipality_pk = rc == DB_ROW ? db_column_int(st, 0) : 0;
    bool indexed = rc == DB_ROW && municipality_pk != 0 &&
                   user_grams_role(store_column_user_role(st, 1));
    char *old_key = rc == DB_ROW ? strdup(db_column_text(st, 2)) : NULL;
    db_finalize(st);
    if (rc == DB_ERROR)
        return NSDB_ERR_DB;
    if (rc == DB_ROW && old_key == NULL)
        return NSDB_ERR_NOMEM;
    const char *new_key = search_key ? search_key : "";
    bool key_changed = indexed && old_key != NULL && strcmp(old_key, new_key) != 0;
    e = key_changed ? user_grams_remove(conn, municipality_pk, old_key) : NSDB_OK;
    free(old_key);
    if (e == NSDB_OK)
        e = db_exec(conn, NULL,
                    "UPDATE users SET name = $2, name_kana = $3, email = $4, department = $5, "
                    "title = $6, phone = $7, category = COALESCE($8, category), name_search = $9, "
                    "updated_at = $10 WHERE id = $1",
                    "itttttttti", pk, p->name, p->name_kana, p->email, p->department, p->title,
                    p->phone, p->category, search_key, now);
    if (e == NSDB_OK && key_changed)
        e = user_grams_add(conn, municipality_pk, new_key);
    return e;
}

nsdb_err store_user_set_status(db *conn, int64_t pk, account_status status, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1", "iti",
                   pk, account_status_key(status), now);
}

nsdb_err store_user_mark_notice_issued(db *conn, int64_t pk, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL,
                   "UPDATE users SET notice_status = 'issued', updated_at = $2 "
                   "WHERE id = $1 AND notice_status = 'unissued'",
                   "ii", pk, now);
}

nsdb_err store_user_reset_password(db *conn, int64_t pk, const unsigned char *sealed,
                                   size_t sealed_len, int64_t by, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    if (by == 0) /* the command line */
        return db_exec(
            conn, NULL,
            "UPDATE users SET initial_password_sealed = $2, password_hash = NULL, "
            "notice_status = 'unissued', must_change_password = 1, failed_logins = 0, "
            "locked_until = 0, updated_at = $3, initial_password_by = NULL WHERE id = $1",
            "ibi", pk, sealed, sealed_len, now);
    return db_exec(conn, NULL,
                   "UPDATE users SET initial_password_sealed = $2, password_hash = NULL, "
                   "notice_status = 'unissued', must_change_password = 1, failed_logins = 0, "
                   "locked_until = 0, updated_at = $3, initial_password_by = $4 WHERE id = $1",
                   "ibii", pk, sealed, sealed_len, now, by);
}

nsdb_err store_user_find_in_municipality(db *conn, arena *a, int64_t municipality_pk,
                                         const char *user_id, store_user **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.user_id = UPPER($1) AND u.municipality_id = $2 AND " USER_SHOWN,
                          "ti", user_id, municipality_pk);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_find_muni_admin_by_email(db *conn, arena *a, int64_t municipality_pk,
                                             const char *email, store_user **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.municipality_id = $1 AND u.role = 'muni_admin' "
                          "AND LOWER(u.email) = LOWER($2) AND " USER_SHOWN " ORDER BY u.id LIMIT 1",
                          "it", municipality_pk, email);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_find_same_municipal_user(db *conn, arena *a, int64_t municipality_pk,
                                             const char *name, const char *email, store_user **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.municipality_id = $1 AND u.role IN ('muni_admin', 'muni_staff') "
                          "AND u.name = $2 AND LOWER(u.email) = LOWER($3) AND " USER_SHOWN
                          " ORDER BY u.id LIMIT 1",
                          "itt", municipality_pk, name, email);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_muni_admins(db *conn, arena *a, const char *municipality_code,
                                store_user **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.role = 'muni_admin' AND u.municipality_id = "
                          "(SELECT id FROM municipalities WHERE code = $1) AND " USER_SHOWN
                          " ORDER BY u.id",
                          "t", municipality_code);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, user_read_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_user_find_duplicate(db *conn, arena *a, int64_t institution_pk,
                                   const char *search_key, const char *category, user_role role,
                                   const char *doctor_number, store_user **out)
{
    /* one statement per registered row, as before the 両方 rule: the same doctor by number is
       found by the same query */
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.institution_id = $1 AND u.name_search = $2 AND u.role = $4 "
                          "AND (u.category = $3 OR u.doctor_number = $5) AND " USER_NOT_DISCARDED
                          " ORDER BY u.id LIMIT 1",
                          "ittt"
                          "t",
                          institution_pk, search_key, category, user_role_key(role), doctor_number);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_user_is_shown(db *conn, int64_t pk, bool *shown)
{
    *shown = false;
    db_stmt *st = NULL;
    int64_t count = 0;
    nsdb_err e = db_query(conn, &st, "SELECT COUNT(*) FROM users u WHERE u.id = $1 AND " USER_SHOWN,
                          "i", pk);
    if (e == NSDB_OK)
        e = store_row_int(st, &count);
    *shown = e == NSDB_OK && count > 0;
    return e;
}

nsdb_err store_user_category_locked(db *conn, arena *a, int64_t pk, const char **category_out)
{
    STORE_ASSERT_WRITE(conn);
    *category_out = NULL;
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          db_get_dialect(conn) == DB_POSTGRESQL
                              ? "SELECT category FROM users WHERE id = $1 FOR UPDATE"
                              : "SELECT category FROM users WHERE id = $1",
                          "i", pk);
    if (e != NSDB_OK)
        return e;
    int rc = db_step(st);
    if (rc == DB_ROW)
        *category_out = store_column_strdup(a, st, 0);
    db_finalize(st);
    return rc == DB_ROW ? NSDB_OK : rc == DB_DONE ? NSDB_ERR_NOT_FOUND : NSDB_ERR_DB;
}

nsdb_err store_user_set_category(db *conn, int64_t pk, const char *category, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE users SET category = $2, updated_at = $3 WHERE id = $1",
                   "iti", pk, category, now);
}

nsdb_err store_user_update_record(db *conn, int64_t pk, const store_user_record *r, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    assert(r->institution_pk != 0);
    return db_exec(conn, NULL,
                   "UPDATE users SET role = $2, institution_id = $3, doctor_number = $4, "
                   "specialty = $5, updated_at = $6 WHERE id = $1",
                   "ititti", pk, user_role_key(r->role), r->institution_pk, r->doctor_number,
                   r->specialty, now);
}

nsdb_err store_user_set_role(db *conn, int64_t pk, user_role role, int64_t now)
{
    STORE_ASSERT_WRITE(conn);
    return db_exec(conn, NULL, "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1", "iti",
                   pk, user_role_key(role), now);
}

nsdb_err store_user_count_active_admins(db *conn, int64_t municipality_pk, int64_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT COUNT(*) FROM users u WHERE u.municipality_id = $1 "
                          "AND u.role = 'muni_admin' AND u.status = 'active' AND " USER_SHOWN,
                          "i", municipality_pk);
    return e != NSDB_OK ? e : store_row_int(st, count_out);
}

nsdb_err store_user_find_in_institution(db *conn, arena *a, int64_t municipality_pk,
                                        int64_t institution_pk, const char *user_id,
                                        store_user **out)
{
    assert(municipality_pk != 0 && institution_pk != 0);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_COLUMNS
                          "WHERE u.user_id = UPPER($1) AND u.institution_id = $2 "
                          "AND u.municipality_id = $3 AND " USER_SHOWN,
                          "tii", user_id, institution_pk, municipality_pk);
    return e != NSDB_OK ? e : user_fetch_one(st, a, out);
}

nsdb_err store_registration_batch_users(db *conn, arena *a, int64_t municipality_pk,
                                        int64_t batch_id, int64_t limit, store_user **rows_out,
                                        size_t *count_out, int64_t *total_out)
{
    db_stmt *st = NULL;
    /* the batch's first registrations first, then only their users: joined first, PostgreSQL's
       statistics, stale just after an import, joined all 100,000 users to keep 1,000 (0.6 s).
       A batch is one municipality's, and shown or hidden as a whole (its registrations copy
       their users' municipality and batch), so the conditions on the users drop none of them */
    nsdb_err e = db_query(conn, &st,
                          "SELECT " USER_SELECT "FROM (SELECT r.id AS rid, r.user_pk "
                          "FROM registrations r WHERE r.batch_id = $1 AND r.municipality_id = $2 "
                          "ORDER BY r.id LIMIT $3) p JOIN users u ON u.id = p.user_pk " USER_JOINS
                          "WHERE u.municipality_id = $2 AND " USER_SHOWN " ORDER BY p.rid",
                          "iii", batch_id, municipality_pk, limit > 0 ? limit : INT64_MAX);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, user_read_row, &rows, count_out);
    *rows_out = rows;
    if (e != NSDB_OK || total_out == NULL)
        return e;
    *total_out = (int64_t)*count_out;
    if (limit <= 0 || (int64_t)*count_out < limit)
        return NSDB_OK;
    e = db_query(conn, &st,
                 "SELECT COUNT(*) FROM registrations r "
                 "WHERE r.batch_id = $1 AND r.municipality_id = $2 AND " REGISTRATION_SHOWN,
                 "ii", batch_id, municipality_pk);
    return e != NSDB_OK ? e : store_row_int(st, total_out);
}
