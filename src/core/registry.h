/*
 * registry.h — what the operator sets up from the command line besides accounts: a
 * municipality (地方公共団体) before its first admin, and the API tokens of the operator's
 * registration feed. Operations in the sense of actor.h: validated, one transaction, audited.
 */
#ifndef NSDB_CORE_REGISTRY_H
#define NSDB_CORE_REGISTRY_H

#include "core/actor.h"
#include "domain/session_token.h"

/* code: 6 digits with its check digit; postal (NNN-NNNN, full-width accepted) and address are
   optional but go together with the package labels. NSDB_ERR_EXISTS for a code already there. */
NSDB_MUST_CHECK nsdb_err core_municipality_add(core_ctx *c, const char *code, const char *name,
                                               const char *postal, const char *address,
                                               nsdb_problem *pb);

/* How long a new API token lasts unless told: days, and the most it may be given. */
#define API_TOKEN_DAYS_DEFAULT 90
#define API_TOKEN_DAYS_MAX 366

/* A new bearer token for /api/v1/registrations (and /metrics) under a name (its purpose), valid
   for days (1..API_TOKEN_DAYS_MAX) from now; the token is shown once (token_out) and only its hash
   is stored. *id_out: the token's id (for `token revoke`), *expires_out: when it expires. */
NSDB_MUST_CHECK nsdb_err core_api_token_add(core_ctx *c, const char *name, long days,
                                            char token_out[SESSION_TOKEN_TEXT_LEN + 1],
                                            int64_t *id_out, int64_t *expires_out,
                                            nsdb_problem *pb);

/* The API token whose hash is token_hash, if it is valid (known, not revoked, not expired): its
   last use is recorded. Otherwise NSDB_ERR_NOT_FOUND, one answer for every reason, and an
   api_denied audit record (target: what was asked for, detail: unknown, revoked or expired). */
NSDB_MUST_CHECK nsdb_err core_api_token_use(core_ctx *c, const char *token_hash,
                                            const char *target);

/* Revokes token id at once (a request after this one is refused), audited as api_token_revoke.
   NSDB_ERR_NOT_FOUND for no such token, NSDB_ERR_CONFLICT for one revoked already. */
NSDB_MUST_CHECK nsdb_err core_api_token_revoke(core_ctx *c, int64_t id, nsdb_problem *pb);

#endif
