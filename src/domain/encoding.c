/*
 * encoding.c — the character encodings an uploaded text file may come in; see encoding.h.
 */
#include "domain/encoding.h"
#include "domain/text_chars.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* The length of the well-formed UTF-8 sequence at s[0..n) (n > 0), or 0 when it is not one
   (a stray byte, a cut sequence, an overlong form, a surrogate, past U+10FFFF). */
static size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without NUL bytes. */
bool encoding_is_utf8(const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t i = 0;
    while (i < n) {
        size_t len = s[i] == 0 ? 0 : utf8_sequence_len(s + i, n - i);
        if (len == 0)
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

char *encoding_text_to_utf8(const char *data, size_t len, size_t *out_len)
{
    if (encoding_is_utf8(data, len)) {
        char *copy = malloc(len + 1);
        if (copy == NULL)
            abort();
        memcpy(copy, data, len);
        copy[len] = '\0';
        *out_len = len;
        return copy;
    }
    char *converted = encoding_cp932_to_utf8(data, len, out_len);
    if (converted != NULL)
        return converted;
    /* neither: keep every well-formed sequence, one U+FFFD (EF BF BD) for each other byte */
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        abort();
    const unsigned char *s = (const unsigned char *)data;
    size_t done = 0;
    for (size_t i = 0; i < len;) {
        size_t n = s[i] == 0 ? 0 : utf8_sequence_len(s + i, len - i);
        if (n == 0) {
            memcpy(out + done, "\xEF\xBF\xBD", 3);
            done += 3;
            i++;
        } else {
            memcpy(out + done, s + i, n);
            done += n;
            i += n;
        }
    }
    out[done] = '\0';
    *out_len = done;
    return out;
}

const char *encoding_file_name(arena *a, const char *name)
{
    if (name == NULL)
        return NULL;
    size_t len = 0;
    char *utf8 = encoding_text_to_utf8(name, strlen(name), &len);
    const char *out = text_chars_visible(a, utf8);
    free(utf8);
    return out;
}
