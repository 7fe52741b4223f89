/*
 * totp.c — 二要素認証 screens: enrolment on 自アカウント管理 (/account/totp: the QR code and the
 * otpauth:// URI of a pending secret, confirmation by one code, the recovery codes shown once),
 * the second step of a login (/login/totp), turning it off for the roles that may, and the
 * confirmation page of an administrator's reset. core/totp.c and core/users.c do the work.
 */
#include <sodium.h>
#include <string.h>

#include "core/totp.h"
#include "web/user_actions.h"
#include "web/web.h"

#define CODE_REFUSED                                                                               \
    "確認コードが正しくありません。5回続けて誤ると、15分間ログインできなくなります。"

bool web_totp_enrolment_due(const web_ctx *ctx)
{
    const store_user *u = ctx->user;
    return u != NULL && !ctx->totp_pending && !u->must_change_password &&
           u->totp_enrolled_at == 0 && totp_required_for_role(u->role);
}

/* The enrolment page of a pending secret, with an error on the code field when given. */
static void enrol_render(web_ctx *ctx, const char *error, int status)
{
    core_ctx c = web_core(ctx);
    core_totp_enrolment en;
    nsdb_problem pb = {0};
    if (core_totp_enrol_start(&c, ctx->user, &en, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    json_t *data = page_data(ctx, "二要素認証の設定");
    json_object_set_new(data, "enrol", json_true());
    json_object_set_new(data, "required", json_boolean(totp_required_for_role(ctx->user->role)));
    /* the SVG is made by totp_qr_svg from fixed markup and numbers only: safe to embed raw */
    json_object_set_new(data, "qr_svg", json_string(en.qr_svg));
    json_object_set_new(data, "uri", json_string(en.uri));
    json_object_set_new(data, "secret", json_string(en.secret_base32));
    sodium_memzero(en.secret_base32, sizeof en.secret_base32);
    if (error != NULL)
        page_add_error(data, "code", "確認コード", error);
    ctx->req->status = status;
    page_render(ctx, "account_totp", data);
}

void web_totp_form(web_ctx *ctx)
{
    if (ctx->user->totp_enrolled_at == 0) {
        enrol_render(ctx, NULL, 200);
        return;
    }
    core_ctx c = web_core(ctx);
    int64_t left = 0;
    if (core_totp_recovery_codes_left(&c, ctx->user, &left) != NSDB_OK) {
        page_error(ctx, 503, "ただいま処理できません。しばらくしてからやり直してください。");
        return;
    }
    json_t *data = page_data(ctx, "二要素認証");
    json_object_set_new(data, "enrolled", json_true());
    json_object_set_new(data, "enrolled_at",
                        json_string(page_format_time(ctx, ctx->user->totp_enrolled_at)));
    json_object_set_new(data, "codes_left", json_integer(left));
    json_object_set_new(data, "may_disable",
                        json_boolean(!totp_required_for_role(ctx->user->role)));
    const char *done = http_query(ctx->req, "done");
    if (done != NULL && strcmp(done, "disabled") == 0)
        json_object_set_new(data, "notice", json_string("二要素認証を解除しました。"));
    page_render(ctx, "account_totp", data);
}

void web_totp_submit(web_ctx *ctx)
{
    if (ctx->user->totp_enrolled_at != 0) {
        http_redirect(ctx->req, 303, "/account/totp");
        return;
    }
    core_ctx c = web_core(ctx);
    core_recovery_codes codes;
    nsdb_problem pb = {0};
    nsdb_err e = core_totp_enrol_confirm(&c, ctx->user, http_form(ctx->req, "code"), &codes, &pb);
    if (e == NSDB_ERR_INVALID) {
        enrol_render(ctx, problem_message(&pb), 400);
        return;
    }
    if (e != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    ctx->user->totp_enrolled_at = ctx->now; /* the menu of this page: enrolment is done */
    json_t *data = page_data(ctx, "二要素認証の設定完了");
    json_t *list = json_array();
    for (int i = 0; i < TOTP_RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(codes.code[i]));
    sodium_memzero(&codes, sizeof codes);
    json_object_set_new(data, "recovery_codes", list);
    page_render(ctx, "account_totp", data);
}

void web_totp_disable(web_ctx *ctx)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    nsdb_err e = core_totp_disable(&c, ctx->user, http_form(ctx->req, "code"), &pb);
    if (e == NSDB_ERR_INVALID) {
        json_t *data = page_data(ctx, "二要素認証");
        json_object_set_new(data, "enrolled", json_true());
        json_object_set_new(data, "may_disable", json_true());
        page_add_error(data, "code", "確認コード", problem_message(&pb));
        ctx->req->status = 400;
        page_render(ctx, "account_totp", data);
        return;
    }
    if (e != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(ctx->req, 303, "/account/totp?done=disabled");
}

static void login_totp_render(web_ctx *ctx, const char *error, int status)
{
    json_t *data = page_data(ctx, "ログイン（確認コード）");
    if (error != NULL)
        page_add_error(data, "code", "確認コード", error);
    ctx->req->status = status;
    page_render(ctx, "login_totp", data);
}

void web_login_totp_form(web_ctx *ctx)
{
    if (!ctx->totp_pending) {
        http_redirect(ctx->req, 303, "/");
        return;
    }
    login_totp_render(ctx, NULL, 200);
}

void web_login_totp_submit(web_ctx *ctx)
{
    if (!ctx->totp_pending) {
        http_redirect(ctx->req, 303, "/");
        return;
    }
    core_ctx c = web_core(ctx);
    core_session session;
    bool locked = false;
    nsdb_problem pb = {0};
    nsdb_err e = core_login_totp(&c, ctx->user, ctx->session_hash, http_form(ctx->req, "code"),
                                 &session, &locked, &pb);
    if (e == NSDB_ERR_INVALID) {
        login_totp_render(ctx, problem_message(&pb), 400);
        return;
    }
    if (e == NSDB_ERR_AUTH && !locked) {
        http_metrics_count("login", "failed");
        login_totp_render(ctx, CODE_REFUSED, 401);
        return;
    }
    if (e == NSDB_ERR_AUTH) { /* the lockout ended this session too */
        http_metrics_count("login", "lockout");
        auth_end_session(ctx);
        ctx->user = NULL;
        page_error(ctx, 401,
                   "確認コードを続けて誤ったため、15分間ログインできません。時間をおいてから、"
                   "もう一度ログインしてください。");
        return;
    }
    if (e == NSDB_ERR_CONFLICT) {
        auth_end_session(ctx);
        ctx->user = NULL;
        page_error(ctx, 409, problem_message(&pb));
        return;
    }
    if (e != NSDB_OK) {
        http_metrics_count("login", "error");
        page_error(ctx, 503, problem_message(&pb));
        return;
    }
    auth_start_session(ctx, &session);
    sodium_memzero(&session, sizeof session);
    ctx->totp_pending = false;
    http_metrics_count("login", "ok");
    http_redirect(ctx->req, 303, ctx->user->must_change_password ? "/account/password" : "/");
}

void web_user_totp_reset_confirm(web_ctx *ctx)
{
    const user_button *b = ctx->route->arg;
    store_user *u = user_in_scope(ctx, b->roles);
    if (u == NULL)
        return;
    json_t *data = page_data(ctx, "二要素認証の初期化");
    json_t *target = json_object();
    json_object_set_new(target, "user_id", json_string(u->user_id));
    json_object_set_new(target, "name", json_string(u->name));
    json_object_set_new(target, "enrolled", json_boolean(u->totp_enrolled_at != 0));
    json_object_set_new(data, "target", target);
    json_object_set_new(data, "action", json_string(ctx->req->path));
    json_object_set_new(data, "back", json_string(b->back));
    page_render(ctx, "user_totp_reset", data);
}
