/*
 * search_keys.h — keeping the stored search keys (users.name_search and the name-pair index
 * user_grams) in step with the key function (text_search_key) when it changes, as it does when
 * the table of name variants grows: the fingerprint of the fold they were made with, and the
 * re-keying of every user whose key the function now gives differently. Writes run inside the
 * caller's transaction.
 */
#ifndef NSDB_STORE_SEARCH_KEYS_H
#define NSDB_STORE_SEARCH_KEYS_H

#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

/* The fingerprint stored with the keys; "" when none was stored yet. */
NSDB_MUST_CHECK nsdb_err store_search_fold_get(db *conn, arena *a, const char **fingerprint_out);
NSDB_MUST_CHECK nsdb_err store_search_fold_set(db *conn, const char *fingerprint);
/* Computes text_search_key of every stored key and stores those that differ, with their
   name-pair index rows; *users_out: how many users got a new key. */
NSDB_MUST_CHECK nsdb_err store_search_keys_refold(db *conn, int64_t *users_out);

#endif
