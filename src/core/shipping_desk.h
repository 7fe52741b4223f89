/*
 * shipping_desk.h — 発送 of a package (Flow II ⑪, SPEC §6 and §8): the operator enters or scans
 * the real Letter Pack number of a packed package (梱包済); it is validated (12 digits, the mod-7
 * check digit), refused when another package already has it, and stored with the day and who,
 * the package and its media becoming 発送済, audited — in one transaction. nsdb never makes a
 * number up: packing (core/media.c) leaves packages without one.
 */
#ifndef NSDB_CORE_SHIPPING_DESK_H
#define NSDB_CORE_SHIPPING_DESK_H

#include "core/actor.h"
#include "store/media_store.h"

/* tracking as typed (full-width digits, hyphens and spaces allowed). Refusals: NSDB_ERR_INVALID
   at field "tracking_number" (empty, not 12 digits, a wrong check digit, another package's
   number), NSDB_ERR_NOT_FOUND (no such package), NSDB_ERR_CONFLICT (not packed: already
   shipped or received, whatever number was typed). On success *out (may be NULL) is the package as shipped, in c->arena. */
NSDB_MUST_CHECK nsdb_err core_package_ship(core_ctx *c, int64_t package_id, const char *tracking,
                                           store_package **out, nsdb_problem *pb);

/* "1234-5678-9012": a stored 12-digit number in the groups printed on the Letter Pack. */
const char *shipping_tracking_display(arena *a, const char *tracking);

#endif
