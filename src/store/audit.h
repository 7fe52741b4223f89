/*
 * audit.h — the audit log: one record per action (who, from where, what, result),
 * written inside the transaction of the change it records.
 */
#ifndef NSDB_STORE_AUDIT_H
#define NSDB_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_audit {
    int64_t id;
    int64_t at;
    int64_t actor_user_pk; /* 0: none (anonymous or command line) */
    const char *actor_user_id;
    const char *client_ip;
    const char *action;
    const char *target;
    const char *result; /* "ok", "denied", "failed" … */
    const char *detail;
} store_audit;

NSDB_MUST_CHECK nsdb_err store_audit_insert(db *conn, const store_audit *entry);
/* Newest first; at most limit rows. *rows_out is an arena array of *count_out entries. */
NSDB_MUST_CHECK nsdb_err store_audit_list(db *conn, arena *a, int64_t limit, store_audit **rows_out,
                                          size_t *count_out);

#endif
