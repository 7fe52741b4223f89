/*
 * inst_master.c — see inst_master.h. The keys are built in two passes over the NFKC text: the
 * first removes spaces, folds dashes and ASCII case (names and addresses alike); the second, for
 * addresses only, drops a leading prefecture and writes 丁目/番地/番/号 after a number as hyphens.
 * Every character the second pass looks for is three bytes of UTF-8, so it matches bytes.
 */
#include "domain/inst_master.h"

#include <string.h>
#include <utf8proc.h>

#include "domain/text.h"
#include "util/str.h"

/* Dash look-alikes NFKC leaves alone (U+FF0D － and U+FE63 ﹣ are '-' after NFKC already, U+FF70
   ｰ is U+30FC ー). */
static bool is_dash(utf8proc_int32_t c)
{
    return (c >= 0x2010 && c <= 0x2015) || c == 0x2043 || c == 0x2212 || c == 0x30FC ||
           c == 0xFE58;
}

static bool is_space(utf8proc_int32_t c)
{
    return c == ' ' || c == '\t' || c == 0x3000 ||
           utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

/* The first pass: NFKC, no spaces, dashes as '-', ASCII lower case. */
static char *common_key(arena *a, const char *s)
{
    char *n = text_nfkc(a, s ? s : "");
    if (n == NULL)
        return NULL;
    strbuf sb = STRBUF_INIT;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)n;
    utf8proc_int32_t c;
    for (;;) {
        utf8proc_ssize_t len = utf8proc_iterate(p, -1, &c);
        if (len <= 0 || c == 0)
            break;
        if (is_space(c)) {
            /* nothing */
        } else if (is_dash(c)) {
            strbuf_putc(&sb, '-');
        } else if (c >= 'A' && c <= 'Z') {
            strbuf_putc(&sb, (char)(c + 'a' - 'A'));
        } else {
            strbuf_append(&sb, (const char *)p, (size_t)len);
        }
        p += len;
    }
    char *key = arena_strdup(a, sb.data ? sb.data : "");
    strbuf_free(&sb);
    return key;
}

char *inst_master_name_key(arena *a, const char *name)
{
    return common_key(a, name);
}

static const char *const PREFECTURES[] = {
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
};

/* The address after its leading prefecture, if it has one. */
static const char *after_prefecture(const char *s)
{
    for (size_t i = 0; i < sizeof PREFECTURES / sizeof PREFECTURES[0]; i++) {
        size_t n = strlen(PREFECTURES[i]);
        if (strncmp(s, PREFECTURES[i], n) == 0)
            return s + n;
    }
    return s;
}

/* The value of the kanji numeral at p (〇 一 … 九 as 0–9, 十 as 10), or -1. */
static int kanji_digit(const char *p)
{
    static const char *const DIGITS[] = {"〇", "一", "二", "三", "四", "五",
                                         "六", "七", "八", "九", "十"};
    for (int d = 0; d < 11; d++)
        if (strncmp(p, DIGITS[d], 3) == 0)
            return d;
    return -1;
}

#define CHOME "丁目"

/* A run of kanji numerals at p followed by 丁目: its value (一 → 1, 十二 → 12, 二十三 → 23,
   二〇 → 20) and *len its bytes; -1 otherwise. */
static int kanji_chome(const char *p, size_t *len)
{
    int value = 0, current = 0;
    const char *q = p;
    for (int d; (d = kanji_digit(q)) >= 0; q += 3) {
        if (d == 10) {
            value += (current ? current : 1) * 10;
            current = 0;
        } else {
            current = current * 10 + d;
        }
        if (value + current > 999)
            return -1;
    }
    if (q == p || strncmp(q, CHOME, strlen(CHOME)) != 0)
        return -1;
    *len = (size_t)(q - p);
    return value + current;
}

/* 丁目, 番地, 番 or 号 at p: its bytes, else 0 (番地 before 番). */
static size_t marker_length(const char *p)
{
    static const char *const MARKERS[] = {CHOME, "番地", "番", "号"};
    for (size_t i = 0; i < sizeof MARKERS / sizeof MARKERS[0]; i++) {
        size_t n = strlen(MARKERS[i]);
        if (strncmp(p, MARKERS[i], n) == 0)
            return n;
    }
    return 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char *inst_master_address_key(arena *a, const char *address)
{
    char *common = common_key(a, address);
    if (common == NULL)
        return NULL;
    strbuf sb = STRBUF_INIT;
    for (const char *p = after_prefecture(common); *p;) {
        size_t len = 0;
        int chome = kanji_chome(p, &len);
        bool after_number = sb.len > 0 && is_digit(sb.data[sb.len - 1]);
        size_t marker = after_number ? marker_length(p) : 0;
        if (chome >= 0) {
            strbuf_printf(&sb, "%d", chome);
            p += len;
        } else if (marker > 0) {
            p += marker;
            /* a number follows: the marker was a separator; else it ended the number */
            if (is_digit(*p))
                strbuf_putc(&sb, '-');
        } else {
            strbuf_putc(&sb, *p++);
        }
    }
    char *key = arena_strdup(a, sb.data ? sb.data : "");
    strbuf_free(&sb);
    return key;
}

typedef char *(*key_fn)(arena *a, const char *s);

static bool same_by(key_fn key, const char *x, const char *y)
{
    x = x ? x : "";
    y = y ? y : "";
    if (strcmp(x, y) == 0)
        return true; /* the common case (the same row again) without normalising */
    arena *a = arena_new();
    const char *kx = key(a, x), *ky = key(a, y);
    bool same = kx != NULL && ky != NULL && strcmp(kx, ky) == 0;
    arena_free(a);
    return same;
}

bool inst_master_same_name(const char *x, const char *y)
{
    return same_by(inst_master_name_key, x, y);
}

bool inst_master_same_address(const char *x, const char *y)
{
    return same_by(inst_master_address_key, x, y);
}

const char *inst_master_difference(arena *a, const char *code, const char *given_name,
                                   const char *given_address, const char *master_name,
                                   const char *master_address)
{
    bool name = !inst_master_same_name(given_name, master_name);
    bool address = !inst_master_same_address(given_address, master_address);
    if (!name && !address)
        return NULL;
    const char *name_part = arena_printf(a, "医療機関名：入力「%s」、マスタ「%s」",
                                         given_name ? given_name : "",
                                         master_name ? master_name : "");
    const char *address_part = arena_printf(a, "所在地：入力「%s」、マスタ「%s」",
                                            given_address ? given_address : "",
                                            master_address ? master_address : "");
    return arena_printf(a,
                        "医療機関コード %s の%sが医療機関マスタと異なります（%s%s%s）。ユーザは"
                        "医療機関マスタの医療機関に登録し、マスタは変更していません。マスタが誤って"
                        "いる場合は「医療機関情報の修正」で直してください。",
                        code ? code : "", name && address ? "医療機関名と所在地" : name ? "医療機関名" : "所在地",
                        name ? name_part : "", name && address ? "／" : "",
                        address ? address_part : "");
}
