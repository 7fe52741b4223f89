/*
 * itaiji.h — the variant forms (異体字) of characters common in Japanese names, each with the
 * form search uses for it: 髙橋 and 高橋, 﨑 and 崎, 邊/邉 and 辺 are one name to a person looking
 * for it. The table lives in itaiji.c and nowhere else; text_search_key folds through it, so the
 * stored search keys and the typed query agree. When the table changes, so does its fingerprint,
 * and the stored keys are folded again at the next start (core/search_keys.c).
 */
#ifndef NSDB_ITAIJI_H
#define NSDB_ITAIJI_H

#include <stddef.h>
#include <stdint.h>

typedef struct itaiji_pair {
    uint32_t variant;  /* 髙 */
    uint32_t standard; /* 高: never itself a variant */
} itaiji_pair;

/* The standard form of code point c, or c when it is not a variant. */
uint32_t itaiji_fold(uint32_t c);
/* The table, in ascending order of variant. */
const itaiji_pair *itaiji_pairs(size_t *count);
#define ITAIJI_FINGERPRINT_LEN 16
/* Hex digits that change whenever the table does (FNV-1a over the pairs), NUL-terminated. */
void itaiji_fingerprint(char out[ITAIJI_FINGERPRINT_LEN + 1]);

#endif
