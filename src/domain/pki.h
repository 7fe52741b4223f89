/*
 * pki.h — the system's own certificate authority for the VPN client certificates shipped on the
 * media (SPEC §6): one CA per installation, created on first use in the data folder, and one
 * PKCS#12 bundle (key pair, client certificate, CA certificate) per institution, encrypted with
 * a random passphrase that staff print separately. No storage and no HTTP here: the caller keeps
 * the serial number and the passphrase (sealed) in the database.
 *
 * A pki_ca is read-only once loaded, so one may be shared by threads issuing certificates at
 * the same time.
 */
#ifndef NSDB_PKI_H
#define NSDB_PKI_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/str.h"

/* 20 symbols of IDS_ALPHABET: about 99 bits, typed by hand from the printed notice. */
#define PKI_PASSPHRASE_LEN 20
/* Serial numbers are 16 bytes: 32 upper-case hex digits (the buffer allows 20 bytes). */
#define PKI_SERIAL_HEX_MAX 40
#define PKI_CA_VALID_DAYS 3653
#define PKI_CLIENT_VALID_DAYS 1096

typedef struct pki_ca pki_ca;

/* Loads the CA from dir (DATA/ca: ca.key and ca.crt), or creates it there when neither file
 * exists: dir is made with mode 0700 if missing (its parent must exist), ca.key is written with
 * mode 0600. Concurrent callers, in threads or processes, serialise on a lock file in dir, so
 * only one CA is ever made. NSDB_ERR_CRYPTO (reason on stderr) when the key file lets group or
 * others in, when only one of the two files exists, when they do not parse or do not belong
 * together; NSDB_ERR_IO when dir cannot be made or read. Free with pki_ca_free. */
NSDB_MUST_CHECK nsdb_err pki_ca_load_or_create(const char *dir, pki_ca **out);
void pki_ca_free(pki_ca *ca);

/* Appends the CA certificate in PEM to out (for VPN server configuration and profiles). */
NSDB_MUST_CHECK nsdb_err pki_ca_cert_pem(const pki_ca *ca, strbuf *out);

/* Issues a client certificate for an institution (CN = code, O = name, OU = 難病・小慢DB,
 * clientAuth, PKI_CLIENT_VALID_DAYS) on a fresh P-256 key and appends to p12_out the DER
 * PKCS#12 holding the key, the certificate and the CA certificate, encrypted under passphrase
 * (printable ASCII) with AES-256-CBC/PBKDF2-HMAC-SHA256 and MACed with HMAC-SHA256. Writes the
 * certificate's serial number in upper-case hex. O is cut to 64 characters (the X.509 upper
 * bound). NSDB_ERR_INVALID for an empty or unclean code, name or passphrase. */
NSDB_MUST_CHECK nsdb_err pki_client_p12(const pki_ca *ca, const char *institution_code,
                                        const char *institution_name, const char *passphrase,
                                        strbuf *p12_out,
                                        char serial_hex_out[PKI_SERIAL_HEX_MAX + 1]);

/* ---- certificate revocation list (RFC 5280 §5) ---- */

/* The reasons nsdb revokes for (CRLReason values). */
typedef enum pki_revocation_reason {
    PKI_REVOKED_KEY_COMPROMISE = 1,
    PKI_REVOKED_SUPERSEDED = 4,
    PKI_REVOKED_CESSATION_OF_OPERATION = 5,
} pki_revocation_reason;

typedef struct pki_revoked {
    const char *serial_hex; /* as pki_client_p12 wrote it: 1–PKI_SERIAL_HEX_MAX hex digits */
    int64_t revoked_at;     /* Unix seconds */
    pki_revocation_reason reason;
} pki_revoked;

/* How long a CRL is good for: nextUpdate = thisUpdate + this. */
#define PKI_CRL_VALID_DAYS 30

/* Appends to out a v2 CRL signed by the CA (SHA-256): issuer = the CA's subject, thisUpdate =
 * now, nextUpdate = now + PKI_CRL_VALID_DAYS, the CRL number crl_number (callers keep it
 * increasing), the authority key identifier of the CA, and one entry per revoked certificate
 * with its revocation date and reason. PEM when pem, else DER. NSDB_ERR_INVALID for a bad
 * serial or a crl_number below 1; NSDB_ERR_CRYPTO when OpenSSL fails. */
NSDB_MUST_CHECK nsdb_err pki_crl(const pki_ca *ca, const pki_revoked *revoked, size_t n,
                                 int64_t crl_number, int64_t now, bool pem, strbuf *out);

/* Writes PKI_PASSPHRASE_LEN uniformly random IDS_ALPHABET symbols, NUL-terminated. */
void pki_passphrase_generate(char out[PKI_PASSPHRASE_LEN + 1]);

#endif
