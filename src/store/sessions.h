/*
 * sessions.h — login sessions, stored by the hash of their token. Writes run inside
 * the caller's transaction.
 */
#ifndef NSDB_STORE_SESSIONS_H
#define NSDB_STORE_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

typedef struct store_session {
    int64_t user_pk;
    int64_t created_at;
    int64_t last_seen_at;
    bool totp_pending; /* opened by a password; the second factor is still due */
} store_session;

NSDB_MUST_CHECK nsdb_err store_session_insert(db *conn, const char *token_hash, int64_t user_pk,
                                              int64_t now, const char *client_ip);
/* Marks a session as half-authenticated: only /login/totp and logout accept it. */
NSDB_MUST_CHECK nsdb_err store_session_mark_totp_pending(db *conn, const char *token_hash);
NSDB_MUST_CHECK nsdb_err store_session_find(db *conn, const char *token_hash, store_session *out);
NSDB_MUST_CHECK nsdb_err store_session_touch(db *conn, const char *token_hash, int64_t now);
NSDB_MUST_CHECK nsdb_err store_session_delete(db *conn, const char *token_hash);
/* Ends every session of the user except keep_token_hash (NULL: all). */
NSDB_MUST_CHECK nsdb_err store_session_delete_for_user(db *conn, int64_t user_pk,
                                                       const char *keep_token_hash);
NSDB_MUST_CHECK nsdb_err store_session_delete_expired(db *conn, int64_t idle_before,
                                                      int64_t created_before);

#endif
