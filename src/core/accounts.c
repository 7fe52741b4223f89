/*
 * accounts.c — account issuance (SPEC §3): the user ID is drawn again on the rare collision;
 * the initial password exists in clear only in the caller's memory and, sealed, in the row.
 */
#include "core/accounts.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNTS_ID_ATTEMPTS 8

nsdb_err accounts_initial_password(app *a, char password[IDS_INITIAL_PASSWORD_LEN + 1],
                                   unsigned char **sealed_out, size_t *sealed_len_out)
{
    ids_initial_password_generate(password);
    return secret_seal(&a->key, password, IDS_INITIAL_PASSWORD_LEN, sealed_out, sealed_len_out);
}

nsdb_err accounts_issue(app *a, db *conn, store_user_new *u, int64_t now, accounts_issued *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    nsdb_err e = accounts_initial_password(a, out->initial_password, &sealed, &sealed_len);
    if (e != NSDB_OK)
        return e;
    u->initial_sealed = sealed;
    u->initial_sealed_len = sealed_len;
    for (int attempt = 0; attempt < ACCOUNTS_ID_ATTEMPTS; attempt++) {
        ids_user_id_generate(out->user_id);
        u->user_id = out->user_id;
        e = store_user_insert(conn, u, now, &out->pk);
        if (e != NSDB_ERR_EXISTS)
            break;
    }
    free(sealed);
    u->initial_sealed = NULL;
    u->initial_sealed_len = 0;
    if (e != NSDB_OK)
        sodium_memzero(out, sizeof *out);
    return e;
}
