/*
 * session_token.c — session tokens, CSRF tokens and session expiry; see session_token.h.
 */
#include "domain/session_token.h"

#include <sodium.h>
#include <string.h>

void session_token_new(unsigned char token[SESSION_TOKEN_BYTES])
{
    randombytes_buf(token, SESSION_TOKEN_BYTES);
}

void session_token_encode(const unsigned char token[SESSION_TOKEN_BYTES], char *out)
{
    sodium_bin2base64(out, SESSION_TOKEN_TEXT_LEN + 1, token, SESSION_TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool session_token_decode(const char *text, unsigned char token[SESSION_TOKEN_BYTES])
{
    size_t n = 0;
    if (text == NULL || strlen(text) != SESSION_TOKEN_TEXT_LEN)
        return false;
    if (sodium_base642bin(token, SESSION_TOKEN_BYTES, text, SESSION_TOKEN_TEXT_LEN, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    return n == SESSION_TOKEN_BYTES;
}

void session_csrf_token(const secret_key *key, const char *purpose,
                        const unsigned char token[SESSION_TOKEN_BYTES],
                        char out_hex[SESSION_CSRF_HEX_LEN + 1])
{
    unsigned char mac[SECRET_MAC_BYTES];
    secret_mac(key, purpose, token, SESSION_TOKEN_BYTES, mac);
    sodium_bin2hex(out_hex, SESSION_CSRF_HEX_LEN + 1, mac, sizeof mac);
}

bool session_csrf_equal(const char *expected_hex, const char *submitted)
{
    if (submitted == NULL || strlen(submitted) != SESSION_CSRF_HEX_LEN ||
        strlen(expected_hex) != SESSION_CSRF_HEX_LEN)
        return false;
    return sodium_memcmp(expected_hex, submitted, SESSION_CSRF_HEX_LEN) == 0;
}

bool session_expired(int64_t created_at, int64_t last_seen_at, int64_t now, int idle_seconds,
                     int absolute_seconds)
{
    return now - last_seen_at > idle_seconds || now - created_at > absolute_seconds ||
           last_seen_at > now + 300 /* a clock far ahead: refuse rather than trust */;
}
