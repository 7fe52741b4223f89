/*
 * search_keys.h — folding the stored search keys again when the table of name variants
 * (domain/itaiji.c) is not the one they were made with: run at every start, after the
 * migrations, it costs one read of the fingerprint when nothing changed.
 */
#ifndef NSDB_CORE_SEARCH_KEYS_H
#define NSDB_CORE_SEARCH_KEYS_H

#include "core/actor.h"

/* Re-keys every user whose stored search key the current key function gives differently, and
   records the table's fingerprint, in one transaction with an audit record (when any user was
   re-keyed). *users_out: how many were; 0 when the fingerprint was already current. */
NSDB_MUST_CHECK nsdb_err core_search_keys_refold(core_ctx *c, int64_t *users_out);

#endif
