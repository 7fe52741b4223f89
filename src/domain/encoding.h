/*
 * encoding.h — the character encodings an uploaded text file may come in: well-formed UTF-8, or
 * Shift_JIS as Excel writes it (CP932), converted to UTF-8. No decision about which to use: that
 * is the caller's (it warns when it converted).
 */
#ifndef NSDB_ENCODING_H
#define NSDB_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without NUL bytes. */
bool encoding_is_utf8(const void *data, size_t len);
/* The whole buffer converted from CP932 (malloc'd, NUL-terminated, length in *out_len), or NULL
 * when it is not CP932 text (or holds a NUL byte). */
char *encoding_cp932_to_utf8(const char *data, size_t len, size_t *out_len);

#endif
