/*
 * ca_verbs.c — the VPN certificate authority's verbs (SPEC §8, issue 13 item 5): `ca crl`
 * prints the CA's current CRL (PEM, or DER with --der) on stdout for the VPN server; `ca revoke`
 * revokes the certificates of an institution whose users are all suspended; `ca renewals`
 * lists the certificates that end within CERT_RENEWAL_DAYS days.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/certificates.h"
#include "domain/cycle.h"

enum { O_DER = 1, O_INSTITUTION, O_JSON };

typedef struct ca_opts {
    bool der, json;
    const char *institution;
} ca_opts;

static int ca_option(int opt, const char *arg, void *ctx)
{
    ca_opts *o = ctx;
    switch (opt) {
    case O_DER:
        o->der = true;
        return 0;
    case O_INSTITUTION:
        o->institution = arg;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    default:
        return -1;
    }
}

int verb_ca_crl(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"der", no_argument, NULL, O_DER},
                                         {NULL, 0, NULL, 0}};
    ca_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, ca_option, &o);
    if (rc != 0)
        return rc;
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    nsdb_problem pb = {0};
    strbuf crl = STRBUF_INIT;
    nsdb_err e = core_ca_crl(&r.core, !o.der, &crl, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb);
    if (e == NSDB_OK && (fwrite(crl.data, 1, crl.len, stdout) != crl.len || fflush(stdout) != 0))
        rc = EXIT_USER;
    strbuf_free(&crl);
    cli_run_close(&r);
    return rc;
}

int verb_ca_revoke(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"institution", required_argument, NULL, O_INSTITUTION},
                                         {NULL, 0, NULL, 0}};
    ca_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, ca_option, &o);
    if (rc != 0)
        return rc;
    if (o.institution == NULL) {
        fprintf(stderr, "nsdb: --institution（医療機関コード）は必須です。\n");
        return EXIT_USAGE;
    }
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    nsdb_problem pb = {0};
    size_t n = 0;
    nsdb_err e = core_institution_certs_revoke(&r.core, o.institution, &n, &pb);
    rc = e == NSDB_OK ? 0 : cli_problem(&pb);
    if (e == NSDB_OK)
        printf("証明書 %zu 件を失効させました（nsdb ca crl で失効リストを VPN サーバへ）。\n", n);
    cli_run_close(&r);
    return rc;
}

/* The day of t in Japan (YYYY-MM-DD), as the screens show dates. */
static const char *day_text(arena *ar, int64_t t)
{
    char *day = arena_calloc(ar, 1, 11);
    cycle_day_of_time(t, day);
    return day;
}

int verb_ca_renewals(int argc, char **argv, app_config *cfg)
{
    static const struct option OPTS[] = {COMMON_LONG_OPTIONS,
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    ca_opts o = {0};
    int rc = cli_parse_options(argc, argv, cfg, OPTS, ca_option, &o);
    if (rc != 0)
        return rc;
    cli_run r;
    if ((rc = cli_run_open(&r, cfg)) != 0)
        return rc;
    store_certificate *certs = NULL;
    size_t n = 0;
    nsdb_err e = core_certs_due_for_renewal(&r.core, &certs, &n);
    if (e != NSDB_OK) {
        fprintf(stderr, "nsdb: 証明書を読めません: %s\n", nsdb_err_message(e));
        rc = EXIT_USER;
    }
    json_t *list = o.json && e == NSDB_OK ? json_array() : NULL;
    if (e == NSDB_OK && !o.json)
        printf("媒体\t自治体\t医療機関\t有効期限\t証明書シリアル\n");
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        const char *expires = day_text(r.arena,
                                       certs[i].issued_at + (int64_t)PKI_CLIENT_VALID_DAYS * 86400);
        if (list != NULL)
            json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s}", "media_id",
                                                  (json_int_t)certs[i].media_id, "municipality",
                                                  certs[i].municipality_code, "institution",
                                                  certs[i].institution_code, "expires", expires,
                                                  "serial", certs[i].serial));
        else
            printf("%lld\t%s\t%s %s\t%s\t%s\n", (long long)certs[i].media_id,
                   certs[i].municipality_code, certs[i].institution_code, certs[i].institution_name,
                   expires, certs[i].serial);
    }
    if (list != NULL)
        cli_print_json(list, JSON_INDENT(2));
    cli_run_close(&r);
    return rc;
}
