/*
 * text_chars.c — the character rule of text_chars.h: one list of forbidden code points, one
 * UTF-8 decoder for it, so the field table, the certificate names and the writers of files
 * cannot disagree on what is a control character.
 */
#include "domain/text_chars.h"

#include <string.h>

#include "util/str.h"

bool text_chars_is_forbidden(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Decodes the code point at s into *cp; its length in bytes, or 0 when s does not start with a
 * well-formed UTF-8 sequence (overlong forms, surrogates and values past U+10FFFF included). */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        *cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        *cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 2 && *cp < 0x80) || (len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
        *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

uint32_t text_chars_forbidden(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        uint32_t cp;
        size_t len = decode(p, &cp);
        if (len == 0)
            return TEXT_CHARS_BAD_UTF8;
        if (text_chars_is_forbidden(cp))
            return cp;
        p += len;
    }
    return 0;
}

const char *text_chars_name(arena *a, uint32_t cp)
{
    return arena_printf(a, "U+%04X", (unsigned)cp);
}

char *text_chars_visible(arena *a, const char *s)
{
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "");
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        uint32_t cp;
        size_t len = decode(p, &cp);
        if (len == 0) {
            strbuf_printf(&sb, "<0x%02X>", (unsigned)*p);
            p++;
        } else if (text_chars_is_forbidden(cp)) {
            strbuf_printf(&sb, "<U+%04X>", (unsigned)cp);
            p += len;
        } else {
            strbuf_append(&sb, (const char *)p, len);
            p += len;
        }
    }
    char *copy = arena_strdup(a, sb.data);
    strbuf_free(&sb);
    return copy;
}
