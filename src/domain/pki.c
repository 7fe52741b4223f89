/*
 * pki.c — the VPN certificate authority (see pki.h) on OpenSSL 3 libcrypto, EVP interfaces
 * only. Keys are ECDSA P-256: small, fast to generate (a media run makes one per institution)
 * and accepted by current VPN clients. Serial numbers are 16 random bytes (126 bits of
 * entropy; the top byte is forced into 0x40–0x7F so the DER integer is positive and always
 * 16 bytes long).
 *
 * The CA key is stored unencrypted, like secret.key: a passphrase would have to live next to
 * it for the server to issue certificates unattended, which protects nothing. Its protection
 * is the file mode (0600, refused otherwise) in a 0700 folder, and backups of the data folder.
 *
 * Every OpenSSL failure prints its reasons to stderr and clears this thread's error queue, so
 * that a later, unrelated caller (libcurl's TLS) never sees a stale error.
 */
#include "domain/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "domain/ids.h"
#include "domain/text_chars.h"
#include "util/fd.h"

#define PKI_CA_COMMON_NAME "難病・小慢DB VPN CA"
#define PKI_CLIENT_ORG_UNIT "難病・小慢DB"
#define PKI_FRIENDLY_NAME_PREFIX "難病・小慢DB VPN "
#define PKI_CURVE "P-256"

enum {
    PKI_SERIAL_BYTES = 16,
    PKI_BACKDATE_SECONDS = 3600,      /* tolerate clients whose clock runs an hour behind */
    PKI_P12_ITERATIONS = 10000,       /* PBKDF2 and MAC; the passphrase has ~99 bits anyway */
    PKI_FILE_MAX = 64 * 1024,         /* a PEM key or certificate is a few kilobytes */
    PKI_NAME_MAX_CHARS = 64,          /* ub-common-name, ub-organization-name (RFC 5280) */
    PKI_PATH_MAX = 4096,
};

struct pki_ca {
    EVP_PKEY *key;
    X509 *cert;
};

typedef struct pki_extension {
    int nid;
    const char *value;
} pki_extension;

static const pki_extension PKI_CA_EXTENSIONS[] = {
    {NID_basic_constraints, "critical,CA:TRUE"},
    {NID_key_usage, "critical,keyCertSign,cRLSign"},
    {NID_subject_key_identifier, "hash"},
};

static const pki_extension PKI_CLIENT_EXTENSIONS[] = {
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "clientAuth"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

static nsdb_err pki_fail(const char *what)
{
    fprintf(stderr, "nsdb: pki: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    ERR_clear_error();
    return NSDB_ERR_CRYPTO;
}

/* ---- keys, names, certificates ------------------------------------------------------------ */

static EVP_PKEY *pki_key_generate(void)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_group_name(ctx, PKI_CURVE) == 1)
        EVP_PKEY_generate(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static bool pki_name_add(X509_NAME *name, int nid, const char *utf8)
{
    return X509_NAME_add_entry_by_NID(name, nid, V_ASN1_UTF8STRING, (const unsigned char *)utf8,
                                      -1, -1, 0) == 1;
}

static void pki_serial_generate(unsigned char raw[PKI_SERIAL_BYTES])
{
    if (RAND_bytes(raw, PKI_SERIAL_BYTES) != 1)
        abort(); /* the CSPRNG failing is not a state to issue certificates in */
    raw[0] = (unsigned char)((raw[0] & 0x7F) | 0x40);
}

static bool pki_serial_set(X509 *cert, const unsigned char raw[PKI_SERIAL_BYTES])
{
    BIGNUM *bn = BN_bin2bn(raw, PKI_SERIAL_BYTES, NULL);
    ASN1_INTEGER *serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    bool ok = serial != NULL && X509_set_serialNumber(cert, serial) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ok;
}

static bool pki_extensions_add(X509 *cert, X509 *issuer, const pki_extension *ext, size_t n)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, ext[i].nid, ext[i].value);
        bool ok = e != NULL && X509_add_ext(cert, e, -1) == 1;
        X509_EXTENSION_free(e);
        if (!ok)
            return false;
    }
    return true;
}

/* A v3 certificate for subject_key named subject, signed by issuer_key. issuer is NULL for the
 * self-signed CA certificate. */
static X509 *pki_cert_issue(EVP_PKEY *subject_key, X509_NAME *subject, X509 *issuer,
                            EVP_PKEY *issuer_key, long days, const pki_extension *ext,
                            size_t ext_count, const unsigned char serial[PKI_SERIAL_BYTES])
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return NULL;
    X509_NAME *issuer_name = issuer != NULL ? X509_get_subject_name(issuer) : subject;
    bool ok = X509_set_version(cert, X509_VERSION_3) == 1 && pki_serial_set(cert, serial) &&
              X509_set_subject_name(cert, subject) == 1 &&
              X509_set_issuer_name(cert, issuer_name) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(cert), -PKI_BACKDATE_SECONDS) != NULL &&
              X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) != NULL &&
              X509_set_pubkey(cert, subject_key) == 1 &&
              pki_extensions_add(cert, issuer != NULL ? issuer : cert, ext, ext_count) &&
              X509_sign(cert, issuer_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* ---- files -------------------------------------------------------------------------------- */

/* Reads a whole small file. A secret file must be a regular file without group or other
 * permissions; the caller wipes and frees *out. */
static NSDB_MUST_CHECK nsdb_err pki_file_read(const char *path, bool secret, char **out,
                                              size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "nsdb: pki: cannot open %s: %s\n", path, strerror(errno));
        return NSDB_ERR_IO;
    }
    struct stat st;
    nsdb_err err = NSDB_OK;
    if (fstat(fd, &st) != 0) {
        err = NSDB_ERR_IO;
    } else if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PKI_FILE_MAX) {
        fprintf(stderr, "nsdb: pki: %s is not a regular file of a sensible size\n", path);
        err = NSDB_ERR_CRYPTO;
    } else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(stderr, "nsdb: pki: %s has mode %04o; group and others must have no access "
                        "(chmod 600 %s)\n", path, (unsigned)(st.st_mode & 0777), path);
        err = NSDB_ERR_CRYPTO;
    }
    char *buf = err == NSDB_OK ? malloc((size_t)st.st_size + 1) : NULL;
    if (err == NSDB_OK && buf == NULL)
        err = NSDB_ERR_NOMEM;
    size_t done = (size_t)st.st_size;
    if (err == NSDB_OK)
        err = fd_read_exact(fd, buf, done);
    close(fd);
    if (err != NSDB_OK) {
        if (buf != NULL)
            OPENSSL_cleanse(buf, (size_t)st.st_size);
        free(buf);
        return err;
    }
    buf[done] = '\0';
    *out = buf;
    *len_out = done;
    return NSDB_OK;
}

/* Writes data to a fresh file (mode 0600) and makes it durable. */
static NSDB_MUST_CHECK nsdb_err pki_file_write(const char *path, const char *data, size_t n)
{
    unlink(path); /* a leftover from a crash; we hold the lock */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0)
        return NSDB_ERR_IO;
    nsdb_err err = fchmod(fd, S_IRUSR | S_IWUSR) == 0 ? NSDB_OK : NSDB_ERR_IO;
    if (err == NSDB_OK)
        err = fd_write_all(fd, data, n);
    if (err == NSDB_OK && fsync(fd) != 0)
        err = NSDB_ERR_IO;
    if (close(fd) != 0)
        err = NSDB_ERR_IO;
    if (err != NSDB_OK)
        unlink(path);
    return err;
}

static bool pki_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PKI_PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PKI_PATH_MAX;
}

static bool pki_file_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

static void pki_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* ---- the CA ------------------------------------------------------------------------------- */

static int pki_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1; /* never prompt on a terminal: the CA key is not encrypted */
}

static NSDB_MUST_CHECK nsdb_err pki_ca_load(const char *key_path, const char *cert_path, pki_ca *ca)
{
    char *pem = NULL;
    size_t len = 0;
    nsdb_err err = pki_file_read(key_path, true, &pem, &len);
    if (err != NSDB_OK)
        return err;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    ca->key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, pki_no_passphrase, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    free(pem);
    if (ca->key == NULL)
        return pki_fail("reading the CA key (ca.key)");

    err = pki_file_read(cert_path, false, &pem, &len);
    if (err != NSDB_OK)
        return err;
    bio = BIO_new_mem_buf(pem, (int)len);
    ca->cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(pem);
    if (ca->cert == NULL)
        return pki_fail("reading the CA certificate (ca.crt)");
    if (X509_check_private_key(ca->cert, ca->key) != 1)
        return pki_fail("matching ca.crt with ca.key");
    if (X509_check_ca(ca->cert) != 1) {
        fprintf(stderr, "nsdb: pki: %s is not a CA certificate\n", cert_path);
        return NSDB_ERR_CRYPTO;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err pki_pem_to_strbuf(BIO *bio, strbuf *out)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0)
        return NSDB_ERR_CRYPTO;
    strbuf_append(out, data, (size_t)n);
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err pki_ca_create(const char *dir, const char *key_path,
                                              const char *cert_path, pki_ca *ca)
{
    ca->key = pki_key_generate();
    if (ca->key == NULL)
        return pki_fail("generating the CA key");
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[PKI_SERIAL_BYTES];
    pki_serial_generate(serial);
    if (name != NULL && pki_name_add(name, NID_commonName, PKI_CA_COMMON_NAME))
        ca->cert = pki_cert_issue(ca->key, name, NULL, ca->key, PKI_CA_VALID_DAYS,
                                  PKI_CA_EXTENSIONS,
                                  sizeof PKI_CA_EXTENSIONS / sizeof PKI_CA_EXTENSIONS[0], serial);
    X509_NAME_free(name);
    if (ca->cert == NULL)
        return pki_fail("making the CA certificate");

    strbuf key_pem = STRBUF_INIT, cert_pem = STRBUF_INIT;
    BIO *key_bio = BIO_new(BIO_s_secmem());
    BIO *cert_bio = BIO_new(BIO_s_mem());
    nsdb_err err = NSDB_ERR_CRYPTO;
    if (key_bio != NULL && cert_bio != NULL &&
        PEM_write_bio_PrivateKey(key_bio, ca->key, NULL, NULL, 0, NULL, NULL) == 1 &&
        PEM_write_bio_X509(cert_bio, ca->cert) == 1)
        err = NSDB_OK;
    if (err == NSDB_OK)
        err = pki_pem_to_strbuf(key_bio, &key_pem);
    if (err == NSDB_OK)
        err = pki_pem_to_strbuf(cert_bio, &cert_pem);
    BIO_free(key_bio);
    BIO_free(cert_bio);
    if (err != NSDB_OK) {
        pki_fail("encoding the CA");
    } else {
        /* Both files are complete on disk before either takes its real name. */
        char key_tmp[PKI_PATH_MAX], cert_tmp[PKI_PATH_MAX];
        if (!pki_path(key_tmp, dir, "ca.key.tmp") || !pki_path(cert_tmp, dir, "ca.crt.tmp") ||
            pki_file_write(key_tmp, key_pem.data, key_pem.len) != NSDB_OK ||
            pki_file_write(cert_tmp, cert_pem.data, cert_pem.len) != NSDB_OK ||
            rename(key_tmp, key_path) != 0 || rename(cert_tmp, cert_path) != 0) {
            fprintf(stderr, "nsdb: pki: cannot write the CA in %s: %s\n", dir, strerror(errno));
            err = NSDB_ERR_IO;
        }
        pki_dir_sync(dir);
    }
    if (key_pem.data != NULL)
        OPENSSL_cleanse(key_pem.data, key_pem.len);
    strbuf_free(&key_pem);
    strbuf_free(&cert_pem);
    return err;
}

static NSDB_MUST_CHECK nsdb_err pki_dir_prepare(const char *dir)
{
    if (mkdir(dir, S_IRWXU) != 0 && errno != EEXIST) {
        fprintf(stderr, "nsdb: pki: cannot create %s: %s\n", dir, strerror(errno));
        return NSDB_ERR_IO;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nsdb: pki: %s is not a folder\n", dir);
        return NSDB_ERR_IO;
    }
    return NSDB_OK;
}

static NSDB_MUST_CHECK nsdb_err pki_ca_load_or_create_locked(const char *dir, pki_ca *ca)
{
    char key_path[PKI_PATH_MAX], cert_path[PKI_PATH_MAX];
    if (!pki_path(key_path, dir, "ca.key") || !pki_path(cert_path, dir, "ca.crt"))
        return NSDB_ERR_INVALID;
    bool have_key = pki_file_exists(key_path), have_cert = pki_file_exists(cert_path);
    if (have_key && have_cert)
        return pki_ca_load(key_path, cert_path, ca);
    if (!have_key && !have_cert)
        return pki_ca_create(dir, key_path, cert_path, ca);
    /* Never replace half a CA: certificates already issued would stop verifying. */
    fprintf(stderr, "nsdb: pki: %s exists without %s; restore the missing file from a backup\n",
            have_key ? key_path : cert_path, have_key ? cert_path : key_path);
    return NSDB_ERR_CRYPTO;
}

nsdb_err pki_ca_load_or_create(const char *dir, pki_ca **out)
{
    *out = NULL;
    nsdb_err err = pki_dir_prepare(dir);
    if (err != NSDB_OK)
        return err;
    char lock_path[PKI_PATH_MAX];
    if (!pki_path(lock_path, dir, "ca.lock"))
        return NSDB_ERR_INVALID;
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (lock_fd < 0) {
        fprintf(stderr, "nsdb: pki: cannot open %s: %s\n", lock_path, strerror(errno));
        return NSDB_ERR_IO;
    }
    while (flock(lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(lock_fd);
            return NSDB_ERR_IO;
        }
    }
    pki_ca *ca = calloc(1, sizeof *ca);
    err = ca != NULL ? pki_ca_load_or_create_locked(dir, ca) : NSDB_ERR_NOMEM;
    close(lock_fd); /* releases the lock */
    if (err != NSDB_OK) {
        pki_ca_free(ca);
        return err;
    }
    *out = ca;
    return NSDB_OK;
}

void pki_ca_free(pki_ca *ca)
{
    if (ca == NULL)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca);
}

nsdb_err pki_ca_cert_pem(const pki_ca *ca, strbuf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    nsdb_err err = bio != NULL && PEM_write_bio_X509(bio, ca->cert) == 1
                       ? pki_pem_to_strbuf(bio, out)
                       : NSDB_ERR_CRYPTO;
    BIO_free(bio);
    return err == NSDB_OK ? NSDB_OK : pki_fail("encoding the CA certificate");
}

/* ---- client certificates ------------------------------------------------------------------ */

/* Institution codes are ASCII identifiers (they also name files and the friendly name). */
static bool pki_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PKI_NAME_MAX_CHARS)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool pki_passphrase_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 1000)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E)
            return false;
    return true;
}

/* Copies a UTF-8 name that the character rule accepts (text_chars.h: no control, line break
 * or bidi character), cut to PKI_NAME_MAX_CHARS code points. */
static char *pki_name_copy(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || text_chars_forbidden(s) != 0)
        return NULL;
    size_t chars = 0, end = 0;
    while (end < n && chars < PKI_NAME_MAX_CHARS) {
        end++;
        while (end < n && ((unsigned char)s[end] & 0xC0) == 0x80)
            end++;
        chars++;
    }
    char *copy = malloc(end + 1);
    if (copy != NULL) {
        memcpy(copy, s, end);
        copy[end] = '\0';
    }
    return copy;
}

static X509 *pki_client_cert(const pki_ca *ca, EVP_PKEY *key, const char *code,
                             const char *org, const unsigned char serial[PKI_SERIAL_BYTES])
{
    X509_NAME *name = X509_NAME_new();
    X509 *cert = NULL;
    if (name != NULL && pki_name_add(name, NID_organizationName, org) &&
        pki_name_add(name, NID_organizationalUnitName, PKI_CLIENT_ORG_UNIT) &&
        pki_name_add(name, NID_commonName, code))
        cert = pki_cert_issue(key, name, ca->cert, ca->key, PKI_CLIENT_VALID_DAYS,
                              PKI_CLIENT_EXTENSIONS,
                              sizeof PKI_CLIENT_EXTENSIONS / sizeof PKI_CLIENT_EXTENSIONS[0],
                              serial);
    X509_NAME_free(name);
    return cert;
}

/* PKCS12_create_ex would MAC with SHA-1 (mac_iter -1 skips its MAC); the MAC is set after. */
static PKCS12 *pki_p12_pack(const pki_ca *ca, EVP_PKEY *key, X509 *cert, const char *code,
                            const char *passphrase)
{
    char friendly[sizeof PKI_FRIENDLY_NAME_PREFIX + PKI_NAME_MAX_CHARS];
    snprintf(friendly, sizeof friendly, "%s%s", PKI_FRIENDLY_NAME_PREFIX, code);
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (chain == NULL || sk_X509_push(chain, ca->cert) <= 0) {
        sk_X509_free(chain);
        return NULL;
    }
    PKCS12 *p12 = PKCS12_create_ex(passphrase, friendly, key, cert, chain, NID_aes_256_cbc,
                                   NID_aes_256_cbc, PKI_P12_ITERATIONS, -1, 0, NULL, NULL);
    sk_X509_free(chain); /* the stack only: the certificate belongs to the CA */
    if (p12 != NULL &&
        PKCS12_set_mac(p12, passphrase, -1, NULL, 0, PKI_P12_ITERATIONS, EVP_sha256()) != 1) {
        PKCS12_free(p12);
        return NULL;
    }
    return p12;
}

nsdb_err pki_client_p12(const pki_ca *ca, const char *institution_code,
                        const char *institution_name, const char *passphrase, strbuf *p12_out,
                        char serial_hex_out[PKI_SERIAL_HEX_MAX + 1])
{
    serial_hex_out[0] = '\0';
    if (!pki_code_valid(institution_code) || !pki_passphrase_valid(passphrase))
        return NSDB_ERR_INVALID;
    char *org = pki_name_copy(institution_name);
    if (org == NULL)
        return NSDB_ERR_INVALID;

    unsigned char serial[PKI_SERIAL_BYTES];
    pki_serial_generate(serial);
    EVP_PKEY *key = pki_key_generate();
    X509 *cert = key != NULL ? pki_client_cert(ca, key, institution_code, org, serial) : NULL;
    PKCS12 *p12 = cert != NULL ? pki_p12_pack(ca, key, cert, institution_code, passphrase) : NULL;
    unsigned char *der = NULL;
    int der_len = p12 != NULL ? i2d_PKCS12(p12, &der) : -1;
    nsdb_err err = NSDB_OK;
    if (der_len <= 0) {
        err = pki_fail(key == NULL    ? "generating a client key"
                       : cert == NULL ? "issuing a client certificate"
                                      : "packing the PKCS#12");
    } else {
        strbuf_append(p12_out, (const char *)der, (size_t)der_len);
        for (size_t i = 0; i < PKI_SERIAL_BYTES; i++)
            snprintf(serial_hex_out + 2 * i, 3, "%02X", serial[i]);
    }
    OPENSSL_free(der);
    PKCS12_free(p12);
    X509_free(cert);
    EVP_PKEY_free(key);
    free(org);
    return err;
}

void pki_passphrase_generate(char out[PKI_PASSPHRASE_LEN + 1])
{
    if (sodium_init() < 0)
        abort(); /* no CSPRNG: not a recoverable state */
    for (size_t i = 0; i < PKI_PASSPHRASE_LEN; i++)
        out[i] = IDS_ALPHABET[randombytes_uniform(IDS_ALPHABET_SIZE)];
    out[PKI_PASSPHRASE_LEN] = '\0';
}

/* ---- the CRL ------------------------------------------------------------------------------ */

static bool pki_serial_hex_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= PKI_SERIAL_HEX_MAX && strspn(s, "0123456789ABCDEFabcdef") == n;
}

static X509_REVOKED *pki_revoked_entry(const pki_revoked *r)
{
    X509_REVOKED *entry = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)r->revoked_at);
    ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
    bool ok = entry != NULL && when != NULL && reason != NULL &&
              BN_hex2bn(&bn, r->serial_hex) > 0 &&
              (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
              X509_REVOKED_set_serialNumber(entry, serial) == 1 &&
              X509_REVOKED_set_revocationDate(entry, when) == 1 &&
              ASN1_ENUMERATED_set(reason, (long)r->reason) == 1 &&
              X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0) == 1;
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    if (!ok) {
        X509_REVOKED_free(entry);
        return NULL;
    }
    return entry;
}

/* thisUpdate, nextUpdate, the CRL number and the authority key identifier. */
static bool pki_crl_header(const pki_ca *ca, X509_CRL *crl, int64_t crl_number, int64_t now)
{
    ASN1_TIME *this_update = ASN1_TIME_set(NULL, (time_t)now);
    ASN1_TIME *next_update = ASN1_TIME_adj(NULL, (time_t)now, PKI_CRL_VALID_DAYS, 0);
    ASN1_INTEGER *number = ASN1_INTEGER_new();
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
    X509_EXTENSION *aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
                                               "keyid:always");
    bool ok = this_update != NULL && next_update != NULL && number != NULL && aki != NULL &&
              X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) == 1 &&
              X509_CRL_set1_lastUpdate(crl, this_update) == 1 &&
              X509_CRL_set1_nextUpdate(crl, next_update) == 1 &&
              ASN1_INTEGER_set_int64(number, crl_number) == 1 &&
              X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1 &&
              X509_CRL_add_ext(crl, aki, -1) == 1;
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(next_update);
    ASN1_TIME_free(this_update);
    return ok;
}

static NSDB_MUST_CHECK nsdb_err pki_crl_encode(X509_CRL *crl, bool pem, strbuf *out)
{
    if (pem) {
        BIO *bio = BIO_new(BIO_s_mem());
        nsdb_err err = bio != NULL && PEM_write_bio_X509_CRL(bio, crl) == 1
                           ? pki_pem_to_strbuf(bio, out)
                           : NSDB_ERR_CRYPTO;
        BIO_free(bio);
        return err;
    }
    unsigned char *der = NULL;
    int len = i2d_X509_CRL(crl, &der);
    if (len <= 0)
        return NSDB_ERR_CRYPTO;
    strbuf_append(out, (const char *)der, (size_t)len);
    OPENSSL_free(der);
    return NSDB_OK;
}

nsdb_err pki_crl(const pki_ca *ca, const pki_revoked *revoked, size_t n, int64_t crl_number,
                 int64_t now, bool pem, strbuf *out)
{
    if (crl_number < 1 || (revoked == NULL && n > 0))
        return NSDB_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!pki_serial_hex_valid(revoked[i].serial_hex))
            return NSDB_ERR_INVALID;
    X509_CRL *crl = X509_CRL_new();
    bool ok = crl != NULL && pki_crl_header(ca, crl, crl_number, now);
    for (size_t i = 0; ok && i < n; i++) {
        X509_REVOKED *entry = pki_revoked_entry(&revoked[i]);
        ok = entry != NULL && X509_CRL_add0_revoked(crl, entry) == 1;
        if (!ok)
            X509_REVOKED_free(entry);
    }
    ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0;
    nsdb_err err = ok ? pki_crl_encode(crl, pem, out) : NSDB_ERR_CRYPTO;
    X509_CRL_free(crl);
    return err == NSDB_OK ? NSDB_OK : pki_fail("making the CRL");
}
