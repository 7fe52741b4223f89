/*
 * validate.c — the field validators; see validate.h.
 */
#include "domain/validate.h"

#include <ctype.h>
#include <string.h>

#include "domain/mail.h"
#include "domain/text.h"
#include "util/str.h"

#define NAME_MAX_CHARS 100

const char *validate_person_name(arena *a, const char *in, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL)
        return "使用できない文字が含まれています。";
    if (*n == '\0')
        return "氏名を入力してください。";
    if (str_utf8_length(n) > NAME_MAX_CHARS)
        return "氏名は100文字以内で入力してください。";
    *out = n;
    return NULL;
}

/* Hiragana to katakana after NFKC (which already widened half-width katakana). */
static char *kana_to_katakana(arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_strndup(a, s, n);
    for (size_t i = 0; i + 2 < n + 1 && i < n;) {
        unsigned char c0 = (unsigned char)out[i];
        if (c0 == 0xe3 && i + 2 < n) {
            unsigned cp = ((c0 & 0x0fu) << 12) | (((unsigned char)out[i + 1] & 0x3fu) << 6) |
                          ((unsigned char)out[i + 2] & 0x3fu);
            if (cp >= 0x3041 && cp <= 0x3096) {
                cp += 0x60;
                out[i + 1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[i + 2] = (char)(0x80 | (cp & 0x3f));
            }
            i += 3;
        } else {
            i++;
        }
    }
    return out;
}

const char *validate_name_kana(arena *a, const char *in, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL)
        return "使用できない文字が含まれています。";
    if (*n == '\0')
        return "氏名カナを入力してください。";
    n = kana_to_katakana(a, n);
    if (!text_is_katakana(n))
        return "氏名カナは全角カタカナで入力してください（例：ヤマダ タロウ）。";
    if (str_utf8_length(n) > NAME_MAX_CHARS)
        return "氏名カナは100文字以内で入力してください。";
    *out = n;
    return NULL;
}

const char *validate_email(arena *a, const char *in, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL || *n == '\0')
        return "メールアドレスを入力してください。";
    if (!mail_address_valid(n))
        return "メールアドレスの形式が正しくありません（例：taro.yamada@example.lg.jp）。";
    for (char *p = strchr(n, '@'); p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    *out = n;
    return NULL;
}

const char *validate_optional_text(arena *a, const char *in, size_t max, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL)
        return "使用できない文字が含まれています。";
    if (str_utf8_length(n) > max)
        return arena_printf(a, "%zu文字以内で入力してください。", max);
    *out = *n ? n : NULL;
    return NULL;
}

const char *validate_category(arena *a, const char *in, const char **out)
{
    static const struct {
        const char *text, *key;
    } WORDS[] = {{"nanbyo", "nanbyo"}, {"shoman", "shoman"}, {"both", "both"},
                 {"難病", "nanbyo"},   {"小慢", "shoman"},   {"両方", "both"},
                 {"難病・小慢", "both"}, {"難病/小慢", "both"}};
    char *n = text_nfkc(a, in ? in : "");
    for (size_t i = 0; n != NULL && i < sizeof WORDS / sizeof WORDS[0]; i++) {
        if (strcmp(n, WORDS[i].text) == 0) {
            *out = WORDS[i].key;
            return NULL;
        }
    }
    return "難病/小慢は「難病」「小慢」「両方」のいずれかを選んでください。";
}

const char *validate_phone(arena *a, const char *in, const char **out)
{
    char *n = text_nfkc(a, in ? in : "");
    if (n == NULL)
        return "使用できない文字が含まれています。";
    if (*n == '\0') {
        *out = NULL;
        return NULL;
    }
    size_t digits = 0;
    for (const char *p = n; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p != '-')
            return "電話番号は数字とハイフンで入力してください（例：03-1234-5678）。";
    }
    if (digits < 10 || digits > 11)
        return "電話番号の桁数が正しくありません（10桁または11桁）。";
    *out = n;
    return NULL;
}
