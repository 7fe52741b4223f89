/*
 * test_pki.c — the VPN certificate authority of domain/pki.c: the CA files (created once with a
 * 0600 key, reloaded unchanged, refused when unsafe or half present), client PKCS#12 bundles
 * checked both by the openssl command (passphrase, chain verification, extensions, algorithms)
 * and by libcrypto in C, passphrases, input validation and concurrent use. The openssl checks
 * are skipped, with a message, only when the command is not installed.
 */
#include "test_support.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "domain/ids.h"
#include "domain/pki.h"
#include "util/str.h"

#define INSTITUTION_CODE "1312345678"
#define INSTITUTION_NAME "医療法人社団 難病記念病院"

typedef struct {
    char dir[64];     /* the test's temporary folder */
    char ca_dir[96];  /* dir/ca */
    char path[160];   /* scratch */
} fixture;

static int setup_dir(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (test_mkdtemp(f->dir, sizeof f->dir, "nsdb-pki") != 0) {
        free(f);
        return -1;
    }
    snprintf(f->ca_dir, sizeof f->ca_dir, "%s/ca", f->dir);
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    fixture *f = *state;
    int rc = test_remove_tree(f->dir);
    free(f);
    return rc;
}

static void file_path(fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
}

/* Runs a shell command; *out (malloc'd) gets stdout and stderr. Returns the exit status. */
static int run(const char *cmd, char **out)
{
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    return test_capture(full, out, NULL);
}

static void require_openssl(void)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0) {
        print_message("SKIP: the openssl command is not installed "
                      "(apt-get install openssl)\n");
        skip();
    }
}

static X509 *cert_from_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(cert);
    return cert;
}

/* The text of the first entry nid of name, and its ASN.1 string type. */
static const char *name_entry(const X509_NAME *name, int nid, int *type_out)
{
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    assert_true(i >= 0);
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    if (type_out != NULL)
        *type_out = ASN1_STRING_type(s);
    return (const char *)ASN1_STRING_get0_data(s);
}

static int days_valid(const X509 *cert)
{
    int days = 0, seconds = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert),
                                    X509_get0_notAfter(cert)), 1);
    return days;
}

/* Issues a p12 for the test institution and writes it to dir/name. */
static void issue_p12(fixture *f, pki_ca *ca, const char *passphrase, const char *name,
                      char serial[PKI_SERIAL_HEX_MAX + 1])
{
    strbuf p12 = STRBUF_INIT;
    assert_int_equal(pki_client_p12(ca, INSTITUTION_CODE, INSTITUTION_NAME, passphrase, &p12,
                                    serial),
                     NSDB_OK);
    assert_true(p12.len > 500);
    file_path(f, name);
    test_write_file(f->path, p12.data, p12.len);
    strbuf_free(&p12);
}

/* ---- the CA files ------------------------------------------------------------------------- */

static void ca_is_created_with_a_0600_key_and_reloaded_unchanged(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    assert_non_null(ca);
    strbuf first = STRBUF_INIT, second = STRBUF_INIT;
    assert_int_equal(pki_ca_cert_pem(ca, &first), NSDB_OK);
    pki_ca_free(ca);

    struct stat st;
    assert_int_equal(stat(f->ca_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char key_path[128], cert_path[128];
    snprintf(key_path, sizeof key_path, "%s/ca.key", f->ca_dir);
    snprintf(cert_path, sizeof cert_path, "%s/ca.crt", f->ca_dir);
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *key_pem = test_slurp_text(key_path);
    assert_non_null(strstr(key_pem, "-----BEGIN PRIVATE KEY-----"));
    free(key_pem);
    char *cert_pem = test_slurp_text(cert_path);
    assert_string_equal(cert_pem, first.data);
    free(cert_pem);

    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    assert_int_equal(pki_ca_cert_pem(ca, &second), NSDB_OK);
    assert_string_equal(first.data, second.data);
    pki_ca_free(ca);
    strbuf_free(&first);
    strbuf_free(&second);
}

static void ca_certificate_is_a_ten_year_utf8_named_ca(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    pki_ca_free(ca);
    char cert_path[128];
    snprintf(cert_path, sizeof cert_path, "%s/ca.crt", f->ca_dir);

    X509 *cert = cert_from_file(cert_path);
    int type = 0;
    assert_string_equal(name_entry(X509_get_subject_name(cert), NID_commonName, &type),
                        "難病・小慢DB VPN CA");
    assert_int_equal(type, V_ASN1_UTF8STRING);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)), 0);
    assert_int_equal(X509_check_ca(cert), 1);
    assert_true(X509_get_key_usage(cert) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    assert_non_null(X509_get0_subject_key_id(cert));
    assert_true(days_valid(cert) >= 3652);
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    assert_int_equal(ASN1_STRING_length(serial), 16);
    X509_free(cert);

    require_openssl();
    char cmd[256], *out;
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -text", cert_path);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "X509v3 Basic Constraints: critical"));
    assert_non_null(strstr(out, "CA:TRUE"));
    assert_non_null(strstr(out, "Certificate Sign, CRL Sign"));
    assert_non_null(strstr(out, "X509v3 Subject Key Identifier"));
    assert_non_null(strstr(out, "ecdsa-with-SHA256"));
    free(out);
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -subject -nameopt utf8", cert_path);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "CN=難病・小慢DB VPN CA"));
    free(out);
}

static void ca_key_readable_by_group_is_refused(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    pki_ca_free(ca);
    char key_path[128];
    snprintf(key_path, sizeof key_path, "%s/ca.key", f->ca_dir);
    assert_int_equal(chmod(key_path, 0640), 0);
    ca = (pki_ca *)1;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_ERR_CRYPTO);
    assert_null(ca);
    assert_int_equal(chmod(key_path, 0604), 0);
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_ERR_CRYPTO);
    assert_int_equal(chmod(key_path, 0600), 0);
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    pki_ca_free(ca);
}

static void half_a_ca_is_refused_not_replaced(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    pki_ca_free(ca);
    char key_path[128], cert_path[128];
    snprintf(key_path, sizeof key_path, "%s/ca.key", f->ca_dir);
    snprintf(cert_path, sizeof cert_path, "%s/ca.crt", f->ca_dir);
    char *cert_pem = test_slurp_text(cert_path);
    assert_int_equal(unlink(cert_path), 0);
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_ERR_CRYPTO);
    assert_int_equal(access(key_path, F_OK), 0); /* the key was kept */

    /* A certificate of another key is refused too. */
    test_write_file(cert_path, cert_pem, strlen(cert_pem));
    free(cert_pem);
    char other_dir[128];
    snprintf(other_dir, sizeof other_dir, "%s/other", f->dir);
    assert_int_equal(pki_ca_load_or_create(other_dir, &ca), NSDB_OK);
    strbuf other = STRBUF_INIT;
    assert_int_equal(pki_ca_cert_pem(ca, &other), NSDB_OK);
    pki_ca_free(ca);
    test_write_file(cert_path, other.data, other.len);
    strbuf_free(&other);
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_ERR_CRYPTO);

    /* And a key file that is not a key. */
    assert_int_equal(unlink(key_path), 0);
    int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a key\n", 10), 10);
    close(fd);
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_ERR_CRYPTO);
}

/* ---- client bundles ----------------------------------------------------------------------- */

static void p12_opens_with_its_passphrase_and_verifies_against_the_ca(void **state)
{
    fixture *f = *state;
    require_openssl();
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char pass[PKI_PASSPHRASE_LEN + 1], serial[PKI_SERIAL_HEX_MAX + 1];
    pki_passphrase_generate(pass);
    issue_p12(f, ca, pass, "client.p12", serial);
    pki_ca_free(ca);
    assert_int_equal(strlen(serial), 32);

    char cmd[768], *out;
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s/client.p12' -passin pass:%s -nokeys -clcerts -out "
             "'%s/cert.pem'",
             f->dir, pass, f->dir);
    assert_int_equal(run(cmd, &out), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile '%s/ca.crt' -purpose sslclient '%s/cert.pem'",
             f->ca_dir, f->dir);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "cert.pem: OK"));
    free(out);

    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/cert.pem' -noout -text", f->dir);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "TLS Web Client Authentication"));
    assert_null(strstr(out, "TLS Web Server Authentication"));
    assert_non_null(strstr(out, "X509v3 Key Usage: critical"));
    assert_non_null(strstr(out, "Digital Signature"));
    assert_non_null(strstr(out, "CA:FALSE"));
    assert_non_null(strstr(out, "X509v3 Authority Key Identifier"));
    assert_non_null(strstr(out, "X509v3 Subject Key Identifier"));
    free(out);

    snprintf(cmd, sizeof cmd,
             "openssl x509 -in '%s/cert.pem' -noout -subject -serial -nameopt utf8,sep_multiline",
             f->dir);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "    CN=" INSTITUTION_CODE "\n"));
    assert_non_null(strstr(out, "    O=" INSTITUTION_NAME "\n"));
    assert_non_null(strstr(out, "    OU=難病・小慢DB\n"));
    char expected_serial[64];
    snprintf(expected_serial, sizeof expected_serial, "serial=%s\n", serial);
    assert_non_null(strstr(out, expected_serial));
    free(out);

    /* The bundle carries the CA certificate for the chain. */
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s/client.p12' -passin pass:%s -nokeys -cacerts -out "
             "'%s/chain.pem'",
             f->dir, pass, f->dir);
    assert_int_equal(run(cmd, &out), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/chain.pem' -noout -fingerprint -sha256",
             f->dir);
    char *chain_fp;
    assert_int_equal(run(cmd, &chain_fp), 0);
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/ca.crt' -noout -fingerprint -sha256",
             f->ca_dir);
    assert_int_equal(run(cmd, &out), 0);
    assert_string_equal(chain_fp, out);
    free(chain_fp);
    free(out);
}

static void p12_refuses_a_wrong_passphrase(void **state)
{
    fixture *f = *state;
    require_openssl();
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char serial[PKI_SERIAL_HEX_MAX + 1];
    issue_p12(f, ca, "K7M2QX9ZP4TBHJ3N8RWA", "client.p12", serial);
    pki_ca_free(ca);
    char cmd[512], *out;
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s/client.p12' -passin pass:K7M2QX9ZP4TBHJ3N8RWB -nokeys "
             "-clcerts -out /dev/null",
             f->dir);
    assert_int_not_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "verify error"));
    free(out);
}

static void p12_uses_aes_256_pbkdf2_sha256_and_a_sha256_mac(void **state)
{
    fixture *f = *state;
    require_openssl();
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char pass[PKI_PASSPHRASE_LEN + 1], serial[PKI_SERIAL_HEX_MAX + 1];
    pki_passphrase_generate(pass);
    issue_p12(f, ca, pass, "client.p12", serial);
    pki_ca_free(ca);
    char cmd[512], *out;
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s/client.p12' -passin pass:%s -info -noout", f->dir, pass);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "MAC: sha256, Iteration 10000"));
    assert_non_null(strstr(out, "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, "
                                "PRF hmacWithSHA256"));
    assert_non_null(strstr(out, "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, "
                                "Iteration 10000, PRF hmacWithSHA256"));
    assert_null(strstr(out, "RC2"));
    assert_null(strstr(out, "3DES"));
    assert_null(strstr(out, "sha1"));
    free(out);
}

static void p12_parses_in_c_with_key_certificate_and_ca(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char pass[PKI_PASSPHRASE_LEN + 1], serial[PKI_SERIAL_HEX_MAX + 1];
    pki_passphrase_generate(pass);
    strbuf p12_der = STRBUF_INIT;
    assert_int_equal(pki_client_p12(ca, INSTITUTION_CODE, INSTITUTION_NAME, pass, &p12_der,
                                    serial),
                     NSDB_OK);
    pki_ca_free(ca);

    const unsigned char *p = (const unsigned char *)p12_der.data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)p12_der.len);
    assert_non_null(p12);
    assert_int_equal(PKCS12_verify_mac(p12, pass, -1), 1);
    assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(PKCS12_parse(p12, pass, &key, &cert, &chain), 1);
    assert_non_null(key);
    assert_non_null(cert);
    assert_non_null(chain);
    assert_int_equal(sk_X509_num(chain), 1);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    assert_true(EVP_PKEY_is_a(key, "EC"));
    /* The friendly name (BMPString) that certificate stores show, back in UTF-8. */
    int alias_len = 0;
    const unsigned char *alias = X509_alias_get0(cert, &alias_len);
    assert_non_null(alias);
    assert_int_equal(alias_len, strlen("難病・小慢DB VPN " INSTITUTION_CODE));
    assert_memory_equal(alias, "難病・小慢DB VPN " INSTITUTION_CODE, (size_t)alias_len);

    char cert_path[128];
    snprintf(cert_path, sizeof cert_path, "%s/ca.crt", f->ca_dir);
    X509 *ca_cert = cert_from_file(cert_path);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 0), ca_cert), 0);
    assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca_cert)), 1);
    assert_int_equal(X509_check_issued(ca_cert, cert), X509_V_OK);

    int type = 0;
    assert_string_equal(name_entry(X509_get_subject_name(cert), NID_commonName, &type),
                        INSTITUTION_CODE);
    assert_int_equal(type, V_ASN1_UTF8STRING);
    assert_string_equal(name_entry(X509_get_subject_name(cert), NID_organizationName, &type),
                        INSTITUTION_NAME);
    assert_int_equal(type, V_ASN1_UTF8STRING);
    assert_string_equal(
        name_entry(X509_get_subject_name(cert), NID_organizationalUnitName, NULL), "難病・小慢DB");
    assert_true(X509_get_extended_key_usage(cert) == XKU_SSL_CLIENT);
    assert_true(X509_get_key_usage(cert) == KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_check_ca(cert), 0);
    int days = days_valid(cert);
    assert_true(days >= 1095 && days <= 1097);

    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = BN_bn2hex(bn);
    assert_string_equal(hex, serial);
    OPENSSL_free(hex);
    BN_free(bn);

    X509_free(ca_cert);
    sk_X509_pop_free(chain, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    PKCS12_free(p12);
    strbuf_free(&p12_der);
}

static void each_bundle_has_its_own_key_and_serial(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char serial_a[PKI_SERIAL_HEX_MAX + 1], serial_b[PKI_SERIAL_HEX_MAX + 1];
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    assert_int_equal(pki_client_p12(ca, "1", "A", "pass", &a, serial_a), NSDB_OK);
    assert_int_equal(pki_client_p12(ca, "1", "A", "pass", &b, serial_b), NSDB_OK);
    assert_string_not_equal(serial_a, serial_b);

    EVP_PKEY *key_a = NULL, *key_b = NULL;
    X509 *cert_a = NULL, *cert_b = NULL;
    const unsigned char *p = (const unsigned char *)a.data;
    PKCS12 *pa = d2i_PKCS12(NULL, &p, (long)a.len);
    p = (const unsigned char *)b.data;
    PKCS12 *pb = d2i_PKCS12(NULL, &p, (long)b.len);
    assert_int_equal(PKCS12_parse(pa, "pass", &key_a, &cert_a, NULL), 1);
    assert_int_equal(PKCS12_parse(pb, "pass", &key_b, &cert_b, NULL), 1);
    assert_int_not_equal(EVP_PKEY_eq(key_a, key_b), 1);
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    X509_free(cert_a);
    X509_free(cert_b);
    PKCS12_free(pa);
    PKCS12_free(pb);
    strbuf_free(&a);
    strbuf_free(&b);
    pki_ca_free(ca);
}

static void bad_inputs_are_refused_and_long_names_cut(void **state)
{
    fixture *f = *state;
    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    char serial[PKI_SERIAL_HEX_MAX + 1];
    strbuf out = STRBUF_INIT;
    static const struct {
        const char *code, *name, *pass;
    } bad[] = {
        {"", "病院", "pass"},
        {"13 12", "病院", "pass"},
        {"医療機関", "病院", "pass"},
        {"1312345678", "", "pass"},
        {"1312345678", "病院\n第二", "pass"},
        {"1312345678", "\xff\xfe", "pass"},
        {"1312345678", "病院", ""},
        {"1312345678", "病院", "パスワード"},
        {"1312345678", "病院", "tab\there"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        serial[0] = 'x';
        assert_int_equal(pki_client_p12(ca, bad[i].code, bad[i].name, bad[i].pass, &out, serial),
                         NSDB_ERR_INVALID);
        assert_int_equal(out.len, 0);
        assert_string_equal(serial, "");
    }

    /* 70 characters of name: O keeps the first 64 whole characters. */
    strbuf name = STRBUF_INIT;
    for (int i = 0; i < 70; i++)
        strbuf_puts(&name, "病");
    assert_int_equal(pki_client_p12(ca, "1312345678", name.data, "pass", &out, serial), NSDB_OK);
    const unsigned char *p = (const unsigned char *)out.data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)out.len);
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    assert_int_equal(PKCS12_parse(p12, "pass", &key, &cert, NULL), 1);
    const char *org = name_entry(X509_get_subject_name(cert), NID_organizationName, NULL);
    assert_int_equal(strlen(org), 64 * strlen("病"));
    assert_memory_equal(org, name.data, 64 * strlen("病"));
    X509_free(cert);
    EVP_PKEY_free(key);
    PKCS12_free(p12);
    strbuf_free(&name);
    strbuf_free(&out);
    pki_ca_free(ca);
}

static void passphrases_are_20_unambiguous_symbols(void **state)
{
    (void)state;
    enum { COUNT = 200 };
    static char seen[COUNT][PKI_PASSPHRASE_LEN + 1];
    int histogram[IDS_ALPHABET_SIZE] = {0};
    for (int i = 0; i < COUNT; i++) {
        pki_passphrase_generate(seen[i]);
        assert_int_equal(strlen(seen[i]), PKI_PASSPHRASE_LEN);
        for (int j = 0; j < PKI_PASSPHRASE_LEN; j++) {
            const char *at = strchr(IDS_ALPHABET, seen[i][j]);
            assert_non_null(at);
            histogram[at - IDS_ALPHABET]++;
        }
        for (int k = 0; k < i; k++)
            assert_string_not_equal(seen[i], seen[k]);
    }
    /* 4,000 symbols over 31: every symbol turns up (the chance one does not is ~1e-54). */
    for (int s = 0; s < IDS_ALPHABET_SIZE; s++)
        assert_true(histogram[s] > 0);
}

/* ---- concurrency -------------------------------------------------------------------------- */

enum { THREADS = 4, ISSUES_PER_THREAD = 3 };

typedef struct {
    const char *ca_dir;
    pki_ca *shared;
    nsdb_err err;
    char serials[ISSUES_PER_THREAD][PKI_SERIAL_HEX_MAX + 1];
    strbuf cert_pem;
} worker;

static void *worker_issue(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < ISSUES_PER_THREAD && w->err == NSDB_OK; i++) {
        strbuf p12 = STRBUF_INIT;
        w->err = pki_client_p12(w->shared, "1312345678", INSTITUTION_NAME, "pass", &p12,
                                w->serials[i]);
        strbuf_free(&p12);
    }
    return NULL;
}

static void *worker_load(void *arg)
{
    worker *w = arg;
    pki_ca *ca = NULL;
    w->err = pki_ca_load_or_create(w->ca_dir, &ca);
    if (w->err == NSDB_OK)
        w->err = pki_ca_cert_pem(ca, &w->cert_pem);
    pki_ca_free(ca);
    return NULL;
}

static void threads_share_one_ca_and_create_it_once(void **state)
{
    fixture *f = *state;
    worker workers[THREADS];
    pthread_t threads[THREADS];
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < THREADS; i++) {
        workers[i].ca_dir = f->ca_dir;
        assert_int_equal(pthread_create(&threads[i], NULL, worker_load, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(workers[i].err, NSDB_OK);
        assert_string_equal(workers[i].cert_pem.data, workers[0].cert_pem.data);
    }
    for (int i = 0; i < THREADS; i++)
        strbuf_free(&workers[i].cert_pem);

    pki_ca *ca = NULL;
    assert_int_equal(pki_ca_load_or_create(f->ca_dir, &ca), NSDB_OK);
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < THREADS; i++) {
        workers[i].shared = ca;
        assert_int_equal(pthread_create(&threads[i], NULL, worker_issue, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < THREADS * ISSUES_PER_THREAD; i++) {
        const worker *wi = &workers[i / ISSUES_PER_THREAD];
        assert_int_equal(wi->err, NSDB_OK);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(wi->serials[i % ISSUES_PER_THREAD],
                                    workers[j / ISSUES_PER_THREAD].serials[j % ISSUES_PER_THREAD]);
    }
    pki_ca_free(ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ca_is_created_with_a_0600_key_and_reloaded_unchanged,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(ca_certificate_is_a_ten_year_utf8_named_ca, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(ca_key_readable_by_group_is_refused, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(half_a_ca_is_refused_not_replaced, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(p12_opens_with_its_passphrase_and_verifies_against_the_ca,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(p12_refuses_a_wrong_passphrase, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(p12_uses_aes_256_pbkdf2_sha256_and_a_sha256_mac,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(p12_parses_in_c_with_key_certificate_and_ca, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(each_bundle_has_its_own_key_and_serial, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(bad_inputs_are_refused_and_long_names_cut, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(passphrases_are_20_unambiguous_symbols),
        cmocka_unit_test_setup_teardown(threads_share_one_ca_and_create_it_once, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
