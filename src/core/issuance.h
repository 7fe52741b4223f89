/*
 * issuance.h — 払出し (Flow I ⑥⑦): turning an approved admin application list into municipal
 * admin accounts, each announced by mail through the outbox, all in one transaction.
 */
#ifndef NSDB_ISSUANCE_H
#define NSDB_ISSUANCE_H

#include "core/app.h"

typedef struct issuance_result {
    int created;
    int changed;
    int suspended;
    int skipped; /* rows with nothing to do (already registered, unknown user to change) */
} issuance_result;

/* Runs inside a transaction the caller opened on conn; actor_pk/actor_user_id/client_ip name the
   operator for the audit records. NSDB_ERR_INVALID when the list is not approved (nothing is
   changed: issuing twice changes nothing the second time). */
nsdb_err issuance_run(app *a, db *conn, int64_t list_id, int64_t actor_pk,
                      const char *actor_user_id, const char *client_ip, int64_t now,
                      issuance_result *out);

#endif
