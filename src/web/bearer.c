/*
 * bearer.c — the bearer tokens of the operator's systems (`nsdb token add`), the one way a
 * request without a session is let in past a public route's door: the registrations API and
 * /metrics. The header is read here once; the check (hash, expiry, revocation, audit of a
 * refusal) is core_api_token_use.
 */
#include <string.h>

#include "core/registry.h"
#include "domain/secret.h"
#include "web/web.h"

#define BEARER_PREFIX "Bearer "
#define BEARER_MIN_LEN 20
#define BEARER_MAX_LEN 200

web_bearer web_bearer_check(web_ctx *ctx)
{
    const char *auth = http_header_value(ctx->req, "Authorization");
    if (auth == NULL || strncmp(auth, BEARER_PREFIX, strlen(BEARER_PREFIX)) != 0)
        return WEB_BEARER_NONE;
    const char *token = auth + strlen(BEARER_PREFIX);
    size_t len = strlen(token);
    if (len < BEARER_MIN_LEN || len > BEARER_MAX_LEN)
        return WEB_BEARER_NONE;
    char hash[SECRET_TOKEN_HASH_HEX_LEN + 1];
    secret_token_hash((const unsigned char *)token, len, hash);
    core_ctx core = web_core(ctx);
    nsdb_err e = core_api_token_use(&core, hash, ctx->req->path);
    if (e == NSDB_OK)
        return WEB_BEARER_VALID;
    return e == NSDB_ERR_NOT_FOUND ? WEB_BEARER_REFUSED : WEB_BEARER_UNAVAILABLE;
}
