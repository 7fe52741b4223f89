/*
 * store.h — typed accessors over the storage interface: the only place that knows table and
 * column names. Rows returned are allocated in the caller's arena. Every function that changes
 * data runs inside the caller's transaction (db_begin/db_commit) so that an audit record can be
 * written with it.
 */
#ifndef NSDB_STORE_H
#define NSDB_STORE_H

#include <stdbool.h>
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
    /* leave the name index (user_grams) to store_user_grams_add_batch, which adds a whole
       import batch's users in one statement before the transaction commits (the users are
       not to be changed in between) */
    bool defer_grams;
} store_user_new;

nsdb_err store_user_insert(db *conn, const store_user_new *u, int64_t now, int64_t *pk_out);
/* user_id is compared case-insensitively (stored upper case). */
nsdb_err store_user_find_by_user_id(db *conn, arena *a, const char *user_id, store_user **out);
nsdb_err store_user_find_by_pk(db *conn, arena *a, int64_t pk, store_user **out);
nsdb_err store_user_count(db *conn, int64_t *count_out);
/* Increments the failure count; locks until now+lock_seconds when it reaches max_failures.
   *locked_out tells whether this failure locked the account. */
nsdb_err store_user_login_failed(db *conn, int64_t pk, int64_t now, int max_failures,
                                 int64_t lock_seconds, bool *locked_out);
/* Resets failures; replaces the hash when rehash != NULL (cost raised in configuration). */
nsdb_err store_user_login_succeeded(db *conn, int64_t pk, int64_t now, const char *rehash);
/* The user's own new password: stores the hash, destroys the sealed initial password, ends the
   forced change and sets the notice status to active. */
nsdb_err store_user_set_password(db *conn, int64_t pk, const char *hash, int64_t now);

typedef struct store_municipality {
    int64_t pk;
    const char *code;
    const char *name;
    const char *postal;
    const char *address;
} store_municipality;

nsdb_err store_municipality_insert(db *conn, const char *code, const char *name,
                                   const char *postal, const char *address, int64_t now,
                                   int64_t *pk_out);
nsdb_err store_municipality_find_by_code(db *conn, arena *a, const char *code,
                                         store_municipality **out);

typedef struct store_session {
    int64_t user_pk;
    int64_t created_at;
    int64_t last_seen_at;
} store_session;

nsdb_err store_session_insert(db *conn, const char *token_hash, int64_t user_pk, int64_t now,
                              const char *client_ip);
nsdb_err store_session_find(db *conn, const char *token_hash, store_session *out);
nsdb_err store_session_touch(db *conn, const char *token_hash, int64_t now);
nsdb_err store_session_delete(db *conn, const char *token_hash);
/* Ends every session of the user except keep_token_hash (NULL: all). */
nsdb_err store_session_delete_for_user(db *conn, int64_t user_pk, const char *keep_token_hash);
nsdb_err store_session_delete_expired(db *conn, int64_t idle_before, int64_t created_before);

typedef struct store_audit {
    int64_t id;
    int64_t at;
    int64_t actor_user_pk; /* 0: none (anonymous or command line) */
    const char *actor_user_id;
    const char *client_ip;
    const char *action;
    const char *target;
    const char *result; /* "ok", "denied", "failed" … */
    const char *detail;
} store_audit;

nsdb_err store_audit_insert(db *conn, const store_audit *entry);
/* Newest first; at most limit rows. *rows_out is an arena array of *count_out entries. */
nsdb_err store_audit_list(db *conn, arena *a, int64_t limit, store_audit **rows_out,
                          size_t *count_out);


/* ---- users: profile, status, search (scope in the query) ---- */

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
nsdb_err store_user_update_profile(db *conn, int64_t pk, const store_user_profile *p,
                                   const char *search_key, int64_t now);
nsdb_err store_user_set_status(db *conn, int64_t pk, account_status status, int64_t now);
/* unissued → issued; an issued or active user is left as it is. */
nsdb_err store_user_mark_notice_issued(db *conn, int64_t pk, int64_t now);
/* パスワード初期化: a new sealed initial password, no chosen hash, status 未発行, forced change,
   lock cleared. The caller also ends the user's sessions. */
nsdb_err store_user_reset_password(db *conn, int64_t pk, const unsigned char *sealed,
                                   size_t sealed_len, int64_t now);
/* The user with this ID in the municipality, or NSDB_ERR_NOT_FOUND (also for another
   municipality's user: scope is part of the query). roles_sql_in: e.g. "'muni_admin','muni_staff'". */
nsdb_err store_user_find_in_municipality(db *conn, arena *a, int64_t municipality_pk,
                                         const char *user_id, store_user **out);
/* A municipal administrator of the municipality with this e-mail address (払出し 変更/削除). */
nsdb_err store_user_find_muni_admin_by_email(db *conn, arena *a, int64_t municipality_pk,
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

/* Adds the name index rows of the users with from_pk <= id <= to_pk registered by one import
   batch (see defer_grams), and counts them in their municipality's inst_users; a few thousand
   users at a time keep the grouping's memory small. */
nsdb_err store_user_grams_add_batch(db *conn, int64_t municipality_pk, int64_t batch_id,
                                    int64_t from_pk, int64_t to_pk);

/* Searches never count past this: *total_out is then STORE_SEARCH_COUNT_CAP + 1. */
#define STORE_SEARCH_COUNT_CAP 10000
nsdb_err store_user_search(db *conn, arena *a, const store_user_query *q, store_user **rows_out,
                           size_t *count_out, int64_t *total_out);

/* ---- medical institutions (医療機関) ---- */

typedef struct store_institution {
    int64_t pk;
    const char *code;
    const char *name;
    const char *postal;
    const char *address;
    const char *phone;
} store_institution;

nsdb_err store_institution_find_by_code(db *conn, arena *a, const char *code,
                                        store_institution **out);
nsdb_err store_institution_insert(db *conn, const char *code, const char *name,
                                  const char *postal, const char *address, const char *phone,
                                  int64_t now, int64_t *pk_out);
/* A user of the institution with the same name key and category (duplicate registration). */
nsdb_err store_user_find_duplicate(db *conn, arena *a, int64_t institution_pk,
                                   const char *search_key, const char *category,
                                   store_user **out);
/* Institution users of one institution (the 責任者's screen), any municipality. */
nsdb_err store_user_find_in_institution(db *conn, arena *a, int64_t institution_pk,
                                        const char *user_id, store_user **out);

/* ---- registration notifications (指定医マスタの登録通知) ---- */

typedef struct store_registration {
    const char *municipality_code;
    const char *municipality_name;
    const char *institution_code;
    const char *institution_name;
    const char *user_id;
    user_role role;
    const char *cycle_id;
    int64_t registered_at;
} store_registration;

/* warnings: one sentence a line, or NULL. */
nsdb_err store_import_batch_insert(db *conn, int64_t municipality_pk, int64_t created_by,
                                   const char *filenames, int64_t row_count, const char *warnings,
                                   int64_t now, int64_t *id_out);
/* The warnings of a batch of the municipality (NULL when none). */
nsdb_err store_import_batch_warnings(db *conn, arena *a, int64_t municipality_pk, int64_t batch_id,
                                     const char **warnings_out);
nsdb_err store_registration_insert(db *conn, int64_t user_pk, int64_t municipality_pk,
                                   int64_t institution_pk, const char *cycle_id, int64_t batch_id,
                                   int64_t now);
/* Calls fn for each registration of the cycle (all cycles when cycle_id is NULL), ordered by
   municipality, institution, user; stops when fn returns non-zero. */
nsdb_err store_registration_each(db *conn, const char *cycle_id,
                                 int (*fn)(void *cls, const store_registration *r), void *cls);
/* The users registered by one import batch, within the municipality (scope). */
nsdb_err store_registration_batch_users(db *conn, arena *a, int64_t municipality_pk,
                                        int64_t batch_id, store_user **rows_out,
                                        size_t *count_out);

/* ---- API tokens ---- */

nsdb_err store_api_token_insert(db *conn, const char *name, const char *token_hash, int64_t now);
/* NSDB_ERR_NOT_FOUND for an unknown or revoked token. */
nsdb_err store_api_token_check(db *conn, const char *token_hash, int64_t now);

/* ---- municipalities ---- */

/* Creates the municipality or updates its name, postal code and address (払出し). */
nsdb_err store_municipality_upsert(db *conn, const char *code, const char *name,
                                   const char *postal, const char *address, int64_t now,
                                   int64_t *pk_out, bool *created_out);

/* ---- admin application lists (管理者権限のユーザID申請リスト) ---- */

typedef struct store_admin_list {
    int64_t id;
    admin_list_status status;
    const char *filename;
    const char *file_sha256;
    int64_t row_count;
    int64_t uploaded_at;
    const char *uploaded_by_user_id;
    int64_t decided_at;
    const char *reject_reason;
    int64_t issued_at;
} store_admin_list;

typedef struct store_admin_list_row {
    int64_t id;
    int64_t row_number;
    const char *municipality_code;
    const char *municipality_name;
    const char *category;
    const char *department;
    const char *title;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *phone;
    const char *extension;
    const char *request_type; /* new, change, delete */
    const char *note;
    const char *postal;
    const char *address;
    const char *outcome;
    const char *issued_user_id;
} store_admin_list_row;

nsdb_err store_admin_list_insert(db *conn, const char *filename, const char *sha256,
                                 const void *data, size_t len, int64_t row_count,
                                 int64_t uploaded_by, int64_t now, int64_t *id_out);
nsdb_err store_admin_list_row_insert(db *conn, int64_t list_id, const store_admin_list_row *r);
nsdb_err store_admin_list_find_by_sha256(db *conn, const char *sha256, int64_t *id_out);
nsdb_err store_admin_list_get(db *conn, arena *a, int64_t id, store_admin_list **out);
/* Newest first. status 0: all. */
nsdb_err store_admin_list_all(db *conn, arena *a, admin_list_status status,
                              store_admin_list **rows_out, size_t *count_out);
nsdb_err store_admin_list_rows(db *conn, arena *a, int64_t list_id,
                               store_admin_list_row **rows_out, size_t *count_out);
/* Takes action on a list in `from` (admin_list_status_can gives the new status); *changed_out
   false when the move is not allowed from `from` or the list is no longer in it. */
nsdb_err store_admin_list_transition(db *conn, int64_t id, admin_list_status from,
                                     admin_list_action action, int64_t by, int64_t now,
                                     const char *reason, bool *changed_out);
/* The original file, malloc'd. */
nsdb_err store_admin_list_file(db *conn, arena *a, int64_t id, const char **filename_out,
                               const void **data_out, size_t *len_out);
nsdb_err store_admin_list_row_set_outcome(db *conn, int64_t row_id, int64_t user_pk,
                                          const char *outcome);

/* ---- mail outbox ---- */

typedef struct store_outbox_mail {
    int64_t id;
    const char *to_address;
    const unsigned char *sealed;
    size_t sealed_len;
    int64_t attempts;
} store_outbox_mail;

nsdb_err store_outbox_insert(db *conn, const char *to_address, const char *purpose,
                             const unsigned char *sealed, size_t sealed_len, int64_t now);
/* Pending messages due at now (all pending when now < 0), oldest first. */
nsdb_err store_outbox_due(db *conn, arena *a, int64_t now, int64_t limit,
                          store_outbox_mail **rows_out, size_t *count_out);
nsdb_err store_outbox_mark_sent(db *conn, int64_t id, int64_t now);
nsdb_err store_outbox_mark_retry(db *conn, int64_t id, int64_t next_attempt_at, const char *error,
                                 bool give_up);
nsdb_err store_outbox_counts(db *conn, int64_t *pending_out, int64_t *sent_out,
                             int64_t *failed_out);

#endif
