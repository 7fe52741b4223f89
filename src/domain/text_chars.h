/*
 * text_chars.h — the one rule for the characters nsdb keeps in text, and how to show the ones
 * it refuses. No text field, certificate name or line of a file nsdb writes may hold a control
 * character (C0, DEL, C1), a line or paragraph separator (U+2028, U+2029) or a Unicode bidi
 * control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): they are invisible, they end a
 * line of a configuration file, and the bidi ones make a name read differently from what it
 * is. Line breaks and tabs are forbidden here too; the field table first makes those in a value
 * spaces (fields.h), so only the others reach this rule.
 */
#ifndef NSDB_TEXT_CHARS_H
#define NSDB_TEXT_CHARS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/arena.h"

/* What text_chars_forbidden returns for bytes that are not UTF-8. */
#define TEXT_CHARS_BAD_UTF8 0xFFFFFFFFu

/* True for a code point no text may hold (see above). */
bool text_chars_is_forbidden(uint32_t cp);
/* The first forbidden code point of s, TEXT_CHARS_BAD_UTF8 for bytes that are not UTF-8, or 0
 * when s (NULL reads as "") is clean. */
uint32_t text_chars_forbidden(const char *s);
/* "U+202E": how a message names a forbidden code point (in a). */
const char *text_chars_name(arena *a, uint32_t cp);
/* A copy of s (NULL reads as "") that is safe on one line of a log, a message, an audit record
 * or a comment of a file: each forbidden code point written as <U+202E>, each byte that is not
 * UTF-8 as <0xFF>; everything else as it was. */
char *text_chars_visible(arena *a, const char *s);

#endif
