/*
 * login.c — ログイン and ログアウト. Unknown user, wrong password and a locked account get the
 * same answer in the same time (a dummy argon2id verification for unknown users), so the form
 * confirms nothing. Five failures in a row lock the account for fifteen minutes (core/sessions.c
 * does the work; this file only reads the form and renders the answer).
 */
#include <sodium.h>
#include <string.h>

#include "core/sessions.h"
#include "domain/ids.h"
#include "web/web.h"

#define LOGIN_FAILED_MESSAGE                                                                      \
    "ユーザIDまたはパスワードが正しくありません。5回続けて誤ると、15分間ログインできなくなります。"

static void login_render(web_ctx *ctx, const char *user_id, const char *error, int status)
{
    json_t *data = page_data(ctx, "ログイン");
    json_object_set_new(data, "user_id", json_string(user_id ? user_id : ""));
    if (error != NULL)
        page_add_error(data, "password", "パスワード", error);
    const char *reason = http_query(ctx->req, "reason");
    if (reason != NULL && strcmp(reason, "logout") == 0)
        json_object_set_new(data, "notice", json_string("ログアウトしました。"));
    ctx->req->status = status;
    page_render(ctx, "login", data);
}

void web_login_form(web_ctx *ctx)
{
    if (ctx->user != NULL) {
        http_redirect(ctx->req, 303, "/");
        return;
    }
    login_render(ctx, NULL, NULL, 200);
}

void web_login_submit(web_ctx *ctx)
{
    const char *user_id = http_form(ctx->req, "user_id");
    const char *password = http_form(ctx->req, "password");
    core_ctx c = web_core(ctx);
    store_user *u = NULL;
    core_session session;
    bool locked = false;
    nsdb_problem pb = {0};
    nsdb_err e = core_login(&c, user_id, password, &u, &session, &locked, &pb);
    char *shown_id = str_trim(arena_strdup(ctx->req->arena, user_id ? user_id : ""));
    ids_user_id_normalize(shown_id);
    if (e == NSDB_ERR_INVALID) {
        json_t *data = page_data(ctx, "ログイン");
        json_object_set_new(data, "user_id", json_string(shown_id));
        if (user_id == NULL || *shown_id == '\0')
            page_add_error(data, "user_id", "ユーザID", "ユーザIDを入力してください。");
        if (password == NULL || *password == '\0')
            page_add_error(data, "password", "パスワード", "パスワードを入力してください。");
        ctx->req->status = 400;
        page_render(ctx, "login", data);
        return;
    }
    if (e == NSDB_ERR_AUTH) {
        http_metrics_count("login", locked ? "lockout" : "failed");
        login_render(ctx, shown_id, LOGIN_FAILED_MESSAGE, 401);
        return;
    }
    if (e != NSDB_OK) {
        /* fails closed: an attempt that could not be recorded is not answered as a mere
           wrong password */
        http_metrics_count("login", "error");
        page_error(ctx, 503, problem_message(&pb));
        return;
    }
    auth_start_session(ctx, &session);
    sodium_memzero(&session, sizeof session);
    ctx->user = u;
    ctx->req->log_user = u->user_id;
    if (u->totp_enrolled_at != 0) { /* half-authenticated: the code is still due */
        ctx->totp_pending = true;
        http_redirect(ctx->req, 303, "/login/totp");
        return;
    }
    http_metrics_count("login", "ok");
    http_redirect(ctx->req, 303, u->must_change_password ? "/account/password" : "/");
}

void web_logout(web_ctx *ctx)
{
    core_ctx c = web_core(ctx);
    nsdb_err e = core_logout(&c, ctx->user, ctx->session_hash);
    /* fails closed: the browser forgets the session either way */
    auth_end_session(ctx);
    if (e != NSDB_OK) {
        page_error(ctx, 503,
                   "ログアウトを記録できませんでした。このブラウザのログイン状態は消去しました。"
                   "共用の端末では、ブラウザを閉じてください。");
        return;
    }
    http_redirect(ctx->req, 303, "/login?reason=logout");
}
