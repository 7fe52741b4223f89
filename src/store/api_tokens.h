/*
 * api_tokens.h — API tokens, stored by their hash. Writes (a check records the
 * token's use) run inside the caller's transaction.
 */
#ifndef NSDB_STORE_API_TOKENS_H
#define NSDB_STORE_API_TOKENS_H

#include <stdint.h>

#include "store/db.h"

NSDB_MUST_CHECK nsdb_err store_api_token_insert(db *conn, const char *name, const char *token_hash,
                                                int64_t now);
/* NSDB_ERR_NOT_FOUND for an unknown or revoked token. */
NSDB_MUST_CHECK nsdb_err store_api_token_check(db *conn, const char *token_hash, int64_t now);

#endif
