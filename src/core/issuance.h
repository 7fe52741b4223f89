/*
 * issuance.h — 払出し (Flow I ⑥⑦): turning an approved admin application list into municipal
 * admin accounts, each announced by mail through the outbox, all in one transaction.
 */
#ifndef NSDB_ISSUANCE_H
#define NSDB_ISSUANCE_H

#include "core/actor.h"
#include "core/app.h"

typedef struct issuance_result {
    int created;
    int changed;
    int suspended;
    int skipped; /* rows with nothing to do (already registered, unknown user to change) */
} issuance_result;

/* 払出し of an approved list as one operation: every row, its audit records and mail in one
   transaction. NSDB_ERR_CONFLICT when the list is not approved (issuing twice changes nothing the
   second time); any other failure leaves nothing issued and is audited as a failed 払出し. */
NSDB_MUST_CHECK nsdb_err core_admin_list_issue(core_ctx *c, int64_t list_id,
                                               issuance_result *out, nsdb_problem *pb);

#endif
