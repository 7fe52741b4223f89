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

/* A new bearer token for /api/v1/registrations under a name (its purpose); the token is shown
   once (token_out) and only its hash is stored. */
NSDB_MUST_CHECK nsdb_err core_api_token_add(core_ctx *c, const char *name,
                                            char token_out[SESSION_TOKEN_TEXT_LEN + 1],
                                            nsdb_problem *pb);

#endif
