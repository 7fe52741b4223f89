/*
 * ca.c — the operator's downloads of the VPN certificate authority: the current CRL, signed
 * with the next CRL number on each request (core_ca_crl, audited as crl_issued), as DER under
 * the name RFC 5280 uses for CRLs over HTTP (application/pkix-crl) or as PEM for
 * `openssl crl` and OpenVPN's crl-verify.
 */
#include "web/ca.h"


#include "core/certificates.h"
#include "domain/cycle.h"
#include "http/http.h"
#include "util/log.h"

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

json_t *web_ca_renewals_json(web_ctx *ctx)
{
    core_ctx c = web_core(ctx);
    store_certificate *due = NULL;
    size_t n = 0;
    json_t *list = json_array();
    nsdb_err e = core_certs_due_for_renewal(&c, &due, &n);
    if (e != NSDB_OK) {
        log_event(LOG_ERROR, "renewals_unreadable", "error", nsdb_err_message(e), NULL);
        return list;
    }
    for (size_t i = 0; i < n; i++) {
        char *ends = arena_calloc(c.arena, 1, 11); /* the day in Japan, as elsewhere */
        cycle_day_of_time(due[i].issued_at + (int64_t)PKI_CLIENT_VALID_DAYS * 86400, ends);
        json_array_append_new(list,
                              json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "media_id",
                                        (json_int_t)due[i].media_id, "code",
                                        due[i].municipality_code, "name", due[i].municipality_name,
                                        "institution", due[i].institution_code, "institution_name",
                                        due[i].institution_name, "expires", ends));
    }
    return list;
}
