/*
 * media_receipt.h — 媒体受領 (Flow II ⑫, SPEC §6) as operations of municipal staff: recording a
 * package's receipt, a media's forwarding to its institution and a damaged media (reissued in
 * the next cycle); and the operator's adjustment of a cycle's dates. Each validates, owns its
 * transaction and writes its audit record (see actor.h). Scope: the package or media must be the
 * actor's municipality's (the caller found it with a scoped query).
 */
#ifndef NSDB_CORE_MEDIA_RECEIPT_H
#define NSDB_CORE_MEDIA_RECEIPT_H

#include "core/actor.h"
#include "store/media_store.h"

/* NSDB_ERR_CONFLICT when the package was already received or is not shipped yet (梱包済). */
NSDB_MUST_CHECK nsdb_err core_package_receive(core_ctx *c, const store_package *p,
                                              nsdb_problem *pb);
/* date as typed (YYYY-MM-DD): a real day, not in the future, not before the media's cycle.
   NSDB_ERR_CONFLICT when the media is not received. */
NSDB_MUST_CHECK nsdb_err core_media_forward(core_ctx *c, const store_media *m, const char *date,
                                            nsdb_problem *pb);
/* note: what is damaged, 1–500 characters. NSDB_ERR_CONFLICT when the media cannot be
   reported damaged in its state. */
NSDB_MUST_CHECK nsdb_err core_media_damage(core_ctx *c, const store_media *m, const char *note,
                                           nsdb_problem *pb);

/* The six dates of cycle id as typed (YYYY-MM-DD): real days, each window in order, media after
   registration, the registration window not reaching into its neighbours'. */
typedef struct cycle_dates {
    const char *registration_from, *registration_to, *media_from, *media_to, *delivery_from,
        *delivery_to;
} cycle_dates;
NSDB_MUST_CHECK nsdb_err core_cycle_adjust(core_ctx *c, const char *id, const cycle_dates *in,
                                           nsdb_problem *pb);

#endif
