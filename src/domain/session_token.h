/*
 * session_token.h — the pure parts of sessions and CSRF protection (SPEC §7), kept apart from
 * HTTP so they can be tested alone: 256-bit tokens and their cookie encoding, the CSRF token of
 * a form as a MAC of the session (or pre-login) token, constant-time comparison, and the idle
 * and absolute timeouts.
 */
#ifndef NSDB_SESSION_TOKEN_H
#define NSDB_SESSION_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/secret.h"

#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_TEXT_LEN 43                     /* base64url without padding */
#define SESSION_CSRF_HEX_LEN (SECRET_MAC_BYTES * 2)

void session_token_new(unsigned char token[SESSION_TOKEN_BYTES]);
/* out: SESSION_TOKEN_TEXT_LEN + 1 bytes. */
void session_token_encode(const unsigned char token[SESSION_TOKEN_BYTES], char *out);
/* False for NULL, a wrong length or anything that is not base64url of 32 bytes. */
bool session_token_decode(const char *text, unsigned char token[SESSION_TOKEN_BYTES]);

/* purpose separates the logged-in ("csrf-session") from the pre-login ("csrf-anon") token. */
void session_csrf_token(const secret_key *key, const char *purpose,
                        const unsigned char token[SESSION_TOKEN_BYTES],
                        char out_hex[SESSION_CSRF_HEX_LEN + 1]);
/* Constant time; false when submitted is NULL or of another length. */
bool session_csrf_equal(const char *expected_hex, const char *submitted);

/* True when a session created at created_at and last used at last_seen_at has ended. */
bool session_expired(int64_t created_at, int64_t last_seen_at, int64_t now, int idle_seconds,
                     int absolute_seconds);

#endif
