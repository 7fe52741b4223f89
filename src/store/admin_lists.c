/*
 * admin_lists.c — 管理者権限のユーザID申請リスト: the uploaded file with its SHA-256, its rows,
 * and its status (submitted 申請中 → approved 承認済 → issued 払出し済, or rejected 差戻し).
 * Transitions are conditional updates, so two people pressing the same button change it once.
 */
#define NSDB_STORE_INTERNAL
#include <string.h>

#include "store/admin_lists.h"
#include "store/rows.h"
#include "store/sql.h"
#include "store/state_columns.h"

#define LIST_COLUMNS                                                                               \
    "l.id, l.status, l.filename, l.file_sha256, l.row_count, l.uploaded_at, u.user_id, "          \
    "COALESCE(l.decided_at, 0), l.reject_reason, COALESCE(l.issued_at, 0) "                        \
    "FROM admin_lists l LEFT JOIN users u ON u.id = l.uploaded_by "

static void list_from_row(arena *a, db_stmt *st, void *row)
{
    store_admin_list *l = row;
    l->id = db_column_int(st, 0);
    l->status = store_column_admin_list_status(st, 1);
    l->filename = arena_strdup(a, db_column_text(st, 2));
    l->file_sha256 = arena_strdup(a, db_column_text(st, 3));
    l->row_count = db_column_int(st, 4);
    l->uploaded_at = db_column_int(st, 5);
    l->uploaded_by_user_id = arena_strdup(a, db_column_text(st, 6));
    l->decided_at = db_column_int(st, 7);
    l->reject_reason = arena_strdup(a, db_column_text(st, 8));
    l->issued_at = db_column_int(st, 9);
}

nsdb_err store_admin_list_insert(db *conn, const char *filename, const char *sha256,
                                 const void *data, size_t len, int64_t row_count,
                                 int64_t uploaded_by, int64_t now, int64_t *id_out)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "INSERT INTO admin_lists (status, filename, file_sha256, file_data, "
                          "row_count, uploaded_by, uploaded_at) "
                          "VALUES ('submitted', $1, $2, $3, $4, $5, $6) RETURNING id",
                          "ttbiii", filename, sha256, data, len, row_count, uploaded_by, now);
    return e != NSDB_OK ? e : store_row_int(st, id_out);
}

nsdb_err store_admin_list_row_insert(db *conn, int64_t list_id, const store_admin_list_row *r)
{
    STORE_ASSERT_WRITE(conn);
    db_stmt *st = NULL;
    nsdb_err e = db_prepare(
        conn,
        "INSERT INTO admin_list_rows (list_id, row_number, municipality_code, municipality_name, "
        "category, department, title, name, name_kana, email, phone, extension, request_type, "
        "note, postal, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16)",
        &st);
    if (e != NSDB_OK)
        return e;
    db_bind_int(st, 1, list_id);
    db_bind_int(st, 2, r->row_number);
    const char *texts[] = {r->municipality_code, r->municipality_name, r->category, r->department,
                           r->title, r->name, r->name_kana, r->email, r->phone, r->extension,
                           r->request_type, r->note, r->postal, r->address};
    for (int i = 0; i < (int)(sizeof texts / sizeof texts[0]); i++)
        db_bind_text(st, i + 3, texts[i]);
    e = db_step(st) == DB_DONE ? NSDB_OK : NSDB_ERR_DB;
    db_finalize(st);
    return e;
}

nsdb_err store_admin_list_find_by_sha256(db *conn, const char *sha256, int64_t *id_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT id FROM admin_lists WHERE file_sha256 = $1", "t",
                          sha256);
    return e != NSDB_OK ? e : store_row_int(st, id_out);
}

nsdb_err store_admin_list_get(db *conn, arena *a, int64_t id, store_admin_list **out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT " LIST_COLUMNS "WHERE l.id = $1", "i", id);
    if (e != NSDB_OK)
        return e;
    store_admin_list *l = arena_calloc(a, 1, sizeof *l);
    e = store_row_read(st, a, l, list_from_row);
    if (e == NSDB_OK)
        *out = l;
    return e;
}

nsdb_err store_admin_list_all(db *conn, arena *a, admin_list_status status,
                              store_admin_list **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st,
                          "SELECT " LIST_COLUMNS
                          "WHERE (CAST($1 AS TEXT) IS NULL OR l.status = $1) ORDER BY l.id DESC LIMIT 500",
                          "t", admin_list_status_key(status));
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, list_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

static void list_row_from_row(arena *a, db_stmt *st, void *row)
{
    store_admin_list_row *r = row;
    r->id = db_column_int(st, 0);
    r->row_number = db_column_int(st, 1);
    const char **fields[] = {&r->municipality_code, &r->municipality_name, &r->category,
                             &r->department, &r->title, &r->name, &r->name_kana, &r->email,
                             &r->phone, &r->extension, &r->request_type, &r->note, &r->postal,
                             &r->address, &r->outcome, &r->issued_user_id};
    for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
        *fields[i] = store_column_strdup(a, st, i + 2);
}

nsdb_err store_admin_list_rows(db *conn, arena *a, int64_t list_id,
                               store_admin_list_row **rows_out, size_t *count_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(
        conn, &st,
        "SELECT r.id, r.row_number, r.municipality_code, r.municipality_name, r.category, "
        "r.department, r.title, r.name, r.name_kana, r.email, r.phone, r.extension, "
        "r.request_type, r.note, r.postal, r.address, r.outcome, u.user_id "
        "FROM admin_list_rows r LEFT JOIN users u ON u.id = r.user_pk "
        "WHERE r.list_id = $1 ORDER BY r.row_number",
        "i", list_id);
    if (e != NSDB_OK)
        return e;
    void *rows = NULL;
    e = store_rows_read(st, a, sizeof **rows_out, list_row_from_row, &rows, count_out);
    *rows_out = rows;
    return e;
}

nsdb_err store_admin_list_transition(db *conn, int64_t id, admin_list_status from,
                                     admin_list_action action, int64_t by, int64_t now,
                                     const char *reason, bool *changed_out)
{
    STORE_ASSERT_WRITE(conn);
    int64_t changes = 0;
    nsdb_err e;
    admin_list_status to;
    *changed_out = false;
    if (!admin_list_status_can(from, action, &to))
        return NSDB_OK;
    /* `status = $2` stays: of two people pressing the same button, one changes the list */
    if (to == ADMIN_LIST_STATUS_ISSUED)
        e = db_exec(conn, &changes,
                    "UPDATE admin_lists SET status = $3, issued_by = $4, issued_at = $5 "
                    "WHERE id = $1 AND status = $2",
                    "ittii", id, admin_list_status_key(from), admin_list_status_key(to), by, now);
    else
        e = db_exec(conn, &changes,
                    "UPDATE admin_lists SET status = $3, decided_by = $4, decided_at = $5, "
                    "reject_reason = $6 WHERE id = $1 AND status = $2",
                    "ittiit", id, admin_list_status_key(from), admin_list_status_key(to), by,
                    now, reason);
    *changed_out = changes == 1;
    return e;
}

struct list_file {
    const char *filename;
    const unsigned char *data;
    size_t len;
};

static void list_file_from_row(arena *a, db_stmt *st, void *row)
{
    struct list_file *f = row;
    f->filename = store_column_strdup(a, st, 0);
    f->data = store_column_blob_copy(a, st, 1, &f->len);
}

nsdb_err store_admin_list_file(db *conn, arena *a, int64_t id, const char **filename_out,
                               const void **data_out, size_t *len_out)
{
    db_stmt *st = NULL;
    nsdb_err e = db_query(conn, &st, "SELECT filename, file_data FROM admin_lists WHERE id = $1",
                          "i", id);
    if (e != NSDB_OK)
        return e;
    struct list_file file = {0};
    e = store_row_read(st, a, &file, list_file_from_row);
    if (e == NSDB_OK) {
        *filename_out = file.filename;
        *data_out = file.data;
        *len_out = file.len;
    }
    return e;
}

nsdb_err store_admin_list_row_set_outcome(db *conn, int64_t row_id, int64_t user_pk,
                                          const char *outcome)
{
    STORE_ASSERT_WRITE(conn);
    if (user_pk == 0) /* the row matched no account */
        return db_exec(conn, NULL, "UPDATE admin_list_rows SET user_pk = NULL, outcome = $2 WHERE id = $1",
                       "it", row_id, outcome);
    return db_exec(conn, NULL, "UPDATE admin_list_rows SET user_pk = $2, outcome = $3 WHERE id = $1",
                   "iit", row_id, user_pk, outcome);
}
