/*
 * context.c — per-request resources of the web layer: the database connection (taken from the
 * pool on first use and given back by web_handle) and audit records carrying who and where.
 */
#include "store/audit.h"
#include "util/log.h"
#include "web/web.h"

db *web_db(web_ctx *ctx)
{
    if (ctx->conn == NULL)
        ctx->conn = db_pool_acquire(ctx->app->pool);
    return ctx->conn;
}

nsdb_err web_audit(web_ctx *ctx, const char *action, const char *target, const char *result,
                   const char *detail)
{
    store_audit entry = {
        .at = ctx->now,
        .actor_user_pk = ctx->user ? ctx->user->pk : 0,
        .actor_user_id = ctx->user ? ctx->user->user_id : NULL,
        .client_ip = ctx->req->client_ip,
        .action = action,
        .target = target,
        .result = result,
        .detail = detail,
    };
    return store_audit_insert(web_db(ctx), &entry);
}

void web_audit_now(web_ctx *ctx, const char *action, const char *target, const char *result,
                   const char *detail)
{
    if (web_audit(ctx, action, target, result, detail) != NSDB_OK)
        log_event(LOG_ERROR, "audit_write_failed", "action", action, NULL);
}
