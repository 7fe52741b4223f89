/*
 * password.h — the password policy of SPEC §3 (NIST SP 800-63B: length, not the user ID, not a
 * common password, not guessable by zxcvbn) with its Japanese explanations, and argon2id hashing
 * of user-chosen passwords in libsodium's PHC string format, including the re-hash decision
 * when the configured cost has been raised.
 */
#ifndef NSDB_PASSWORD_H
#define NSDB_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "util/err.h"

#define PASSWORD_MIN_CHARS 12  /* Unicode code points */
#define PASSWORD_MAX_BYTES 256 /* UTF-8 bytes */
/* log2(10^8): zxcvbn score 3, "safely unguessable" against throttled online attacks. */
#define PASSWORD_MIN_ENTROPY_BITS 26.575424759098897

typedef enum {
    PASSWORD_OK,
    PASSWORD_TOO_SHORT,
    PASSWORD_TOO_LONG,
    PASSWORD_BAD_CHARS,
    PASSWORD_IS_USER_ID,
    PASSWORD_COMMON,
    PASSWORD_GUESSABLE,
} password_verdict;

/* Judges a new password for the user with the given ID and name (either may be NULL).
 * Checks run cheapest first; the first failing rule is returned. Thread-safe. */
password_verdict password_check(const char *password, const char *user_id, const char *user_name);
/* Japanese text telling the user why the password was refused and what to do; never NULL. */
const char *password_verdict_message(password_verdict v);

typedef struct {
    unsigned long long opslimit; /* argon2 passes */
    size_t memlimit;             /* bytes */
} password_cost;

/* OWASP's minimum for argon2id: 2 passes, 19 MiB, 1 lane. */
password_cost password_cost_default(void);
/* Writes the argon2id PHC string of password into out (NUL-terminated). NSDB_ERR_CRYPTO when
 * hashing fails (in practice: the memory cost could not be allocated). */
NSDB_MUST_CHECK nsdb_err password_hash(const char *password, password_cost cost,
                                       char out[crypto_pwhash_STRBYTES]);
/* True when password matches the PHC string hash. */
bool password_verify(const char *hash, const char *password);
/* True when hash is not argon2id or was made with parameters other than cost. */
bool password_needs_rehash(const char *hash, password_cost cost);

#endif
