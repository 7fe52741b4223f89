/*
 * account.c — 自アカウント管理: the user's own password change, forced at first login. A new
 * password replaces the hash, destroys the sealed initial password (notice status 利用中) and
 * replaces every session of the user by a fresh one, in one transaction with its audit record.
 */
#include <string.h>

#include "store/sessions.h"
#include "web/web.h"

static void account_render(web_ctx *ctx, json_t *data, int status)
{
    ctx->req->status = status;
    page_render(ctx, "account_password", data);
}

void web_account_form(web_ctx *ctx)
{
    account_render(ctx, page_data(ctx, "自アカウント管理"), 200);
}

void web_account_submit(web_ctx *ctx)
{
    const char *current = http_form(ctx->req, "current_password");
    const char *next = http_form(ctx->req, "new_password");
    const char *confirm = http_form(ctx->req, "new_password_confirm");
    json_t *data = page_data(ctx, "自アカウント管理");
    if (current == NULL || *current == '\0')
        page_add_error(data, "current_password", "現在のパスワード",
                       "現在のパスワードを入力してください。");
    else if (!auth_password_matches(ctx, ctx->user, current))
        page_add_error(data, "current_password", "現在のパスワード",
                       "現在のパスワードが正しくありません。");
    if (next == NULL || *next == '\0') {
        page_add_error(data, "new_password", "新しいパスワード",
                       "新しいパスワードを入力してください。");
    } else {
        password_verdict v = password_check(next, ctx->user->user_id, ctx->user->name);
        if (v != PASSWORD_OK)
            page_add_error(data, "new_password", "新しいパスワード", password_verdict_message(v));
        else if (current != NULL && strcmp(current, next) == 0)
            page_add_error(data, "new_password", "新しいパスワード",
                           "現在のパスワードと異なるパスワードを入力してください。");
    }
    if (next != NULL && *next != '\0' && (confirm == NULL || strcmp(next, confirm) != 0))
        page_add_error(data, "new_password_confirm", "新しいパスワード（確認）",
                       "確認のため、新しいパスワードと同じものを入力してください。");
    if (json_array_size(json_object_get(data, "error_list")) > 0) {
        web_audit_now(ctx, "password_change", ctx->user->user_id, "failed", "validation");
        account_render(ctx, data, 400);
        return;
    }
    char hash[crypto_pwhash_STRBYTES];
    nsdb_err e = password_hash(next, ctx->app->cfg.cost, hash);
    db *conn = web_db(ctx);
    if (e == NSDB_OK)
        e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_user_set_password(conn, ctx->user->pk, hash, ctx->now);
    /* a new session after the change: every earlier session of the user ends */
    if (e == NSDB_OK)
        e = store_session_delete_for_user(conn, ctx->user->pk, NULL);
    if (e == NSDB_OK)
        e = auth_create_session(ctx, ctx->user->pk);
    if (e == NSDB_OK)
        e = web_audit(ctx, "password_change", ctx->user->user_id, "ok", NULL);
    if (e == NSDB_OK)
        e = db_commit(conn);
    sodium_memzero(hash, sizeof hash);
    if (e != NSDB_OK) {
        db_rollback(conn);
        json_decref(data);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_decref(data);
    http_redirect(ctx->req, 303, "/?done=password");
}
