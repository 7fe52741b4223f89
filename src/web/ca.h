/*
 * ca.h — the operator's screens of the VPN certificate authority (ca.c).
 */
#ifndef NSDB_WEB_CA_H
#define NSDB_WEB_CA_H

#include <jansson.h>

#include "web/web.h"

/* GET /operator/ca.crl (DER, application/pkix-crl) and /operator/ca.crl.pem (PEM). */
void web_ca_crl(web_ctx *ctx);
void web_ca_crl_pem(web_ctx *ctx);

/* For the operator's board: the certificates due for renewal (core_certs_due_for_renewal) as
   [{media_id, code, name, institution, institution_name, expires}]; an empty array when they
   cannot be read (logged), so the board still shows. */
json_t *web_ca_renewals_json(web_ctx *ctx);

#endif
