/*
 * media_operator.c — the operator's media screens (Flow II ⑩⑪, SPEC §6): the cycle calendar
 * (view and adjust), building the cycle's media and packing them (the same work as
 * `nsdb media build` / `nsdb package build`), and a status board by cycle and municipality.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/media.h"
#include "core/media_job.h"
#include "core/media_receipt.h"
#include "core/registration.h"
#include "domain/cycle_chart.h"
#include "domain/holiday.h"
#include "store/media_store.h"
#include "web/ca.h"
#include "store/media_timing.h"
#include "web/cycle_view.h"
#include "core/shipping_desk.h"
#include "web/confirm.h"
#include "web/media_board.h"
#include "web/media_files.h"
#include "web/web.h"

static json_t *cycle_json(const cycle_window *c)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->id, "registration_from",
                     c->registration_from, "registration_to", c->registration_to, "media_from",
                     c->media_from, "media_to", c->media_to, "delivery_from", c->delivery_from,
                     "delivery_to", c->delivery_to);
}

/* A row of the calendar: its dates, the form's values ("in", the operator's input when this
   row's adjustment was refused) and the window boundaries that fall on closed days. */
static json_t *cycle_row_json(web_ctx *ctx, const cycle_window *c)
{
    json_t *row = cycle_json(c);
    json_object_set_new(row, "in", cycle_json(c));
    json_t *warnings = json_array();
    cycle_closed_day closed[CYCLE_DATE_FIELD_COUNT];
    size_t n = cycle_closed_boundaries(c, closed);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(warnings,
                              json_string(arena_printf(ctx->req->arena, "%s %s は%sで休業日です。",
                                                       closed[i].field->label, closed[i].date,
                                                       closed[i].why)));
    json_object_set_new(row, "warnings", warnings);
    return row;
}

/* The calendar page; refused (may be NULL) is the row whose adjustment was refused, with the
   operator's input and the problem shown at its field. */
static void cycles_render(web_ctx *ctx, const char *refused, const nsdb_problem *pb, int status)
{
    static __thread cycle_window cycles[40];
    size_t n = 0;
    cycle_window current, next;
    nsdb_err e = registration_cycle(web_db(ctx), ctx->now, &current);
    if (e == NSDB_OK)
        e = store_cycle_list(web_db(ctx), current.registration_from, cycles,
                             sizeof cycles / sizeof cycles[0], &n);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "媒体送付サイクル");
    bool operator = ctx->user->role == USER_ROLE_OPERATOR; /* mhlw reads only */
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = cycle_row_json(ctx, &cycles[i]);
        if (refused != NULL && strcmp(refused, cycles[i].id) == 0) {
            json_t *in = json_object_get(row, "in"), *errors = json_object();
            for (size_t k = 0; k < CYCLE_DATE_FIELD_COUNT; k++) {
                const char *v = http_form(ctx->req, CYCLE_DATE_FIELDS[k].name);
                json_object_set_new(in, CYCLE_DATE_FIELDS[k].name, json_string(v ? v : ""));
            }
            const char *field = pb->field ? pb->field : "registration_from";
            json_object_set_new(errors, field, json_string(problem_message(pb)));
            json_object_set_new(row, "errors", errors);
            json_object_set_new(row, "open", json_true());
            const char *label = "日程";
            for (size_t k = 0; k < CYCLE_DATE_FIELD_COUNT; k++)
                if (strcmp(CYCLE_DATE_FIELDS[k].name, field) == 0)
                    label = CYCLE_DATE_FIELDS[k].label;
            page_add_error(data, arena_printf(ctx->req->arena, "%s-%s", field, cycles[i].id),
                           arena_printf(ctx->req->arena, "サイクル %s の%s", cycles[i].id, label),
                           problem_message(pb));
        }
        json_array_append_new(list, row);
    }
    /* the chart: the cycles still delivering, today's and the next */
    size_t charted = 0;
    bool has_next = store_cycle_next(web_db(ctx), current.id, &next) == NSDB_OK;
    while (charted < n && charted < CYCLE_CHART_MAX_CYCLES &&
           strcmp(cycles[charted].id, has_next ? next.id : current.id) <= 0)
        charted++;
    if (charted > 0)
        cycle_view_chart(ctx, data, cycles, charted);
    json_object_set_new(data, "cycles", list);
    json_object_set_new(data, "current", json_string(current.id));
    json_object_set_new(data, "can_adjust", json_boolean(operator));
    json_object_set_new(data, "template", json_string(ctx->app->cfg.media_template ? ctx->app->cfg.media_template : ""));
    const char *done = http_query(ctx->req, "done");
    if (refused == NULL && done != NULL && strcmp(done, "adjusted") == 0)
        json_object_set_new(data, "notice", json_string("サイクルの日程を変更しました。"));
    ctx->req->status = status;
    page_render(ctx, "cycles", data);
}

void web_cycles(web_ctx *ctx)
{
    cycles_render(ctx, NULL, NULL, 200);
}

void web_cycle_adjust(web_ctx *ctx)
{
    http_request *req = ctx->req;
    cycle_dates in = {http_form(req, "registration_from"), http_form(req, "registration_to"),
                      http_form(req, "media_from"),        http_form(req, "media_to"),
                      http_form(req, "delivery_from"),     http_form(req, "delivery_to")};
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    if (core_cycle_adjust(&c, req->path_params[0], &in, &pb) != NSDB_OK) {
        if (pb.code == NSDB_ERR_INVALID)
            cycles_render(ctx, req->path_params[0], &pb, 400); /* the form again, at the field */
        else
            web_problem_page(ctx, &pb);
        return;
    }
    http_redirect(req, 303, "/cycles?done=adjusted");
}

/* The cycle's packages with where each goes (the destination recorded at packing), the 発送
   form of each packed one (refused: the one whose number was refused); NULL when they cannot be
   read. */
static json_t *board_packages(web_ctx *ctx, const char *cycle, const web_ship_refusal *refused)
{
    store_package *p = NULL;
    size_t n = 0;
    arena *a = ctx->req->arena;
    if (cycle == NULL || store_package_list(web_db(ctx), a, cycle, 0, &p, &n) != NSDB_OK)
        return cycle == NULL ? json_array() : NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_pack(
            "{s:I, s:s, s:s, s:I, s:s?, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:b, s:s?, s:s?}", "id",
            (json_int_t)p[i].id, "code", p[i].municipality_code, "name", p[i].municipality_name,
            "seq", (json_int_t)p[i].seq, "tracking",
            shipping_tracking_display(a, p[i].tracking_number), "status_label",
            package_status_label(p[i].status), "to_category",
            p[i].to.category ? category_label(p[i].to.category) : NULL, "to_department",
            p[i].to.department, "to_postal", p[i].to.postal, "to_address", p[i].to.address, "count",
            (json_int_t)p[i].media_count, "can_ship", p[i].status == PACKAGE_STATUS_PACKED,
            "shipped_on", p[i].shipped_on, "tracking_url",
            p[i].tracking_number ? web_tracking_url(a, p[i].tracking_number) : NULL);
        if (refused != NULL && refused->package_id == p[i].id) {
            json_object_set_new(row, "ship_value",
                                json_string(refused->typed ? refused->typed : ""));
            json_object_set_new(row, "ship_error", json_string(problem_message(refused->pb)));
        }
        json_array_append_new(list, row);
    }
    return list;
}

/* The 追加分 per municipality: listed in the cycle's packages, due at its next packing; NULL
   when they cannot be read. */
static json_t *board_supplements(web_ctx *ctx, const char *cycle)
{
    store_supplement_count *rows = NULL;
    size_t n = 0;
    if (cycle == NULL)
        return json_array();
    if (store_supplement_counts(web_db(ctx), ctx->req->arena, cycle, &rows, &n) != NSDB_OK)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I}", "code",
                                              rows[i].municipality_code, "name",
                                              rows[i].municipality_name, "listed",
                                              (json_int_t)rows[i].listed, "due",
                                              (json_int_t)rows[i].due));
    return list;
}

void web_media_board(web_ctx *ctx)
{
    web_media_board_render(ctx, http_query(ctx->req, "cycle"), NULL, 200);
}

void web_media_board_render(web_ctx *ctx, const char *cycle, const web_ship_refusal *refused,
                            int status)
{
    cycle_window c;
    if (cycle == NULL || *cycle == '\0') {
        if (registration_cycle(web_db(ctx), ctx->now, &c) == NSDB_OK)
            cycle = arena_strdup(ctx->req->arena, c.id);
    } else if (store_cycle_get(web_db(ctx), cycle, &c) != NSDB_OK) {
        page_error(ctx, 404, "指定されたサイクルは見つかりません。");
        return;
    }
    store_media_board_row *rows = NULL;
    size_t n = 0;
    nsdb_err e = store_media_board(web_db(ctx), ctx->req->arena, cycle, &rows, &n);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *counts = json_array();
        for (int k = 0; k < 7; k++)
            json_array_append_new(counts, json_integer(rows[i].counts[k]));
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "code", rows[i].municipality_code,
                                              "name", rows[i].municipality_name, "counts", counts));
    }
    json_t *packages = board_packages(ctx, cycle, refused);
    json_t *supplements = board_supplements(ctx, cycle);
    if (packages == NULL || supplements == NULL) {
        json_decref(packages);
        json_decref(supplements);
        json_decref(list);
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return;
    }
    json_t *files = web_media_board_files(ctx, cycle);
    if (files == NULL) {
        json_decref(list);
        json_decref(packages);
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return;
    }
    json_t *data = page_data(ctx, "媒体の状況");
    json_object_set_new(data, "files", files);
    json_object_set_new(data, "can_act", json_boolean(ctx->user->role == USER_ROLE_OPERATOR));
    json_object_set_new(data, "rows", list);
    json_object_set_new(data, "packages", packages);
    json_object_set_new(data, "renewals", web_ca_renewals_json(ctx)); /* web/ca.c */
    json_object_set_new(data, "supplements", supplements);
    json_object_set_new(data, "cycle", json_string(cycle ? cycle : ""));
    json_object_set_new(data, "cycle_window", cycle_json(&c));
    if (refused != NULL)
        page_add_error(data,
                       arena_printf(ctx->req->arena, "tracking-%lld",
                                    (long long)refused->package_id),
                       "追跡番号", problem_message(refused->pb));
    const char *done = http_query(ctx->req, "done");
    const char *shipped = http_query(ctx->req, "package");
    store_package *sp = NULL;
    if (refused == NULL && done != NULL && shipped != NULL && strcmp(done, "shipped") == 0 &&
        store_package_get(web_db(ctx), ctx->req->arena, strtoll(shipped, NULL, 10), 0, &sp) ==
            NSDB_OK &&
        sp->tracking_number != NULL)
        json_object_set_new(data, "notice",
                            json_string(arena_printf(
                                ctx->req->arena,
                                "%s %s 梱包 %lld の発送を記録しました（追跡番号 %s）。",
                                sp->municipality_code, sp->municipality_name, (long long)sp->seq,
                                shipping_tracking_display(ctx->req->arena, sp->tracking_number))));
    const char *count = http_query(ctx->req, "count");
    if (done != NULL && count != NULL && strcmp(done, "packed") == 0)
        json_object_set_new(data, "notice",
                            json_string(arena_printf(ctx->req->arena, "梱包を作成しました：%ld 件",
                                                     strtol(count, NULL, 10))));
    media_job_status job;
    memset(&job, 0, sizeof job);
    if (ctx->app->media_job != NULL)
        media_job_status_get(ctx->app->media_job, &job);
    if (job.running) {
        json_object_set_new(data, "building",
                            json_pack("{s:s, s:I, s:I, s:s}", "cycle", job.cycle,
                                      "done", (json_int_t)job.done, "total", (json_int_t)job.total,
                                      "since", page_format_time(ctx, job.started_at)));
    } else if (done != NULL && strcmp(done, "building") == 0 && job.ended && cycle != NULL &&
               strcmp(job.cycle, cycle) == 0) {
        /* the build this operator started has ended */
        if (job.failed)
            json_object_set_new(data, "build_error", json_string(job.message));
        else
            json_object_set_new(data, "notice",
                                json_string(arena_printf(ctx->req->arena,
                                                         "媒体を作成しました：%zu 件（%s 完了）",
                                                         job.done,
                                                         page_format_time(ctx, job.ended_at))));
    }
    ctx->req->status = status;
    page_render(ctx, "media_board", data);
}

static const char *cycle_form(web_ctx *ctx)
{
    const char *cycle = http_form(ctx->req, "cycle");
    cycle_window c;
    if (cycle == NULL || store_cycle_get(web_db(ctx), cycle, &c) != NSDB_OK) {
        page_error(ctx, 400, "サイクルを選んでください。");
        return NULL;
    }
    return cycle;
}

/* While a build runs: a 409 page that says so and how far it has got; true when sent. */
static bool refused_while_building(web_ctx *ctx, const char *what)
{
    media_job_status job;
    memset(&job, 0, sizeof job);
    if (ctx->app->media_job != NULL)
        media_job_status_get(ctx->app->media_job, &job);
    if (!job.running)
        return false;
    page_error(ctx, 409,
               arena_printf(ctx->req->arena,
                            "%s（サイクル %s：%zu / %zu 件）。作成が終わってから、もう一度操作して"
                            "ください。",
                            what, job.cycle, job.done, job.total));
    return true;
}

static void board_confirm_render(web_ctx *ctx, web_board_action action, const cycle_window *w,
                                 const char *refused);

/* A build before the cycle's registration window closes needs the confirmation's tick
   (early=1); without it the confirmation comes again (409) and nothing is built. True when
   the build may go on. */
static bool build_timing_confirmed(web_ctx *ctx, const char *cycle)
{
    cycle_window w;
    char today[11];
    int open_days = 0;
    if (store_cycle_get(web_db(ctx), cycle, &w) != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return false;
    }
    cycle_day_of_time(ctx->now, today);
    const char *early = http_form(ctx->req, "early");
    if (!cycle_registration_open_on(&w, today, &open_days) ||
        (early != NULL && strcmp(early, "1") == 0))
        return true;
    board_confirm_render(ctx, WEB_BOARD_BUILD, &w,
                         "登録期間中の作成には、確認のチェックが必要です。媒体は作成していません。");
    return false;
}

void web_media_build(web_ctx *ctx)
{
    const char *cycle = cycle_form(ctx);
    if (cycle == NULL || !build_timing_confirmed(ctx, cycle))
        return;
    if (ctx->app->cfg.media_template == NULL) {
        page_error(ctx, 409, "媒体テンプレートのフォルダが設定されていません（nsdb serve --media-template DIR）。");
        return;
    }
    if (ctx->app->media_job == NULL) {
        page_error(ctx, 503, "媒体の作成は nsdb serve でだけ動きます。");
        return;
    }
    /* built in the background: a thousand media take minutes */
    core_ctx c = web_core(ctx);
    nsdb_err e = media_job_start(ctx->app->media_job, cycle, &c.who);
    if (e == NSDB_ERR_BUSY) {
        if (!refused_while_building(ctx, "媒体を作成中です")) /* it ended just now */
            page_error(ctx, 409, "媒体の作成が終わったところです。もう一度操作してください。");
        return;
    }
    if (e != NSDB_OK) {
        page_error(ctx, 500, nsdb_err_message(e));
        return;
    }
    http_redirect(ctx->req, 303,
                  arena_printf(ctx->req->arena, "/operator/media?cycle=%s&done=building", cycle));
}

void web_media_pack(web_ctx *ctx)
{
    const char *cycle = cycle_form(ctx);
    if (cycle == NULL)
        return;
    /* packing now would leave out the media still being built */
    if (refused_while_building(ctx, "媒体を作成中のため梱包できません"))
        return;
    package_built *built = NULL;
    size_t n = 0;
    core_ctx c = web_core(ctx);
    nsdb_problem pb = {0};
    nsdb_err e = media_pack_cycle(ctx->app, cycle, &c.who, ctx->req->arena, &built, &n, &pb);
    if (e != NSDB_OK) {
        page_error(ctx, 500, problem_message(&pb));
        return;
    }
    http_redirect(ctx->req, 303, arena_printf(ctx->req->arena, "/operator/media?cycle=%s&done=packed&count=%zu", cycle, n));
}

/* What the confirmation of an early build adds: the window still open, the municipalities that
   registered so far and what happens to registrations after the build (issue 13 item 7). False
   when the registrations cannot be read (an error page is sent). */
static bool board_confirm_early(web_ctx *ctx, const cycle_window *w, int open_days,
                                web_confirm *c)
{
    arena *a = ctx->req->arena;
    store_cycle_registrant *r = NULL;
    size_t n = 0;
    if (store_cycle_registrants(web_db(ctx), a, w->id, &r, &n) != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return false;
    }
    strbuf sb = STRBUF_INIT;
    int64_t users = 0;
    for (size_t i = 0; i < n; i++)
        users += r[i].users;
    strbuf_printf(&sb, "%zu 団体・%lld 名", n, (long long)users);
    for (size_t i = 0; i < n && i < 20; i++)
        strbuf_printf(&sb, "%s%s %s %lld 名（%lld 医療機関）", i ? "、" : "：",
                      r[i].municipality_code, r[i].municipality_name, (long long)r[i].users,
                      (long long)r[i].institutions);
    if (n > 20)
        strbuf_printf(&sb, " ほか %zu 団体", n - 20);
    const char *registered = arena_strdup(a, sb.data ? sb.data : "");
    strbuf_free(&sb);
    c->items[6] = (web_confirm_item){
        "登録期間", arena_printf(a, "%s〜%s（受付中：残り %d 開庁日）", w->registration_from,
                                 w->registration_to, open_days)};
    c->items[7] = (web_confirm_item){"この期間の登録（これまで）", registered};
    c->lead = arena_printf(a,
                           "サイクル %s の媒体を作成します。このサイクルの登録期間は %s まで受付中"
                           "です（残り %d 開庁日）。いま作成すると、これから登録される指定医は、"
                           "この作成に含まれません。",
                           w->id, w->registration_to, open_days);
    c->consequence = arena_printf(
        a, "%s 作成後の登録は次のとおりになります。媒体がすでにある医療機関の指定医は、梱包前の"
           "登録なら同封の一覧に、梱包後の登録なら次のサイクルの梱包に「追加分」として載り、自治体は"
           "その梱包とあわせて通知書を送付します。媒体がまだない医療機関の媒体は、このサイクルの媒体"
           "をもう一度作成するまで作られません。",
        c->consequence);
    c->fields[1] = (web_confirm_field){"early", "登録期間中に作成することを確認しました", "1",
                                       WEB_CONFIRM_CHECKBOX};
    c->button = "登録期間中ですが媒体を作成する";
    return true;
}

/* The confirmation of 作成 or 梱包・発送 of cycle w (GET on the POST path; the board sends its
   cycle), with the counts of the board; an early build says so (board_confirm_early). refused:
   NULL, or why the POST was not done (the page is then answered 409). */
static void board_confirm_render(web_ctx *ctx, web_board_action action, const cycle_window *w,
                                 const char *refused)
{
    arena *a = ctx->req->arena;
    const char *cycle = w->id;
    store_media_board_row *rows = NULL;
    size_t n = 0;
    if (store_media_board(web_db(ctx), a, cycle, &rows, &n) != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(NSDB_ERR_DB));
        return;
    }
    int64_t built = 0, damaged = 0;
    for (size_t i = 0; i < n; i++) {
        built += rows[i].counts[MEDIA_STATUS_CREATED - 1];
        damaged += rows[i].counts[MEDIA_STATUS_DAMAGED - 1];
    }
    web_confirm c = {
        .items = {{"サイクル", cycle},
                  {"媒体作成", arena_printf(a, "%s〜%s", w->media_from, w->media_to)},
                  {"送付", arena_printf(a, "%s〜%s", w->delivery_from, w->delivery_to)},
                  {"自治体", arena_printf(a, "%zu", n)},
                  {"作成済（未梱包）", arena_printf(a, "%lld 枚", (long long)built)},
                  {"破損（再発行待ち）", arena_printf(a, "%lld 枚", (long long)damaged)}},
        .fields = {{"cycle", NULL, cycle, WEB_CONFIRM_HIDDEN}},
        .back = arena_printf(a, "/operator/media?cycle=%s", cycle)};
    if (action == WEB_BOARD_BUILD) {
        c.title = "媒体の作成";
        c.lead = arena_printf(a, "サイクル %s の媒体を作成します。", cycle);
        c.consequence = "このサイクルに登録があり媒体がまだない医療機関ごとに、VPN 証明書と媒体（DVD "
                        "イメージ）を作成し、破損の連絡があった媒体を再発行します。作成は裏で進み、"
                        "その間は作成と梱包の操作はできません。";
        c.button = "媒体を作成する";
        char today[11];
        int open_days = 0;
        cycle_day_of_time(ctx->now, today);
        if (cycle_registration_open_on(w, today, &open_days) &&
            !board_confirm_early(ctx, w, open_days, &c))
            return;
    } else {
        c.title = "梱包";
        c.lead = arena_printf(a, "サイクル %s の作成済みの媒体を自治体ごとに梱包します。", cycle);
        c.consequence =
            "梱包すると、作成済の媒体は自治体ごとにレターパックプラス（1 個に 15 枚まで）"
            "に分けられ、宛名ラベルと同封の一覧が作られて梱包済になります。発送は、"
            "梱包ごとにレターパックの追跡番号を入力して記録します。後で作成された"
            "媒体は次の梱包に入ります。媒体の作成後に登録された指定医は、同封の一覧の"
            "「追加分」に載ります（新しい媒体がない自治体には、追加分の一覧だけの梱包を"
            "作ります）。";
        c.button = "梱包する";
    }
    if (refused != NULL) {
        c.lead = arena_printf(a, "%s %s", refused, c.lead);
        ctx->req->status = 409;
    }
    web_confirm_render(ctx, &c);
}

void web_media_board_confirm(web_ctx *ctx)
{
    const web_board_action *action = ctx->route->arg;
    assert(action != NULL); /* every route of this handler names its action */
    const char *cycle = http_query(ctx->req, "cycle");
    cycle_window w;
    if (cycle == NULL || store_cycle_get(web_db(ctx), cycle, &w) != NSDB_OK) {
        page_error(ctx, 404, "指定されたサイクルは見つかりません。");
        return;
    }
    board_confirm_render(ctx, *action, &w, NULL);
}
