/*
 * outbox.h — the mail outbox: sealed messages waiting to be sent, retries and
 * counts. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_OUTBOX_H
#define NSDB_STORE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"
#include "util/arena.h"

typedef struct store_outbox_mail {
    int64_t id;
    const char *to_address;
    const unsigned char *sealed;
    size_t sealed_len;
    int64_t attempts;
} store_outbox_mail;

NSDB_MUST_CHECK nsdb_err store_outbox_insert(db *conn, const char *to_address, const char *purpose,
                                             const unsigned char *sealed, size_t sealed_len,
                                             int64_t now);
/* Pending messages due at now (all pending when now < 0), oldest first. */
NSDB_MUST_CHECK nsdb_err store_outbox_due(db *conn, arena *a, int64_t now, int64_t limit,
                                          store_outbox_mail **rows_out, size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_outbox_mark_sent(db *conn, int64_t id, int64_t now);
NSDB_MUST_CHECK nsdb_err store_outbox_mark_retry(db *conn, int64_t id, int64_t next_attempt_at,
                                                 const char *error, bool give_up);
NSDB_MUST_CHECK nsdb_err store_outbox_counts(db *conn, int64_t *pending_out, int64_t *sent_out,
                                             int64_t *failed_out);

#endif
