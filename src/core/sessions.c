/*
 * sessions.c — see sessions.h. The password check runs before the write transaction, so that
 * hashing never holds the database lock.
 */
#include "core/sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/ids.h"
#include "domain/password.h"
#include "util/log.h"
#include "util/str.h"

#define TOUCH_INTERVAL_SECONDS 60
/* a password accepted but no code typed: the half-authenticated session ends after this */
#define TOTP_PENDING_SECONDS 300

bool core_password_matches(app *a, const store_user *u, const char *password)
{
    if (u->password_hash != NULL)
        return password_verify(u->password_hash, password);
    /* an initial password is not hashed: spend the same time anyway, so that the answer's
       timing does not tell who still has one */
    password_verify(a->dummy_hash, password);
    if (u->initial_sealed == NULL)
        return false;
    char *initial = NULL;
    if (secret_unseal(&a->key, u->initial_sealed, u->initial_sealed_len, &initial) != NSDB_OK)
        return false;
    size_t n = strlen(initial);
    bool ok = strlen(password) == n && sodium_memcmp(initial, password, n) == 0;
    sodium_memzero(initial, n);
    free(initial);
    return ok;
}

/* A new session row for the user inside the caller's transaction (expired ones are cleared). */
static NSDB_MUST_CHECK nsdb_err session_open(core_ctx *c, int64_t user_pk, core_session *out)
{
    unsigned char token[SESSION_TOKEN_BYTES];
    session_token_new(token);
    secret_token_hash(token, sizeof token, out->hash);
    session_token_encode(token, out->token);
    sodium_memzero(token, sizeof token);
    const app_config *cfg = &c->app->cfg;
    nsdb_err e = store_session_delete_expired(c->conn, c->who.now - cfg->session_idle_seconds,
                                              c->who.now - cfg->session_absolute_seconds);
    if (e == NSDB_OK)
        e = store_session_insert(c->conn, out->hash, user_pk, c->who.now, c->who.client_ip);
    if (e != NSDB_OK)
        sodium_memzero(out, sizeof *out);
    return e;
}

/* A name for the audit record: the submitted ID only when it looks like one (a password typed
   into the ID field must never reach the log). */
static const char *login_audit_target(const char *user_id)
{
    return ids_user_id_valid(user_id) ? user_id : "(形式不正)";
}

/* Records a refused password (action "login", or "password_change" for the current password
   of 自アカウント管理); a wrong one (why "password") counts towards the lockout — a login's try
   was counted when it was reserved (why "password" then only locks when the tries are spent) —
   and a lockout ends the user's sessions. The write's failure is returned: an attempt that could
   not be counted must not look like an ordinary refusal. */
static NSDB_MUST_CHECK nsdb_err password_refused(core_ctx *c, const char *action,
                                                 const store_user *u, const char *user_id,
                                                 const char *why, bool *locked)
{
    const app_config *cfg = &c->app->cfg;
    bool reserved = strcmp(action, "login") == 0;
    /* a login refused before its check ("locked") also locks when every try is spent without a
       lock in place — tries whose server stopped between reservation and check would otherwise
       refuse every later login for good; a running lock has reset the count, so this is a no-op */
    bool counts = strcmp(why, "password") == 0 || strcmp(why, "totp") == 0 ||
                  (reserved && strcmp(why, "locked") == 0);
    /* the user's row and sessions; an unknown ID writes only the audit record */
    nsdb_err e = u != NULL ? core_begin_scoped(c, DB_SCOPE_USER, u->pk)
                           : core_begin_scoped(c, DB_SCOPE_NONE, 0);
    if (e == NSDB_OK && u != NULL && counts)
        e = reserved ? store_user_login_lock_if_spent(c->conn, u->pk, c->who.now,
                                                      cfg->max_login_failures, cfg->lock_seconds,
                                                      locked)
                     : store_user_login_failed(c->conn, u->pk, c->who.now,
                                               cfg->max_login_failures, cfg->lock_seconds, locked);
    if (e == NSDB_OK)
        e = core_audit(c, action, login_audit_target(user_id), "failed", why);
    if (e == NSDB_OK && *locked)
        e = core_audit(c, "lockout", user_id, "ok", "15分間ロック");
    if (e == NSDB_OK && *locked && u != NULL)
        e = store_session_delete_for_user(c->conn, u->pk, NULL);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "login_failure_not_recorded", "reason", why, "error",
                  nsdb_err_name(e), NULL);
        *locked = false;
        return e;
    }
    return NSDB_ERR_AUTH;
}

/* The password of an enrolled user was right: a half-authenticated session (only /login/totp
   and logout accept it) and the try given back, since the codes take their own tries and the
   password alone must not reset the count (issue 14); a hash of an older cost is replaced here,
   where the password is known. The login's own record is written when the code is accepted. */
static NSDB_MUST_CHECK nsdb_err password_accepted_totp_due(core_ctx *c, store_user *u,
                                                            const char *new_hash,
                                                            core_session *session_out,
                                                            store_user **user_out,
                                                            nsdb_problem *pb)
{
    core_actor anonymous = c->who;
    c->who.user_pk = u->pk;
    c->who.user_id = u->user_id;
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_user_login_release(c->conn, u->pk, new_hash);
    if (e == NSDB_OK)
        e = session_open(c, u->pk, session_out);
    if (e == NSDB_OK)
        e = store_session_mark_totp_pending(c->conn, session_out->hash);
    if (e == NSDB_OK)
        e = core_audit(c, "login_password", u->user_id, "ok",
                       new_hash ? "totp_due rehashed" : "totp_due");
    e = core_end(c, e);
    c->who = anonymous;
    if (e != NSDB_OK) {
        sodium_memzero(session_out, sizeof *session_out);
        return problem_set(pb, e, NULL, NULL);
    }
    *user_out = u;
    return NSDB_OK;
}

nsdb_err core_session_open(core_ctx *c, int64_t user_pk, core_session *out)
{
    return session_open(c, user_pk, out);
}

nsdb_err core_login_refused(core_ctx *c, const store_user *u, const char *why, bool *locked)
{
    *locked = false;
    return password_refused(c, "login", u, u->user_id, why, locked);
}

nsdb_err core_login(core_ctx *c, const char *user_id_raw, const char *password,
                    store_user **user_out, core_session *session_out, bool *locked_out,
                    nsdb_problem *pb)
{
    *user_out = NULL;
    *locked_out = false;
    char *user_id = str_trim(arena_strdup(c->arena, user_id_raw ? user_id_raw : ""));
    ids_user_id_normalize(user_id);
    if (*user_id == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "user_id", "ユーザIDを入力してください。");
    if (password == NULL || *password == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "password", "パスワードを入力してください。");
    store_user *u = NULL;
    nsdb_err e = store_user_find_by_user_id(c->conn, c->arena, user_id, &u);
    if (e == NSDB_ERR_NOT_FOUND) {
        password_verify(c->app->dummy_hash, password);
        return problem_set(pb,
                           password_refused(c, "login", NULL, user_id, "unknown_user", locked_out),
                           "password", NULL);
    }
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    /* the try is taken before the password is checked, so parallel guesses check at most
       max_login_failures passwords (issue 14); a refused try spends the same time */
    bool allowed = false;
    e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_user_login_reserve(c->conn, u->pk, c->who.now, c->app->cfg.max_login_failures,
                                     &allowed);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "login_failure_not_recorded", "reason", "reserve", "error",
                  nsdb_err_name(e), NULL);
        return problem_set(pb, e, NULL, NULL);
    }
    if (!allowed) {
        password_verify(c->app->dummy_hash, password);
        return problem_set(pb, password_refused(c, "login", u, user_id, "locked", locked_out),
                           "password", NULL);
    }
    bool matches = core_password_matches(c->app, u, password);
    if (!matches)
        return problem_set(pb, password_refused(c, "login", u, user_id, "password", locked_out),
                           "password", NULL);
    /* a suspended account answers a right password as a wrong one, so the form confirms no
       password (issue 14); the audit record says why */
    if (u->status != ACCOUNT_STATUS_ACTIVE)
        return problem_set(pb, password_refused(c, "login", u, user_id, "suspended", locked_out),
                           "password", NULL);
    char rehash[crypto_pwhash_STRBYTES];
    const char *new_hash = NULL;
    if (u->password_hash != NULL && password_needs_rehash(u->password_hash, c->app->cfg.cost) &&
        password_hash(password, c->app->cfg.cost, rehash) == NSDB_OK)
        new_hash = rehash;
    if (u->totp_enrolled_at != 0)
        return password_accepted_totp_due(c, u, new_hash, session_out, user_out, pb);
    /* the audit record names the user who logged in */
    core_actor anonymous = c->who;
    c->who.user_pk = u->pk;
    c->who.user_id = u->user_id;
    e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_user_login_succeeded(c->conn, u->pk, c->who.now, new_hash);
    if (e == NSDB_OK)
        e = session_open(c, u->pk, session_out);
    if (e == NSDB_OK)
        e = core_audit(c, "login", u->user_id, "ok", new_hash ? "rehashed" : NULL);
    e = core_end(c, e);
    c->who = anonymous;
    if (e != NSDB_OK) {
        sodium_memzero(session_out, sizeof *session_out);
        return problem_set(pb, e, NULL, NULL);
    }
    *user_out = u;
    return NSDB_OK;
}

nsdb_err core_logout(core_ctx *c, const store_user *u, const char *session_hash)
{
    bool has_session = session_hash != NULL && *session_hash != '\0';
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = core_audit(c, "logout", u->user_id, "ok", NULL);
    if (e == NSDB_OK && has_session)
        e = store_session_delete(c->conn, session_hash);
    e = core_end(c, e);
    if (e != NSDB_OK && has_session) {
        /* fails closed: the record could not be written, but the session still ends */
        nsdb_err d = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
        if (d == NSDB_OK)
            d = store_session_delete(c->conn, session_hash);
        d = core_end(c, d);
        if (d != NSDB_OK)
            log_event(LOG_ERROR, "logout_session_kept", "user", u->user_id, "error",
                      nsdb_err_name(d), NULL);
    }
    return e;
}

/* Deletes a session that may no longer be used. */
static NSDB_MUST_CHECK nsdb_err session_drop(core_ctx *c, const char *session_hash)
{
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_NONE, 0); /* one DELETE */
    if (e == NSDB_OK)
        e = store_session_delete(c->conn, session_hash);
    e = core_end(c, e);
    return e == NSDB_OK ? NSDB_ERR_NOT_FOUND : e;
}

nsdb_err core_session_resume(core_ctx *c, const char *session_hash, store_user **user_out)
{
    bool pending = false;
    nsdb_err e = core_session_resume_any(c, session_hash, user_out, &pending);
    if (e == NSDB_OK && pending) {
        *user_out = NULL;
        return NSDB_ERR_NOT_FOUND;
    }
    return e;
}

nsdb_err core_session_resume_any(core_ctx *c, const char *session_hash, store_user **user_out,
                                 bool *totp_pending_out)
{
    *user_out = NULL;
    *totp_pending_out = false;
    store_session s;
    nsdb_err e = store_session_find(c->conn, session_hash, &s);
    if (e != NSDB_OK)
        return e;
    const app_config *cfg = &c->app->cfg;
    if (session_expired(s.created_at, s.last_seen_at, c->who.now, cfg->session_idle_seconds,
                        cfg->session_absolute_seconds) ||
        (s.totp_pending && c->who.now - s.created_at > TOTP_PENDING_SECONDS))
        return session_drop(c, session_hash);
    store_user *u = NULL;
    e = store_user_find_by_pk(c->conn, c->arena, s.user_pk, &u);
    if (e == NSDB_ERR_NOT_FOUND || (e == NSDB_OK && u->status != ACCOUNT_STATUS_ACTIVE))
        return session_drop(c, session_hash);
    if (e != NSDB_OK)
        return e;
    if (c->who.now - s.last_seen_at >= TOUCH_INTERVAL_SECONDS) {
        /* the idle clock only: a failed touch costs the user nothing but an earlier expiry */
        e = core_begin_scoped(c, DB_SCOPE_NONE, 0); /* one UPDATE */
        if (e == NSDB_OK)
            e = store_session_touch(c->conn, session_hash, c->who.now);
        if (core_end(c, e) != NSDB_OK)
            log_event(LOG_WARN, "session_touch_failed", NULL);
    }
    *user_out = u;
    *totp_pending_out = s.totp_pending;
    return NSDB_OK;
}

nsdb_err core_password_change(core_ctx *c, const store_user *u, const char *current,
                              const char *next, core_session *session_out, nsdb_problem *pb)
{
    if (current == NULL || *current == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "current_password",
                           "現在のパスワードを入力してください。");
    if (u->locked_until > c->who.now)
        return problem_set(pb, NSDB_ERR_LOCKED, "current_password", NULL);
    if (!core_password_matches(c->app, u, current)) {
        /* guesses of the current password count towards the same lockout as logins: a session
           left open must not let anyone try passwords without limit (issue 14) */
        bool locked = false;
        nsdb_err e = password_refused(c, "password_change", u, u->user_id, "password", &locked);
        if (locked)
            return problem_set(pb, NSDB_ERR_LOCKED, "current_password", NULL);
        return problem_set(pb, e == NSDB_ERR_AUTH ? NSDB_ERR_INVALID : e, "current_password",
                           e == NSDB_ERR_AUTH ? "現在のパスワードが正しくありません。" : NULL);
    }
    if (next == NULL || *next == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "new_password",
                           "新しいパスワードを入力してください。");
    password_verdict v = password_check(next, u->user_id, u->name);
    if (v != PASSWORD_OK)
        return problem_set(pb, NSDB_ERR_INVALID, "new_password", password_verdict_message(v));
    if (strcmp(current, next) == 0)
        return problem_set(pb, NSDB_ERR_INVALID, "new_password",
                           "現在のパスワードと異なるパスワードを入力してください。");
    char hash[crypto_pwhash_STRBYTES];
    nsdb_err e = password_hash(next, c->app->cfg.cost, hash);
    if (e == NSDB_OK)
        e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_user_set_password(c->conn, u->pk, hash, c->who.now);
    /* a new session after the change: every earlier session of the user ends */
    if (e == NSDB_OK)
        e = store_session_delete_for_user(c->conn, u->pk, NULL);
    if (e == NSDB_OK)
        e = session_open(c, u->pk, session_out);
    if (e == NSDB_OK)
        e = core_audit(c, "password_change", u->user_id, "ok", NULL);
    e = core_end(c, e);
    sodium_memzero(hash, sizeof hash);
    return e == NSDB_OK ? NSDB_OK : problem_set(pb, e, NULL, NULL);
}
