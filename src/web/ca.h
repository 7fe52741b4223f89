/*
 * ca.h — the operator's screens of the VPN certificate authority (ca.c).
 */
#ifndef NSDB_WEB_CA_H
#define NSDB_WEB_CA_H

#include "web/web.h"

/* GET /operator/ca.crl (DER, application/pkix-crl) and /operator/ca.crl.pem (PEM). */
void web_ca_crl(web_ctx *ctx);
void web_ca_crl_pem(web_ctx *ctx);

#endif
