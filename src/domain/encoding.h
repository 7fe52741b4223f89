/*
 * encoding.h — the character encodings an uploaded text file may come in: well-formed UTF-8, or
 * Shift_JIS as Excel writes it (CP932), converted to UTF-8. No decision about which to use: that
 * is the caller's (it warns when it converted). Also how an uploaded file's name (which the
 * browser may send in CP932) becomes text.
 */
#ifndef NSDB_ENCODING_H
#define NSDB_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

/* Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without NUL bytes. */
bool encoding_is_utf8(const void *data, size_t len);
/* The whole buffer converted from CP932 (malloc'd, NUL-terminated, length in *out_len), or NULL
 * when it is not CP932 text (or holds a NUL byte). */
char *encoding_cp932_to_utf8(const char *data, size_t len, size_t *out_len);
/* Text of unknown encoding as UTF-8 (malloc'd, NUL-terminated, length in *out_len), never
 * NULL: well-formed UTF-8 as it is, else CP932 converted, else each byte that is not part of a
 * well-formed sequence (NUL included) made U+FFFD. */
char *encoding_text_to_utf8(const char *data, size_t len, size_t *out_len);
/* The name of an uploaded file as nsdb stores, shows and audits it (in a; NULL for NULL): UTF-8
 * by encoding_text_to_utf8 (a browser or tool may send a CP932 name), control and bidi
 * characters made visible by text_chars_visible. */
const char *encoding_file_name(arena *a, const char *name);

#endif
