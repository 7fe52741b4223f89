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

#include "store/db.h"
#include "util/arena.h"

typedef struct store_user {
    int64_t pk;
    const char *user_id;
    const char *role;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *department;
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
    const char *notice_status;
    const char *status;
    bool must_change_password;
    int64_t failed_logins;
    int64_t locked_until;
    int64_t created_at;
} store_user;

typedef struct store_user_new {
    const char *user_id;
    const char *role;
    const char *name;
    const char *name_kana;
    const char *email;
    const char *department;
    const char *category;
    int64_t municipality_pk;
    int64_t institution_pk;
    const char *doctor_number;
    const char *specialty;
    const unsigned char *initial_sealed;
    size_t initial_sealed_len;
    int64_t created_by; /* 0 = command line */
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

#endif
