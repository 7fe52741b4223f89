/*
 * auth.c — sessions and CSRF tokens. A session is a random 256-bit token in an HttpOnly,
 * SameSite=Strict cookie; the database holds only its hash. The CSRF token of a form is a MAC
 * of the session token (or, before login, of a random cookie nonce) under the server key: it
 * needs no storage and cannot be produced without reading the victim's cookie.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/sessions.h"
#include "domain/session_token.h"
#include "store/sessions.h"
#include "util/log.h"
#include "web/web.h"

#define SESSION_COOKIE "nsdb_session"
#define ANON_COOKIE "nsdb_csrf"

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
    sodium_memzero(token, sizeof token);
    core_ctx c = web_core(ctx);
    store_user *u = NULL;
    if (core_session_resume_any(&c, ctx->session_hash, &u, &ctx->totp_pending) != NSDB_OK)
        return;
    ctx->user = u;
    ctx->session_token = arena_strdup(ctx->req->arena, http_cookie(ctx->req, SESSION_COOKIE));
    ctx->req->log_user = u->user_id;
}

void auth_start_session(web_ctx *ctx, const core_session *s)
{
    char *cookie = arena_strdup(ctx->req->arena, s->token);
    http_set_cookie(ctx->req, SESSION_COOKIE, cookie, -1, ctx->app->cfg.secure_cookies);
    memcpy(ctx->session_hash, s->hash, sizeof ctx->session_hash);
    ctx->session_token = cookie;
}

void auth_end_session(web_ctx *ctx)
{
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
