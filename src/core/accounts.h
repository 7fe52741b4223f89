/*
 * accounts.h — issuing accounts: a fresh user ID and initial password, the password sealed under
 * the server key, the row and its audit record in the caller's transaction. Used by the command
 * line and by every registration screen, so that an account is issued one way only.
 */
#ifndef NSDB_ACCOUNTS_H
#define NSDB_ACCOUNTS_H

#include "core/app.h"
#include "domain/ids.h"
#include "store/users.h"

typedef struct accounts_issued {
    int64_t pk;
    char user_id[IDS_USER_ID_LEN + 1];
    char initial_password[IDS_INITIAL_PASSWORD_LEN + 1]; /* wipe after use */
} accounts_issued;

/* A fresh initial password in password (wipe after use) and the same sealed under the server
   key in *sealed_out (malloc'd; free it), as every account is issued: accounts_issue and the
   bulk import (core/import_write.c) draw it here. */
NSDB_MUST_CHECK nsdb_err accounts_initial_password(app *a,
                                                   char password[IDS_INITIAL_PASSWORD_LEN + 1],
                                                   unsigned char **sealed_out,
                                                   size_t *sealed_len_out);

/* Fills u->user_id and the sealed password itself; the caller holds a transaction on conn and
   writes the audit record (actor and place are the caller's). */
NSDB_MUST_CHECK nsdb_err accounts_issue(app *a, db *conn, store_user_new *u, int64_t now,
                                        accounts_issued *out);

#endif
