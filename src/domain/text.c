/*
 * text.c — normalisation with utf8proc (NFKC) plus the katakana folding that search needs.
 */
#include "domain/text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "domain/itaiji.h"
#include "util/str.h"

bool text_nfkc_quick(uint32_t cp)
{
    return cp < 0x80                         /* ASCII */
           || (cp >= 0x3041 && cp <= 0x3096) /* hiragana */
           || (cp >= 0x309D && cp <= 0x309E) /* ゝゞ */
           || (cp >= 0x30A1 && cp <= 0x30FE) /* katakana, ・, ー, ヽヾ */
           || (cp >= 0x4E00 && cp <= 0x9FFF); /* CJK unified ideographs */
}

/* Whether NFKC leaves s (clean UTF-8, len bytes) as it is, seen at a glance: every code point is
   one text_nfkc_quick knows. Anything else (the ideographic space, full-width and half-width
   forms, combining marks …) goes through utf8proc. A quarter of reading an import file was
   utf8proc's NFKC of names that NFKC does not change. */
static bool nfkc_stable_quick(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xF0) != 0xE0)
            return false; /* none of those known is written in 2 or 4 bytes */
        uint32_t cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) |
                      (uint32_t)(p[2] & 0x3F); /* clean: two continuation bytes follow */
        if (!text_nfkc_quick(cp))
            return false;
        p += 3;
    }
    return true;
}

char *text_nfkc(arena *a, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    if (!str_is_clean_utf8(s, len))
        return NULL;
    if (nfkc_stable_quick(s, len)) /* most names: ASCII, kana, kanji */
        return str_trim(arena_strndup(a, s, len));
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_COMPAT);
    if (n < 0)
        return NULL;
    char *copy = arena_strndup(a, (const char *)out, (size_t)n);
    free(out);
    return str_trim(copy);
}

/* Appends code point c as UTF-8. */
static void put_utf8(strbuf *sb, utf8proc_int32_t c)
{
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(c, buf);
    strbuf_append(sb, (const char *)buf, (size_t)n);
}

char *text_search_key(arena *a, const char *s)
{
    char *n = text_nfkc(a, s);
    if (n == NULL)
        return NULL;
    strbuf sb = STRBUF_INIT;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)n;
    utf8proc_int32_t c;
    for (;;) {
        utf8proc_ssize_t len = utf8proc_iterate(p, -1, &c);
        if (len <= 0 || c == 0)
            break;
        p += len;
        if (c == ' ' || c == '\t' || c == 0x3000)
            continue;
        if (c >= 0x3041 && c <= 0x3096) /* hiragana → katakana */
            c += 0x60;
        else if (c >= 0x4E00) /* 髙 → 高, 﨑 → 崎 …: variants of name characters (itaiji.c) */
            c = (utf8proc_int32_t)itaiji_fold((uint32_t)c);
        else if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        put_utf8(&sb, c);
    }
    char *key = arena_strdup(a, sb.data ? sb.data : "");
    strbuf_free(&sb);
    return key;
}

bool text_is_katakana(const char *s)
{
    arena *a = arena_new();
    char *n = text_nfkc(a, s);
    bool ok = n != NULL && *n != '\0';
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)(n ? n : "");
    utf8proc_int32_t c;
    while (ok) {
        utf8proc_ssize_t len = utf8proc_iterate(p, -1, &c);
        if (len <= 0 || c == 0)
            break;
        p += len;
        ok = (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC || c == 0x30FB || c == ' ' || c == 0x3000;
    }
    arena_free(a);
    return ok;
}

/* Hyphen look-alikes that NFKC leaves alone: minus sign, katakana prolonged sound mark. */
static size_t hyphen_length(const char *p)
{
    if (*p == '-')
        return 1;
    if (strncmp(p, "\xe2\x88\x92", 3) == 0 || strncmp(p, "\xe3\x83\xbc", 3) == 0)
        return 3;
    return 0;
}

char *text_postal_normalize(arena *a, const char *s)
{
    char *n = text_nfkc(a, s);
    if (n == NULL)
        return NULL;
    char digits[8];
    size_t count = 0;
    for (const char *p = n; *p;) {
        size_t hyphen = hyphen_length(p);
        if (*p >= '0' && *p <= '9' && count < 7) {
            digits[count++] = *p++;
        } else if (hyphen > 0 && count == 3) {
            p += hyphen;
        } else {
            return NULL;
        }
    }
    if (count != 7)
        return NULL;
    return arena_printf(a, "%.3s-%.4s", digits, digits + 3);
}

char *text_code(arena *a, const char *s)
{
    char *n = text_nfkc(a, s);
    if (n == NULL)
        return NULL;
    char *w = n;
    for (const char *p = n; *p;) {
        const unsigned char *u = (const unsigned char *)p;
        unsigned cp = 0;
        if ((u[0] == 0xE2 || u[0] == 0xE3) && u[1] != 0 && u[2] != 0)
            cp = ((u[0] & 0x0Fu) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
        if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x30FC) {
            *w++ = '-';
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return n;
}

bool text_all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

char *text_header_key(arena *a, const char *s)
{
    char *n = text_nfkc(a, s ? s : "");
    if (n == NULL)
        return arena_strdup(a, "");
    char *w = n;
    for (const char *p = n; *p;) {
        if (*p == ' ') {
            p++;
        } else if (strncmp(p, "\xe3\x83\xbb", 3) == 0) { /* ・ */
            *w++ = '/';
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    char *paren = strchr(n, '(');
    if (paren != NULL && paren != n && w > n && w[-1] == ')')
        *paren = '\0';
    return n;
}

char *text_one_line(arena *a, const char *s)
{
    char *t = arena_strdup(a, s ? s : ""), *w = t;
    for (const char *p = t; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        char ch = *p;
        if (ch == '\r' || ch == '\n' || ch == '\t')
            ch = ' ';
        *w++ = ch;
    }
    *w = '\0';
    return t;
}

/* Bytes of the UTF-8 character at p (1 for a stray continuation byte, as SQLite counts it). */
static size_t utf8_char_len(const char *p)
{
    size_t n = 1;
    if ((unsigned char)*p >= 0xC0)
        while ((p[n] & 0xC0) == 0x80)
            n++;
    return n;
}

static bool gram_seen(const char **starts, const size_t *lens, size_t n, const char *g, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] == len && memcmp(starts[i], g, len) == 0)
            return true;
    return false;
}

size_t text_grams(const char *key, const char **starts, size_t *lens, size_t cap)
{
    size_t n = 0;
    for (const char *p = key; *p != '\0';) {
        size_t one = utf8_char_len(p);
        size_t two = p[one] != '\0' ? one + utf8_char_len(p + one) : 0;
        const size_t sizes[2] = {one, two};
        for (int k = 0; k < 2; k++) {
            size_t len = sizes[k];
            if (len == 0 || gram_seen(starts, lens, n < cap ? n : cap, p, len))
                continue;
            if (n < cap) {
                starts[n] = p;
                lens[n] = len;
            }
            n++;
        }
        p += one;
    }
    return n;
}
