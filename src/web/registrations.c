/*
 * registrations.c — 指定医マスタの登録通知 for the operator (Flow II ⑨-2): the user IDs with
 * their municipality and institution, per cycle, as a screen, as CSV and as JSON for the
 * operator's systems (bearer token from `nsdb token add`).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/csv_out.h"
#include "domain/holiday.h"
#include "store/registrations.h"
#include "web/web.h"

#define PAGE_SIZE 100

/* ?cycle=: NULL when absent or empty (every cycle); *bad set when it is not a real YYYY-MM-DD
   (a cycle that does not exist is a well-formed question with no registrations). */
static const char *cycle_param(web_ctx *ctx, bool *bad)
{
    const char *c = http_query(ctx->req, "cycle");
    int y, m, d;
    char tail;
    *bad = false;
    if (c == NULL || *c == '\0')
        return NULL;
    if (strlen(c) != 10 || sscanf(c, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        !holiday_date_valid(y, m, d)) {
        *bad = true;
        return NULL;
    }
    return c;
}

#define BAD_CYCLE_MESSAGE                                                                          \
    "サイクルは登録期間の初日を「2026-11-16」の形で指定してください（すべてのサイクルを表示する"   \
    "ときは空にします）。"

static const char *type_label(user_role role)
{
    return role == USER_ROLE_DOCTOR ? "指定医" : "責任者";
}

static const char *day_of(web_ctx *ctx, int64_t t)
{
    return arena_strndup(ctx->req->arena, page_format_time(ctx, t), 10);
}

typedef struct collect {
    web_ctx *ctx;
    json_t *rows;
    strbuf *csv;
} collect;

static int collect_json(void *cls, const store_registration *r)
{
    collect *c = cls;
    json_array_append_new(
        c->rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "municipality_code",
                           r->municipality_code, "municipality_name", r->municipality_name,
                           "institution_code", r->institution_code, "institution_name",
                           r->institution_name, "user_id", r->user_id, "type", type_label(r->role),
                           "registered_on", day_of(c->ctx, r->registered_at), "cycle", r->cycle_id));
    return json_array_size(c->rows) >= 100000;
}

static int collect_csv(void *cls, const store_registration *r)
{
    collect *c = cls;
    const char *cells[] = {r->municipality_code, r->municipality_name, r->institution_code,
                           r->institution_name,  r->user_id,           type_label(r->role),
                           day_of(c->ctx, r->registered_at), r->cycle_id};
    csv_out_row(c->csv, cells, sizeof cells / sizeof cells[0]);
    return 0;
}

void web_registrations(web_ctx *ctx)
{
    bool bad = false;
    const char *cycle = cycle_param(ctx, &bad);
    if (bad) {
        page_error(ctx, 400, BAD_CYCLE_MESSAGE);
        return;
    }
    const char *page_text = http_query(ctx->req, "page");
    long page = page_text ? strtol(page_text, NULL, 10) : 1;
    if (page < 1 || page > 1000000)
        page = 1;
    store_registration *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    nsdb_err e = store_registration_page(web_db(ctx), ctx->req->arena, cycle, PAGE_SIZE,
                                         (page - 1) * PAGE_SIZE, &rows, &n, &total);
    if (e != NSDB_OK) {
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    collect c = {ctx, json_array(), NULL};
    for (size_t i = 0; i < n; i++) {
        (void)collect_json(&c, &rows[i]);
        json_object_set_new(json_array_get(c.rows, i), "number",
                            json_integer((json_int_t)((page - 1) * PAGE_SIZE + (long)i + 1)));
    }
    json_t *data = page_data(ctx, "指定医マスタの登録通知");
    json_object_set_new(data, "rows", c.rows);
    json_object_set_new(data, "cycle", json_string(cycle ? cycle : ""));
    json_object_set_new(data, "total", json_integer(total));
    int64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    json_object_set_new(data, "page", json_integer(page));
    json_object_set_new(data, "pages", json_integer(pages ? pages : 1));
    if (page > 1)
        json_object_set_new(data, "prev_page", json_integer(page - 1));
    if (page < pages)
        json_object_set_new(data, "next_page", json_integer(page + 1));
    static const char *const QUERY_KEYS[] = {"cycle"};
    json_object_set_new(data, "query_string", json_string(page_query_string(ctx, QUERY_KEYS, 1)));
    page_render(ctx, "registrations", data);
}

void web_registrations_csv(web_ctx *ctx)
{
    bool bad = false;
    const char *cycle = cycle_param(ctx, &bad);
    if (bad) {
        page_error(ctx, 400, BAD_CYCLE_MESSAGE);
        return;
    }
    strbuf csv = STRBUF_INIT;
    strbuf_puts(&csv, "\xef\xbb\xbf");
    const char *header[] = {"公共団体ID", "公共団体名", "医療機関ID", "医療機関名",
                            "ユーザID",   "種別",       "登録日",     "サイクル"};
    csv_out_row(&csv, header, sizeof header / sizeof header[0]);
    collect c = {ctx, NULL, &csv};
    nsdb_err e = store_registration_each(web_db(ctx), cycle, collect_csv, &c);
    if (e != NSDB_OK) {
        strbuf_free(&csv);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    web_audit_now(ctx, "registrations_download", cycle ? cycle : "all", "ok", "csv");
    http_send_file(ctx->req, "text/csv; charset=utf-8",
                   arena_printf(ctx->req->arena, "registrations_%s.csv", cycle ? cycle : "all"),
                   csv.data, csv.len);
    strbuf_free(&csv);
}

static void api_error(web_ctx *ctx, int status, const char *json)
{
    http_send_text(ctx->req, status, json);
    ctx->req->content_type = "application/json";
}

/* The API authenticates by bearer token instead of a session. */
void web_registrations_api(web_ctx *ctx)
{
    switch (web_bearer_check(ctx)) {
    case WEB_BEARER_VALID: break;
    case WEB_BEARER_NONE:
        http_add_header(ctx->req, "WWW-Authenticate", "Bearer");
        api_error(ctx, 401, "{\"error\":\"bearer token required\"}");
        return;
    case WEB_BEARER_REFUSED:
        http_add_header(ctx->req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        api_error(ctx, 401, "{\"error\":\"invalid token\"}");
        return;
    case WEB_BEARER_UNAVAILABLE:
        api_error(ctx, 503, "{\"error\":\"storage unavailable\"}");
        return;
    }
    bool bad = false;
    const char *cycle = cycle_param(ctx, &bad);
    if (bad) {
        api_error(ctx, 400, "{\"error\":\"cycle must be a date YYYY-MM-DD\"}");
        return;
    }
    collect c = {ctx, json_array(), NULL};
    nsdb_err e = store_registration_each(web_db(ctx), cycle, collect_json, &c);
    if (e != NSDB_OK) {
        json_decref(c.rows);
        http_send_text(ctx->req, 503, "{\"error\":\"storage unavailable\"}");
        ctx->req->content_type = "application/json";
        return;
    }
    json_t *out = json_pack("{s:s?, s:I, s:o}", "cycle", cycle, "count",
                            (json_int_t)json_array_size(c.rows), "registrations", c.rows);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    http_send_text(ctx->req, 200, text);
    free(text);
    ctx->req->content_type = "application/json; charset=utf-8";
    http_add_header(ctx->req, "Cache-Control", "no-store");
}
