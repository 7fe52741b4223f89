/*
 * cycle_view.c — see cycle_view.h. The SVG is ours (domain/cycle_chart.c escapes every value it
 * writes), so the templates print it raw; the table next to it carries the same dates as text.
 */
#include <string.h>

#include "core/registration.h"
#include "domain/cycle_chart.h"
#include "store/media_store.h"
#include "web/cycle_view.h"

const char *cycle_view_today(web_ctx *ctx)
{
    return arena_strndup(ctx->req->arena, page_format_time(ctx, ctx->now), 10);
}

void cycle_view_chart(web_ctx *ctx, json_t *data, const cycle_window *cycles, size_t n)
{
    strbuf svg = STRBUF_INIT;
    if (cycle_chart_svg(cycles, n, cycle_view_today(ctx), "cycle-chart", &svg) != NSDB_OK) {
        strbuf_free(&svg);
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        const cycle_window *c = &cycles[i];
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s}", "id", c->id, "registration",
                            arena_printf(ctx->req->arena, "%s〜%s", c->registration_from,
                                         c->registration_to),
                            "media",
                            arena_printf(ctx->req->arena, "%s〜%s", c->media_from, c->media_to),
                            "delivery",
                            arena_printf(ctx->req->arena, "%s〜%s", c->delivery_from,
                                         c->delivery_to)));
    }
    json_object_set_new(data, "chart",
                        json_pack("{s:s%, s:o}", "svg", svg.data, svg.len, "cycles", rows));
    strbuf_free(&svg);
}

bool cycle_view_current_and_next(web_ctx *ctx, json_t *data, cycle_window *out)
{
    cycle_window c[2];
    if (registration_cycle(web_db(ctx), ctx->now, &c[0]) != NSDB_OK)
        return false;
    size_t n = store_cycle_next(web_db(ctx), c[0].id, &c[1]) == NSDB_OK ? 2 : 1;
    cycle_view_chart(ctx, data, c, n);
    if (out != NULL)
        *out = c[0];
    return true;
}

const char *cycle_view_media_promise(web_ctx *ctx, const cycle_window *c)
{
    return arena_printf(ctx->req->arena,
                        "この登録期間（%s〜%s）に登録した医療機関の媒体は、運用事業者が %s〜%s に"
                        "作成して自治体へ送付し、%s までに届きます。届いたら「媒体受領」で受領を"
                        "記録し、同封の一覧と照合してから、ID・PW発行通知書と併せて %s〜%s に"
                        "医療機関へ送付してください。既に媒体がある（または作成予定の）医療機関には、"
                        "新しい媒体は作成されません。",
                        c->registration_from, c->registration_to, c->media_from, c->media_to,
                        c->media_to, c->delivery_from, c->delivery_to);
}

const char *cycle_view_batch_outlook(web_ctx *ctx, int64_t batch_id)
{
    char cycle_id[11];
    int64_t fresh = 0, other = 0;
    cycle_window c;
    if (store_media_outlook_of_batch(web_db(ctx), ctx->user->municipality_pk, batch_id, cycle_id,
                                     &fresh, &other) != NSDB_OK ||
        cycle_id[0] == '\0' || store_cycle_get(web_db(ctx), cycle_id, &c) != NSDB_OK)
        return NULL;
    arena *a = ctx->req->arena;
    const char *others =
        other > 0 ? arena_printf(a, "既に媒体がある（または作成予定の）医療機関 %lld 件には、新しい"
                                    "媒体は届きません。",
                                 (long long)other)
                  : "";
    if (fresh == 0)
        return others;
    return arena_printf(a,
                        "媒体が新しく作成される医療機関は %lld 件です。媒体は運用事業者が %s〜%s に"
                        "作成して自治体へ送付し、%s までに届きます。届いたら「媒体受領」で受領を"
                        "記録し、ID・PW発行通知書と併せて %s〜%s に医療機関へ送付してください。%s",
                        (long long)fresh, c.media_from, c.media_to, c.media_to, c.delivery_from,
                        c.delivery_to, others);
}
