/*
 * admin_lists.c — 管理者権限のユーザID申請リスト (Flow I ①–⑥): the Ministry uploads the xlsx,
 * every row is validated (nothing is stored when one is wrong), approves or rejects with a
 * reason; the operator runs 払出し. Both roles read every list; nothing else may.
 */
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/admin_lists.h"
#include "core/issuance.h"
#include "domain/admin_list.h"
#include "domain/xlsx.h"
#include "store/admin_lists.h"
#include "util/log.h"
#include "web/confirm.h"
#include "web/web.h"

static const char *request_type_label(const char *t)
{
    return strcmp(t, "new") == 0 ? "新規" : strcmp(t, "change") == 0 ? "変更" : "削除";
}

static json_t *list_json(web_ctx *ctx, const store_admin_list *l)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?}", "id", (json_int_t)l->id,
                     "status", admin_list_status_key(l->status), "status_label",
                     admin_list_status_label(l->status), "filename",
                     l->filename, "sha256", l->file_sha256, "row_count", (json_int_t)l->row_count,
                     "uploaded_at", page_format_time(ctx, l->uploaded_at), "uploaded_by",
                     l->uploaded_by_user_id, "reject_reason", l->reject_reason);
}

static void lists_render(web_ctx *ctx, json_t *data, int status)
{
    store_admin_list *lists = NULL;
    size_t n = 0;
    nsdb_err e = store_admin_list_all(web_db(ctx), ctx->req->arena, 0, &lists, &n);
    if (e != NSDB_OK) {
        json_decref(data);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, list_json(ctx, &lists[i]));
    json_object_set_new(data, "lists", rows);
    json_object_set_new(data, "can_upload", json_boolean(ctx->user->role == USER_ROLE_MHLW));
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
    core_ctx c = web_core(ctx);
    admin_list_upload_result r;
    nsdb_problem pb = {0};
    nsdb_err e = core_admin_list_upload(&c, file ? file->filename : NULL,
                                        file ? file->value : NULL, file ? file->value_len : 0, &r,
                                        &pb);
    if (e != NSDB_OK) {
        if (r.parsed.error_count > 0)
            json_object_set_new(data, "row_errors", errors_json(&r.parsed));
        page_add_error(data, "file", "申請リストのファイル", problem_message(&pb));
        lists_render(ctx, data, web_problem_status(&pb));
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/admin-lists/%lld%s", (long long)r.id,
                               r.duplicate ? "?notice=duplicate" : ""));
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
                           category_label_of_key(r->category), "department", r->department, "title",
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
    /* the buttons the state machine allows, to the role that may press them */
    bool mhlw = ctx->user->role == USER_ROLE_MHLW;
    json_object_set_new(
        data, "can_decide",
        json_boolean(mhlw && admin_list_status_can(l->status, ADMIN_LIST_ACTION_APPROVE, NULL)));
    /* an approved list not yet issued can still be sent back (its 払出し may be impossible) */
    json_object_set_new(
        data, "can_send_back",
        json_boolean(mhlw && l->status == ADMIN_LIST_STATUS_APPROVED &&
                     admin_list_status_can(l->status, ADMIN_LIST_ACTION_REJECT, NULL)));
    json_object_set_new(
        data, "can_issue",
        json_boolean(!mhlw && admin_list_status_can(l->status, ADMIN_LIST_ACTION_ISSUE, NULL)));
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
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    nsdb_err e = core_admin_list_decide(&c, l->id, approve, http_form(ctx->req, "reason"), &pb);
    if (e == NSDB_ERR_INVALID) {
        json_t *data = page_data(ctx, "申請リストの詳細");
        page_add_error(data, "reason", "差戻しの理由", problem_message(&pb));
        detail_render(ctx, l, data, 400);
        return;
    }
    if (e != NSDB_OK) {
        web_problem_page(ctx, &pb);
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
    if (l->status == ADMIN_LIST_STATUS_ISSUED) {
        http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=already", base));
        return;
    }
    if (!admin_list_status_can(l->status, ADMIN_LIST_ACTION_ISSUE, NULL)) {
        page_error(ctx, 409, "承認されていない申請リストは払出しできません。");
        return;
    }
    core_ctx c = web_core(ctx);
    issuance_result r;
    nsdb_problem pb = {0};
    nsdb_err e = core_admin_list_issue(&c, l->id, &r, &pb);
    if (e == NSDB_ERR_CONFLICT) {
        http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=already", base));
        return;
    }
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "issuance_failed", "list", ctx->req->path_params[0], NULL);
        web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "%s?notice=issued", base));
}

/* The confirmation of 承認, 差戻し or 払出し (GET on the POST path): the list, its rows counted
   by 申請区分 and what the action does to them. */
void web_admin_list_confirm(web_ctx *ctx)
{
    const admin_list_action *action = ctx->route->arg;
    assert(action != NULL); /* every route of this handler names its action */
    store_admin_list *l = list_from_path(ctx);
    if (l == NULL)
        return;
    arena *a = ctx->req->arena;
    store_admin_list_row *rows = NULL;
    size_t n = 0, added = 0, changed = 0, removed = 0;
    if (store_admin_list_rows(web_db(ctx), a, l->id, &rows, &n) != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].request_type, "new") == 0)
            added++;
        else if (strcmp(rows[i].request_type, "change") == 0)
            changed++;
        else
            removed++;
    }
    web_confirm c = {
        .items = {{"申請リスト", arena_printf(a, "%lld", (long long)l->id)},
                  {"ファイル", l->filename},
                  {"状態", admin_list_status_label(l->status)},
                  {"登録日時", arena_printf(a, "%s（%s）", page_format_time(ctx, l->uploaded_at),
                                            l->uploaded_by_user_id ? l->uploaded_by_user_id : "")},
                  {"行数", arena_printf(a, "%lld 行（新規 %zu・変更 %zu・削除 %zu）",
                                        (long long)l->row_count, added, changed, removed)}},
        .back = arena_printf(a, "/admin-lists/%lld", (long long)l->id)};
    if (*action == ADMIN_LIST_ACTION_APPROVE) {
        c.title = "申請リストの承認";
        c.lead = "次の申請リストを承認します。";
        c.consequence = "承認すると、運用事業者に払出しを依頼します。承認の後は、払出し前に差し戻す"
                        "ことだけができます。";
        c.button = "承認する";
    } else if (*action == ADMIN_LIST_ACTION_REJECT) {
        c.title = "申請リストの差戻し";
        c.lead = "次の申請リストを差し戻します。";
        c.consequence = "差し戻すと、この申請リストは払出しされません。理由は申請リストの詳細に表示"
                        "されます。";
        c.fields[0] = (web_confirm_field){"reason", "差戻しの理由（必須）",
                                          http_query(ctx->req, "reason"), WEB_CONFIRM_TEXTAREA};
        c.button = "差戻す";
    } else {
        c.title = "自治体管理者ユーザの払出し";
        c.lead = "次の申請リストの払出しを行います。";
        c.consequence = arena_printf(
            a,
            "新規の %zu 行は自治体管理者ユーザを作成し、ユーザIDと初期パスワードをメールで送ります。"
            "変更の %zu 行は登録内容を更新し、削除の %zu 行は利用停止にします。",
            added, changed, removed);
        c.button = "払出しを実行する";
    }
    if (!admin_list_status_can(l->status, *action, NULL))
        c.refusal = arena_printf(a, "この申請リストは「%s」のため、この操作はできません。",
                                 admin_list_status_label(l->status));
    web_confirm_render(ctx, &c);
}
