/*
 * totp.c — see totp.h. liboath computes the HOTP value of a step (RFC 4226 dynamic truncation
 * over HMAC-SHA1), libsodium supplies the randomness and the constant-time comparisons, and
 * libqrencode the QR matrix, which is drawn here as one SVG path.
 */
#include "domain/totp.h"

#include <ctype.h>
#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

/* Crockford's base32 letters: no I, L, O or U, so a code read aloud or copied by hand survives. */
static const char RECOVERY_ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
#define RECOVERY_LETTERS 10
#define QR_QUIET_ZONE 4

nsdb_err totp_library_init(void)
{
    return oath_init() == OATH_OK ? NSDB_OK : NSDB_ERR_CRYPTO;
}

bool totp_required_for_role(user_role role)
{
    switch (role) {
    case USER_ROLE_MHLW:
    case USER_ROLE_OPERATOR:
    case USER_ROLE_MUNI_ADMIN:
        return true;
    case USER_ROLE_MUNI_STAFF:
    case USER_ROLE_INST_MANAGER:
    case USER_ROLE_DOCTOR:
        return false;
    }
    return false;
}

void totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES])
{
    randombytes_buf(secret, TOTP_SECRET_BYTES);
}

nsdb_err totp_secret_base32(const unsigned char *secret, size_t n, char *out)
{
    char *encoded = NULL;
    size_t len = 0;
    if (n != TOTP_SECRET_BYTES ||
        oath_base32_encode((const char *)secret, n, &encoded, &len) != OATH_OK)
        return NSDB_ERR_CRYPTO;
    nsdb_err e = len == TOTP_SECRET_BASE32_LEN ? NSDB_OK : NSDB_ERR_CRYPTO;
    if (e == NSDB_OK)
        memcpy(out, encoded, len + 1);
    sodium_memzero(encoded, len);
    free(encoded);
    return e;
}

bool totp_secret_from_base32(const char *base32, unsigned char secret[TOTP_SECRET_BYTES])
{
    char *decoded = NULL;
    size_t len = 0;
    if (base32 == NULL || oath_base32_decode(base32, strlen(base32), &decoded, &len) != OATH_OK)
        return false;
    bool ok = len == TOTP_SECRET_BYTES;
    if (ok)
        memcpy(secret, decoded, TOTP_SECRET_BYTES);
    sodium_memzero(decoded, len);
    free(decoded);
    return ok;
}

nsdb_err totp_uri(const char *user_id, const char *secret_base32, char **out)
{
    strbuf sb = {0};
    strbuf_puts(&sb, "otpauth://totp/" TOTP_ISSUER ":");
    strbuf_append_url(&sb, user_id);
    strbuf_printf(&sb, "?secret=%s&issuer=" TOTP_ISSUER "&algorithm=SHA1&digits=%d&period=%d",
                  secret_base32, TOTP_DIGITS, TOTP_STEP_SECONDS);
    *out = strbuf_detach(&sb, NULL);
    return *out != NULL ? NSDB_OK : NSDB_ERR_NOMEM;
}

int64_t totp_step_at(int64_t unix_time)
{
    return unix_time < 0 ? 0 : unix_time / TOTP_STEP_SECONDS;
}

nsdb_err totp_code_at(const unsigned char *secret, size_t n, int64_t step, unsigned digits,
                      char *out)
{
    if (step < 0 || (digits != 6 && digits != 8))
        return NSDB_ERR_INVALID;
    int rc = oath_hotp_generate((const char *)secret, n, (uint64_t)step, digits, false,
                                OATH_HOTP_DYNAMIC_TRUNCATION, out);
    return rc == OATH_OK ? NSDB_OK : NSDB_ERR_CRYPTO;
}

/* The six digits of a typed code (spaces and a middle hyphen ignored), or false. */
static bool code_digits(const char *code, char out[TOTP_DIGITS + 1])
{
    size_t k = 0;
    if (code == NULL)
        return false;
    for (const char *p = code; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (!isdigit((unsigned char)*p) || k == TOTP_DIGITS)
            return false;
        out[k++] = *p;
    }
    out[k] = '\0';
    return k == TOTP_DIGITS;
}

bool totp_looks_like_code(const char *code)
{
    char digits[TOTP_DIGITS + 1];
    return code_digits(code, digits);
}

bool totp_verify(const unsigned char *secret, size_t n, int64_t now, const char *code,
                 int64_t last_step, int64_t *step_out)
{
    char typed[TOTP_DIGITS + 1];
    if (!code_digits(code, typed))
        return false;
    int64_t current = totp_step_at(now);
    bool matched = false;
    /* every step of the window is computed and compared, so the time does not tell which
       step matched */
    for (int64_t step = current - 1; step <= current + 1; step++) {
        char expected[TOTP_DIGITS + 1];
        if (totp_code_at(secret, n, step, TOTP_DIGITS, expected) != NSDB_OK)
            continue;
        bool same = sodium_memcmp(expected, typed, TOTP_DIGITS) == 0;
        sodium_memzero(expected, sizeof expected);
        if (same && step > last_step && !matched) {
            matched = true;
            *step_out = step;
        }
    }
    return matched;
}

void totp_recovery_code_new(char *out)
{
    size_t k = 0;
    for (int i = 0; i < RECOVERY_LETTERS; i++) {
        if (i == RECOVERY_LETTERS / 2)
            out[k++] = '-';
        out[k++] = RECOVERY_ALPHABET[randombytes_uniform(sizeof RECOVERY_ALPHABET - 1)];
    }
    out[k] = '\0';
}

bool totp_recovery_code_hash(const secret_key *k, const char *typed,
                             char out_hex[SECRET_TOKEN_HASH_HEX_LEN + 1])
{
    char letters[RECOVERY_LETTERS + 1];
    size_t n = 0;
    if (typed == NULL)
        return false;
    for (const char *p = typed; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        char ch = (char)toupper((unsigned char)*p);
        if (n == RECOVERY_LETTERS || strchr(RECOVERY_ALPHABET, ch) == NULL || ch == '\0')
            return false;
        letters[n++] = ch;
    }
    letters[n] = '\0';
    if (n != RECOVERY_LETTERS)
        return false;
    unsigned char mac[SECRET_MAC_BYTES];
    secret_mac(k, "totp-recovery", letters, n, mac);
    sodium_bin2hex(out_hex, SECRET_TOKEN_HASH_HEX_LEN + 1, mac, sizeof mac);
    sodium_memzero(letters, sizeof letters);
    return true;
}

nsdb_err totp_qr_svg(const char *text, char **out)
{
    *out = NULL;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL)
        return NSDB_ERR_NOMEM;
    int size = qr->width + 2 * QR_QUIET_ZONE;
    strbuf sb = {0};
    strbuf_printf(&sb,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 %d %d\" "
                  "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"二次元コード\" "
                  "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                  "<path fill=\"#000\" d=\"",
                  size, size, size * 5, size * 5, size, size);
    for (int y = 0; y < qr->width; y++) {
        int x = 0;
        while (x < qr->width) {
            if (!(qr->data[y * qr->width + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < qr->width && (qr->data[y * qr->width + x + run] & 1))
                run++;
            strbuf_printf(&sb, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE, run, run);
            x += run;
        }
    }
    strbuf_puts(&sb, "\"/></svg>");
    QRcode_free(qr);
    *out = strbuf_detach(&sb, NULL);
    return *out != NULL ? NSDB_OK : NSDB_ERR_NOMEM;
}
