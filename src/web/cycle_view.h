/*
 * cycle_view.h — the media cycle as the screens show it: the chart (domain/cycle_chart.h) with
 * its dates as a table beside it, used by 医療機関ユーザ新規登録 and 媒体送付サイクル, and what a
 * registration means for its institution's media (the seed's chart, 参考②: the media reach the
 * municipality by the end of the media window, which then forwards it in its delivery window).
 */
#ifndef NSDB_WEB_CYCLE_VIEW_H
#define NSDB_WEB_CYCLE_VIEW_H

#include "domain/cycle.h"
#include "web/web.h"

/* Today in Japan, YYYY-MM-DD, in the request's arena. */
const char *cycle_view_today(web_ctx *ctx);
/* Sets data["chart"] = {svg, cycles: [{id, registration, media, delivery}]} for cycles[0 … n-1];
   leaves data as it was when the chart cannot be drawn (the page's text still has the dates). */
void cycle_view_chart(web_ctx *ctx, json_t *data, const cycle_window *cycles, size_t n);
/* Sets data["chart"] for the cycle registrations fall into today and the next one; out (may be
   NULL) gets today's cycle. False when the calendar cannot be read. */
bool cycle_view_current_and_next(web_ctx *ctx, json_t *data, cycle_window *out);
/* The sentence for staff of what happens to the media of a registration in cycle c. */
const char *cycle_view_media_promise(web_ctx *ctx, const cycle_window *c);

/* What a 一括登録 batch means for its institutions' media, one sentence (NULL when unknown). */
const char *cycle_view_batch_outlook(web_ctx *ctx, int64_t batch_id);

#endif
