/*
 * str.h — growable byte buffer (strbuf) and small string helpers. A strbuf is heap-backed
 * (free with strbuf_free) because response bodies outlive nothing but can be large.
 */
#ifndef NSDB_STR_H
#define NSDB_STR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_append(strbuf *sb, const char *s, size_t n);
void strbuf_puts(strbuf *sb, const char *s);
void strbuf_putc(strbuf *sb, char c);
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped for HTML text and attribute values. */
void strbuf_append_html(strbuf *sb, const char *s, size_t n);
void strbuf_reset(strbuf *sb);
/* Hands the buffer to the caller (malloc'd, NUL-terminated, never NULL); sb becomes empty. */
char *strbuf_detach(strbuf *sb, size_t *len_out);
void strbuf_free(strbuf *sb);

bool str_starts_with(const char *s, const char *prefix);
bool str_equal_nocase_ascii(const char *a, const char *b);
/* Decodes %XX and '+' (form encoding) in place; returns the new length. */
size_t str_url_decode(char *s);
/* Appends s percent-encoded for a URL query value. */
void strbuf_append_url(strbuf *sb, const char *s);
/* True when s is valid UTF-8 without NUL or C0 controls other than TAB, CR, LF. */
bool str_is_clean_utf8(const char *s, size_t n);
/* Number of Unicode code points in valid UTF-8. */
size_t str_utf8_length(const char *s);
/* Trims ASCII and U+3000 (ideographic space) whitespace in place; returns s. */
char *str_trim(char *s);

#endif
