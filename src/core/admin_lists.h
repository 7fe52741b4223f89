/*
 * admin_lists.h — 管理者権限のユーザID申請リスト (Flow I ①–⑥) as operations: upload (every row
 * validated; nothing stored when one is wrong; the same file twice is recognised), 承認 and
 * 差戻し (with a reason). 払出し is core_admin_list_issue in issuance.h. Each validates, owns its
 * transaction and writes its audit record (see actor.h).
 */
#ifndef NSDB_CORE_ADMIN_LISTS_H
#define NSDB_CORE_ADMIN_LISTS_H

#include <stdbool.h>

#include "core/actor.h"
#include "domain/admin_list.h"
#include "store/users.h"

typedef struct admin_list_upload_result {
    int64_t id;        /* the stored list (or the earlier upload of the same file) */
    bool duplicate;    /* the same file (SHA-256) was uploaded before: nothing new stored */
    admin_list parsed; /* with its row errors when the file was refused (NSDB_ERR_INVALID) */
} admin_list_upload_result;

/* filename/data: the uploaded file. NSDB_ERR_INVALID with pb->message (and, for row errors,
   out->parsed.errors) when the file is missing, unreadable or has errors; a refusal is audited
   as a failed upload. */
NSDB_MUST_CHECK nsdb_err core_admin_list_upload(core_ctx *c, const char *filename,
                                                const void *data, size_t len,
                                                admin_list_upload_result *out, nsdb_problem *pb);
/* 承認 (approve) or 差戻し (reason: required, at most 1000 characters) of a submitted list; an
   approved list not yet issued can still be sent back (差戻し), e.g. when its 払出し cannot
   complete. NSDB_ERR_CONFLICT when the list was already decided (or issued). */
NSDB_MUST_CHECK nsdb_err core_admin_list_decide(core_ctx *c, int64_t id, bool approve,
                                                const char *reason, nsdb_problem *pb);

/* The existing muni_admin a 変更 or 削除 row means (admin_list_match_target over the admins of
   the municipality with that code): *match_out says ONE (then *user_out is set), NONE or MANY. */
NSDB_MUST_CHECK nsdb_err core_admin_list_target(db *conn, arena *a, const char *municipality_code,
                                                const char *category, const char *email,
                                                const char *name_kana, admin_list_match *match_out,
                                                store_user **user_out);

#endif
