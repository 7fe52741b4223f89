/*
 * users.h — the operations on accounts other than registration into the designated-doctor
 * master: adding a ministry, operator or municipal user (the command line and 自治体ユーザ新規登録
 * alike), editing a profile, パスワード初期化 and 利用停止/再開. Each validates, owns its
 * transaction and writes its audit record (see actor.h).
 */
#ifndef NSDB_CORE_USERS_H
#define NSDB_CORE_USERS_H

#include <stdbool.h>

#include "core/accounts.h"
#include "core/actor.h"
#include "store/municipalities.h"
#include "store/sessions.h"
#include "store/users.h"

typedef struct user_add_input {
    const char *role; /* mhlw, operator, muni_admin, muni_staff */
    const char *name, *name_kana, *email, *department, *category;
    /* the command line names the municipality by its code; a municipal admin adds users to
       their own municipality (c->who.municipality_pk) and leaves this NULL */
    const char *municipality_code;
    /* the command line (SPEC §4: `user add --role --name [--municipality] [--email]`) may leave
       out 氏名カナ, メールアドレス and 難病/小慢; what it gives is checked by the same rules */
    bool profile_optional;
} user_add_input;

/* Validates every field with the rules of the forms (a municipal user needs 氏名, 氏名カナ,
   メールアドレス and 難病/小慢, as on 自治体ユーザ新規登録, unless profile_optional), issues the account with its search key
   and writes user_create. NSDB_ERR_INVALID / NOT_FOUND / FORBIDDEN with *pb naming the field. */
NSDB_MUST_CHECK nsdb_err core_user_add(core_ctx *c, const user_add_input *in,
                                       accounts_issued *out, nsdb_problem *pb);

typedef struct user_profile_input {
    const char *name, *name_kana, *email, *department, *category;
    /* a municipal user's new role (muni_staff / muni_admin); NULL keeps it */
    const char *role;
} user_profile_input;

/* The operations on an existing user (target) check scope themselves, whatever the caller looked
   up: a municipal actor reaches its municipality's users only, a 責任者 only the users its own
   municipality registered at its institution; anything else is NSDB_ERR_NOT_FOUND and a
   scope_denied audit record. */

/* 編集: the same rules as core_user_add for the target's kind of user (e-mail optional for
   institution users); title and phone are kept. A municipal user's role may change between
   muni_staff and muni_admin, never so that the municipality is left without an active
   muni_admin (NSDB_ERR_CONFLICT); the target's sessions end, so the new role's rules (two-factor
   for an admin) apply from its next login. The audit record names what changed, old → new. */
NSDB_MUST_CHECK nsdb_err core_user_update_profile(core_ctx *c, const store_user *target,
                                                  const user_profile_input *in, nsdb_problem *pb);

/* 医療機関ユーザの編集 (issue 12, item 6): the whole record as registered. */
typedef struct inst_user_edit_input {
    const char *name, *name_kana, *email, *category;
    const char *user_type; /* doctor | inst_manager */
    const char *doctor_number, *specialty;
    const char *inst_code; /* another code moves the user to that (registered) institution */
} inst_user_edit_input;

/* Checks every field as 個別登録 does (指定医番号 required for a doctor) and saves it, by a
   municipal actor only. A move needs a registered institution and no duplicate there (same
   person, category and role); the registration then names the new institution and the current
   cycle, so the next media build finds it like a new registration. A change of user type or
   institution ends the user's sessions. One user_update audit record lists what changed, old → new. */
NSDB_MUST_CHECK nsdb_err core_inst_user_update(core_ctx *c, const store_user *target,
                                               const inst_user_edit_input *in, nsdb_problem *pb);
/* パスワード初期化: a new sealed initial password, notice status 未発行, sessions ended. Not on
   oneself (NSDB_ERR_CONFLICT). */
NSDB_MUST_CHECK nsdb_err core_user_reset_password(core_ctx *c, const store_user *target,
                                                  nsdb_problem *pb);
/* 利用停止 (suspend) / 再開; suspending ends the user's sessions. Not on oneself. */
/* 二要素認証の初期化: removes the target's secret and recovery codes (audited), so that the
   next login needs the password only and a role that must enrol is sent to enrol again.
   NSDB_ERR_CONFLICT for oneself or a user not enrolled. */
NSDB_MUST_CHECK nsdb_err core_user_totp_reset(core_ctx *c, const store_user *target,
                                              nsdb_problem *pb);
NSDB_MUST_CHECK nsdb_err core_user_set_suspended(core_ctx *c, const store_user *target,
                                                 bool suspend, nsdb_problem *pb);

/* Why the actor may not print target's notice (a 責任者: only of a password they reset
   themselves), or NULL. core_notices_printed refuses such a user with NSDB_ERR_FORBIDDEN. */
const char *core_notice_refusal(const core_ctx *c, const store_user *target);

/* ID・PW発行通知書 printed for users[0..n): each 未発行 becomes 発行済 and each print is audited
   (notice_print; detail "bulk" when several), in one transaction. */
NSDB_MUST_CHECK nsdb_err core_notices_printed(core_ctx *c, store_user *const *users, size_t n);

#endif
