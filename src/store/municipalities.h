/*
 * municipalities.h — municipalities (自治体): creation, lookup by code and the upsert
 * of 払出し. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_MUNICIPALITIES_H
#define NSDB_STORE_MUNICIPALITIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_municipality {
    int64_t pk;
    const char *code;
    const char *name;
    const char *postal;
    const char *address;
} store_municipality;

NSDB_MUST_CHECK nsdb_err store_municipality_insert(db *conn, const char *code, const char *name,
                                                   const char *postal, const char *address,
                                                   int64_t now, int64_t *pk_out);
NSDB_MUST_CHECK nsdb_err store_municipality_find_by_code(db *conn, arena *a, const char *code,
                                                         store_municipality **out);

/* Creates the municipality or updates its name, postal code and address (払出し). */
NSDB_MUST_CHECK nsdb_err store_municipality_upsert(db *conn, const char *code, const char *name,
                                                   const char *postal, const char *address,
                                                   int64_t now, int64_t *pk_out, bool *created_out);

#endif
