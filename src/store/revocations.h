/*
 * revocations.h — the VPN certificates' revocations (migration 019): which certificate (by the
 * serial of the media it was shipped on) was revoked, when, why and by whom; the numbers of the
 * CRLs signed; and the certificates of an institution or near their end, for revocation and
 * renewal. Writes run inside the caller's transaction.
 */
#ifndef NSDB_STORE_REVOCATIONS_H
#define NSDB_STORE_REVOCATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/pki.h"
#include "store/db.h"
#include "util/arena.h"

typedef struct store_revocation {
    const char *serial;
    int64_t media_id;
    pki_revocation_reason reason;
    int64_t revoked_at;
} store_revocation;

/* Revokes the certificate shipped on media_id for reason (by: the user, 0 for the command
   line). *added_out is false when it was revoked already (the first reason stays). */
NSDB_MUST_CHECK nsdb_err store_revocation_add(db *conn, int64_t media_id,
                                              pki_revocation_reason reason, int64_t by, int64_t now,
                                              bool *added_out);
/* Every revocation, oldest first. */
NSDB_MUST_CHECK nsdb_err store_revocation_list(db *conn, arena *a, store_revocation **rows_out,
                                               size_t *count_out);
/* The next CRL number (a row of crl_issues). */
NSDB_MUST_CHECK nsdb_err store_crl_issue(db *conn, int64_t by, int64_t now, int64_t *number_out);

/* A certificate still valid: not revoked, on a media that is not damaged or reissued. */
typedef struct store_certificate {
    int64_t media_id;
    const char *serial;
    const char *cycle_id;
    int64_t municipality_pk;
    const char *municipality_code, *municipality_name;
    int64_t institution_pk;
    const char *institution_code, *institution_name;
    int64_t issued_at; /* the media's creation */
} store_certificate;

/* The valid certificates of an institution (all its municipalities' media). */
NSDB_MUST_CHECK nsdb_err store_certificates_of_institution(db *conn, arena *a,
                                                           int64_t institution_pk,
                                                           store_certificate **rows_out,
                                                           size_t *count_out);
/* The valid certificates issued at or before issued_before (those that expire within the
   renewal window) whose media has no renewal media yet, oldest first. */
NSDB_MUST_CHECK nsdb_err store_certificates_issued_before(db *conn, arena *a, int64_t issued_before,
                                                          store_certificate **rows_out,
                                                          size_t *count_out);
/* Records that media id (just inserted) renews the media renewal_of. */
NSDB_MUST_CHECK nsdb_err store_media_set_renewal_of(db *conn, int64_t id, int64_t renewal_of);

/* How many active users the institution has. */
NSDB_MUST_CHECK nsdb_err store_institution_active_users(db *conn, int64_t institution_pk,
                                                        int64_t *count_out);

#endif
