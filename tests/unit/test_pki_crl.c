/*
 * test_pki_crl.c — the CA's certificate revocation list (pki_crl in domain/pki.c), parsed back
 * with libcrypto: a v2 CRL whose issuer is the CA, signed by the CA's key, with thisUpdate,
 * nextUpdate 30 days later, the CRL number and the authority key identifier, one entry per
 * revoked serial with its date and reason; a certificate it lists fails verification with CRL
 * checking and one it does not list passes; bad input is refused.
 */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "domain/pki.h"
#include "util/str.h"

/* The CRL's time: now, so that the certificates issued here are already valid. */
static int64_t NOW;

typedef struct {
    char dir[64];
    char ca_dir[96];
    pki_ca *ca;
    X509 *ca_cert;
} fixture;

static X509 *ca_cert_read(const char *ca_dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/ca.crt", ca_dir);
    FILE *f = fopen(path, "r");
    X509 *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    return cert;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || test_mkdtemp(f->dir, sizeof f->dir, "nsdb-crl") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->ca_dir, sizeof f->ca_dir, "%s/ca", f->dir);
    NOW = (int64_t)time(NULL);
    if (pki_ca_load_or_create(f->ca_dir, &f->ca) != NSDB_OK ||
        (f->ca_cert = ca_cert_read(f->ca_dir)) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pki_ca_free(f->ca);
    X509_free(f->ca_cert);
    int rc = test_remove_tree(f->dir);
    free(f);
    return rc;
}

/* A client certificate from a fresh bundle, and its serial in hex. */
static X509 *client_cert(fixture *f, char serial[PKI_SERIAL_HEX_MAX + 1])
{
    char pass[PKI_PASSPHRASE_LEN + 1];
    pki_passphrase_generate(pass);
    strbuf der = STRBUF_INIT;
    assert_int_equal(pki_client_p12(f->ca, "1312345678", "難病記念病院", pass, &der, serial),
                     NSDB_OK);
    const unsigned char *p = (const unsigned char *)der.data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)der.len);
    assert_non_null(p12);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(PKCS12_parse(p12, pass, &key, &cert, &chain), 1);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    PKCS12_free(p12);
    strbuf_free(&der);
    return cert;
}

static X509_CRL *crl_parse(const strbuf *out, bool pem)
{
    if (pem) {
        BIO *bio = BIO_new_mem_buf(out->data, (int)out->len);
        X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
        return crl;
    }
    const unsigned char *p = (const unsigned char *)out->data;
    return d2i_X509_CRL(NULL, &p, (long)out->len);
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
    return (int64_t)timegm(&tm);
}

/* 0 when cert verifies against the CA with CRL checking, else OpenSSL's error code. */
static int verify_with_crl(fixture *f, X509 *cert, X509_CRL *crl)
{
    X509_STORE *store = X509_STORE_new();
    assert_int_equal(X509_STORE_add_cert(store, f->ca_cert), 1);
    assert_int_equal(X509_STORE_add_crl(store, crl), 1);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)NOW + 60);
    int ok = X509_verify_cert(ctx);
    int err = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return err;
}

static void crl_lists_revoked_serials_signed_by_the_ca(void **state)
{
    fixture *f = *state;
    char revoked_serial[PKI_SERIAL_HEX_MAX + 1], kept_serial[PKI_SERIAL_HEX_MAX + 1];
    X509 *revoked_cert = client_cert(f, revoked_serial);
    X509 *kept_cert = client_cert(f, kept_serial);
    const pki_revoked entries[] = {
        {revoked_serial, NOW - 86400, PKI_REVOKED_SUPERSEDED},
        {"0A1B", NOW - 3600, PKI_REVOKED_KEY_COMPROMISE},
    };
    for (int pem = 0; pem <= 1; pem++) {
        strbuf out = STRBUF_INIT;
        assert_int_equal(pki_crl(f->ca, entries, 2, 7, NOW, pem, &out), NSDB_OK);
        if (pem)
            assert_non_null(strstr(out.data, "-----BEGIN X509 CRL-----"));
        X509_CRL *crl = crl_parse(&out, pem);
        assert_non_null(crl);
        assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
        assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(f->ca_cert)),
                         0);
        assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->ca_cert)), 1);
        assert_int_equal(asn1_time_unix(X509_CRL_get0_lastUpdate(crl)), NOW);
        assert_int_equal(asn1_time_unix(X509_CRL_get0_nextUpdate(crl)),
                         NOW + PKI_CRL_VALID_DAYS * 86400);
        ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        assert_non_null(number);
        assert_int_equal(ASN1_INTEGER_get(number), 7);
        ASN1_INTEGER_free(number);
        AUTHORITY_KEYID *aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
        assert_non_null(aki);
        assert_non_null(aki->keyid);
        assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(f->ca_cert)),
                         0);
        AUTHORITY_KEYID_free(aki);

        STACK_OF(X509_REVOKED) *list = X509_CRL_get_REVOKED(crl);
        assert_int_equal(sk_X509_REVOKED_num(list), 2);
        X509_REVOKED *entry = NULL;
        assert_int_equal(X509_CRL_get0_by_cert(crl, &entry, revoked_cert), 1);
        assert_int_equal(asn1_time_unix(X509_REVOKED_get0_revocationDate(entry)), NOW - 86400);
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
        assert_non_null(reason);
        assert_int_equal(ASN1_ENUMERATED_get(reason), PKI_REVOKED_SUPERSEDED);
        ASN1_ENUMERATED_free(reason);
        assert_int_equal(X509_CRL_get0_by_cert(crl, &entry, kept_cert), 0);
        /* the short serial is there too, as the number it names */
        ASN1_INTEGER *short_serial = ASN1_INTEGER_new();
        assert_int_equal(ASN1_INTEGER_set(short_serial, 0x0A1B), 1);
        assert_int_equal(X509_CRL_get0_by_serial(crl, &entry, short_serial), 1);
        ASN1_INTEGER_free(short_serial);
        /* what a VPN server does with it */
        assert_int_equal(verify_with_crl(f, revoked_cert, crl), X509_V_ERR_CERT_REVOKED);
        assert_int_equal(verify_with_crl(f, kept_cert, crl), 0);
        X509_CRL_free(crl);
        strbuf_free(&out);
    }
    X509_free(revoked_cert);
    X509_free(kept_cert);
}

static void empty_crl_is_valid_and_numbers_are_kept(void **state)
{
    fixture *f = *state;
    strbuf out = STRBUF_INIT;
    assert_int_equal(pki_crl(f->ca, NULL, 0, 123456789012LL, NOW, true, &out), NSDB_OK);
    X509_CRL *crl = crl_parse(&out, true);
    assert_non_null(crl);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->ca_cert)), 1);
    /* no entries: the optional revokedCertificates field is left out */
    assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0, 1);
    ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    int64_t n = 0;
    assert_int_equal(ASN1_INTEGER_get_int64(&n, number), 1);
    assert_int_equal(n, 123456789012LL);
    ASN1_INTEGER_free(number);
    X509_CRL_free(crl);
    strbuf_free(&out);
}

static void bad_serials_and_numbers_are_refused(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {"", "XYZ", "12 34", "-1",
                                      "0123456789ABCDEF0123456789ABCDEF0123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const pki_revoked r = {bad[i], NOW, PKI_REVOKED_SUPERSEDED};
        strbuf out = STRBUF_INIT;
        assert_int_equal(pki_crl(f->ca, &r, 1, 1, NOW, true, &out), NSDB_ERR_INVALID);
        assert_int_equal(out.len, 0);
        strbuf_free(&out);
    }
    const pki_revoked none = {NULL, NOW, PKI_REVOKED_SUPERSEDED};
    strbuf out = STRBUF_INIT;
    assert_int_equal(pki_crl(f->ca, &none, 1, 1, NOW, true, &out), NSDB_ERR_INVALID);
    assert_int_equal(pki_crl(f->ca, NULL, 0, 0, NOW, true, &out), NSDB_ERR_INVALID);
    assert_int_equal(out.len, 0);
    strbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crl_lists_revoked_serials_signed_by_the_ca, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(empty_crl_is_valid_and_numbers_are_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_serials_and_numbers_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
