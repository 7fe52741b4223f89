/*
 * import_grams.h — the name index rows (user_grams) of a set of users, counted in C: each
 * distinct (gram, name key) pair of their keys (text_grams, the grams migration 007 defines)
 * with the number of the set's users who have that key. An import's chunk adds them with one
 * multi-row upsert per STORE_BULK_ROWS pairs (store_bulk_user_grams_add), and the removal of a
 * failed batch gives them back the same way (store_bulk_user_grams_remove), instead of one
 * recursive SQL statement per user.
 */
#ifndef NSDB_CORE_IMPORT_GRAMS_H
#define NSDB_CORE_IMPORT_GRAMS_H

#include <stddef.h>

#include "store/bulk_import.h"
#include "util/arena.h"
#include "util/key_map.h"
#include "util/str.h"

/* Zero-initialise to start; import_grams_free ends it. */
typedef struct import_grams {
    store_bulk_gram *rows; /* the distinct pairs, in the order first met (malloc'd) */
    size_t count, cap;
    key_map seen; /* "gram \x1f key" -> index in rows */
    strbuf pair;
} import_grams;

/* Counts one user of name key key (NULL or empty: no grams). The grams are copied into a; the
   rows point at key itself, so key and a must outlive the rows' use. */
NSDB_MUST_CHECK nsdb_err import_grams_add(import_grams *g, arena *a, const char *key);
void import_grams_free(import_grams *g);

#endif
