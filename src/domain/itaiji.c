/*
 * itaiji.c — see itaiji.h. The pairs are the variants that name registers and municipal forms
 * meet most often (the 人名用漢字 old forms, the IBM/NEC extension 髙 and 﨑, and the 戸籍 forms
 * of 辺, 斎 and 島); each variant folds to the form most people type. The table is sorted by
 * variant so a lookup is a binary search (it runs once per character of every search key).
 */
#include "domain/itaiji.h"

#include <stdio.h>

static const itaiji_pair PAIRS[] = {
    /* sorted by variant (asserted by the unit test) */
    {0x51A8, 0x5BCC},  /* 冨 → 富 */
    {0x570B, 0x56FD},  /* 國 → 国 */
    {0x5BE6, 0x5B9F},  /* 實 → 実 */
    {0x5CEF, 0x5CF0},  /* 峯 → 峰 */
    {0x5D5C, 0x5D0E},  /* 嵜 → 崎 */
    {0x5D8B, 0x5CF6},  /* 嶋 → 島 */
    {0x5D8C, 0x5CF6},  /* 嶌 → 島 */
    {0x5EE3, 0x5E83},  /* 廣 → 広 */
    {0x5F4C, 0x5F25},  /* 彌 → 弥 */
    {0x5FB7, 0x5FB3},  /* 德 → 徳 */
    {0x60E0, 0x6075},  /* 惠 → 恵 */
    {0x6589, 0x658E},  /* 斉 → 斎 (斉藤 and 斎藤 are confused as often as 齊 and 齋) */
    {0x66FE, 0x66FD},  /* 曾 → 曽 */
    {0x689D, 0x6761},  /* 條 → 条 */
    {0x69AE, 0x6804},  /* 榮 → 栄 */
    {0x69C7, 0x69D9},  /* 槇 → 槙 */
    {0x6A9C, 0x6867},  /* 檜 → 桧 */
    {0x6AFB, 0x685C},  /* 櫻 → 桜 */
    {0x6DFA, 0x6D45},  /* 淺 → 浅 */
    {0x6FA4, 0x6CA2},  /* 澤 → 沢 */
    {0x6FF1, 0x6D5C},  /* 濱 → 浜 */
    {0x6FF5, 0x6D5C},  /* 濵 → 浜 */
    {0x7028, 0x702C},  /* 瀨 → 瀬 */
    {0x771E, 0x771F},  /* 眞 → 真 */
    {0x7A57, 0x7A42},  /* 穗 → 穂 */
    {0x8070, 0x8061},  /* 聰 → 聡 */
    {0x8218, 0x9928},  /* 舘 → 館 */
    {0x85CF, 0x8535},  /* 藏 → 蔵 */
    {0x8C50, 0x8C4A},  /* 豐 → 豊 */
    {0x9089, 0x8FBA},  /* 邉 → 辺 */
    {0x908A, 0x8FBA},  /* 邊 → 辺 */
    {0x9AD9, 0x9AD8},  /* 髙 → 高 */
    {0x9F4A, 0x658E},  /* 齊 → 斎 */
    {0x9F4B, 0x658E},  /* 齋 → 斎 */
    {0x9F8D, 0x7ADC},  /* 龍 → 竜 */
    {0xFA11, 0x5D0E},  /* 﨑 → 崎 (a CJK compatibility ideograph that NFKC keeps) */
    {0x20BB7, 0x5409}, /* 𠮷 → 吉 */
    {0x2550E, 0x5D0E}, /* 𥔎 → 崎 */
};

#define PAIR_COUNT (sizeof PAIRS / sizeof PAIRS[0])

uint32_t itaiji_fold(uint32_t c)
{
    if (c < PAIRS[0].variant || c > PAIRS[PAIR_COUNT - 1].variant)
        return c;
    size_t lo = 0, hi = PAIR_COUNT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (PAIRS[mid].variant == c)
            return PAIRS[mid].standard;
        if (PAIRS[mid].variant < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return c;
}

const itaiji_pair *itaiji_pairs(size_t *count)
{
    *count = PAIR_COUNT;
    return PAIRS;
}

void itaiji_fingerprint(char out[ITAIJI_FINGERPRINT_LEN + 1])
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < PAIR_COUNT; i++) {
        uint32_t v[2] = {PAIRS[i].variant, PAIRS[i].standard};
        for (size_t k = 0; k < 2; k++)
            for (int b = 0; b < 4; b++) {
                h ^= (v[k] >> (8 * b)) & 0xffu;
                h *= 0x100000001b3u;
            }
    }
    snprintf(out, ITAIJI_FINGERPRINT_LEN + 1, "%016llx", (unsigned long long)h);
}
