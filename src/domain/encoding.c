/*
 * encoding.c — the character encodings an uploaded text file may come in; see encoding.h.
 */
#include "domain/encoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without NUL bytes. */
bool encoding_is_utf8(const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* The whole buffer converted from CP932 (malloc'd), or NULL when it is not CP932 text. */
char *encoding_cp932_to_utf8(const char *data, size_t len, size_t *out_len)
{
    if (memchr(data, '\0', len) != NULL)
        return NULL; /* UTF-16 and binary files: NUL is no character of a CSV */
    iconv_t cd = iconv_open("UTF-8", "CP932");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len + len / 2 + 16;
    char *out = malloc(cap);
    if (out == NULL)
        abort();
    char *in = (char *)data; /* iconv's prototype; the input is not written */
    size_t in_left = len, done = 0;
    bool ok = true;
    while (in_left > 0) {
        char *o = out + done;
        size_t o_left = cap - done - 1;
        size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
        done = (size_t)(o - out);
        if (rc != (size_t)-1)
            break;
        if (errno != E2BIG) {
            ok = false; /* EILSEQ or EINVAL: not CP932 */
            break;
        }
        cap *= 2;
        out = realloc(out, cap);
        if (out == NULL)
            abort();
    }
    iconv_close(cd);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[done] = '\0';
    *out_len = done;
    return out;
}

