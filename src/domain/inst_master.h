/*
 * inst_master.h — how a registration's institution is compared with the institution master (医療
 * 機関マスタ, issue 12 item 5). The 医療機関コード identifies the institution; the name and the
 * address typed with it are compared with the master after normalising both, so that spellings
 * of the same thing (全角/半角, spaces, dash look-alikes, 「１丁目１番１号」 for 「1-1-1」, a leading
 * prefecture) match, and a real difference gives one warning sentence naming both values. The
 * registration goes ahead either way and the master is kept: the form, the CSV/xlsx import and
 * every other entry point use these functions, so they cannot disagree. Pure functions: no
 * storage, no HTTP.
 */
#ifndef NSDB_INST_MASTER_H
#define NSDB_INST_MASTER_H

#include <stdbool.h>

#include "util/arena.h"

/* The comparison key of an institution name: NFKC, every space (ASCII, U+3000) removed, the dash
   look-alikes ー − ‐ ― － ‑ – — (and the other Unicode dashes) made '-', ASCII lower case. NULL
   for text that is not UTF-8. */
char *inst_master_name_key(arena *a, const char *name);

/* The comparison key of an address: as a name, then a leading prefecture name (one of the 47)
   dropped, kanji numerals before 丁目 made digits (「一丁目」 is 「1丁目」), and 丁目, 番地, 番 and 号
   after a number made '-' when a number follows, dropped otherwise (so 「西新宿１丁目１番１号」 and
   「西新宿1-1-1」 have one key). NULL for text that is not UTF-8. */
char *inst_master_address_key(arena *a, const char *address);

/* Whether two names (two addresses) are the same after normalising; NULL reads as "". */
bool inst_master_same_name(const char *x, const char *y);
bool inst_master_same_address(const char *x, const char *y);

/* The warning for a registration at institution code whose given name or address differs from
   the master's after normalising, naming both values of each field that differs ("医療機関コード
   … の医療機関名が医療機関マスタと異なります（入力「…」、マスタ「…」）。…"); NULL when neither
   differs. In a. */
const char *inst_master_difference(arena *a, const char *code, const char *given_name,
                                   const char *given_address, const char *master_name,
                                   const char *master_address);

#endif
