/*
 * users.h — the users table (accounts of every role): creation, lookup,
 * login failures and lockout, passwords, profile and status, and the scoped search over the name
 * index (user_grams). Rows are allocated in the caller's arena; every function that changes data
 * runs inside the caller's transaction (db_begin/db_commit), so that its audit record commits with it.
 */
#ifndef NSDB_STORE_USERS_H
#define NSDB_STORE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "store/db.h"
#include "util/arena.h"

typedef struct store_user {
    int64_t pk;
    const char *user_id;
    user_role role;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *department;
    const char *title;
    const char *phone;
    const char *category;
    int64_t municipality_pk; /* 0 when none */
    int64_t institution_pk;  /* 0 when none */
    const char *municipality_code;
    const char *municipality_name;
    const char *institution_code;
    const char *institution_name;
    const char *password_hash; /* NULL until the user chose a password */
    const unsigned char *initial_sealed;
    size_t initial_sealed_len;
    notice_status notice_status;
    account_status status;
    bool must_change_password;
    int64_t failed_logins;
    int64_t locked_until;
    int64_t created_at;
    int64_t totp_enrolled_at;    /* 0 until two-factor enrolment is confirmed */
    int64_t initial_password_by; /* who set the current initial password (0: the CLI, unknown) */
    const char *doctor_number;   /* 指定医番号 (institution users; NULL when none) */
    const char *specialty;       /* 診療科 */
} store_user;

typedef struct store_user_new {
    const char *user_id;
    user_role role;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *department;
    const char *category;
    int64_t municipality_pk;
    int64_t institution_pk;
    const char *doctor_number;
    const char *specialty;
    const char *title;
    const char *phone;
    const char *search_key; /* text_search_key of name and kana */
    const unsigned char *initial_sealed;
    size_t initial_sealed_len;
    int64_t created_by; /* 0 = command line */
} store_user_new;

NSDB_MUST_CHECK nsdb_err store_user_insert(db *conn, const store_user_new *u, int64_t now,
                                           int64_t *pk_out);
/* user_id is compared case-insensitively (stored upper case). */
NSDB_MUST_CHECK nsdb_err store_user_find_by_user_id(db *conn, arena *a, const char *user_id,
                                                    store_user **out);
NSDB_MUST_CHECK nsdb_err store_user_find_by_pk(db *conn, arena *a, int64_t pk, store_user **out);
NSDB_MUST_CHECK nsdb_err store_user_count(db *conn, int64_t *count_out);
/* Increments the failure count; locks until now+lock_seconds when it reaches max_failures.
   *locked_out tells whether this failure locked the account. */
NSDB_MUST_CHECK nsdb_err store_user_login_failed(db *conn, int64_t pk, int64_t now,
                                                 int max_failures, int64_t lock_seconds,
                                                 bool *locked_out);
/* A login attempt takes one of the max_failures tries before its password is checked, so that
   parallel guesses cannot check more passwords than that (the count is reset by a success):
   *allowed_out false when the account is locked or its tries are all in use. */
NSDB_MUST_CHECK nsdb_err store_user_login_reserve(db *conn, int64_t pk, int64_t now,
                                                  int max_failures, bool *allowed_out);
/* After a wrong password whose try was reserved: locks until now+lock_seconds when the tries are
   spent (*locked_out). */
NSDB_MUST_CHECK nsdb_err store_user_login_lock_if_spent(db *conn, int64_t pk, int64_t now,
                                                        int max_failures, int64_t lock_seconds,
                                                        bool *locked_out);
/* Gives back the try a login reserved, when the password was right but the second factor is
   still due: the codes typed at /login/totp take their own tries, so the password alone neither
   spends one nor resets the count. Replaces the hash when rehash != NULL (a password of an
   older cost, typed right). */
NSDB_MUST_CHECK nsdb_err store_user_login_release(db *conn, int64_t pk, const char *rehash);
/* Resets failures; replaces the hash when rehash != NULL (cost raised in configuration). */
NSDB_MUST_CHECK nsdb_err store_user_login_succeeded(db *conn, int64_t pk, int64_t now,
                                                    const char *rehash);
/* The user's own new password: stores the hash, destroys the sealed initial password, ends the
   forced change and sets the notice status to active. */
NSDB_MUST_CHECK nsdb_err store_user_set_password(db *conn, int64_t pk, const char *hash,
                                                 int64_t now);

/* ---- profile, status, scoped lookups ---- */

typedef struct store_user_profile {
    const char *name;
    const char *name_kana;
    const char *email;
    const char *department;
    const char *title;
    const char *phone;
    const char *category;
} store_user_profile;

/* Also refreshes the search key column. */
NSDB_MUST_CHECK nsdb_err store_user_update_profile(db *conn, int64_t pk,
                                                   const store_user_profile *p,
                                                   const char *search_key, int64_t now);
NSDB_MUST_CHECK nsdb_err store_user_set_status(db *conn, int64_t pk, account_status status,
                                               int64_t now);
/* unissued → issued; an issued or active user is left as it is. */
NSDB_MUST_CHECK nsdb_err store_user_mark_notice_issued(db *conn, int64_t pk, int64_t now);
/* パスワード初期化: a new sealed initial password, no chosen hash, status 未発行, forced change,
   lock cleared. The caller also ends the user's sessions. */
/* by: who reset it (recorded as who set the initial password; 0 for the command line). */
NSDB_MUST_CHECK nsdb_err store_user_reset_password(db *conn, int64_t pk,
                                                   const unsigned char *sealed, size_t sealed_len,
                                                   int64_t by, int64_t now);
/* The user with this ID in the municipality, or NSDB_ERR_NOT_FOUND (also for another
   municipality's user: scope is part of the query). roles_sql_in: e.g. "'muni_admin','muni_staff'". */
NSDB_MUST_CHECK nsdb_err store_user_find_in_municipality(db *conn, arena *a,
                                                         int64_t municipality_pk,
                                                         const char *user_id, store_user **out);
/* A municipal administrator of the municipality with this e-mail address (払出し 変更/削除). */
/* A municipal user (muni_admin or muni_staff) of the municipality with this name and e-mail
   address (case aside), or NSDB_ERR_NOT_FOUND: the same person registered twice. */
NSDB_MUST_CHECK nsdb_err store_user_find_same_municipal_user(db *conn, arena *a,
                                                             int64_t municipality_pk,
                                                             const char *name, const char *email,
                                                             store_user **out);
/* Every muni_admin of the municipality with that code (none when it does not exist yet), oldest
   first: the candidates a 変更 or 削除 row of an admin list may mean. */
NSDB_MUST_CHECK nsdb_err store_user_muni_admins(db *conn, arena *a, const char *municipality_code,
                                                store_user **rows_out, size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_user_find_muni_admin_by_email(db *conn, arena *a,
                                                             int64_t municipality_pk,
                                                             const char *email, store_user **out);

typedef struct store_user_query {
    int64_t municipality_pk; /* required: the scope */
    bool municipal_roles;    /* true: muni_admin and muni_staff; false: institution users */
    const char *search_key;  /* NULL or "": any; matched against name/kana key, ID, department */
    const char *user_id_upper;
    notice_status notice_status;   /* 0: any */
    account_status account_status; /* 0: any */
    /* institution users only (NULL / 0: any) */
    const char *inst_code;
    const char *inst_name_like; /* substring of the institution's name */
    const char *category;       /* nanbyo / shoman / both: "nanbyo" also finds "both" */
    user_role role;             /* 0: any; doctor / inst_manager */
    int64_t institution_pk;     /* an institution's own screen: scope to it */
    int64_t created_from;       /* Unix time, inclusive */
    int64_t created_to;         /* Unix time, exclusive */
    int64_t limit;
    int64_t offset;
} store_user_query;

/* Searches never count past this: *total_out is then STORE_SEARCH_COUNT_CAP + 1. */
#define STORE_SEARCH_COUNT_CAP 10000
NSDB_MUST_CHECK nsdb_err store_user_search(db *conn, arena *a, const store_user_query *q,
                                           store_user **rows_out, size_t *count_out,
                                           int64_t *total_out);

/* A user of the institution with the same name key and role and either the same category
   (duplicate registration: the 責任者 who is also a doctor there has one account of each role)
   or, when doctor_number is not NULL, the same 指定医番号 (the same doctor, maybe of the other
   category); the oldest. */
NSDB_MUST_CHECK nsdb_err store_user_find_duplicate(db *conn, arena *a, int64_t institution_pk,
                                                   const char *search_key, const char *category,
                                                   user_role role, const char *doctor_number,
                                                   store_user **out);
/* *shown: user pk is registered one by one or by a visible import batch — not by a batch still
   being written (store/visible.h), which may yet fail and take the user with it. */
NSDB_MUST_CHECK nsdb_err store_user_is_shown(db *conn, int64_t pk, bool *shown);
/* 難病/小慢 of one user as it is now, in a; the user locked for the rest of the transaction
   (PostgreSQL: FOR UPDATE; SQLite has one writer). NSDB_ERR_NOT_FOUND when there is none. */
NSDB_MUST_CHECK nsdb_err store_user_category_locked(db *conn, arena *a, int64_t pk,
                                                    const char **category_out);
/* 難病/小慢 of one user (a doctor registered again for the other category becomes both). */
NSDB_MUST_CHECK nsdb_err store_user_set_category(db *conn, int64_t pk, const char *category,
                                                 int64_t now);

/* What an institution user's record holds beyond the profile. */
typedef struct store_user_record {
    user_role role; /* doctor or inst_manager */
    int64_t institution_pk;
    const char *doctor_number, *specialty;
} store_user_record;

NSDB_MUST_CHECK nsdb_err store_user_update_record(db *conn, int64_t pk, const store_user_record *r,
                                                  int64_t now);
/* A municipal user's role (muni_staff ↔ muni_admin). */
NSDB_MUST_CHECK nsdb_err store_user_set_role(db *conn, int64_t pk, user_role role, int64_t now);
/* The municipality's muni_admin users that are not suspended. */
NSDB_MUST_CHECK nsdb_err store_user_count_active_admins(db *conn, int64_t municipality_pk,
                                                        int64_t *count_out);
/* The user with this ID registered by the municipality at the institution (the 責任者's screen):
   institutions are shared between municipalities, so both are the scope (issue 14, finding 1). */
NSDB_MUST_CHECK nsdb_err store_user_find_in_institution(db *conn, arena *a, int64_t municipality_pk,
                                                        int64_t institution_pk, const char *user_id,
                                                        store_user **out);

#endif
