/*
 * admin_lists.c — 管理者権限のユーザID申請リスト (Flow I ①–⑥): the Ministry uploads the xlsx,
 * every row is validated (nothing is stored when one is wrong), approves or rejects with a
 * reason; the operator runs 払出し. Both roles read every list; nothing else may.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/issuance.h"
#include "core/mailer.h"
#include "domain/admin_list.h"
#include "domain/xlsx.h"
#include "store/admin_lists.h"
#include "util/log.h"
#include "web/web.h"

static const char *status_label(const char *status)
{
    static const struct {
        const char *key, *label;
    } LABELS[] = {{"submitted", "申請中"},
                  {"approved", "承認済（払出し待ち）"},
                  {"issued", "払出し済"},
                  {"rejected", "差戻し"}};
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
        if (strcmp(LABELS[i].key, status) == 0)
            return LABELS[i].label;
    return status;
}

static const char *request_type_label(const char *t)
{
    return strcmp(t, "new") == 0 ? "新規" : strcmp(t, "change") == 0 ? "変更" : "削除";
}

static json_t *list_json(web_ctx *ctx, const store_admin_list *l)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?}", "id", (json_int_t)l->id,
                     "status", l->status, "status_label", status_label(l->status), "filename",
                     l->filename, "sha256", l->file_sha256, "row_count", (json_int_t)l->row_count,
                     "uploaded_at", page_format_time(ctx, l->uploaded_at), "uploaded_by",
                     l->uploaded_by_user_id, "reject_reason", l->reject_reason);
}

static void lists_render(web_ctx *ctx, json_t *data, int status)
{
    store_admin_list *lists = NULL;
    size_t n = 0;
    nsdb_err e = store_admin_list_all(web_db(ctx), ctx->req->arena, NULL, &lists, &n);
    if (e != NSDB_OK) {
        json_decref(data);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, list_json(ctx, &lists[i]));
    json_object_set_new(data, "lists", rows);
    json_object_set_new(data, "can_upload", json_boolean(strcmp(ctx->user->role, "mhlw") == 0));
    ctx->req->status = status;
    page_render(ctx, "admin_lists", data);
}

void web_admin_lists(web_ctx *ctx)
{
    lists_render(ctx, page_data(ctx, "管理者権限のユーザID申請リスト"), 200);
}

void web_admin_list_template(web_ctx *ctx)
{
    page_send_generated(ctx, admin_list_template_xlsx,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "管理者権限のユーザID申請リスト（フォーマット）.xlsx");
}

static void upload_refuse(web_ctx *ctx, json_t *data, const char *message)
{
    page_add_error(data, "file", "申請リストのファイル", message);
    web_audit_now(ctx, "admin_list_upload", NULL, "failed", message);
    lists_render(ctx, data, 400);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, 65, digest, sizeof digest);
}

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

static nsdb_err upload_store(web_ctx *ctx, const http_param *file, const admin_list *list,
                             const char *sha, int64_t *id_out)
{
    db *conn = web_db(ctx);
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_admin_list_insert(conn, file->filename, sha, file->value, file->value_len,
                                    (int64_t)list->row_count, ctx->user->pk, ctx->now, id_out);
    for (size_t i = 0; e == NSDB_OK && i < list->row_count; i++) {
        store_admin_list_row r = row_for_store(&list->rows[i]);
        e = store_admin_list_row_insert(conn, *id_out, &r);
    }
    if (e == NSDB_OK)
        e = web_audit(ctx, "admin_list_upload", arena_printf(ctx->req->arena, "admin_list:%lld",
                                                             (long long)*id_out),
                      "ok", file->filename);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK)
        db_rollback(conn);
    return e;
}

static json_t *errors_json(const admin_list *list)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < list->error_count; i++) {
        const admin_list_error *er = &list->errors[i];
        char column[2] = {er->column, '\0'};
        json_array_append_new(rows, json_pack("{s:I, s:s, s:s, s:s}", "row",
                                              (json_int_t)er->row_number, "column",
                                              er->column ? column : "－", "column_name",
                                              er->column_name ? er->column_name : "ファイル全体",
                                              "message", er->reason ? er->reason : er->message));
    }
    return rows;
}

void web_admin_list_upload(web_ctx *ctx)
{
    json_t *data = page_data(ctx, "管理者権限のユーザID申請リスト");
    const http_param *file = http_form_param(ctx->req, "file");
    if (file == NULL || file->filename == NULL || file->value_len == 0) {
        upload_refuse(ctx, data, "申請リストのファイル（.xlsx）を選択してください。");
        return;
    }
    xlsx_table *table = NULL;
    char *error = NULL;
    if (xlsx_read(file->value, file->value_len, &table, &error) != NSDB_OK) {
        char *msg = arena_strdup(ctx->req->arena,
                                 error ? error : "Excel ファイル（.xlsx）として読めません。");
        free(error);
        upload_refuse(ctx, data, msg);
        return;
    }
    admin_list list;
    nsdb_err e = admin_list_parse(table, ctx->req->arena, &list);
    xlsx_table_free(table);
    if (e != NSDB_OK || list.error_count > 0) {
        json_object_set_new(data, "row_errors", errors_json(&list));
        upload_refuse(ctx, data,
                      arena_printf(ctx->req->arena,
                                   "申請リストに誤りが %zu 件あります。下の一覧の行と列を直して、"
                                   "もう一度アップロードしてください。何も登録していません。",
                                   list.error_count));
        return;
    }
    char sha[65];
    sha256_hex(file->value, file->value_len, sha);
    int64_t id = 0;
    if (store_admin_list_find_by_sha256(web_db(ctx), sha, &id) == NSDB_OK) {
        json_decref(data);
        http_redirect(ctx->req, 303,
                      arena_printf(ctx->req->arena, "/admin-lists/%lld?notice=duplicate",
                                   (long long)id));
        return;
    }
    e = upload_store(ctx, file, &list, sha, &id);
    if (e != NSDB_OK) {
        upload_refuse(ctx, data, nsdb_err_message(e));
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "/admin-lists/%lld", (long long)id));
}

/* The list named by the path, or a 404 page. */
static store_admin_list *list_from_path(web_ctx *ctx)
{
    char *end = NULL;
    long long id = strtoll(ctx->req->path_params[0], &end, 10);
    store_admin_list *l = NULL;
    if (*end != '\0' || id <= 0 ||
        store_admin_list_get(web_db(ctx), ctx->req->arena, id, &l) != NSDB_OK) {
        page_error(ctx, 404, "指定された申請リストは見つかりません。");
        return NULL;
    }
    return l;
}

static json_t *rows_json(web_ctx *ctx, int64_t list_id)
{
    store_admin_list_row *rows = NULL;
    size_t n = 0;
    json_t *out = json_array();
    if (store_admin_list_rows(web_db(ctx), ctx->req->arena, list_id, &rows, &n) != NSDB_OK)
        return out;
    for (size_t i = 0; i < n; i++) {
        const store_admin_list_row *r = &rows[i];
        json_array_append_new(
            out, json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:s, s:s, s:s, "
                           "s:s?, s:s?}",
                           "row", (json_int_t)r->row_number, "code", r->municipality_code,
                           "municipality", r->municipality_name, "category",
                           category_label(r->category), "department", r->department, "title",
                           r->title, "name", r->name, "kana", r->name_kana, "email", r->email,
                           "request", request_type_label(r->request_type), "postal", r->postal,
                           "address", r->address, "outcome", r->outcome, "user_id",
                           r->issued_user_id));
    }
    return out;
}

static void detail_render(web_ctx *ctx, store_admin_list *l, json_t *data, int status)
{
    json_object_set_new(data, "list", list_json(ctx, l));
    json_object_set_new(data, "rows", rows_json(ctx, l->id));
    bool mhlw = strcmp(ctx->user->role, "mhlw") == 0;
    json_object_set_new(data, "can_decide", json_boolean(mhlw && strcmp(l->status, "submitted") == 0));
    json_object_set_new(data, "can_issue",
                        json_boolean(!mhlw && strcmp(l->status, "approved") == 0));
    static const struct {
        const char *key, *text;
    } NOTICES[] = {{"duplicate", "同じファイルは既にアップロードされています。登録済みの申請リストを表示しています。"},
                   {"approved", "承認しました。運用事業者に払出しを依頼しました。"},
                   {"rejected", "差戻しました。"},
                   {"issued", "払出しを行いました。自治体管理者へユーザIDと初期パスワードをメールで送ります。"},
                   {"already", "この申請リストは既に払出し済みです。変更はありません。"}};
    const char *notice = http_query(ctx->req, "notice");
    for (size_t i = 0; notice != NULL && i < sizeof NOTICES / sizeof NOTICES[0]; i++)
        if (strcmp(notice, NOTICES[i].key) == 0)
            json_object_set_new(data, "notice", json_string(NOTICES[i].text));
    ctx->req->status = status;
    page_render(ctx, "admin_list", data);
}

void web_admin_list_show(web_ctx *ctx)
{
    store_admin_list *l = list_from_path(ctx);
    if (l != NULL)
        detail_render(ctx, l, page_data(ctx, "申請リストの詳細"), 200);
}

void web_admin_list_file(web_ctx *ctx)
{
    store_admin_list *l = list_from_path(ctx);
    if (l == NULL)
        return;
    const char *name = NULL;
    const void *bytes = NULL;
    size_t len = 0;
    if (store_admin_list_file(web_db(ctx), ctx->req->arena, l->id, &name, &bytes, &len) != NSDB_OK) {
        page_error(ctx, 404, "ファイルが見つかりません。");
        return;
    }
    web_audit_now(ctx, "admin_list_download", arena_printf(ctx->req->arena, "admin_list:%lld",
                                                           (long long)l->id), "ok", name);
    http_send_file(ctx->req, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   name, bytes, len);
}

static void decide(web_ctx *ctx, bool approve)
{
    store_admin_list *l = list_from_path(ctx);
    if (l == NULL)
        return;
    const char *reason = http_form(ctx->req, "reason");
    char *trimmed = reason ? str_trim(arena_strdup(ctx->req->arena, reason)) : NULL;
    if (!approve && (trimmed == NULL || *trimmed == '\0' || str_utf8_length(trimmed) > 1000)) {
        json_t *data = page_data(ctx, "申請リストの詳細");
        page_add_error(data, "reason", "差戻しの理由",
                       trimmed && *trimmed ? "差戻しの理由は1000文字以内で入力してください。"
                                           : "差戻しの理由を入力してください。");
        detail_render(ctx, l, data, 400);
        return;
    }
    db *conn = web_db(ctx);
    bool changed = false;
    const char *target = arena_printf(ctx->req->arena, "admin_list:%lld", (long long)l->id);
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_admin_list_transition(conn, l->id, "submitted", approve ? "approved" : "rejected",
                                        ctx->user->pk, ctx->now, approve ? NULL : trimmed,
                                        &changed);
    if (e == NSDB_OK && changed)
        e = web_audit(ctx, approve ? "admin_list_approve" : "admin_list_reject", target, "ok",
                      approve ? NULL : trimmed);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    if (!changed) {
        page_error(ctx, 409, "この申請リストは既に承認または差戻しされています。");
        return;
    }
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/admin-lists/%lld?notice=%s", (long long)l->id,
                               approve ? "approved" : "rejected"));
}

void web_admin_list_approve(web_ctx *ctx)
{
    decide(ctx, true);
}

void web_admin_list_reject(web_ctx *ctx)
{
    decide(ctx, false);
}

void web_admin_list_issue(web_ctx *ctx)
{
    store_admin_list *l = list_from_path(ctx);
    if (l == NULL)
        return;
    char *base = arena_printf(ctx->req->arena, "/admin-lists/%lld", (long long)l->id);
    if (strcmp(l->status, "issued") == 0) {
        http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=already", base));
        return;
    }
    if (strcmp(l->status, "approved") != 0) {
        page_error(ctx, 409, "承認されていない申請リストは払出しできません。");
        return;
    }
    db *conn = web_db(ctx);
    issuance_result r;
    nsdb_err e = db_begin(conn);
    if (e == NSDB_OK)
        e = issuance_run(ctx->app, conn, l->id, ctx->user->pk, ctx->user->user_id,
                         ctx->req->client_ip, ctx->now, &r);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        if (e == NSDB_ERR_INVALID) {
            http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=already", base));
            return;
        }
        log_event(LOG_ERROR, "issuance_failed", "list", ctx->req->path_params[0], NULL);
        page_error(ctx, 503, "払出しに失敗しました。何も登録していません。時間をおいて再度お試しください。");
        return;
    }
    mailer_thread_wake(ctx->app->mailer);
    http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=issued", base));
}
