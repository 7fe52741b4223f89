/*
 * secret.h — the server's secret key and what it is used for: sealing values that must be
 * recoverable (initial passwords, SPEC §3), keyed MACs (CSRF tokens, session-token binding) and
 * the unkeyed hash under which session tokens are stored. The key lives in a file outside the
 * database, readable by its owner only, so that a copy of the database alone reveals nothing.
 */
#ifndef NSDB_SECRET_H
#define NSDB_SECRET_H

#include <stddef.h>

#include "util/err.h"

#define SECRET_KEY_BYTES 32
#define SECRET_MAC_BYTES 32
#define SECRET_TOKEN_HASH_HEX_LEN 64

typedef struct secret_key {
    unsigned char master[SECRET_KEY_BYTES];
} secret_key;

/* Reads the key from path, or creates the file (mode 0600, 32 random bytes) when it does not
 * exist. NSDB_ERR_CRYPTO, with the reason on stderr, when the file is not 32 bytes or its mode
 * lets group or others in; NSDB_ERR_IO when it cannot be read or written. The key memory is
 * locked against swapping where the system allows; release it with secret_key_wipe. */
NSDB_MUST_CHECK nsdb_err secret_key_load_or_create(const char *path, secret_key *out);
/* Zeroes the key and unlocks its memory. */
void secret_key_wipe(secret_key *k);

/* Encrypts and authenticates n bytes of plain: *out (malloc'd) is nonce ‖ MAC ‖ ciphertext. */
NSDB_MUST_CHECK nsdb_err secret_seal(const secret_key *k, const char *plain, size_t n,
                                     unsigned char **out, size_t *out_len);
/* Reverses secret_seal: *plain_out is malloc'd and NUL-terminated. NSDB_ERR_CRYPTO when the
 * sealed value was altered, truncated or sealed under another key. */
NSDB_MUST_CHECK nsdb_err secret_unseal(const secret_key *k, const unsigned char *sealed, size_t n,
                                       char **plain_out);

/* Keyed BLAKE2b-256 of msg, separated by purpose ("csrf", "session"…): a MAC made for one
 * purpose never verifies for another. Compare MACs with sodium_memcmp. */
void secret_mac(const secret_key *k, const char *purpose, const void *msg, size_t n,
                unsigned char out[SECRET_MAC_BYTES]);

/* Unkeyed BLAKE2b-256 of a session token in lower-case hex: what the database stores. */
void secret_token_hash(const unsigned char *token, size_t n,
                       char out_hex[SECRET_TOKEN_HASH_HEX_LEN + 1]);

#endif
