/*
 * sessions.h — ログイン, ログアウト, the session of a request and 自アカウント管理's password
 * change, as operations (see actor.h). Unknown user, wrong password and a locked account get the
 * same answer in the same time. A login attempt whose failure cannot be counted or audited fails
 * closed: it is refused as the database being unavailable, never counted as nothing.
 */
#ifndef NSDB_CORE_SESSIONS_H
#define NSDB_CORE_SESSIONS_H

#include <stdbool.h>

#include "core/actor.h"
#include "domain/secret.h"
#include "domain/session_token.h"
#include "store/sessions.h"
#include "store/users.h"

typedef struct core_session {
    char token[SESSION_TOKEN_TEXT_LEN + 1];    /* the cookie value: never logged */
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];  /* what the database holds */
} core_session;

/* The password against the user's chosen hash or, before the first change, the sealed initial
   password (constant time; the same time either way). */
bool core_password_matches(app *a, const store_user *u, const char *password);

/* user_id as typed (trimmed and upper-cased here). NSDB_OK: *user_out logged in with a new
   session — half-authenticated when the user enrolled in two-factor authentication
   (u->totp_enrolled_at != 0: core_login_totp completes the login). NSDB_ERR_AUTH (unknown,
   wrong, locked or suspended: one answer; *locked_out tells
   whether this attempt locked the account), or a storage error (also when a failed attempt could
   not be counted: then nothing is to be shown as a plain wrong password). */
NSDB_MUST_CHECK nsdb_err core_login(core_ctx *c, const char *user_id, const char *password,
                                    store_user **user_out, core_session *session_out,
                                    bool *locked_out, nsdb_problem *pb);
/* Ends the session with this hash (ログアウト); audited. */
NSDB_MUST_CHECK nsdb_err core_logout(core_ctx *c, const store_user *u, const char *session_hash);
/* The logged-in user of a session cookie's hash: NSDB_ERR_NOT_FOUND for none, an expired session
   (deleted), a user no longer active or a half-authenticated session (second factor due);
   touches the session at most once a minute. */
NSDB_MUST_CHECK nsdb_err core_session_resume(core_ctx *c, const char *session_hash,
                                             store_user **user_out);
/* The same, also for a half-authenticated session: *totp_pending_out tells that the session was
   opened by a password and the second factor is still due (such a session ends five minutes
   after it was opened). The router's, which lets it reach /login/totp and logout only. */
NSDB_MUST_CHECK nsdb_err core_session_resume_any(core_ctx *c, const char *session_hash,
                                                 store_user **user_out, bool *totp_pending_out);
/* For core/totp.c: a new session row inside the caller's transaction; and a refused login try
   of u (why "totp": a wrong code, counted like a wrong password; "locked": no try left),
   recorded in its own transaction — NSDB_ERR_AUTH when recorded, else the storage error. */
NSDB_MUST_CHECK nsdb_err core_session_open(core_ctx *c, int64_t user_pk, core_session *out);
NSDB_MUST_CHECK nsdb_err core_login_refused(core_ctx *c, const store_user *u, const char *why,
                                            bool *locked);
/* 自アカウント管理: checks the current password (a wrong one counts towards the lockout, which
   ends every session of the user: NSDB_ERR_LOCKED) and the policy, stores the new hash, ends every
   session of the user and opens a new one. pb->field names the form field refused. */
NSDB_MUST_CHECK nsdb_err core_password_change(core_ctx *c, const store_user *u,
                                              const char *current, const char *next,
                                              core_session *session_out, nsdb_problem *pb);

#endif
