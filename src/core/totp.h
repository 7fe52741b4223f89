/*
 * totp.h — two-factor authentication as operations (see actor.h): enrolment on 自アカウント管理
 * (a pending secret shown as a QR code and otpauth:// URI, confirmed by one valid code, then ten
 * one-time recovery codes shown once), the second step of a login (/login/totp: a code or a
 * recovery code; wrong ones count towards the same lockout as wrong passwords), and turning it
 * off for the roles that may. The administrator's reset is core_user_totp_reset (users.h).
 * Each writes its audit record; a secret or code never reaches a log or the audit.
 */
#ifndef NSDB_CORE_TOTP_H
#define NSDB_CORE_TOTP_H

#include <stdbool.h>

#include "core/actor.h"
#include "core/sessions.h"
#include "domain/totp.h"
#include "store/users.h"

typedef struct core_totp_enrolment {
    char secret_base32[TOTP_SECRET_BASE32_LEN + 1]; /* to type by hand; zero after rendering */
    char *uri;                                      /* otpauth://…, in the arena */
    char *qr_svg;                                   /* the QR code of uri, in the arena */
} core_totp_enrolment;

typedef struct core_recovery_codes {
    char code[TOTP_RECOVERY_CODES][TOTP_RECOVERY_CODE_LEN + 1]; /* shown once; zero after */
} core_recovery_codes;

/* The pending secret of u, made (and audited) when there is none. NSDB_ERR_CONFLICT when u has
   already enrolled. */
NSDB_MUST_CHECK nsdb_err core_totp_enrol_start(core_ctx *c, const store_user *u,
                                               core_totp_enrolment *out, nsdb_problem *pb);
/* Confirms the pending secret with a valid code (NSDB_ERR_INVALID on field "code" otherwise,
   audited) and makes the recovery codes. */
NSDB_MUST_CHECK nsdb_err core_totp_enrol_confirm(core_ctx *c, const store_user *u, const char *code,
                                                 core_recovery_codes *out, nsdb_problem *pb);
/* Turns two-factor authentication off for a role that may go without it, after a valid code
   (NSDB_ERR_INVALID on "code"); NSDB_ERR_FORBIDDEN for the roles that must keep it. */
NSDB_MUST_CHECK nsdb_err core_totp_disable(core_ctx *c, const store_user *u, const char *code,
                                           nsdb_problem *pb);
/* /login/totp: u's half-authenticated session (pending_session_hash) typed code, a TOTP code
   (a step later than the last used one) or an unused recovery code. NSDB_OK: the pending session
   is replaced by a full one (*session_out) and the login is audited. NSDB_ERR_INVALID: nothing
   typed. NSDB_ERR_AUTH: refused and counted (*locked_out: this try locked the account, which
   ended its sessions). NSDB_ERR_CONFLICT: the enrolment was reset meanwhile (session ended).
   A storage error when a refusal could not be counted. */
NSDB_MUST_CHECK nsdb_err core_login_totp(core_ctx *c, const store_user *u,
                                         const char *pending_session_hash, const char *code,
                                         core_session *session_out, bool *locked_out,
                                         nsdb_problem *pb);
/* Unused recovery codes of u. */
NSDB_MUST_CHECK nsdb_err core_totp_recovery_codes_left(core_ctx *c, const store_user *u,
                                                       int64_t *count_out);

#endif
