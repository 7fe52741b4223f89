/*
 * account.c — 自アカウント管理: the user's own password change, forced at first login. A new
 * password replaces the hash, destroys the sealed initial password (notice status 利用中) and
 * replaces every session of the user by a fresh one, in one transaction with its audit record
 * (core_password_change). The form lists every problem at once before the operation runs.
 */
#include <sodium.h>
#include <string.h>

#include "core/sessions.h"
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
    if (next != NULL && *next != '\0' && (confirm == NULL || strcmp(next, confirm) != 0))
        page_add_error(data, "new_password_confirm", "新しいパスワード（確認）",
                       "確認のため、新しいパスワードと同じものを入力してください。");
    if (json_array_size(json_object_get(data, "error_list")) > 0) {
        web_audit_now(ctx, "password_change", ctx->user->user_id, "failed", "validation");
        account_render(ctx, data, 400);
        return;
    }
    core_ctx c = web_core(ctx);
    core_session session;
    nsdb_problem pb = {0};
    nsdb_err e = core_password_change(&c, ctx->user, current, next, &session, &pb);
    if (e == NSDB_ERR_INVALID) {
        bool is_current = strcmp(pb.field, "current_password") == 0;
        page_add_error(data, pb.field, is_current ? "現在のパスワード" : "新しいパスワード",
                       problem_message(&pb));
        web_audit_now(ctx, "password_change", ctx->user->user_id, "failed", "validation");
        account_render(ctx, data, 400);
        return;
    }
    json_decref(data);
    if (e == NSDB_ERR_LOCKED) /* the lockout ended every session, this one too */
        auth_end_session(ctx);
    if (e != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    auth_start_session(ctx, &session);
    sodium_memzero(&session, sizeof session);
    http_redirect(ctx->req, 303, "/?done=password");
}
