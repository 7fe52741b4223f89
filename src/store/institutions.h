/*
 * institutions.h — medical institutions (医療機関): lookup by code and creation. Writes
 * run inside the caller's transaction.
 */
#ifndef NSDB_STORE_INSTITUTIONS_H
#define NSDB_STORE_INSTITUTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_institution {
    int64_t pk;
    const char *code;
    const char *name;
    const char *postal;
    const char *address;
    const char *phone;
} store_institution;

NSDB_MUST_CHECK nsdb_err store_institution_find_by_code(db *conn, arena *a, const char *code,
                                                        store_institution **out);
NSDB_MUST_CHECK nsdb_err store_institution_insert(db *conn, const char *code, const char *name,
                                                  const char *postal, const char *address,
                                                  const char *phone, int64_t now, int64_t *pk_out);
/* *out: whether municipality_pk has registered a user at institution_pk (its staff may see the
   institution's stored name and address; another municipality's may not). */
NSDB_MUST_CHECK nsdb_err store_institution_has_users_of(db *conn, int64_t institution_pk,
                                                        int64_t municipality_pk, bool *out);

#endif
