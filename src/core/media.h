/*
 * media.h — the operator's media cycle (Flow II ⑩⑪, SPEC §6): building one media (DVD image)
 * per municipality and institution that has registrations in a cycle and no media yet, plus
 * reissues of damaged ones; packing them per municipality (per department where its 難病 and 小慢
 * addresses differ, domain/shipping.h) into Letter Pack Plus packages of at most 15 with label,
 * printed list. 発送 with the real Letter Pack number is core/shipping_desk.h.
 */
#ifndef NSDB_MEDIA_H
#define NSDB_MEDIA_H

#include <stdatomic.h>

#include "core/actor.h"
#include "core/app.h"
#include "store/media_store.h"

#define MEDIA_PER_PACKAGE 15

typedef struct media_built {
    int64_t media_id;
    const char *municipality; /* code */
    const char *institution;  /* code */
    const char *iso;          /* path */
    const char *sha256;
    bool reissue; /* a reissue of a damaged media or a renewal (a new certificate) */
} media_built;

/* How far a build has got (report, before each media and at the end) and whether to stop
   (checked before each media; what is built stays). Any of it may be NULL. */
typedef struct media_progress {
    void (*report)(void *ctx, size_t done, size_t total);
    void *ctx;
    atomic_bool *stop;
} media_progress;

/* Builds what the cycle still lacks; building again makes nothing new. Files go under
   DATA/media/CYCLE/. who: the command line or the operator (audit records). progress: NULL or
   see above. Results and pb->message live in ar. */
NSDB_MUST_CHECK nsdb_err media_build_cycle(app *a, const char *cycle_id,
                                           const char *template_dir, const core_actor *who,
                                           const media_progress *progress, arena *ar,
                                           media_built **out, size_t *count_out,
                                           nsdb_problem *pb);

typedef struct package_built {
    int64_t package_id;
    const char *municipality;
    int64_t *media_ids;
    size_t media_count;
    const char *label_pdf;
    const char *list_pdf;
} package_built;

/* Packs every created media of the cycle: per municipality (and per department where the
   municipality's 難病 and 小慢 addresses differ), chunks of MEDIA_PER_PACKAGE; each package records
   its destination; writes
   label and list PDFs (and the list as CSV) under DATA/media/CYCLE/packages/; packages and media
   become 梱包済 (packed), without a tracking number until 発送. Users registered after the package
   with their institution's media was packed in an earlier cycle (store_supplement_due) go on the
   追加分 of their municipality's first package; a municipality with such users and no new media
   gets a package of the 追加分 list alone (no disc). Each user is on one 追加分 at most
   (package_listings). Packing again makes nothing new but the 追加分 of users registered since. */
NSDB_MUST_CHECK nsdb_err media_pack_cycle(app *a, const char *cycle_id, const core_actor *who,
                                          arena *ar, package_built **out, size_t *count_out,
                                          nsdb_problem *pb);

/* Makes sure the default cycle calendar is in the database (through the given year). */
NSDB_MUST_CHECK nsdb_err media_cycles_ensure(db *conn, int through_year);


#endif
