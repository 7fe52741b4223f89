/*
 * ship.c — 発送 of a package on the operator's board (Flow II ⑪, SPEC §8): the board's form per
 * packed package posts the Letter Pack's number to POST /operator/packages/{id}/ship, which calls
 * core_package_ship and answers 303 to the board, or shows the board again with the refusal at
 * that package's 追跡番号 field. GET on the same path is the confirmation page (web/confirm.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipping_desk.h"
#include "domain/fields.h"
#include "store/media_store.h"
#include "web/confirm.h"
#include "web/media_board.h"

const char *web_tracking_url(arena *a, const char *tracking)
{
    return arena_printf(a,
                        "https://trackings.post.japanpost.jp/services/srv/search/direct?"
                        "reqCodeNo1=%s&locale=ja",
                        tracking);
}

/* The package of the path (the operator's scope is every municipality); a 404 page otherwise. */
static store_package *package_of_path(web_ctx *ctx)
{
    char *end = NULL;
    long long id = strtoll(ctx->req->path_params[0], &end, 10);
    store_package *p = NULL;
    if (*end != '\0' || id <= 0 ||
        store_package_get(web_db(ctx), ctx->req->arena, id, 0, &p) != NSDB_OK) {
        page_error(ctx, 404, "指定された梱包は見つかりません。");
        return NULL;
    }
    return p;
}

void web_package_ship(web_ctx *ctx)
{
    store_package *p = package_of_path(ctx);
    if (p == NULL)
        return;
    const char *typed = http_form(ctx->req, "tracking_number");
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_package_ship(&c, p->id, typed, NULL, &pb) != NSDB_OK) {
        if (pb.code == NSDB_ERR_INVALID) { /* the board again, at the package's field */
            web_ship_refusal refused = {p->id, typed, &pb};
            web_media_board_render(ctx, p->cycle_id, &refused, 400);
        } else {
            web_problem_page(ctx, &pb);
        }
        return;
    }
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena,
                               "/operator/media?cycle=%s&done=shipped&package=%lld", p->cycle_id,
                               (long long)p->id));
}

void web_package_ship_confirm(web_ctx *ctx)
{
    store_package *p = package_of_path(ctx);
    if (p == NULL)
        return;
    arena *a = ctx->req->arena;
    const char *typed = http_query(ctx->req, "tracking_number");
    const char *number = NULL;
    const char *reason = typed != NULL && *typed != '\0' && p->status == PACKAGE_STATUS_PACKED
                             ? field_check(a, FIELD_TRACKING_NUMBER, typed, 0, &number)
                             : NULL;
    if (reason != NULL) { /* a number that cannot be right: said at the field, as the POST does */
        nsdb_problem pb = {0};
        (void)problem_set(&pb, NSDB_ERR_INVALID, "tracking_number", reason);
        web_ship_refusal refused = {p->id, typed, &pb};
        web_media_board_render(ctx, p->cycle_id, &refused, 400);
        return;
    }
    const char *to = arena_printf(
        a, "%s %s〒%s %s", p->to.department ? p->to.department : "ご担当者",
        p->to.category ? arena_printf(a, "（%s） ", category_label(p->to.category)) : "",
        p->to.postal ? p->to.postal : "", p->to.address ? p->to.address : "");
    web_confirm c = {
        .title = "梱包の発送",
        .lead = "次の梱包を、入力したレターパックの追跡番号で発送済にします。",
        .items = {{"サイクル", p->cycle_id},
                  {"梱包", arena_printf(a, "%s %s 梱包 %lld", p->municipality_code,
                                        p->municipality_name, (long long)p->seq)},
                  {"発送先", to},
                  {"媒体", arena_printf(a, "%lld 枚", (long long)p->media_count)},
                  {"追跡番号", number ? shipping_tracking_display(a, number) : "（下に入力）"}},
        .consequence =
            "記録すると、この梱包と媒体は発送済になり、自治体の媒体受領の画面に追跡番号と"
            "日本郵便の追跡ページへのリンクが表示されます。レターパックに印字された 12 桁"
            "の番号を確かめてから記録してください。",
        .fields = {{"tracking_number", "追跡番号（12桁）", typed, WEB_CONFIRM_TEXT}},
        .button = "発送を記録する",
        .back = arena_printf(a, "/operator/media?cycle=%s#packages", p->cycle_id)};
    if (p->status != PACKAGE_STATUS_PACKED)
        c.refusal = arena_printf(a, "この梱包は既に発送済みです（追跡番号 %s）。",
                                 shipping_tracking_display(a, p->tracking_number));
    web_confirm_render(ctx, &c);
}
