/*
 * fields.c — the field table and its checkers; see fields.h. Each checker gets text that is one
 * line (line breaks and tabs made spaces), free of the characters text_chars.h forbids, and not
 * empty; field_check decides emptiness and the character rule once, from the table and the
 * flags, so "required" and "no control characters" are never re-implemented by a caller.
 */
#include "domain/fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/ids.h"
#include "domain/mail.h"
#include "domain/text.h"
#include "domain/text_chars.h"
#include "util/str.h"


typedef struct word {
    const char *text, *key;
} word;

/* ---- normalisation ------------------------------------------------------------------------- */

/* Hiragana to katakana after NFKC (which already widened half-width katakana). */
static char *kana_to_katakana(arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_strndup(a, s, n);
    for (size_t i = 0; i < n;) {
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

/* Removes hyphens and spaces: "13-1-2345679" is a code typed in groups. */
static void squeeze_code(char *s)
{
    char *w = s;
    for (const char *p = s; *p; p++)
        if (*p != '-' && *p != ' ')
            *w++ = *p;
    *w = '\0';
}

/* The key of the first word equal to s (ASCII case ignored), or NULL. */
static const char *word_key(const word *words, size_t count, const char *s)
{
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(s, words[i].text) == 0)
            return words[i].key;
    return NULL;
}

/* ---- checkers ------------------------------------------------------------------------------ */

static const char *check_text(arena *a, const field_def *f, char *text, unsigned flags,
                              const char **out, bool *repaired)
{
    (void)flags, (void)repaired;
    if (f->max_chars && str_utf8_length(text) > f->max_chars)
        return arena_printf(a, "%sは%zu文字以内で入力してください。", f->label, f->max_chars);
    *out = text;
    return NULL;
}

static const char *check_kana(arena *a, const field_def *f, char *text, unsigned flags,
                              const char **out, bool *repaired)
{
    char *k = kana_to_katakana(a, text);
    if (!text_is_katakana(k))
        return "氏名カナは全角カタカナで入力してください（例：ヤマダ タロウ）。";
    return check_text(a, f, k, flags, out, repaired);
}

static const char *check_email(arena *a, const field_def *f, char *text, unsigned flags,
                               const char **out, bool *repaired)
{
    (void)a, (void)f, (void)flags, (void)repaired;
    if (!mail_address_valid(text))
        return "メールアドレスの形式が正しくありません（例：taro.yamada@example.lg.jp）。";
    for (char *p = strchr(text, '@'); *p; p++)
        *p = (char)tolower((unsigned char)*p);
    *out = text;
    return NULL;
}

static const char *check_inst_code(arena *a, const field_def *f, char *s, unsigned flags,
                                   const char **out, bool *repaired)
{
    (void)f, (void)flags;
    squeeze_code(s);
    if (!text_all_digits(s))
        return "数字だけで入力してください。医療機関コードは10桁の数字です。";
    size_t n = strlen(s);
    if (n == IDS_INSTITUTION_CODE_LEN) {
        if (!ids_institution_code_valid(s))
            return "検査数字（最後の桁）が正しくありません。10桁の医療機関コードを確かめてください。";
        *out = s;
        return NULL;
    }
    if (n == IDS_INSTITUTION_CODE_LEN - 1) {
        char *zero = arena_printf(a, "0%s", s);
        if (ids_institution_code_valid(zero)) {
            *out = zero; /* a spreadsheet dropped the leading 0; the check digit confirms it */
            *repaired = true;
            return NULL;
        }
        return arena_printf(a,
                            "9桁しかありません。検査数字を含む10桁の医療機関コードを入力してください"
                            "（検査数字が抜けている場合は「%s%c」）。",
                            s, ids_luhn_check_digit(s));
    }
    return arena_printf(a, "%zu桁になっています。10桁の医療機関コードを入力してください。", n);
}

static const char *check_muni_code(arena *a, const field_def *f, char *s, unsigned flags,
                                   const char **out, bool *repaired)
{
    (void)f; /* unlike an institution code, "13-1016" is no way to write one: refused */
    if (!text_all_digits(s))
        return "数字だけで入力してください。検査数字を含む6桁の地方公共団体コード（例：131016）です。";
    size_t n = strlen(s);
    if (n == 6) {
        if (!ids_municipality_code_valid(s))
            return "検査数字が正しくありません。6桁の地方公共団体コードを入力してください。";
        *out = s;
        return NULL;
    }
    if (n != 5)
        return arena_printf(a, "%zu桁になっています。検査数字を含む6桁の地方公共団体コードを入力"
                               "して""ください。",
                            n);
    char *padded = arena_printf(a, "0%s", s);
    /* five digits are a dropped 0 or a missing check digit: only a number cell decides */
    if ((flags & FIELD_FROM_NUMBER) && ids_municipality_code_valid(padded)) {
        *out = padded;
        *repaired = true;
        return NULL;
    }
    char with_check[7];
    memcpy(with_check, s, 5);
    with_check[5] = ids_municipality_check_digit(s);
    with_check[6] = '\0';
    if (ids_municipality_code_valid(padded))
        return arena_printf(a,
                            "5桁しかありません。検査数字を含む6桁の地方公共団体コードを入力して"
                            "ください（先頭の0が抜けた場合は「%s」、検査数字がない場合は「%s」）。"
                            "セルの書式を「文字列」にすると先頭の0が消えません。",
                            padded, with_check);
    return arena_printf(a,
                        "検査数字がない5桁のコードです。検査数字を付けた6桁の地方公共団体コード"
                        "（このコードなら「%s」）を入力してください。",
                        with_check);
}

static const char *check_postal(arena *a, const field_def *f, char *s, unsigned flags,
                                const char **out, bool *repaired)
{
    (void)f;
    if (strncmp(s, "〒", 3) == 0)
        s = str_trim(s + 3);
    size_t n = strlen(s);
    if ((flags & FIELD_FROM_NUMBER) && text_all_digits(s) && (n == 5 || n == 6)) {
        s = arena_printf(a, "%07d", atoi(s)); /* the xlsx cell was a number: zeros were dropped */
        *repaired = true;
    }
    char *postal = text_postal_normalize(a, s);
    if (postal != NULL) {
        *out = postal;
        return NULL;
    }
    if (text_all_digits(s) && strlen(s) < 7)
        return arena_printf(a, "%zu桁しかありません。郵便番号は7桁で「123-4567」の形で入力してくだ"
                               "さい（先頭の0が抜けていませんか）。",
                            strlen(s));
    return "郵便番号は7桁で「123-4567」の形で入力してください。";
}

static const char *check_phone(arena *a, const field_def *f, char *s, unsigned flags,
                               const char **out, bool *repaired)
{
    (void)f;
    if ((flags & FIELD_FROM_NUMBER) && text_all_digits(s) && s[0] != '0') {
        s = arena_printf(a, "0%s", s); /* Japanese numbers start with 0, which a number loses */
        *repaired = true;
    }
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p != '-')
            return "電話番号は数字とハイフンで入力してください（例：03-1234-5678）。";
    }
    if (digits < 10 || digits > 11) {
        if (s[0] != '0')
            return "先頭の0が抜けていませんか。電話番号は市外局番から「03-1234-5678」の形で入力して"
                   "ください（10桁または11桁）。";
        return "電話番号の桁数が正しくありません（10桁または11桁）。";
    }
    *out = s;
    return NULL;
}

static const char *check_doctor_number(arena *a, const field_def *f, char *s, unsigned flags,
                                       const char **out, bool *repaired)
{
    (void)a, (void)flags, (void)repaired;
    bool ok = strlen(s) <= f->max_chars;
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
             *p == '-';
    if (!ok)
        return "指定医番号は英数字とハイフンで、20文字以内で入力してください。";
    *out = s;
    return NULL;
}

static const char *check_user_type(arena *a, const field_def *f, char *s, unsigned flags,
                                   const char **out, bool *repaired)
{
    (void)a, (void)f, (void)flags, (void)repaired;
    static const word WORDS[] = {{"指定医", "doctor"},       {"責任者", "inst_manager"},
                                 {"管理者", "inst_manager"}, {"doctor", "doctor"},
                                 {"inst_manager", "inst_manager"}};
    *out = word_key(WORDS, sizeof WORDS / sizeof WORDS[0], s);
    return *out ? NULL : "「指定医」か「責任者」のどちらかにしてください。";
}

static const char *check_role(arena *a, const field_def *f, char *s, unsigned flags,
                              const char **out, bool *repaired)
{
    (void)a, (void)f, (void)flags, (void)repaired;
    static const word WORDS[] = {{"muni_staff", "muni_staff"},
                                 {"muni_admin", "muni_admin"},
                                 {"自治体職員", "muni_staff"},
                                 {"自治体管理者", "muni_admin"}};
    *out = word_key(WORDS, sizeof WORDS / sizeof WORDS[0], s);
    return *out ? NULL : "権限は「自治体職員」か「自治体管理者」を選んでください。";
}

static const char *check_category(arena *a, const field_def *f, char *s, unsigned flags,
                                  const char **out, bool *repaired)
{
    (void)a, (void)f, (void)flags, (void)repaired;
    static const word WORDS[] = {{"nanbyo", "nanbyo"}, {"shoman", "shoman"}, {"both", "both"},
                                 {"難病", "nanbyo"},   {"小慢", "shoman"},   {"両方", "both"},
                                 {"難病/小慢", "both"}};
    /* 難病・小慢, 難病／小慢 (NFKC: /), 難病、小慢, 難病，小慢 and 難病 小慢 all mean both */
    char *w = s;
    for (const char *p = s; *p;) {
        if (strncmp(p, "・", 3) == 0 || strncmp(p, "、", 3) == 0) {
            *w++ = '/';
            p += 3;
        } else if (*p == ' ' || *p == ',') {
            *w++ = '/';
            p++;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    *out = word_key(WORDS, sizeof WORDS / sizeof WORDS[0], s);
    return *out ? NULL : "「難病」「小慢」「両方」のいずれかにしてください。";
}

static const char *check_request(arena *a, const field_def *f, char *s, unsigned flags,
                                 const char **out, bool *repaired)
{
    (void)a, (void)f, (void)flags, (void)repaired;
    static const word WORDS[] = {{"新規", "new"}, {"変更", "change"}, {"削除", "delete"},
                                 {"new", "new"},  {"change", "change"}, {"delete", "delete"}};
    *out = word_key(WORDS, sizeof WORDS / sizeof WORDS[0], s);
    return *out ? NULL : "「新規」「変更」「削除」のいずれかにしてください。";
}

bool field_tracking_number_valid(const char *s)
{
    if (s == NULL || strlen(s) != 12 || strspn(s, "0123456789") != 12)
        return false;
    int rem = 0;
    for (int i = 0; i < 11; i++)
        rem = (rem * 10 + (s[i] - '0')) % 7;
    return s[11] - '0' == rem;
}

/* A Letter Pack number as printed (1234-5678-9012), typed in full-width digits or scanned: the
   hyphens and spaces between the groups are dropped. */
static const char *check_tracking_number(arena *a, const field_def *f, char *s, unsigned flags,
                                         const char **out, bool *repaired)
{
    (void)f, (void)flags, (void)repaired;
    char *digits = arena_strdup(a, s), *w = digits;
    for (const char *p = s; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (!isdigit((unsigned char)*p))
            return "追跡番号は数字12桁で入力してください（例：1234-5678-9012）。";
        *w++ = *p;
    }
    *w = '\0';
    size_t n = strlen(digits);
    if (n != 12)
        return arena_printf(a,
                            "追跡番号は12桁です（入力されたのは%zu桁）。レターパックに印字された"
                            "12桁の番号を入力してください。",
                            n);
    if (!field_tracking_number_valid(digits))
        return "追跡番号の最後の1桁（検査数字）が合いません。レターパックに印字された番号を確かめて"
               "入力し直してください。";
    *out = digits;
    return NULL;
}

/* ---- the table ----------------------------------------------------------------------------- */

/* Fields whose checker reads codes and numbers: dashes people type become '-'. */
#define CODE_LIKE(c) ((c) == check_inst_code || (c) == check_muni_code || (c) == check_postal || \
                      (c) == check_phone || (c) == check_doctor_number ||                     \
                      (c) == check_tracking_number)

static const field_def FIELDS[FIELD_COUNT] = {
    [FIELD_INST_CODE] = {FIELD_INST_CODE, "inst_code", "医療機関コード", "医療機関コード",
                         "医療機関コード", NULL, 0, true,
                         "入力されていません。10桁の医療機関コード（都道府県2桁・点数表1桁・医療機関"
                         "7桁、最後の桁が検査数字）を入力してください。",
                         check_inst_code},
    [FIELD_INST_NAME] = {FIELD_INST_NAME, "inst_name", "医療機関名", "医療機関名", "医療機関名",
                         NULL, 100, true, "入力されていません。医療機関名を入力してください。",
                         check_text},
    [FIELD_INST_POSTAL] = {FIELD_INST_POSTAL, "inst_postal", "医療機関郵便番号",
                           "医療機関郵便番号", "郵便番号", NULL, 0, true,
                           "入力されていません。郵便番号を「123-4567」の形で入力してください。",
                           check_postal},
    [FIELD_INST_ADDRESS] = {FIELD_INST_ADDRESS, "inst_address", "医療機関所在地",
                            "医療機関所在地", "所在地", NULL, 200, true,
                            "入力されていません。医療機関の所在地を入力してください。", check_text},
    [FIELD_INST_PHONE] = {FIELD_INST_PHONE, "inst_phone", "医療機関電話番号", "医療機関電話番号",
                          "電話番号", NULL, 0, true,
                          "入力されていません。医療機関の電話番号を「03-1234-5678」の形で入力して"
                          "ください。",
                          check_phone},
    [FIELD_USER_TYPE] = {FIELD_USER_TYPE, "user_type", "ユーザ種別", "ユーザ種別", NULL, NULL, 0,
                         true, "入力されていません。「指定医」か「責任者」のどちらかにしてください。",
                         check_user_type},
    [FIELD_NAME] = {FIELD_NAME, "name", "氏名", "氏名", "氏名", "氏名", 100, true,
                    "氏名を入力してください。", check_text},
    [FIELD_NAME_KANA] = {FIELD_NAME_KANA, "name_kana", "氏名カナ", "氏名カナ", "氏名カナ",
                         "氏名カナ", 100, true, "氏名カナを入力してください。", check_kana},
    [FIELD_CATEGORY] = {FIELD_CATEGORY, "category", "難病/小慢", "難病/小慢", "難病/小慢",
                        "難病/小慢", 0, true,
                        "入力されていません。「難病」「小慢」「両方」のいずれかにしてください。",
                        check_category},
    [FIELD_DOCTOR_NUMBER] = {FIELD_DOCTOR_NUMBER, "doctor_number", "指定医番号", "指定医番号",
                             "指定医番号", NULL, 20, false,
                             "入力されていません。指定医の方は指定医番号を入力してください。",
                             check_doctor_number},
    [FIELD_SPECIALTY] = {FIELD_SPECIALTY, "specialty", "診療科", "診療科", "診療科", NULL, 50,
                         false, NULL, check_text},
    [FIELD_EMAIL] = {FIELD_EMAIL, "email", "メールアドレス", "メールアドレス", "メールアドレス",
                     "メールアドレス", 0, true, "メールアドレスを入力してください。", check_email},
    [FIELD_DEPARTMENT] = {FIELD_DEPARTMENT, "department", "部署名", NULL, NULL, "部署名", 100,
                          false, NULL, check_text},
    [FIELD_TITLE] = {FIELD_TITLE, "title", "役職", NULL, NULL, "役職", 100, false, NULL,
                     check_text},
    [FIELD_PHONE] = {FIELD_PHONE, "phone", "電話番号", NULL, NULL, "電話番号", 0, false, NULL,
                     check_phone},
    [FIELD_EXTENSION] = {FIELD_EXTENSION, "extension", "内線", NULL, NULL, "内線", 20, false,
                         NULL, check_text},
    [FIELD_ROLE] = {FIELD_ROLE, "role", "権限", NULL, NULL, NULL, 0, true,
                    "権限は「自治体職員」か「自治体管理者」を選んでください。", check_role},
    [FIELD_MUNI_CODE] = {FIELD_MUNI_CODE, "municipality_code", "地方公共団体コード", NULL, NULL,
                         "地方公共団体コード", 0, true,
                         "入力されていません。検査数字を含む6桁の地方公共団体コード（例：131016）を"
                         "入力してください。",
                         check_muni_code},
    [FIELD_MUNI_NAME] = {FIELD_MUNI_NAME, "municipality_name", "地方公共団体名", NULL, NULL,
                         "地方公共団体名", 100, true,
                         "入力されていません。地方公共団体名を入力してください。", check_text},
    [FIELD_POSTAL] = {FIELD_POSTAL, "postal", "郵便番号", NULL, NULL, "郵便番号", 0, true,
                      "入力されていません。郵便番号を「123-4567」の形で入力してください。",
                      check_postal},
    [FIELD_ADDRESS] = {FIELD_ADDRESS, "address", "所属先住所", NULL, NULL, "所属先住所", 200,
                       true, "入力されていません。所属先住所を入力してください。", check_text},
    [FIELD_REQUEST_TYPE] = {FIELD_REQUEST_TYPE, "request_type", "申請区分", NULL, NULL,
                            "申請区分", 0, true,
                            "入力されていません。「新規」「変更」「削除」のいずれかにしてください。",
                            check_request},
    [FIELD_LIST_NO] = {FIELD_LIST_NO, "no", "No", NULL, "No", "No", 20, false, NULL, check_text},
    [FIELD_NOTE] = {FIELD_NOTE, "note", "備考", NULL, NULL, "備考", 1000, false, NULL,
                    check_text},
    [FIELD_TRACKING_NUMBER] = {FIELD_TRACKING_NUMBER, "tracking_number", "追跡番号", NULL, NULL,
                               NULL, 0, true,
                               "入力されていません。レターパックに印字された12桁の追跡番号を入力"
                               "してください。",
                               check_tracking_number},
};

const field_def *field_get(field_id id)
{
    if ((unsigned)id >= FIELD_COUNT)
        abort(); /* a field id comes from the enum, never from input */
    return &FIELDS[id];
}

const field_def *field_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < FIELD_COUNT; i++)
        if (strcmp(FIELDS[i].name, name) == 0)
            return &FIELDS[i];
    return NULL;
}

/* The one answer for a character the rule refuses (text_chars.h), naming the field and the
 * character, since most of them cannot be seen. */
static const char *bad_chars_reason(arena *a, const field_def *f, uint32_t cp)
{
    if (cp == TEXT_CHARS_BAD_UTF8)
        return arena_printf(a, "%sに読み取れない文字（UTF-8 でない文字）が含まれています。入力し直して"
                               "ください。",
                            f->label);
    return arena_printf(a, "%sに使用できない文字（%s）が含まれています。制御文字や文字の向きを変える"
                           "記号は使えません。取り除いて入力し直してください。",
                        f->label, text_chars_name(a, cp));
}

const char *field_check_repaired(arena *a, field_id id, const char *raw, unsigned flags,
                                 const char **out, bool *repaired)
{
    const field_def *f = field_get(id);
    *out = NULL;
    *repaired = false;
    /* line breaks and tabs become spaces on every path (a cell typed with Alt+Enter, a pasted
       name); every other character the rule forbids is refused, the same on every path */
    const char *line = text_one_line(a, raw);
    uint32_t cp = text_chars_forbidden(line);
    char *text = NULL;
    if (cp == 0) {
        text = CODE_LIKE(f->check) ? text_code(a, line) : text_nfkc(a, line);
        cp = text == NULL ? TEXT_CHARS_BAD_UTF8 : text_chars_forbidden(text);
    }
    if (cp != 0)
        return bad_chars_reason(a, f, cp);
    if (*text == '\0') {
        bool required = (f->required && !(flags & FIELD_OPTIONAL)) || (flags & FIELD_REQUIRED);
        return required ? f->if_empty : NULL;
    }
    const char *reason = f->check(a, f, text, flags, out, repaired);
    if (reason != NULL) {
        *out = NULL;
        *repaired = false;
    }
    return reason;
}

const char *field_check(arena *a, field_id id, const char *raw, unsigned flags, const char **out)
{
    bool repaired;
    return field_check_repaired(a, id, raw, flags, out, &repaired);
}

char *field_search_key(arena *a, const char *name, const char *name_kana)
{
    return text_search_key(a, arena_printf(a, "%s %s", name ? name : "", name_kana ? name_kana : ""));
}
