/*
 * municipalities.h — municipalities (自治体): creation, lookup by code and the upsert
 * of 払出し. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_MUNICIPALITIES_H
#define NSDB_STORE_MUNICIPALITIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/shipping.h"
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

/* Creates the municipality with its postal code and address, or updates its name (払出し): the
   address of a department is set with store_municipality_department_set. */
NSDB_MUST_CHECK nsdb_err store_municipality_upsert(db *conn, const char *code, const char *name,
                                                   const char *postal, const char *address,
                                                   int64_t now, int64_t *pk_out, bool *created_out);

/* Sets the 発送先 of one department (category 難病 or 小慢) of the municipality. */
NSDB_MUST_CHECK nsdb_err store_municipality_department_set(db *conn, int64_t municipality_pk,
                                                           user_category category,
                                                           const shipping_destination *to,
                                                           int64_t now);
/* What the municipality has on record for shipping (its own address and its departments'). */
NSDB_MUST_CHECK nsdb_err store_municipality_addresses(db *conn, arena *a, int64_t municipality_pk,
                                                      shipping_addresses *out);

#endif
