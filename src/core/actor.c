/*
 * actor.c — see actor.h: the actor of the command line, audit records and the transaction
 * bracket every operation uses.
 */
#include "core/actor.h"

#include <time.h>

#include "store/audit.h"
#include "util/log.h"

core_actor core_actor_cli(void)
{
    core_actor who = {.user_id = "cli", .client_ip = "local", .now = (int64_t)time(NULL)};
    return who;
}

nsdb_err core_audit(core_ctx *c, const char *action, const char *target, const char *result,
                    const char *detail)
{
    store_audit entry = {
        .at = c->who.now,
        .actor_user_pk = c->who.user_pk,
        .actor_user_id = c->who.user_id,
        .client_ip = c->who.client_ip,
        .action = action,
        .target = target,
        .result = result,
        .detail = detail,
    };
    return store_audit_insert(c->conn, &entry);
}

nsdb_err core_audit_event(core_ctx *c, const char *action, const char *target,
                          const char *result, const char *detail)
{
    nsdb_err e = core_begin_scoped(c, DB_SCOPE_NONE, 0); /* one INSERT */
    if (e == NSDB_OK)
        e = core_audit(c, action, target, result, detail);
    e = core_end(c, e);
    if (e != NSDB_OK)
        log_event(LOG_ERROR, "audit_write_failed", "action", action, "error", nsdb_err_name(e),
                  NULL);
    return e;
}

nsdb_err core_begin(core_ctx *c)
{
    if (c->who.municipality_pk != 0)
        return db_begin_scoped(c->conn, DB_SCOPE_MUNICIPALITY, c->who.municipality_pk);
    return db_begin(c->conn);
}

nsdb_err core_begin_scoped(core_ctx *c, db_scope kind, int64_t key)
{
    return db_begin_scoped(c->conn, kind, key);
}

nsdb_err core_end(core_ctx *c, nsdb_err e)
{
    if (e == NSDB_OK)
        e = db_commit(c->conn);
    if (e != NSDB_OK && db_in_transaction(c->conn))
        db_rollback(c->conn);
    return e;
}

const char *core_target_id(core_ctx *c, const char *kind, int64_t id)
{
    return arena_printf(c->arena, "%s:%lld", kind, (long long)id);
}

bool core_field(arena *a, field_id id, const char *raw, unsigned flags, const char **out,
                nsdb_problem *pb)
{
    const char *reason = field_check(a, id, raw, flags, out);
    if (reason == NULL)
        return true;
    problem_set(pb, NSDB_ERR_INVALID, field_get(id)->name, reason);
    return false;
}
