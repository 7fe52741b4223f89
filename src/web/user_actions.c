/*
 * user_actions.c — see user_actions.h. Every query carries the caller's municipality (or
 * institution), so a user outside the scope is never found.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/users.h"
#include "domain/ids.h"
#include "store/sessions.h"
#include "web/confirm.h"
#include "web/user_actions.h"

store_user *user_in_scope(web_ctx *ctx, unsigned roles)
{
    store_user *u = NULL;
    const char *id = ctx->req->path_params[0];
    nsdb_err e;
    if (ctx->user->role == USER_ROLE_INST_MANAGER)
        e = store_user_find_in_institution(web_db(ctx), ctx->req->arena,
                                           ctx->user->municipality_pk, ctx->user->institution_pk,
                                           id, &u);
    else
        e = store_user_find_in_municipality(web_db(ctx), ctx->req->arena,
                                            ctx->user->municipality_pk, id, &u);
    if (e != NSDB_OK || (role_bit(u->role) & roles) == 0) {
        web_audit_now(ctx, "scope_denied", id, "denied", ctx->req->path);
        page_error(ctx, 404, "指定されたユーザは見つかりません。");
        return NULL;
    }
    return u;
}

static void done_redirect(web_ctx *ctx, const char *back, const char *done, const char *user_id)
{
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "%s?done=%s&user=%s", back, done, user_id));
}

void user_action_reset(web_ctx *ctx, const store_user *u, const char *back)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_user_reset_password(&c, u, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    done_redirect(ctx, back, "reset", u->user_id);
}

static void user_action_totp_reset(web_ctx *ctx, const store_user *u, const char *back)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_user_totp_reset(&c, u, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    done_redirect(ctx, back, "totp_reset", u->user_id);
}

void user_action_set_status(web_ctx *ctx, const store_user *u, bool suspend, const char *back)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_user_set_suspended(&c, u, suspend, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    done_redirect(ctx, back, suspend ? "suspend" : "resume", u->user_id);
}

void user_action_run(web_ctx *ctx, unsigned roles, user_action action, const char *back)
{
    store_user *u = user_in_scope(ctx, roles);
    if (u == NULL)
        return;
    if (action == USER_ACTION_RESET)
        user_action_reset(ctx, u, back);
    else if (action == USER_ACTION_TOTP_RESET)
        user_action_totp_reset(ctx, u, back);
    else
        user_action_set_status(ctx, u, action == USER_ACTION_SUSPEND, back);
}

void user_action_save_profile(web_ctx *ctx, const store_user *u, const user_profile_input *p,
                              json_t *data, const char *template_name, const char *back)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_user_update_profile(&c, u, p, &pb) != NSDB_OK) {
        page_add_error(data, pb.field ? pb.field : "name", "編集", problem_message(&pb));
        ctx->req->status = web_problem_status(&pb);
        page_render(ctx, template_name, data);
        return;
    }
    json_decref(data);
    done_redirect(ctx, back, "edit", u->user_id);
}

const char *user_action_done_message(web_ctx *ctx)
{
    const char *done = http_query(ctx->req, "done");
    const char *who = http_query(ctx->req, "user");
    if (done == NULL || who == NULL || !ids_user_id_valid(who))
        return NULL;
    const char *text = strcmp(done, "reset") == 0
                           ? "パスワードを初期化しました（ユーザID %s）。新しい通知書を出力して交付してください。"
                       : strcmp(done, "suspend") == 0 ? "利用停止にしました（ユーザID %s）。"
                       : strcmp(done, "resume") == 0  ? "利用を再開しました（ユーザID %s）。"
                       : strcmp(done, "edit") == 0    ? "変更しました（ユーザID %s）。"
                       : strcmp(done, "totp_reset") == 0
                           ? "二要素認証を初期化しました（ユーザID %s）。次回ログイン時に設定し直します。"
                                                      : NULL;
    return text ? arena_printf(ctx->req->arena, text, who) : NULL;
}

void web_user_button(web_ctx *ctx)
{
    const user_button *b = ctx->route->arg;
    assert(b != NULL); /* every route of this handler declares its button */
    user_action_run(ctx, b->roles, b->action, b->back);
}

/* The confirmation of a button of the 操作 column (GET on its POST path): the same user lookup
   within the same roles, so a user the POST would not find is a 404 here too. */
void web_user_button_confirm(web_ctx *ctx)
{
    const user_button *b = ctx->route->arg;
    assert(b != NULL); /* every route of this handler declares its button */
    store_user *u = user_in_scope(ctx, b->roles);
    if (u == NULL)
        return;
    arena *a = ctx->req->arena;
    const char *where = u->institution_name != NULL
                            ? arena_printf(a, "%s（%s）", u->institution_name,
                                           u->institution_code ? u->institution_code : "")
                            : arena_printf(a, "%s %s", u->municipality_name ? u->municipality_name : "",
                                           u->department ? u->department : "");
    bool suspended = u->status == ACCOUNT_STATUS_SUSPENDED;
    web_confirm c = {.items = {{"ユーザID", u->user_id},
                               {"氏名", u->name},
                               {"種別", user_role_label(u->role)},
                               {"所属", where},
                               {"状態", account_status_label(u->status)}},
                     .back = b->back};
    switch (b->action) {
    case USER_ACTION_RESET:
        c.title = "パスワード初期化";
        c.lead = "次のユーザのパスワードを初期化します。";
        c.consequence = "初期化すると、今のパスワードではログインできなくなり、ログイン中の画面も終了"
                        "します。新しい初期パスワードの通知書（未発行）を出力して、本人に交付してください。";
        c.button = "パスワードを初期化する";
        break;
    case USER_ACTION_SUSPEND:
        c.title = "利用停止";
        c.lead = "次のユーザの利用を停止します。";
        c.consequence = "停止すると、このユーザはログインできなくなり、ログイン中の画面も終了します。"
                        "「利用再開」で元に戻せます。";
        c.button = "利用停止にする";
        c.refusal = suspended ? "このユーザは既に利用停止中です。" : NULL;
        break;
    case USER_ACTION_RESUME:
        c.title = "利用再開";
        c.lead = "次のユーザの利用を再開します。";
        c.consequence = "再開すると、このユーザは今のパスワードで再びログインできるようになります。";
        c.button = "利用を再開する";
        c.refusal = suspended ? NULL : "このユーザは利用停止中ではありません。";
        break;
    case USER_ACTION_TOTP_RESET: /* has its own page (web_user_totp_reset_confirm) */
        abort();
    }
    web_confirm_render(ctx, &c);
}
