/*
 * search_keys.c — see search_keys.h. The fingerprint is read first without a write transaction
 * (the common case: nothing to do), then again inside it, so that servers starting together on
 * one PostgreSQL database re-key once.
 */
#include "core/search_keys.h"

#include <string.h>

#include "domain/itaiji.h"
#include "store/search_keys.h"

nsdb_err core_search_keys_refold(core_ctx *c, int64_t *users_out)
{
    *users_out = 0;
    char current[ITAIJI_FINGERPRINT_LEN + 1];
    itaiji_fingerprint(current);
    const char *stored = NULL;
    nsdb_err e = store_search_fold_get(c->conn, c->arena, &stored);
    if (e != NSDB_OK || strcmp(stored, current) == 0)
        return e;
    e = core_begin(c);
    if (e == NSDB_OK)
        e = store_search_fold_get(c->conn, c->arena, &stored);
    int64_t users = 0;
    if (e == NSDB_OK && strcmp(stored, current) != 0) {
        e = store_search_keys_refold(c->conn, &users);
        if (e == NSDB_OK)
            e = store_search_fold_set(c->conn, current);
        if (e == NSDB_OK && users > 0)
            e = core_audit(c, "search_keys_refold", "users", "ok",
                           arena_printf(c->arena, "%lld 件（異体字の表 %s）", (long long)users,
                                        current));
    }
    e = core_end(c, e);
    if (e == NSDB_OK)
        *users_out = users;
    return e;
}
