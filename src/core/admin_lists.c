/*
 * admin_lists.c — see admin_lists.h. The original file is kept with its SHA-256, so that the
 * Ministry can download what it uploaded and an identical re-upload is recognised.
 */
#include "core/admin_lists.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/encoding.h"
#include "domain/xlsx.h"
#include "store/admin_lists.h"
#include "store/users.h"
#include "util/str.h"

#define REJECT_REASON_MAX_CHARS 1000

static store_admin_list_row row_for_store(const admin_list_row *r)
{
    store_admin_list_row s = {.row_number = r->row_number,
                              .municipality_code = r->municipality_code,
                              .municipality_name = r->municipality_name,
                              .category = r->category,
                              .department = r->department,
                              .title = r->title,
                              .name = r->name,
                              .name_kana = r->name_kana,
                              .email = r->email,
                              .phone = r->phone,
                              .extension = r->extension,
                              .request_type = r->request_type,
                              .note = r->note,
                              .postal = r->postal,
                              .address = r->address};
    return s;
}

nsdb_err core_admin_list_target(db *conn, arena *a, const char *municipality_code,
                                const char *category, const char *email, const char *name_kana,
                                admin_list_match *match_out, store_user **user_out)
{
    store_user *admins = NULL;
    size_t n = 0;
    *user_out = NULL;
    nsdb_err e = store_user_muni_admins(conn, a, municipality_code, &admins, &n);
    if (e != NSDB_OK)
        return e;
    admin_list_candidate *cands = arena_calloc(a, n + 1, sizeof *cands);
    for (size_t i = 0; i < n; i++)
        cands[i] = (admin_list_candidate){admins[i].email, admins[i].name_kana, admins[i].category};
    size_t at = 0;
    *match_out = admin_list_match_target(category, email, name_kana, cands, n, &at);
    if (*match_out == ADMIN_LIST_MATCH_ONE)
        *user_out = &admins[at];
    return NSDB_OK;
}

/* Every 変更 and 削除 row must mean exactly one existing admin: found now, at upload, as a row
   error, rather than at 払出し. */
static NSDB_MUST_CHECK nsdb_err check_targets(core_ctx *c, admin_list *l)
{
    for (size_t i = 0; i < l->row_count; i++) {
        const admin_list_row *r = &l->rows[i];
        if (strcmp(r->request_type, "new") == 0)
            continue;
        admin_list_match m;
        store_user *u = NULL;
        nsdb_err e = core_admin_list_target(c->conn, c->arena, r->municipality_code, r->category,
                                            r->email, r->name_kana, &m, &u);
        if (e != NSDB_OK)
            return e;
        if (m != ADMIN_LIST_MATCH_ONE)
            admin_list_add_error(l, c->arena, r->row_number, 'I',
                                 admin_list_match_reason(c->arena, r->request_type, r->category,
                                                         r->email, r->name_kana, m));
    }
    return NSDB_OK;
}

/* A refused upload: audited, and the reason for the user. */
static NSDB_MUST_CHECK nsdb_err upload_refused(core_ctx *c, const char *message, nsdb_problem *pb)
{
    nsdb_err e = core_audit_event(c, "admin_list_upload", NULL, "failed", message);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    return problem_set(pb, NSDB_ERR_INVALID, "file", message);
}

static NSDB_MUST_CHECK nsdb_err rows_refused(core_ctx *c, admin_list_upload_result *out,
                                             nsdb_problem *pb)
{
    return upload_refused(c,
                          arena_printf(c->arena,
                                       "申請リストに誤りが %zu 件あります。下の一覧の行と列を直して、"
                                       "もう一度アップロードしてください。何も登録していません。",
                                       out->parsed.error_count),
                          pb);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, 65, digest, sizeof digest);
}

static NSDB_MUST_CHECK nsdb_err upload_store(core_ctx *c, const char *filename, const void *data,
                                             size_t len, const admin_list *list, const char *sha,
                                             int64_t *id_out)
{
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_admin_list_insert(c->conn, filename, sha, data, len, (int64_t)list->row_count,
                                    c->who.user_pk, c->who.now, id_out);
    for (size_t i = 0; e == NSDB_OK && i < list->row_count; i++) {
        store_admin_list_row r = row_for_store(&list->rows[i]);
        e = store_admin_list_row_insert(c->conn, *id_out, &r);
    }
    if (e == NSDB_OK)
        e = core_audit(c, "admin_list_upload", core_target_id(c, "admin_list", *id_out), "ok",
                       filename);
    return core_end(c, e);
}

nsdb_err core_admin_list_upload(core_ctx *c, const char *filename, const void *data, size_t len,
                                admin_list_upload_result *out, nsdb_problem *pb)
{
    memset(out, 0, sizeof *out);
    if (filename == NULL || len == 0)
        return upload_refused(c, "申請リストのファイル（.xlsx）を選択してください。", pb);
    /* a CP932 or broken name would drop the list from the screens and its audit text */
    filename = encoding_file_name(c->arena, filename);
    xlsx_table *table = NULL;
    char *error = NULL;
    upload_budget budget = upload_budget_for_request(); /* the request carries this one file */
    if (xlsx_read_limited(data, len, &budget, &table, &error) != NSDB_OK) {
        char *msg =
            arena_strdup(c->arena, error ? error : "Excel ファイル（.xlsx）として読めません。");
        free(error);
        return upload_refused(c, msg, pb);
    }
    nsdb_err e = admin_list_parse(table, c->arena, &out->parsed);
    xlsx_table_free(table);
    if (e != NSDB_OK || out->parsed.error_count > 0)
        return rows_refused(c, out, pb);
    char sha[65];
    sha256_hex(data, len, sha);
    if (store_admin_list_find_by_sha256(c->conn, sha, &out->id) == NSDB_OK) {
        out->duplicate = true;
        return NSDB_OK;
    }
    /* the file is new: its 変更 and 削除 rows must each mean one existing admin */
    e = check_targets(c, &out->parsed);
    if (e != NSDB_OK)
        return problem_set(pb, e, "file", nsdb_err_message(e));
    if (out->parsed.error_count > 0)
        return rows_refused(c, out, pb);
    e = upload_store(c, filename, data, len, &out->parsed, sha, &out->id);
    if (e != NSDB_OK) {
        /* nothing was stored (the transaction rolled back); the attempt is on record and the
           answer keeps the storage failure's code (503), not a refusal of the file */
        nsdb_err logged = core_audit_event(c, "admin_list_upload", NULL, "failed", nsdb_err_name(e));
        (void)logged; /* a failure is logged by core_audit_event */
        return problem_set(pb, e, "file", nsdb_err_message(e));
    }
    return NSDB_OK;
}

nsdb_err core_admin_list_decide(core_ctx *c, int64_t id, bool approve, const char *reason,
                                nsdb_problem *pb)
{
    char *trimmed = reason ? str_trim(arena_strdup(c->arena, reason)) : NULL;
    if (!approve && (trimmed == NULL || *trimmed == '\0'))
        return problem_set(pb, NSDB_ERR_INVALID, "reason", "差戻しの理由を入力してください。");
    if (!approve && str_utf8_length(trimmed) > REJECT_REASON_MAX_CHARS)
        return problem_set(pb, NSDB_ERR_INVALID, "reason",
                           "差戻しの理由は1000文字以内で入力してください。");
    bool changed = false;
    nsdb_err e = core_begin(c);
    if (e == NSDB_OK)
        e = store_admin_list_transition(c->conn, id, ADMIN_LIST_STATUS_SUBMITTED,
                                        approve ? ADMIN_LIST_ACTION_APPROVE
                                                : ADMIN_LIST_ACTION_REJECT,
                                        c->who.user_pk, c->who.now, approve ? NULL : trimmed,
                                        &changed);
    if (e == NSDB_OK && !changed && !approve) /* an approved list not yet issued goes back too */
        e = store_admin_list_transition(c->conn, id, ADMIN_LIST_STATUS_APPROVED,
                                        ADMIN_LIST_ACTION_REJECT, c->who.user_pk, c->who.now,
                                        trimmed, &changed);
    if (e == NSDB_OK && changed)
        e = core_audit(c, approve ? "admin_list_approve" : "admin_list_reject",
                       core_target_id(c, "admin_list", id), "ok", approve ? NULL : trimmed);
    e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (!changed)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "この申請リストは既に承認または差戻しされています。");
    return NSDB_OK;
}
