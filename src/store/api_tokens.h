/*
 * api_tokens.h — API tokens, stored by their hash, each with an expiry and an optional
 * revocation. Writes (a check records the token's use) run inside the caller's transaction.
 */
#ifndef NSDB_STORE_API_TOKENS_H
#define NSDB_STORE_API_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_api_token {
    int64_t id;
    const char *name;
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at; /* 0: never used */
    int64_t revoked_at;   /* 0: not revoked */
} store_api_token;

/* Why a token was refused (store_api_token_check). */
typedef enum store_api_token_refusal {
    API_TOKEN_REFUSED_UNKNOWN = 1,
    API_TOKEN_REFUSED_REVOKED,
    API_TOKEN_REFUSED_EXPIRED,
} store_api_token_refusal;

NSDB_MUST_CHECK nsdb_err store_api_token_insert(db *conn, const char *name, const char *token_hash,
                                                int64_t now, int64_t expires_at, int64_t *id_out);
/* Records the use of a valid token (known, not revoked, expires_at after now). NSDB_ERR_NOT_FOUND
   for any other, with the reason in *refusal_out. */
NSDB_MUST_CHECK nsdb_err store_api_token_check(db *conn, const char *token_hash, int64_t now,
                                               store_api_token_refusal *refusal_out);
/* Revokes token id at now. NSDB_ERR_NOT_FOUND for no such token, NSDB_ERR_CONFLICT when it was
   revoked already. */
NSDB_MUST_CHECK nsdb_err store_api_token_revoke(db *conn, int64_t id, int64_t now);
/* Every token, oldest first (there are a handful). */
NSDB_MUST_CHECK nsdb_err store_api_token_list(db *conn, arena *a, store_api_token **rows_out,
                                              size_t *count_out);

#endif
