/*
 * certificates.h — the lifecycle of the VPN client certificates shipped on the media (SPEC §6,
 * issue 13 item 5): revoking a certificate (its media was damaged and reissued, or its
 * institution has nobody left), signing the CA's CRL with the next CRL number, and listing the
 * certificates that come to their end within the renewal window. Operations in the sense of
 * actor.h: validated, one transaction, audited.
 */
#ifndef NSDB_CORE_CERTIFICATES_H
#define NSDB_CORE_CERTIFICATES_H

#include <stdbool.h>

#include "core/actor.h"
#include "domain/pki.h"
#include "store/media_store.h"
#include "store/revocations.h"
#include "util/str.h"

/* Certificates that end within this many days are due for a renewal media. */
#define CERT_RENEWAL_DAYS 90

/* The folder of the CA (ca.key, ca.crt) in the data folder, in the context's arena. */
const char *core_ca_dir(core_ctx *c);

/* Revokes the certificate shipped on media_id for reason and writes its cert_revoked audit
   record, inside the caller's open transaction: a step of a larger operation (the reissue of a
   damaged media). Revoking one already revoked changes nothing. */
NSDB_MUST_CHECK nsdb_err core_cert_revoke_step(core_ctx *c, int64_t media_id,
                                               pki_revocation_reason reason);

/* Appends the CA's current CRL to out (PEM when pem, else DER): every revocation, the next CRL
   number, audited as crl_issued. The CA is made on first use like a media build's. */
NSDB_MUST_CHECK nsdb_err core_ca_crl(core_ctx *c, bool pem, strbuf *out, nsdb_problem *pb);

/* Revokes (cessationOfOperation) every valid certificate of the institution with this code once
   none of its users is active (all suspended), each audited; *count_out: how many.
   NSDB_ERR_NOT_FOUND for an unknown code, NSDB_ERR_CONFLICT while a user is still active. */
NSDB_MUST_CHECK nsdb_err core_institution_certs_revoke(core_ctx *c, const char *institution_code,
                                                       size_t *count_out, nsdb_problem *pb);

/* The valid certificates that end within CERT_RENEWAL_DAYS of now (issued PKI_CLIENT_VALID_DAYS
   before), oldest first, in the context's arena. A read: nothing is recorded. */
NSDB_MUST_CHECK nsdb_err core_certs_due_for_renewal(core_ctx *c, store_certificate **rows_out,
                                                    size_t *count_out);

/* A media build's renewals: one media to build for each certificate due for renewal at
   c->who.now (as above), in cycle_id, appended to the *n media of *wanted (arena arrays; kind
   reissue, renewal_of set, no damaged media behind it). */
NSDB_MUST_CHECK nsdb_err core_renewal_candidates(core_ctx *c, const char *cycle_id,
                                                 store_media **wanted, size_t *n);
/* Records, inside the build's transaction for the new media new_id, that it renews the media
   renewal_of (media_renewed audit record). The old certificate stays valid until it ends: the
   institution still uses it until the new disc arrives. */
NSDB_MUST_CHECK nsdb_err core_renewal_record_step(core_ctx *c, int64_t new_id, int64_t renewal_of);

#endif
