/*
 * validate.h — named validators for form fields and file columns. Each takes the raw text and
 * returns NULL with *out set to the normalised value (in the arena), or a Japanese message that
 * says what is wrong and how to put it right. Forms and bulk files share them, so a value
 * accepted on one screen is accepted everywhere.
 */
#ifndef NSDB_VALIDATE_H
#define NSDB_VALIDATE_H

#include "util/arena.h"

/* 氏名: required, NFKC, at most 100 characters. */
const char *validate_person_name(arena *a, const char *in, const char **out);
/* 氏名カナ: required, katakana (half-width and hiragana are converted), at most 100. */
const char *validate_name_kana(arena *a, const char *in, const char **out);
/* メールアドレス: required, a plausible address, lower-cased domain. */
const char *validate_email(arena *a, const char *in, const char **out);
/* Optional free text (部署名, 役職, 診療科 …): NFKC, at most max characters; "" becomes NULL. */
const char *validate_optional_text(arena *a, const char *in, size_t max, const char **out);
/* 難病/小慢: nanbyo, shoman, both (also the Japanese words 難病, 小慢, 両方, 難病・小慢). */
const char *validate_category(arena *a, const char *in, const char **out);
/* 電話番号: optional, digits and hyphens (full-width accepted), 10–13 characters. */
const char *validate_phone(arena *a, const char *in, const char **out);

#endif
