/*
 * totp.h — two-factor authentication without storage or HTTP: time-based one-time passwords
 * (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of drift either way) computed by
 * liboath, the secret and its otpauth:// URI, one-time recovery codes and their keyed hashes, and
 * the QR code of the URI as inline SVG (libqrencode). Which roles must enrol is decided here too.
 * A secret is never logged; callers zero it after use.
 */
#ifndef NSDB_TOTP_H
#define NSDB_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/secret.h"
#include "domain/states.h"
#include "util/err.h"

#define TOTP_SECRET_BYTES 20
#define TOTP_SECRET_BASE32_LEN 32 /* 20 bytes in RFC 4648 base32, no padding */
#define TOTP_DIGITS 6
#define TOTP_STEP_SECONDS 30
#define TOTP_RECOVERY_CODES 10
#define TOTP_RECOVERY_CODE_LEN 11 /* "XXXXX-XXXXX" */
#define TOTP_ISSUER "nsdb"

/* Once at start, before any other call (liboath's library state). */
NSDB_MUST_CHECK nsdb_err totp_library_init(void);

/* Whether users of the role must enrol before using any screen (mhlw, operator, muni_admin). */
bool totp_required_for_role(user_role role);

void totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES]);
/* out: TOTP_SECRET_BASE32_LEN + 1 bytes. */
NSDB_MUST_CHECK nsdb_err totp_secret_base32(const unsigned char *secret, size_t n, char *out);
/* Reverses totp_secret_base32; false unless the text decodes to TOTP_SECRET_BYTES bytes. */
bool totp_secret_from_base32(const char *base32, unsigned char secret[TOTP_SECRET_BYTES]);
/* otpauth://totp/nsdb:USERID?secret=…&issuer=nsdb&algorithm=SHA1&digits=6&period=30 (malloc'd). */
NSDB_MUST_CHECK nsdb_err totp_uri(const char *user_id, const char *secret_base32, char **out);

/* The time step of a Unix time. */
int64_t totp_step_at(int64_t unix_time);
/* The code of a step with the given number of digits (6 or 8 for the RFC vectors);
   out: digits + 1 bytes. */
NSDB_MUST_CHECK nsdb_err totp_code_at(const unsigned char *secret, size_t n, int64_t step,
                                      unsigned digits, char *out);
/* Checks a typed code (spaces ignored) against the steps now-1, now and now+1 that are later
   than last_step, in constant time per step; *step_out is the step that matched. False for a
   malformed code, no match or a step already used. */
bool totp_verify(const unsigned char *secret, size_t n, int64_t now, const char *code,
                 int64_t last_step, int64_t *step_out);
/* Whether the typed text has the shape of a TOTP code (six digits, spaces ignored). */
bool totp_looks_like_code(const char *code);

/* A new recovery code "XXXXX-XXXXX" (Crockford-like alphabet without I, L, O, U); out:
   TOTP_RECOVERY_CODE_LEN + 1 bytes. */
void totp_recovery_code_new(char *out);
/* The stored form of a typed recovery code: keyed hash (hex) of its letters upper-cased without
   separators; false when the text cannot be a recovery code. */
bool totp_recovery_code_hash(const secret_key *k, const char *typed,
                             char out_hex[SECRET_TOKEN_HASH_HEX_LEN + 1]);

/* The QR code of text as an SVG element (malloc'd): one path of dark modules, quiet zone of 4. */
NSDB_MUST_CHECK nsdb_err totp_qr_svg(const char *text, char **out);

#endif
