/*
 * certificates.c — see certificates.h. A CRL takes its number in its own short transaction
 * (with its audit record) and is signed after the commit: a number is never given twice, and
 * a CRL that could not be signed only leaves a gap in the numbers, which RFC 5280 allows.
 */
#include "core/certificates.h"

#include <stdio.h>
#include <string.h>

#include "store/institutions.h"

const char *core_ca_dir(core_ctx *c)
{
    return arena_printf(c->arena, "%s/ca", c->app->cfg.data_dir);
}

static const char *reason_label(pki_revocation_reason r)
{
    switch (r) {
    case PKI_REVOKED_KEY_COMPROMISE:
        return "keyCompromise";
    case PKI_REVOKED_SUPERSEDED:
        return "superseded";
    case PKI_REVOKED_CESSATION_OF_OPERATION:
        return "cessationOfOperation";
    }
    return "unspecified";
}

nsdb_err core_cert_revoke_step(core_ctx *c, int64_t media_id, pki_revocation_reason reason)
{
    bool added = false;
    nsdb_err e = store_revocation_add(c->conn, media_id, reason, c->who.user_pk, c->who.now,
                                      &added);
    if (e == NSDB_OK && added)
        e = core_audit(c, "cert_revoked", core_target_id(c, "media", media_id), "ok",
                       reason_label(reason));
    return e;
}

nsdb_err core_ca_crl(core_ctx *c, bool pem, strbuf *out, nsdb_problem *pb)
{
    pki_ca *ca = NULL;
    nsdb_err e = pki_ca_load_or_create(core_ca_dir(c), &ca);
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL,
                           arena_printf(c->arena, "認証局（%s）を読めません: %s", core_ca_dir(c),
                                        nsdb_err_message(e)));
    store_revocation *rows = NULL;
    size_t n = 0;
    int64_t number = 0;
    e = core_begin(c);
    if (e == NSDB_OK)
        e = store_revocation_list(c->conn, c->arena, &rows, &n);
    if (e == NSDB_OK)
        e = store_crl_issue(c->conn, c->who.user_pk, c->who.now, &number);
    if (e == NSDB_OK)
        e = core_audit(c, "crl_issued", arena_printf(c->arena, "crl:%lld", (long long)number), "ok",
                       arena_printf(c->arena, "失効 %zu 件", n));
    e = core_end(c, e);
    pki_revoked *revoked = arena_calloc(c->arena, n ? n : 1, sizeof *revoked);
    for (size_t i = 0; i < n; i++)
        revoked[i] = (pki_revoked){rows[i].serial, rows[i].revoked_at, rows[i].reason};
    if (e == NSDB_OK)
        e = pki_crl(ca, revoked, n, number, c->who.now, pem, out);
    pki_ca_free(ca);
    return e == NSDB_OK
               ? NSDB_OK
               : problem_set(pb, e, NULL,
                             arena_printf(c->arena, "失効リスト（CRL）を作成できません: %s",
                                          nsdb_err_message(e)));
}

nsdb_err core_institution_certs_revoke(core_ctx *c, const char *institution_code, size_t *count_out,
                                       nsdb_problem *pb)
{
    *count_out = 0;
    const char *code = NULL;
    if (!core_field(c->arena, FIELD_INST_CODE, institution_code, 0, &code, pb))
        return pb->code;
    store_institution *inst = NULL;
    nsdb_err e = store_institution_find_by_code(c->conn, c->arena, code, &inst);
    if (e == NSDB_ERR_NOT_FOUND)
        return problem_set(pb, e, NULL,
                           arena_printf(c->arena, "医療機関コード %s の医療機関はありません。",
                                        code));
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    int64_t active = 0;
    store_certificate *certs = NULL;
    size_t n = 0;
    e = core_begin(c);
    if (e == NSDB_OK)
        e = store_institution_active_users(c->conn, inst->pk, &active);
    if (e == NSDB_OK && active > 0)
        e = NSDB_ERR_CONFLICT;
    if (e == NSDB_OK)
        e = store_certificates_of_institution(c->conn, c->arena, inst->pk, &certs, &n);
    for (size_t i = 0; e == NSDB_OK && i < n; i++)
        e = core_cert_revoke_step(c, certs[i].media_id, PKI_REVOKED_CESSATION_OF_OPERATION);
    e = core_end(c, e);
    if (e == NSDB_ERR_CONFLICT)
        return problem_set(
            pb, e, NULL,
            arena_printf(c->arena,
                         "医療機関 %s には利用中のユーザが %lld 人います。全員を利用停止"
                         "してから証明書を失効させてください。",
                         code, (long long)active));
    if (e != NSDB_OK)
        return problem_set(pb, e, NULL, NULL);
    *count_out = n;
    return NSDB_OK;
}

nsdb_err core_certs_due_for_renewal(core_ctx *c, store_certificate **rows_out, size_t *count_out)
{
    int64_t issued_before = c->who.now -
                            (int64_t)(PKI_CLIENT_VALID_DAYS - CERT_RENEWAL_DAYS) * 86400;
    return store_certificates_issued_before(c->conn, c->arena, issued_before, rows_out, count_out);
}

nsdb_err core_renewal_candidates(core_ctx *c, const char *cycle_id, store_media **wanted, size_t *n)
{
    store_certificate *due = NULL;
    size_t k = 0;
    nsdb_err e = core_certs_due_for_renewal(c, &due, &k);
    if (e != NSDB_OK || k == 0)
        return e;
    store_media *all = arena_calloc(c->arena, *n + k, sizeof *all);
    if (*n > 0)
        memcpy(all, *wanted, *n * sizeof *all);
    for (size_t i = 0; i < k; i++)
        all[*n + i] = (store_media){.cycle_id = arena_strdup(c->arena, cycle_id),
                                    .municipality_pk = due[i].municipality_pk,
                                    .municipality_code = due[i].municipality_code,
                                    .municipality_name = due[i].municipality_name,
                                    .institution_pk = due[i].institution_pk,
                                    .institution_code = due[i].institution_code,
                                    .institution_name = due[i].institution_name,
                                    .kind = "reissue",
                                    .renewal_of = due[i].media_id};
    *wanted = all;
    *n += k;
    return NSDB_OK;
}

nsdb_err core_renewal_record_step(core_ctx *c, int64_t new_id, int64_t renewal_of)
{
    nsdb_err e = store_media_set_renewal_of(c->conn, new_id, renewal_of);
    if (e == NSDB_OK)
        e = core_audit(c, "media_renewed", core_target_id(c, "media", renewal_of), "ok",
                       arena_printf(c->arena, "証明書の更新 (media:%lld)", (long long)new_id));
    return e;
}
