/*
 * cycle_chart.h — the media cycle chart (媒体送付サイクル, seed 参考②) as inline SVG: for each cycle
 * three bars on one calendar axis — [1] ID・パスワード発行 by the municipality (the registration
 * window), [2] 媒体作成・送付 by the operator (the media arrive at the municipality by its last
 * day) and [3] ID/パスワード、媒体送付 to the institutions by the municipality — with their dates
 * and today marked. A pure function from cycle data to SVG text: every value written is checked
 * or escaped; the SVG carries its own <title> and <desc> (the text alternative), and screens show
 * the same dates as text beside it.
 */
#ifndef NSDB_CYCLE_CHART_H
#define NSDB_CYCLE_CHART_H

#include <stddef.h>

#include "domain/cycle.h"
#include "util/err.h"
#include "util/str.h"

/* More cycles than this in one chart is refused: the chart is read at a glance. */
#define CYCLE_CHART_MAX_CYCLES 6

/* Appends one <svg> element (role="img", named by its <title>, described by its <desc>) drawing
   cycles[0 … count-1] in order, and a marked line for today (YYYY-MM-DD; NULL or a day outside
   the chart: no line; a today up to two weeks before the first window widens the chart). id_prefix ([a-z0-9-], at most 32 bytes) makes the element ids unique on
   the page. NSDB_ERR_INVALID (out untouched) for count 0 or above CYCLE_CHART_MAX_CYCLES, a date
   that is not a real YYYY-MM-DD, a window that ends before it starts, a today that is given but
   not a real date, or a bad id_prefix. */
NSDB_MUST_CHECK nsdb_err cycle_chart_svg(const cycle_window *cycles, size_t count,
                                         const char *today, const char *id_prefix, strbuf *out);

#endif
