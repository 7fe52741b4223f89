/*
 * text.h — Japanese text normalisation: NFKC (half-width katakana and full-width digits and
 * letters become their usual forms), the search key that makes 「ﾔﾏﾀﾞ」「ヤマダ」「やまだ」 and
 * 「山田　太郎」「山田太郎」 match, and the postal-code check shared by forms and files.
 */
#ifndef NSDB_TEXT_H
#define NSDB_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/arena.h"

/* Whether NFKC leaves code point cp as it is, next to any other code point this is true of (ASCII,
   hiragana, katakana, CJK unified ideographs): text_nfkc then skips utf8proc. */
bool text_nfkc_quick(uint32_t cp);
/* NFKC of s, trimmed of ASCII and ideographic spaces; NULL when s is not valid UTF-8. */
char *text_nfkc(arena *a, const char *s);
/* NFKC, hiragana to katakana, ASCII lower case, the variants of name characters folded (髙 is
   高: domain/itaiji.h), all white space removed: the search key of names and of queries. Applied
   to a key it gives the key back (so stored keys can be folded again when the table grows). */
char *text_search_key(arena *a, const char *s);
/* True when s (after NFKC) holds only katakana, the prolonged sound mark and spaces. */
bool text_is_katakana(const char *s);
/* NFKC with the dashes people type in numbers (‐ ‑ ‒ – — ― − ー) made '-'; NULL on bad text. */
char *text_code(arena *a, const char *s);
/* How file headers and labels are compared: NFKC without spaces, ・ read as '/', and a trailing
   "(…)" removed (「郵便番号（〒）」 is 「郵便番号」). "" for unreadable text. */
char *text_header_key(arena *a, const char *s);
/* s as one line: each line break (CR, LF or CRLF) and tab made one space. A copy in a. */
char *text_one_line(arena *a, const char *s);
/* True when s is one or more ASCII digits. */
bool text_all_digits(const char *s);
/* NNN-NNNN; also accepts 7 digits and inserts the hyphen. Returns NULL when invalid. */
char *text_postal_normalize(arena *a, const char *s);
/* The grams of a search key as the name index (user_grams, migration 007) holds them: each
   character and each pair of neighbouring characters (characters as SQL's substr counts them:
   UTF-8 code points), each distinct gram once, as a byte range of key. Returns how many grams
   there are; fills at most cap of starts/lens. */
size_t text_grams(const char *key, const char **starts, size_t *lens, size_t cap);

#endif
