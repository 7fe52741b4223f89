/*
 * totp.c — see totp.h. The secret is sealed as its base32 text (secret_unseal returns text) and
 * unsealed only for the moment of a check; every copy is zeroed. A code's step and a recovery
 * code are marked used in the transaction that opens the session, by a conditional UPDATE, so a
 * replayed or concurrent second use finds nothing to update and is refused.
 */
#include "core/totp.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/sessions.h"
#include "store/totp.h"
#include "util/log.h"

#define CODE_WRONG                                                                                 \
    "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。"

/* The user's secret from its sealed form; false (logged) when it cannot be unsealed. */
static bool secret_open(core_ctx *c, const store_totp *t, unsigned char secret[TOTP_SECRET_BYTES])
{
    char *base32 = NULL;
    if (secret_unseal(&c->app->key, t->secret_sealed, t->secret_sealed_len, &base32) != NSDB_OK) {
        log_event(LOG_ERROR, "totp_secret_unreadable", NULL);
        return false;
    }
    bool ok = totp_secret_from_base32(base32, secret);
    sodium_memzero(base32, strlen(base32));
    free(base32);
    return ok;
}

/* A new pending secret for u: its base32 text in out, sealed in the store, audited. */
static NSDB_MUST_CHECK nsdb_err pending_secret_new(core_ctx *c, const store_user *u,
                                                   char out[TOTP_SECRET_BASE32_LEN + 1])
{
    unsigned char secret[TOTP_SECRET_BYTES];
    totp_secret_new(secret);
    nsdb_err e = totp_secret_base32(secret, sizeof secret, out);
    sodium_memzero(secret, sizeof secret);
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    if (e == NSDB_OK)
        e = secret_seal(&c->app->key, out, TOTP_SECRET_BASE32_LEN, &sealed, &sealed_len);
    if (e == NSDB_OK)
        e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_totp_put_pending(c->conn, u->pk, sealed, sealed_len, c->who.now);
    if (e == NSDB_OK)
        e = core_audit(c, "totp_enrol_start", u->user_id, "ok", NULL);
    e = core_end(c, e);
    free(sealed);
    return e;
}

nsdb_err core_totp_enrol_start(core_ctx *c, const store_user *u, core_totp_enrolment *out,
                               nsdb_problem *pb)
{
    memset(out, 0, sizeof *out);
    store_totp t;
    nsdb_err e = store_totp_find(c->conn, c->arena, u->pk, &t);
    if (e == NSDB_OK && t.confirmed_at != 0)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL, "二要素認証は設定済みです。");
    if (e == NSDB_OK) {
        unsigned char secret[TOTP_SECRET_BYTES];
        if (!secret_open(c, &t, secret))
            return problem_set(pb, NSDB_ERR_CRYPTO, NULL, NULL);
        e = totp_secret_base32(secret, sizeof secret, out->secret_base32);
        sodium_memzero(secret, sizeof secret);
    } else if (e == NSDB_ERR_NOT_FOUND) {
        e = pending_secret_new(c, u, out->secret_base32);
    }
    char *uri = NULL, *svg = NULL;
    if (e == NSDB_OK)
        e = totp_uri(u->user_id, out->secret_base32, &uri);
    if (e == NSDB_OK)
        e = totp_qr_svg(uri, &svg);
    if (e == NSDB_OK) {
        out->uri = arena_strdup(c->arena, uri);
        out->qr_svg = arena_strdup(c->arena, svg);
    }
    if (uri != NULL)
        sodium_memzero(uri, strlen(uri));
    free(uri);
    free(svg);
    if (e != NSDB_OK) {
        sodium_memzero(out->secret_base32, sizeof out->secret_base32);
        return problem_set(pb, e, NULL, NULL);
    }
    return NSDB_OK;
}

nsdb_err core_totp_enrol_confirm(core_ctx *c, const store_user *u, const char *code,
                                 core_recovery_codes *out, nsdb_problem *pb)
{
    memset(out, 0, sizeof *out);
    if (code == NULL || *code == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "code", "確認コードを入力してください。");
    store_totp t;
    nsdb_err e = store_totp_find(c->conn, c->arena, u->pk, &t);
    if (e == NSDB_OK && t.confirmed_at != 0)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL, "二要素認証は設定済みです。");
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL,
                           "設定の有効期限が切れました。画面を開き直してください。");
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    unsigned char secret[TOTP_SECRET_BYTES];
    if (!secret_open(c, &t, secret))
        return problem_set(pb, NSDB_ERR_CRYPTO, NULL, NULL);
    int64_t step = 0;
    bool valid = totp_verify(secret, sizeof secret, c->who.now, code, 0, &step);
    sodium_memzero(secret, sizeof secret);
    if (!valid) {
        e = core_audit_event(c, "totp_enrol", u->user_id, "failed", "code");
        return problem_set(pb, e == NSDB_OK ? NSDB_ERR_INVALID : e, "code",
                           e == NSDB_OK ? CODE_WRONG : NULL);
    }
    char hashes[TOTP_RECOVERY_CODES][SECRET_TOKEN_HASH_HEX_LEN + 1];
    const char *hash_list[TOTP_RECOVERY_CODES];
    for (int i = 0; i < TOTP_RECOVERY_CODES; i++) {
        totp_recovery_code_new(out->code[i]);
        bool hashed = totp_recovery_code_hash(&c->app->key, out->code[i], hashes[i]);
        assert(hashed); /* a code made here always has the shape of one */
        (void)hashed;
        hash_list[i] = hashes[i];
    }
    bool confirmed = false;
    e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_totp_confirm(c->conn, u->pk, step, c->who.now, hash_list, TOTP_RECOVERY_CODES,
                               &confirmed);
    if (e == NSDB_OK && !confirmed)
        e = NSDB_ERR_CONFLICT;
    if (e == NSDB_OK)
        e = core_audit(c, "totp_enrol", u->user_id, "ok", NULL);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        sodium_memzero(out, sizeof *out);
        return problem_set(pb, e, NULL,
                           e == NSDB_ERR_CONFLICT ? "画面を開き直してください。" : NULL);
    }
    return NSDB_OK;
}

nsdb_err core_totp_disable(core_ctx *c, const store_user *u, const char *code, nsdb_problem *pb)
{
    if (totp_required_for_role(u->role))
        return problem_set(pb, NSDB_ERR_FORBIDDEN, NULL,
                           "この権限では二要素認証を解除できません。");
    store_totp t;
    nsdb_err e = store_totp_find(c->conn, c->arena, u->pk, &t);
    if (e == NSDB_ERR_NOT_FOUND || (e == NSDB_OK && t.confirmed_at == 0))
        return problem_set(pb, NSDB_ERR_CONFLICT, NULL, "二要素認証は設定されていません。");
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    unsigned char secret[TOTP_SECRET_BYTES];
    if (!secret_open(c, &t, secret))
        return problem_set(pb, NSDB_ERR_CRYPTO, NULL, NULL);
    int64_t step = 0;
    bool valid = totp_verify(secret, sizeof secret, c->who.now, code, t.last_step, &step);
    sodium_memzero(secret, sizeof secret);
    bool accepted = false, removed = false;
    e = valid ? core_begin_scoped(c, DB_SCOPE_USER, u->pk) : NSDB_OK;
    if (valid && e == NSDB_OK)
        e = store_totp_use_step(c->conn, u->pk, step, &accepted);
    if (valid && e == NSDB_OK && accepted)
        e = store_totp_delete(c->conn, u->pk, c->who.now, &removed);
    if (valid && e == NSDB_OK && accepted)
        e = core_audit(c, "totp_disable", u->user_id, "ok", NULL);
    if (valid)
        e = core_end(c, e);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (!accepted) {
        e = core_audit_event(c, "totp_disable", u->user_id, "failed", "code");
        return problem_set(pb, e == NSDB_OK ? NSDB_ERR_INVALID : e, "code",
                           e == NSDB_OK ? CODE_WRONG : NULL);
    }
    return NSDB_OK;
}

/* Marks the typed code used — a TOTP step later than the last one, or an unused recovery code —
   and, when it was, replaces the pending session by a full one with the login's record; all in
   one transaction. *accepted_out is false when nothing matched. */
static NSDB_MUST_CHECK nsdb_err second_factor_accept(core_ctx *c, const store_user *u,
                                                     const store_totp *t,
                                                     const char *pending_session_hash,
                                                     const char *code, core_session *session_out,
                                                     bool *accepted_out)
{
    *accepted_out = false;
    int64_t step = 0;
    bool is_totp = totp_looks_like_code(code);
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    if (is_totp) {
        unsigned char secret[TOTP_SECRET_BYTES];
        if (!secret_open(c, t, secret))
            return NSDB_ERR_CRYPTO;
        bool valid = totp_verify(secret, sizeof secret, c->who.now, code, t->last_step, &step);
        sodium_memzero(secret, sizeof secret);
        if (!valid)
            return NSDB_OK;
    } else if (!totp_recovery_code_hash(&c->app->key, code, hash)) {
        return NSDB_OK;
    }
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = is_totp ? store_totp_use_step(c->conn, u->pk, step, accepted_out)
                    : store_totp_use_recovery_code(c->conn, u->pk, hash, c->who.now, accepted_out);
    if (e == NSDB_OK && *accepted_out) {
        e = store_user_login_succeeded(c->conn, u->pk, c->who.now, NULL);
        if (e == NSDB_OK)
            e = store_session_delete(c->conn, pending_session_hash);
        if (e == NSDB_OK)
            e = core_session_open(c, u->pk, session_out);
        if (e == NSDB_OK)
            e = core_audit(c, "login", u->user_id, "ok", is_totp ? "totp" : "recovery_code");
    }
    e = core_end(c, e);
    if (e != NSDB_OK) {
        *accepted_out = false;
        sodium_memzero(session_out, sizeof *session_out);
    }
    return e;
}

nsdb_err core_login_totp(core_ctx *c, const store_user *u, const char *pending_session_hash,
                         const char *code, core_session *session_out, bool *locked_out,
                         nsdb_problem *pb)
{
    *locked_out = false;
    if (code == NULL || code[strspn(code, " ")] == '\0')
        return problem_set(pb, NSDB_ERR_INVALID, "code", "確認コードを入力してください。");
    /* the try is taken before the code is checked, as for a password, so parallel guesses check
       at most max_login_failures codes */
    bool allowed = false;
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
    if (e == NSDB_OK)
        e = store_user_login_reserve(c->conn, u->pk, c->who.now, c->app->cfg.max_login_failures,
                                     &allowed);
    e = core_end(c, e);
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "login_failure_not_recorded", "reason", "reserve", "error",
                  nsdb_err_name(e), NULL);
        return problem_set(pb, e, NULL, NULL);
    }
    if (!allowed)
        return problem_set(pb, core_login_refused(c, u, "locked", locked_out), "code", NULL);
    store_totp t;
    e = store_totp_find(c->conn, c->arena, u->pk, &t);
    if (e == NSDB_ERR_NOT_FOUND || (e == NSDB_OK && t.confirmed_at == 0)) {
        /* reset by an administrator after the password was typed: start again */
        e = core_begin_scoped(c, DB_SCOPE_USER, u->pk);
        if (e == NSDB_OK)
            e = store_user_login_release(c->conn, u->pk, NULL);
        if (e == NSDB_OK)
            e = store_session_delete(c->conn, pending_session_hash);
        e = core_end(c, e);
        return problem_set(pb, e == NSDB_OK ? NSDB_ERR_CONFLICT : e, NULL,
                           "二要素認証の設定が変更されました。もう一度ログインしてください。");
    }
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    bool accepted = false;
    e = second_factor_accept(c, u, &t, pending_session_hash, code, session_out, &accepted);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    if (accepted)
        return NSDB_OK;
    return problem_set(pb, core_login_refused(c, u, "totp", locked_out), "code", NULL);
}

nsdb_err core_totp_recovery_codes_left(core_ctx *c, const store_user *u, int64_t *count_out)
{
    return store_totp_recovery_codes_left(c->conn, u->pk, count_out);
}
