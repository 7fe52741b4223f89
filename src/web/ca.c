/*
 * ca.c — the operator's downloads of the VPN certificate authority: the current CRL, signed
 * with the next CRL number on each request (core_ca_crl, audited as crl_issued), as DER under
 * the name RFC 5280 uses for CRLs over HTTP (application/pkix-crl) or as PEM for
 * `openssl crl` and OpenVPN's crl-verify.
 */
#include "web/ca.h"

#include "core/certificates.h"
#include "http/http.h"

static void send_crl(web_ctx *ctx, bool pem)
{
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    strbuf crl = STRBUF_INIT;
    nsdb_err e = core_ca_crl(&c, pem, &crl, &pb);
    if (e != NSDB_OK) {
        strbuf_free(&crl);
        web_problem_page(ctx, &pb);
        return;
    }
    http_send_file(ctx->req, pem ? "application/x-pem-file" : "application/pkix-crl",
                   pem ? "nsdb-vpn-ca.crl.pem" : "nsdb-vpn-ca.crl", crl.data, crl.len);
    strbuf_free(&crl);
}

void web_ca_crl(web_ctx *ctx)
{
    send_crl(ctx, false);
}

void web_ca_crl_pem(web_ctx *ctx)
{
    send_crl(ctx, true);
}
