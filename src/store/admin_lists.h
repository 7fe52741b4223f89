/*
 * admin_lists.h — admin application lists (管理者権限のユーザID申請リスト): the
 * uploaded file, its rows, its status and each row's outcome. Writes run inside the caller's
 * transaction.
 */
#ifndef NSDB_STORE_ADMIN_LISTS_H
#define NSDB_STORE_ADMIN_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "store/db.h"
#include "util/arena.h"

typedef struct store_admin_list {
    int64_t id;
    admin_list_status status;
    const char *filename;
    const char *file_sha256;
    int64_t row_count;
    int64_t uploaded_at;
    const char *uploaded_by_user_id;
    int64_t decided_at;
    const char *reject_reason;
    int64_t issued_at;
} store_admin_list;

typedef struct store_admin_list_row {
    int64_t id;
    int64_t row_number;
    const char *municipality_code;
    const char *municipality_name;
    const char *category;
    const char *department;
    const char *title;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *phone;
    const char *extension;
    const char *request_type; /* new, change, delete */
    const char *note;
    const char *postal;
    const char *address;
    const char *outcome;
    const char *issued_user_id;
} store_admin_list_row;

NSDB_MUST_CHECK nsdb_err store_admin_list_insert(db *conn, const char *filename, const char *sha256,
                                                 const void *data, size_t len, int64_t row_count,
                                                 int64_t uploaded_by, int64_t now, int64_t *id_out);
NSDB_MUST_CHECK nsdb_err store_admin_list_row_insert(db *conn, int64_t list_id,
                                                     const store_admin_list_row *r);
NSDB_MUST_CHECK nsdb_err store_admin_list_find_by_sha256(db *conn, const char *sha256,
                                                         int64_t *id_out);
NSDB_MUST_CHECK nsdb_err store_admin_list_get(db *conn, arena *a, int64_t id,
                                              store_admin_list **out);
/* Newest first. status 0: all. */
NSDB_MUST_CHECK nsdb_err store_admin_list_all(db *conn, arena *a, admin_list_status status,
                                              store_admin_list **rows_out, size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_admin_list_rows(db *conn, arena *a, int64_t list_id,
                                               store_admin_list_row **rows_out, size_t *count_out);
/* Takes action on a list in `from` (admin_list_status_can gives the new status); *changed_out
   false when the move is not allowed from `from` or the list is no longer in it. */
NSDB_MUST_CHECK nsdb_err store_admin_list_transition(db *conn, int64_t id, admin_list_status from,
                                                     admin_list_action action, int64_t by,
                                                     int64_t now, const char *reason,
                                                     bool *changed_out);
/* The original file, malloc'd. */
NSDB_MUST_CHECK nsdb_err store_admin_list_file(db *conn, arena *a, int64_t id,
                                               const char **filename_out, const void **data_out,
                                               size_t *len_out);
NSDB_MUST_CHECK nsdb_err store_admin_list_row_set_outcome(db *conn, int64_t row_id, int64_t user_pk,
                                                          const char *outcome);

#endif
