/*
 * auth.c — sessions and CSRF tokens. A session is a random 256-bit token in an HttpOnly,
 * SameSite=Strict cookie; the database holds only its hash. The CSRF token of a form is a MAC
 * of the session token (or, before login, of a random cookie nonce) under the server key: it
 * needs no storage and cannot be produced without reading the victim's cookie.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/session_token.h"
#include "store/sessions.h"
#include "util/log.h"
#include "web/web.h"

#define SESSION_COOKIE "nsdb_session"
#define ANON_COOKIE "nsdb_csrf"
#define TOUCH_INTERVAL_SECONDS 60

static char *csrf_for(web_ctx *ctx, const char *purpose,
                      const unsigned char token[SESSION_TOKEN_BYTES])
{
    char *hex = arena_alloc(ctx->req->arena, SESSION_CSRF_HEX_LEN + 1);
    session_csrf_token(&ctx->app->key, purpose, token, hex);
    return hex;
}

void auth_load_session(web_ctx *ctx)
{
    unsigned char token[SESSION_TOKEN_BYTES];
    if (!session_token_decode(http_cookie(ctx->req, SESSION_COOKIE), token))
        return;
    secret_token_hash(token, SESSION_TOKEN_BYTES, ctx->session_hash);
    db *conn = web_db(ctx);
    store_session s;
    if (store_session_find(conn, ctx->session_hash, &s) != NSDB_OK)
        return;
    const app_config *cfg = &ctx->app->cfg;
    if (session_expired(s.created_at, s.last_seen_at, ctx->now, cfg->session_idle_seconds,
                        cfg->session_absolute_seconds)) {
        store_session_delete(conn, ctx->session_hash);
        return;
    }
    store_user *u = NULL;
    if (store_user_find_by_pk(conn, ctx->req->arena, s.user_pk, &u) != NSDB_OK ||
        strcmp(u->status, "active") != 0) {
        store_session_delete(conn, ctx->session_hash);
        return;
    }
    if (ctx->now - s.last_seen_at >= TOUCH_INTERVAL_SECONDS)
        store_session_touch(conn, ctx->session_hash, ctx->now);
    ctx->user = u;
    ctx->session_token = arena_strdup(ctx->req->arena, http_cookie(ctx->req, SESSION_COOKIE));
    ctx->req->log_user = u->user_id;
}

nsdb_err auth_create_session(web_ctx *ctx, int64_t user_pk)
{
    unsigned char token[SESSION_TOKEN_BYTES];
    session_token_new(token);
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    secret_token_hash(token, sizeof token, hash);
    db *conn = web_db(ctx);
    const app_config *cfg = &ctx->app->cfg;
    store_session_delete_expired(conn, ctx->now - cfg->session_idle_seconds,
                                 ctx->now - cfg->session_absolute_seconds);
    nsdb_err e = store_session_insert(conn, hash, user_pk, ctx->now, ctx->req->client_ip);
    if (e != NSDB_OK)
        return e;
    char *cookie = arena_alloc(ctx->req->arena, SESSION_TOKEN_TEXT_LEN + 1);
    session_token_encode(token, cookie);
    sodium_memzero(token, sizeof token);
    http_set_cookie(ctx->req, SESSION_COOKIE, cookie, -1, cfg->secure_cookies);
    memcpy(ctx->session_hash, hash, sizeof hash);
    ctx->session_token = cookie;
    return NSDB_OK;
}

void auth_end_session(web_ctx *ctx)
{
    if (ctx->session_hash[0] != '\0')
        store_session_delete(web_db(ctx), ctx->session_hash);
    http_set_cookie(ctx->req, SESSION_COOKIE, "", 0, ctx->app->cfg.secure_cookies);
    ctx->session_token = NULL;
    ctx->session_hash[0] = '\0';
}

const char *auth_csrf_token(web_ctx *ctx)
{
    if (ctx->csrf_token != NULL)
        return ctx->csrf_token;
    unsigned char token[SESSION_TOKEN_BYTES];
    if (ctx->user != NULL && session_token_decode(ctx->session_token, token)) {
        ctx->csrf_token = csrf_for(ctx, "csrf-session", token);
        return ctx->csrf_token;
    }
    if (!session_token_decode(http_cookie(ctx->req, ANON_COOKIE), token)) {
        session_token_new(token);
        char *cookie = arena_alloc(ctx->req->arena, SESSION_TOKEN_TEXT_LEN + 1);
        session_token_encode(token, cookie);
        http_set_cookie(ctx->req, ANON_COOKIE, cookie, -1, ctx->app->cfg.secure_cookies);
    }
    ctx->csrf_token = csrf_for(ctx, "csrf-anon", token);
    return ctx->csrf_token;
}

bool auth_csrf_valid(web_ctx *ctx, const char *submitted)
{
    if (submitted == NULL)
        return false;
    unsigned char token[SESSION_TOKEN_BYTES];
    if (ctx->user != NULL && session_token_decode(ctx->session_token, token) &&
        session_csrf_equal(csrf_for(ctx, "csrf-session", token), submitted))
        return true;
    /* the anonymous token only opens public forms (the login form) */
    if ((ctx->route->flags & ROUTE_PUBLIC) && session_token_decode(http_cookie(ctx->req, ANON_COOKIE), token))
        return session_csrf_equal(csrf_for(ctx, "csrf-anon", token), submitted);
    return false;
}

/* Checks the password against the chosen hash or the sealed initial password. */
bool auth_password_matches(web_ctx *ctx, const store_user *u, const char *password)
{
    if (u->password_hash != NULL)
        return password_verify(u->password_hash, password);
    /* an initial password is not hashed: spend the same time anyway, so that the answer's
       timing does not tell who still has one */
    password_verify(ctx->app->dummy_hash, password);
    if (u->initial_sealed == NULL)
        return false;
    char *initial = NULL;
    if (secret_unseal(&ctx->app->key, u->initial_sealed, u->initial_sealed_len, &initial) !=
        NSDB_OK)
        return false;
    size_t n = strlen(initial);
    bool ok = strlen(password) == n && sodium_memcmp(initial, password, n) == 0;
    sodium_memzero(initial, n);
    free(initial);
    return ok;
}
