/*
 * media_store.h — cycles, media and packages (SPEC §6). Municipal screens pass their
 * municipality to every query (0 only for the operator), so scope is part of the SQL.
 */
#ifndef NSDB_MEDIA_STORE_H
#define NSDB_MEDIA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/cycle.h"
#include "domain/shipping.h"
#include "domain/states.h"
#include "store/db.h"
#include "util/arena.h"

/* ---- cycles ---- */
/* Adds the cycle when its id is not there yet (an operator's adjustment is kept). */
NSDB_MUST_CHECK nsdb_err store_cycle_ensure(db *conn, const cycle_window *c);
/* The cycle a registration on date (YYYY-MM-DD) falls into: the first whose registration
   window ends on or after it. */
NSDB_MUST_CHECK nsdb_err store_cycle_for_date(db *conn, const char *date, cycle_window *out);
NSDB_MUST_CHECK nsdb_err store_cycle_get(db *conn, const char *id, cycle_window *out);
/* The cycle before id. */
NSDB_MUST_CHECK nsdb_err store_cycle_prev(db *conn, const char *id, cycle_window *out);
/* The cycle after id (damaged media are reissued in it). */
NSDB_MUST_CHECK nsdb_err store_cycle_next(db *conn, const char *id, cycle_window *out);
/* Cycles whose delivery window ends on or after from_date, in order; at most cap. */
NSDB_MUST_CHECK nsdb_err store_cycle_list(db *conn, const char *from_date, cycle_window *out,
                                          size_t cap, size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_cycle_update(db *conn, const cycle_window *c, int64_t by,
                                            int64_t now);

/* What a registration means for its institution's media. */
typedef enum store_media_outlook {
    MEDIA_OUTLOOK_NEW = 1,  /* the first media of (municipality, institution) comes in its cycle */
    MEDIA_OUTLOOK_HAS_MEDIA, /* the institution has its first media already (any state) */
    MEDIA_OUTLOOK_PENDING,   /* an earlier cycle's registration brings the first media */
} store_media_outlook;
/* The cycle of user_id's registration in the municipality (scope) and its outlook;
   NSDB_ERR_NOT_FOUND when the user has no registration there. */
NSDB_MUST_CHECK nsdb_err store_media_outlook_of_user(db *conn, int64_t municipality_pk,
                                                     const char *user_id, char cycle_id[11],
                                                     store_media_outlook *out);
/* The institutions of an import batch of the municipality (scope) by outlook: how many get
   their first media in the batch's cycle (new_count) and how many have or await one
   (other_count); cycle_id gets the batch's cycle ("" when the batch registered nobody). */
NSDB_MUST_CHECK nsdb_err store_media_outlook_of_batch(db *conn, int64_t municipality_pk,
                                                      int64_t batch_id, char cycle_id[11],
                                                      int64_t *new_count, int64_t *other_count);

/* ---- media ---- */
typedef struct store_media {
    int64_t id;
    const char *cycle_id;
    int64_t municipality_pk;
    const char *municipality_code, *municipality_name;
    int64_t institution_pk;
    const char *institution_code, *institution_name;
    const char *kind;
    int64_t reissue_of;
    media_status status;
    const char *iso_path;
    const char *sha256;
    int64_t size_bytes;
    const char *volume_id;
    const char *cert_serial;
    const unsigned char *passphrase_sealed;
    size_t passphrase_sealed_len;
    int64_t package_id;
    const char *forwarded_on;
    const char *damage_note;
    const char *reissue_cycle_id;
    int64_t renewal_of; /* a renewal media (core/certificates.h): the media it renews; else 0 */
} store_media;

/* What a cycle must build: (municipality, institution) pairs registered in it without a first
   media, and media damaged with this cycle as their reissue cycle (reissue_of set). */
NSDB_MUST_CHECK nsdb_err store_media_candidates(db *conn, arena *a, const char *cycle_id,
                                                store_media **rows_out, size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_media_insert(db *conn, const store_media *m, int64_t now,
                                            int64_t *id_out);
/* Filters: cycle_id NULL = any, municipality_pk 0 = any, package_id 0 = any, status 0 = any. */
NSDB_MUST_CHECK nsdb_err store_media_list(db *conn, arena *a, const char *cycle_id,
                                          int64_t municipality_pk, int64_t package_id,
                                          media_status status, store_media **rows_out,
                                          size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_media_get(db *conn, arena *a, int64_t id, int64_t municipality_pk,
                                         store_media **out);
/* Conditional transitions: action on a media in `from` (media_status_can gives the new status);
   *changed_out false when the move is not allowed from `from` or the media is no longer in it. */
NSDB_MUST_CHECK nsdb_err store_media_transition(db *conn, int64_t id, media_status from,
                                                media_action action, int64_t now,
                                                bool *changed_out);
NSDB_MUST_CHECK nsdb_err store_media_set_package(db *conn, int64_t id, int64_t package_id,
                                                 int64_t now);
NSDB_MUST_CHECK nsdb_err store_media_forward(db *conn, int64_t id, media_status from,
                                             const char *date, int64_t now, bool *changed_out);
NSDB_MUST_CHECK nsdb_err store_media_damage(db *conn, int64_t id, media_status from,
                                            const char *note, const char *reissue_cycle_id,
                                            int64_t now, bool *changed_out);

typedef struct store_media_board_row {
    const char *municipality_code, *municipality_name;
    int64_t counts[MEDIA_STATUS_COUNT]; /* [status - 1]: created packed … reissued */
} store_media_board_row;
NSDB_MUST_CHECK nsdb_err store_media_board(db *conn, arena *a, const char *cycle_id,
                                           store_media_board_row **rows_out, size_t *count_out);

/* How many users of each category the institution of each media of the municipality in the
   cycle and status has there (it decides the department its package goes to). */
typedef struct store_media_users {
    int64_t media_id;
    int64_t nanbyo, shoman, both;
} store_media_users;
NSDB_MUST_CHECK nsdb_err store_media_user_categories(db *conn, arena *a, const char *cycle_id,
                                                     int64_t municipality_pk, media_status status,
                                                     store_media_users **rows_out,
                                                     size_t *count_out);

/* ---- packages ---- */
typedef struct store_package {
    int64_t id;
    const char *cycle_id;
    int64_t municipality_pk;
    const char *municipality_code, *municipality_name;
    shipping_destination to; /* recorded when it was packed */
    int64_t seq;
    const char *tracking_number; /* NULL while packed */
    package_status status;
    int64_t media_count;
    const char *shipped_on; /* YYYY-MM-DD of 発送, NULL while packed */
} store_package;

/* A new package, packed (梱包済, no tracking number). */
NSDB_MUST_CHECK nsdb_err store_package_insert(db *conn, const char *cycle_id,
                                              int64_t municipality_pk, int64_t seq,
                                              const shipping_destination *to, int64_t now,
                                              int64_t *id_out);
/* 発送: the package packed → shipped with its tracking number, day and who (0: the command
   line), and its media
   packed → shipped; *changed_out false when it was no longer packed. NSDB_ERR_EXISTS when the
   number is another package's. */
NSDB_MUST_CHECK nsdb_err store_package_ship(db *conn, int64_t id, const char *tracking,
                                            const char *shipped_on, int64_t by, int64_t now,
                                            bool *changed_out);
/* The package that has this tracking number (NSDB_ERR_NOT_FOUND: none). */
NSDB_MUST_CHECK nsdb_err store_package_find_by_tracking(db *conn, arena *a, const char *tracking,
                                                        store_package **out);
NSDB_MUST_CHECK nsdb_err store_package_max_seq(db *conn, const char *cycle_id,
                                               int64_t municipality_pk, int64_t *seq_out);
NSDB_MUST_CHECK nsdb_err store_package_list(db *conn, arena *a, const char *cycle_id,
                                            int64_t municipality_pk, store_package **rows_out,
                                            size_t *count_out);
NSDB_MUST_CHECK nsdb_err store_package_get(db *conn, arena *a, int64_t id, int64_t municipality_pk,
                                           store_package **out);
NSDB_MUST_CHECK nsdb_err store_package_receive(db *conn, int64_t id, int64_t by, int64_t now,
                                               bool *changed_out);

#endif
