/*
 * media.c — 媒体受領 for municipal staff (Flow II ⑬, ⑪-2..5): packages from the operator with
 * their media, receipt checked against the list, the PKCS#12 passphrases printed here (they
 * never travel in the package), sending each media to its institution (医療機関へ送付) and
 * 破損連絡 (the media is reissued in the next cycle). Every transition is audited; every query
 * carries the municipality.
 */
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/media_receipt.h"
#include "core/shipping_desk.h"
#include "core/registration.h"
#include "domain/media_pdf.h"
#include "store/media_store.h"
#include "web/confirm.h"
#include "web/media_board.h"
#include "web/web.h"

/* The buttons are the moves the media state machine allows from the media's status. */
static json_t *media_json(const store_media *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:b, s:b, s:b}", "id",
                     (json_int_t)m->id, "cycle", m->cycle_id, "inst_code", m->institution_code,
                     "inst_name", m->institution_name, "status", media_status_key(m->status),
                     "status_label", media_status_label(m->status), "forwarded_on", m->forwarded_on,
                     "damage_note", m->damage_note, "kind",
                     strcmp(m->kind, "reissue") == 0 ? "再発行" : "初回", "can_forward",
                     media_status_can(m->status, MEDIA_ACTION_FORWARD, NULL), "can_damage",
                     media_status_can(m->status, MEDIA_ACTION_DAMAGE, NULL), "received",
                     m->status == MEDIA_STATUS_RECEIVED || m->status == MEDIA_STATUS_FORWARDED);
}

/* A refused forwarding: the media's form shows the date as typed and the problem at it. */
typedef struct media_refusal {
    int64_t media_id; /* 0: none */
    const char *date;
    const nsdb_problem *pb;
} media_refusal;

static void media_render(web_ctx *ctx, const media_refusal *refused, int status);

void web_media(web_ctx *ctx)
{
    media_render(ctx, NULL, 200);
}

static void media_render(web_ctx *ctx, const media_refusal *refused, int status)
{
    arena *a = ctx->req->arena;
    store_package *packages = NULL;
    size_t n = 0;
    nsdb_err e = store_package_list(web_db(ctx), a, NULL, ctx->user->municipality_pk, &packages, &n);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        store_media *media = NULL;
        size_t k = 0;
        if (store_media_list(web_db(ctx), a, NULL, ctx->user->municipality_pk, packages[i].id,
                             0, &media, &k) != NSDB_OK) {
            json_decref(list);
            page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
            return;
        }
        json_t *items = json_array();
        for (size_t j = 0; j < k; j++) {
            json_t *item = media_json(&media[j]);
            if (refused != NULL && refused->media_id == media[j].id) {
                json_object_set_new(item, "date_kept", json_true());
                json_object_set_new(item, "date_value", json_string(refused->date));
                json_object_set_new(item, "date_error", json_string(problem_message(refused->pb)));
            }
            json_array_append_new(items, item);
        }
        json_t *package =
            json_pack("{s:I, s:s, s:I, s:s?, s:s, s:b, s:I, s:o, s:s?, s:s?, s:s?, s:s?}", "id",
                      (json_int_t)packages[i].id, "cycle", packages[i].cycle_id, "seq",
                      (json_int_t)packages[i].seq, "tracking",
                      shipping_tracking_display(a, packages[i].tracking_number), "status_label",
                      package_status_label(packages[i].status), "received",
                      packages[i].status == PACKAGE_STATUS_RECEIVED, "count",
                      (json_int_t)packages[i].media_count, "media", items, "to_category",
                      packages[i].to.category ? category_label(packages[i].to.category) : NULL,
                      "to_department", packages[i].to.department, "to_postal",
                      packages[i].to.postal, "to_address", packages[i].to.address);
        /* 受領 only after 発送; the number links to Japan Post's tracking page */
        json_object_set_new(package, "can_receive",
                            json_boolean(package_status_can(packages[i].status,
                                                            PACKAGE_ACTION_RECEIVE, NULL)));
        if (packages[i].tracking_number != NULL)
            json_object_set_new(package, "tracking_url",
                                json_string(web_tracking_url(a, packages[i].tracking_number)));
        if (packages[i].shipped_on != NULL)
            json_object_set_new(package, "shipped_on", json_string(packages[i].shipped_on));
        json_array_append_new(list, package);
    }
    json_t *data = page_data(ctx, "媒体受領");
    if (refused != NULL)
        page_add_error(data, arena_printf(a, "date-%lld", (long long)refused->media_id),
                       arena_printf(a, "媒体 %lld の送付日", (long long)refused->media_id),
                       problem_message(refused->pb));
    json_object_set_new(data, "packages", list);
    json_object_set_new(data, "today", json_string(arena_strndup(a, page_format_time(ctx, ctx->now), 10)));
    static const struct {
        const char *key, *text;
    } DONE[] = {{"received", "受領を記録しました。同封の一覧と媒体、通知書を確認してください。"},
                {"forwarded", "医療機関への送付を記録しました。"},
                {"damaged", "破損を連絡しました。次のサイクルで再発行されます。破損した媒体は破棄してください。"}};
    const char *done = http_query(ctx->req, "done");
    for (size_t i = 0; done && i < sizeof DONE / sizeof DONE[0]; i++)
        if (strcmp(done, DONE[i].key) == 0)
            json_object_set_new(data, "notice", json_string(DONE[i].text));
    ctx->req->status = status;
    page_render(ctx, "media", data);
}

static int64_t path_id(web_ctx *ctx)
{
    char *end = NULL;
    long long id = strtoll(ctx->req->path_params[0], &end, 10);
    return *end == '\0' && id > 0 ? id : 0;
}

static store_package *package_in_scope(web_ctx *ctx)
{
    store_package *p = NULL;
    int64_t id = path_id(ctx);
    if (id == 0 || store_package_get(web_db(ctx), ctx->req->arena, id,
                                     ctx->user->municipality_pk, &p) != NSDB_OK) {
        web_audit_now(ctx, "scope_denied", ctx->req->path, "denied", NULL);
        page_error(ctx, 404, "指定された梱包は見つかりません。");
        return NULL;
    }
    return p;
}

static store_media *media_in_scope(web_ctx *ctx)
{
    store_media *m = NULL;
    int64_t id = path_id(ctx);
    if (id == 0 || store_media_get(web_db(ctx), ctx->req->arena, id, ctx->user->municipality_pk,
                                   &m) != NSDB_OK) {
        web_audit_now(ctx, "scope_denied", ctx->req->path, "denied", NULL);
        page_error(ctx, 404, "指定された媒体は見つかりません。");
        return NULL;
    }
    return m;
}

void web_media_receive(web_ctx *ctx)
{
    store_package *p = package_in_scope(ctx);
    if (p == NULL)
        return;
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_package_receive(&c, p, &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(ctx->req, 303, "/media?done=received");
}

void web_media_passphrases(web_ctx *ctx)
{
    store_package *p = package_in_scope(ctx);
    if (p == NULL)
        return;
    if (p->status != PACKAGE_STATUS_RECEIVED) {
        page_error(ctx, 409, "パスフレーズは梱包の受領を記録してから出力できます。");
        return;
    }
    arena *a = ctx->req->arena;
    store_media *media = NULL;
    size_t n = 0;
    nsdb_err e = store_media_list(web_db(ctx), a, NULL, ctx->user->municipality_pk, p->id, 0,
                                  &media, &n);
    media_passphrase_row *rows = arena_calloc(a, n ? n : 1, sizeof *rows);
    char **secrets = arena_calloc(a, n ? n : 1, sizeof *secrets);
    for (size_t i = 0; e == NSDB_OK && i < n; i++) {
        e = secret_unseal(&ctx->app->key, media[i].passphrase_sealed,
                          media[i].passphrase_sealed_len, &secrets[i]);
        rows[i] = (media_passphrase_row){media[i].institution_code, media[i].institution_name,
                                         arena_printf(a, "%lld", (long long)media[i].id),
                                         secrets[i]};
    }
    strbuf pdf = STRBUF_INIT;
    if (e == NSDB_OK && n > 0)
        e = media_passphrase_list_pdf(rows, n,
                                      arena_printf(a, "VPN 証明書のパスフレーズ（%s 梱包 %lld）",
                                                   p->cycle_id, (long long)p->seq),
                                      &pdf);
    for (size_t i = 0; i < n; i++)
        if (secrets[i] != NULL) {
            sodium_memzero(secrets[i], strlen(secrets[i]));
            free(secrets[i]);
        }
    if (e != NSDB_OK || n == 0) {
        strbuf_free(&pdf);
        page_error(ctx, 500, "パスフレーズの一覧を作成できませんでした。");
        return;
    }
    web_audit_now(ctx, "passphrase_print", arena_printf(a, "package:%lld", (long long)p->id), "ok", NULL);
    http_send_file(ctx->req, "application/pdf",
                   arena_printf(a, "パスフレーズ_%s_%lld.pdf", p->cycle_id, (long long)p->seq),
                   pdf.data, pdf.len);
    sodium_memzero(pdf.data, pdf.len);
    strbuf_free(&pdf);
}

void web_media_forward(web_ctx *ctx)
{
    store_media *m = media_in_scope(ctx);
    if (m == NULL)
        return;
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    const char *date = http_form(ctx->req, "date");
    if (core_media_forward(&c, m, date, &pb) != NSDB_OK) {
        if (pb.code == NSDB_ERR_INVALID) { /* the form again, the error at the date */
            media_refusal refused = {m->id, date ? date : "", &pb};
            media_render(ctx, &refused, 400);
        } else {
            web_problem_page(ctx, &pb);
        }
        return;
    }
    http_redirect(ctx->req, 303, "/media?done=forwarded");
}

void web_media_damage(web_ctx *ctx)
{
    store_media *m = media_in_scope(ctx);
    if (m == NULL)
        return;
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_media_damage(&c, m, http_form(ctx->req, "note"), &pb) != NSDB_OK) {
        web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(ctx->req, 303, "/media?done=damaged");
}

/* The confirmation of 受領 (GET on the POST path): the package and the institutions of its media. */
void web_media_receive_confirm(web_ctx *ctx)
{
    store_package *p = package_in_scope(ctx);
    if (p == NULL)
        return;
    arena *a = ctx->req->arena;
    store_media *media = NULL;
    size_t n = 0;
    if (store_media_list(web_db(ctx), a, NULL, ctx->user->municipality_pk, p->id, 0, &media, &n) !=
        NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return;
    }
    strbuf names = STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&names, "%s%s（%s）", i ? "、" : "", media[i].institution_name,
                       media[i].institution_code);
    web_confirm c = {
        .title = "梱包の受領",
        .lead = "次の梱包を受領したことを記録します。",
        .items = {{"サイクル", p->cycle_id},
                  {"梱包", arena_printf(a, "%lld", (long long)p->seq)},
                  {"追跡番号", p->tracking_number ? shipping_tracking_display(a, p->tracking_number)
                                                  : "（未発送）"},
                  {"媒体", arena_printf(a, "%zu 枚", n)},
                  {"医療機関", arena_strndup(a, names.data ? names.data : "", names.len)}},
        .consequence =
            "記録すると、この梱包の媒体はすべて受領済になり、証明書のパスフレーズ一覧を出力"
            "できるようになります。同封の一覧と媒体・通知書を照合してから記録してください。",
        .button = "受領を記録する",
        .back = "/media"};
    strbuf_free(&names);
    if (p->status == PACKAGE_STATUS_PACKED)
        c.refusal = "この梱包はまだ発送されていません。届いてから受領を記録してください。";
    else if (!package_status_can(p->status, PACKAGE_ACTION_RECEIVE, NULL))
        c.refusal = "この梱包は既に受領を記録しています。";
    web_confirm_render(ctx, &c);
}

/* The confirmation of 医療機関へ送付 or 破損連絡 of one media (GET on the POST path): the screen's
   form sends its field (date, note) here, and it can still be corrected before the POST. */
void web_media_item_confirm(web_ctx *ctx)
{
    const media_action *action = ctx->route->arg;
    assert(action != NULL && (*action == MEDIA_ACTION_FORWARD || *action == MEDIA_ACTION_DAMAGE));
    store_media *m = media_in_scope(ctx);
    if (m == NULL)
        return;
    arena *a = ctx->req->arena;
    web_confirm c = {
        .items = {{"媒体番号", arena_printf(a, "%lld", (long long)m->id)},
                  {"医療機関", arena_printf(a, "%s（%s）", m->institution_name, m->institution_code)},
                  {"区分", strcmp(m->kind, "reissue") == 0 ? "再発行" : "初回"},
                  {"サイクル", m->cycle_id},
                  {"状態", media_status_label(m->status)}},
        .back = "/media"};
    if (*action == MEDIA_ACTION_FORWARD) {
        const char *date = http_query(ctx->req, "date");
        c.title = "医療機関への送付";
        c.lead = "次の媒体を医療機関へ送付したことを記録します。";
        c.consequence = "記録すると、この媒体は送付済になります。";
        c.fields[0] = (web_confirm_field){
            "date", "送付日",
            date ? date : arena_strndup(a, page_format_time(ctx, ctx->now), 10), WEB_CONFIRM_DATE};
        c.button = "送付を記録する";
    } else {
        c.title = "媒体の破損連絡";
        c.lead = "次の媒体の破損を運用事業者に連絡します。";
        c.consequence = "連絡すると、この媒体は使えなくなり、次のサイクルで再発行されます。破損した"
                        "媒体は破棄してください。";
        c.fields[0] = (web_confirm_field){"note", "破損の内容", http_query(ctx->req, "note"),
                                          WEB_CONFIRM_TEXT};
        c.button = "破損を連絡する";
    }
    if (!media_status_can(m->status, *action, NULL))
        c.refusal = arena_printf(a, "この媒体は「%s」のため、この操作はできません。",
                                 media_status_label(m->status));
    web_confirm_render(ctx, &c);
}
