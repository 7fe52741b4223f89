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
#include "store/registrations.h"
#include "web/web.h"

static const char *cycle_param(web_ctx *ctx)
{
    const char *c = http_query(ctx->req, "cycle");
    int y, m, d;
    char tail;
    if (c == NULL || *c == '\0' || sscanf(c, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return NULL;
    return c;
}

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
    const char *cycle = cycle_param(ctx);
    collect c = {ctx, json_array(), NULL};
    nsdb_err e = store_registration_each(web_db(ctx), cycle, collect_json, &c);
    if (e != NSDB_OK) {
        json_decref(c.rows);
        page_error(ctx, 503, nsdb_err_message(e));
        return;
    }
    json_t *data = page_data(ctx, "指定医マスタの登録通知");
    json_object_set_new(data, "rows", c.rows);
    json_object_set_new(data, "cycle", json_string(cycle ? cycle : ""));
    page_render(ctx, "registrations", data);
}

void web_registrations_csv(web_ctx *ctx)
{
    const char *cycle = cycle_param(ctx);
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
    const char *cycle = cycle_param(ctx);
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
