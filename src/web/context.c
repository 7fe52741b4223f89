/*
 * context.c — per-request resources of the web layer: the database connection (taken from the
 * pool on first use and given back by web_handle), the core context (who, from where, when) that
 * every operation is called with, and how an operation's problem becomes an answer.
 */
#include "util/log.h"
#include "web/web.h"

db *web_db(web_ctx *ctx)
{
    if (ctx->conn == NULL)
        ctx->conn = db_pool_acquire(ctx->app->pool);
    return ctx->conn;
}

core_ctx web_core(web_ctx *ctx)
{
    core_ctx c = {.app = ctx->app,
                  .conn = web_db(ctx),
                  .arena = ctx->req->arena,
                  .who = {.user_pk = ctx->user ? ctx->user->pk : 0,
                          .user_id = ctx->user ? ctx->user->user_id : NULL,
                          .municipality_pk = ctx->user ? ctx->user->municipality_pk : 0,
                          .institution_pk = ctx->user ? ctx->user->institution_pk : 0,
                          .client_ip = ctx->req->client_ip,
                          .now = ctx->now}};
    return c;
}

void web_audit_now(web_ctx *ctx, const char *action, const char *target, const char *result,
                   const char *detail)
{
    core_ctx c = web_core(ctx);
    /* an event that changes nothing: a failure is logged by core_audit_event */
    nsdb_err e = core_audit_event(&c, action, target, result, detail);
    (void)e;
}

int web_problem_status(const nsdb_problem *pb)
{
    switch (pb->code) {
    case NSDB_OK:
        return 200;
    case NSDB_ERR_INVALID:
    case NSDB_ERR_PARSE:
    case NSDB_ERR_TOO_LARGE:
        return 400;
    case NSDB_ERR_AUTH:
        return 401;
    case NSDB_ERR_FORBIDDEN:
    case NSDB_ERR_SUSPENDED:
    case NSDB_ERR_LOCKED:
        return 403;
    case NSDB_ERR_NOT_FOUND:
        return 404;
    case NSDB_ERR_EXISTS:
    case NSDB_ERR_CONFLICT:
        return 409;
    case NSDB_ERR_NOMEM:
    case NSDB_ERR_IO:
    case NSDB_ERR_DB:
    case NSDB_ERR_CRYPTO:
    case NSDB_ERR_BUSY:
    case NSDB_ERR_COUNT:
        break;
    }
    return 503;
}

void web_problem_page(web_ctx *ctx, const nsdb_problem *pb)
{
    page_error(ctx, web_problem_status(pb), problem_message(pb));
}
