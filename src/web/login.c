/*
 * login.c — ログイン and ログアウト. Unknown user, wrong password and a locked account get the
 * same answer in the same time (a dummy argon2id verification for unknown users), so the form
 * confirms nothing. Five failures in a row lock the account for fifteen minutes. The password
 * check runs before the write transaction, so hashing never holds the database lock.
 */
#include <sodium.h>
#include <string.h>

#include "domain/ids.h"
#include "util/log.h"
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

/* A name for the audit record: the submitted ID only when it looks like one (a password typed
   into the ID field must never reach the log). */
static const char *login_audit_target(const char *user_id)
{
    return ids_user_id_valid(user_id) ? user_id : "(形式不正)";
}

static void login_fail(web_ctx *ctx, const store_user *u, const char *user_id, const char *why)
{
    db *conn = web_db(ctx);
    bool locked = false;
    if (db_begin(conn) == NSDB_OK) {
        if (u != NULL && strcmp(why, "password") == 0)
            store_user_login_failed(conn, u->pk, ctx->now, ctx->app->cfg.max_login_failures,
                                    ctx->app->cfg.lock_seconds, &locked);
        web_audit(ctx, "login", login_audit_target(user_id), "failed", why);
        if (locked)
            web_audit(ctx, "lockout", user_id, "ok", "15分間ロック");
        db_commit(conn);
    }
    http_metrics_count("login", locked ? "lockout" : "failed");
    login_render(ctx, user_id, LOGIN_FAILED_MESSAGE, 401);
}

void web_login_submit(web_ctx *ctx)
{
    arena *a = ctx->req->arena;
    const char *raw_id = http_form(ctx->req, "user_id");
    const char *password = http_form(ctx->req, "password");
    char *user_id = str_trim(arena_strdup(a, raw_id ? raw_id : ""));
    ids_user_id_normalize(user_id);
    if (*user_id == '\0' || password == NULL || *password == '\0') {
        json_t *data = page_data(ctx, "ログイン");
        json_object_set_new(data, "user_id", json_string(user_id));
        if (*user_id == '\0')
            page_add_error(data, "user_id", "ユーザID", "ユーザIDを入力してください。");
        if (password == NULL || *password == '\0')
            page_add_error(data, "password", "パスワード", "パスワードを入力してください。");
        ctx->req->status = 400;
        page_render(ctx, "login", data);
        return;
    }
    store_user *u = NULL;
    nsdb_err e = store_user_find_by_user_id(web_db(ctx), a, user_id, &u);
    if (e == NSDB_ERR_NOT_FOUND) {
        password_verify(ctx->app->dummy_hash, password);
        login_fail(ctx, NULL, user_id, "unknown_user");
        return;
    }
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    bool matches = auth_password_matches(ctx, u, password);
    if (u->locked_until > ctx->now) {
        login_fail(ctx, u, user_id, "locked");
        return;
    }
    if (!matches) {
        login_fail(ctx, u, user_id, "password");
        return;
    }
    if (u->status != ACCOUNT_STATUS_ACTIVE) {
        web_audit_now(ctx, "login", user_id, "denied", "suspended");
        login_render(ctx, user_id, nsdb_err_message(NSDB_ERR_SUSPENDED), 403);
        return;
    }
    char rehash[crypto_pwhash_STRBYTES];
    const char *new_hash = NULL;
    if (u->password_hash != NULL && password_needs_rehash(u->password_hash, ctx->app->cfg.cost) &&
        password_hash(password, ctx->app->cfg.cost, rehash) == NSDB_OK)
        new_hash = rehash;
    db *conn = web_db(ctx);
    ctx->user = u; /* the audit record names the user who logged in */
    e = db_begin(conn);
    if (e == NSDB_OK)
        e = store_user_login_succeeded(conn, u->pk, ctx->now, new_hash);
    if (e == NSDB_OK)
        e = auth_create_session(ctx, u->pk);
    if (e == NSDB_OK)
        e = web_audit(ctx, "login", u->user_id, "ok", new_hash ? "rehashed" : NULL);
    if (e == NSDB_OK)
        e = db_commit(conn);
    if (e != NSDB_OK) {
        db_rollback(conn);
        ctx->user = NULL;
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    ctx->req->log_user = u->user_id;
    http_metrics_count("login", "ok");
    http_redirect(ctx->req, 303, u->must_change_password ? "/account/password" : "/");
}

void web_logout(web_ctx *ctx)
{
    db *conn = web_db(ctx);
    if (db_begin(conn) == NSDB_OK) {
        web_audit(ctx, "logout", ctx->user->user_id, "ok", NULL);
        auth_end_session(ctx);
        db_commit(conn);
    }
    http_redirect(ctx->req, 303, "/login?reason=logout");
}
