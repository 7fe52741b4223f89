/*
 * outbox.h — the mail outbox: sealed messages waiting to be sent, the claim a sender holds on a
 * message while it sends it, retries, the operator's view of waiting and failed mail (never the
 * message itself) and the counts /metrics shows. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_OUTBOX_H
#define NSDB_STORE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/states.h"
#include "store/db.h"
#include "util/arena.h"

/* A message claimed for sending: the only row type that carries the sealed message. */
typedef struct store_outbox_mail {
    int64_t id;
    const char *to_address;
    const unsigned char *sealed;
    size_t sealed_len;
    int64_t attempts;
    int64_t refused_since; /* first refusal of the current run of refusals; 0 when none */
} store_outbox_mail;

/* One message as the operator sees it: everything but the message. */
typedef struct store_outbox_entry {
    int64_t id;
    const char *purpose;
    const char *to_address;
    mail_status status;
    int64_t created_at;
    int64_t attempts;
    int64_t next_attempt_at;
    int64_t refused_since;  /* 0 when none */
    int64_t claim_until;    /* 0 when nobody holds it */
    const char *last_error; /* NULL when none */
} store_outbox_entry;

typedef struct store_outbox_stats {
    int64_t pending;            /* not yet handed over, waiting ones included */
    int64_t waiting;            /* pending after at least one failed attempt */
    int64_t failed;             /* given up */
    int64_t oldest_pending_age; /* seconds since the oldest pending message was queued; 0 */
} store_outbox_stats;

NSDB_MUST_CHECK nsdb_err store_outbox_insert(db *conn, const char *to_address, const char *purpose,
                                             const unsigned char *sealed, size_t sealed_len,
                                             int64_t now);
/* Claims for claimer, until claim_until, at most limit pending messages with an id above after_id
   that nobody else holds at now (a claim whose lease ended is free again), due at now unless
   due_only is false; lowest id first. Several servers on one database never claim the same row. */
NSDB_MUST_CHECK nsdb_err store_outbox_claim(db *conn, arena *a, const char *claimer, int64_t now,
                                            bool due_only, int64_t claim_until, int64_t after_id,
                                            int64_t limit, store_outbox_mail **rows_out,
                                            size_t *count_out);
/* Gives a claimed message back untried. */
NSDB_MUST_CHECK nsdb_err store_outbox_release(db *conn, int64_t id, const char *claimer);
/* The outcome of an attempt by claimer: NSDB_ERR_CONFLICT when claimer no longer holds it. */
NSDB_MUST_CHECK nsdb_err store_outbox_mark_sent(db *conn, int64_t id, const char *claimer,
                                                int64_t now);
/* A failed attempt: due again at next_attempt_at, or failed when give_up. refused_since: the
   first refusal of a run of refusals (0 after a temporary failure). */
NSDB_MUST_CHECK nsdb_err store_outbox_mark_retry(db *conn, int64_t id, const char *claimer,
                                                 int64_t next_attempt_at, const char *error,
                                                 int64_t refused_since, bool give_up);
/* One message (NSDB_ERR_NOT_FOUND when there is none). */
NSDB_MUST_CHECK nsdb_err store_outbox_find(db *conn, arena *a, int64_t id,
                                           store_outbox_entry **out);
/* Failed messages, then pending ones after a failed attempt, oldest first, at most limit. */
NSDB_MUST_CHECK nsdb_err store_outbox_list_troubled(db *conn, arena *a, int64_t limit,
                                                    store_outbox_entry **rows_out,
                                                    size_t *count_out);
/* Puts a failed or waiting message back to pending, due at now, its attempts and refusal
   forgotten; NSDB_ERR_CONFLICT when it is neither or a sender holds it at now. */
NSDB_MUST_CHECK nsdb_err store_outbox_resend(db *conn, int64_t id, int64_t now);
NSDB_MUST_CHECK nsdb_err store_outbox_stats_read(db *conn, int64_t now, store_outbox_stats *out);

#endif
