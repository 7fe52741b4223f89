/*
 * institutions.h — medical institutions (医療機関, the institution master): lookup by code,
 * creation, correction and the operator's search. Writes run inside the caller's transaction.
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
/* The institution of values->code, created from values (pk ignored) when there is none — also
   when another transaction creates the same code at that moment — and locked until the caller's
   transaction ends (FOR UPDATE on PostgreSQL; SQLite's one writer holds everything already), so
   that checks across the users of every municipality at the institution see each other.
   *created: inserted now (*out then holds values). */
NSDB_MUST_CHECK nsdb_err store_institution_ensure_locked(db *conn, arena *a,
                                                         const store_institution *values,
                                                         int64_t now, store_institution **out,
                                                         bool *created);
/* Locks institution pk's row until the caller's transaction ends, as above. NSDB_ERR_NOT_FOUND
   when there is none. */
NSDB_MUST_CHECK nsdb_err store_institution_lock(db *conn, int64_t pk);
/* The institution of code, only when municipality_pk (not 0) has registered a user there: the
   scope of municipal staff, in the query. NSDB_ERR_NOT_FOUND otherwise. */
NSDB_MUST_CHECK nsdb_err store_institution_find_for_municipality(db *conn, arena *a,
                                                                 const char *code,
                                                                 int64_t municipality_pk,
                                                                 store_institution **out);
/* Corrects the master of institution pk (医療機関マスタの修正). */
NSDB_MUST_CHECK nsdb_err store_institution_update(db *conn, int64_t pk, const char *name,
                                                  const char *postal, const char *address,
                                                  const char *phone, int64_t now);
/* Institutions by exact code and/or part of the name (either may be NULL or ""; both empty: all),
   in code order, at most limit: the operator's way to the master. */
NSDB_MUST_CHECK nsdb_err store_institution_search(db *conn, arena *a, const char *code,
                                                  const char *name_part, int64_t limit,
                                                  store_institution **rows_out, size_t *count_out);

#endif
